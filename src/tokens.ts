/**
 * Token operations over the native engine: verify (Hessra rules), authorize (general Datalog),
 * inspect, and the dev kit (mint, attenuate, attest, seal). No token logic lives here: this module
 * only chooses keys, shapes requests and turns native outcomes into typed results and errors.
 */
import {type LoadedConfig, type ServiceNode} from './config/index.js'
import {ConfigError, DeniedError, ExpiredError, InputError, InvalidSignatureError, InvalidTokenError, LimitExceededError, NativeCode, RevokedError, UsageError, type HessraError, type ErrorKind} from './errors.js'
import {type TokenInput} from './input/token.js'
import {nowSeconds} from './input/time.js'
import {choosePublicKey, loadKeyPair, nativeConfig, parsePublicKeySpec, type ResolvedPublicKey} from './keys.js'
import {Config, createThirdPartyBlock, KeyPair, mintHessraToken as nativeMintHessra, mintIdentity as nativeMintIdentity, mintToken as nativeMint, PublicKey, Token, verify as nativeVerify, verifyIdentity as nativeVerifyIdentity} from './native/binding.js'

/** A token as accepted by the library API: base64url text, raw bytes, or a resolved CLI input. */
export type TokenLike = string | Uint8Array | TokenInput

const NOT_A_TOKEN_HINT = 'check that the whole token was copied; `hessra inspect` shows what a token holds'

/**
 * Decodes a token (signatures not checked), for the functions that read or change one. Throws
 * InvalidTokenError for input that is not a token: those functions need a token to work on (a verdict on
 * untrusted input is verifyToken's, as a result).
 */
export function openToken(token: TokenLike): Token {
  try {
    if (typeof token === 'string') return Token.parse(token)
    if (token instanceof Uint8Array) return Token.parseBytes(token)
    return token.kind === 'text' ? Token.parse(token.text) : Token.parseBytes(token.bytes)
  } catch (error) {
    if (error instanceof InvalidTokenError) {
      // the engine says why (base64 position, protobuf field), never quoting the token
      const why = /^invalid token$/i.test(error.message) ? 'the input does not decode as a Biscuit token (base64url or raw bytes)' : error.message
      throw new InvalidTokenError(`not a token: ${why}`, {hint: NOT_A_TOKEN_HINT})
    }
    throw error
  }
}

/** How to find the root public key. Without any of these, HESSRA_PUBLIC_KEY then the configuration. */
export interface KeyOptions {
  /** Public key text (PEM, ed25519/<hex>, secp256r1/<hex>) or a path to a file holding one. */
  key?: string | PublicKey
  /** A key id from the configuration. */
  keyId?: string
  /** A loaded configuration (see loadConfig). */
  config?: LoadedConfig
  env?: NodeJS.ProcessEnv
}

function resolveKey(opts: KeyOptions, token: Token | null): ResolvedPublicKey & {owned: boolean} {
  if (opts.key instanceof PublicKey) return {key: opts.key, origin: 'argument', id: null, derivedFromPrivate: false, owned: false}
  const r = choosePublicKey({key: opts.key, keyId: opts.keyId, env: opts.env, loaded: opts.config, rootKeyId: token ? token.rootKeyId() : null})
  return {...r, owned: true}
}

// ---------------------------------------------------------------------------------------------
// inspect
// ---------------------------------------------------------------------------------------------

export interface InspectBlock {
  index: number
  /** The block's Datalog; cut (ending with ` ... [N bytes, truncated]`) when `truncated`: a token's code is shown up to 1 MiB in all. */
  code: string
  /** Bytes of the whole rendering of the block's code. */
  code_bytes: number
  truncated: boolean
  symbols: string[]
  public_keys: string[]
  external_key: string | null
  version: number
  context: string | null
  /** The earliest time bound of this block's checks (unix seconds), null without one. */
  expires_at: number | null
}

export interface InspectResult {
  verified: boolean
  root_key_id: number | null
  sealed: boolean
  revocation_ids: string[]
  blocks: InspectBlock[]
  rights: {subject: string; resource: string; operation: string}[]
  expires_at: number | null
  /** The same bound as RFC 3339 (UTC), or null. */
  expires_at_rfc3339?: string | null
  service_nodes: ServiceNode[]
  /** What kind of Hessra token this is and how it is built (read from its Datalog by the engine). */
  classification: Classification
}

/** The engine's classification of a token (docs/cli-json.md, `inspect`). */
export interface Classification {
  kind: 'identity' | 'authorization' | 'other'
  structure: {type: 'base' | 'delegated' | 'service_chain' | 'multi_party' | 'time_attenuated' | 'prefix_restricted' | 'attenuated' | 'mixed'; depth?: number; nodes?: number; parties?: number}
  blocks: {index: number; role: string; identity?: string; service?: string; namespace?: string; prefix?: string | null}[]
  /** Identity tokens: the authority block's subject. */
  base_identity: string | null
  /** Identity tokens: the narrowest delegated identity (the base identity when not delegated). */
  identity: string | null
  delegatable: boolean | null
  domain: string | null
}

export interface InspectOptions extends KeyOptions {
  /** Verify the signatures (needs a key). Default: only when a key is given. */
  verify?: boolean
}

/** Decodes a token; verifies its signatures when a key is given (or `verify: true`). */
export function inspectToken(token: TokenLike, opts: InspectOptions = {}): InspectResult {
  const t = openToken(token)
  try {
    const wantVerify = opts.verify ?? (opts.key !== undefined || opts.keyId !== undefined)
    if (!wantVerify) return JSON.parse(t.inspect()) as InspectResult
    const k = resolveKey(opts, t)
    try {
      return JSON.parse(t.inspectVerified(k.key)) as InspectResult
    } finally {
      if (k.owned) k.key.dispose()
    }
  } finally {
    t.dispose()
  }
}

// ---------------------------------------------------------------------------------------------
// verify
// ---------------------------------------------------------------------------------------------

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

function memoFor(loaded: LoadedConfig): ConfigMemo {
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

/** The engine's outcome (hessra_verify's JSON, see hessra_ffi.h). */
interface EngineOutcome {
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

function tokenBytes(token: TokenLike): Uint8Array {
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
function withGivenKey<T>(opts: KeyOptions, f: (given: ReturnType<typeof givenKey>) => T): T {
  const given = givenKey(opts)
  try {
    return f(given)
  } finally {
    if (given?.owned) given.key.dispose()
  }
}

/** Calls the verifier and reads its outcome (every verdict, `malformed` included); a missing key gets the hint. */
function engineOutcome(given: ReturnType<typeof givenKey>, call: () => {json: string}): EngineOutcome {
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
function verdict(o: EngineOutcome, given: ReturnType<typeof givenKey>) {
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

// ---------------------------------------------------------------------------------------------
// authorize
// ---------------------------------------------------------------------------------------------

export interface FailedCheck {
  block: number | null
  check: number
  /** The check's text; cut (ending with ` ... [N bytes, truncated]`) when `truncated`: 4 KiB per check, 64 KiB for all. */
  rule: string
  /** Bytes of the whole rendering of the check. */
  rule_bytes: number
  truncated: boolean
}

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

// ---------------------------------------------------------------------------------------------
// dev kit
// ---------------------------------------------------------------------------------------------

/** Private key: a KeyPair, PEM/`ed25519-private/<hex>` text, or a path to a file holding one. */
export type PrivateKeyLike = KeyPair | string

function withKeyPair<T>(k: PrivateKeyLike, what: string, f: (kp: KeyPair) => T): T {
  if (k instanceof KeyPair) return f(k)
  const kp = loadKeyPair(k, what)
  try {
    return f(kp)
  } finally {
    kp.dispose()
  }
}

/** Runs `f` with the decoded token, disposing it afterwards. */
function withOpenToken<T>(token: TokenLike, f: (t: Token) => T): T {
  const t = openToken(token)
  try {
    return f(t)
  } finally {
    t.dispose()
  }
}

function withPublicKey<T>(opts: KeyOptions, token: Token, f: (key: PublicKey) => T): T {
  const k = resolveKey(opts, token)
  try {
    return f(k.key)
  } finally {
    if (k.owned) k.key.dispose()
  }
}

/** Normalizes a public key given as text or file to "ed25519/<hex>" / "secp256r1/<hex>". */
export function publicKeyText(spec: string, what = 'public key'): string {
  const {key} = parsePublicKeySpec(spec, what)
  try {
    return key.toText()
  } finally {
    key.dispose()
  }
}

export interface MintOptions {
  privateKey: PrivateKeyLike
  subject: string
  resource: string
  /** One operation, or several (each granted). */
  operation: string | readonly string[]
  /** Unix seconds; omit for no time bound. */
  expiresAt?: number | null
  domain?: string | null
  /** Service chain nodes (public keys as text or files). */
  serviceNodes?: ServiceNode[]
  rootKeyId?: number | null
  /** Multi-party: each party must attest (attestNamespace) before the token is valid. Keys as text or files. */
  multiParty?: Party[]
  /** Prefix-restricted: valid only once narrowed (restrictPrefix) by this key's holder. Text or file. */
  prefixKey?: string | null
}

/** A party of a multi-party token: `check if namespace(NAMESPACE) trusting PUBLIC_KEY`. */
export interface Party {
  namespace: string
  public_key: string
}

/** The engine's restrictions_json for the multi-party and prefix options, or null without any. */
function restrictionsJson(opts: MintOptions): string | null {
  const parties = (opts.multiParty ?? []).map((p) => ({namespace: p.namespace, public_key: publicKeyText(p.public_key, `key of party ${p.namespace}`)}))
  const prefixKey = opts.prefixKey ? publicKeyText(opts.prefixKey, 'prefix key') : null
  if (parties.length === 0 && prefixKey === null) return null
  return JSON.stringify({multi_party: parties, prefix_key: prefixKey})
}

/** Mints a Hessra-shaped token (right, the subject/resource/operation check, time bound, domain, service nodes, multi-party and prefix restrictions). */
export function mintHessra(opts: MintOptions): string {
  const nodes = (opts.serviceNodes ?? []).map((n) => ({component: n.component, public_key: publicKeyText(n.public_key, `key of service node ${n.component}`)}))
  return withKeyPair(opts.privateKey, 'private key', (kp) =>
    nativeMintHessra(kp, {
      subject: opts.subject,
      resource: opts.resource,
      operation: opts.operation,
      expiresAt: opts.expiresAt ?? 0,
      domain: opts.domain ?? null,
      serviceNodesJson: nodes.length > 0 ? JSON.stringify(nodes) : null,
      rootKeyId: opts.rootKeyId ?? -1,
      restrictionsJson: restrictionsJson(opts),
    }),
  )
}

export interface MintDatalogOptions {
  privateKey: PrivateKeyLike
  /** Authority block Datalog, with {name} placeholders. */
  datalog: string
  params?: Record<string, unknown> | null
  rootKeyId?: number | null
}

/** Mints a token from authority Datalog. */
export function mintFromDatalog(opts: MintDatalogOptions): string {
  return withKeyPair(opts.privateKey, 'private key', (kp) => nativeMint(kp, opts.datalog, opts.params ? JSON.stringify(opts.params) : null, opts.rootKeyId ?? -1))
}

/** Datalog for an attenuation block from --ttl / --check / --datalog pieces. */
export function attenuationDatalog(parts: {expiresAt?: number | null; checks?: string[]; datalog?: string | null}): string {
  const lines: string[] = []
  if (parts.expiresAt !== undefined && parts.expiresAt !== null) lines.push(`check if time($time), $time < ${Math.trunc(parts.expiresAt)};`)
  for (const c of parts.checks ?? []) {
    let s = c.trim().replace(/;+\s*$/, '')
    if (s === '') continue
    if (!/^(check\s+(if|all)|reject\s+if)\b/i.test(s)) s = `check if ${s}`
    lines.push(`${s};`)
  }
  if (parts.datalog && parts.datalog.trim() !== '') lines.push(parts.datalog.trim())
  if (lines.length === 0) throw new UsageError('nothing to add: give --ttl, --check or --datalog')
  return lines.join('\n') + '\n'
}

export interface AttenuateOptions extends KeyOptions {
  /** The block's Datalog (see attenuationDatalog). */
  datalog: string
  params?: Record<string, unknown> | null
}

export function attenuateToken(token: TokenLike, opts: AttenuateOptions): string {
  return withOpenToken(token, (t) => withPublicKey(opts, t, (key) => t.attenuate(key, opts.datalog, opts.params ? JSON.stringify(opts.params) : null)))
}

export interface AttestOptions extends KeyOptions {
  /** The node's private key (file, text or KeyPair). */
  nodeKey: PrivateKeyLike
  /** The component attesting; checked against the token's service nodes when it lists them. */
  component?: string | null
  /** The resource to attest (default: the token's first right). */
  resource?: string | null
}

/** Adds the third-party block `service(RESOURCE)` signed by a service-chain node. */
export function attestToken(token: TokenLike, opts: AttestOptions): string {
  const t = openToken(token)
  try {
    return withKeyPair(opts.nodeKey, 'node key', (node) => {
      if (opts.component) {
        const info = JSON.parse(t.inspect()) as InspectResult
        const nodes = info.service_nodes ?? []
        if (nodes.length > 0) {
          const entry = nodes.find((n) => n.component === opts.component)
          if (!entry) {
            throw new UsageError(`component "${opts.component}" is not a service node of this token`, {
              hint: `its nodes: ${nodes.map((n) => n.component).join(', ')}`,
            })
          }
          const pub = node.publicKey()
          try {
            const mine = pub.toText()
            if (mine !== publicKeyText(entry.public_key)) {
              throw new InputError(`--node-key is not the key of component "${opts.component}" (the token expects ${entry.public_key})`)
            }
          } finally {
            pub.dispose()
          }
        }
      }
      return withPublicKey(opts, t, (key) => t.attest(key, node, opts.resource ?? null))
    })
  } finally {
    t.dispose()
  }
}

export interface AttestNamespaceOptions extends KeyOptions {
  /** The party's private key (file, text or KeyPair). */
  nodeKey: PrivateKeyLike
  /** The namespace the party attests (one the token names with this party's key). */
  namespace: string
}

/** A party's attestation of a multi-party token: the third-party block `namespace(NS)` signed by its key. */
export function attestNamespace(token: TokenLike, opts: AttestNamespaceOptions): string {
  return withOpenToken(token, (t) => withKeyPair(opts.nodeKey, 'party key', (party) => withPublicKey(opts, t, (key) => t.attestNamespace(key, party, opts.namespace))))
}

export interface RestrictPrefixOptions extends KeyOptions {
  /** The prefix the token is narrowed to; a verification must then give exactly this prefix. */
  prefix: string
  /** The prefix key's private half (file, text or KeyPair): the key the token names. */
  prefixPrivateKey: PrivateKeyLike
}

/** Narrows a prefix-restricted token: the third-party block `check if prefix(P); prefix_added(true);`. */
export function restrictPrefix(token: TokenLike, opts: RestrictPrefixOptions): string {
  return withOpenToken(token, (t) => withKeyPair(opts.prefixPrivateKey, 'prefix private key', (kp) => withPublicKey(opts, t, (key) => t.restrictPrefix(key, kp, opts.prefix))))
}

/** Seals the token: no block can be appended afterwards. */
export function sealToken(token: TokenLike, opts: KeyOptions = {}): string {
  return withOpenToken(token, (t) => withPublicKey(opts, t, (key) => t.seal(key)))
}

/** Third-party blocks, step by step: the request for the token's last block. */
export function thirdPartyRequest(token: TokenLike): string {
  return withOpenToken(token, (t) => t.thirdPartyRequest())
}

/** Signs a third-party block for a request with a node key. */
export function createThirdPartyBlockFor(request: string, nodeKey: PrivateKeyLike, datalog: string, params?: Record<string, unknown> | null): string {
  return withKeyPair(nodeKey, 'node key', (kp) => createThirdPartyBlock(request, kp, datalog, params ? JSON.stringify(params) : null))
}

/** Appends a signed third-party block. */
export function appendThirdPartyBlock(token: TokenLike, block: string, opts: KeyOptions = {}): string {
  return withOpenToken(token, (t) => withPublicKey(opts, t, (key) => t.appendThirdParty(key, block)))
}

/** The canonical base64url form of a token. */
export function tokenToString(token: TokenLike): string {
  return withOpenToken(token, (t) => t.toBase64())
}

// ---------------------------------------------------------------------------------------------
// identity tokens
// ---------------------------------------------------------------------------------------------

/** The kind of a token, read from its authority block by the engine (signatures not checked). */
export function tokenKind(token: TokenLike): Classification['kind'] {
  return withOpenToken(token, (t) => (JSON.parse(t.inspect()) as InspectResult).classification.kind)
}

/**
 * Which verification a request asks for: an identity (`identity` given, or nothing given and the token is
 * an identity token: bearer mode) or an authorization (`subject`/`resource` given). An authorization token
 * with nothing given is a usage error naming what each kind needs.
 */
export function requestedKind(req: {identity?: string; subject?: string; resource?: string}, token: TokenLike): 'identity' | 'authorization' {
  if (req.identity !== undefined) return 'identity'
  if (req.subject !== undefined || req.resource !== undefined) return 'authorization'
  if (tokenKind(token) === 'identity') return 'identity'
  throw new UsageError('--resource is required for an authorization token', {
    hint: 'identity tokens: `--identity ID` (or nothing, bearer mode); authorization tokens: `--subject S --resource R [--operation O]`',
  })
}

export interface IdentityVerifyOptions extends KeyOptions {
  /** The identity the token must prove (actor). Omit (or null) for bearer mode: whoever its subject is. */
  identity?: string | null
  /** Omit (or null): the configuration's domain. */
  domain?: string | null
  /** The token's subject must belong to the domain. */
  subjectInDomain?: boolean
  /** Unix seconds to verify at (default now). */
  at?: number
  /** Omit (or null): the configuration's leeway_seconds. An explicit value, 0 included, always wins. */
  leewaySeconds?: number | null
}

export interface IdentityVerifyResult {
  valid: boolean
  status: VerifyStatus
  reason: string | null
  code: ErrorKind | null
  /** `actor`: an identity was given; `bearer`: the token's subject. */
  mode: 'actor' | 'bearer'
  /** As requested (null in bearer mode). */
  identity: string | null
  domain: string | null
  /** The identity the token proves; null unless valid. */
  verifiedIdentity: string | null
  checkedAt: number
  leewaySeconds: number
  expiresAt: number | null
  failedChecks: FailedCheck[]
  key: {origin: string; id: string | null}
  rootKeyId: number | null
  /** For `revoked`: the first revoked block and its revocation id; else null. */
  revoked: {block: number; revocationId: string} | null
  /** What the token is (the engine's reading of its authority block) once its signatures verified, else null. */
  tokenKind: Classification['kind'] | null
}

/**
 * Verifies a Hessra identity token (hessra_identity_verify): the token must prove `identity` (or, in
 * bearer mode, its own subject) now. A token that is not an identity token is denied. Throws as
 * verifyToken does.
 */
export function verifyIdentityToken(token: TokenLike, opts: IdentityVerifyOptions = {}): IdentityVerifyResult {
  return withGivenKey(opts, (given) => {
    const config = opts.config?.config ? memoFor(opts.config).native : null
    const request = {
      actor: opts.identity ? ('given' as const) : ('bearer' as const),
      identity: opts.identity || null,
      domain: opts.domain ?? null,
      subjectInDomain: opts.subjectInDomain ?? false,
      now: opts.at ?? nowSeconds(),
      leewaySeconds: opts.leewaySeconds ?? null,
    }
    const o = engineOutcome(given, () => nativeVerifyIdentity(config, given?.key ?? null, given ? null : (opts.keyId ?? null), tokenBytes(token), request))
    return {
      ...verdict(o, given),
      mode: request.actor === 'given' ? 'actor' : 'bearer',
      identity: request.identity,
      domain: opts.domain ?? null,
      verifiedIdentity: o.subject,
    }
  })
}

export interface IdentityMintOptions {
  privateKey: PrivateKeyLike
  /** The identity, e.g. urn:hessra:alice. */
  subject: string
  /** Identities below it (subject + ":...") pass too, and it can be delegated to them. */
  delegatable?: boolean
  /** Domain-restricted: verifies only with this domain. */
  domain?: string | null
  /** Unix seconds. */
  expiresAt: number
  rootKeyId?: number | null
}

/** Mints a Hessra identity token. */
export function mintIdentityToken(opts: IdentityMintOptions): string {
  if (!opts.subject) throw new UsageError('an identity is required (--subject)')
  return withKeyPair(opts.privateKey, 'private key', (kp) =>
    nativeMintIdentity(kp, {subject: opts.subject, delegatable: opts.delegatable, domain: opts.domain ?? null, expiresAt: opts.expiresAt, rootKeyId: opts.rootKeyId}),
  )
}

export interface IdentityDelegateOptions extends KeyOptions {
  /** The identity to delegate to: below the token's own (e.g. urn:hessra:alice:laptop). */
  to: string
  /** Unix seconds. */
  expiresAt: number
}

/** Delegates an identity token to a sub-identity (a third-party block signed by an ephemeral key). */
export function delegateIdentityToken(token: TokenLike, opts: IdentityDelegateOptions): string {
  if (!opts.to) throw new UsageError('an identity to delegate to is required (--to)')
  return withOpenToken(token, (t) => withPublicKey(opts, t, (key) => t.delegateIdentity(key, opts.to, opts.expiresAt)))
}

export interface IdentityJitOptions extends KeyOptions {
  /** Unix seconds. */
  expiresAt: number
}

/** A just-in-time identity token: the token, limited to a short life (a third-party time block). */
export function jitIdentityToken(token: TokenLike, opts: IdentityJitOptions): string {
  return withOpenToken(token, (t) => withPublicKey(opts, t, (key) => t.jitIdentity(key, opts.expiresAt)))
}
