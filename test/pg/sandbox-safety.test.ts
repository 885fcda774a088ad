/**
 * `hessra pg sandbox` run by root (or anyone) on a directory another user prepared (issue 18, defect 1):
 * nothing named by that directory is run, and the directory is checked before anything is built.
 * Runs as root in CI (it chowns files to `nobody`); as another user the ownership cases use what it can.
 */
import {strict as assert} from 'node:assert'
import {chmodSync, chownSync, existsSync, mkdirSync, realpathSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {EnvironmentError, UsageError} from '../../src/errors.js'
import {runProcess, type Runner} from '../../src/pg/exec.js'
import {recordingProgress} from '../../src/pg/progress.js'
import {checkPrivateDir, checkTrustedProgram} from '../../src/pg/safe-path.js'
import {defaultSandboxDir, ROOT_SANDBOX_DIR, sandboxStart, sandboxStatus, sandboxStop, STATE_FILE} from '../../src/pg/sandbox.js'
import {tempDir} from '../helpers.js'

const NOBODY = 65_534
const isRoot = process.getuid?.() === 0

/** A directory laid out like a sandbox whose pg_config and pg_ctl are the attacker's scripts. */
function plantSandbox(dir: string, programDir = dir): {marker: string} {
  mkdirSync(join(dir, 'data'), {recursive: true})
  writeFileSync(join(dir, 'data', 'PG_VERSION'), '15\n')
  const marker = join(programDir, 'ran')
  const script = `#!/bin/sh\necho attacker >> '${marker}'\nprintf 'PostgreSQL 15.0\\n${programDir}\\n/x\\n/x\\n/x\\n/x\\ncc\\n'\n`
  mkdirSync(programDir, {recursive: true})
  for (const name of ['pg_config', 'pg_ctl', 'initdb', 'postgres']) {
    writeFileSync(join(programDir, name), script)
    chmodSync(join(programDir, name), 0o755)
  }
  const state = {version: 1, dir, port: 54_329, pg_config: join(programDir, 'pg_config'), bindir: programDir, major: 15, config_path: join(dir, 'hessra.json'), os_user: 'postgres', created_at: '2026-01-01T00:00:00Z'}
  writeFileSync(join(dir, STATE_FILE), JSON.stringify(state))
  return {marker}
}

/** A runner that records every program and runs only `id` (to look up the server's OS user). */
function recordingRunner(): {run: Runner; calls: string[]} {
  const calls: string[] = []
  const run: Runner = async (command, args, opts) => {
    calls.push([command, ...args].join(' '))
    if (command === 'id') return runProcess(command, args, opts)
    return {code: 1, stdout: '', stderr: 'not run by this test'}
  }
  return {run, calls}
}

describe('pg sandbox: a directory another user prepared is refused', function () {
  before(function () {
    if (!isRoot) this.skip() // chown to another user needs root; CI runs these as root
  })

  it("status, stop and start refuse a directory owned by another user and never run its programs", async () => {
    const dir = join(tempDir('hessra-sb-'), 'sandbox')
    const {marker} = plantSandbox(dir)
    chownSync(dir, NOBODY, NOBODY)
    chmodSync(dir, 0o755)
    const owned = (e: Error) => e instanceof EnvironmentError && /refusing to use the sandbox directory .*owned by uid 65534/.test(e.message)
    await assert.rejects(sandboxStatus({dir}), owned)
    await assert.rejects(sandboxStop({dir, progress: recordingProgress()}), owned)
    const {run, calls} = recordingRunner()
    await assert.rejects(sandboxStart({dir, loaded: null, progress: recordingProgress(), run}), owned)
    assert.deepEqual(calls.filter((c) => !c.startsWith('id ')), [], 'nothing but `id` ran')
    assert.ok(!existsSync(marker), 'the planted pg_config/pg_ctl never ran')
    assert.ok(existsSync(join(dir, STATE_FILE)), 'stop did not delete it')
  })

  it('refuses a directory writable by group or others, even when it is ours', async () => {
    const dir = join(tempDir('hessra-sb-'), 'sandbox')
    const {marker} = plantSandbox(dir)
    chmodSync(dir, 0o777)
    await assert.rejects(sandboxStatus({dir}), /refusing to use the sandbox directory .*writable by group or others \(mode 0777\)/)
    assert.ok(!existsSync(marker))
  })

  it('refuses a directory under a parent another user controls', async () => {
    const parent = join(tempDir('hessra-sb-'), 'theirs')
    mkdirSync(parent)
    chownSync(parent, NOBODY, NOBODY)
    const dir = join(parent, 'sandbox')
    const {marker} = plantSandbox(dir)
    await assert.rejects(sandboxStatus({dir}), /refusing to use the sandbox directory .*theirs is owned by uid 65534/)
    assert.ok(!existsSync(marker))
  })

  it("refuses a state file someone else wrote, or a link in its place", async () => {
    const dir = join(tempDir('hessra-sb-'), 'sandbox')
    const {marker} = plantSandbox(dir)
    chmodSync(dir, 0o700)
    chownSync(join(dir, STATE_FILE), NOBODY, NOBODY)
    await assert.rejects(sandboxStatus({dir}), /refusing to read the sandbox state .*sandbox\.json: it is owned by uid 65534/)
    chownSync(join(dir, STATE_FILE), 0, 0)
    chmodSync(join(dir, STATE_FILE), 0o666)
    await assert.rejects(sandboxStatus({dir}), /sandbox\.json: it is writable by group or others \(mode 0666\)/)
    const elsewhere = join(tempDir('hessra-sb-'), 'state.json')
    writeFileSync(elsewhere, '{}')
    const linked = join(tempDir('hessra-sb-'), 'sandbox')
    plantSandbox(linked)
    chmodSync(linked, 0o700)
    rmSync(join(linked, STATE_FILE))
    symlinkSync(elsewhere, join(linked, STATE_FILE))
    await assert.rejects(sandboxStatus({dir: linked}), /sandbox\.json: it is a symbolic link/)
    assert.ok(!existsSync(marker))
  })

  it('never runs a pg_config named by the state unless only root or the caller could have put it there', async () => {
    const dir = join(tempDir('hessra-sb-'), 'sandbox')
    const programs = join(tempDir('hessra-sb-'), 'bin')
    const {marker} = plantSandbox(dir, programs)
    chmodSync(dir, 0o700)
    chownSync(programs, NOBODY, NOBODY) // the directory holding the program is another user's
    await assert.rejects(sandboxStatus({dir}), /refusing to run .*pg_config \(from sandbox\.json\): .*bin is owned by uid 65534/)
    chownSync(programs, 0, 0)
    chmodSync(join(programs, 'pg_config'), 0o777)
    await assert.rejects(sandboxStatus({dir}), /refusing to run .*pg_config \(from sandbox\.json\): it is writable by group or others/)
    assert.ok(!existsSync(marker))
  })
})

describe('pg sandbox: directory checks and defaults', () => {
  it('start checks the directory before building or running anything', async () => {
    const long = join(tempDir('hessra-sb-'), 'x'.repeat(90))
    const {run, calls} = recordingRunner()
    await assert.rejects(sandboxStart({dir: long, loaded: null, progress: recordingProgress(), run}), (e: Error) => e instanceof UsageError && /too long a path for a unix socket/.test(e.message))
    assert.deepEqual(calls.filter((c) => !c.startsWith('id ')), [])
    const file = join(tempDir('hessra-sb-'), 'file')
    writeFileSync(file, '')
    await assert.rejects(sandboxStart({dir: file, loaded: null, progress: recordingProgress(), run}), /it is not a directory/)
    assert.deepEqual(calls.filter((c) => !c.startsWith('id ')), [])
  })

  it('the default directory is per user and private, never a shared temporary directory', () => {
    assert.equal(defaultSandboxDir({HOME: '/home/ann'}, 1000), '/home/ann/.cache/hessra/sandbox')
    assert.equal(defaultSandboxDir({HOME: '/home/ann', XDG_CACHE_HOME: '/var/cache/ann'}, 1000), '/var/cache/ann/hessra/sandbox')
    assert.equal(defaultSandboxDir({HOME: '/root', TMPDIR: '/tmp'}, 0), ROOT_SANDBOX_DIR)
    assert.ok(!defaultSandboxDir({TMPDIR: '/tmp', HOME: '/home/ann'}, 1000).startsWith('/tmp'))
  })

  it('trusts our own fresh directory and root-owned programs', () => {
    const dir = join(tempDir('hessra-sb-'), 'new', 'sandbox')
    assert.equal(checkPrivateDir(dir, {what: 'the sandbox directory', hint: ''}), dir)
    assert.equal(checkTrustedProgram('/bin/sh', 'test'), realpathSync('/bin/sh'))
  })
})
