/**
 * Where the token comes from, in order: the argument (`-` means stdin), --token-file, HESSRA_TOKEN,
 * then piped standard input (read to the end; never oclif's 10 ms auto-fill).
 * Whitespace and a `Bearer ` prefix are stripped; raw binary (protobuf) files are detected and passed
 * as bytes. The token itself never appears in an error message.
 */
import {fstatSync, readFileSync} from 'node:fs'

import {ExitCode, InputError, IoError, UsageError} from '../errors.js'

export type TokenInput =
  | {kind: 'text'; text: string; source: TokenSource}
  | {kind: 'bytes'; bytes: Uint8Array; source: TokenSource}

export type TokenSource = 'argument' | 'stdin' | 'file' | 'env'

export interface TokenSources {
  /** The positional argument (`-` = stdin). */
  arg?: string
  /** --token-file PATH (`-` = stdin). */
  tokenFile?: string
  /** process.env by default */
  env?: NodeJS.ProcessEnv
  /** Reads all of stdin; injectable for tests. */
  readStdin?: () => Promise<Uint8Array>
  /** Whether stdin has data piped in (not a TTY, a pipe/file/socket); injectable for tests. */
  stdinIsPiped?: () => boolean
  /** Name of what is being read, for messages. */
  what?: string
}

const BASE64_TEXT = /^[A-Za-z0-9_\-+/]+={0,2}$/

/** Strips whitespace (anywhere: tokens get wrapped in terminals and YAML) and a `Bearer ` prefix. */
export function normalizeTokenText(raw: string): string {
  let s = raw.trim()
  const m = /^bearer\s+/i.exec(s)
  if (m) s = s.slice(m[0].length)
  return s.replace(/\s+/g, '')
}

/**
 * Decides whether bytes are a text token (base64url, possibly with whitespace and `Bearer `) or a raw
 * binary token (protobuf). Binary when any byte is outside printable ASCII/whitespace, or the text does
 * not look like base64 at all while the first byte is a protobuf tag of the Biscuit message.
 */
export function classifyTokenBytes(bytes: Uint8Array): {kind: 'text'; text: string} | {kind: 'bytes'; bytes: Uint8Array} {
  let printable = true
  for (const b of bytes) {
    if (b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f)) continue
    printable = false
    break
  }
  if (!printable) return {kind: 'bytes', bytes}
  const text = normalizeTokenText(Buffer.from(bytes).toString('latin1'))
  if (text.length > 0 && !BASE64_TEXT.test(text) && bytes.length > 0 && (bytes[0] === 0x08 || bytes[0] === 0x12)) {
    return {kind: 'bytes', bytes}
  }
  return {kind: 'text', text}
}

/** True when stdin is a pipe, a file or a socket (something was piped or redirected in). */
export function stdinIsPiped(): boolean {
  if (process.stdin.isTTY) return false
  try {
    const st = fstatSync(0)
    return st.isFIFO() || st.isFile() || st.isSocket()
  } catch {
    return false
  }
}

export async function readAllStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer))
  return Buffer.concat(chunks)
}

function fromBytes(bytes: Uint8Array, source: TokenSource, what: string): TokenInput {
  const c = classifyTokenBytes(bytes)
  if (c.kind === 'bytes') return {kind: 'bytes', bytes: c.bytes, source}
  if (c.text.length === 0) throw new InputError(`${what} from ${sourceLabel(source)} is empty`)
  return {kind: 'text', text: c.text, source}
}

function sourceLabel(s: TokenSource): string {
  return s === 'env' ? 'HESSRA_TOKEN' : s === 'file' ? '--token-file' : s
}

/** Resolves the token from the sources above. Throws UsageError when none gives one. */
export async function resolveTokenInput(src: TokenSources): Promise<TokenInput> {
  const env = src.env ?? process.env
  const what = src.what ?? 'token'
  const readStdin = src.readStdin ?? readAllStdin
  const piped = src.stdinIsPiped ?? stdinIsPiped

  if (src.arg !== undefined && src.tokenFile !== undefined) {
    throw new UsageError(`give the ${what} either as an argument or with --token-file, not both`)
  }
  if (src.arg !== undefined) {
    if (src.arg === '-') return fromBytes(await readStdin(), 'stdin', what)
    const text = normalizeTokenText(src.arg)
    if (text.length === 0) throw new InputError(`${what} argument is empty`)
    return {kind: 'text', text, source: 'argument'}
  }
  if (src.tokenFile !== undefined) {
    if (src.tokenFile === '-') return fromBytes(await readStdin(), 'stdin', what)
    let bytes: Buffer
    try {
      bytes = readFileSync(src.tokenFile)
    } catch (error) {
      const code = (error as {code?: string}).code ?? 'error'
      // a --token-file that cannot be read is a mistake on the command line: usage (exit 2)
      throw new IoError(`cannot read ${what} file ${src.tokenFile} (${code})`, {exitCode: ExitCode.USAGE})
    }
    return fromBytes(bytes, 'file', what)
  }
  const fromEnv = env.HESSRA_TOKEN
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    return {kind: 'text', text: normalizeTokenText(fromEnv), source: 'env'}
  }
  if (piped()) {
    const bytes = await readStdin()
    if (bytes.length > 0 && Buffer.from(bytes).toString('latin1').trim() !== '') return fromBytes(bytes, 'stdin', what)
  }
  throw new UsageError(`no ${what} given`, {hint: 'pass it as an argument, `-` to read stdin, --token-file PATH, or set HESSRA_TOKEN'})
}
