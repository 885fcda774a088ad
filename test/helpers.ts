/** Shared test helpers: spawning the CLI, temp dirs, and a loud failure when the native library is missing. */
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {type Algorithm, isAvailable, KeyPair, libraryPath} from '../src/native/binding.js'

/** The package root (tests run from dist/.test/test/). */
export const ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    if (dir.endsWith('/dist/.test') || dir.endsWith('\\dist\\.test')) return resolve(dir, '..', '..')
    dir = dirname(dir)
  }
  return process.cwd()
})()

export const BIN = join(ROOT, 'bin', 'run.js')

/** Throws (fails the suite, never skips it) when the native library cannot be loaded. */
export function requireNative(): void {
  if (!isAvailable()) {
    throw new Error(
      `the native library is missing (${libraryPath()}): build it with \`npm run build:native\` ` +
        '(or set HESSRA_FFI_LIB); these tests need the real engine and do not skip',
    )
  }
}

export interface CliResult {
  status: number
  stdout: string
  stderr: string
}

/** Runs bin/run.js with an isolated HOME (no user configuration), no colour, closed stdin unless `input`. */
export function cli(args: string[], opts: {input?: string | Buffer; env?: Record<string, string | undefined>; cwd?: string} = {}): CliResult {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('HESSRA_')) env[k] = v
  if (process.env.HESSRA_FFI_LIB) env.HESSRA_FFI_LIB = process.env.HESSRA_FFI_LIB
  env.HOME = opts.env?.HOME ?? sandboxHome()
  env.NO_COLOR = '1'
  delete env.XDG_CONFIG_HOME
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? sandboxHome(),
    env,
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: 60_000,
    // room for a test to see how much a command printed (the default, 1 MiB, fails with ENOBUFS)
    maxBuffer: 64 * 1024 * 1024,
  })
  if (r.error) throw r.error
  return {status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr}
}

let home: string | undefined
/** One empty HOME per test process (cleaned at exit). */
export function sandboxHome(): string {
  if (!home) {
    home = mkdtempSync(join(tmpdir(), 'hessra-home-'))
    const h = home
    process.on('exit', () => rmSync(h, {recursive: true, force: true}))
  }
  return home
}

export function tempDir(prefix = 'hessra-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix))
  process.on('exit', () => rmSync(d, {recursive: true, force: true}))
  return d
}

export function json<T = Record<string, unknown>>(text: string): T {
  try {
    return JSON.parse(text) as T
  } catch {
    throw new Error(`not JSON: ${text}`)
  }
}

/** A fresh key pair and its public key's text (the caller disposes of the pair). */
export function newKeyPair(alg: Algorithm = 'ed25519'): {kp: KeyPair; pub: string} {
  const kp = KeyPair.generate(alg)
  const pk = kp.publicKey()
  try {
    return {kp, pub: pk.toText()}
  } finally {
    pk.dispose()
  }
}

/** A CLI configuration file trusting one key (the public half of `kp`) under `id`, as its default key. */
export function writeKeyConfig(path: string, id: string, kp: KeyPair): void {
  const pub = kp.publicKey()
  try {
    writeFileSync(path, JSON.stringify({version: 1, default_key: id, keys: [{id, public_key: pub.toText()}]}, null, 2))
  } finally {
    pub.dispose()
  }
}

/**
 * A key pair made and a token minted through the CLI, as a new user would (`keys generate --out`,
 * `token mint`): alice may read documents. In a fresh temporary directory.
 */
export function cliKeyAndToken(): {dir: string; rootPem: string; pub: string; token: string} {
  const dir = tempDir()
  const rootPem = join(dir, 'root.pem')
  const g = cli(['keys', 'generate', '--out', rootPem])
  if (g.status !== 0) throw new Error(`keys generate failed: ${g.stderr}`)
  const m = cli(['token', 'mint', '--private-key', rootPem, '--subject', 'alice', '--resource', 'documents', '--operation', 'read'])
  if (m.status !== 0) throw new Error(`token mint failed: ${m.stderr}`)
  return {dir, rootPem, pub: g.stdout.trim(), token: m.stdout.trim()}
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the system's choice). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address() as {port: number}
      s.close(() => resolve(port))
    })
  })
}
