/**
 * Keys: reading public keys and key pairs from text or files (detected by content), choosing the
 * verification key (--key, --key-id, HESSRA_PUBLIC_KEY, configuration), writing private key files
 * (mode 0600, never overwriting without force).
 */
import {chmodSync, closeSync, existsSync, openSync, readFileSync, readSync, statSync, writeSync} from 'node:fs'
import {dirname} from 'node:path'
import {mkdirSync} from 'node:fs'

import {engineConfig, type LoadedConfig} from './config/index.js'
import {validateConfig} from './config/validate.js'
import {ConfigError, InvalidKeyError, IoError, UsageError} from './errors.js'
import {Config, KeyPair, PublicKey, Token, type Algorithm} from './native/binding.js'
import {ce, stderr} from './output.js'

export type KeyTextKind = 'public-pem' | 'private-pem' | 'public-text' | 'private-text' | 'hex' | 'unknown'

/** Classifies key text by content (no native call). */
export function classifyKeyText(text: string): KeyTextKind {
  const t = text.trim()
  if (/-----BEGIN PUBLIC KEY-----/.test(t)) return 'public-pem'
  if (/-----BEGIN (?:EC |ENCRYPTED )?PRIVATE KEY-----/.test(t)) return 'private-pem'
  if (/^(?:ed25519|secp256r1)\/[0-9a-fA-F]+$/.test(t)) return 'public-text'
  if (/^(?:ed25519|secp256r1)-private\/[0-9a-fA-F]+$/.test(t)) return 'private-text'
  if (/^[0-9a-fA-F]{64}$/.test(t)) return 'hex'
  return 'unknown'
}

const MAX_KEY_FILE = 64 * 1024

/**
 * Whether a key argument may be shown in a message: only when it names a file. Key text, or anything that
 * looks like key material (a mistyped or truncated key), is a secret and is never echoed.
 */
export function isShowableKeyPath(spec: string): boolean {
  return classifyKeyText(spec) === 'unknown' && !/-----BEGIN|PRIVATE|[\r\n]|[0-9a-fA-F]{32}|[A-Za-z0-9+/=_-]{40}/i.test(spec)
}

/** "private key file PATH" for a path, "the private key given" for anything else. */
export function keyArgLabel(spec: string, what: string): string {
  return isShowableKeyPath(spec) ? `${what} file ${spec}` : `the ${what} given`
}

/**
 * Reads a key file: a regular file that no other user can write, or a pipe (`--private-key <(pass show
 * hessra/root)`: a secret that never touches the disk), at most MAX_KEY_FILE bytes. Directories, devices,
 * sockets and files another user could replace are refused.
 */
function readKeyFile(path: string, what: string): string {
  let st
  try {
    st = statSync(path)
  } catch (error) {
    throw new IoError(`cannot read ${what} file ${path} (${(error as {code?: string}).code ?? 'error'})`)
  }
  if (st.isFIFO()) return readPipe(path, what)
  if (!st.isFile()) throw new IoError(`${what} file ${path} is ${st.isDirectory() ? 'a directory' : 'not a regular file'} (a file or a pipe is expected)`)
  const uid = process.getuid?.()
  if ((st.mode & 0o002) !== 0 || (uid !== undefined && st.uid !== uid && st.uid !== 0)) {
    throw new IoError(`${what} file ${path} could be replaced by another user (${(st.mode & 0o002) !== 0 ? 'anyone may write it' : `it belongs to uid ${st.uid}`}): refusing it`, {
      hint: `keep key files owned by you and not world-writable: chmod o-w ${path}`,
    })
  }
  if (st.size > MAX_KEY_FILE) throw new InvalidKeyError(`${what} file ${path} is too large to be a key (${st.size} bytes)`)
  return readFileSync(path, 'utf8')
}

/** A pipe's contents, refusing more than MAX_KEY_FILE bytes (a pipe has no size to check first). */
function readPipe(path: string, what: string): string {
  const fd = openSync(path, 'r')
  try {
    const buf = Buffer.alloc(MAX_KEY_FILE + 1)
    let n = 0
    for (let got; n < buf.length && (got = readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += got
    if (n > MAX_KEY_FILE) throw new InvalidKeyError(`${what} pipe ${path} holds more than ${MAX_KEY_FILE} bytes: too large to be a key`)
    return buf.subarray(0, n).toString('utf8')
  } finally {
    closeSync(fd)
  }
}

/**
 * A warning when the verification key (--key, else HESSRA_PUBLIC_KEY) is a private key, text or file:
 * it works (the public half is used) but a private key does not belong where tokens are checked.
 * Names where the key came from, never the key.
 */
export function privateVerificationKeyWarning(flags: {key?: string; 'key-id'?: string}, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const [spec, origin] = flags.key !== undefined ? [flags.key, '--key'] : flags['key-id'] === undefined ? [env.HESSRA_PUBLIC_KEY, 'HESSRA_PUBLIC_KEY'] : [undefined, '']
  if (!spec) return undefined
  let kind = classifyKeyText(spec)
  if (kind === 'unknown') {
    try {
      const st = statSync(spec)
      if (st.isFile() && st.size <= MAX_KEY_FILE) kind = classifyKeyText(readFileSync(spec, 'utf8'))
    } catch {
      return undefined // reading it for real reports the problem
    }
  }
  if (kind !== 'private-pem' && kind !== 'private-text') return undefined
  return `${origin} is a PRIVATE key (its public half is used): verifiers need only the public key, which \`hessra keys public\` prints; keep the private key where tokens are minted`
}

/** Prints privateVerificationKeyWarning's warning, if any, on stderr (commands and verify's fast path). */
export function warnIfPrivateVerificationKey(flags: {key?: string; 'key-id'?: string}): void {
  const warning = privateVerificationKeyWarning(flags)
  if (warning) stderr(ce().yellow(`warning: ${warning}`))
}

export interface ResolvedPublicKey {
  key: PublicKey
  /** Where it came from, for messages: "--key", "key id prod", "HESSRA_PUBLIC_KEY", "config" */
  origin: string
  /** The configuration key id when the key came from the configuration. */
  id: string | null
  /** true when the text held a private key and the public part was derived. */
  derivedFromPrivate: boolean
}

/**
 * Parses a public key given as text or as a path to a file holding one (PEM, ed25519/<hex>,
 * secp256r1/<hex>, bare hex; a private key's public half is accepted too).
 */
export function parsePublicKeySpec(spec: string, what = 'public key'): {key: PublicKey; derivedFromPrivate: boolean} {
  let text = spec
  let kind = classifyKeyText(spec)
  if (kind === 'unknown') {
    if (existsSync(spec)) {
      text = readKeyFile(spec, what)
      kind = classifyKeyText(text)
      if (kind === 'unknown') throw new InvalidKeyError(`${spec} does not hold a key (expected PEM, ed25519/<hex> or secp256r1/<hex>)`)
    } else {
      throw new InvalidKeyError(`${what} is neither a key (PEM, ed25519/<hex>, secp256r1/<hex>) nor an existing file`)
    }
  }
  if (kind === 'private-pem' || kind === 'private-text') {
    const kp = KeyPair.fromString(text.trim())
    try {
      return {key: kp.publicKey(), derivedFromPrivate: true}
    } finally {
      kp.dispose()
    }
  }
  return {key: PublicKey.fromString(text.trim()), derivedFromPrivate: false}
}

/**
 * The canonical text (ed25519/<hex>, secp256r1/<hex>) of a public key to trust under `id`, from key text
 * or a file. A private key is refused (it does not belong where tokens are checked): the message names
 * the file when it is one, never the key, and the hint shows `command` with its public half.
 */
export function trustedKeyText(spec: string, id: string, command: string): string {
  const {key, derivedFromPrivate} = parsePublicKeySpec(spec, 'key')
  let text: string
  try {
    text = key.toText()
  } finally {
    key.dispose()
  }
  if (derivedFromPrivate) {
    const source = isShowableKeyPath(spec) ? spec : 'FILE'
    throw new UsageError(`${keyArgLabel(spec, 'key')} holds a PRIVATE key; add its public key instead`, {hint: `hessra keys public ${source} | xargs ${command} ${id}`})
  }
  return text
}

/** Reads a private key (key pair) from a file or from text (PEM PKCS#8, ed25519-private/<hex>, ...). */
export function loadKeyPair(spec: string, what = 'private key'): KeyPair {
  const kind = classifyKeyText(spec)
  if (kind === 'private-pem' || kind === 'private-text') return KeyPair.fromString(spec.trim())
  if (!existsSync(spec)) {
    if (!isShowableKeyPath(spec)) throw new InvalidKeyError(`the ${what} given is neither a private key (PEM PKCS#8, ed25519-private/<hex>, secp256r1-private/<hex>) nor an existing file`)
    throw new IoError(`${what} file ${spec} does not exist`)
  }
  const text = readKeyFile(spec, what)
  const k = classifyKeyText(text)
  if (k === 'public-pem' || k === 'public-text' || k === 'hex') {
    throw new InvalidKeyError(`${spec} holds a public key; a private key is needed here`, {hint: 'generate one with `hessra keys generate --out FILE`'})
  }
  if (k === 'unknown' && isToken(text)) {
    throw new InvalidKeyError(`${spec} holds a token, not a private key`, {hint: `${what === 'private key' ? 'this flag takes' : `the ${what} is`} the key that signs tokens: the PEM file \`hessra keys generate --out FILE\` writes`})
  }
  return KeyPair.fromString(text.trim())
}

/** Whether the engine reads `text` as a token (for a clearer error than "invalid key"). */
function isToken(text: string): boolean {
  try {
    Token.parse(text.trim()).dispose()
    return true
  } catch {
    return false
  }
}

export interface KeyChoice {
  /** --key (text or file) */
  key?: string
  /** --key-id */
  keyId?: string
  env?: NodeJS.ProcessEnv
  loaded?: LoadedConfig
  /** The token's root key id, to pick among configured keys. */
  rootKeyId?: number | null
}

/** The configuration as a native handle (validated by the engine). */
export function nativeConfig(loaded: LoadedConfig): Config {
  if (!loaded.config) throw new ConfigError('no configuration found', {hint: 'create one with `hessra config init`'})
  const where = loaded.filepath ?? 'configuration'
  const first = validateConfig(loaded.config, loaded.filepath).problems.find((p) => p.severity === 'error')
  if (first) {
    throw new ConfigError(`${where}: ${first.field}: ${first.message}`, {file: loaded.filepath ?? undefined, field: first.field, hint: 'run `hessra config validate`'})
  }
  const built = engineConfig(loaded.config, loaded.filepath)
  if ('config' in built) return built.config
  const {field, message} = built.problem
  throw new ConfigError(`${where}: ${field === '' ? '' : `${field}: `}${message}`, {file: loaded.filepath ?? undefined, field, hint: 'run `hessra config validate`'})
}

/** The configured key the engine chooses (its hessra_config_select_key: the verifier's rule). */
function configuredKey(loaded: LoadedConfig, keyId: string | null, rootKeyId: number | null): {key: PublicKey; id: string | null} {
  const cfg = nativeConfig(loaded)
  try {
    return cfg.selectKey(rootKeyId, keyId)
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`${loaded.filepath ?? 'configuration'}: ${error.message}`, {file: loaded.filepath ?? undefined, field: 'keys', hint: NO_KEY_HINT})
    throw error
  } finally {
    cfg.dispose()
  }
}

const NO_KEY_HINT = 'pass --key KEY|FILE or --key-id ID, set HESSRA_PUBLIC_KEY, or add one with `hessra keys add ID KEY`'

/**
 * The verification key for the commands that need the key itself (inspect, authorize, attenuate, seal):
 * --key, then --key-id, then HESSRA_PUBLIC_KEY, then the configuration, where the engine chooses (by
 * the token's root key id, else the default key). `hessra verify` leaves the whole choice to the engine.
 */
export function choosePublicKey(choice: KeyChoice): ResolvedPublicKey {
  const env = choice.env ?? process.env
  if (choice.key !== undefined && choice.keyId !== undefined) throw new UsageError('give either --key or --key-id, not both')
  if (choice.key !== undefined) {
    const r = parsePublicKeySpec(choice.key, '--key')
    return {key: r.key, origin: '--key', id: null, derivedFromPrivate: r.derivedFromPrivate}
  }
  if (choice.keyId !== undefined) {
    if (!choice.loaded?.config) throw new ConfigError(`--key-id ${choice.keyId}: no configuration found`, {hint: 'create one with `hessra config init`, or pass --key'})
    const r = configuredKey(choice.loaded, choice.keyId, null)
    return {key: r.key, origin: `key id ${choice.keyId}`, id: choice.keyId, derivedFromPrivate: false}
  }
  const fromEnv = env.HESSRA_PUBLIC_KEY
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    const r = parsePublicKeySpec(fromEnv.trim(), 'HESSRA_PUBLIC_KEY')
    return {key: r.key, origin: 'HESSRA_PUBLIC_KEY', id: null, derivedFromPrivate: r.derivedFromPrivate}
  }
  if (choice.loaded?.config) {
    const r = configuredKey(choice.loaded, null, choice.rootKeyId ?? null)
    return {key: r.key, origin: `configuration key "${r.id}"`, id: r.id, derivedFromPrivate: false}
  }
  throw new ConfigError('no public key to verify with', {hint: NO_KEY_HINT})
}

/** Writes a private key file with mode 0600; refuses to overwrite unless force. */
export function writePrivateKeyFile(path: string, pem: string, force = false): void {
  mkdirSync(dirname(path), {recursive: true})
  let fd: number
  try {
    fd = openSync(path, force ? 'w' : 'wx', 0o600)
  } catch (error) {
    const code = (error as {code?: string}).code
    if (code === 'EEXIST') throw new UsageError(`${path} already exists; refusing to overwrite it`, {hint: 'pass --force to replace it'})
    throw new IoError(`cannot write ${path} (${code ?? 'error'})`, {exitCode: 5})
  }
  try {
    chmodSync(path, 0o600) // also when overwriting a file that had wider permissions
    writeSync(fd, pem.endsWith('\n') ? pem : pem + '\n')
  } finally {
    closeSync(fd)
  }
}

export function generateKeyPair(algorithm: Algorithm = 'ed25519'): KeyPair {
  return KeyPair.generate(algorithm)
}
