/** The reference implementation (@biscuit-auth/biscuit-wasm 0.6.0), loaded on demand (needs --experimental-wasm-modules). */
import type * as Biscuit from '@biscuit-auth/biscuit-wasm'

export type Ref = typeof Biscuit

let loaded: Ref | undefined

export async function reference(): Promise<Ref> {
  if (!loaded) {
    const log = console.log
    console.log = () => {} // the module prints "biscuit-wasm loading"
    try {
      loaded = await import('@biscuit-auth/biscuit-wasm')
    } finally {
      console.log = log
    }
  }
  return loaded
}

export const LIMITS = {max_facts: 1000, max_iterations: 100, max_time_micro: 3_600_000_000}

export type Alg = 'ed25519' | 'secp256r1'

export function refAlg(ref: Ref, alg: Alg): number {
  return alg === 'ed25519' ? ref.SignatureAlgorithm.Ed25519 : ref.SignatureAlgorithm.Secp256r1
}

/** "ed25519/<hex>" -> reference PublicKey */
export function refPublicKey(ref: Ref, text: string): Biscuit.PublicKey {
  const [alg, hex] = text.split('/')
  return ref.PublicKey.fromString(hex, refAlg(ref, alg as Alg))
}

export interface RefOutcome {
  authorized: boolean
  /** allow policy index when authorized; matched policy (allow/deny) index when not, or null */
  policy: number | null
  kind: string
  failed: string[]
}

/** Runs the reference authorizer and normalizes the outcome. */
export function refAuthorize(ref: Ref, token: Biscuit.Biscuit, code: string): RefOutcome {
  // biscuit-wasm's clock occasionally reports a Timeout far below the limit: retry those
  let r = refAuthorizeOnce(ref, token, code)
  for (let i = 0; i < 5 && r.kind === 'run_limit' && r.timeout; i++) r = refAuthorizeOnce(ref, token, code)
  delete r.timeout
  return r
}

function refAuthorizeOnce(ref: Ref, token: Biscuit.Biscuit, code: string): RefOutcome & {timeout?: boolean} {
  const ab = new ref.AuthorizerBuilder()
  ab.addCode(code)
  const az = ab.buildAuthenticated(token)
  try {
    const policy = az.authorizeWithLimits(LIMITS)
    return {authorized: true, policy, kind: 'ok', failed: []}
  } catch (error) {
    const e = error as Record<string, any>
    if (e && e.FailedLogic) {
      const fl = e.FailedLogic
      if (fl.Unauthorized) {
        const p = fl.Unauthorized.policy
        return {authorized: false, policy: p.Allow ?? p.Deny ?? null, kind: 'unauthorized', failed: failedIds(fl.Unauthorized.checks)}
      }
      if (fl.NoMatchingPolicy) return {authorized: false, policy: null, kind: 'no_matching_policy', failed: failedIds(fl.NoMatchingPolicy.checks)}
      if (fl.InvalidBlockRule) return {authorized: false, policy: null, kind: 'invalid_block_rule', failed: []}
    }
    if (e && e.RunLimit) return {authorized: false, policy: null, kind: 'run_limit', failed: [], timeout: e.RunLimit === 'Timeout'}
    if (e && e.Execution) return {authorized: false, policy: null, kind: 'execution', failed: []}
    return {authorized: false, policy: null, kind: `other:${JSON.stringify(e)}`, failed: []}
  }
}

function failedIds(checks: any[]): string[] {
  return (checks ?? [])
    .map((c: any) => (c.Block ? `b${c.Block.block_id}:${c.Block.check_id}` : `a:${c.Authorizer.check_id}`))
    .sort()
}
