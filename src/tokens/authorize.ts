/** General Biscuit authorization (hessra_token_authorize): the token's signatures, then the caller's authorizer Datalog. */
import {DeniedError, InvalidTokenError, LimitExceededError, NativeCode, type ErrorKind} from '../errors.js'
import {Token} from '../native/binding.js'
import {openToken, resolveKey, type KeyOptions, type TokenLike} from './open.js'
import {type FailedCheck} from './verify.js'

export type PolicyKind = 'allow' | 'deny'

export interface AuthorizeResult {
  authorized: boolean
  /**
   * Index of the policy that matched, or null when none did. Authorized: an allow policy. Not authorized:
   * an allow policy whose checks failed, or a deny policy — `policy_kind` says which.
   */
  policy: number | null
  /** The kind of the policy `policy` indexes; null when `policy` is null. */
  policy_kind: PolicyKind | null
  /** `code`, for kind `malformed` only: invalid_token, or limit_exceeded (too large). */
  error: null | {kind: string; message: string; failed_checks?: FailedCheck[]; code?: ErrorKind}
}

export interface AuthorizeOptions extends KeyOptions {
  /** Authorizer Datalog: facts, rules, checks and policies. */
  authorizer: string
}

/** The authorizer with the fact time(AT) first (`hessra authorize --at`), in integer unix seconds as Hessra tokens compare time. */
export function authorizerAt(authorizer: string, at: number): string {
  return `time(${Math.trunc(at)});\n${authorizer}`
}

/**
 * General Biscuit authorization. Every verdict about the token is a result: {authorized:false} with
 * `error.kind` `signature` (a bad signature), `malformed` (not a token) or the engine's kind for a
 * denial. Throws for the caller's mistakes: InputError when the authorizer does not parse, key and
 * configuration errors.
 */
export function authorize(token: TokenLike, opts: AuthorizeOptions): AuthorizeResult {
  let t: Token
  try {
    t = openToken(token)
  } catch (error) {
    if (error instanceof InvalidTokenError || error instanceof LimitExceededError) {
      return {authorized: false, policy: null, policy_kind: null, error: {kind: 'malformed', message: error.message, code: error.kind}}
    }
    throw error
  }
  try {
    const k = resolveKey(opts, t)
    try {
      const r = (() => {
        try {
          return t.authorize(k.key, opts.authorizer)
        } catch (error) {
          if (error instanceof DeniedError) return {code: NativeCode.VERIFICATION_FAILED, json: null, message: error.message}
          throw error
        }
      })()
      if (r.json === null) {
        return {authorized: false, policy: null, policy_kind: null, error: {kind: 'signature', message: r.message ?? 'signature verification failed'}}
      }
      const parsed = JSON.parse(r.json) as {
        authorized: boolean
        policy?: number | null
        policy_kind?: PolicyKind | null
        error?: AuthorizeResult['error']
      }
      const policy = parsed.policy ?? null
      const kind = parsed.policy_kind === 'allow' || parsed.policy_kind === 'deny' ? parsed.policy_kind : null
      return {authorized: Boolean(parsed.authorized), policy, policy_kind: policy === null ? null : kind, error: parsed.error ?? null}
    } finally {
      if (k.owned) k.key.dispose()
    }
  } finally {
    t.dispose()
  }
}
