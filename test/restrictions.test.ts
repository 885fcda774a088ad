/**
 * Multi-party and prefix-restricted tokens against the reference implementation
 * (@biscuit-auth/biscuit-wasm): tokens minted and attested by the reference with Hessra's Datalog
 * (hessra-token-authz: `check if namespace(NS) trusting KEY`, the attestation `namespace(NS);`;
 * `check if prefix_added(true) trusting KEY`, the block `check if prefix(P); prefix_added(true);`)
 * verify with us, and ours are accepted and refused by the reference alike. A missing party, a
 * wrong-key attestation and a wrong prefix are refused, the failed check as data.
 */
import type * as RefBiscuit from '@biscuit-auth/biscuit-wasm'
import {strict as assert} from 'node:assert'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {InputError} from '../src/errors.js'
import {attestNamespace, mintHessra, restrictPrefix} from '../src/tokens/devkit.js'
import {verifyToken} from '../src/tokens/verify.js'
import {cli, json, newKeyPair, requireNative, tempDir} from './helpers.js'
import {reference, refAuthorize, refPublicKey, type Alg, type Ref} from './reference.js'

const now = () => Math.floor(Date.now() / 1000)
const HESSRA_AUTHORITY = (exp: number) =>
  `right("alice", "orders", "read");\ncheck if subject($s), resource($r), operation($o), right($s, $r, $o);\ncheck if time($t), $t < ${exp};\n`
const request = {subject: 'alice', resource: 'orders', operation: 'read'}

/** The reference's verdict for a token of ours, with the authorizer facts Hessra's verifier adds. */
function refVerdict(ref: Ref, token: string, rootPublic: string, prefix?: string): boolean {
  const t = ref.Biscuit.fromBase64(token, refPublicKey(ref, rootPublic))
  const facts = `time(${now()}); subject("alice"); resource("orders"); operation("read");${prefix === undefined ? '' : ` prefix("${prefix}");`}\nallow if true;`
  return refAuthorize(ref, t, facts).authorized
}

describe('multi-party and prefix-restricted tokens', function () {
  this.timeout(120_000)
  let ref: Ref

  before(async () => {
    requireNative()
    ref = await reference()
  })

  for (const alg of ['ed25519', 'secp256r1'] as Alg[]) {
    describe(alg, () => {
      const refKey = () => new ref.KeyPair(alg === 'ed25519' ? ref.SignatureAlgorithm.Ed25519 : ref.SignatureAlgorithm.Secp256r1)
      const refThirdParty = (t: RefBiscuit.Biscuit, signer: RefBiscuit.KeyPair, code: string) => {
        const bb = ref.Biscuit.block_builder()
        bb.addCode(code)
        return t.appendThirdPartyBlock(signer.getPublicKey(), t.getThirdPartyRequest().createBlock(signer.getPrivateKey(), bb))
      }

      it('reference-minted multi-party tokens: valid once every party attested with its own key', () => {
        const [root, a, b, mallory] = [refKey(), refKey(), refKey(), refKey()]
        const rootPub = root.getPublicKey().toString()
        const builder = ref.Biscuit.builder()
        builder.addCode(
          HESSRA_AUTHORITY(now() + 600) +
            `check if namespace("a.example") trusting ${a.getPublicKey().toString()};\n` +
            `check if namespace("b.example") trusting ${b.getPublicKey().toString()};`,
        )
        const t0 = builder.build(root.getPrivateKey())
        const verify = (t: RefBiscuit.Biscuit) => verifyToken(t.toBase64(), {key: rootPub, ...request})

        const none = verify(t0)
        assert.equal(none.status, 'denied')
        assert.deepEqual(
          none.failedChecks.map((c) => [c.block, c.check]),
          [
            [0, 2],
            [0, 3],
          ],
        )
        assert.match(none.failedChecks[0].rule, /^check if namespace\("a\.example"\) trusting (ed25519|secp256r1)\//)

        const ta = refThirdParty(t0, a, 'namespace("a.example");')
        const missingB = verify(ta)
        assert.equal(missingB.status, 'denied', 'a missing party is refused')
        assert.deepEqual(
          missingB.failedChecks.map((c) => c.rule.split(' trusting')[0]),
          ['check if namespace("b.example")'],
        )
        assert.equal(verify(refThirdParty(ta, mallory, 'namespace("b.example");')).status, 'denied', 'wrong-key attestation')
        assert.equal(verify(refThirdParty(ta, a, 'namespace("b.example");')).status, 'denied', "a's key cannot attest for b")
        assert.equal(verify(refThirdParty(ta, b, 'namespace("b.example");')).status, 'valid')
      })

      it('our multi-party tokens: the reference agrees before and after our attestations, and ours accept its attestation', () => {
        const root = newKeyPair(alg)
        const a = newKeyPair(alg)
        const refB = refKey()
        const token = mintHessra({
          privateKey: root.kp,
          ...request,
          expiresAt: now() + 600,
          multiParty: [
            {namespace: 'a.example', public_key: a.pub},
            {namespace: 'b.example', public_key: refB.getPublicKey().toString()},
          ],
        })
        assert.equal(refVerdict(ref, token, root.pub), false)
        const ta = attestNamespace(token, {key: root.pub, nodeKey: a.kp, namespace: 'a.example'})
        assert.equal(refVerdict(ref, ta, root.pub), false, 'b is still missing for the reference')
        assert.equal(verifyToken(ta, {key: root.pub, ...request}).status, 'denied')
        // b attests with the reference
        const tab = refThirdParty(ref.Biscuit.fromBase64(ta, refPublicKey(ref, root.pub)), refB, 'namespace("b.example");').toBase64()
        assert.equal(verifyToken(tab, {key: root.pub, ...request}).status, 'valid')
        assert.equal(refVerdict(ref, tab, root.pub), true)
        // our dev kit refuses an attestation the token does not ask for
        assert.throws(() => attestNamespace(token, {key: root.pub, nodeKey: a.kp, namespace: 'c.example'}), (e: unknown) => e instanceof InputError && /requires: a\.example, b\.example/.test(e.message))
        assert.throws(() => attestNamespace(token, {key: root.pub, nodeKey: root.kp, namespace: 'a.example'}), InputError)
        for (const k of [root.kp, a.kp]) k.dispose()
      })

      it('prefix-restricted tokens: reference-minted and narrowed verify with us only for their prefix', () => {
        const [root, prefixKey, mallory] = [refKey(), refKey(), refKey()]
        const rootPub = root.getPublicKey().toString()
        const builder = ref.Biscuit.builder()
        builder.addCode(HESSRA_AUTHORITY(now() + 600) + `check if prefix_added(true) trusting ${prefixKey.getPublicKey().toString()};`)
        const t0 = builder.build(root.getPrivateKey())
        const status = (t: RefBiscuit.Biscuit, prefix?: string) => verifyToken(t.toBase64(), {key: rootPub, ...request, prefix}).status
        assert.equal(status(t0, 'tenant/1/'), 'denied', 'not narrowed yet')
        const narrowed = refThirdParty(t0, prefixKey, 'check if prefix("tenant/1/");\nprefix_added(true);')
        assert.equal(status(narrowed, 'tenant/1/'), 'valid')
        assert.equal(status(narrowed, 'tenant/2/'), 'denied', 'wrong prefix')
        assert.equal(status(narrowed, 'tenant/1/x'), 'denied', 'the prefix is compared exactly')
        assert.equal(status(narrowed), 'denied', 'no prefix given')
        const wrong = verifyToken(narrowed.toBase64(), {key: rootPub, ...request, prefix: 'tenant/2/'})
        assert.deepEqual(
          wrong.failedChecks.map((c) => [c.block, c.rule]),
          [[1, 'check if prefix("tenant/1/")']],
        )
        const forged = refThirdParty(t0, mallory, 'check if prefix("tenant/1/");\nprefix_added(true);')
        assert.equal(status(forged, 'tenant/1/'), 'denied', 'narrowed with another key')
      })

      it('our prefix-restricted tokens: the reference agrees on the prefix', () => {
        const root = newKeyPair(alg)
        const p = newKeyPair(alg)
        const token = mintHessra({privateKey: root.kp, ...request, expiresAt: now() + 600, prefixKey: p.pub})
        assert.equal(refVerdict(ref, token, root.pub, 'tenant/1/'), false)
        const narrowed = restrictPrefix(token, {key: root.pub, prefix: 'tenant/1/', prefixPrivateKey: p.kp})
        assert.equal(refVerdict(ref, narrowed, root.pub, 'tenant/1/'), true)
        assert.equal(refVerdict(ref, narrowed, root.pub, 'tenant/2/'), false)
        assert.equal(verifyToken(narrowed, {key: root.pub, ...request, prefix: 'tenant/1/'}).status, 'valid')
        assert.throws(() => restrictPrefix(token, {key: root.pub, prefix: 'tenant/1/', prefixPrivateKey: root.kp}), InputError)
        const plain = mintHessra({privateKey: root.kp, ...request, expiresAt: now() + 600})
        assert.throws(() => restrictPrefix(plain, {key: root.pub, prefix: 'tenant/1/', prefixPrivateKey: p.kp}), (e: unknown) => e instanceof InputError && /not prefix-restricted/.test(e.message))
        for (const k of [root.kp, p.kp]) k.dispose()
      })
    })
  }

  it('CLI: mint --multi-party/--prefix-key, token attest --namespace, token prefix, verify --prefix', () => {
    const dir = tempDir()
    const file = (name: string) => join(dir, name)
    const gen = (name: string) => {
      const r = cli(['keys', 'generate', '--out', file(`${name}.pem`)])
      assert.equal(r.status, 0, r.stderr)
      writeFileSync(file(`${name}.pub`), r.stdout)
      return r.stdout.trim()
    }
    const rootPub = gen('root')
    gen('party')
    gen('prefix')
    const m = cli(['token', 'mint', '-p', file('root.pem'), '-s', 'alice', '-r', 'orders', '-o', 'read', '--multi-party', `a.example=${file('party.pub')}`, '--prefix-key', file('prefix.pub')])
    assert.equal(m.status, 0, m.stderr)
    const t0 = m.stdout.trim()
    const verify = (t: string, prefix: string) => cli(['verify', t, '--key', rootPub, '-s', 'alice', '-r', 'orders', '--prefix', prefix, '--json'])

    const denied = verify(t0, 'tenant/1/')
    assert.equal(denied.status, 1)
    assert.deepEqual(
      json<{failed_checks: {rule: string}[]}>(denied.stdout).failed_checks.map((c) => c.rule.split(' trusting')[0]),
      ['check if prefix_added(true)', 'check if namespace("a.example")'],
    )
    const a = cli(['token', 'attest', t0, '--key', rootPub, '--namespace', 'a.example', '--node-key', file('party.pem'), '--json'])
    assert.equal(a.status, 0, a.stderr)
    const ta = json<{token: string; namespace: string}>(a.stdout)
    assert.equal(ta.namespace, 'a.example')
    const p = cli(['token', 'prefix', ta.token, '--key', rootPub, '--prefix', 'tenant/1/', '--prefix-private-key', file('prefix.pem')])
    assert.equal(p.status, 0, p.stderr)
    const tp = p.stdout.trim()
    assert.equal(verify(tp, 'tenant/1/').status, 0)
    assert.equal(verify(tp, 'tenant/2/').status, 1)

    // wrong namespace or key: exit 3, nothing on stdout
    const wrongNs = cli(['token', 'attest', t0, '--key', rootPub, '--namespace', 'b.example', '--node-key', file('party.pem')])
    assert.equal(wrongNs.status, 3)
    assert.equal(wrongNs.stdout, '')
    assert.match(wrongNs.stderr, /requires no attestation for namespace "b\.example" \(it requires: a\.example\)/)
    assert.equal(cli(['token', 'prefix', t0, '--key', rootPub, '--prefix', 'x', '--prefix-private-key', file('party.pem')]).status, 3)
    assert.equal(cli(['token', 'attest', t0, '--key', rootPub, '--namespace', 'a.example', '--component', 'x', '--node-key', file('party.pem')]).status, 2)
    assert.equal(cli(['token', 'mint', '-p', file('root.pem'), '-s', 'a', '-r', 'r', '-o', 'o', '--multi-party', 'no-key']).status, 3)
  })
})
