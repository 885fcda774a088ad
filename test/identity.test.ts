/**
 * Identity tokens, checked against the reference implementation (@biscuit-auth/biscuit-wasm) with
 * Hessra's Datalog (hessra-token-identity): every shape minted by the reference is verified by us, every
 * shape we mint is verified by the reference, and both agree for each actor; then the refusals that
 * matter (the prefix attack, siblings, the delegator, expired delegations), the classification, and
 * the CLI.
 */
import {strict as assert} from 'node:assert'
import {join} from 'node:path'

import {KeyPair} from '../src/native/binding.js'
import {delegateIdentityToken, jitIdentityToken, mintIdentityToken, verifyIdentityToken} from '../src/tokens/identity.js'
import {inspectToken, tokenKind} from '../src/tokens/inspect.js'
import {cli, requireNative, tempDir} from './helpers.js'
import {reference, refAuthorize, refPublicKey, type Ref} from './reference.js'

type RefBiscuit = ReturnType<Ref['Biscuit']['fromBase64']>

const now = () => Math.floor(Date.now() / 1000)
const ALICE = 'urn:hessra:alice'
const LAPTOP = 'urn:hessra:alice:laptop'
const CHROME = 'urn:hessra:alice:laptop:chrome'

// Hessra's Datalog (hessra-token-identity/src/{mint,attenuate,jit}.rs), with parameters.
const BASE = `subject({subject});
check if actor($a), $a == {subject};
check if time($time), $time < {expiration};`
const DELEGATABLE = `subject({subject});
check if actor($a), $a == {subject} || $a.starts_with({subject} + ":");
check if time($time), $time < {expiration};`
const DOMAIN = `check if domain({domain});
subject($d, $s) <- domain($d), subject($s);`
const DELEGATION = `check if actor($a), $a == {identity} || $a.starts_with({identity} + ":");
check if time($time), $time < {expiration};`
const JIT = 'check if time($time), $time < {expiration};'

/** Hessra's verifier (hessra-token-identity/src/verify.rs) as authorizer Datalog. */
function hessraAuthorizer(at: number, actor: string | null, domain?: string): string {
  const lines = [`time(${at});`, actor === null ? 'actor($a) <- subject($a);' : `actor(${JSON.stringify(actor)});`]
  if (domain) lines.push(`domain(${JSON.stringify(domain)});`)
  lines.push('allow if true;')
  return lines.join('\n')
}

describe('identity tokens', function () {
  this.timeout(300_000)
  let ref: Ref

  before(async () => {
    requireNative()
    ref = await reference()
  })

  /** Reference-side minting with Hessra's Datalog; third-party blocks signed by ephemeral keys. */
  function refMint(root: InstanceType<Ref['KeyPair']>, code: string, params: Record<string, unknown>): RefBiscuit {
    const b = ref.Biscuit.builder()
    b.addCodeWithParameters(code, params, {})
    return b.build(root.getPrivateKey())
  }

  function refThirdParty(token: RefBiscuit, code: string, params: Record<string, unknown>): RefBiscuit {
    const ephemeral = new ref.KeyPair(ref.SignatureAlgorithm.Ed25519)
    const bb = ref.Biscuit.block_builder()
    bb.addCodeWithParameters(code, params, {})
    const block = token.getThirdPartyRequest().createBlock(ephemeral.getPrivateKey(), bb)
    return token.appendThirdPartyBlock(ephemeral.getPublicKey(), block)
  }

  /** The reference's verdict with Hessra's verifier. */
  function refVerdict(token: string, rootPublic: string, at: number, actor: string | null, domain?: string): boolean {
    const t = ref.Biscuit.fromBase64(token, refPublicKey(ref, rootPublic))
    return refAuthorize(ref, t, hessraAuthorizer(at, actor, domain)).authorized
  }

  /** Ours, and that it agrees with the reference. */
  function verdict(token: string, rootPublic: string, at: number, actor: string | null, domain?: string): boolean {
    const ours = verifyIdentityToken(token, {key: rootPublic, identity: actor, domain, at})
    const theirs = refVerdict(token, rootPublic, at, actor, domain)
    assert.equal(ours.valid, theirs, `ours ${ours.status} (${ours.reason}) vs reference ${theirs} for actor ${actor ?? '(bearer)'} at ${at}`)
    if (ours.valid) assert.equal(ours.verifiedIdentity, actor ?? ours.verifiedIdentity)
    return ours.valid
  }

  const ACTORS = [ALICE, LAPTOP, CHROME, 'urn:hessra:alice:phone', 'urn:hessra:alice2', 'urn:hessra:bob', null]

  /** Each shape, the actors it admits (null: bearer mode). */
  function expectActors(token: string, rootPublic: string, at: number, admitted: (string | null)[], domain?: string): void {
    for (const actor of ACTORS) {
      assert.equal(verdict(token, rootPublic, at, actor, domain), admitted.includes(actor), `actor ${actor ?? '(bearer)'}`)
    }
  }

  it('verifies every shape minted by the reference, agreeing with it for each actor', () => {
    const root = new ref.KeyPair(ref.SignatureAlgorithm.Ed25519)
    const pub = root.getPublicKey().toString()
    const at = 1_900_000_000
    const exp = at + 3600

    const base = refMint(root, BASE, {subject: ALICE, expiration: exp})
    expectActors(base.toBase64(), pub, at, [ALICE, null])

    const delegatable = refMint(root, DELEGATABLE, {subject: ALICE, expiration: exp})
    expectActors(delegatable.toBase64(), pub, at, [ALICE, LAPTOP, CHROME, 'urn:hessra:alice:phone', null])

    const restricted = refMint(root, `${BASE}\n${DOMAIN}`, {subject: ALICE, expiration: exp, domain: 'example.com'})
    expectActors(restricted.toBase64(), pub, at, [], undefined)
    expectActors(restricted.toBase64(), pub, at, [ALICE, null], 'example.com')
    expectActors(restricted.toBase64(), pub, at, [], 'other.com')

    const one = refThirdParty(delegatable, DELEGATION, {identity: LAPTOP, expiration: at + 60})
    expectActors(one.toBase64(), pub, at, [LAPTOP, CHROME])
    const two = refThirdParty(one, DELEGATION, {identity: CHROME, expiration: at + 60})
    expectActors(two.toBase64(), pub, at, [CHROME])

    const jit = refThirdParty(delegatable, JIT, {expiration: at + 5})
    expectActors(jit.toBase64(), pub, at, [ALICE, LAPTOP, CHROME, 'urn:hessra:alice:phone', null])
    expectActors(jit.toBase64(), pub, at + 5, [])

    // An expired delegation block expires the token, though the base is still valid.
    const late = verifyIdentityToken(one.toBase64(), {key: pub, identity: LAPTOP, at: at + 60})
    assert.equal(late.status, 'expired')
    assert.equal(late.expiresAt, at + 60)
    assert.deepEqual(late.failedChecks.map((c) => c.block), [1])
    assert.equal(refVerdict(one.toBase64(), pub, at + 60, LAPTOP), false)

    // The classification, from the Datalog.
    const k = inspectToken(two.toBase64(), {key: pub}).classification
    assert.equal(k.kind, 'identity')
    assert.deepEqual(k.structure, {type: 'delegated', depth: 2})
    assert.equal(k.base_identity, ALICE)
    assert.equal(k.identity, CHROME)
    assert.equal(k.delegatable, true)
    assert.deepEqual(
      k.blocks.map((b) => [b.role, b.identity ?? null]),
      [
        ['authority', null],
        ['delegation', LAPTOP],
        ['delegation', CHROME],
      ],
    )
    assert.deepEqual(inspectToken(jit.toBase64()).classification.structure, {type: 'time_attenuated'})
    assert.equal(inspectToken(restricted.toBase64()).classification.domain, 'example.com')
  })

  it('mints, delegates and time-limits tokens the reference verifies the same way', () => {
    const root = KeyPair.generate('ed25519')
    const rootPub = root.publicKey()
    const pub = rootPub.toText()
    rootPub.dispose()
    try {
      const t = now()
      const base = mintIdentityToken({privateKey: root, subject: ALICE, expiresAt: t + 3600})
      expectActors(base, pub, t, [ALICE, null])
      const delegatable = mintIdentityToken({privateKey: root, subject: ALICE, delegatable: true, expiresAt: t + 3600})
      expectActors(delegatable, pub, t, [ALICE, LAPTOP, CHROME, 'urn:hessra:alice:phone', null])
      const restricted = mintIdentityToken({privateKey: root, subject: ALICE, domain: 'example.com', expiresAt: t + 3600})
      expectActors(restricted, pub, t, [ALICE, null], 'example.com')
      expectActors(restricted, pub, t, [])
      assert.equal(verifyIdentityToken(restricted, {key: pub, identity: ALICE, domain: 'example.com', subjectInDomain: true, at: t}).valid, true)
      assert.equal(verifyIdentityToken(delegatable, {key: pub, identity: ALICE, domain: 'example.com', subjectInDomain: true, at: t}).valid, false)

      const one = delegateIdentityToken(delegatable, {key: pub, to: LAPTOP, expiresAt: t + 60})
      expectActors(one, pub, t, [LAPTOP, CHROME])
      const two = delegateIdentityToken(one, {key: pub, to: CHROME, expiresAt: t + 60})
      expectActors(two, pub, t, [CHROME])
      expectActors(two, pub, t + 60, [])
      const jit = jitIdentityToken(one, {key: pub, expiresAt: t + 5})
      expectActors(jit, pub, t, [LAPTOP, CHROME])
      expectActors(jit, pub, t + 5, [])
      // Delegation and JIT blocks are third-party blocks, each signed by its own ephemeral key.
      const blocks = inspectToken(jit, {key: pub}).blocks
      const signers = blocks.slice(1).map((b) => b.external_key)
      assert.equal(signers.length, 2)
      assert.ok(signers.every((k) => k !== null && k !== pub))
      assert.notEqual(signers[0], signers[1])
      assert.deepEqual(inspectToken(jit).classification.structure, {type: 'mixed'})
      assert.equal(inspectToken(jit).classification.identity, LAPTOP)

      // Delegations nobody could use are refused, not issued.
      for (const [from, to] of [
        [one, 'urn:hessra:alice:phone'],
        [one, ALICE],
        [delegatable, 'urn:hessra:alice2'],
        [base, LAPTOP],
      ]) {
        assert.throws(() => delegateIdentityToken(from, {key: pub, to, expiresAt: t + 60}), /cannot delegate to/, to)
      }
    } finally {
      root.dispose()
    }
  })

  it('denies identity verification of a token that is not an identity token', () => {
    const root = new ref.KeyPair(ref.SignatureAlgorithm.Ed25519)
    const pub = root.getPublicKey().toString()
    // Without an actor check every actor passes Hessra's verifier: the kind check is what refuses it.
    const bare = refMint(root, 'subject({subject});', {subject: ALICE}).toBase64()
    assert.equal(refVerdict(bare, pub, now(), 'urn:hessra:mallory'), true)
    const r = verifyIdentityToken(bare, {key: pub, identity: 'urn:hessra:mallory'})
    assert.equal(r.status, 'denied')
    assert.match(r.reason ?? '', /not an identity token/)
    const authz = refMint(root, 'right("alice", "docs", "read");', {}).toBase64()
    assert.equal(tokenKind(authz), 'authorization')
    assert.equal(tokenKind(bare), 'other')
    assert.equal(verifyIdentityToken(authz, {key: pub, identity: 'alice'}).valid, false)
  })

  describe('CLI', () => {
    let dir: string
    let rootPem: string
    let pub: string

    before(() => {
      dir = tempDir()
      rootPem = join(dir, 'root.pem')
      const g = cli(['keys', 'generate', '--out', rootPem])
      assert.equal(g.status, 0, g.stderr)
      pub = g.stdout.trim()
    })

    const run = (args: string[]) => cli(args)

    it('mint, delegate, jit and verify: exit codes and JSON', () => {
      const mint = run(['identity', 'mint', '--private-key', rootPem, '--subject', ALICE, '--delegatable', '--ttl', '1h'])
      assert.equal(mint.status, 0, mint.stderr)
      const token = mint.stdout.trim()
      assert.doesNotMatch(token, /\s/, 'stdout holds the token alone')
      assert.equal(refVerdict(token, pub, now(), ALICE), true)

      assert.equal(run(['verify', token, '--key', pub, '--identity', ALICE]).status, 0)
      const attack = run(['verify', token, '--key', pub, '--identity', 'urn:hessra:alice2', '--json'])
      assert.equal(attack.status, 1)
      const a = JSON.parse(attack.stdout) as {status: string; token_kind: string; mode: string; failed_checks: {block: number; check: number}[]}
      assert.equal(a.status, 'denied')
      assert.equal(a.token_kind, 'identity')
      assert.equal(a.mode, 'actor')
      assert.deepEqual(
        a.failed_checks.map((c) => [c.block, c.check]),
        [[0, 0]],
      )

      // Bearer mode: no --identity, no --subject/--resource.
      const bearer = JSON.parse(run(['verify', token, '--key', pub, '--json']).stdout)
      assert.equal(bearer.mode, 'bearer')
      assert.equal(bearer.verified_identity, ALICE)

      const del = run(['identity', 'delegate', token, '--key', pub, '--to', LAPTOP, '--ttl', '10m', '--json'])
      assert.equal(del.status, 0, del.stderr)
      const laptop = JSON.parse(del.stdout).token as string
      assert.equal(run(['verify', laptop, '--key', pub, '--identity', LAPTOP]).status, 0)
      for (const refused of ['urn:hessra:alice:phone', ALICE]) {
        const r = run(['verify', laptop, '--key', pub, '--identity', refused])
        assert.equal(r.status, 1, `${refused}: ${r.stdout}`)
        assert.match(r.stdout, /denied/)
      }
      // The delegation expires after 10 minutes; the base token would not.
      const later = JSON.parse(run(['verify', laptop, '--key', pub, '--identity', LAPTOP, '--at', '+11m', '--json']).stdout)
      assert.equal(later.status, 'expired')
      const sibling = run(['identity', 'delegate', laptop, '--key', pub, '--to', 'urn:hessra:alice:phone'])
      assert.equal(sibling.status, 3)
      assert.match(sibling.stderr, /cannot delegate to "urn:hessra:alice:phone"/)

      const jit = run(['identity', 'jit', laptop, '--key', pub])
      assert.equal(jit.status, 0, jit.stderr)
      const j = jit.stdout.trim()
      assert.equal(run(['verify', j, '--key', pub, '--identity', LAPTOP]).status, 0)
      assert.equal(run(['verify', j, '--key', pub, '--identity', LAPTOP, '--at', '+6s']).status, 1)

      const inspect = JSON.parse(run(['inspect', j, '--key', pub, '--json']).stdout)
      assert.equal(inspect.classification.identity, LAPTOP)
      assert.equal(inspect.classification.structure.type, 'mixed')
      const human = run(['inspect', laptop, '--key', pub]).stdout
      assert.match(human, /kind: +identity, delegated \(1\)/)
      assert.match(human, new RegExp(`identity: +${LAPTOP} \\(delegated from ${ALICE}\\)`))
    })

    it('tells authorization tokens from identity tokens by their Datalog', () => {
      const mint = run(['token', 'mint', '--private-key', rootPem, '--subject', 'alice', '--resource', 'docs', '--operation', 'read'])
      assert.equal(mint.status, 0, mint.stderr)
      const authz = mint.stdout.trim()
      const noFlags = run(['verify', authz, '--key', pub])
      assert.equal(noFlags.status, 2)
      assert.match(noFlags.stderr, /--resource is required for an authorization token/)
      const asIdentity = run(['verify', authz, '--key', pub, '--identity', 'alice'])
      assert.equal(asIdentity.status, 1)
      assert.match(asIdentity.stdout, /not an identity token/)
      const both = run(['verify', authz, '--key', pub, '--identity', 'alice', '--resource', 'docs'])
      assert.equal(both.status, 2)
      const ok = JSON.parse(run(['verify', authz, '--key', pub, '--subject', 'alice', '--resource', 'docs', '--json']).stdout)
      assert.equal(ok.valid, true)
      assert.equal(ok.token_kind, 'authorization')
      const help = run(['verify', '--help']).stdout
      assert.match(help, /Subject mode/)
      assert.doesNotMatch(help, /Identity mode/)
    })
  })
})
