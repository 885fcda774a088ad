/**
 * The playground's JSON endpoints: each one turns a request body into ONE call of the library API
 * (inspectToken, verifyToken, authorize, attenuateToken) and returns what the engine answered. Nothing
 * here decides whether a token is good; it only checks the shape of the body and marshals.
 */
import {type LoadedConfig} from '../config/index.js'
import {HessraError, InvalidKeyError, UsageError} from '../errors.js'
import {normalizeTokenText} from '../input/token.js'
import {isoDate, nowSeconds, parseAt, parseTtl, relativeTime} from '../input/time.js'
import {classifyKeyText} from '../keys.js'
import {authorize, authorizerAt, type AuthorizeResult} from '../tokens/authorize.js'
import {attenuateToken, attenuationDatalog} from '../tokens/devkit.js'
import {requestedKind, verifyIdentityToken, type IdentityVerifyResult} from '../tokens/identity.js'
import {inspectToken, type InspectResult} from '../tokens/inspect.js'
import {type KeyOptions} from '../tokens/open.js'
import {verifyToken, type VerifyResult} from '../tokens/verify.js'

export interface PlaygroundContext {
  /** The configuration the CLI loaded (keys by id, domain, service chains, leeway). */
  config: LoadedConfig
  /** Environment for the key fallback (HESSRA_PUBLIC_KEY), as for the CLI. */
  env?: NodeJS.ProcessEnv
  /** The clock (unix seconds); injectable for tests. */
  now?: () => number
}

/** A request body: a JSON object whose fields are read with the helpers below. */
type Body = Record<string, unknown>

function text(body: Body, field: string): string | undefined {
  const v = body[field]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw new UsageError(`"${field}" must be a string`)
  const t = v.trim()
  return t === '' ? undefined : t
}

/** The pasted token, in any text form the CLI accepts (whitespace, line wraps, a `Bearer ` prefix). */
function token(body: Body): string {
  const raw = typeof body.token === 'string' ? normalizeTokenText(body.token) : ''
  if (raw === '') throw new UsageError('paste a token first')
  return raw
}

/**
 * The key: pasted key text, a configuration key id, or neither (then HESSRA_PUBLIC_KEY, then the
 * configuration, as for the CLI). Pasted text must be a key: the library would read a file named by an
 * unknown string, which a web page has no business asking for.
 */
function keyOptions(body: Body, ctx: PlaygroundContext): KeyOptions {
  const key = text(body, 'key')
  const keyId = text(body, 'keyId')
  if (key !== undefined && classifyKeyText(key) === 'unknown') {
    throw new InvalidKeyError('the key pasted is not a key (expected PEM, ed25519/<hex> or secp256r1/<hex>)')
  }
  return {key, keyId: key === undefined ? keyId : undefined, config: ctx.config, env: ctx.env ?? process.env}
}

function at(body: Body, ctx: PlaygroundContext): number {
  const now = (ctx.now ?? nowSeconds)()
  const given = text(body, 'at')
  return given === undefined ? now : parseAt(given, now)
}

/** When the token stops working, seen from the time it was checked at. */
export interface Expiry {
  at: number | null
  rfc3339: string | null
  /** "in 59 minutes", "3 hours ago": relative to the time checked. */
  relative: string | null
}

function expiry(expiresAt: number | null, checkedAt: number): Expiry {
  if (expiresAt === null) return {at: null, rfc3339: null, relative: null}
  return {at: expiresAt, rfc3339: isoDate(expiresAt), relative: relativeTime(expiresAt, checkedAt)}
}

export interface InspectResponse {
  /** The decoded token (signatures not checked: the verdict comes from verify). */
  inspect: InspectResult
  /** The token's earliest time bound (the engine's `expires_at`) from now: what it claims until verified. */
  tokenExpiry: Expiry
  /**
   * Whether the signatures were checked and verify with the key: false for a decode alone, and for a
   * token whose signatures do not verify (the engine sets the outcome's token kind only once they do).
   */
  signaturesVerified: boolean
}

/** The decoded token for a response: its blocks, and its claimed expiry relative to now. */
function decoded(t: string, ctx: PlaygroundContext, signaturesVerified: boolean): InspectResponse {
  const inspect = inspectToken(t)
  return {inspect, tokenExpiry: expiry(inspect.expires_at, (ctx.now ?? nowSeconds)()), signaturesVerified}
}

export function inspectEndpoint(body: Body, ctx: PlaygroundContext): InspectResponse {
  return decoded(token(body), ctx, false)
}

export interface VerifyResponse extends InspectResponse {
  /** The engine's outcome, as `hessra verify` gets it (for an identity token, as `verify --identity`). */
  outcome: VerifyResult | IdentityVerifyResult
  checkedAtRfc3339: string
  /** The outcome's bound (null without one, or when the signatures did not verify: claims are not facts). */
  expiry: Expiry
}

export function verifyEndpoint(body: Body, ctx: PlaygroundContext): VerifyResponse {
  const t = token(body)
  const checkedAt = at(body, ctx)
  const request = {identity: text(body, 'identity'), subject: text(body, 'subject'), resource: text(body, 'resource')}
  const outcome =
    requestedKind(request, t) === 'identity'
      ? verifyIdentityToken(t, {...keyOptions(body, ctx), identity: request.identity ?? null, at: checkedAt})
      : verifyToken(t, {
          ...keyOptions(body, ctx),
          subject: request.subject ?? null,
          resource: request.resource ?? '',
          operation: text(body, 'operation') ?? null,
          at: checkedAt,
        })
  return {
    ...decoded(t, ctx, outcome.tokenKind !== null),
    outcome,
    checkedAtRfc3339: isoDate(outcome.checkedAt),
    expiry: expiry(outcome.expiresAt, outcome.checkedAt),
  }
}

export interface AuthorizeResponse extends InspectResponse {
  result: AuthorizeResult
  /** The authorizer exactly as run: the one written, after the time(…) fact. */
  authorizer: string
}

/**
 * Runs the authorizer written with the fact time(AT): "Verify as of", else now. Hessra tokens carry
 * `check if time($t), …`, which fails without a time fact (it did, for the page's own default authorizer).
 */
export function authorizeEndpoint(body: Body, ctx: PlaygroundContext): AuthorizeResponse {
  const t = token(body)
  const policy = text(body, 'authorizer')
  if (policy === undefined) throw new UsageError('write an authorizer first (facts, checks, and an allow policy)')
  const code = authorizerAt(policy, at(body, ctx))
  const result = authorize(t, {...keyOptions(body, ctx), authorizer: code})
  return {...decoded(t, ctx, result.error?.kind !== 'signature'), result, authorizer: code}
}

export interface AttenuateResponse {
  token: string
  /** The Datalog of the block appended. */
  block: string
}

export function attenuateEndpoint(body: Body, ctx: PlaygroundContext): AttenuateResponse {
  const t = token(body)
  const ttl = text(body, 'ttl')
  const checks = (text(body, 'checks') ?? '').split('\n')
  const block = attenuationDatalog({expiresAt: ttl === undefined ? null : parseTtl(ttl, (ctx.now ?? nowSeconds)()), checks})
  return {token: attenuateToken(t, {...keyOptions(body, ctx), datalog: block}), block}
}

export interface KeysResponse {
  /** Where the configuration came from, or null without one. */
  configPath: string | null
  keys: {id: string; default: boolean}[]
}

export function keysEndpoint(ctx: PlaygroundContext): KeysResponse {
  const cfg = ctx.config.config
  const keys = (cfg?.keys ?? []).map((k) => ({id: k.id, default: cfg?.default_key === k.id}))
  return {configPath: ctx.config.filepath, keys}
}

export type Endpoint = (body: Body, ctx: PlaygroundContext) => unknown

/** The POST endpoints by name (the path after /SECRET/api/). */
export const POST_ENDPOINTS: Record<string, Endpoint> = {
  inspect: inspectEndpoint,
  verify: verifyEndpoint,
  authorize: authorizeEndpoint,
  attenuate: attenuateEndpoint,
}

/** True for the errors that describe the request (bad token, key, Datalog, time): answered 400/422, not 500. */
export function isRequestError(error: unknown): error is HessraError {
  return error instanceof HessraError && error.kind !== 'internal' && error.kind !== 'environment' && error.kind !== 'native_library_missing'
}
