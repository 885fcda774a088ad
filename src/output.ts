/** Terminal output helpers: colour (off with NO_COLOR, CLICOLOR=0, TERM=dumb or when not a TTY) and JSON printing. */
import {Chalk, type ChalkInstance} from 'chalk'

/** Plain text asked for: NO_COLOR (no-color.org), CLICOLOR=0, or a terminal that knows no escapes (TERM=dumb). */
export function noColorRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.NO_COLOR !== undefined && env.NO_COLOR !== '') || env.CLICOLOR === '0' || env.TERM === 'dumb'
}

export function colorEnabled(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (noColorRequested(env)) return false
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return true
  return Boolean(stream.isTTY)
}

let out: ChalkInstance | undefined
let err: ChalkInstance | undefined

/** chalk for stdout */
export function c(): ChalkInstance {
  out ??= new Chalk({level: colorEnabled(process.stdout) ? 1 : 0})
  return out
}

/** chalk for stderr */
export function ce(): ChalkInstance {
  err ??= new Chalk({level: colorEnabled(process.stderr) ? 1 : 0})
  return err
}

/**
 * `value` with every object key in snake_case (`defaultKey` → `default_key`), as every --json document
 * spells its fields (docs/cli-json.md), for reports built from camelCase TypeScript objects. Only for
 * objects whose keys are field names, never for user data keyed by name.
 */
export function snakeCaseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeCaseKeys)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replaceAll(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase(), snakeCaseKeys(v)]))
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n')
}

export function stdout(line = ''): void {
  process.stdout.write(line + '\n')
}

export function stderr(line = ''): void {
  process.stderr.write(line + '\n')
}
