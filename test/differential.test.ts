/**
 * Differential test: random tokens minted by the reference implementation (random facts, rules, checks,
 * attenuation blocks, both algorithms) and random authorizers; our engine's `authorize` must agree with
 * the reference on every one.
 */
import {strict as assert} from 'node:assert'

import {authorize} from '../src/tokens/authorize.js'
import {requireNative} from './helpers.js'
import {reference, refAuthorize, type Alg, type Ref, type RefOutcome} from './reference.js'

const N = Number(process.env.HESSRA_DIFF_TOKENS ?? 400)
const SEED = Number(process.env.HESSRA_DIFF_SEED ?? 20_261_126)

/** Small deterministic PRNG (mulberry32), so a failure can be replayed with HESSRA_DIFF_SEED. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

class Gen {
  /** Public keys of third-party signers in the current token, usable in `trusting` scopes. */
  keys: string[] = []
  constructor(private r: () => number) {}
  /** '' most of the time, else a `trusting ...` scope annotation. */
  scope(): string {
    if (!this.chance(0.25)) return ''
    const options = ['authority', 'previous', ...this.keys, ...this.keys.map((k) => `authority, ${k}`)]
    return ` trusting ${this.pick(options)}`
  }
  int(n: number): number {
    return Math.floor(this.r() * n)
  }
  pick<T>(xs: T[]): T {
    return xs[this.int(xs.length)]
  }
  chance(p: number): boolean {
    return this.r() < p
  }
  k(): number {
    return this.int(6)
  }
  s(): string {
    return this.pick(['"a"', '"b"', '"c"', '"ab"'])
  }

  // p/1 int, r/1 int, q/2 (string, int), s/2 (int, int)
  fact(): string {
    return this.pick([
      () => `p(${this.k()})`,
      () => `r(${this.k()})`,
      () => `q(${this.s()}, ${this.k()})`,
      () => `s(${this.k()}, ${this.k()})`,
    ])()
  }

  rule(): string {
    return this.pick([
      () => `r($x) <- p($x), $x > ${this.k()}`,
      () => `s($x, $y) <- p($x), p($y), $x < $y`,
      () => `p($y) <- q($n, $y), $n == ${this.s()}`,
      () => `r($y) <- s($x, $y), $x + 1 == $y`,
      () => `s($x, $x) <- r($x)`,
      () => `p($x) <- q($n, $x), $n.starts_with("a"), $x <= ${this.k()}`,
      () => `r($x) <- p($x), [1, 3, 5].contains($x)`,
      () => `r($x) <- p($x)${this.scope()}`,
    ])()
  }

  body(): string {
    return this.pick([
      () => `p(${this.k()})`,
      () => `r($x), $x > ${this.k()}`,
      () => `q($n, $v), $n.starts_with(${this.s()})`,
      () => `s($x, $y), $x * 2 < $y`,
      () => `p($x), [1, 3].contains($x)`,
      () => `q($n, $v), $n.length() == ${this.int(3)}, $v >= ${this.k()}`,
      () => `r($x), $x / 2 == ${this.int(2)}`,
      () => `p($x), r($y), $x - $y == ${this.int(3) - 1}`,
      () => `s($x, $y), $x != $y || $x == ${this.k()}`,
    ])()
  }

  check(): string {
    return this.pick([
      () => `check if ${this.body()}${this.scope()}`,
      () => `check if ${this.body()} or ${this.body()}`,
      () => `check all p($x), $x < ${this.k() + 2}`,
      () => `reject if r(${this.k()})`,
    ])()
  }

  block(authority: boolean): string {
    const lines: string[] = []
    const nf = this.int(authority ? 6 : 4) + (authority ? 1 : 0)
    for (let i = 0; i < nf; i++) lines.push(`${this.fact()};`)
    for (let i = this.int(3); i > 0; i--) lines.push(`${this.rule()};`)
    for (let i = this.int(3); i > 0; i--) lines.push(`${this.check()};`)
    return lines.join('\n')
  }

  authorizer(): string {
    const lines: string[] = []
    for (let i = this.int(5); i > 0; i--) lines.push(`${this.fact()};`)
    for (let i = this.int(2); i > 0; i--) lines.push(`${this.rule()};`)
    for (let i = this.int(2); i > 0; i--) lines.push(`${this.check()};`)
    const np = this.int(3) + 1
    for (let i = 0; i < np; i++) {
      lines.push(
        this.pick([
          () => `allow if ${this.body()}${this.scope()};`,
          () => `deny if ${this.body()}${this.scope()};`,
          () => `allow if true;`,
          () => `deny if true;`,
        ])(),
      )
    }
    return lines.join('\n')
  }
}

function ours(token: string, key: string, code: string): RefOutcome & {timeout?: boolean} {
  const r = authorize(token, {key, authorizer: code})
  const failed = (r.error?.failed_checks ?? []).map((c) => (c.block === null ? `a:${c.check}` : `b${c.block}:${c.check}`)).sort()
  const kind = r.authorized ? 'ok' : r.error?.kind ?? 'unknown'
  return {authorized: r.authorized, policy: r.policy, kind, failed, timeout: kind === 'run_limit' && /tim/i.test(r.error?.message ?? '')}
}

describe('differential: authorize vs @biscuit-auth/biscuit-wasm', function () {
  this.timeout(600_000)
  let ref: Ref

  before(async () => {
    requireNative()
    ref = await reference()
  })

  it(`agrees on ${N} random tokens and authorizers`, () => {
    const g = new Gen(rng(SEED))
    const disagreements: string[] = []
    const keys: Record<Alg, InstanceType<Ref['KeyPair']>> = {
      ed25519: new ref.KeyPair(ref.SignatureAlgorithm.Ed25519),
      secp256r1: new ref.KeyPair(ref.SignatureAlgorithm.Secp256r1),
    }
    const nodes = {ed25519: new ref.KeyPair(ref.SignatureAlgorithm.Ed25519), secp256r1: new ref.KeyPair(ref.SignatureAlgorithm.Secp256r1)}
    const stats = {authorized: 0, denied: 0, blocks: 0, thirdParty: 0, ed25519: 0, secp256r1: 0, retries: 0}
    for (let i = 0; i < N; i++) {
      const alg: Alg = i % 2 === 0 ? 'ed25519' : 'secp256r1'
      const kp = g.chance(0.8) ? keys[alg] : new ref.KeyPair(alg === 'ed25519' ? ref.SignatureAlgorithm.Ed25519 : ref.SignatureAlgorithm.Secp256r1)
      const authority = g.block(true)
      const builder = ref.Biscuit.builder()
      builder.addCode(authority)
      let token = builder.build(kp.getPrivateKey())
      const blocks = [authority]
      g.keys = []
      for (let b = g.int(3); b > 0; b--) {
        const bb = ref.Biscuit.block_builder()
        if (g.chance(0.3)) {
          // a third-party block, signed by a service key of either algorithm
          const signer = g.chance(0.5) ? nodes.ed25519 : nodes.secp256r1
          const signerKey = signer.getPublicKey().toString()
          if (!g.keys.includes(signerKey)) g.keys.push(signerKey)
          const code = g.block(false)
          bb.addCode(code)
          const block = token.getThirdPartyRequest().createBlock(signer.getPrivateKey(), bb)
          token = token.appendThirdPartyBlock(signer.getPublicKey(), block)
          blocks.push(`// third-party, signed by ${signerKey}\n${code}`)
          stats.thirdParty++
        } else {
          const code = g.block(false)
          bb.addCode(code)
          token = token.appendBlock(bb)
          blocks.push(code)
        }
      }
      const authorizer = g.authorizer()
      const expected = refAuthorize(ref, token, authorizer)
      let actual: RefOutcome & {timeout?: boolean}
      const run = () => {
        try {
          return ours(token.toBase64(), kp.getPublicKey().toString(), authorizer)
        } catch (error) {
          return {authorized: false, policy: null, kind: `threw: ${(error as Error).message}`, failed: [], timeout: false}
        }
      }
      actual = run()
      // only the wall-clock cap is nondeterministic (a loaded machine): retry those, and count them
      for (let t = 0; t < 3 && actual.timeout && !expected.kind.startsWith('run_limit'); t++) {
        stats.retries++
        actual = run()
      }
      delete actual.timeout
      stats[alg]++
      stats.blocks += blocks.length
      if (expected.authorized) stats.authorized++
      else stats.denied++
      const same =
        expected.authorized === actual.authorized &&
        expected.policy === actual.policy &&
        (expected.authorized || (expected.kind === actual.kind && expected.failed.join() === actual.failed.join()))
      if (!same) {
        disagreements.push(
          [
            `#${i} (${alg}, seed ${SEED})`,
            `  reference: ${JSON.stringify(expected)}`,
            `  ours:      ${JSON.stringify(actual)}`,
            ...blocks.map((b, j) => `  block ${j}:\n${b.replace(/^/gm, '    ')}`),
            `  authorizer:\n${authorizer.replace(/^/gm, '    ')}`,
          ].join('\n'),
        )
      }
    }
    console.log(`      differential: ${N} tokens, ${disagreements.length} disagreements (${stats.authorized} authorized, ${stats.denied} denied, ${stats.blocks} blocks of which ${stats.thirdParty} third-party, ${stats.ed25519} ed25519, ${stats.secp256r1} secp256r1, ${stats.retries} time-limit retries)`)
    if (disagreements.length > 0) console.log(disagreements.slice(0, 5).join('\n\n'))
    assert.equal(disagreements.length, 0, `${disagreements.length} disagreements with the reference`)
    assert.ok(stats.authorized > N / 20 && stats.denied > N / 20, `both outcomes exercised: ${JSON.stringify(stats)}`)
  })
})
