/**
 * Local users on a shared machine (issue 23, items 2 and 7), through the CLI. The configuration search
 * walked up to / and loaded `hessra.config.mjs` (running it) or `.hessrarc` (trusting its keys) from any
 * ancestor, whoever owned it: another user who wrote one in /tmp ran code as you, or had their
 * self-minted token reported valid. A `revocation_file` that was a FIFO hung `hessra verify`, and one
 * others could write was accepted. Now the search never runs code, stops at the home directory or a
 * repository root, and every configuration file and every file one names must be a regular file owned
 * by you or root that nobody else can write (the engine's rule for the extension's key files).
 * The foreign-owner cases need root (chown to nobody); CI runs as root.
 */
import {strict as assert} from 'node:assert'
import {execFileSync} from 'node:child_process'
import {chmodSync, chownSync, existsSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {generateKeyPair} from '../src/keys.js'
import {mintHessra} from '../src/tokens/devkit.js'
import {cli, json, requireNative, tempDir} from './helpers.js'

const NOBODY = 65534
const isRoot = process.getuid?.() === 0

describe('configuration trust on a shared machine (issue 23)', function () {
  this.timeout(60_000)
  let base: string
  let shared: string
  let project: string
  let home: string
  let attackerKey: string
  let attackerToken: string

  before(() => {
    requireNative()
    base = tempDir('hessra-shared-')
    chmodSync(base, 0o755)
    shared = join(base, 'tmp') // like /tmp: sticky, anyone may add files
    mkdirSync(shared)
    chmodSync(shared, 0o1777)
    project = join(shared, 'work', 'project')
    mkdirSync(project, {recursive: true})
    home = join(base, 'home')
    mkdirSync(home)
    const attacker = generateKeyPair('ed25519')
    const pk = attacker.publicKey()
    attackerKey = pk.toText()
    pk.dispose()
    attackerToken = mintHessra({privateKey: attacker, subject: 'mallory', resource: 'notes', operation: 'read'})
    attacker.dispose()
  })

  /** A file in the shared directory, as another user would leave it. */
  function plant(name: string, content: string, owner: number | null): string {
    const file = join(shared, name)
    writeFileSync(file, content)
    chmodSync(file, 0o644)
    if (owner !== null) chownSync(file, owner, owner)
    return file
  }

  function verify(extra: string[] = [], env: Record<string, string> = {}) {
    return cli(['verify', attackerToken, '-s', 'mallory', '-r', 'notes', '-o', 'read', '--json', ...extra], {cwd: project, env: {HOME: home, ...env}})
  }

  it('a .hessrarc another user planted in a parent directory is not trusted (their token is not valid)', function () {
    if (!isRoot) this.skip() // only root can make a file another user owns
    const rc = plant('.hessrarc', JSON.stringify({version: 1, keys: [{id: 'evil', public_key: attackerKey}]}), NOBODY)
    try {
      const r = verify()
      assert.equal(r.status, 4, r.stdout + r.stderr)
      const out = json<{ok: boolean; error: {code: string; message: string}}>(r.stdout)
      assert.equal(out.error.code, 'config')
      assert.match(out.error.message, /\.hessrarc is owned by uid 65534; only uid 0 may own it/)
    } finally {
      execFileSync('rm', ['-f', rc])
    }
  })

  it('a hessra.config.mjs in a parent directory is never run, whoever owns it', () => {
    const marker = join(base, 'ran')
    const mjs = plant('hessra.config.mjs', `import {writeFileSync} from 'node:fs'\nwriteFileSync(${JSON.stringify(marker)}, 'ran as ' + process.getuid())\nexport default {version: 1}\n`, isRoot ? NOBODY : null)
    try {
      const r = verify()
      assert.equal(r.status, 4, r.stdout + r.stderr)
      assert.match(json<{error: {message: string}}>(r.stdout).error.message, /a JavaScript configuration is not run when it is found by searching/)
      assert.equal(existsSync(marker), false, 'the planted module ran')
    } finally {
      execFileSync('rm', ['-f', mjs])
    }
  })

  it('a revocation_file that is a FIFO is refused at once instead of hanging verify', () => {
    const dir = join(home, 'cfg')
    mkdirSync(dir, {recursive: true})
    const fifo = join(dir, 'revoked.fifo')
    execFileSync('mkfifo', [fifo])
    const cfg = join(dir, 'hessra.json')
    writeFileSync(cfg, JSON.stringify({version: 1, keys: [{id: 'k', public_key: attackerKey}], revocation_file: 'revoked.fifo'}))
    const t0 = Date.now()
    const r = verify(['--config', cfg])
    assert.ok(Date.now() - t0 < 20_000, 'bounded')
    assert.equal(r.status, 4, r.stdout + r.stderr)
    assert.match(json<{error: {message: string}}>(r.stdout).error.message, /revocation_file: .*revoked\.fifo is not a regular file/)
  })

  it('a revocation_file or key file others can write, or another user owns, is refused', () => {
    const dir = join(home, 'cfg2')
    mkdirSync(dir, {recursive: true})
    const revoked = join(dir, 'revoked.txt')
    writeFileSync(revoked, '# nothing revoked\n')
    const keyFile = join(dir, 'root.pub')
    writeFileSync(keyFile, attackerKey + '\n')
    const cfg = join(dir, 'hessra.json')
    writeFileSync(cfg, JSON.stringify({version: 1, keys: [{id: 'k', public_key_file: 'root.pub'}], revocation_file: 'revoked.txt'}))
    chmodSync(revoked, 0o644)
    chmodSync(keyFile, 0o644)
    assert.equal(verify(['--config', cfg]).status, 0, 'control: everything owned and private')

    chmodSync(revoked, 0o666)
    let r = verify(['--config', cfg])
    assert.equal(r.status, 4, r.stdout)
    assert.match(json<{error: {message: string}}>(r.stdout).error.message, /revocation_file: .*revoked\.txt is writable by group or others \(mode 0666\)/)
    chmodSync(revoked, 0o644)

    chmodSync(keyFile, 0o664)
    r = cli(['config', 'validate', '--config', cfg, '--json'], {cwd: project, env: {HOME: home}})
    assert.notEqual(r.status, 0, r.stdout)
    assert.match(r.stdout, /keys\[0\]\.public_key_file/)
    assert.match(r.stdout, /writable by group or others/)
    chmodSync(keyFile, 0o644)

    if (isRoot) {
      chownSync(revoked, NOBODY, NOBODY)
      r = verify(['--config', cfg])
      assert.equal(r.status, 4, r.stdout)
      assert.match(json<{error: {message: string}}>(r.stdout).error.message, /revoked\.txt is owned by uid 65534/)
    }
  })
})
