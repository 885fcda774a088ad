/**
 * Dev kit round trips through the CLI and the library, checked against the reference implementation:
 * generate keys, mint, attenuate, attest (service chain), seal, verify; both algorithms; and the reverse
 * (reference-minted tokens verified by us).
 */
import {strict as assert} from 'node:assert'
import {readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'

import {KeyPair} from '../src/native/binding.js'
import {attenuateToken, attestToken, mintHessra, sealToken} from '../src/tokens/devkit.js'
import {inspectToken} from '../src/tokens/inspect.js'
import {verifyToken} from '../src/tokens/verify.js'
import {cli, requireNative, tempDir} from './helpers.js'
import {reference, refAuthorize, refPublicKey, type Alg, type Ref} from './reference.js'

const now = () => Math.floor(Date.now() / 1000)

/** The reference accepts the token (signatures, format) and, with Hessra's authorizer facts, authorizes it. */
function refAccepts(ref: Ref, token: string, rootPublic: string, facts: {subject: string; resource: string; operation: string}): void {
  const t = ref.Biscuit.fromBase64(token, refPublicKey(ref, rootPublic))
  const code = `time(${now()}); subject("${facts.subject}"); resource("${facts.resource}"); operation("${facts.operation}");\nallow if true;`
  const r = refAuthorize(ref, t, code)
  assert.equal(r.authorized, true, `reference authorizes: ${JSON.stringify(r)}`)
}

describe('dev kit', function () {
  this.timeout(300_000)
  let ref: Ref
  let dir: string

  before(async () => {
    requireNative()
    ref = await reference()
    dir = tempDir()
  })

  for (const alg of ['ed25519', 'secp256r1'] as Alg[]) {
    it(`CLI round trip (${alg}): generate, mint, attenuate, attest, seal, verify; the reference accepts every token`, () => {
      const rootPem = join(dir, `root-${alg}.pem`)
      const g = cli(['keys', 'generate', '--algorithm', alg, '--out', rootPem])
      assert.equal(g.status, 0, g.stderr)
      assert.equal(statSync(rootPem).mode & 0o777, 0o600)
      const pub = g.stdout.trim()
      assert.ok(pub.startsWith(`${alg}/`))
      const nodes = ['auth_service', 'payment_service', 'shipping_service'].map((c) => {
        const f = join(dir, `${c}-${alg}.pem`)
        const r = cli(['keys', 'generate', '--algorithm', alg === 'ed25519' ? 'secp256r1' : 'ed25519', '--out', f])
        assert.equal(r.status, 0, r.stderr)
        return {component: c, file: f, pub: r.stdout.trim()}
      })
      const mint = cli([
        'token', 'mint', '--private-key', rootPem, '--subject', 'alice', '--resource', 'orders', '--operation', 'create', '--ttl', '10m', '--root-key-id', '3',
        ...nodes.flatMap((n) => ['--service-node', `${n.component}=${n.pub}`]),
      ])
      assert.equal(mint.status, 0, mint.stderr)
      let token = mint.stdout.trim()
      assert.doesNotMatch(token, /\s/, 'stdout holds the token alone')
      const facts = {subject: 'alice', resource: 'orders', operation: 'create'}
      refAccepts(ref, token, pub, facts)
      const chain = JSON.stringify(nodes.map((n) => ({component: n.component, public_key: n.pub})))
      const verify = (t: string, component?: string) =>
        cli(['verify', t, '--key', pub, '--subject', 'alice', '--resource', 'orders', '--operation', 'create', '--service-chain', chain, ...(component ? ['--component', component] : [])])

      // the first node needs no attestation; later ones need every earlier node
      assert.equal(verify(token, 'auth_service').status, 0)
      assert.equal(verify(token, 'payment_service').status, 1)

      const att = cli(['token', 'attenuate', token, '--key', pub, '--ttl', '5m', '--check', 'operation("create")'])
      assert.equal(att.status, 0, att.stderr)
      token = att.stdout.trim()
      refAccepts(ref, token, pub, facts)
      const info = JSON.parse(cli(['inspect', token, '--key', pub, '--json']).stdout)
      assert.equal(info.blocks.length, 2)
      assert.equal(info.root_key_id, 3)
      assert.ok(info.expires_at <= now() + 301, 'the attenuated expiry is the earliest bound')

      for (let i = 0; i < nodes.length; i++) {
        const n = nodes[i]
        const r = cli(['token', 'attest', token, '--key', pub, '--node-key', n.file, '--component', n.component])
        assert.equal(r.status, 0, r.stderr)
        token = r.stdout.trim()
        refAccepts(ref, token, pub, facts)
        if (i + 1 < nodes.length) {
          assert.equal(verify(token, nodes[i + 1].component).status, 0, `${nodes[i + 1].component} after ${n.component} attested`)
          if (i + 2 < nodes.length) assert.equal(verify(token, nodes[i + 2].component).status, 1, `${nodes[i + 2].component} needs ${nodes[i + 1].component}`)
        }
      }
      assert.equal(verify(token, 'shipping_service').status, 0)
      const blocks = JSON.parse(cli(['inspect', token, '--json']).stdout).blocks
      assert.equal(blocks.length, 5)
      assert.ok(blocks[2].external_key, 'attestation blocks are third-party blocks')

      // a wrong node key is refused before anything is signed
      const wrong = cli(['token', 'attest', token, '--key', pub, '--node-key', nodes[0].file, '--component', 'payment_service'])
      assert.equal(wrong.status, 3, wrong.stderr)

      const sealed = cli(['token', 'seal', token, '--key', pub])
      assert.equal(sealed.status, 0, sealed.stderr)
      token = sealed.stdout.trim()
      refAccepts(ref, token, pub, facts)
      assert.equal(verify(token, 'shipping_service').status, 0)
      assert.equal(JSON.parse(cli(['inspect', token, '--json']).stdout).sealed, true)
      const again = cli(['token', 'attenuate', token, '--key', pub, '--ttl', '1m'])
      assert.notEqual(again.status, 0, 'a sealed token cannot be attenuated')

      // --json output of the dev kit commands
      const j = JSON.parse(cli(['token', 'mint', '--private-key', rootPem, '--subject', 'bob', '--resource', 'r', '--operation', 'o', '--json']).stdout)
      assert.equal(typeof j.token, 'string')
      assert.equal(typeof j.expires_at, 'number')
    })
  }

  it('service chain: a skipped node or a wrong node key fails verification', () => {
    const root = KeyPair.generate('ed25519')
    const [a, b, c] = [KeyPair.generate('ed25519'), KeyPair.generate('secp256r1'), KeyPair.generate('ed25519')]
    const rootPub = root.publicKey().toText()
    const chain = [
      {component: 'a', public_key: a.publicKey().toText()},
      {component: 'b', public_key: b.publicKey().toText()},
      {component: 'c', public_key: c.publicKey().toText()},
    ]
    const t0 = mintHessra({privateKey: root, subject: 'alice', resource: 'orders', operation: 'read', expiresAt: now() + 600, serviceNodes: chain})
    const v = (t: string, component: string) => verifyToken(t, {key: rootPub, subject: 'alice', resource: 'orders', operation: 'read', serviceChain: chain, component}).status
    // b skipped: c attests directly after a? c needs a and b
    const ta = attestToken(t0, {key: rootPub, nodeKey: a, component: 'a'})
    const tac = attestToken(ta, {key: rootPub, nodeKey: c, component: 'c'})
    assert.equal(v(tac, 'c'), 'denied', 'c requires b, which was skipped')
    // b's block signed with the wrong key (a's): no component check in the library call without component
    const wrongB = attestToken(ta, {key: rootPub, nodeKey: a})
    assert.equal(v(wrongB, 'c'), 'denied', 'a block signed by the wrong key does not count for b')
    const tab = attestToken(ta, {key: rootPub, nodeKey: b, component: 'b'})
    assert.equal(v(tab, 'c'), 'valid')
    // a wrong chain given to the verifier fails too
    const badChain = [chain[0], {component: 'b', public_key: c.publicKey().toText()}, chain[2]]
    assert.equal(verifyToken(tab, {key: rootPub, subject: 'alice', resource: 'orders', serviceChain: badChain, component: 'c'}).status, 'denied')
    for (const k of [root, a, b, c]) k.dispose()
  })

  for (const alg of ['ed25519', 'secp256r1'] as Alg[]) {
    it(`reference-minted tokens (${alg}) verify with us, with attenuation, third-party blocks and sealing`, () => {
      const algo = alg === 'ed25519' ? ref.SignatureAlgorithm.Ed25519 : ref.SignatureAlgorithm.Secp256r1
      const root = new ref.KeyPair(algo)
      const node = new ref.KeyPair(algo)
      const rootPub = root.getPublicKey().toString()
      const nodePub = node.getPublicKey().toString()
      const exp = now() + 600
      const b = ref.Biscuit.builder()
      b.addCode(
        `right("alice", "documents", "read");\n` +
          `check if subject($s), resource($r), operation($o), right($s, $r, $o);\n` +
          `check if time($t), $t < ${exp};\n` +
          `node($s, "auth") <- service($s) trusting ${nodePub};`,
      )
      b.setRootKeyId(9)
      let t = b.build(root.getPrivateKey())
      const opts = {key: rootPub, subject: 'alice', resource: 'documents', operation: 'read'}
      assert.equal(verifyToken(t.toBase64(), opts).status, 'valid')
      assert.equal(verifyToken(t.toBase64(), {...opts, operation: 'write'}).status, 'denied')
      assert.equal(inspectToken(t.toBase64()).root_key_id, 9)

      const bb = ref.Biscuit.block_builder()
      bb.addCode(`check if time($t), $t < ${now() + 60};`)
      t = t.appendBlock(bb)
      assert.equal(verifyToken(t.toBase64(), opts).status, 'valid')
      assert.equal(verifyToken(t.toBase64(), {...opts, at: now() + 120}).status, 'expired')

      const req = t.getThirdPartyRequest()
      const tb = ref.Biscuit.block_builder()
      tb.addCode('service("documents");')
      const block = req.createBlock(node.getPrivateKey(), tb)
      t = t.appendThirdPartyBlock(node.getPublicKey(), block)
      const chain = [{component: 'auth', public_key: nodePub}, {component: 'storage', public_key: rootPub}]
      assert.equal(verifyToken(t.toBase64(), {...opts, serviceChain: chain, component: 'storage'}).status, 'valid')

      // our dev kit extends reference tokens too, and the reference accepts the result
      const ours = attenuateToken(t.toBase64(), {key: rootPub, datalog: `check if operation("read");`})
      refAccepts(ref, ours, rootPub, {subject: 'alice', resource: 'documents', operation: 'read'})
      const sealed = sealToken(ours, {key: rootPub})
      refAccepts(ref, sealed, rootPub, {subject: 'alice', resource: 'documents', operation: 'read'})
      assert.equal(verifyToken(sealed, opts).status, 'valid')

      const refSealed = t.sealToken().toBase64()
      assert.equal(verifyToken(refSealed, opts).status, 'valid')
      assert.equal(inspectToken(refSealed).sealed, true)
    })
  }

  it('library: private key files from `keys generate` load; mint with a file path', () => {
    const f = join(dir, 'lib-root.pem')
    assert.equal(cli(['keys', 'generate', '--out', f]).status, 0)
    assert.match(readFileSync(f, 'utf8'), /BEGIN PRIVATE KEY/)
    const pub = cli(['keys', 'public', f]).stdout.trim()
    const t = mintHessra({privateKey: f, subject: 's', resource: 'r', operation: 'o', expiresAt: now() + 60})
    assert.equal(verifyToken(t, {key: pub, subject: 's', resource: 'r'}).status, 'valid')
  })
})
