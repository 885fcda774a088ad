/**
 * `hessra pg policy check`: what each token may do to a table, measured by the database itself — the rows
 * a SELECT sees, the rows an UPDATE and a DELETE would change, the sample rows an INSERT would accept —
 * as a role row-level security applies to.
 *
 * Nothing is left behind: everything runs in one transaction that is always rolled back, each write in a
 * savepoint rolled back at once. Connected as a superuser, triggers and foreign-key checks are off for it
 * (session_replication_role = replica) so that a write has no effect beyond that transaction; otherwise
 * triggers fire inside it (and are rolled back with it; a sequence a default or trigger advances stays
 * advanced, as sequences always do). UPDATE and DELETE lock the rows they touch until the rollback.
 *
 * The role: --role, else the connected user when row-level security applies to it, else (a superuser or a
 * BYPASSRLS role, which policies never restrict) a temporary role created inside the transaction with the
 * table's privileges: it sees what policies `TO PUBLIC` allow (name the application's role with --role
 * when policies are written for it). The token travels as a bind parameter, never in SQL text.
 *
 * UPDATE sets a column to itself (the new row equals the old, so WITH CHECK sees the same values as
 * USING); INSERT re-inserts up to `sample` existing rows (read as the connected user) with ON CONFLICT DO
 * NOTHING, which still applies the policies' WITH CHECK first: a refused row raises the row-level
 * security error, an accepted one conflicts with itself and changes nothing.
 */
import {randomBytes} from 'node:crypto'

import {EnvironmentError, HessraError, UsageError} from '../errors.js'
import {tableColumns} from './columns.js'
import {mapPgError, type Queryable} from './connect.js'
import {EXTENSION_NAME} from './install.js'
import {COMMANDS, PINNED_SEARCH_PATH, splitTable, type SqlCommand} from './policy.js'
import {displayValue, qualifiedName, quoteIdent} from './sql.js'

export interface CheckToken {
  /** how the token is named in the output: its file */
  label: string
  token: string
}

export interface CheckOptions {
  table: string
  schema?: string
  tokens: readonly CheckToken[]
  /** run as this role (default: see the top of this file) */
  role?: string
  /** default all four */
  commands?: readonly SqlCommand[]
  /** rows re-inserted to check INSERT (default 100) */
  sample?: number
}

/** One cell: how many rows the command reached, out of how many it could have. */
export interface Cell {
  allowed: number
  /** the table's rows (SELECT, UPDATE, DELETE) or the sample (INSERT); null when unknown */
  of: number | null
  /** why the command failed outright (e.g. no privilege), or an INSERT row failed other than by RLS */
  error?: string
}

export interface TokenCheck {
  label: string
  /** the token's verified subject or identity (hessra_current_claims); null when it does not verify */
  subject: string | null
  /** whether it verifies now; null when the extension cannot say (before 0.5.0) */
  verifies: boolean | null
  cells: Partial<Record<SqlCommand, Cell>>
}

export interface CheckResult {
  table: string
  role: string
  /** how the role was chosen */
  roleSource: 'option' | 'connected user' | 'temporary role'
  /** rows of the table, when the connected user sees them all */
  rows: number | null
  commands: SqlCommand[]
  tokens: TokenCheck[]
}

export const DEFAULT_SAMPLE = 100

/** Runs the check; always rolls back. */
export async function checkPolicies(client: Queryable, opts: CheckOptions): Promise<CheckResult> {
  const {schema, table} = splitTable(opts.table, opts.schema)
  const qualified = qualifiedName(schema, table)
  const commands = COMMANDS.filter((c) => (opts.commands ?? COMMANDS).includes(c))
  const sample = opts.sample ?? DEFAULT_SAMPLE
  if (opts.tokens.length === 0) throw new UsageError('no token to check', {hint: 'give one or more --token-file FILE'})
  if (!Number.isInteger(sample) || sample < 1) throw new UsageError('--sample must be a positive integer')
  await client.query('BEGIN')
  try {
    await client.query(PINNED_SEARCH_PATH)
    const t = await client.query<{oid: string | null}>('SELECT pg_catalog.to_regclass($1)::pg_catalog.oid::pg_catalog.text AS oid', [qualified])
    if (!t.rows[0]?.oid) throw new UsageError(`table ${qualified} does not exist in this database`, {hint: 'check --table / --schema and --database'})
    const me = (
      await client.query<{name: string; bypasses: boolean; superuser: boolean}>(
        'SELECT r.rolname AS name, r.rolsuper OR r.rolbypassrls AS bypasses, r.rolsuper AS superuser FROM pg_catalog.pg_roles r WHERE r.rolname = current_user',
      )
    ).rows[0]
    const {role, roleSource} = await chooseRole(client, opts.role, me, schema, qualified)
    if (me.superuser) await client.query('SET LOCAL session_replication_role = replica')
    const rows = me.bypasses ? Number((await client.query<{n: string}>(`SELECT count(*) AS n FROM ${qualified}`)).rows[0].n) : null
    const columns = [...(await tableColumns(client, qualified)).values()]
    const insertable = columns.filter((c) => !c.generated).map((c) => quoteIdent(c.name, 'column name'))
    const updatable = columns.find((c) => !c.generated && !c.identityAlways)
    const sampleRows = commands.includes('insert')
      ? (await client.query<{row: unknown}>(`SELECT pg_catalog.to_jsonb(t) AS row FROM ${qualified} t LIMIT ${sample}`)).rows.map((r) => r.row)
      : []
    const claims = await claimsCall(client)

    const results: TokenCheck[] = []
    for (const tok of opts.tokens) {
      await client.query('SAVEPOINT hessra_check_token')
      await client.query("SELECT pg_catalog.set_config('hessra.token', $1, true)", [tok.token])
      if (roleSource !== 'connected user') await client.query(`SET LOCAL ROLE ${quoteIdent(role, 'role name')}`)
      const found = claims === null ? null : (await client.query<{c: {subject?: string | null; identity?: string | null} | null}>(`SELECT ${claims} AS c`)).rows[0].c
      const cells: Partial<Record<SqlCommand, Cell>> = {}
      for (const command of commands) {
        if (command === 'select') cells.select = await measure(client, rows, `SELECT count(*) AS n FROM ${qualified}`, true)
        if (command === 'update') {
          cells.update = updatable
            ? await measure(client, rows, `UPDATE ${qualified} SET ${quoteIdent(updatable.name, 'column name')} = ${quoteIdent(updatable.name, 'column name')}`)
            : {allowed: 0, of: rows, error: 'no column an UPDATE may set'}
        }
        if (command === 'delete') cells.delete = await measure(client, rows, `DELETE FROM ${qualified}`)
        if (command === 'insert') cells.insert = await reinsert(client, qualified, insertable, sampleRows)
      }
      await client.query('ROLLBACK TO SAVEPOINT hessra_check_token')
      results.push({label: tok.label, subject: found?.identity ?? found?.subject ?? null, verifies: claims === null ? null : found !== null, cells})
    }
    return {table: qualified, role, roleSource, rows, commands, tokens: results}
  } catch (error) {
    if (error instanceof HessraError) throw error
    const e = error as {code?: string; message?: string}
    if (e.code === '42501') throw new EnvironmentError(`${e.message}`, {hint: 'connect as the table owner or a superuser, or name a role you may SET ROLE to with --role'})
    throw mapPgError(error)
  } finally {
    await client.query('ROLLBACK').catch(() => {})
  }
}

/** The role to run as (see the top of this file). */
async function chooseRole(
  client: Queryable,
  given: string | undefined,
  me: {name: string; bypasses: boolean},
  schema: string,
  qualified: string,
): Promise<{role: string; roleSource: CheckResult['roleSource']}> {
  if (given !== undefined) {
    const r = await client.query<{bypasses: boolean}>('SELECT r.rolsuper OR r.rolbypassrls AS bypasses FROM pg_catalog.pg_roles r WHERE r.rolname = $1', [given])
    if (r.rows.length === 0) throw new UsageError(`role ${displayValue(given)} does not exist`, {hint: 'check --role'})
    if (r.rows[0].bypasses) throw new UsageError(`role ${displayValue(given)} bypasses row level security (superuser or BYPASSRLS): policies would not apply to it`, {hint: "name the application's role"})
    return {role: given, roleSource: 'option'}
  }
  if (!me.bypasses) return {role: me.name, roleSource: 'connected user'}
  const role = `hessra_check_${randomBytes(6).toString('hex')}`
  const r = quoteIdent(role, 'role name')
  await client.query(`CREATE ROLE ${r} NOLOGIN`)
  await client.query(`GRANT USAGE ON SCHEMA ${quoteIdent(schema, 'schema name')} TO ${r}`)
  await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${qualified} TO ${r}`)
  const ext = await client.query<{nspname: string}>(
    'SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1',
    [EXTENSION_NAME],
  )
  if (ext.rows[0]) await client.query(`GRANT USAGE ON SCHEMA ${quoteIdent(ext.rows[0].nspname, 'schema name')} TO ${r}`)
  return {role, roleSource: 'temporary role'}
}

/** The call reading the token's claims, qualified by the extension's schema; null before 0.5.0. */
async function claimsCall(client: Queryable): Promise<string | null> {
  const r = await client.query<{nspname: string}>(
    `SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
      WHERE e.extname = $1 AND pg_catalog.to_regprocedure(pg_catalog.quote_ident(n.nspname) || '.hessra_current_claims(text,text,text)') IS NOT NULL`,
    [EXTENSION_NAME],
  )
  return r.rows[0] ? `${quoteIdent(r.rows[0].nspname, 'extension schema')}.hessra_current_claims()` : null
}

/** Runs one statement in a savepoint rolled back at once: the rows it reached, or why it failed. */
async function measure(client: Queryable, of: number | null, sql: string, counts = false): Promise<Cell> {
  await client.query('SAVEPOINT hessra_check_write')
  try {
    const r = await client.query<{n: string}>(sql)
    return {allowed: counts ? Number(r.rows[0].n) : (r.rowCount ?? 0), of}
  } catch (error) {
    return {allowed: 0, of, error: (error as Error).message}
  } finally {
    await client.query('ROLLBACK TO SAVEPOINT hessra_check_write')
  }
}

/** Re-inserts each sample row (see the top of this file): how many the policies accept. */
async function reinsert(client: Queryable, qualified: string, columns: string[], rows: unknown[]): Promise<Cell> {
  const list = columns.join(', ')
  const sql = `INSERT INTO ${qualified} (${list}) OVERRIDING SYSTEM VALUE SELECT ${list} FROM pg_catalog.jsonb_populate_record(NULL::${qualified}, $1::pg_catalog.jsonb) ON CONFLICT DO NOTHING`
  const cell: Cell = {allowed: 0, of: rows.length}
  for (const row of rows) {
    await client.query('SAVEPOINT hessra_check_write')
    try {
      await client.query(sql, [JSON.stringify(row)])
      cell.allowed++
    } catch (error) {
      const e = error as {code?: string; message?: string}
      if (!(e.code === '42501' && /row-level security/.test(e.message ?? ''))) cell.error ??= e.message
    } finally {
      await client.query('ROLLBACK TO SAVEPOINT hessra_check_write')
    }
  }
  return cell
}

// ---- expectations -------------------------------------------------------------------

export interface Expectation {
  /** as given */
  spec: string
  /** the token's label, null: every token */
  token: string | null
  command: SqlCommand
  op: '=' | '>' | '<'
  /** 'all': every row (SELECT, UPDATE, DELETE) or every sample row (INSERT) */
  value: number | 'all'
  /** from `*`: only for the commands that were checked */
  wildcard: boolean
}

export interface ExpectationOutcome {
  spec: string
  token: string
  command: SqlCommand
  ok: boolean
  actual: number | null
  expected: string
}

/**
 * `--expect [TOKEN:]COMMAND=VALUE[,COMMAND=VALUE...]`: TOKEN names a --token-file (its path or file name;
 * omitted: every token), COMMAND is select, insert, update, delete or * (all four), VALUE a number,
 * >N, <N, all, none (0) or some (>0).
 */
export function parseExpectations(specs: readonly string[], labels: readonly string[]): Expectation[] {
  const out: Expectation[] = []
  for (const spec of specs) {
    const colon = spec.lastIndexOf(':')
    const tokenPart = colon >= 0 ? spec.slice(0, colon) : null
    const token = tokenPart === null ? null : resolveLabel(tokenPart, labels, spec)
    for (const part of spec.slice(colon + 1).split(',').map((s) => s.trim()).filter((s) => s !== '')) {
      const m = /^(select|insert|update|delete|\*)\s*=\s*(all|none|some|[<>]?\d+)$/i.exec(part)
      if (!m) {
        throw new UsageError(`--expect ${displayValue(spec)}: ${displayValue(part)} is not COMMAND=VALUE`, {
          hint: 'e.g. --expect select=all, --expect expired.token:*=none, --expect alice.token:select=>0,delete=0',
        })
      }
      const raw = m[2].toLowerCase()
      const [op, value]: [Expectation['op'], Expectation['value']] =
        raw === 'all' ? ['=', 'all'] : raw === 'none' ? ['=', 0] : raw === 'some' ? ['>', 0] : raw.startsWith('>') || raw.startsWith('<') ? [raw[0] as '>' | '<', Number(raw.slice(1))] : ['=', Number(raw)]
      const commands = m[1] === '*' ? COMMANDS : [m[1].toLowerCase() as SqlCommand]
      for (const command of commands) out.push({spec, token, command, op, value, wildcard: m[1] === '*'})
    }
  }
  return out
}

function resolveLabel(name: string, labels: readonly string[], spec: string): string {
  const exact = labels.filter((l) => l === name)
  const byBase = labels.filter((l) => baseName(l) === name)
  const hits = exact.length > 0 ? exact : byBase
  if (hits.length === 1) return hits[0]
  throw new UsageError(`--expect ${displayValue(spec)}: ${hits.length === 0 ? 'no' : 'more than one'} --token-file is named ${displayValue(name)}`, {
    hint: `token files: ${labels.map((l) => displayValue(l)).join(', ')}`,
  })
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1)
}

export function evaluateExpectations(result: CheckResult, expectations: readonly Expectation[]): ExpectationOutcome[] {
  const out: ExpectationOutcome[] = []
  for (const e of expectations) {
    if (e.wildcard && !result.commands.includes(e.command)) continue
    for (const t of result.tokens.filter((x) => e.token === null || x.label === e.token)) {
      const cell = t.cells[e.command]
      const target = e.value === 'all' ? (cell?.of ?? null) : e.value
      const actual = cell === undefined || (cell.error !== undefined && cell.allowed === 0) ? null : cell.allowed
      const ok =
        actual !== null && target !== null && (e.op === '=' ? actual === target : e.op === '>' ? actual > target : actual < target)
      out.push({spec: e.spec, token: t.label, command: e.command, ok, actual, expected: `${e.op === '=' ? '' : e.op}${e.value === 'all' ? `all (${target ?? '?'})` : e.value}`})
    }
  }
  return out
}

// ---- output -------------------------------------------------------------------------

/** The matrix as text lines: a row per token, a column per command. */
export function formatCheck(result: CheckResult): string[] {
  const header = ['token', ...result.commands.map((c) => c.toUpperCase())]
  const cell = (c: Cell | undefined) => (c === undefined ? '' : c.error !== undefined && c.allowed === 0 ? 'error' : c.of === null ? String(c.allowed) : `${c.allowed}/${c.of}`)
  const body = result.tokens.map((t) => [
    `${t.label}${t.verifies === null ? '' : t.subject !== null ? ` (${t.subject})` : t.verifies ? '' : ' (does not verify)'}`,
    ...result.commands.map((c) => cell(t.cells[c])),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)))
  const line = (r: string[]) => r.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ').trimEnd()
  const lines = [
    `${result.table} as role ${displayValue(result.role)} (${result.roleSource})${result.rows === null ? '' : `, ${result.rows} rows`}`,
    line(header),
    ...body.map(line),
  ]
  for (const t of result.tokens) {
    for (const c of result.commands) {
      const e = t.cells[c]?.error
      if (e !== undefined) lines.push(`  ${t.label} ${c.toUpperCase()}: ${e}`)
    }
  }
  if (result.roleSource === 'temporary role') lines.push('  (a temporary role: policies written for other roles do not apply to it; name one with --role)')
  return lines
}
