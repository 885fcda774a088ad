/**
 * The engine's objects as JavaScript handles (token, public key, key pair, configuration). Each is a
 * NativeHandle: call dispose() (or use `using`) in hot paths; a FinalizationRegistry frees anything
 * forgotten.
 */
import {InternalError, NativeCode} from '../errors.js'
import {callHandle, callHandleWithError, callString, callStringWithError, fail, releaseOrphan, takeErrorMessage, takeString, type ErrorOut} from './calls.js'
import {fn} from './library.js'

type FreeName = 'hessra_token_free' | 'hessra_public_key_free' | 'hessra_keypair_free' | 'hessra_config_free'

interface Held {
  ptr: unknown
  free: FreeName
}

const registry = new FinalizationRegistry<Held>((held) => {
  try {
    fn(held.free)(held.ptr)
  } catch {
    // the process is going away or the library is gone: nothing to do
  }
})

const disposeSymbol: symbol = (Symbol as {dispose?: symbol}).dispose ?? Symbol.for('nodejs.dispose')

abstract class NativeHandle {
  #ptr: unknown
  readonly #free: FreeName

  protected constructor(ptr: unknown, free: FreeName) {
    this.#ptr = ptr
    this.#free = free
    registry.register(this, {ptr, free}, this)
  }

  /** The raw pointer; throws once disposed. */
  get ptr(): unknown {
    if (this.#ptr === null) throw new InternalError(`${this.constructor.name} used after dispose()`)
    return this.#ptr
  }

  get disposed(): boolean {
    return this.#ptr === null
  }

  /** Frees the native object now (idempotent). */
  dispose(): void {
    if (this.#ptr === null) return
    const ptr = this.#ptr
    this.#ptr = null
    registry.unregister(this)
    fn(this.#free)(ptr)
  }

  [Symbol.dispose](): void {
    this.dispose()
  }
}
// `using` support on runtimes where Symbol.dispose is only the well-known fallback
if (disposeSymbol !== Symbol.dispose) {
  Object.defineProperty(NativeHandle.prototype, disposeSymbol, {value(this: NativeHandle) { this.dispose() }})
}

export type Algorithm = 'ed25519' | 'secp256r1'
const ALGORITHMS: Algorithm[] = ['ed25519', 'secp256r1']

export function algorithmCode(alg: Algorithm): number {
  const i = ALGORITHMS.indexOf(alg)
  if (i < 0) throw new InternalError(`unknown algorithm ${alg}`)
  return i
}

export class PublicKey extends NativeHandle {
  private constructor(ptr: unknown) {
    super(ptr, 'hessra_public_key_free')
  }

  /** PEM SubjectPublicKeyInfo, "ed25519/<hex>", "secp256r1/<hex>" or bare 32-byte hex. */
  static fromString(text: string): PublicKey {
    return new PublicKey(callHandle('hessra_public_key_from_string', [text], 'public key'))
  }

  static fromFile(path: string): PublicKey {
    return new PublicKey(callHandle('hessra_public_key_from_file', [path], `public key file ${path}`))
  }

  /** @internal */
  static adopt(ptr: unknown): PublicKey {
    return new PublicKey(ptr)
  }

  /** "ed25519/<hex>" or "secp256r1/<hex>" (compressed). */
  toText(): string {
    return callString('hessra_public_key_to_string', [this.ptr])
  }

  toPem(): string {
    return callString('hessra_public_key_to_pem', [this.ptr])
  }

  get algorithm(): Algorithm {
    const a = fn('hessra_public_key_algorithm')(this.ptr) as number
    return ALGORITHMS[a] ?? 'ed25519'
  }
}

export class KeyPair extends NativeHandle {
  private constructor(ptr: unknown) {
    super(ptr, 'hessra_keypair_free')
  }

  static generate(algorithm: Algorithm = 'ed25519'): KeyPair {
    return new KeyPair(callHandle('hessra_keypair_generate', [algorithmCode(algorithm)]))
  }

  /** PEM PKCS#8, "ed25519-private/<hex>" or "secp256r1-private/<hex>". */
  static fromString(text: string): KeyPair {
    return new KeyPair(callHandle('hessra_keypair_from_string', [text], 'private key'))
  }

  static fromFile(path: string): KeyPair {
    return new KeyPair(callHandle('hessra_keypair_from_file', [path], `private key file ${path}`))
  }

  /** PEM PKCS#8 ("BEGIN PRIVATE KEY"). A secret: do not log it. */
  toPem(): string {
    return callString('hessra_keypair_to_pem', [this.ptr])
  }

  publicKey(): PublicKey {
    return PublicKey.adopt(callHandle('hessra_keypair_public_key', [this.ptr]))
  }
}

export class Config extends NativeHandle {
  private constructor(ptr: unknown) {
    super(ptr, 'hessra_config_free')
  }

  static empty(): Config {
    return new Config(callHandle('hessra_config_new', []))
  }

  /** Parses the JSON configuration format; errors name the offending field. */
  static fromString(json: string): Config {
    return new Config(callHandleWithError('hessra_config_from_string_with_error', 'hessra_config_from_string', [json], 'configuration'))
  }

  /** Reads the JSON configuration format from a file; errors name the offending field. */
  static fromFile(path: string): Config {
    return new Config(callHandleWithError('hessra_config_from_file_with_error', 'hessra_config_from_file', [path], `configuration file ${path}`))
  }

  /**
   * As fromString, every public_key_file and revocation_file the configuration names held to the trust
   * rule (a regular file owned by one of `owners`, not writable by group or others): the configuration,
   * or its first problem as data ({field, message, code}) as check() gives it.
   */
  static fromStringTrusted(json: string, owners: readonly number[]): {config: Config} | {problem: {field: string; message: string; code: number}} {
    const out: unknown[] = [null]
    const problemOut: unknown[] = [null]
    const code = fn('hessra_config_from_string_trusted')(json, Uint32Array.from(owners), owners.length, out, problemOut) as number
    const problem = takeString(problemOut[0])
    if (code === NativeCode.SUCCESS && out[0]) return {config: new Config(out[0])}
    if (out[0]) releaseOrphan('hessra_config_from_string_trusted', out[0])
    if (problem === null) fail(code, null, 'configuration')
    return {problem: {...(JSON.parse(problem) as {field: string; message: string}), code}}
  }

  /** The configuration's first problem as data ({field, message}; field "" for the document), or null when usable. */
  static check(json: string): {field: string; message: string; code: number} | null {
    const out: unknown[] = [null]
    const code = fn('hessra_config_check')(json, out) as number
    const problem = takeString(out[0])
    if (code === NativeCode.SUCCESS) return null
    if (problem === null) fail(code, null, 'configuration')
    return {...(JSON.parse(problem) as {field: string; message: string}), code}
  }

  setPublicKey(id: string, key: PublicKey): void {
    const code = fn('hessra_config_set_public_key')(this.ptr, id, key.ptr) as number
    if (code !== NativeCode.SUCCESS) fail(code, null)
  }

  getPublicKey(id: string): PublicKey {
    return PublicKey.adopt(callHandle('hessra_config_get_public_key', [this.ptr, id], `key "${id}"`))
  }

  /** The key the verifier would use: keyId's, else the one for the token's root key id, else the default key. */
  selectKey(rootKeyId: number | null, keyId: string | null): {key: PublicKey; id: string | null} {
    const out: unknown[] = [null]
    const outId: unknown[] = [null]
    const err: ErrorOut = {}
    const code = fn('hessra_config_select_key')(this.ptr, rootKeyId ?? -1, keyId, out, outId, err) as number
    const message = takeErrorMessage(err)
    const id = takeString(outId[0])
    if (code !== NativeCode.SUCCESS) fail(code, message, 'key')
    return {key: PublicKey.adopt(out[0]), id}
  }

  /** The engine's summary of the configuration (JSON text). */
  describe(): string {
    return callString('hessra_config_describe', [this.ptr])
  }

  /** Counters of the verification cache (uint64 counters as numbers). */
  cacheStats(): CacheStats {
    const out: Record<string, unknown> = {}
    const code = fn('hessra_config_cache_stats')(this.ptr, out) as number
    if (code !== NativeCode.SUCCESS) fail(code, null)
    const n = (v: unknown): number => Number(v)
    return {
      verifications: n(out.verifications),
      cacheHits: n(out.cache_hits),
      cacheMisses: n(out.cache_misses),
      cacheEntries: n(out.cache_entries),
      cacheCapacity: n(out.cache_capacity),
    }
  }
}

export interface CacheStats {
  /** verify calls made with this configuration */
  verifications: number
  /** signature checks skipped thanks to the cache */
  cacheHits: number
  cacheMisses: number
  cacheEntries: number
  cacheCapacity: number
}

export class Token extends NativeHandle {
  private constructor(ptr: unknown) {
    super(ptr, 'hessra_token_free')
  }

  /** Decodes base64url text (signatures are checked later, by every verify/authorize call). */
  static parse(text: string): Token {
    return new Token(callHandleWithError('hessra_token_parse_with_error', 'hessra_token_parse', [text], 'token'))
  }

  /** Decodes raw protobuf bytes (or base64 text passed as bytes). */
  static parseBytes(bytes: Uint8Array): Token {
    return new Token(callHandle('hessra_token_parse_bytes', [bytes, bytes.length], 'token'))
  }

  /** The token as URL-safe base64 with padding. */
  toBase64(): string {
    return callString('hessra_token_to_string', [this.ptr])
  }

  /** The root key id stored in the token, or null. */
  rootKeyId(): number | null {
    const v = fn('hessra_token_root_key_id')(this.ptr) as number | bigint
    const n = Number(v)
    return n < 0 ? null : n
  }

  /**
   * General Biscuit authorization. Returns the engine's result JSON when the signatures were valid
   * (whether authorized or not), else throws.
   */
  authorize(key: PublicKey, authorizerDatalog: string): {code: number; json: string; message: string | null} {
    const out: unknown[] = [null]
    const err: ErrorOut = {}
    const code = fn('hessra_token_authorize')(this.ptr, key.ptr, authorizerDatalog, out, err) as number
    const message = takeErrorMessage(err)
    const json = takeString(out[0])
    if (json === null) fail(code === NativeCode.SUCCESS ? NativeCode.INTERNAL : code, message, 'authorizer')
    return {code, json, message}
  }

  /** Decodes without checking signatures (JSON text). */
  inspect(): string {
    return callString('hessra_token_inspect', [this.ptr])
  }

  /** Decodes after checking every signature with the root key (JSON text). */
  inspectVerified(key: PublicKey): string {
    return callStringWithError('hessra_token_inspect_verified_with_error', [this.ptr, key.ptr])
  }

  attenuate(rootKey: PublicKey, blockDatalog: string, paramsJson?: string | null): string {
    return callStringWithError('hessra_token_attenuate', [this.ptr, rootKey.ptr, blockDatalog, paramsJson ?? null])
  }

  thirdPartyRequest(): string {
    return callString('hessra_token_third_party_request', [this.ptr])
  }

  appendThirdParty(rootKey: PublicKey, block: string): string {
    return callStringWithError('hessra_token_append_third_party', [this.ptr, rootKey.ptr, block])
  }

  attest(rootKey: PublicKey, node: KeyPair, resource?: string | null): string {
    return callStringWithError('hessra_token_attest', [this.ptr, rootKey.ptr, node.ptr, resource ?? null])
  }

  seal(rootKey: PublicKey): string {
    return callStringWithError('hessra_token_seal', [this.ptr, rootKey.ptr])
  }

  /** A party's attestation `namespace(NS)` (hessra_token_attest_namespace). */
  attestNamespace(rootKey: PublicKey, party: KeyPair, namespace: string): string {
    return callStringWithError('hessra_token_attest_namespace', [this.ptr, rootKey.ptr, party.ptr, namespace])
  }

  /** The prefix attenuator's block `check if prefix(P); prefix_added(true);` (hessra_token_restrict_prefix). */
  restrictPrefix(rootKey: PublicKey, prefixKey: KeyPair, prefix: string): string {
    return callStringWithError('hessra_token_restrict_prefix', [this.ptr, rootKey.ptr, prefixKey.ptr, prefix])
  }

  /** Identity tokens: delegates to `identity` until expiresAt (hessra_identity_delegate). */
  delegateIdentity(rootKey: PublicKey, identity: string, expiresAt: number): string {
    return callStringWithError('hessra_identity_delegate', [this.ptr, rootKey.ptr, identity, Math.trunc(expiresAt)])
  }

  /** Identity tokens: limits the token to expiresAt (hessra_identity_jit). */
  jitIdentity(rootKey: PublicKey, expiresAt: number): string {
    return callStringWithError('hessra_identity_jit', [this.ptr, rootKey.ptr, Math.trunc(expiresAt)])
  }
}
