/**
 * Row-level security policy generation (`hessra pg policy generate|apply`).
 *
 * What the generator rules out (the common RLS mistakes):
 *  - per-row evaluation: every hessra call is wrapped in `(SELECT ...)`, an uncorrelated scalar subquery
 *    that PostgreSQL runs once per statement (an InitPlan), not once per row — except a resource read
 *    from a column (--resource-column), which differs per row: that check is
 *    `hessra_row_security(column, operation)`, which reads hessra.token itself and answers a repeated
 *    resource from a per-statement memo;
 *  - table owners bypassing the policies: `ENABLE` and `FORCE ROW LEVEL SECURITY`;
 *  - writes that escape the check: INSERT and UPDATE get a `WITH CHECK`;
 *  - re-applying piling up or clobbering policies: every generated policy is named `hessra_*`, and the
 *    SQL first drops the table's `hessra_*` policies (and no others), all in one transaction.
 */
import {createHash} from 'node:crypto'

import {UsageError} from '../errors.js'
import {dollarTag, MAX_IDENT_BYTES, qualifiedName, quoteIdent, quoteLiteral} from './sql.js'

export const COMMANDS = ['select', 'insert', 'update', 'delete'] as const
export type SqlCommand = (typeof COMMANDS)[number]

/** Hessra operation checked for each SQL command unless --operation-map says otherwise. */
export const DEFAULT_OPERATION_MAP: Readonly<Record<SqlCommand, string>> = Object.freeze({
  select: 'read',
  insert: 'write',
  update: 'write',
  delete: 'write',
})

export const DEFAULT_TOKEN_SETTING = 'hessra.token'
export const POLICY_PREFIX = 'hessra_'

export interface PolicyOptions {
  table: string
  /** default "public" */
  schema?: string
  /** default: all four */
  operations?: readonly SqlCommand[]
  /** merged over DEFAULT_OPERATION_MAP */
  operationMap?: Partial<Record<SqlCommand, string>>
  /** Resource template: {table}, {schema}, {command}, {operation}; default "{table}". */
  resource?: string
  /** Per-row resources: the resource is this column's value (instead of the --resource template). */
  resourceColumn?: string
  /** Owner-column mode: rows whose column equals the token's subject. */
  ownerColumn?: string
  /** One policy per command and role; empty: PUBLIC. */
  roles?: readonly string[]
  /** Setting the token is read from; default hessra.token. */
  tokenSetting?: string
  /** PERMISSIVE (default) or RESTRICTIVE policies. */
  as?: 'permissive' | 'restrictive'
}

export interface GeneratedPolicy {
  name: string
  command: SqlCommand
  role: string | null
  operation: string
  resource: string
  using: string | null
  withCheck: string | null
  sql: string
}

export interface GeneratedPolicies {
  schema: string
  table: string
  /** "schema"."table" */
  qualified: string
  tokenExpression: string
  policies: GeneratedPolicy[]
  /** Statements in order, without BEGIN/COMMIT (apply wraps them in one transaction). */
  statements: string[]
  /** The full script for psql: header comments, BEGIN, statements, COMMIT. */
  sql: string
  /** Things the user should know (also in the script as comments). */
  warnings: string[]
  /** Suggested index on the owner column (not executed). */
  indexSuggestion: string | null
}

/** "select,insert" / "all" -> commands, in canonical order, deduplicated. */
export function parseOperations(text: string | readonly string[] | undefined): SqlCommand[] {
  if (text === undefined) return [...COMMANDS]
  const parts = (Array.isArray(text) ? text : [text])
    .flatMap((t) => String(t).split(','))
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '')
  if (parts.length === 0) throw new UsageError('--operations is empty', {hint: `use some of ${COMMANDS.join(',')} (or all)`})
  const wanted = new Set<SqlCommand>()
  for (const p of parts) {
    if (p === 'all') {
      for (const c of COMMANDS) wanted.add(c)
      continue
    }
    if (!(COMMANDS as readonly string[]).includes(p)) {
      throw new UsageError(`unknown SQL command "${p}" in --operations`, {hint: `use some of ${COMMANDS.join(',')} (or all)`})
    }
    wanted.add(p as SqlCommand)
  }
  return COMMANDS.filter((c) => wanted.has(c))
}

/** "select=read,insert=create" -> a map merged over the defaults. */
export function parseOperationMap(text: string | readonly string[] | undefined): Record<SqlCommand, string> {
  const map: Record<SqlCommand, string> = {...DEFAULT_OPERATION_MAP}
  if (text === undefined) return map
  const parts = (Array.isArray(text) ? text : [text])
    .flatMap((t) => String(t).split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '')
  for (const part of parts) {
    const eq = part.indexOf('=')
    if (eq <= 0 || eq === part.length - 1) {
      throw new UsageError(`--operation-map entry "${part}" is not COMMAND=OPERATION`, {hint: 'e.g. --operation-map select=read,insert=create,update=write,delete=delete'})
    }
    const cmd = part.slice(0, eq).trim().toLowerCase()
    const op = part.slice(eq + 1).trim()
    if (!(COMMANDS as readonly string[]).includes(cmd)) {
      throw new UsageError(`unknown SQL command "${cmd}" in --operation-map`, {hint: `commands: ${COMMANDS.join(', ')}`})
    }
    if (op === '') throw new UsageError(`--operation-map: empty operation for ${cmd}`)
    map[cmd as SqlCommand] = op
  }
  return map
}

/** Splits "--role a,b --role c". */
export function parseRoles(values: readonly string[] | undefined): string[] {
  const out: string[] = []
  for (const v of values ?? []) {
    for (const r of v.split(',').map((s) => s.trim())) if (r !== '' && !out.includes(r)) out.push(r)
  }
  return out
}

/** A setting name such as hessra.token or app.jwt_token ("custom" settings need a dot). */
export function checkTokenSetting(name: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)+$/.test(name)) {
    throw new UsageError(`--token-setting "${name}" is not a custom setting name (e.g. hessra.token or app.token)`)
  }
}

/** Fills {table}, {schema}, {command}, {operation}; unknown placeholders are an error. */
export function renderResource(template: string, vars: {table: string; schema: string; command: SqlCommand; operation: string}): string {
  const out = template.replace(/\{([^{}]*)\}/g, (_m, name: string) => {
    switch (name) {
      case 'table':
        return vars.table
      case 'schema':
        return vars.schema
      case 'command':
        return vars.command
      case 'operation':
        return vars.operation
      default:
        throw new UsageError(`unknown placeholder {${name}} in --resource`, {hint: 'placeholders: {table}, {schema}, {command}, {operation}'})
    }
  })
  if (out === '') throw new UsageError('--resource renders to an empty string')
  return out
}

/** hessra_<command>[_<role>], at most 63 bytes (a short hash keeps long names distinct). */
export function policyName(command: SqlCommand, role: string | null): string {
  const base = role === null ? `${POLICY_PREFIX}${command}` : `${POLICY_PREFIX}${command}_${role}`
  if (Buffer.byteLength(base, 'utf8') <= MAX_IDENT_BYTES) return base
  const hash = createHash('sha256').update(base).digest('hex').slice(0, 8)
  let head = base
  while (Buffer.byteLength(head, 'utf8') > MAX_IDENT_BYTES - 9) head = head.slice(0, -1)
  return `${head}_${hash}`
}

/** "s.t" -> {schema: s, table: t} when no --schema was given (quoted parts are not split). */
export function splitTable(table: string, schema: string | undefined): {schema: string; table: string} {
  if (schema !== undefined && schema !== '') return {schema, table}
  const m = /^([^."]+)\.([^."]+)$/.exec(table)
  if (m) return {schema: m[1], table: m[2]}
  return {schema: 'public', table}
}

export function generatePolicies(opts: PolicyOptions): GeneratedPolicies {
  if (!opts.table || opts.table.trim() === '') throw new UsageError('--table is required')
  const {schema, table} = splitTable(opts.table, opts.schema)
  const qualified = qualifiedName(schema, table)
  const commands = opts.operations && opts.operations.length > 0 ? [...opts.operations] : [...COMMANDS]
  const opMap: Record<SqlCommand, string> = {...DEFAULT_OPERATION_MAP, ...(opts.operationMap ?? {})}
  const roles = [...(opts.roles ?? [])]
  const tokenSetting = opts.tokenSetting ?? DEFAULT_TOKEN_SETTING
  checkTokenSetting(tokenSetting)
  const template = opts.resource ?? '{table}'
  const kind = opts.as ?? 'permissive'
  const warnings: string[] = []

  let ownerExpr: string | null = null
  let indexSuggestion: string | null = null
  if (opts.ownerColumn !== undefined) {
    if (tokenSetting !== DEFAULT_TOKEN_SETTING) {
      throw new UsageError(`--owner-column compares with hessra_current_subject(), which reads ${DEFAULT_TOKEN_SETTING}; it cannot be combined with --token-setting ${tokenSetting}`, {
        hint: `keep the token in ${DEFAULT_TOKEN_SETTING} (SET hessra.token / hessra_set_token()) to use --owner-column`,
      })
    }
    const col = quoteIdent(opts.ownerColumn, 'owner column')
    ownerExpr = `${col} = (SELECT hessra_current_subject())`
    const idxName = quoteIdent(truncateIdent(`${table}_${opts.ownerColumn}_idx`), 'index name')
    indexSuggestion = `CREATE INDEX IF NOT EXISTS ${idxName} ON ${qualified} (${col});`
  }

  const tokenExpression = `current_setting(${quoteLiteral(tokenSetting)}, true)`
  let resourceColumn: string | null = null
  if (opts.resourceColumn !== undefined) {
    if (opts.resource !== undefined) throw new UsageError('--resource and --resource-column both name the resource: give one of them')
    resourceColumn = quoteIdent(opts.resourceColumn, 'resource column')
  }
  const policies: GeneratedPolicy[] = []
  for (const command of commands) {
    const operation = opMap[command]
    const resource = resourceColumn ?? renderResource(template, {table, schema, command, operation})
    const check = resourceColumn === null
      ? `(SELECT hessra_row_security(${tokenExpression}, ${quoteLiteral(resource)}, ${quoteLiteral(operation)}))`
      : perRowCheck(tokenSetting, tokenExpression, resourceColumn, operation)
    const expr = ownerExpr ? `${check} AND ${ownerExpr}` : check
    const using = command === 'insert' ? null : expr
    const withCheck = command === 'insert' || command === 'update' ? expr : null
    for (const role of roles.length > 0 ? roles : [null]) {
      const name = policyName(command, role)
      const lines = [
        `CREATE POLICY ${quoteIdent(name, 'policy name')} ON ${qualified}`,
        `  AS ${kind.toUpperCase()} FOR ${command.toUpperCase()} TO ${role === null ? 'PUBLIC' : quoteIdent(role, 'role name')}`,
      ]
      if (using !== null) lines.push(`  USING (${using})`)
      if (withCheck !== null) lines.push(`  WITH CHECK (${withCheck})`)
      policies.push({name, command, role, operation, resource, using, withCheck, sql: lines.join('\n') + ';'})
    }
  }

  const names = new Set<string>()
  for (const p of policies) {
    if (names.has(p.name)) throw new UsageError(`two generated policies would both be named "${p.name}" (role names too similar after truncation)`)
    names.add(p.name)
  }

  if ((commands.includes('update') || commands.includes('delete')) && !commands.includes('select')) {
    warnings.push('UPDATE/DELETE policies without a SELECT policy: statements with a WHERE clause only see rows a SELECT policy allows, so they would change nothing')
  }
  if (kind === 'restrictive') {
    warnings.push('RESTRICTIVE policies only narrow PERMISSIVE ones: with no permissive policy on the table every row is denied')
  }

  const statements = [
    `ALTER TABLE ${qualified} ENABLE ROW LEVEL SECURITY;`,
    `ALTER TABLE ${qualified} FORCE ROW LEVEL SECURITY;`,
    dropOwnPoliciesStatement(qualified),
    ...policies.map((p) => p.sql),
  ]

  const header = [
    `-- hessra row-level security for ${qualified} (generated by \`hessra pg policy generate\`)`,
    resourceColumn === null
      ? `-- token: ${tokenExpression}; each check is wrapped in (SELECT ...) so it runs once per statement (an InitPlan)`
      : `-- token: ${tokenExpression}; the resource differs per row, so the check runs per row (a repeated resource is answered from a per-statement memo)`,
    `-- operations: ${commands.map((c) => `${c}=${opMap[c]}`).join(', ')}; resource ${resourceColumn !== null ? `column ${resourceColumn}` : template === '{table}' ? quoteLiteral(table) : `template ${quoteLiteral(template)}`}`,
  ]
  if (ownerExpr) header.push(`-- owner column: ${quoteIdent(opts.ownerColumn!)} must equal the token's subject (hessra_current_subject())`)
  header.push('-- re-running this script replaces the policies named hessra_* on this table and touches no others;')
  header.push('-- superusers and roles with BYPASSRLS are not subject to row-level security.')
  for (const w of warnings) header.push(`-- WARNING: ${w}`)
  const trailer: string[] = []
  if (indexSuggestion) {
    trailer.push('', `-- Suggested: index the owner column so the owner comparison can use it:`, `--   ${indexSuggestion}`)
  }
  const sql = [...header, 'BEGIN;', ...statements, 'COMMIT;', ...trailer].join('\n') + '\n'

  return {schema, table, qualified, tokenExpression, policies, statements, sql, warnings, indexSuggestion}
}

/**
 * The per-row check of a resource column: the two-argument form reads hessra.token itself (no token
 * text per row); a custom token setting needs the three-argument form.
 */
function perRowCheck(tokenSetting: string, tokenExpression: string, column: string, operation: string): string {
  if (tokenSetting === DEFAULT_TOKEN_SETTING) return `hessra_row_security(${column}, ${quoteLiteral(operation)})`
  return `hessra_row_security(${tokenExpression}, ${column}, ${quoteLiteral(operation)})`
}

/** A DO block dropping the table's policies named hessra_* (and no others). */
export function dropOwnPoliciesStatement(qualified: string): string {
  const body = [
    'DECLARE pol name;',
    'BEGIN',
    '  FOR pol IN SELECT p.polname FROM pg_catalog.pg_policy p',
    `             WHERE p.polrelid = ${quoteLiteral(qualified)}::regclass AND p.polname LIKE 'hessra\\_%'`,
    '  LOOP',
    `    EXECUTE format('DROP POLICY %I ON %s', pol, ${quoteLiteral(qualified)}::regclass);`,
    '  END LOOP;',
    'END',
  ].join('\n')
  const tag = dollarTag(body)
  return `DO ${tag}\n${body}\n${tag};`
}

function truncateIdent(name: string): string {
  let n = name
  while (Buffer.byteLength(n, 'utf8') > MAX_IDENT_BYTES) n = n.slice(0, -1)
  return n
}
