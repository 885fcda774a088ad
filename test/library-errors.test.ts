/**
 * The library's error model (issue 25, item 3): every verdict about a token — malformed, invalid,
 * expired, denied, revoked — is a result with its status; exceptions only for the caller's mistakes and
 * the environment; assertValid throws each verdict's typed error; and the CLI's exit codes are unchanged
 * (3 for a malformed token, 1 for a too-large one and for every other verdict).
 */
import {strict as assert} from 'node:assert'

import {ConfigError, DeniedError, ExpiredError, InvalidKeyError, InvalidTokenError, LimitExceededError, UsageError} from '../src/errors.js'
import {authorize} from '../src/tokens/authorize.js'
import {mintHessra} from '../src/tokens/devkit.js'
import {mintIdentityToken, verifyIdentityToken} from '../src/tokens/identity.js'
import {assertValid, verifyToken} from '../src/tokens/verify.js'
import {cli, json, newKeyPair, requireNative} from './helpers.js'

describe('one error model: verdicts are results, mistakes and the environment throw', () => {
  let pub: string
  let otherPub: string
  let token: string
  let expired: string
  let identity: string
  const malformed: [string, string | Uint8Array, RegExp][] = [
    ['garbage', 'this-is-not-a-token', /not a token/],
    ['an empty string (an empty Bearer header)', '', /empty token/],
    ['a truncated token', '', /not a token/], // filled in below
    ['random bytes', new Uint8Array([0x08, 0xff, 0x01, 0x02, 0x03]), /not a token/],
  ]

  before(() => {
    requireNative()
    const a = newKeyPair()
    const b = newKeyPair()
    pub = a.pub
    otherPub = b.pub
    const now = Math.floor(Date.now() / 1000)
    token = mintHessra({privateKey: a.kp, subject: 'alice', resource: 'documents', operation: 'read', expiresAt: now + 3600})
    expired = mintHessra({privateKey: a.kp, subject: 'alice', resource: 'documents', operation: 'read', expiresAt: now - 3600})
    identity = mintIdentityToken({privateKey: a.kp, subject: 'urn:hessra:alice', expiresAt: now + 3600})
    malformed[2][1] = token.slice(0, Math.floor(token.length / 2))
    a.kp.dispose()
    b.kp.dispose()
  })

  const opts = () => ({key: pub, subject: 'alice', resource: 'documents', operation: 'read', leewaySeconds: 0})

  it('verifyToken returns every verdict, malformed included, with its status and code', () => {
    assert.equal(verifyToken(token, opts()).status, 'valid')
    assert.deepEqual(pick(verifyToken(token, {...opts(), operation: 'write'})), {valid: false, status: 'denied', code: 'denied'})
    assert.deepEqual(pick(verifyToken(expired, opts())), {valid: false, status: 'expired', code: 'expired'})
    assert.deepEqual(pick(verifyToken(token, {...opts(), key: otherPub})), {valid: false, status: 'invalid', code: 'denied'})
    for (const [what, input, reason] of malformed) {
      const r = verifyToken(input, opts())
      assert.deepEqual(pick(r), {valid: false, status: 'malformed', code: 'invalid_token'}, what)
      assert.match(r.reason ?? '', reason, what)
      assert.equal(r.verifiedSubject, null)
      assert.deepEqual(r.rights, [])
    }
    const huge = verifyToken('A'.repeat(2_000_000), opts())
    assert.deepEqual(pick(huge), {valid: false, status: 'malformed', code: 'limit_exceeded'})
  })

  it('verifyIdentityToken too', () => {
    assert.equal(verifyIdentityToken(identity, {key: pub}).status, 'valid')
    for (const [what, input] of malformed) assert.deepEqual(pick(verifyIdentityToken(input, {key: pub})), {valid: false, status: 'malformed', code: 'invalid_token'}, what)
  })

  it('authorize: a malformed token is {authorized: false, error.kind malformed}, as a bad signature is', () => {
    for (const [what, input] of malformed) {
      const r = authorize(input, {key: pub, authorizer: 'allow if true;'})
      assert.equal(r.authorized, false, what)
      assert.equal(r.error?.kind, 'malformed', what)
      assert.equal(r.error?.code, 'invalid_token', what)
    }
    assert.equal(authorize(token, {key: otherPub, authorizer: 'allow if true;'}).error?.kind, 'signature')
  })

  it("exceptions stay for the caller's mistakes and the environment", () => {
    assert.throws(() => verifyToken(token, {...opts(), resource: ''}), UsageError)
    assert.throws(() => verifyToken(token, {...opts(), keyId: 'x'}), UsageError)
    assert.throws(() => verifyToken('garbage', {...opts(), key: 'ed25519/zz'}), InvalidKeyError)
    assert.throws(() => verifyToken(token, {subject: 'alice', resource: 'documents', env: {}}), ConfigError, 'no key to verify with')
    assert.throws(() => authorize(token, {key: pub, authorizer: 'allow if ((('}), (e: unknown) => e instanceof Error && !(e instanceof InvalidTokenError))
  })

  it('assertValid throws the typed error of each verdict', () => {
    assert.equal(assertValid(token, opts()).valid, true)
    assert.throws(() => assertValid(token, {...opts(), operation: 'write'}), DeniedError)
    assert.throws(() => assertValid(token, {...opts(), key: otherPub}), DeniedError)
    assert.throws(() => assertValid(expired, opts()), ExpiredError)
    assert.throws(() => assertValid('garbage', opts()), (e: unknown) => e instanceof InvalidTokenError && e.exitCode === 3 && /not a token/.test(e.message) && e.hint !== undefined)
    assert.throws(() => assertValid('A'.repeat(2_000_000), opts()), LimitExceededError)
  })

  it('the CLI keeps its exit codes: 3 for a malformed token, 1 for a too-large one', () => {
    for (const args of [
      ['verify', 'garbage-token', '--key', pub, '--resource', 'documents'],
      ['verify', 'garbage-token', '--key', pub, '--identity', 'urn:hessra:alice'],
      ['authorize', 'garbage-token', '--key', pub, '--authorizer', '-'],
    ]) {
      const r = cli(args, {input: args[0] === 'authorize' ? 'allow if true;' : ''})
      assert.equal(r.status, 3, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, /not a token/)
      assert.match(r.stderr, /hint: check that the whole token was copied/)
      const j = cli([...args, '--json'], {input: args[0] === 'authorize' ? 'allow if true;' : ''})
      assert.equal(j.status, 3)
      assert.equal(json<{error: {code: string; exit_code: number}}>(j.stdout).error.code, 'invalid_token')
    }
    const big = cli(['verify', '-', '--key', pub, '--resource', 'documents'], {input: 'A'.repeat(1_500_000)})
    assert.equal(big.status, 1, big.stderr)
    assert.match(big.stderr, /larger than/)
  })
})

function pick(r: {valid: boolean; status: string; code: string | null}) {
  return {valid: r.valid, status: r.status, code: r.code}
}
