/**
 * Bounded work (issue 18, defect 4): a token holder must not be able to make a verification run for
 * minutes. The set bomb — an attenuation block with an 8,000-element set and a check comparing the set
 * with itself once per element (about 54 KB, under the 64 KiB limit) — took 121 s in `hessra verify`;
 * the engine's 1 s time limit must now refuse it, with a limit error, within a second or so. The bound
 * asserted is generous (the point is not hanging; the machine may be loaded).
 */
import {strict as assert} from 'node:assert'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {generateKeyPair} from '../src/keys.js'
import type {KeyPair} from '../src/native/binding.js'
import {attenuateToken, mintFromDatalog} from '../src/tokens/devkit.js'
import {cli, json, requireNative, tempDir} from './helpers.js'

const BOUND_MS = 5000
const BOMB = `big({${Array.from({length: 8000}, (_, i) => i).join(', ')}});\ncheck if big($x), $x.all($a -> $x.contains($x));\n`

describe('bounded work: the set bomb (issue 18)', function () {
  this.timeout(120_000)
  let dir: string
  let root: KeyPair
  let pub: string

  /** A token for alice reading orders (expiring at `exp`, unix seconds) with the bomb appended by its holder. */
  function bombToken(name: string, exp: number): string {
    const base = mintFromDatalog({
      privateKey: root,
      datalog: 'right("alice", "orders", "read");\ncheck if time($t), $t < {exp};',
      params: {exp},
    })
    const token = attenuateToken(base, {key: pub, datalog: BOMB})
    assert.ok(token.length > 50_000 && token.length < 65_536, `bomb token is ${token.length} bytes`)
    const file = join(dir, `${name}.token`)
    writeFileSync(file, token)
    return file
  }

  before(() => {
    requireNative()
    dir = tempDir('hessra-limits-')
    root = generateKeyPair('ed25519')
    const k = root.publicKey()
    pub = k.toText()
    k.dispose()
  })

  after(() => root?.dispose())

  function timed(args: string[]): {status: number; stdout: string; ms: number} {
    const t0 = Date.now()
    const r = cli(args)
    return {status: r.status, stdout: r.stdout, ms: Date.now() - t0}
  }

  it('verify refuses it with the time limit, within the bound', () => {
    const file = bombToken('valid', Math.floor(Date.now() / 1000) + 3600)
    const r = timed(['verify', '--token-file', file, '--key', pub, '--subject', 'alice', '--resource', 'orders', '--json'])
    assert.ok(r.ms < BOUND_MS, `took ${r.ms} ms`)
    assert.equal(r.status, 1, r.stdout)
    const out = json(r.stdout)
    assert.equal(out.valid, false)
    assert.equal(out.status, 'denied', r.stdout)
    assert.match(String(out.reason), /^Datalog limit exceeded: authorization timed out$/)
  })

  it('an expired token carrying it is refused as quickly', () => {
    const file = bombToken('expired', Math.floor(Date.now() / 1000) - 3600)
    const r = timed(['verify', '--token-file', file, '--key', pub, '--subject', 'alice', '--resource', 'orders', '--json'])
    assert.ok(r.ms < BOUND_MS, `took ${r.ms} ms`)
    assert.equal(r.status, 1, r.stdout)
    const out = json(r.stdout)
    assert.equal(out.valid, false)
    assert.match(String(out.reason), /timed out/)
  })

  it('authorize reports the run limit, within the bound', () => {
    const file = bombToken('authorize', Math.floor(Date.now() / 1000) + 3600)
    const authorizer = join(dir, 'authorizer.dl')
    writeFileSync(authorizer, `time(${Math.floor(Date.now() / 1000)});\nallow if true;\n`)
    const r = timed(['authorize', '--token-file', file, '--key', pub, '--authorizer', authorizer, '--json'])
    assert.ok(r.ms < BOUND_MS, `took ${r.ms} ms`)
    assert.equal(r.status, 1, r.stdout)
    const out = json<{authorized: boolean; error: {kind: string; message: string}}>(r.stdout)
    assert.equal(out.authorized, false)
    assert.equal(out.error.kind, 'run_limit', r.stdout)
    assert.match(out.error.message, /timed out/)
  })
})
