/**
 * What every token function starts with: the token decoded (openToken) and the keys it needs (the
 * public key to verify with, a key pair to sign with), each disposed once used.
 */
import {type LoadedConfig} from '../config/index.js'
import {InvalidTokenError} from '../errors.js'
import {type TokenInput} from '../input/token.js'
import {choosePublicKey, loadKeyPair, type ResolvedPublicKey} from '../keys.js'
import {KeyPair, PublicKey, Token} from '../native/binding.js'

export type TokenLike = string | Uint8Array | TokenInput

export const NOT_A_TOKEN_HINT = 'check that the whole token was copied; `hessra inspect` shows what a token holds'

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

/** The public key for the functions that need the key itself (inspect, authorize, the dev kit). */
export function resolveKey(opts: KeyOptions, token: Token | null): ResolvedPublicKey & {owned: boolean} {
  if (opts.key instanceof PublicKey) return {key: opts.key, origin: 'argument', id: null, derivedFromPrivate: false, owned: false}
  const r = choosePublicKey({key: opts.key, keyId: opts.keyId, env: opts.env, loaded: opts.config, rootKeyId: token ? token.rootKeyId() : null})
  return {...r, owned: true}
}

/** Private key: a KeyPair, PEM/`ed25519-private/<hex>` text, or a path to a file holding one. */
export type PrivateKeyLike = KeyPair | string

/** Runs `f` with the key pair, disposing what was opened for it. */
export function withKeyPair<T>(k: PrivateKeyLike, what: string, f: (kp: KeyPair) => T): T {
  if (k instanceof KeyPair) return f(k)
  const kp = loadKeyPair(k, what)
  try {
    return f(kp)
  } finally {
    kp.dispose()
  }
}

/** Runs `f` with the decoded token, disposing it afterwards. */
export function withOpenToken<T>(token: TokenLike, f: (t: Token) => T): T {
  const t = openToken(token)
  try {
    return f(t)
  } finally {
    t.dispose()
  }
}

/** Runs `f` with the token's public key (resolveKey), disposing what was opened for it. */
export function withPublicKey<T>(opts: KeyOptions, token: Token, f: (key: PublicKey) => T): T {
  const k = resolveKey(opts, token)
  try {
    return f(k.key)
  } finally {
    if (k.owned) k.key.dispose()
  }
}
