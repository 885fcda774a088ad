/**
 * Every example in `hessra --help`, in each command's help and in the README's CLI section runs as
 * shown (issue 15), in a fixture directory holding the files the examples name (root.pem, root.pub,
 * token.txt, authorizer.dl, ...) with $T/$TOKEN (and $ID_TOKEN, an identity token) set, and `hessra` on PATH. The examples that need
 * something this suite does not set up are listed in SKIPPED with the reason; nothing else is skipped.
 */
import {strict as assert} from 'node:assert'
import {spawnSync} from 'node:child_process'
import {chmodSync, cpSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {ROOT_EXAMPLES} from '../src/help.js'
import {BIN, requireNative, ROOT, tempDir} from './helpers.js'

/** Examples not run here, by a distinctive part of their text, and why. */
const SKIPPED: [string, string][] = [
  ['pg install', 'installs into a PostgreSQL server as root: the pg suites (test/pg, under the lock) run pg install'],
  ['pg sandbox', 'starts a PostgreSQL cluster: test/pg/integration.test.ts runs the sandbox (under the lock)'],
  ['pg status', 'needs a running PostgreSQL: test/pg/integration.test.ts runs pg status'],
  ['pg policy apply', 'needs a running PostgreSQL: test/pg/integration.test.ts applies policies'],
  ['pg policy check', 'needs a running PostgreSQL: test/pg/policy-e2e.test.ts runs pg policy check'],
  ['pg policy lint', 'needs a running PostgreSQL: test/pg/policy-e2e.test.ts runs pg policy lint'],
  ['psql "$DATABASE_URL"', 'needs a running PostgreSQL'],
  ['source <(', 'changes the calling shell: test/cli-conventions.test.ts runs the completion script'],
  ['$EDITOR', 'opens an editor'],
  ['/etc/hessra', 'names a system path (/etc/hessra/...)'],
  ['/secure/place', 'names a placeholder path'],
  ['deploy/', 'names a project path (deploy/hessra.json) that only illustrates --config'],
  ['"public_key":"ed25519/..."', 'the key is elided (ed25519/...)'],
  ['--service-chain @chain.json', 'needs a token attested along a service chain: test/devkit.test.ts covers attestation and --service-chain'],
  ['old-prod', 'removes a key the example configuration does not have'],
  ['hessra playground', 'serves until stopped: test/playground/browser.test.ts runs it and drives it in a browser'],
]

interface Example {
  where: string
  command: string
  /** The exit status the example expects (README comments say `# exit 1`). */
  status: number
}

function helpExamples(): Example[] {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
    commands: Record<string, {examples?: (string | {command: string})[]}>
  }
  const out: Example[] = ROOT_EXAMPLES.map(([, command]) => ({where: 'hessra --help', command, status: 0}))
  for (const [id, c] of Object.entries(manifest.commands)) {
    for (const e of c.examples ?? []) {
      const text = typeof e === 'string' ? e : e.command
      const command = text.replaceAll('<%= config.bin %>', 'hessra').replaceAll('<%= command.id %>', id.replaceAll(':', ' '))
      out.push({where: `hessra ${id.replaceAll(':', ' ')} --help`, command, status: 0})
    }
  }
  return out
}

/** The shell lines of the README's CLI and PostgreSQL sections (`npx hessra` as `hessra`, continuations joined). */
function readmeExamples(): Example[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const out: Example[] = []
  for (const section of ['## The CLI', '### Identity tokens', '## PostgreSQL']) {
    const start = readme.indexOf(section)
    assert.ok(start >= 0, `README has "${section}"`)
    const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(start))![1]
    for (const line of block.replaceAll(/\\\n\s*/g, '').split('\n')) {
      if (line.trim() === '') continue
      const status = Number(/#.*\bexit (\d)/.exec(line)?.[1] ?? 0)
      out.push({where: `README ${section.slice(3)}`, command: line.replace(/\s+#.*$/, '').replaceAll('npx hessra', 'hessra'), status})
    }
  }
  return out
}

describe('every example in the help and the README runs', function () {
  this.timeout(600_000)
  let dir: string
  let env: Record<string, string>

  const sh = (command: string, cwd = dir) => spawnSync('bash', ['-c', command], {cwd, env: {...env, HOME: cwd}, encoding: 'utf8', input: '', timeout: 60_000})

  /**
   * A fresh copy of the fixture for one example, so that examples do not depend on each other; minus
   * what the example itself creates (its --out file, the key id it adds, the configuration for `config init`).
   */
  const fixtureFor = (command: string): string => {
    const run = tempDir('hessra-example-')
    cpSync(dir, run, {recursive: true})
    const out = /--out (\S+)/.exec(command)?.[1]
    if (out && out !== '-') rmSync(join(run, out), {force: true})
    if (/config init/.test(command)) rmSync(join(run, '.config', 'hessra', 'config.json'), {force: true})
    const adds = /--id (\S+) .*--add|keys add (\S+)/.exec(command)
    if (adds) {
      const id = adds[1] ?? adds[2]
      const file = join(run, '.config', 'hessra', 'config.json')
      const config = JSON.parse(readFileSync(file, 'utf8')) as {keys: {id: string}[]; default_key: string | null}
      config.keys = config.keys.filter((k) => k.id !== id)
      if (config.default_key === id) config.default_key = null
      writeFileSync(file, JSON.stringify(config))
    }
    return run
  }

  before(() => {
    requireNative()
    dir = tempDir('hessra-examples-')
    writeFileSync(join(dir, 'hessra'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`)
    chmodSync(join(dir, 'hessra'), 0o755)
    env = {PATH: `${dir}:${process.env.PATH}`, HOME: dir, NO_COLOR: '1', LANG: 'C.UTF-8'}
    if (process.env.HESSRA_FFI_LIB) env.HESSRA_FFI_LIB = process.env.HESSRA_FFI_LIB
    const setup = [
      'hessra keys generate --out root.pem --id dev --add',
      'hessra keys public root.pem > root.pub && hessra keys public root.pem --pem > root.pub.pem && cp root.pub.pem prod.pub.pem',
      'hessra keys add prod root.pub',
      'for n in auth payment node; do hessra keys generate --out $n.pem > $n.pub; done',
      'hessra keys add staging auth.pub',
      'hessra token mint --private-key root.pem --subject alice --resource documents --operation read --ttl 1h > token.txt && cp token.txt t.txt',
      `printf 'time(%s); subject("alice"); resource("documents"); operation("read");\\nallow if right("alice", "documents", "read");\\n' "$(date +%s)" | tee authorizer.dl > policy.dl`,
      "printf 'check if {max} > 0;\\n' > block.dl",
      `printf 'right({user}, "documents", "read");\\nlevel({level});\\n' > authority.dl`,
      'hessra identity mint --private-key root.pem --subject urn:hessra:alice --delegatable --ttl 1h > id-token.txt',
    ]
    for (const step of setup) {
      const r = sh(step)
      assert.equal(r.status, 0, `${step}: ${r.stderr}`)
    }
    const token = readFileSync(join(dir, 'token.txt'), 'utf8').trim()
    // $ID_TOKEN: an identity token (delegatable, urn:hessra:alice) for the identity examples
    env = {...env, T: token, TOKEN: token, ID_TOKEN: readFileSync(join(dir, 'id-token.txt'), 'utf8').trim()}
  })

  it('runs each one (or names why not)', () => {
    const failures: string[] = []
    const skipped: string[] = []
    for (const ex of [...helpExamples(), ...readmeExamples()]) {
      const skip = SKIPPED.find(([part]) => ex.command.includes(part))
      if (skip) {
        skipped.push(`${ex.where}: ${ex.command}\n    skipped: ${skip[1]}`)
        continue
      }
      const r = sh(ex.command, fixtureFor(ex.command))
      if (r.status !== ex.status) failures.push(`${ex.where}: ${ex.command}\n    exit ${r.status} (expected ${ex.status}): ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}`)
    }
    if (process.env.HESSRA_LIST_SKIPPED === '1') console.log(skipped.join('\n'))
    assert.deepEqual(failures, [], failures.join('\n'))
  })

  it('leaves out only what SKIPPED lists, each entry used', () => {
    const all = [...helpExamples(), ...readmeExamples()]
    for (const [part] of SKIPPED) assert.ok(all.some((e) => e.command.includes(part)), `SKIPPED entry "${part}" matches no example`)
    assert.ok(all.length - all.filter((e) => SKIPPED.some(([p]) => e.command.includes(p))).length >= 50, 'most examples run')
  })
})
