/** Times and durations on the command line. All values are unix seconds (integers). */
import {UsageError} from '../errors.js'

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

/** Parses RFC 3339 (with offset or Z) into unix seconds, or undefined. */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text.trim())
  if (!m) return undefined
  const [, y, mo, d, h, mi, s] = m.map(Number)
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined
  const ms = Date.parse(text.trim().replace(' ', 'T'))
  if (Number.isNaN(ms)) return undefined
  void y
  return Math.floor(ms / 1000)
}

/**
 * `--at`: when to check. Unix seconds, RFC 3339, `now`, or a time relative to now like `--ttl`'s
 * durations: `-30m` (30 minutes ago), `+1h` (in an hour). A value that does not parse is a usage error
 * (exit 2), as for every flag.
 */
export function parseAt(text: string, now: number = nowSeconds()): number {
  const t = text.trim()
  if (t.toLowerCase() === 'now') return now
  if (/^\d+$/.test(t)) {
    const n = Number(t)
    if (!Number.isSafeInteger(n)) throw new UsageError(`--at: ${t} is out of range`)
    return n
  }
  const rel = /^([+-])(.+)$/.exec(t)
  if (rel) {
    const d = parseDuration(rel[2])
    if (d === undefined) throw new UsageError(`--at: "${t}" is not a relative time (e.g. -30m, +1h, -2d)`)
    const at = rel[1] === '-' ? now - d : now + d
    if (at < 0) throw new UsageError(`--at: "${t}" lies before 1970`)
    return at
  }
  const v = parseRfc3339(t)
  if (v === undefined) throw new UsageError(`--at: "${t}" is not a time`, {hint: 'give unix seconds, an RFC 3339 date (2026-01-31T12:00:00Z), now, or a relative time (-30m, +1h)'})
  return v
}

const UNITS: Record<string, number> = {s: 1, sec: 1, m: 60, min: 60, h: 3600, d: 86_400, w: 604_800}

/** "90s", "5m", "1h30m", "2d", "1w" -> seconds, or undefined. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim().toLowerCase()
  if (/^\d+$/.test(t)) return Number(t)
  const re = /(\d+)(sec|min|s|m|h|d|w)/gy
  let total = 0
  let consumed = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(t)) !== null) {
    total += Number(m[1]) * UNITS[m[2]]
    consumed = re.lastIndex
  }
  if (consumed !== t.length || consumed === 0) return undefined
  return total
}

/**
 * `--ttl`: a duration from now ("5m", "1h", "2d", "300" seconds) or an absolute RFC 3339 time.
 * Returns the expiry in unix seconds.
 */
export function parseTtl(text: string, now: number = nowSeconds()): number {
  const d = parseDuration(text.trim().replace(/^\+/, ''))
  if (d !== undefined) {
    if (d <= 0) throw new UsageError(`--ttl must be positive (got "${text}")`)
    return now + d
  }
  const at = parseRfc3339(text)
  if (at !== undefined) return at
  throw new UsageError(`--ttl: "${text}" is neither a duration (30s, 5m, 1h, 2d) nor an RFC 3339 time`)
}

/**
 * A hint when Datalog states the time as a date literal, `time(2026-12-02T17:00:00Z)`: the checks of
 * Hessra tokens compare `time($t)` with integer unix seconds, and a date is never less than an integer.
 */
export function dateLiteralTimeHint(datalog: string): string | undefined {
  const m = /\btime\(\s*(\d{4}-\d{2}-\d{2}T[^)\s]*)\s*\)/.exec(datalog)
  if (!m) return undefined
  const secs = parseRfc3339(m[1])
  return `Hessra tokens compare time with integer unix seconds: write time(${secs ?? 'UNIX_SECONDS'}) instead of time(${m[1]}), or pass --at`
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

/** RFC 3339 in UTC, seconds precision: 2026-11-26T10:00:00Z */
export function isoDate(unix: number): string {
  // A JS Date spans ±8.64e15 ms; token time bounds are i64 seconds and may lie far beyond.
  const date = new Date(unix * 1000)
  if (Number.isNaN(date.getTime())) {
    return unix > 0 ? 'beyond year 275760' : 'before year -271821'
  }
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** "3 hours ago", "in 5 minutes", "just now". */
export function relativeTime(unix: number, now: number = nowSeconds()): string {
  const diff = unix - now
  const abs = Math.abs(diff)
  if (abs < 5) return 'just now'
  const steps: [number, string][] = [
    [365 * 86_400, 'year'],
    [30 * 86_400, 'month'],
    [7 * 86_400, 'week'],
    [86_400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ]
  for (const [size, name] of steps) {
    if (abs >= size) {
      const n = Math.floor(abs / size)
      const unit = `${n} ${name}${n === 1 ? '' : 's'}`
      return diff < 0 ? `${unit} ago` : `in ${unit}`
    }
  }
  return 'just now'
}
