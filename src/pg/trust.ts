/**
 * The database's trust state (the extension's tables hessra_trusted_keys and hessra_revocations, 0.5.0):
 * what `hessra revoke --database`, `hessra pg keys` and `hessra pg status` read and change.
 *
 * Only superusers change the tables (the extension refuses anyone else), and a committed change counts at
 * the next statement of every session and on hot standbys after replay (docs/DESIGN.md, "Trust in the
 * database"). Every statement here is parameterized, runs with search_path pinned to pg_catalog, and names
 * the tables and functions with the schema the extension is installed in, read from pg_extension.
 */
import {closeSync, constants, fstatSync, openSync, readSync} from 'node:fs'

import {isRevocationId} from '../config/index.js'
import {ConfigError, EnvironmentError, InputError, IoError, UsageError} from '../errors.js'
import {requireSuperuser, type Queryable} from './connect.js'
import {EXTENSION_NAME} from './install.js'
import {quoteIdent} from './sql.js'

export const KEYS_TABLE = 'hessra_trusted_keys'
export const REVOCATIONS_TABLE = 'hessra_revocations'
/** Extension versions made before the tables existed. */
const VERSIONS_WITHOUT_TABLES = new Set(['0.1.0', '0.2.0', '0.3.0', '0.4.0'])
/** Bounds of one `--from-file` list: bytes read, and ids (100,000 is the figure the design is measured at). */
export const MAX_REVOCATION_LIST_BYTES = 256 * 1024 * 1024
export const MAX_REVOCATION_LIST_IDS = 1_000_000
/** Ids per INSERT statement (all of them in one transaction). */
const INSERT_BATCH = 20_000

const PIN_SEARCH_PATH = 'SET LOCAL search_path = pg_catalog, pg_temp'

export interface ExtensionInfo {
  /** the schema the extension is in, as an identifier ready for SQL */
  schema: string
  version: string
  hasTrustTables: boolean
}

/** Where the extension is installed (pg_extension, never the search_path); a clear error when it is not. */
export async function extensionInfo(client: Queryable): Promise<ExtensionInfo | null> {
  const r = await client.query<{nspname: string; extversion: string}>(
    'SELECT n.nspname, e.extversion FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1',
    [EXTENSION_NAME],
  )
  const row = r.rows[0]
  if (!row) return null
  return {schema: quoteIdent(row.nspname, 'extension schema'), version: row.extversion, hasTrustTables: !VERSIONS_WITHOUT_TABLES.has(row.extversion)}
}

/** extensionInfo, refusing a database without the extension or with a version that has no trust tables. */
export async function trustTables(client: Queryable, what: string): Promise<ExtensionInfo> {
  await requireSuperuser(client, what)
  const ext = await extensionInfo(client)
  if (!ext) throw new EnvironmentError('the hessra extension is not created in this database', {hint: 'run `hessra pg install --database URL` first'})
  if (!ext.hasTrustTables) {
    throw new EnvironmentError(`the hessra extension in this database is version ${ext.version}, which keeps no keys or revocations in tables (0.5.0 does)`, {
      hint: 'run `ALTER EXTENSION hessra UPDATE` (or `hessra pg install --database URL`)',
    })
  }
  return ext
}

async function inTransaction<T>(client: Queryable, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN')
  try {
    await client.query(PIN_SEARCH_PATH)
    const r = await fn()
    await client.query('COMMIT')
    return r
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  }
}

// ---- revocations ---------------------------------------------------------------------------------

/**
 * The ids of a revocation list: one per line, hex as `hessra inspect` shows them (either case); blank lines
 * and `#` comments ignored; each id once, lower-case. A line that is not an id is an error naming it
 * (never quoting it: a list may hold a token pasted by mistake).
 */
export function parseRevocationList(text: string, source: string): string[] {
  const ids = new Set<string>()
  const lines = text.split(/\r?\n/)
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    if (!isRevocationId(line)) {
      throw new InputError(`${source} line ${i + 1} is not a revocation id (expected hex, as \`hessra inspect\` shows them, at most 256 digits)`)
    }
    ids.add(line.toLowerCase())
    if (ids.size > MAX_REVOCATION_LIST_IDS) throw new InputError(`${source} holds more than ${MAX_REVOCATION_LIST_IDS} revocation ids; split it`)
  }
  if (ids.size === 0) throw new InputError(`${source} holds no revocation id`)
  return [...ids]
}

/** Reads a revocation list: `-` is stdin; a path must be a regular file. At most MAX_REVOCATION_LIST_BYTES. */
export async function readRevocationList(spec: string, stdin: AsyncIterable<Buffer | string> = process.stdin): Promise<{text: string; source: string}> {
  const tooLarge = (source: string) => new InputError(`${source} is larger than ${MAX_REVOCATION_LIST_BYTES / (1024 * 1024)} MiB; split it`)
  if (spec === '-') {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of stdin) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      size += b.length
      if (size > MAX_REVOCATION_LIST_BYTES) throw tooLarge('stdin')
      chunks.push(b)
    }
    return {text: Buffer.concat(chunks).toString('utf8'), source: 'stdin'}
  }
  let fd: number
  try {
    // O_NONBLOCK: a FIFO must not block the open (it is refused below)
    fd = openSync(spec, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    throw new IoError(`cannot read ${spec} (${(error as {code?: string}).code ?? 'error'})`)
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) throw new IoError(`${spec} is not a regular file`, {hint: 'use `--from-file -` to read a pipe'})
    if (st.size > MAX_REVOCATION_LIST_BYTES) throw tooLarge(spec)
    const buf = Buffer.alloc(st.size)
    let off = 0
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off)
      if (n === 0) break
      off += n
    }
    return {text: buf.subarray(0, off).toString('utf8'), source: spec}
  } finally {
    closeSync(fd)
  }
}

export interface DatabaseRevokeResult {
  /** ids that were not listed yet */
  added: string[]
  /** how many of the ids given were listed already */
  alreadyRevoked: number
  schema: string
}

/**
 * Lists revocation ids (lower-case hex) in the database's hessra_revocations, in one transaction: every id
 * or none. Ids already listed are kept as they were (their time and reason).
 */
export async function revokeInDatabase(client: Queryable, ids: readonly string[], opts: {reason?: string} = {}): Promise<DatabaseRevokeResult> {
  for (const id of ids) if (!isRevocationId(id)) throw new UsageError('not a revocation id: expected hex, as `hessra inspect` shows them')
  if (opts.reason !== undefined && Buffer.byteLength(opts.reason) > 1024) throw new UsageError('--reason is at most 1024 bytes')
  const ext = await trustTables(client, 'revoking tokens in the database')
  const added = await inTransaction(client, async () => {
    const out: string[] = []
    for (let i = 0; i < ids.length; i += INSERT_BATCH) {
      const r = await client.query<{id: string}>(
        `INSERT INTO ${ext.schema}.${REVOCATIONS_TABLE} (revocation_id, reason)
         SELECT pg_catalog.decode(x, 'hex'), $2 FROM pg_catalog.unnest($1::pg_catalog.text[]) AS x
         ON CONFLICT (revocation_id) DO NOTHING
         RETURNING pg_catalog.encode(revocation_id, 'hex') AS id`,
        [ids.slice(i, i + INSERT_BATCH).map((id) => id.toLowerCase()), opts.reason ?? null],
      )
      for (const row of r.rows) out.push(row.id)
    }
    return out
  })
  return {added, alreadyRevoked: new Set(ids.map((id) => id.toLowerCase())).size - added.length, schema: ext.schema}
}

// ---- keys ----------------------------------------------------------------------------------------

export interface TrustedKey {
  id: string
  publicKey: string
  rootKeyId: number | null
  source: 'file' | 'database'
  isDefault: boolean
  /** database keys: when the row was added */
  addedAt: string | null
}

export interface KeyListing {
  keys: TrustedKey[]
  /** why the trust in effect could not be read (then only the table's rows are listed) */
  error: string | null
}

interface SummaryKey {
  id: string
  public_key: string
  root_key_id: number | null
  source: 'file' | 'database'
}

/** Every key the database trusts now: the configuration file's and the table's (hessra_trust_summary()). */
export async function listKeys(client: Queryable): Promise<KeyListing> {
  const ext = await trustTables(client, 'listing the trusted keys')
  const rows = await client.query<{key_id: string; public_key: string; root_key_id: string | null; is_default: boolean; added_at: Date}>(
    `SELECT key_id, public_key, root_key_id, is_default, added_at FROM ${ext.schema}.${KEYS_TABLE} ORDER BY key_id`,
  )
  const added = new Map(rows.rows.map((r) => [r.key_id, r.added_at.toISOString()]))
  try {
    const s = await client.query<{s: {default_key: string | null; keys: SummaryKey[]}}>(`SELECT ${ext.schema}.hessra_trust_summary() AS s`)
    const summary = s.rows[0].s
    return {
      keys: summary.keys.map((k) => ({id: k.id, publicKey: k.public_key, rootKeyId: k.root_key_id, source: k.source, isDefault: k.id === summary.default_key, addedAt: added.get(k.id) ?? null})),
      error: null,
    }
  } catch (error) {
    // the configuration does not load (e.g. a conflict between the file and the table): show the rows
    const e = error as {message?: string; detail?: string}
    return {
      keys: rows.rows.map((r) => ({id: r.key_id, publicKey: r.public_key, rootKeyId: r.root_key_id === null ? null : Number(r.root_key_id), source: 'database', isDefault: r.is_default, addedAt: r.added_at.toISOString()})),
      error: [e.message, e.detail].filter(Boolean).join(': '),
    }
  }
}

export interface AddKeyOptions {
  id: string
  /** canonical key text (the engine's: ed25519/<hex> or secp256r1/<hex>) */
  publicKey: string
  rootKeyId?: number
  makeDefault?: boolean
  /** replace a database key with the same id */
  replace?: boolean
}

/** Why a key cannot be added next to the ones trusted now, or null (the engine applies the same rule). */
export function addKeyProblem(current: readonly TrustedKey[], opts: AddKeyOptions): string | null {
  const same = current.find((k) => k.id === opts.id)
  if (same?.source === 'file') return `key id "${opts.id}" is a key of the configuration file: each key id is trusted from one place (remove it there, or choose another id)`
  if (same && !opts.replace) return `key id "${opts.id}" is already trusted by the database (pass --force to replace it)`
  if (opts.rootKeyId !== undefined) {
    const clash = current.find((k) => k.rootKeyId === opts.rootKeyId && k.id !== opts.id)
    if (clash) return `root key id ${opts.rootKeyId} is already used by key "${clash.id}" (${clash.source === 'file' ? 'configuration file' : 'database'})`
  }
  return null
}

/**
 * Adds (or with `replace`, replaces) a key in hessra_trusted_keys, in one transaction that also checks the
 * server loads the result (hessra_reload_config() sees the new row): a key that would make the trust
 * configuration unusable is never committed.
 */
export async function addKey(client: Queryable, opts: AddKeyOptions): Promise<{key: TrustedKey; replaced: boolean}> {
  const listing = await listKeys(client)
  const problem = addKeyProblem(listing.keys, opts)
  if (problem) throw new ConfigError(problem, {field: 'keys'})
  const ext = await trustTables(client, 'adding a trusted key')
  const replaced = listing.keys.some((k) => k.id === opts.id)
  await inTransaction(client, async () => {
    if (opts.makeDefault) await client.query(`UPDATE ${ext.schema}.${KEYS_TABLE} SET is_default = false WHERE is_default AND key_id <> $1`, [opts.id])
    await client.query(
      `INSERT INTO ${ext.schema}.${KEYS_TABLE} (key_id, public_key, root_key_id, is_default) VALUES ($1, $2, $3, $4)
       ON CONFLICT (key_id) DO UPDATE SET public_key = EXCLUDED.public_key, root_key_id = EXCLUDED.root_key_id,
                                          is_default = EXCLUDED.is_default, added_at = pg_catalog.now()`,
      [opts.id, opts.publicKey, opts.rootKeyId ?? null, Boolean(opts.makeDefault)],
    )
    await client.query(`SELECT ${ext.schema}.hessra_reload_config()`)
  })
  const after = await listKeys(client)
  const key = after.keys.find((k) => k.id === opts.id)
  if (!key) throw new EnvironmentError(`key "${opts.id}" was added but the server does not list it`)
  return {key, replaced}
}

/** Why a key may not be removed without --force, or null. */
export function removeKeyProblem(current: readonly TrustedKey[], id: string, force: boolean): string | null {
  const key = current.find((k) => k.id === id)
  if (!key) return `no key "${id}" is trusted by the database`
  if (key.source === 'file') return `key "${id}" comes from the configuration file, not the database: remove it there (\`hessra keys remove ${id} --config FILE\`, then \`hessra pg install\`)`
  if (force) return null
  if (current.length === 1) return `key "${id}" is the last trusted key: without it no token verifies (pass --force to remove it anyway)`
  if (key.isDefault) return `key "${id}" is the default key, used for tokens without a root key id: make another key the default first (\`hessra pg keys add ID KEY --default\`), or pass --force`
  return null
}

/** Removes a database key (rotation: add the new key, make it the default, then remove the old one). */
export async function removeKey(client: Queryable, id: string, opts: {force?: boolean} = {}): Promise<void> {
  const listing = await listKeys(client)
  const problem = removeKeyProblem(listing.keys, id, Boolean(opts.force))
  if (problem) throw new (/no key|comes from/.test(problem) ? ConfigError : UsageError)(problem)
  const ext = await trustTables(client, 'removing a trusted key')
  await inTransaction(client, async () => {
    await client.query(`DELETE FROM ${ext.schema}.${KEYS_TABLE} WHERE key_id = $1`, [id])
  })
}

/** The ids and root key ids of the table's keys (superusers). */
export async function databaseKeyIds(client: Queryable, ext: ExtensionInfo): Promise<{id: string; rootKeyId: number | null}[]> {
  const r = await client.query<{key_id: string; root_key_id: string | null}>(`SELECT key_id, root_key_id FROM ${ext.schema}.${KEYS_TABLE}`)
  return r.rows.map((row) => ({id: row.key_id, rootKeyId: row.root_key_id === null ? null : Number(row.root_key_id)}))
}

// ---- status --------------------------------------------------------------------------------------

export interface TrustCounts {
  keys: number
  revocations: number
}

/** How many keys and revocations the tables hold (superusers; null when they cannot be read). */
export async function trustCounts(client: Queryable, ext: ExtensionInfo): Promise<TrustCounts | null> {
  if (!ext.hasTrustTables) return null
  try {
    const r = await client.query<{keys: string; revocations: string}>(
      `SELECT (SELECT pg_catalog.count(*) FROM ${ext.schema}.${KEYS_TABLE}) AS keys,
              (SELECT pg_catalog.count(*) FROM ${ext.schema}.${REVOCATIONS_TABLE}) AS revocations`,
    )
    return {keys: Number(r.rows[0].keys), revocations: Number(r.rows[0].revocations)}
  } catch {
    return null
  }
}
