/**
 * `hessra pg status`: is the extension installed, configured and loading its keys; what RLS tables carry
 * hessra policies. Gathering (queries) and judging (pure, unit-tested) are separate.
 */
import {mapPgError, type Queryable} from './connect.js'
import {EXTENSION_NAME} from './install.js'
import {POLICY_PREFIX} from './policy.js'
import {hessraCalls, unwrappedCalls} from './policy-lint.js'
import {extensionInfo, trustCounts, type TrustCounts} from './trust.js'

export interface PolicyInfo {
  name: string
  command: string
  roles: string[]
  permissive: boolean
  using: string | null
  withCheck: string | null
  /** the hessra check is wrapped in (SELECT ...) */
  perStatement: boolean
}

export interface TableStatus {
  schema: string
  table: string
  rlsEnabled: boolean
  rlsForced: boolean
  hessraPolicies: PolicyInfo[]
  otherPolicies: number
}

export interface StatsInfo {
  calls: number
  statement_cache_hits: number
  verifications: number
  cache_hits: number
  cache_misses: number
  cache_entries: number
  cache_capacity: number
  config_generation: number
  config_loaded: boolean
}

export interface StatusReport {
  server: {version: string; user: string; superuser: boolean; database: string}
  extension: {available: boolean; installed: boolean; version: string | null; defaultVersion: string | null}
  config: {
    path: string | null
    loads: boolean | null
    error: string | null
    /** key ids, when the file could be read (superuser) */
    keys: string[] | null
    /** why the key ids are unknown to a superuser (the file could not be read or parsed); else null */
    keysError?: string | null
    defaultKey: string | null
  }
  stats: StatsInfo | null
  /** the extension's tables (0.5.0): how many keys and revoked ids the database holds; null unknown (not a superuser, older version) */
  trust: TrustCounts | null
  tables: TableStatus[]
}

export interface Judgement {
  healthy: boolean
  problems: string[]
  warnings: string[]
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v))

export async function gatherStatus(client: Queryable): Promise<StatusReport> {
  const who = await client.query<{version: string; user: string; superuser: boolean; database: string}>(
    `SELECT current_setting('server_version') AS version, current_user AS user, current_database() AS database,
            (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) AS superuser`,
  )
  const server = {...who.rows[0], superuser: Boolean(who.rows[0]?.superuser)}
  const ext = await client.query<{default_version: string | null; installed_version: string | null}>(
    'SELECT default_version, installed_version FROM pg_catalog.pg_available_extensions WHERE name = $1',
    [EXTENSION_NAME],
  )
  const installedRow = await client.query<{extversion: string; nspname: string}>(
    'SELECT e.extversion, n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1',
    [EXTENSION_NAME],
  )
  const installed = installedRow.rows.length > 0
  const extension = {
    available: ext.rows.length > 0,
    installed,
    version: installedRow.rows[0]?.extversion ?? null,
    defaultVersion: ext.rows[0]?.default_version ?? null,
  }
  const schema = installedRow.rows[0]?.nspname ?? 'public'
  const fn = (name: string) => `${quoteSchema(schema)}.${name}`

  const pathRow = await client.query<{p: string | null}>("SELECT current_setting('hessra.config_path', true) AS p")
  const path = pathRow.rows[0]?.p && pathRow.rows[0].p !== '' ? pathRow.rows[0].p : null
  const config: StatusReport['config'] = {path, loads: null, error: null, keys: null, keysError: null, defaultKey: null}
  let stats: StatsInfo | null = null
  // ==== trust in the database (issue 22) ====
  const trustTables = installed && server.superuser ? await extensionInfo(client) : null
  const trust = trustTables ? await trustCounts(client, trustTables) : null
  // ==== end trust in the database ====

  if (installed) {
    // does the configuration load? (a verification with a non-token loads it; a broken config is an ERROR)
    if (path) {
      try {
        if (server.superuser) await client.query(`SELECT ${fn('hessra_reload_config')}()`)
        else await client.query(`SELECT ${fn('hessra_verify_token')}('not-a-token', 'status', 'status')`)
        config.loads = true
      } catch (error) {
        config.loads = false
        const e = error as {message?: string; detail?: string; hint?: string}
        config.error = [e.message, e.detail, e.hint ? `hint: ${e.hint}` : undefined].filter(Boolean).join(' — ')
      }
    } else {
      config.loads = false
      config.error = 'hessra.config_path is not set'
    }
    if (path && server.superuser) {
      try {
        const f = await client.query<{t: string}>('SELECT pg_catalog.pg_read_file($1) AS t', [path])
        const parsed = JSON.parse(f.rows[0]?.t ?? '{}') as {keys?: {id?: string}[]; default_key?: string | null}
        config.keys = Array.isArray(parsed.keys) ? parsed.keys.map((k) => String(k?.id ?? '?')) : []
        config.defaultKey = parsed.default_key ?? null
      } catch (error) {
        config.keys = null
        config.keysError = `cannot read ${path}: ${(error as {message?: string}).message ?? String(error)}`
      }
    }
    try {
      const s = await client.query(`SELECT * FROM ${fn('hessra_stats')}()`)
      const r = s.rows[0] ?? {}
      stats = {
        calls: num(r.calls),
        statement_cache_hits: num(r.statement_cache_hits),
        verifications: num(r.verifications),
        cache_hits: num(r.cache_hits),
        cache_misses: num(r.cache_misses),
        cache_entries: num(r.cache_entries),
        cache_capacity: num(r.cache_capacity),
        config_generation: num(r.config_generation),
        config_loaded: Boolean(r.config_loaded),
      }
    } catch {
      stats = null // 0.1.0 has no hessra_stats(); from 0.3.0 only pg_monitor members may call it
    }
  }

  const t = await client.query<{schema: string; table: string; rls: boolean; forced: boolean}>(
    `SELECT n.nspname AS schema, c.relname AS table, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p')
        AND (c.relrowsecurity OR EXISTS (SELECT 1 FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid))
        AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      ORDER BY 1, 2`,
  )
  const pol = await client.query<{schema: string; table: string; name: string; cmd: string; roles: string[] | string; permissive: string; qual: string | null; with_check: string | null}>(
    `SELECT schemaname AS schema, tablename AS table, policyname AS name, cmd, roles, permissive, qual, with_check
       FROM pg_catalog.pg_policies ORDER BY 1, 2, 3`,
  )
  const tables: TableStatus[] = t.rows.map((row) => {
    const mine = pol.rows.filter((p) => p.schema === row.schema && p.table === row.table)
    const hessra = mine.filter((p) => p.name.startsWith(POLICY_PREFIX) || /hessra_/.test(`${p.qual ?? ''} ${p.with_check ?? ''}`))
    return {
      schema: row.schema,
      table: row.table,
      rlsEnabled: Boolean(row.rls),
      rlsForced: Boolean(row.forced),
      hessraPolicies: hessra.map((p) => ({
        name: p.name,
        command: p.cmd,
        roles: parseRoles(p.roles),
        permissive: p.permissive === 'PERMISSIVE',
        using: p.qual,
        withCheck: p.with_check,
        perStatement: checksArePerStatement(`${p.qual ?? ''} ${p.with_check ?? ''}`),
      })),
      otherPolicies: mine.length - hessra.length,
    }
  })
  return {server, extension, config, stats, trust, tables: tables.filter((x) => x.hessraPolicies.length > 0 || x.rlsEnabled)}
}

function quoteSchema(s: string): string {
  return `"${s.replaceAll('"', '""')}"`
}

/** pg returns name[] as a JS array, or as "{a,b}" text for some drivers. */
export function parseRoles(v: string[] | string | null | undefined): string[] {
  if (Array.isArray(v)) return v
  if (typeof v !== 'string') return []
  return v
    .replace(/^\{|\}$/g, '')
    .split(',')
    .map((s) => s.replace(/^"|"$/g, ''))
    .filter(Boolean)
}

/**
 * Every hessra_* call in a policy expression (as pg_get_expr prints it) sits inside a scalar subquery —
 * except the two-argument hessra_row_security(resource, operation), made for resources that differ per
 * row (the rule is policy-lint.ts's unwrappedCalls, shared with `pg policy lint`).
 */
export function checksArePerStatement(expr: string): boolean {
  return hessraCalls(expr).length > 0 && unwrappedCalls(expr).length === 0
}

export function judgeStatus(r: StatusReport): Judgement {
  const problems: string[] = []
  const warnings: string[] = []
  if (!r.extension.available) problems.push('the hessra extension is not installed on the server (run `hessra pg install`)')
  else if (!r.extension.installed) problems.push('the hessra extension is available but not created in this database (run `hessra pg install --database ...` or CREATE EXTENSION hessra)')
  else if (r.extension.defaultVersion && r.extension.version !== r.extension.defaultVersion) {
    warnings.push(`extension version ${r.extension.version} is older than the installed files (${r.extension.defaultVersion}): ALTER EXTENSION hessra UPDATE`)
  }
  if (r.extension.installed) {
    if (!r.config.path) problems.push('hessra.config_path is not set: no key is trusted (run `hessra pg install --database ...`)')
    else if (r.config.loads === false) problems.push(`the configuration ${r.config.path} does not load: ${r.config.error ?? 'unknown error'}`)
    if (r.config.keys !== null && r.config.keys.length === 0) problems.push(`the configuration ${r.config.path} holds no keys`)
    if (!r.server.superuser) warnings.push('not connected as a superuser: key ids not shown')
  }
  for (const t of r.tables) {
    const name = `${t.schema}.${t.table}`
    if (t.hessraPolicies.length > 0 && !t.rlsEnabled) problems.push(`${name} has hessra policies but row level security is DISABLED: they are not enforced`)
    if (t.hessraPolicies.length > 0 && t.rlsEnabled && !t.rlsForced) warnings.push(`${name}: row level security is not FORCEd, so the table owner bypasses it`)
    for (const p of t.hessraPolicies) if (!p.perStatement) warnings.push(`${name}: policy ${p.name} calls hessra per row (wrap the call in (SELECT ...))`)
    if (t.hessraPolicies.length > 0 && t.otherPolicies > 0) warnings.push(`${name}: ${t.otherPolicies} other polic${t.otherPolicies === 1 ? 'y' : 'ies'} on the table: permissive policies are OR-ed with hessra's`)
  }
  return {healthy: problems.length === 0, problems, warnings}
}

export async function getStatus(client: Queryable): Promise<{report: StatusReport; judgement: Judgement}> {
  try {
    const report = await gatherStatus(client)
    return {report, judgement: judgeStatus(report)}
  } catch (error) {
    throw mapPgError(error)
  }
}
