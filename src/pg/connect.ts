/**
 * Connecting to PostgreSQL with `pg`: --database URL, then DATABASE_URL, then the libpq PG* variables
 * (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD — read by `pg` itself). Failures become exit-5
 * EnvironmentErrors that say what went wrong and what to check. Passwords never appear in messages.
 */
import {userInfo} from 'node:os'

import pg from 'pg'
import pgpass from 'pgpass'

import {EnvironmentError, HessraError} from '../errors.js'
import {redactUrl} from './sql.js'

export interface ConnectionTarget {
  /** undefined: use the PG* variables */
  connectionString?: string
  /** `defaults`: no PG* variable is set, so the built-in defaults (localhost:5432, the OS user) apply */
  source: 'flag' | 'DATABASE_URL' | 'PG* variables' | 'defaults'
  /** for messages: no password */
  display: string
}

/** The libpq variables that choose the server, the user or the database. */
const PG_VARIABLES = ['PGHOST', 'PGHOSTADDR', 'PGPORT', 'PGUSER', 'PGDATABASE']

export function resolveConnection(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): ConnectionTarget {
  if (flag !== undefined && flag.trim() !== '') return {connectionString: flag, source: 'flag', display: redactUrl(flag)}
  if (env.DATABASE_URL && env.DATABASE_URL.trim() !== '') return {connectionString: env.DATABASE_URL, source: 'DATABASE_URL', display: redactUrl(env.DATABASE_URL)}
  const host = env.PGHOST || 'localhost'
  const port = env.PGPORT || '5432'
  const user = env.PGUSER || defaultUserName(env)
  const db = env.PGDATABASE || user
  const display = `${host.startsWith('/') ? `socket ${host}` : host}:${port}/${db} as ${user}`
  if (PG_VARIABLES.some((v) => env[v])) return {source: 'PG* variables', display}
  return {source: 'defaults', display: `${display} (defaults: no --database, DATABASE_URL or PG* variable set)`}
}

/** Is the target on this machine (unix socket or loopback)? Unknown → true (PG* defaults are local). */
export function isLocalTarget(target: ConnectionTarget, env: NodeJS.ProcessEnv = process.env): boolean {
  let host: string | undefined
  if (target.connectionString) {
    try {
      const u = new URL(target.connectionString)
      host = u.searchParams.get('host') ?? (u.hostname === '' ? undefined : decodeURIComponent(u.hostname))
    } catch {
      const m = /host=([^\s]+)/.exec(target.connectionString)
      host = m?.[1]
    }
  } else host = env.PGHOST
  if (!host) return true
  host = host.replace(/^\[|\]$/g, '')
  return host.startsWith('/') || host === 'localhost' || host === '::1' || /^127\./.test(host)
}

/**
 * The user name a connection that names none uses, as libpq does: the OS user's (USER first, as `pg`
 * reads it). `pg` alone sends none when USER is unset (containers, CI), which the server refuses.
 */
export function defaultUserName(env: NodeJS.ProcessEnv = process.env): string {
  if (env.USER) return env.USER
  try {
    return userInfo().username
  } catch {
    return 'postgres' // no passwd entry for this uid: the name every PostgreSQL install has
  }
}

export type Client = pg.Client

/** Opens a connection; errors are mapped (see mapPgError). */
export async function connect(target: ConnectionTarget, opts: {applicationName?: string; timeoutMs?: number} = {}): Promise<pg.Client> {
  const config: pg.ClientConfig = {
    connectionTimeoutMillis: opts.timeoutMs ?? 10_000,
    application_name: opts.applicationName ?? 'hessra',
  }
  if (target.connectionString) config.connectionString = libpqSslModes(target.connectionString)
  // pg's default, under the URL's user and PGUSER (a user in `config` would be overridden by the URL's absence of one)
  if (!pg.defaults.user) pg.defaults.user = defaultUserName()
  const client = new pg.Client(config)
  // Set on the client, not in `config`: pg lets a connection string's (absent) password override the
  // config's. @types/pg omits what pg passes (the connection parameters) and accepts (undefined: none).
  ;(client as unknown as {password: unknown}).password = passwordLookup(target)
  // An error event after connecting (server shut down) must not crash the process.
  client.on('error', () => {})
  try {
    await client.connect()
  } catch (error) {
    try {
      await client.end()
    } catch {
      // ignore
    }
    throw mapPgError(error, target)
  }
  return client
}

/**
 * The password as libpq finds it: in the URL, else PGPASSWORD, else ~/.pgpass (PGPASSFILE). Looked up
 * here rather than by `pg`, whose own ~/.pgpass support prints a deprecation warning.
 */
function passwordLookup(target: ConnectionTarget, env: NodeJS.ProcessEnv = process.env) {
  return async (params: {host?: string; port?: number; database?: string | null; user?: string}): Promise<string | undefined> => {
    if (target.connectionString) {
      try {
        const u = new URL(target.connectionString)
        if (u.password) return decodeURIComponent(u.password)
      } catch {
        // a key=value string: `pg` reads its password itself only when given none here
        const m = /(?:^|\s)password=(\S+)/.exec(target.connectionString)
        if (m) return m[1]
      }
    }
    if (env.PGPASSWORD !== undefined) return env.PGPASSWORD
    return new Promise((resolve) => pgpass({host: params.host, port: params.port, database: params.database ?? undefined, user: params.user}, resolve))
  }
}

/**
 * `sslmode=prefer|require|verify-ca` with libpq's meaning, as psql users expect (`pg` would treat them as
 * verify-full and print a warning saying so on every run).
 */
export function libpqSslModes(connectionString: string): string {
  let u: URL
  try {
    u = new URL(connectionString)
  } catch {
    return connectionString
  }
  const mode = u.searchParams.get('sslmode')
  if (!mode || !['prefer', 'require', 'verify-ca'].includes(mode) || u.searchParams.has('uselibpqcompat')) return connectionString
  u.searchParams.set('uselibpqcompat', 'true')
  return u.toString()
}

interface PgErrorLike {
  code?: string
  message?: string
  detail?: string
  hint?: string
  errno?: number
  address?: string
  port?: number
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'ENOENT', 'EPIPE'])

/** Any connection/query error → a HessraError (exit 5 unless it already is one). */
export function mapPgError(error: unknown, target?: ConnectionTarget): HessraError {
  if (error instanceof HessraError) return error
  const e = (error ?? {}) as PgErrorLike
  const where = target ? target.display : 'the database'
  const via = target && target.source !== 'defaults' ? ` (from ${target.source === 'flag' ? '--database' : target.source})` : ''
  const msg = (e.message ?? String(error)).replace(/password=[^\s]+/g, 'password=***')
  if (e.code && UNREACHABLE.has(e.code)) {
    return new EnvironmentError(`cannot reach PostgreSQL at ${where}${via}: ${msg}`, {
      hint: 'is the server running and listening there? set --database URL, DATABASE_URL or PGHOST/PGPORT (`hessra pg sandbox start` runs a local one)',
      cause: error,
    })
  }
  if (/timeout expired|Connection terminated due to connection timeout/i.test(msg)) {
    return new EnvironmentError(`cannot reach PostgreSQL at ${where}${via}: connection timed out`, {hint: 'check the host, port and any firewall', cause: error})
  }
  if (/client password must be a string|no password supplied/i.test(msg)) {
    // what psql says (fe_sendauth: no password supplied), rather than pg's SASL internals
    return new EnvironmentError(`connection to ${where}${via} failed: no password supplied`, {
      hint: 'the server asks for a password: put it in the URL, PGPASSWORD or ~/.pgpass (host:port:database:user:password, mode 0600)',
      cause: error,
    })
  }
  if (e.code === '28P01' || e.code === '28000' || /SASL|password authentication failed/i.test(msg)) {
    return new EnvironmentError(`authentication failed connecting to ${where}${via}: ${msg}`, {
      hint: 'check the user and password (in the URL, PGUSER/PGPASSWORD or ~/.pgpass) and pg_hba.conf',
      cause: error,
    })
  }
  if (e.code === '3D000') {
    return new EnvironmentError(`${msg} (at ${where})`, {hint: 'name an existing database in --database / DATABASE_URL / PGDATABASE', cause: error})
  }
  if (e.code === '57P03') {
    return new EnvironmentError(`PostgreSQL at ${where} is not accepting connections yet: ${msg}`, {hint: 'wait for it to finish starting and try again', cause: error})
  }
  if (e.code === '42501') {
    return new EnvironmentError(`permission denied: ${msg}`, {hint: e.hint ?? 'connect as a superuser (e.g. postgres)', cause: error})
  }
  const sqlstate = e.code && /^[0-9A-Z]{5}$/.test(e.code) ? ` [SQLSTATE ${e.code}]` : ''
  const detail = e.detail ? ` — ${e.detail}` : ''
  return new EnvironmentError(`PostgreSQL error${sqlstate}: ${msg}${detail}`, {hint: e.hint, cause: error})
}

/** Fails with exit 5 unless the session is a superuser. */
export async function requireSuperuser(client: Queryable, what: string): Promise<void> {
  const r = await client.query<{rolsuper: boolean; user: string}>('SELECT rolsuper, current_user AS user FROM pg_catalog.pg_roles WHERE rolname = current_user')
  const row = r.rows[0]
  if (!row?.rolsuper) {
    throw new EnvironmentError(`${what} needs a superuser; connected as "${row?.user ?? 'unknown'}", which is not one`, {
      hint: 'connect as a superuser (e.g. postgresql://postgres@HOST/DB), or ask your DBA to run it',
    })
  }
}

/** What status/install/apply need from a client (a fake one in unit tests). */
export interface Queryable {
  query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{rows: R[]; rowCount?: number | null}>
}

/** Runs fn with a connection, always closing it; errors mapped. */
export async function withClient<T>(target: ConnectionTarget, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connect(target)
  try {
    return await fn(client)
  } catch (error) {
    throw mapPgError(error, target)
  } finally {
    await client.end().catch(() => {})
  }
}
