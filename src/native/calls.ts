/**
 * Calling the engine: arguments in (request structs), results out. Every `char*` the library hands out
 * is copied into a JavaScript string and freed at once (hessra_string_free / hessra_error_free), so no
 * native string outlives the call that made it; a failure becomes a typed error (errorFromNative).
 */
import koffi from 'koffi'

import {errorFromNative, InternalError, NativeCode, NativeLibraryMissingError, HessraError} from '../errors.js'
import {type Config, type KeyPair, type PublicKey} from './handles.js'
import {fn} from './library.js'
import {type FnName, type NativeFn} from './prototypes.js'

/**
 * A file's text read under the engine's trust rule for configuration files (hessra_trusted_file_read):
 * a regular file owned by one of `owners`, not writable by group or others, opened without blocking,
 * at most `maxBytes` bytes. Throws IoError (missing, unreadable, untrusted) or ConfigError (too large).
 */
export function readTrustedFile(path: string, owners: readonly number[], maxBytes: number): string {
  return callStringWithError('hessra_trusted_file_read', [path, Uint32Array.from(owners), owners.length, maxBytes], path)
}

function nativeErrorText(code: number): string {
  return fn('hessra_error_message')(code) as string
}

/** Copies a NUL-terminated string out of native memory and frees it with hessra_string_free. */
export function takeString(ptr: unknown): string | null {
  if (ptr === null || ptr === undefined) return null
  try {
    return koffi.decode(ptr, 'char', -1) as string
  } finally {
    fn('hessra_string_free')(ptr)
  }
}

export interface ErrorOut {
  code?: number
  message?: unknown
}

export function takeErrorMessage(err: ErrorOut): string | null {
  const ptr = err.message
  if (ptr === null || ptr === undefined) return null
  try {
    return koffi.decode(ptr, 'char', -1) as string
  } finally {
    fn('hessra_error_free')(ptr)
  }
}

export function fail(code: number, message: string | null, what?: string): never {
  throw errorFromNative(code, message ?? safeErrorText(code), {what})
}

function safeErrorText(code: number): string | null {
  try {
    return nativeErrorText(code)
  } catch {
    return null
  }
}

/** Calls a function whose last two outputs are `char **out` and `HessraError *err`. */
export function callStringWithError(name: FnName, args: unknown[], what?: string): string {
  const out: unknown[] = [null]
  const err: ErrorOut = {}
  const code = fn(name)(...args, out, err) as number
  const message = takeErrorMessage(err)
  const value = takeString(out[0])
  if (code !== NativeCode.SUCCESS) fail(code, message, what)
  if (value === null) throw new InternalError(`${name} returned no value`)
  return value
}

/** Calls a function whose last output is `char **out` (no HessraError). */
export function callString(name: FnName, args: unknown[], what?: string): string {
  const out: unknown[] = [null]
  const code = fn(name)(...args, out) as number
  const value = takeString(out[0])
  if (code !== NativeCode.SUCCESS) fail(code, null, what)
  if (value === null) throw new InternalError(`${name} returned no value`)
  return value
}

/** Calls a function whose last output is a handle. */
export function callHandle(name: FnName, args: unknown[], what?: string): unknown {
  const out: unknown[] = [null]
  const code = fn(name)(...args, out) as number
  if (code !== NativeCode.SUCCESS) {
    if (out[0]) releaseOrphan(name, out[0])
    fail(code, null, what)
  }
  if (!out[0]) throw new InternalError(`${name} returned no handle`)
  return out[0]
}

/**
 * Calls a function whose last two outputs are a handle and `HessraError *err` (the *_with_error
 * variants), so the engine's message (which field, which position) reaches the error. Falls back to
 * `fallback` (the plain variant, generic message) when the library is older and lacks `name`.
 */
export function callHandleWithError(name: FnName, fallback: FnName, args: unknown[], what?: string): unknown {
  let f: NativeFn
  try {
    f = fn(name)
  } catch (error) {
    // a library without this symbol (older build): the plain variant still works
    if (!(error instanceof NativeLibraryMissingError) && error instanceof HessraError && error.kind === 'native_library_missing') {
      return callHandle(fallback, args, what)
    }
    throw error
  }
  const out: unknown[] = [null]
  const err: ErrorOut = {}
  const code = f(...args, out, err) as number
  const message = takeErrorMessage(err)
  if (code !== NativeCode.SUCCESS) {
    if (out[0]) releaseOrphan(name, out[0])
    fail(code, message, what)
  }
  if (!out[0]) throw new InternalError(`${name} returned no handle`)
  return out[0]
}

export function releaseOrphan(name: FnName, ptr: unknown): void {
  // The ABI promises out_* are NULL on failure; be defensive anyway.
  if (name.startsWith('hessra_token_parse')) fn('hessra_token_free')(ptr)
  else if (name.startsWith('hessra_public_key') || name === 'hessra_keypair_public_key' || name === 'hessra_config_get_public_key') fn('hessra_public_key_free')(ptr)
  else if (name.startsWith('hessra_keypair')) fn('hessra_keypair_free')(ptr)
  else if (name.startsWith('hessra_config')) fn('hessra_config_free')(ptr)
}

/** Mirrors HessraVerifyRequest. */
export interface VerifyRequest {
  subject?: string | null
  resource: string
  operation?: string | null
  domain?: string | null
  prefix?: string | null
  /** unix seconds; 0 or undefined = current time */
  now?: number
  /** undefined or null: not given (the configuration's leeway); 0 is an explicit 0 */
  leewaySeconds?: number | null
  /** JSON array [{"component":..,"public_key":..}] */
  serviceChainJson?: string | null
  component?: string | null
}

/** HESSRA_LEEWAY_UNSET of hessra_ffi.h */
const HESSRA_LEEWAY_UNSET = -1

function nativeRequest(r: VerifyRequest): Record<string, unknown> {
  return {
    subject: r.subject ?? null,
    resource: r.resource,
    operation: r.operation ?? null,
    domain: r.domain ?? null,
    prefix: r.prefix ?? null,
    now: Math.trunc(r.now ?? 0),
    leeway_seconds: r.leewaySeconds === undefined || r.leewaySeconds === null ? HESSRA_LEEWAY_UNSET : Math.trunc(r.leewaySeconds),
    service_chain_json: r.serviceChainJson ?? null,
    component: r.component ?? null,
  }
}

/** Mirrors HessraMintRequest. */
export interface MintRequest {
  subject: string
  resource: string
  /** One operation, or several (each granted by its own right fact). */
  operation: string | readonly string[]
  /** unix seconds; 0/undefined: no time bound */
  expiresAt?: number
  domain?: string | null
  /** JSON array [{"component":..,"public_key":..}] */
  serviceNodesJson?: string | null
  /** undefined or < 0: none */
  rootKeyId?: number
  /** {"multi_party":[{"namespace","public_key"}],"prefix_key":..}: hessra_token_mint_hessra_restricted */
  restrictionsJson?: string | null
}

/**
 * The verifier (hessra_verify): the outcome JSON whenever the token could be judged (valid or not), with
 * the result code and the reason; throws for problems that are not about the token (configuration,
 * parameters).
 */
export function verify(
  config: Config | null,
  key: PublicKey | null,
  keyId: string | null,
  token: Uint8Array,
  request: VerifyRequest,
): {code: number; json: string; message: string | null} {
  const out: unknown[] = [null]
  const err: ErrorOut = {}
  const code = fn('hessra_verify')(config?.ptr ?? null, key?.ptr ?? null, keyId, token, token.length, nativeRequest(request), out, err) as number
  const message = takeErrorMessage(err)
  const json = takeString(out[0])
  if (json === null) fail(code === NativeCode.SUCCESS ? NativeCode.INTERNAL : code, message, 'verify')
  return {code, json, message}
}

export function mintToken(root: KeyPair, datalog: string, paramsJson?: string | null, rootKeyId?: number | null): string {
  return callStringWithError('hessra_token_mint', [root.ptr, datalog, paramsJson ?? null, rootKeyId ?? -1])
}

/** Mints the Hessra token shape. */
export function mintHessraToken(root: KeyPair, r: MintRequest): string {
  const several = typeof r.operation !== 'string'
  const req = {
    subject: r.subject,
    resource: r.resource,
    operation: several ? null : r.operation,
    operations_json: several ? JSON.stringify(r.operation) : null,
    expires_at: Math.trunc(r.expiresAt ?? 0),
    domain: r.domain ?? null,
    service_nodes_json: r.serviceNodesJson ?? null,
    root_key_id: r.rootKeyId ?? -1,
  }
  if (r.restrictionsJson) return callStringWithError('hessra_token_mint_hessra_restricted', [root.ptr, req, r.restrictionsJson])
  return callStringWithError('hessra_token_mint_hessra', [root.ptr, req])
}

/** Signs a third-party block for a request with a node's key (returns the block, base64url). */
export function createThirdPartyBlock(request: string, node: KeyPair, datalog: string, paramsJson?: string | null): string {
  return callStringWithError('hessra_third_party_block_create', [request, node.ptr, datalog, paramsJson ?? null])
}

// ---------------------------------------------------------------------------------------------
// Identity tokens
// ---------------------------------------------------------------------------------------------

/** HessraIdentityActor of hessra_ffi.h. */
export const IdentityActor = {GIVEN: 0, BEARER: 1, DELEGATED: 2} as const

/** Mirrors HessraIdentityRequest. */
export interface IdentityRequest {
  /** `given` needs `identity`; `bearer`: the token's subject; `delegated`: its narrowest delegated identity. */
  actor: 'given' | 'bearer' | 'delegated'
  identity?: string | null
  domain?: string | null
  subjectInDomain?: boolean
  /** unix seconds; 0 or undefined = current time */
  now?: number
  /** undefined or null: the configuration's leeway; 0 is an explicit 0 */
  leewaySeconds?: number | null
}

/** The verifier for identity tokens (hessra_identity_verify): as verify(). */
export function verifyIdentity(
  config: Config | null,
  key: PublicKey | null,
  keyId: string | null,
  token: Uint8Array,
  request: IdentityRequest,
): {code: number; json: string; message: string | null} {
  const req = {
    actor: request.actor === 'given' ? IdentityActor.GIVEN : request.actor === 'bearer' ? IdentityActor.BEARER : IdentityActor.DELEGATED,
    identity: request.identity ?? null,
    domain: request.domain ?? null,
    subject_in_domain: request.subjectInDomain ? 1 : 0,
    now: Math.trunc(request.now ?? 0),
    leeway_seconds: request.leewaySeconds === undefined || request.leewaySeconds === null ? HESSRA_LEEWAY_UNSET : Math.trunc(request.leewaySeconds),
  }
  const out: unknown[] = [null]
  const err: ErrorOut = {}
  const code = fn('hessra_identity_verify')(config?.ptr ?? null, key?.ptr ?? null, keyId, token, token.length, req, out, err) as number
  const message = takeErrorMessage(err)
  const json = takeString(out[0])
  if (json === null) fail(code === NativeCode.SUCCESS ? NativeCode.INTERNAL : code, message, 'verify')
  return {code, json, message}
}

/** Mirrors HessraIdentityMintRequest. */
export interface IdentityMintRequest {
  subject: string
  delegatable?: boolean
  domain?: string | null
  /** unix seconds, > 0 */
  expiresAt: number
  /** undefined, null or < 0: none */
  rootKeyId?: number | null
}

/** Mints an identity token (hessra_identity_mint). */
export function mintIdentity(root: KeyPair, r: IdentityMintRequest): string {
  const req = {
    subject: r.subject,
    delegatable: r.delegatable ? 1 : 0,
    domain: r.domain ?? null,
    expires_at: Math.trunc(r.expiresAt),
    root_key_id: r.rootKeyId ?? -1,
  }
  return callStringWithError('hessra_identity_mint', [root.ptr, req])
}
