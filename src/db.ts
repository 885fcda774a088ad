/**
 * withToken(): an application's queries for one request, run under that request's token, through a
 * node-postgres pool, a pool client or a client — and through PgBouncer in transaction mode.
 *
 * The token goes to the database as a bind parameter of a transaction-local setting
 * (`set_config('hessra.token', $1, true)`), never as SQL text: it is not in pg_stat_statements nor in the
 * statement log, and it ends with the transaction, so the next user of the connection (another
 * request, another PgBouncer client) never inherits it. Nothing is verified here: the database's
 * policies decide, with the keys the database trusts.
 */
import type {Client, Pool, PoolClient} from 'pg'

import {UsageError} from './errors.js'

/** A request's token: its text, or null/undefined/'' for none (the database then sees no token). */
export type RequestToken = string | null | undefined

export interface WithTokenOptions {
  /** The setting the policies read the token from (`hessra pg policy generate --token-setting`). Default `hessra.token`. */
  setting?: string
}

/**
 * COMMIT answered ROLLBACK: a statement of fn failed and fn went on (it caught the error), so the
 * transaction was aborted and nothing of it was committed. `code` is PostgreSQL's SQLSTATE for it,
 * as node-postgres errors carry theirs.
 */
export class TransactionAbortedError extends Error {
  readonly code = '25P02'
  constructor() {
    super('withToken: a statement failed inside the transaction and fn did not rethrow the error; the transaction was rolled back, nothing was committed')
    this.name = 'TransactionAbortedError'
  }
}

/** What withToken uses of a client: query(), and getTransactionStatus() when node-postgres has it (8.x). */
interface Queryable {
  query(text: string, values?: unknown[]): Promise<{command: string}>
  getTransactionStatus?: () => string | null
  release?: (err?: Error | boolean) => void
  on?: (event: 'error', listener: (err: Error) => void) => unknown
  removeListener?: (event: 'error', listener: (err: Error) => void) => unknown
}

interface PoolLike {
  connect(): Promise<Queryable>
  totalCount: number
  idleCount: number
}

/** Clients inside a withToken transaction now (a nested call on one of them is refused). */
const active = new WeakSet<object>()

/**
 * Runs `fn(client)` in a transaction whose token is `token`, and returns what fn returns.
 *
 * Given a `pg.Pool`, takes a client from it for the transaction and always gives it back (discarded by
 * the pool when the connection may be broken); given a client (a `pg.Client`, or a `PoolClient` you
 * checked out), uses it and leaves it open. `BEGIN`; the token set for this transaction only, as a
 * parameter; `fn(client)`; `COMMIT`. When fn throws (or rejects): `ROLLBACK`, then fn's error is
 * rethrown — a ROLLBACK that fails too (a broken connection) never hides it.
 *
 * No token (null, undefined, ''): the transaction's setting is '' — the database sees none, even on a
 * connection where someone ran a session-level `SET hessra.token`. Identity and authorization tokens
 * are passed alike: the policies decide what each proves.
 *
 * Rejects with UsageError, before anything is sent, when the token is not a string (or null/undefined), when
 * `db` is neither a pool nor a client, or when the client is already in a transaction (its own, or an
 * enclosing withToken's: withToken runs its own transaction, and a COMMIT here would commit the outer
 * one). Database errors are node-postgres's own; TransactionAbortedError when fn swallowed a failed
 * statement (COMMIT then rolls back).
 */
export function withToken<T>(pool: Pool, token: RequestToken, fn: (client: PoolClient) => Promise<T> | T, opts?: WithTokenOptions): Promise<T>
export function withToken<C extends Client | PoolClient, T>(client: C, token: RequestToken, fn: (client: C) => Promise<T> | T, opts?: WithTokenOptions): Promise<T>
export async function withToken<T>(db: Pool | Client | PoolClient, token: RequestToken, fn: (client: never) => Promise<T> | T, opts: WithTokenOptions = {}): Promise<T> {
  if (token !== null && token !== undefined && typeof token !== 'string') {
    throw new UsageError(`withToken: the token must be a string, or null for none (got ${describeType(token)})`)
  }
  if (typeof fn !== 'function') throw new UsageError('withToken: fn must be a function (client) => result')
  const setting = opts.setting ?? 'hessra.token'
  if (typeof setting !== 'string' || !setting.includes('.')) throw new UsageError('withToken: setting must name a custom setting, such as hessra.token')
  const target = db as unknown
  if (isPool(target)) {
    const client = await target.connect()
    return transaction(client, token, setting, fn, (err) => client.release?.(err))
  }
  if (!isQueryable(target)) throw new UsageError('withToken: give a pg.Pool, a client checked out of one, or a connected pg.Client')
  if (active.has(target) || inTransaction(target)) {
    throw new UsageError('withToken: this client is already in a transaction; withToken runs its own (give it the pool, or a client outside any transaction)')
  }
  return transaction(target, token, setting, fn)
}

/** The transaction itself; `release` (a client of ours, from a pool) is always called, with the ROLLBACK's error when that failed. */
async function transaction<T>(
  client: Queryable,
  token: RequestToken,
  setting: string,
  fn: (client: never) => Promise<T> | T,
  release?: (err?: Error) => void,
): Promise<T> {
  active.add(client)
  let broken: Error | undefined
  // A connection that dies while checked out also emits 'error' on its client, which nothing listens to
  // (the pool does only while the client is idle): unheard, it would end the process. The failing query
  // rejects with the same error, so the listener only keeps it from being unhandled.
  if (release) client.on?.('error', ignoreError)
  try {
    // A client its last user released inside a transaction (a bug elsewhere) would make our BEGIN a
    // no-op and our COMMIT theirs: that transaction belongs to no one any more, so it is rolled back.
    if (release && inTransaction(client)) await client.query('ROLLBACK')
    await client.query('BEGIN')
    await client.query('SELECT pg_catalog.set_config($1, $2, true)', [setting, token ?? ''])
    const result = await fn(client as never)
    const commit = await client.query('COMMIT')
    // COMMIT of an aborted transaction succeeds, with the tag ROLLBACK
    if (commit.command === 'ROLLBACK') throw new TransactionAbortedError()
    return result
  } catch (error) {
    try {
      await client.query('ROLLBACK')
    } catch (rollbackError) {
      // the connection is gone or unusable: the pool must not hand it out again; fn's error is the one reported
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError))
    }
    throw error
  } finally {
    active.delete(client)
    if (release) {
      client.removeListener?.('error', ignoreError)
      release(broken)
    }
  }
}

function ignoreError(): void {}

function inTransaction(client: Queryable): boolean {
  const status = typeof client.getTransactionStatus === 'function' ? client.getTransactionStatus() : null
  return status === 'T' || status === 'E'
}

function isQueryable(x: unknown): x is Queryable {
  return typeof x === 'object' && x !== null && typeof (x as Queryable).query === 'function'
}

/** A pool hands out clients and counts them; a pg.Client has connect() too, and a pool client has release(). */
function isPool(x: unknown): x is PoolLike {
  if (!isQueryable(x)) return false
  const p = x as Partial<PoolLike> & Queryable
  return typeof p.connect === 'function' && typeof p.release !== 'function' && typeof p.totalCount === 'number' && typeof p.idleCount === 'number'
}

function describeType(x: unknown): string {
  if (x instanceof Uint8Array) return 'bytes: pass the token text'
  return Array.isArray(x) ? 'an array' : typeof x
}
