/**
 * Typed errors and the single mapping from errors to process exit codes.
 *
 * Exit codes (docs/DESIGN.md, "CLI contract"), kept with --json:
 *   0 ok · 1 denied, invalid, expired or revoked token · 2 usage · 3 malformed input (token/key/Datalog)
 *   4 configuration · 5 environment (native library, files, Postgres, build tools)
 *
 * Messages never contain a token.
 */

export const ExitCode = {
  OK: 0,
  DENIED: 1,
  USAGE: 2,
  MALFORMED: 3,
  CONFIG: 4,
  ENVIRONMENT: 5,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** Result codes of the C ABI (hessra_ffi.h, HessraResult). */
export const NativeCode = {
  SUCCESS: 0,
  INVALID_TOKEN: 1,
  INVALID_KEY: 2,
  VERIFICATION_FAILED: 3,
  CONFIG_INVALID: 4,
  MEMORY: 5,
  IO: 6,
  INVALID_PARAMETER: 7,
  EXPIRED: 8,
  LIMIT_EXCEEDED: 9,
  REVOKED: 11,
  INTERNAL: 99,
} as const
export type NativeCode = (typeof NativeCode)[keyof typeof NativeCode]

/** Stable machine-readable error kinds (the "code" field of --json errors). */
export type ErrorKind =
  | 'denied'
  | 'invalid'
  | 'expired'
  | 'revoked'
  | 'limit_exceeded'
  | 'invalid_token'
  | 'invalid_key'
  | 'invalid_input'
  | 'usage'
  | 'config'
  | 'io'
  | 'environment'
  | 'native_library_missing'
  | 'internal'

export class HessraError extends Error {
  readonly kind: ErrorKind
  readonly exitCode: ExitCode
  /** The native HessraResult when the error came from the engine. */
  readonly nativeCode?: number
  /** Optional hint printed under the message. */
  readonly hint?: string

  constructor(kind: ErrorKind, exitCode: ExitCode, message: string, opts: {nativeCode?: number; hint?: string; cause?: unknown} = {}) {
    super(message, opts.cause === undefined ? undefined : {cause: opts.cause})
    this.name = new.target.name
    this.kind = kind
    this.exitCode = exitCode
    this.nativeCode = opts.nativeCode
    this.hint = opts.hint
  }
}

/** A signature, check or policy said no. */
export class DeniedError extends HessraError {
  constructor(message: string, opts: {nativeCode?: number; hint?: string} = {}) {
    super('denied', ExitCode.DENIED, message, opts)
  }
}

/**
 * A signature does not verify with the key (forged, or the wrong key): the verifier's status `invalid`,
 * with its reason. A DeniedError (exit 1) for callers that catch those.
 */
export class InvalidSignatureError extends DeniedError {
  override readonly kind: ErrorKind = 'invalid'
  constructor(message: string) {
    super(message, {nativeCode: NativeCode.VERIFICATION_FAILED})
  }
}

/** Only time bounds failed. `expiresAt` is the bound (unix seconds) when known. */
export class ExpiredError extends HessraError {
  readonly expiresAt?: number
  constructor(message: string, expiresAt?: number) {
    super('expired', ExitCode.DENIED, message, {nativeCode: NativeCode.EXPIRED})
    this.expiresAt = expiresAt
  }
}

/** Authentic, but a block's revocation id is in the configuration's revocation list. */
export class RevokedError extends HessraError {
  constructor(message: string) {
    super('revoked', ExitCode.DENIED, message, {nativeCode: NativeCode.REVOKED})
  }
}

export class LimitExceededError extends HessraError {
  constructor(message: string) {
    super('limit_exceeded', ExitCode.DENIED, message, {nativeCode: NativeCode.LIMIT_EXCEEDED})
  }
}

/** Not a token: encoding, protobuf, block format. */
export class InvalidTokenError extends HessraError {
  constructor(message: string, opts: {nativeCode?: number; hint?: string} = {}) {
    super('invalid_token', ExitCode.MALFORMED, message, {nativeCode: NativeCode.INVALID_TOKEN, ...opts})
  }
}

export class InvalidKeyError extends HessraError {
  constructor(message: string, opts: {hint?: string} = {}) {
    super('invalid_key', ExitCode.MALFORMED, message, {nativeCode: NativeCode.INVALID_KEY, ...opts})
  }
}

/** Malformed input other than a token or key: Datalog, JSON, a time, a duration. */
export class InputError extends HessraError {
  constructor(message: string, opts: {nativeCode?: number; hint?: string} = {}) {
    super('invalid_input', ExitCode.MALFORMED, message, opts)
  }
}

export class UsageError extends HessraError {
  constructor(message: string, opts: {hint?: string} = {}) {
    super('usage', ExitCode.USAGE, message, opts)
  }
}

export class ConfigError extends HessraError {
  /** JSON path of the offending field, e.g. "keys[1].public_key", when known. */
  readonly field?: string
  /** The file the configuration came from, when known. */
  readonly file?: string
  constructor(message: string, opts: {field?: string; file?: string; hint?: string; nativeCode?: number} = {}) {
    super('config', ExitCode.CONFIG, message, opts)
    this.field = opts.field
    this.file = opts.file
  }
}

export class IoError extends HessraError {
  constructor(message: string, opts: {exitCode?: ExitCode; hint?: string; cause?: unknown} = {}) {
    super('io', opts.exitCode ?? ExitCode.MALFORMED, message, opts)
  }
}

export class EnvironmentError extends HessraError {
  constructor(message: string, opts: {hint?: string; cause?: unknown} = {}) {
    super('environment', ExitCode.ENVIRONMENT, message, opts)
  }
}

export class NativeLibraryMissingError extends HessraError {
  readonly libraryPath: string
  constructor(libraryPath: string, reason: string, hint?: string) {
    super(
      'native_library_missing',
      ExitCode.ENVIRONMENT,
      `the hessra native library could not be loaded from ${libraryPath} (${reason})`,
      {hint: hint ?? 'run `npm run build:native`; set HESSRA_FFI_LIB to use another build'},
    )
    this.libraryPath = libraryPath
  }
}

export class InternalError extends HessraError {
  constructor(message: string, opts: {nativeCode?: number} = {}) {
    super('internal', ExitCode.ENVIRONMENT, message, opts)
  }
}

/**
 * Turns a native result code (and the engine's message, if any) into a typed error.
 * `context` tells what was being read, to phrase IO failures and pick their exit code.
 */
export function errorFromNative(
  code: number,
  message: string | null | undefined,
  context: {what?: string; ioExitCode?: ExitCode; expiresAt?: number; field?: string} = {},
): HessraError {
  const text = message && message.length > 0 ? message : defaultNativeMessage(code)
  switch (code) {
    case NativeCode.INVALID_TOKEN:
      return new InvalidTokenError(text)
    case NativeCode.INVALID_KEY:
      return new InvalidKeyError(text)
    case NativeCode.VERIFICATION_FAILED:
      // Functions that judge a token (hessra_verify, hessra_token_authorize) return their verdict as
      // data; thrown, this code means the signatures did not verify.
      return new InvalidSignatureError(text)
    case NativeCode.CONFIG_INVALID:
      return new ConfigError(text, {nativeCode: code, field: context.field})
    case NativeCode.MEMORY:
      return new EnvironmentError(`out of memory: ${text}`)
    case NativeCode.IO:
      return new IoError(context.what ? `${context.what}: ${text}` : text, {exitCode: context.ioExitCode})
    case NativeCode.INVALID_PARAMETER:
      return new InputError(text, {nativeCode: code})
    case NativeCode.EXPIRED:
      return new ExpiredError(text, context.expiresAt)
    case NativeCode.LIMIT_EXCEEDED:
      return new LimitExceededError(text)
    case NativeCode.REVOKED:
      return new RevokedError(text)
    default:
      return new InternalError(`internal engine error (code ${code}): ${text}`, {nativeCode: code})
  }
}

function defaultNativeMessage(code: number): string {
  switch (code) {
    case NativeCode.INVALID_TOKEN: return 'invalid token'
    case NativeCode.INVALID_KEY: return 'invalid key'
    case NativeCode.VERIFICATION_FAILED: return 'verification failed'
    case NativeCode.CONFIG_INVALID: return 'invalid configuration'
    case NativeCode.MEMORY: return 'out of memory'
    case NativeCode.IO: return 'I/O error'
    case NativeCode.INVALID_PARAMETER: return 'invalid parameter'
    case NativeCode.EXPIRED: return 'token expired'
    case NativeCode.LIMIT_EXCEEDED: return 'limit exceeded'
    case NativeCode.REVOKED: return 'token revoked'
    default: return 'internal error'
  }
}

/** oclif parse errors (missing/unknown flags and arguments) carry these names. */
const OCLIF_USAGE_ERRORS = new Set([
  'RequiredArgsError',
  'RequiredFlagError',
  'UnexpectedArgsError',
  'NonExistentFlagsError',
  'FlagInvalidOptionError',
  'ArgInvalidOptionError',
  'FailedFlagValidationError',
  'CLIParseError',
])

/**
 * THE mapping from any thrown value to an exit code. Every command goes through
 * BaseCommand.catch, which calls this; nothing else decides exit codes.
 */
export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof HessraError) return err.exitCode
  if (err && typeof err === 'object') {
    const e = err as {name?: string; constructor?: {name?: string}; oclif?: {exit?: number}; code?: string}
    const name = e.constructor?.name ?? e.name ?? ''
    if (OCLIF_USAGE_ERRORS.has(name) || OCLIF_USAGE_ERRORS.has(e.name ?? '')) return ExitCode.USAGE
    if (e.code === 'EEXIT' && typeof e.oclif?.exit === 'number') return e.oclif.exit as ExitCode
    if (typeof e.oclif?.exit === 'number' && e.oclif.exit === 2) return ExitCode.USAGE
    if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code) && ['ENOENT', 'EACCES', 'EISDIR', 'EPERM', 'ENOTDIR'].includes(e.code)) {
      return ExitCode.MALFORMED
    }
  }
  return ExitCode.ENVIRONMENT
}

/** Stable error kind for --json output. */
export function errorKindFor(err: unknown): ErrorKind {
  if (err instanceof HessraError) return err.kind
  const code = exitCodeFor(err)
  if (code === ExitCode.USAGE) return 'usage'
  if (code === ExitCode.MALFORMED) return 'io'
  return 'internal'
}

/** A one-line message for any thrown value (no stack traces). */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message.replace(/\s+$/, '')
  return String(err)
}
