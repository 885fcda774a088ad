/**
 * The ONE module that talks to libhessra_ffi through koffi (see native/include/hessra_ffi.h).
 *
 * Everything else uses the typed wrappers exported here. Ownership rules:
 *  - every handle (token, public key, key pair, config) is a NativeHandle: call dispose() (or use
 *    `using`) in hot paths; a FinalizationRegistry frees anything forgotten;
 *  - every `char*` the library hands out is copied into a JS string and freed immediately
 *    (hessra_string_free / hessra_error_free), so no native string outlives the call that made it.
 *
 * The library is loaded lazily, on first use, from $HESSRA_FFI_LIB when set, else from the first of
 * these that loads: the engine prebuilt for this platform that a packaged release ships
 * (<package root>/prebuilt/<platform>/, see platformTag()), then a local build
 * (<package root>/native/target/release/). Functions are bound one by one on first use, so a
 * partially implemented library still serves what it exports.
 */
import koffi from 'koffi'
import {existsSync} from 'node:fs'
import {dirname, isAbsolute, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {errorFromNative, ExitCode, HessraError, InternalError, NativeCode, NativeLibraryMissingError} from '../errors.js'

// ---------------------------------------------------------------------------------------------
// Library location and loading
// ---------------------------------------------------------------------------------------------

/** The package root (the folder holding package.json), from dist/native/binding.js or src/native/binding.ts. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'native'))) return dir
    const up = dirname(dir)
    if (up === dir) break
    dir = up
  }
  // dist/native/binding.js -> two levels up
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
}

function libraryFileName(): string {
  if (process.platform === 'darwin') return 'libhessra_ffi.dylib'
  if (process.platform === 'win32') return 'hessra_ffi.dll'
  return 'libhessra_ffi.so'
}

/**
 * This platform as named under prebuilt/: `<os>-<arch>`, plus `-gnu` or `-musl` on Linux, since a
 * library built against glibc does not load on musl. `npm run package` (scripts/package.sh) names
 * what it ships the same way.
 */
export function platformTag(): string {
  const base = `${process.platform}-${process.arch}`
  if (process.platform !== 'linux') return base
  const header = (process.report?.getReport() as {header?: {glibcVersionRuntime?: string}} | undefined)?.header
  return `${base}-${header?.glibcVersionRuntime ? 'gnu' : 'musl'}`
}

/** The engine shipped prebuilt for this platform (a packaged release), else null. */
function prebuiltDir(root = packageRoot()): string | null {
  const dir = join(root, 'prebuilt', platformTag())
  return existsSync(dir) ? dir : null
}

function localBuildDir(root = packageRoot()): string {
  return join(root, 'native', 'target', 'release')
}

/** The libraries to try, in order: $HESSRA_FFI_LIB alone when set, else the prebuilt one, then a local build. */
function libraryCandidates(): string[] {
  const env = process.env.HESSRA_FFI_LIB
  if (env && env.trim() !== '') return [isAbsolute(env) ? env : resolve(process.cwd(), env)]
  const prebuilt = prebuiltDir()
  return [...(prebuilt ? [join(prebuilt, libraryFileName())] : []), join(localBuildDir(), libraryFileName())]
}

/** The native library in use (once loaded), else the first candidate that exists, else the local build's path. */
export function libraryPath(): string {
  if (libPath) return libPath
  const candidates = libraryCandidates()
  return candidates.find((c) => existsSync(c)) ?? candidates.at(-1)!
}

/**
 * The engine's static library and the folder holding its header, for building the PostgreSQL
 * extension (pg-plugin/Makefile's NATIVE_LIB and NATIVE_DIR): the prebuilt one when this platform
 * has it, else the local build's (which `make` builds with cargo when missing).
 */
export function engineStaticLibrary(root = packageRoot()): {path: string; prebuilt: boolean} {
  const prebuilt = prebuiltDir(root)
  if (prebuilt && existsSync(join(prebuilt, 'libhessra_ffi.a'))) return {path: join(prebuilt, 'libhessra_ffi.a'), prebuilt: true}
  return {path: join(localBuildDir(root), 'libhessra_ffi.a'), prebuilt: false}
}

/** What to do when no library loads: how to build one from the sources shipped in the package. */
function buildHint(): string {
  const root = packageRoot()
  const prebuilt = prebuiltDir(root)
  const chosen = process.env.HESSRA_FFI_LIB?.trim()
  if (chosen && prebuilt) return `unset HESSRA_FFI_LIB to use the engine this package ships for ${platformTag()} (${join(prebuilt, libraryFileName())}), or point it at a libhessra_ffi that loads`
  const shipped = prebuilt
    ? ` (the engine this package ships for ${platformTag()} did not load)`
    : existsSync(join(root, 'prebuilt'))
      ? ` (this package ships a prebuilt engine only for other platforms than ${platformTag()})`
      : ''
  return (
    `build the engine from source${shipped}: \`cd ${root} && npm run build:native\` ` +
    '(needs Rust/cargo, a C compiler, libssl-dev and libpcre2-dev; see README "Install"), ' +
    'or set HESSRA_FFI_LIB to a libhessra_ffi built elsewhere'
  )
}

// Types are registered once per process (koffi names are global).
const TokenT = koffi.pointer('HessraToken', koffi.opaque('HessraToken_s'))
const PublicKeyT = koffi.pointer('HessraPublicKey', koffi.opaque('HessraPublicKey_s'))
const ConfigT = koffi.pointer('HessraConfig', koffi.opaque('HessraConfig_s'))
const KeyPairT = koffi.pointer('HessraKeyPair', koffi.opaque('HessraKeyPair_s'))
koffi.struct('HessraError', {code: 'int', message: 'void *'})
koffi.struct('HessraVerifyRequest', {
  subject: 'const char *',
  resource: 'const char *',
  operation: 'const char *',
  domain: 'const char *',
  prefix: 'const char *',
  now: 'int64_t',
  leeway_seconds: 'int64_t',
  service_chain_json: 'const char *',
  component: 'const char *',
})
koffi.struct('HessraMintRequest', {
  subject: 'const char *',
  resource: 'const char *',
  operation: 'const char *',
  expires_at: 'int64_t',
  domain: 'const char *',
  service_nodes_json: 'const char *',
  root_key_id: 'int64_t',
  operations_json: 'const char *',
})
koffi.struct('HessraIdentityRequest', {
  actor: 'int',
  identity: 'const char *',
  domain: 'const char *',
  subject_in_domain: 'int',
  now: 'int64_t',
  leeway_seconds: 'int64_t',
})
koffi.struct('HessraIdentityMintRequest', {
  subject: 'const char *',
  delegatable: 'int',
  domain: 'const char *',
  expires_at: 'int64_t',
  root_key_id: 'int64_t',
})
koffi.struct('HessraCacheStats', {
  verifications: 'uint64_t',
  cache_hits: 'uint64_t',
  cache_misses: 'uint64_t',
  cache_entries: 'uint64_t',
  cache_capacity: 'uint64_t',
})
void TokenT
void PublicKeyT
void ConfigT
void KeyPairT

/**
 * C prototypes, as in hessra_ffi.h (char** outputs as void** so we can free them): the one copy on the
 * JavaScript side (koffi needs them as text). test/binding.test.ts checks them against the header.
 */
export const PROTOTYPES = {
  hessra_version: 'const char *hessra_version(void)',
  hessra_error_message: 'const char *hessra_error_message(int result)',
  hessra_error_free: 'void hessra_error_free(void *message)',
  hessra_string_free: 'void hessra_string_free(void *s)',

  hessra_token_parse: 'int hessra_token_parse(const char *token_string, _Out_ HessraToken *out_token)',
  hessra_token_parse_with_error:
    'int hessra_token_parse_with_error(const char *token_string, _Out_ HessraToken *out_token, _Out_ HessraError *out_error)',
  hessra_token_parse_bytes: 'int hessra_token_parse_bytes(const uint8_t *data, size_t len, _Out_ HessraToken *out_token)',
  hessra_token_free: 'void hessra_token_free(HessraToken token)',
  hessra_token_verify: 'int hessra_token_verify(HessraToken token, HessraPublicKey key, const char *subject, const char *resource)',
  hessra_token_verify_operation:
    'int hessra_token_verify_operation(HessraToken token, HessraPublicKey key, const char *subject, const char *resource, const char *operation)',
  hessra_verify:
    'int hessra_verify(HessraConfig config, HessraPublicKey key, const char *key_id, const uint8_t *token, size_t token_len, const HessraVerifyRequest *request, _Out_ void **out_json, _Out_ HessraError *out_error)',
  hessra_token_authorize:
    'int hessra_token_authorize(HessraToken token, HessraPublicKey key, const char *authorizer, _Out_ void **out_json, _Out_ HessraError *out_error)',
  hessra_token_inspect: 'int hessra_token_inspect(HessraToken token, _Out_ void **out_json)',
  hessra_token_inspect_verified: 'int hessra_token_inspect_verified(HessraToken token, HessraPublicKey key, _Out_ void **out_json)',
  hessra_token_inspect_verified_with_error:
    'int hessra_token_inspect_verified_with_error(HessraToken token, HessraPublicKey key, _Out_ void **out_json, _Out_ HessraError *out_error)',
  hessra_token_to_string: 'int hessra_token_to_string(HessraToken token, _Out_ void **out)',
  hessra_token_root_key_id: 'int64_t hessra_token_root_key_id(HessraToken token)',

  hessra_public_key_from_string: 'int hessra_public_key_from_string(const char *key, _Out_ HessraPublicKey *out_key)',
  hessra_public_key_from_file: 'int hessra_public_key_from_file(const char *path, _Out_ HessraPublicKey *out_key)',
  hessra_public_key_free: 'void hessra_public_key_free(HessraPublicKey key)',
  hessra_public_key_to_string: 'int hessra_public_key_to_string(HessraPublicKey key, _Out_ void **out)',
  hessra_public_key_to_pem: 'int hessra_public_key_to_pem(HessraPublicKey key, _Out_ void **out)',
  hessra_public_key_algorithm: 'int hessra_public_key_algorithm(HessraPublicKey key)',

  hessra_keypair_generate: 'int hessra_keypair_generate(int algorithm, _Out_ HessraKeyPair *out)',
  hessra_keypair_from_string: 'int hessra_keypair_from_string(const char *private_key, _Out_ HessraKeyPair *out)',
  hessra_keypair_from_file: 'int hessra_keypair_from_file(const char *path, _Out_ HessraKeyPair *out)',
  hessra_keypair_to_pem: 'int hessra_keypair_to_pem(HessraKeyPair kp, _Out_ void **out)',
  hessra_keypair_public_key: 'int hessra_keypair_public_key(HessraKeyPair kp, _Out_ HessraPublicKey *out)',
  hessra_keypair_free: 'void hessra_keypair_free(HessraKeyPair kp)',

  hessra_config_new: 'int hessra_config_new(_Out_ HessraConfig *out)',
  hessra_config_from_file: 'int hessra_config_from_file(const char *path, _Out_ HessraConfig *out)',
  hessra_config_from_string: 'int hessra_config_from_string(const char *json, _Out_ HessraConfig *out)',
  hessra_config_from_file_with_error:
    'int hessra_config_from_file_with_error(const char *path, _Out_ HessraConfig *out, _Out_ HessraError *out_error)',
  hessra_config_from_string_with_error:
    'int hessra_config_from_string_with_error(const char *json, _Out_ HessraConfig *out, _Out_ HessraError *out_error)',
  hessra_config_set_public_key: 'int hessra_config_set_public_key(HessraConfig config, const char *key_id, HessraPublicKey key)',
  hessra_config_get_public_key: 'int hessra_config_get_public_key(HessraConfig config, const char *key_id, _Out_ HessraPublicKey *out)',
  hessra_config_describe: 'int hessra_config_describe(HessraConfig config, _Out_ void **out_json)',
  hessra_config_check: 'int hessra_config_check(const char *json, _Out_ void **out_problem_json)',
  hessra_config_from_string_trusted:
    'int hessra_config_from_string_trusted(const char *json, const uint32_t *owner_uids, size_t owner_count, _Out_ HessraConfig *out, _Out_ void **out_problem_json)',
  hessra_trusted_file_read:
    'int hessra_trusted_file_read(const char *path, const uint32_t *owner_uids, size_t owner_count, uint64_t max_bytes, _Out_ void **out_text, _Out_ HessraError *out_error)',
  hessra_config_select_key:
    'int hessra_config_select_key(HessraConfig config, int64_t root_key_id, const char *key_id, _Out_ HessraPublicKey *out_key, _Out_ void **out_key_id, _Out_ HessraError *out_error)',
  hessra_config_cache_stats: 'int hessra_config_cache_stats(HessraConfig config, _Out_ HessraCacheStats *out_stats)',
  hessra_config_set_cache_size: 'int hessra_config_set_cache_size(HessraConfig config, size_t capacity)',
  hessra_config_verify_token_string:
    'int hessra_config_verify_token_string(HessraConfig config, const char *token_string, const HessraVerifyRequest *request, _Out_ HessraError *out_error)',
  hessra_config_free: 'void hessra_config_free(HessraConfig config)',

  hessra_token_mint:
    'int hessra_token_mint(HessraKeyPair kp, const char *datalog, const char *params_json, int64_t root_key_id, _Out_ void **out_token, _Out_ HessraError *out_error)',
  hessra_token_mint_hessra:
    'int hessra_token_mint_hessra(HessraKeyPair kp, const HessraMintRequest *request, _Out_ void **out_token, _Out_ HessraError *out_error)',
  hessra_token_attenuate:
    'int hessra_token_attenuate(HessraToken token, HessraPublicKey root_key, const char *datalog, const char *params_json, _Out_ void **out_token, _Out_ HessraError *out_error)',
  hessra_token_third_party_request: 'int hessra_token_third_party_request(HessraToken token, _Out_ void **out_request)',
  hessra_third_party_block_create:
    'int hessra_third_party_block_create(const char *request, HessraKeyPair node_kp, const char *datalog, const char *params_json, _Out_ void **out_block, _Out_ HessraError *out_error)',
  hessra_token_append_third_party:
    'int hessra_token_append_third_party(HessraToken token, HessraPublicKey root_key, const char *block, _Out_ void **out_token, _Out_ HessraError *out_error)',
  hessra_token_attest:
    'int hessra_token_attest(HessraToken token, HessraPublicKey root_key, HessraKeyPair node_kp, const char *resource, _Out_ void **out_token, _Out_ HessraError *out_error)',
  hessra_token_seal:
    'int hessra_token_seal(HessraToken token, HessraPublicKey root_key, _Out_ void **out_token, _Out_ HessraError *out_error)',

  hessra_token_mint_hessra_restricted:
    'int hessra_token_mint_hessra_restricted(HessraKeyPair kp, const HessraMintRequest *request, const char *restrictions_json, _Out_ void **out_token, _Out_ HessraError *out_error)',
  hessra_token_attest_namespace:
    'int hessra_token_attest_namespace(HessraToken token, HessraPublicKey root_key, HessraKeyPair party_kp, const char *namespace_, _Out_ void **out_token, _Out_ HessraError *out_error)',
  hessra_token_restrict_prefix:
    'int hessra_token_restrict_prefix(HessraToken token, HessraPublicKey root_key, HessraKeyPair prefix_kp, const char *prefix, _Out_ void **out_token, _Out_ HessraError *out_error)',
  // identity tokens
  hessra_identity_verify:
    'int hessra_identity_verify(HessraConfig config, HessraPublicKey key, const char *key_id, const uint8_t *token, size_t token_len, const HessraIdentityRequest *request, _Out_ void **out_json, _Out_ HessraError *out_error)',
  hessra_identity_mint:
    'int hessra_identity_mint(HessraKeyPair kp, const HessraIdentityMintRequest *request, _Out_ void **out_token, _Out_ HessraError *out_error)',
  hessra_identity_delegate:
    'int hessra_identity_delegate(HessraToken token, HessraPublicKey root_key, const char *identity, int64_t expires_at, _Out_ void **out_token, _Out_ HessraError *out_error)',
  hessra_identity_jit:
    'int hessra_identity_jit(HessraToken token, HessraPublicKey root_key, int64_t expires_at, _Out_ void **out_token, _Out_ HessraError *out_error)',
} as const

export type FnName = keyof typeof PROTOTYPES
export type NativeFn = (...args: unknown[]) => unknown

let lib: koffi.IKoffiLib | undefined
let libPath: string | undefined
let loadError: NativeLibraryMissingError | undefined
const bound = new Map<FnName, NativeFn>()

function library(): koffi.IKoffiLib {
  if (lib) return lib
  if (loadError) throw loadError
  const candidates = libraryCandidates()
  const failures: string[] = []
  const failed = (path: string, reason: string) => failures.push(candidates.length > 1 ? `${path}: ${reason}` : reason)
  for (const path of candidates) {
    if (!existsSync(path)) {
      failed(path, 'file not found')
      continue
    }
    try {
      lib = koffi.load(path)
      libPath = path
      return lib
    } catch (error) {
      // e.g. a prebuilt library needing a newer glibc: a local build may still do
      failed(path, error instanceof Error ? error.message.split('\n')[0] : String(error))
    }
  }
  loadError = new NativeLibraryMissingError(libraryPath(), failures.join('; '), buildHint())
  throw loadError
}

function fn(name: FnName): NativeFn {
  let f = bound.get(name)
  if (f) return f
  const l = library()
  try {
    f = l.func(PROTOTYPES[name]) as NativeFn
  } catch {
    throw new HessraError('native_library_missing', ExitCode.ENVIRONMENT, `the hessra native library at ${libraryPath()} does not provide ${name}`, {
      hint: 'it is older than this CLI: rebuild it with `npm run build:native`',
    })
  }
  bound.set(name, f)
  return f
}

/**
 * A C function bound with its prototype, called with raw arguments (handles as `.ptr`). Only for
 * callers that must measure or exercise the ABI itself (bench/); everything else uses the typed API.
 */
export function rawFunction(name: FnName): NativeFn {
  return fn(name)
}

/** True when the library loads (used by tests and `hessra --version`). */
export function isAvailable(): boolean {
  try {
    library()
    return true
  } catch {
    return false
  }
}

/** Throws NativeLibraryMissingError unless the library loads. */
export function ensureLoaded(): void {
  library()
}

export function version(): string {
  return fn('hessra_version')() as string
}

/**
 * A file's text read under the engine's trust rule for configuration files (hessra_trusted_file_read):
 * a regular file owned by one of `owners`, not writable by group or others, opened without blocking,
 * at most `maxBytes` bytes. Throws IoError (missing, unreadable, untrusted) or ConfigError (too large).
 */
export function readTrustedFile(path: string, owners: readonly number[], maxBytes: number): string {
  return callStringWithError('hessra_trusted_file_read', [path, Uint32Array.from(owners), owners.length, maxBytes], path)
}

export function nativeErrorText(code: number): string {
  return fn('hessra_error_message')(code) as string
}

// ---------------------------------------------------------------------------------------------
// Native strings and errors
// ---------------------------------------------------------------------------------------------

/** Copies a NUL-terminated string out of native memory and frees it with hessra_string_free. */
function takeString(ptr: unknown): string | null {
  if (ptr === null || ptr === undefined) return null
  try {
    return koffi.decode(ptr, 'char', -1) as string
  } finally {
    fn('hessra_string_free')(ptr)
  }
}

interface ErrorOut {
  code?: number
  message?: unknown
}

function takeErrorMessage(err: ErrorOut): string | null {
  const ptr = err.message
  if (ptr === null || ptr === undefined) return null
  try {
    return koffi.decode(ptr, 'char', -1) as string
  } finally {
    fn('hessra_error_free')(ptr)
  }
}

/** Outcome of a native call that reports rather than throws (verify, authorize). */
export interface NativeOutcome {
  code: number
  message: string | null
}

function fail(code: number, message: string | null, what?: string): never {
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
function callStringWithError(name: FnName, args: unknown[], what?: string): string {
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
function callString(name: FnName, args: unknown[], what?: string): string {
  const out: unknown[] = [null]
  const code = fn(name)(...args, out) as number
  const value = takeString(out[0])
  if (code !== NativeCode.SUCCESS) fail(code, null, what)
  if (value === null) throw new InternalError(`${name} returned no value`)
  return value
}

/** Calls a function whose last output is a handle. */
function callHandle(name: FnName, args: unknown[], what?: string): unknown {
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
function callHandleWithError(name: FnName, fallback: FnName, args: unknown[], what?: string): unknown {
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

function releaseOrphan(name: FnName, ptr: unknown): void {
  // The ABI promises out_* are NULL on failure; be defensive anyway.
  if (name.startsWith('hessra_token_parse')) fn('hessra_token_free')(ptr)
  else if (name.startsWith('hessra_public_key') || name === 'hessra_keypair_public_key' || name === 'hessra_config_get_public_key') fn('hessra_public_key_free')(ptr)
  else if (name.startsWith('hessra_keypair')) fn('hessra_keypair_free')(ptr)
  else if (name.startsWith('hessra_config')) fn('hessra_config_free')(ptr)
}

// ---------------------------------------------------------------------------------------------
// Handles
// ---------------------------------------------------------------------------------------------

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
