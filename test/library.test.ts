/**
 * Library API details of src/tokens/: authorize()'s policy_kind, and verifyToken() reusing one native
 * Config (and so the engine's verification cache) per loaded configuration.
 */
import {strict as assert} from 'node:assert'

import {type LoadedConfig} from '../src/config/index.js'
import {KeyPair} from '../src/native/binding.js'
import {authorize} from '../src/tokens/authorize.js'
import {mintHessra} from '../src/tokens/devkit.js'
import {nativeConfigFor, releaseNativeConfig, verifyToken} from '../src/tokens/verify.js'
import {newKeyPair, requireNative} from './helpers.js'

const now = () => Math.floor(Date.now() / 1000)

describe('library: tokens', function () {
  let kp: KeyPair
  let pub: string
  let token: string

  before(() => {
    requireNative()
    ;({kp, pub} = newKeyPair())
    token = mintHessra({privateKey: kp, subject: 'alice', resource: 'orders', operation: 'read', expiresAt: now() + 600})
  })
  after(() => kp.dispose())

  describe('authorize: policy_kind', () => {
    const facts = () => `time(${now()}); subject("alice"); resource("orders"); operation("read");\n`
    const run = (policies: string) => authorize(token, {key: pub, authorizer: facts() + policies})

    it('"allow" when authorized', () => {
      const r = run('deny if false; allow if true;')
      assert.equal(r.authorized, true)
      assert.equal(r.policy, 1)
      assert.equal(r.policy_kind, 'allow')
    })
    it('"deny" when a deny policy matched', () => {
      const r = run('allow if false; deny if true;')
      assert.equal(r.authorized, false)
      assert.equal(r.policy, 1)
      assert.equal(r.policy_kind, 'deny')
      assert.equal(r.error?.kind, 'unauthorized')
    })
    it('"allow" when an allow policy matched but checks failed (same "policy" index as a deny would give)', () => {
      const r = run('check if false; deny if false; allow if true;')
      assert.equal(r.authorized, false)
      assert.equal(r.policy, 1)
      assert.equal(r.policy_kind, 'allow')
      assert.equal(r.error?.failed_checks?.length, 1)
    })
    it('null when no policy matched, and for a bad signature', () => {
      const r = run('allow if false;')
      assert.equal(r.policy, null)
      assert.equal(r.policy_kind, null)
      const other = KeyPair.generate('ed25519')
      const opk = other.publicKey()
      try {
        const s = authorize(token, {key: opk.toText(), authorizer: facts() + 'allow if true;'})
        assert.equal(s.error?.kind, 'signature')
        assert.equal(s.policy_kind, null)
      } finally {
        opk.dispose()
        other.dispose()
      }
    })
    it('serialises to the documented --json shape', () => {
      const r = run('allow if true;')
      assert.deepEqual(JSON.parse(JSON.stringify(r)), {authorized: true, policy: 0, policy_kind: 'allow', error: null})
    })
  })

  describe('verifyToken with a configuration: one native Config per loaded configuration', () => {
    const loaded = (): LoadedConfig => ({
      config: {version: 1, default_key: 'k', keys: [{id: 'k', public_key: pub}]},
      filepath: null,
      source: 'flag',
      format: 'json',
    })

    it('reuses the engine cache across calls (signature checked once)', () => {
      const l = loaded()
      for (const [subject, valid] of [['alice', true], ['bob', false], ['alice', true], ['alice', true]] as const) {
        const r = verifyToken(token, {config: l, subject, resource: 'orders'})
        assert.equal(r.valid, valid, `${subject}: ${r.reason}`)
        assert.deepEqual(r.key, {origin: 'configuration key "k"', id: 'k'})
      }
      const st = nativeConfigFor(l).cacheStats()
      assert.equal(st.verifications, 4)
      assert.equal(st.cacheMisses, 1)
      assert.equal(st.cacheHits, 3)
      assert.equal(st.cacheEntries, 1)
    })

    it('a replaced configuration gets a new Config; the old one is disposed; release frees it', () => {
      const l = loaded()
      verifyToken(token, {config: l, subject: 'alice', resource: 'orders'})
      const first = nativeConfigFor(l)
      assert.equal(nativeConfigFor(l), first)
      l.config = {version: 1, default_key: 'k', keys: [{id: 'k', public_key: pub}], leeway_seconds: 5}
      const second = nativeConfigFor(l)
      assert.notEqual(second, first)
      assert.equal(first.disposed, true)
      releaseNativeConfig(l)
      assert.equal(second.disposed, true)
      assert.equal(verifyToken(token, {config: l, subject: 'alice', resource: 'orders'}).valid, true)
      assert.equal(nativeConfigFor(l).cacheStats().cacheMisses, 1)
      releaseNativeConfig(l)
    })

    it('an invalid configuration still throws on every call (nothing memoised)', () => {
      const l = loaded()
      l.config = {version: 1, default_key: 'k', keys: [{id: 'k', public_key: 'ed25519/00'}]}
      assert.throws(() => verifyToken(token, {config: l, subject: 'alice', resource: 'orders'}))
      assert.throws(() => verifyToken(token, {config: l, subject: 'alice', resource: 'orders'}))
    })
  })
})
