/**
 * Running external programs (pg_config, make, cargo, initdb, pg_ctl) — asynchronously so the progress
 * display keeps moving. Everything that spawns goes through a `Runner`, so the logic can be tested with
 * a fake one.
 */
import {spawn} from 'node:child_process'
import {accessSync, constants, statSync} from 'node:fs'
import {delimiter, join} from 'node:path'

export interface RunResult {
  code: number
  stdout: string
  stderr: string
  /** spawn error (ENOENT when the program does not exist) */
  error?: NodeJS.ErrnoException
}

export interface RunOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** Run as this OS user (via runuser/su) when we are root. */
  asUser?: string
  input?: string
  timeoutMs?: number
  /** Called with each chunk of output (for progress). */
  onOutput?: (chunk: string) => void
}

export type Runner = (command: string, args: readonly string[], opts?: RunOptions) => Promise<RunResult>

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0
}

/** `runuser -u USER -- cmd args` when we are root and USER differs, else the command itself. */
export function wrapAsUser(command: string, args: readonly string[], user: string | undefined, root = isRoot()): [string, string[]] {
  if (!user || !root) return [command, [...args]]
  if (findInPath('runuser')) return ['runuser', ['-u', user, '--', command, ...args]]
  const quoted = [command, ...args].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ')
  return ['su', ['-s', '/bin/sh', user, '-c', quoted]]
}

export const runProcess: Runner = (command, args, opts = {}) => {
  const [cmd, argv] = wrapAsUser(command, args, opts.asUser)
  return new Promise((resolve) => {
    let stdout = ''
    let stderr = ''
    let settled = false
    const child = spawn(cmd, argv, {cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe']})
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          stderr += `\n(timed out after ${Math.round(opts.timeoutMs! / 1000)}s)`
          child.kill('SIGTERM')
        }, opts.timeoutMs)
      : undefined
    child.stdout.setEncoding('utf8')
    child.stderr.setEncoding('utf8')
    child.stdout.on('data', (d: string) => {
      stdout += d
      opts.onOutput?.(d)
    })
    child.stderr.on('data', (d: string) => {
      stderr += d
      opts.onOutput?.(d)
    })
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (settled) return
      settled = true
      if (timer) clearTimeout(timer)
      resolve({code: 127, stdout, stderr, error})
    })
    child.on('close', (code, signal) => {
      if (settled) return
      settled = true
      if (timer) clearTimeout(timer)
      resolve({code: code ?? (signal ? 128 : 1), stdout, stderr})
    })
    child.stdin.on('error', () => {})
    child.stdin.end(opts.input ?? '')
  })
}

/** The executable `name` in PATH, or null. */
export function findInPath(name: string, pathEnv: string | undefined = process.env.PATH): string | null {
  if (name.includes('/')) return isExecutable(name) ? name : null
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (!dir) continue
    const p = join(dir, name)
    if (isExecutable(p)) return p
  }
  return null
}

export function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** Last lines of a program's output, for error messages. */
export function tail(text: string, lines = 15): string {
  const all = text.replace(/\s+$/, '').split('\n')
  return all.slice(-lines).join('\n')
}
