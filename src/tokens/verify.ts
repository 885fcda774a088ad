/**
 * Verification of authorization tokens (hessra_verify): one engine call, which chooses the key, applies
 * the configuration's defaults and classifies the answer; this module shapes the request and reads the
 * Outcome into a typed result. Also the verdict's typed error (assertValid, the CLI's exit codes).
 */
import {type LoadedConfig, type ServiceNode} from '../config/index.js'
import {ConfigError, DeniedError, ExpiredError, InvalidSignatureError, InvalidTokenError, LimitExceededError, RevokedError, UsageError, type ErrorKind, type HessraError} from '../errors.js'
import {nowSeconds} from '../input/time.js'
import {nativeConfig, parsePublicKeySpec} from '../keys.js'
import {Config, PublicKey, verify as nativeVerify} from '../native/binding.js'
import {type Classification} from './inspect.js'
import {NOT_A_TOKEN_HINT, type KeyOptions, type TokenLike} from './open.js'

export interface VerifyOptions extends KeyOptions {
  /** Omit (or null) for capability mode. */
  subject?: string | null
  resource: string
  /** Omit (or null) to accept any operation the token grants. */
  operation?: string | null
  /** Omit (or null): the configuration's domain. */
  domain?: string | null
  prefix?: string | null
  /** The service chain: nodes in order. Omit (or null): the configuration's service_chains[resource]. */
  serviceChain?: ServiceNode[] | null
  component?: string | null
  /** Unix seconds to verify at (default now). */
  at?: number
  /** Omit (or null): the configuration's leeway_seconds. An explicit value, 0 included, always wins. */
  leewaySeconds?: number | null
}

/**
 * The engine's verdict. `invalid`: a signature does not verify with the key (forged, or the wrong key).
 * `revoked`: authentic, but a block's revocation id is in the configuration's revocation list
 * (revoked_ids, revocation_file). `malformed`: not a token at all (bad encoding, truncated, empty, or
 * larger than the configured limit) — `code` says `invalid_token` or `limit_exceeded`.
 */
export type VerifyStatus = 'valid' | 'denied' | 'expired' | 'invalid' | 'revoked' | 'malformed'

export interface Right {
  subject: string
  resource: string
  operation: string
}

export interface VerifyResult {
  valid: boolean
  status: VerifyStatus
  /** Why it is not valid (the failing check, the expiry bound); null when valid. */
  reason: string | null
  /** Stable error kind when not valid: denied | expired | revoked | limit_exceeded | invalid_token (malformed) */
  code: ErrorKind | null
  /** `subject`: a subject was given (called `identity` before 0.2); `capability`: whoever holds it. */
  mode: 'subject' | 'capability'
  subject: string | null
  resource: string
  operation: string | null
  /** Unix seconds the token was checked at. */
  checkedAt: number
  /** The leeway applied (seconds). */
  leewaySeconds: number
  /** For `expired`: the bound that failed; else the token's earliest time bound. Null without one, or when the signatures did not verify. */
  expiresAt: number | null
  /** The checks that failed (block null: an authorizer check). */
  failedChecks: FailedCheck[]
  /** What the token grants (its authority block's rights); empty when the signatures did not verify. */
  rights: Right[]
  /** The subject the token is verified for (capability mode: the one its rights name); null unless valid. */
  verifiedSubject: string | null
  /** Which key verified it. */
  key: {origin: string; id: string | null}
  rootKeyId: number | null
  /** For `revoked`: the first revoked block and its revocation id; else null. */
  revoked: {block: number; revocationId: string} | null
  /** What the token is (the engine's reading of its authority block) once its signatures verified, else null. */
  tokenKind: Classification['kind'] | null
}

/**
 * The native Config built for a loaded configuration, reused by every verifyToken() call given the same
 * LoadedConfig object, so the engine's cache of signature-checked tokens is reused too (a cached
 * re-verification then skips the signature check, the configuration's validation and its key parsing).
 * Keyed by the LoadedConfig object; rebuilt when its `config` or `filepath` property is replaced (the
 * HessraConfig object itself is treated as immutable: load it again after changing it). The handle is
 * disposed when it is replaced or by releaseNativeConfig(), else by the binding's finalizer once the
 * LoadedConfig is garbage-collected.
 */
interface ConfigMemo {
  config: LoadedConfig['config']
  filepath: LoadedConfig['filepath']
  native: Config
}

const configMemo = new WeakMap<LoadedConfig, ConfigMemo>()

export function memoFor(loaded: LoadedConfig): ConfigMemo {
  const memo = configMemo.get(loaded)
  if (memo && !memo.native.disposed && memo.config === loaded.config && memo.filepath === loaded.filepath) return memo
  const native = nativeConfig(loaded) // throws for a missing or invalid configuration: nothing is memoised
  if (memo) memo.native.dispose()
  const fresh: ConfigMemo = {config: loaded.config, filepath: loaded.filepath, native}
  configMemo.set(loaded, fresh)
  return fresh
}

/** The native Config verifyToken() uses for `loaded` (built on first use; do not dispose it). @internal */
export function nativeConfigFor(loaded: LoadedConfig): Config {
  return memoFor(loaded).native
}

/** Frees the native Config that verifyToken() keeps for `loaded` now (it is rebuilt on the next use). */
export function releaseNativeConfig(loaded: LoadedConfig): void {
  const memo = configMemo.get(loaded)
  if (!memo) return
  configMemo.delete(loaded)
  memo.native.dispose()
}

export interface FailedCheck {
  block: number | null
  check: number
  /** The check's text; cut (ending with ` ... [N bytes, truncated]`) when `truncated`: 4 KiB per check, 64 KiB for all. */
  rule: string
  /** Bytes of the whole rendering of the check. */
  rule_bytes: number
  truncated: boolean
}

/** The engine's outcome (hessra_verify's JSON, see hessra_ffi.h). */
export interface EngineOutcome {
  /** VerifyStatus, 'malformed', or a status a newer engine adds */
  status: string
  code: string | null
  reason: string | null
  failed_checks: FailedCheck[]
  expired_at: number | null
  key: {id: string | null; origin: 'given' | 'key_id' | 'root_key_id' | 'default_key'} | null
  checked_at: number
  leeway_seconds: number
  subject: string | null
  root_key_id: number | null
  expires_at: number | null
  rights: Right[]
  revoked?: {block: number; revocation_id: string} | null
  token_kind?: Classification['kind'] | null
}

const KNOWN_STATUSES: readonly string[] = ['valid', 'expired', 'invalid', 'revoked', 'malformed'] satisfies VerifyStatus[]

/** koffi passes an empty buffer as a NULL pointer (a parameter error); a zero-length view of a real one is the empty token the engine judges. */
const EMPTY_TOKEN = Buffer.alloc(1).subarray(0, 0)

export function tokenBytes(token: TokenLike): Uint8Array {
  const bytes = typeof token === 'string' ? Buffer.from(token, 'utf8') : token instanceof Uint8Array ? token : token.kind === 'text' ? Buffer.from(token.text, 'utf8') : token.bytes
  return bytes.length === 0 ? EMPTY_TOKEN : bytes
}

/** A key given by the caller (--key, a PublicKey, else HESSRA_PUBLIC_KEY unless --key-id), with its label. */
function givenKey(opts: KeyOptions): {key: PublicKey; label: string; owned: boolean} | null {
  if (opts.key !== undefined && opts.keyId !== undefined) throw new UsageError('give either --key or --key-id, not both')
  if (opts.key instanceof PublicKey) return {key: opts.key, label: 'argument', owned: false}
  if (opts.key !== undefined) return {key: parsePublicKeySpec(opts.key, '--key').key, label: '--key', owned: true}
  if (opts.keyId !== undefined) return null
  const fromEnv = (opts.env ?? process.env).HESSRA_PUBLIC_KEY?.trim()
  if (fromEnv) return {key: parsePublicKeySpec(fromEnv, 'HESSRA_PUBLIC_KEY').key, label: 'HESSRA_PUBLIC_KEY', owned: true}
  return null
}

function keyLabel(key: NonNullable<EngineOutcome['key']>, given: string | null): string {
  if (key.origin === 'given') return given ?? 'argument'
  if (key.origin === 'key_id') return `key id ${key.id}`
  return `configuration key "${key.id}"`
}

const NO_KEY_HINT = 'pass --key KEY|FILE or --key-id ID, set HESSRA_PUBLIC_KEY, or add one with `hessra keys add ID KEY`'

/**
 * Verifies a Hessra token: one engine call (hessra_verify), which chooses the key, applies the
 * configuration's defaults and classifies the answer. Every verdict about the token is the result's
 * `status` — valid, denied, expired, invalid (bad signature), revoked, malformed (not a token: garbage,
 * empty, truncated, too large) — so untrusted input (an Authorization header) needs no try/catch.
 * Throws only for the caller's mistakes and the environment: bad options (UsageError; a malformed
 * --key: InvalidKeyError), configuration problems (ConfigError, e.g. no key to verify with) and the
 * engine missing (NativeLibraryMissingError). assertValid() throws for every verdict but valid.
 */
export function verifyToken(token: TokenLike, opts: VerifyOptions): VerifyResult {
  if (!opts.resource) throw new UsageError('a resource is required (--resource)')
  return withGivenKey(opts, (given) => {
    const config = opts.config?.config ? memoFor(opts.config).native : null
    const request = {
      subject: opts.subject ?? null,
      resource: opts.resource,
      operation: opts.operation ?? null,
      domain: opts.domain ?? null,
      prefix: opts.prefix ?? null,
      now: opts.at ?? nowSeconds(),
      leewaySeconds: opts.leewaySeconds ?? null,
      serviceChainJson: opts.serviceChain ? JSON.stringify(opts.serviceChain.map((n) => ({component: n.component, public_key: n.public_key}))) : null,
      component: opts.component ?? null,
    }
    const o = engineOutcome(given, () => nativeVerify(config, given?.key ?? null, given ? null : (opts.keyId ?? null), tokenBytes(token), request))
    return {
      ...verdict(o, given),
      mode: opts.subject ? 'subject' : 'capability',
      subject: opts.subject ?? null,
      resource: opts.resource,
      operation: opts.operation ?? null,
      rights: o.rights,
      verifiedSubject: o.subject,
    }
  })
}

/** Runs `f` with the caller's key (if any), disposing what was opened for it. */
export function withGivenKey<T>(opts: KeyOptions, f: (given: ReturnType<typeof givenKey>) => T): T {
  const given = givenKey(opts)
  try {
    return f(given)
  } finally {
    if (given?.owned) given.key.dispose()
  }
}

/** Calls the verifier and reads its outcome (every verdict, `malformed` included); a missing key gets the hint. */
export function engineOutcome(given: ReturnType<typeof givenKey>, call: () => {json: string}): EngineOutcome {
  let r
  try {
    r = call()
  } catch (error) {
    if (error instanceof ConfigError && !given) throw new ConfigError(error.message, {hint: NO_KEY_HINT, nativeCode: error.nativeCode})
    throw error
  }
  return JSON.parse(r.json) as EngineOutcome
}

/**
 * The typed error for a verdict that is not `valid` (assertValid, and the CLI, whose exit code follows
 * from it: 3 for a malformed token, 1 for the others).
 */
export function verdictError(r: Pick<VerifyResult, 'status' | 'reason' | 'code' | 'expiresAt'>): HessraError {
  switch (r.status) {
    case 'malformed':
      return r.code === 'limit_exceeded' ? new LimitExceededError(r.reason ?? 'token too large') : new InvalidTokenError(r.reason ?? 'not a token', {hint: NOT_A_TOKEN_HINT})
    case 'expired':
      return new ExpiredError(r.reason ?? 'token expired', r.expiresAt ?? undefined)
    case 'revoked':
      return new RevokedError(r.reason ?? 'token revoked')
    case 'invalid':
      return new InvalidSignatureError(r.reason ?? 'signature verification failed')
    default:
      return new DeniedError(r.reason ?? 'denied')
  }
}

/** The fields every verification result has, from the engine's outcome. */
export function verdict(o: EngineOutcome, given: ReturnType<typeof givenKey>) {
  // an unknown status (a newer engine) reads as denied: never valid
  const status = (KNOWN_STATUSES.includes(o.status) ? o.status : 'denied') as VerifyStatus
  const valid = status === 'valid'
  return {
    valid,
    status,
    reason: o.reason,
    code: valid ? null : verdictCode(status, o.code),
    checkedAt: o.checked_at,
    leewaySeconds: o.leeway_seconds,
    expiresAt: o.expired_at ?? o.expires_at,
    failedChecks: o.failed_checks,
    key: o.key ? {origin: keyLabel(o.key, given?.label ?? null), id: o.key.id} : {origin: given?.label ?? 'configuration', id: null},
    rootKeyId: o.root_key_id,
    revoked: o.revoked ? {block: o.revoked.block, revocationId: o.revoked.revocation_id} : null,
    tokenKind: o.token_kind ?? null,
  }
}

/** The stable error kind of a verdict that is not valid. */
function verdictCode(status: VerifyStatus, engineCode: string | null): ErrorKind {
  if (status === 'malformed') return engineCode === 'limit_exceeded' ? 'limit_exceeded' : 'invalid_token'
  return engineCode === 'expired' || engineCode === 'limit_exceeded' || engineCode === 'revoked' ? engineCode : 'denied'
}

/**
 * As verifyToken, but throws unless the token is valid: DeniedError (denied, invalid), ExpiredError,
 * RevokedError, InvalidTokenError (malformed; LimitExceededError when too large).
 */
export function assertValid(token: TokenLike, opts: VerifyOptions): VerifyResult {
  const r = verifyToken(token, opts)
  if (!r.valid) throw verdictError(r)
  return r
}
