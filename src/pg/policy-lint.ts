/**
 * `hessra pg policy lint`: the mistakes that make hessra row-level security slow or leaky, read from the
 * catalogs of a real database.
 *
 *   unwrapped-call         a hessra call PostgreSQL evaluates for every row (not inside `(SELECT ...)`)
 *   rls-disabled           hessra policies on a table whose row level security is off: they do nothing
 *   rls-not-forced         row level security not FORCEd: the table owner bypasses every policy
 *   insert-without-check   a permissive INSERT policy without WITH CHECK admits every new row
 *   update-without-check   an UPDATE/ALL policy without WITH CHECK (PostgreSQL reuses USING for new rows:
 *                          say it explicitly, as the generator does)
 *   column-without-index   a policy compares a column that no index serves: the query reads the table
 *   per-row-check          (info) hessra_row_security(column, ...) per row; the index form is faster
 *
 * Which columns a policy compares comes from pg_depend (PostgreSQL records the columns a policy's
 * expressions use), never from parsing its text; which index serves a column from `columns.ts`, the
 * rule `pg policy apply` uses to decide whether to suggest one. Only tables with a policy that calls a
 * hessra function are linted. The analysis (`lintTables`) is separate from the catalog reads
 * (`readLintTables`) so it is unit-tested without a database.
 */
import {tableColumns, type ColumnInfo} from './columns.js'
import type {Queryable} from './connect.js'
import {displayValue, escapeUnsafe} from './sql.js'

// ---- hessra calls in a policy expression ----------------------------------------

export interface HessraCall {
  /** the function name, e.g. hessra_current_subject */
  name: string
  /** inside a scalar subquery `(SELECT ...)`: evaluated once per statement */
  wrapped: boolean
  /** top-level arguments of the call (-1: could not tell) */
  args: number
}

/**
 * The hessra_* calls of an expression as pg_get_expr prints it (`( SELECT public.hessra_x(...) AS ...)`),
 * schema-qualified or not. String literals are not calls.
 */
export function hessraCalls(expr: string): HessraCall[] {
  const calls: HessraCall[] = []
  const re = /(\(\s*SELECT\s+)?(?:(?:"(?:[^"]|"")*"|\w+)\.)?(hessra_\w+)\s*\(/gi
  const code = blankLiterals(expr)
  let m: RegExpExecArray | null
  while ((m = re.exec(code)) !== null) calls.push({name: m[2].toLowerCase(), wrapped: m[1] !== undefined, args: topLevelArguments(code, re.lastIndex)})
  return calls
}

/**
 * The two-argument hessra_row_security(resource, operation) is made to run per row (a resource that
 * differs per row, answered from a per-statement memo); every other hessra call belongs in `(SELECT ...)`.
 */
export function isPerRowForm(call: HessraCall): boolean {
  return call.name === 'hessra_row_security' && call.args === 2
}

/** The calls that are evaluated for every row although they need not be. */
export function unwrappedCalls(expr: string): HessraCall[] {
  return hessraCalls(expr).filter((c) => !c.wrapped && !isPerRowForm(c))
}

/** The expression with every string literal's content replaced by spaces (same length). */
function blankLiterals(expr: string): string {
  return expr.replace(/'(?:[^']|'')*'/g, (lit) => `'${' '.repeat(lit.length - 2)}'`)
}

/** Arguments of the call whose "(" ends just before `from` (nested parentheses skipped). */
function topLevelArguments(code: string, from: number): number {
  let depth = 0
  let args = 1
  let empty = true
  for (let i = from; i < code.length; i++) {
    const c = code[i]
    if (c === '(') depth++
    else if (c === ')') {
      if (depth === 0) return empty ? 0 : args
      depth--
    } else if (c === ',' && depth === 0) args++
    if (!/\s/.test(c)) empty = false
  }
  return -1
}

// ---- the catalog ------------------------------------------------------------------

export interface LintPolicy {
  name: string
  command: 'select' | 'insert' | 'update' | 'delete' | 'all'
  permissive: boolean
  using: string | null
  withCheck: string | null
  /** the columns its expressions use (pg_depend) */
  columns: string[]
}

export interface LintTable {
  /** as regclass prints it */
  table: string
  rls: boolean
  forced: boolean
  policies: LintPolicy[]
  columns: Map<string, ColumnInfo>
}

/** The tables with a policy calling a hessra function (only `table` when given), as lintTables needs them. */
export async function readLintTables(client: Queryable, table?: string): Promise<LintTable[]> {
  const tables = await client.query<{oid: number; name: string; rls: boolean; forced: boolean}>(
    `SELECT c.oid::pg_catalog.int8 AS oid, c.oid::pg_catalog.regclass::pg_catalog.text AS name,
            c.relrowsecurity AS rls, c.relforcerowsecurity AS forced
       FROM pg_catalog.pg_class c
      WHERE EXISTS (SELECT FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid
                       AND (pg_catalog.pg_get_expr(p.polqual, p.polrelid) ~* 'hessra_'
                            OR pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) ~* 'hessra_'))
        AND ($1::pg_catalog.text IS NULL OR c.oid = $1::pg_catalog.regclass)
      ORDER BY 2`,
    [table ?? null],
  )
  const out: LintTable[] = []
  for (const t of tables.rows) {
    const policies = await client.query<{name: string; cmd: LintPolicy['command']; permissive: boolean; using: string | null; with_check: string | null; columns: string[]}>(
      `SELECT p.polname AS name, p.polpermissive AS permissive,
              CASE p.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert' WHEN 'w' THEN 'update' WHEN 'd' THEN 'delete' ELSE 'all' END AS cmd,
              pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS using, pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS with_check,
              ARRAY(SELECT a.attname::pg_catalog.text FROM pg_catalog.pg_depend d
                      JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                     WHERE d.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass AND d.objid = p.oid AND d.refobjsubid > 0
                     ORDER BY a.attnum) AS columns
         FROM pg_catalog.pg_policy p WHERE p.polrelid = $1::pg_catalog.oid ORDER BY 1`,
      [t.oid],
    )
    out.push({
      table: t.name,
      rls: t.rls,
      forced: t.forced,
      policies: policies.rows.map((p) => ({name: p.name, command: p.cmd, permissive: p.permissive, using: p.using, withCheck: p.with_check, columns: p.columns})),
      columns: await tableColumns(client, t.name),
    })
  }
  return out
}

// ---- the rules --------------------------------------------------------------------

export type LintRule = 'unwrapped-call' | 'rls-disabled' | 'rls-not-forced' | 'insert-without-check' | 'update-without-check' | 'column-without-index' | 'per-row-check'

export interface LintFinding {
  table: string
  /** null: about the table */
  policy: string | null
  rule: LintRule
  /** errors and warnings fail the lint (exit 1); notes do not */
  severity: 'error' | 'warning' | 'note'
  message: string
  hint?: string
}

export function lintTables(tables: readonly LintTable[]): LintFinding[] {
  const findings: LintFinding[] = []
  for (const t of tables) {
    const add = (policy: string | null, rule: LintRule, severity: LintFinding['severity'], message: string, hint?: string) =>
      findings.push({table: t.table, policy, rule, severity, message, ...(hint === undefined ? {} : {hint})})
    if (!t.rls) add(null, 'rls-disabled', 'error', 'row level security is not enabled: its policies are not applied', `ALTER TABLE ${t.table} ENABLE ROW LEVEL SECURITY;`)
    else if (!t.forced) add(null, 'rls-not-forced', 'warning', 'row level security is not FORCEd: the table owner bypasses every policy', `ALTER TABLE ${t.table} FORCE ROW LEVEL SECURITY;`)
    for (const p of t.policies) {
      const calls = [...hessraCalls(p.using ?? ''), ...hessraCalls(p.withCheck ?? '')]
      for (const c of calls.filter((x) => !x.wrapped && !isPerRowForm(x))) {
        add(p.name, 'unwrapped-call', 'error', `${c.name}() is evaluated for every row`, `wrap it: (SELECT ${c.name}(...)) runs once per statement`)
      }
      if (p.permissive && p.command === 'insert' && p.withCheck === null) {
        add(p.name, 'insert-without-check', 'error', 'INSERT policy without WITH CHECK: it admits every new row', 'add WITH CHECK (...) with the condition new rows must meet')
      }
      if ((p.command === 'update' || p.command === 'all') && p.withCheck === null && p.using !== null) {
        add(p.name, 'update-without-check', 'warning', `${p.command.toUpperCase()} policy without WITH CHECK: new rows are held to USING only implicitly`, 'write WITH CHECK explicitly (hessra pg policy generate does)')
      }
      const perRow = calls.filter(isPerRowForm)
      if (perRow.length > 0) {
        add(p.name, 'per-row-check', 'note', 'hessra_row_security(column, ...) is evaluated for every row; no index can serve it', 'hessra pg policy generate --resource-column COLUMN writes COLUMN = ANY ((SELECT hessra_granted_resources(...))::text[]), which an index serves')
      } else if (calls.length > 0) {
        for (const column of p.columns) {
          const info = t.columns.get(column)
          if (info === undefined || info.indexed) continue
          add(
            p.name,
            'column-without-index',
            'warning',
            `compares column ${displayValue(column)}, which no index serves: every query reads the whole table`,
            `CREATE INDEX ON ${t.table} (${info.category === 'S' ? quoteName(column) : `(${quoteName(column)}::text)`});`,
          )
        }
      }
    }
  }
  return findings
}

/** Whether the findings fail the lint. */
export function lintFails(findings: readonly LintFinding[]): boolean {
  return findings.some((f) => f.severity !== 'note')
}

/** "name" for a hint (control characters shown as escapes: a hint is printed, not run). */
function quoteName(name: string): string {
  return escapeUnsafe(`"${name.replaceAll('"', '""')}"`)
}
