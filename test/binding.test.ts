/** The koffi binding: ownership, typed errors, and the library API surface. */
import {strict as assert} from 'node:assert'

import * as api from '../src/index.js'
import {InternalError, InvalidKeyError, InvalidTokenError} from '../src/errors.js'
import {KeyPair, PublicKey, Token, verify, version} from '../src/native/binding.js'
import {requireNative} from './helpers.js'

describe('native binding', () => {
  before(requireNative)

  it('reports the engine version', () => {
    assert.match(version(), /^\d+\.\d+\.\d+/)
  })

  it('maps native error codes to typed errors', () => {
    assert.throws(() => Token.parse('!!!not a token!!!'), InvalidTokenError)
    assert.throws(() => PublicKey.fromString('ed25519/00'), InvalidKeyError)
    assert.throws(() => KeyPair.fromString('nope'), InvalidKeyError)
  })

  it('dispose is idempotent and use after dispose is a clear error', () => {
    const kp = KeyPair.generate('secp256r1')
    const pub = kp.publicKey()
    assert.equal(pub.algorithm, 'secp256r1')
    assert.match(pub.toText(), /^secp256r1\/[0-9a-f]{66}$/)
    pub.dispose()
    pub.dispose()
    assert.equal(pub.disposed, true)
    assert.throws(() => pub.toText(), InternalError)
    kp.dispose()
  })

  it('handles work with `using`-style Symbol.dispose', () => {
    const kp = KeyPair.generate()
    kp[Symbol.dispose]()
    assert.equal(kp.disposed, true)
  })

  it('round-trips keys through PEM and text', () => {
    const kp = KeyPair.generate('ed25519')
    const pem = kp.toPem()
    assert.match(pem, /BEGIN PRIVATE KEY/)
    const again = KeyPair.fromString(pem)
    const a = kp.publicKey()
    const b = again.publicKey()
    assert.equal(a.toText(), b.toText())
    const c = PublicKey.fromString(a.toPem())
    assert.equal(c.toText(), a.toText())
    for (const h of [kp, again, a, b, c]) h.dispose()
  })

  it('survives many allocations with explicit disposal (no leak, no crash)', () => {
    const kp = KeyPair.generate()
    const token = api.mintHessra({privateKey: kp, subject: 'a', resource: 'b', operation: 'c'})
    const pub = kp.publicKey()
    const before = process.memoryUsage().rss
    for (let i = 0; i < 3000; i++) {
      const r = verify(null, pub, null, Buffer.from(token), {subject: 'a', resource: 'b'})
      assert.equal(r.code, 0)
    }
    const grown = process.memoryUsage().rss - before
    assert.ok(grown < 64 * 1024 * 1024, `RSS grew by ${grown} bytes`)
    pub.dispose()
    kp.dispose()
  })

  it('exports the library API', () => {
    for (const name of ['verifyToken', 'authorize', 'inspectToken', 'loadConfig', 'validateConfig', 'generateKeyPair', 'mintHessra', 'attenuateToken', 'attestToken', 'sealToken', 'exitCodeFor']) {
      assert.equal(typeof (api as Record<string, unknown>)[name], 'function', name)
    }
  })
})
