/** Identity tokens: verification (hessra_identity_verify), minting, delegation and just-in-time tokens. */
import {type ErrorKind, UsageError} from '../errors.js'
import {nowSeconds} from '../input/time.js'
import {mintIdentity as nativeMintIdentity, verifyIdentity as nativeVerifyIdentity} from '../native/binding.js'
import {tokenKind, type Classification} from './inspect.js'
import {withKeyPair, withOpenToken, withPublicKey, type KeyOptions, type PrivateKeyLike, type TokenLike} from './open.js'
import {engineOutcome, memoFor, tokenBytes, verdict, withGivenKey, type FailedCheck, type VerifyStatus} from './verify.js'

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
