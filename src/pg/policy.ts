/**
 * Row-level security policy generation (`hessra pg policy generate|apply`).
 *
 * What the generator rules out (the common RLS mistakes):
 *  - per-row evaluation: every hessra call is wrapped in `(SELECT ...)`, an uncorrelated scalar subquery
 *    that PostgreSQL runs once per statement (an InitPlan), not once per row. A resource read from a
 *    column (--resource-column) is compared with the resources the token grants,
 *    `column = ANY ((SELECT hessra_granted_resources(operation))::text[])`: the planner hands the
 *    InitPlan's array to an index scan (an Index Cond), so a query costs what the granted rows cost. The
 *    cast is what makes it an array expression: PostgreSQL reads `ANY ((SELECT ...))` as `ANY (subquery)`.
 *    `--per-row` keeps the per-row check `hessra_row_security(column, operation)` (rights derived by
 *    rules, which no list of resources can hold, need it);
 *  - comparisons no index serves: the columns compared are indexed, or the output says how to index them;
 *  - table owners bypassing the policies: `ENABLE` and `FORCE ROW LEVEL SECURITY`;
 *  - writes that escape the check: INSERT and UPDATE get a `WITH CHECK`;
 *  - re-applying piling up or clobbering policies: every generated policy is named `hessra_*`, and the
 *    SQL first drops the table's `hessra_*` policies (and no others), all in one transaction;
 *  - hijacking through search_path: the script pins `search_path` to pg_catalog for its transaction,
 *    calls the extension's functions qualified by the extension's schema with arguments of fixed types
 *    (so no look-alike or overload elsewhere can be picked), and first checks that the extension really
 *    lives in that schema;
 *  - injection through names: identifiers, literals and comments are rendered only by `sql.ts`.
 */
import {createHash} from 'node:crypto'

import {UsageError} from '../errors.js'
import {checkName, displayValue, dollarTag, MAX_IDENT_BYTES, qualifiedName, quoteIdent, quoteLiteral, sqlComment, textLiteral} from './sql.js'

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
/** Where `generate` assumes the extension lives (CREATE EXTENSION's default); `apply` looks it up. */
export const DEFAULT_EXTENSION_SCHEMA = 'public'
/** The search_path of the generated transaction: nothing anyone but the superuser can add to. */
export const PINNED_SEARCH_PATH = 'SET LOCAL search_path = pg_catalog, pg_temp;'

/** An extension function the policies call, with the argument types it is called with. */
export interface HessraFunction {
  name: string
  argTypes: readonly string[]
}
export const ROW_SECURITY: HessraFunction = {name: 'hessra_row_security', argTypes: ['text', 'text', 'text']}
/** The per-row form reading hessra.token itself (extension 0.3.0). */
export const ROW_SECURITY_SESSION: HessraFunction = {name: 'hessra_row_security', argTypes: ['text', 'text']}
export const CURRENT_SUBJECT: HessraFunction = {name: 'hessra_current_subject', argTypes: []}
/** The identity the session's identity token proves (extension 0.4.0). */
export const CURRENT_IDENTITY: HessraFunction = {name: 'hessra_current_identity', argTypes: []}
/** The resources hessra.token verifies for an operation (extension 0.5.0). */
export const GRANTED_RESOURCES: HessraFunction = {name: 'hessra_granted_resources', argTypes: ['text']}
/** The same for a token given as an argument, with the request's domain, prefix, component (0.5.0). */
export const GRANTED_RESOURCES_FOR_TOKEN: HessraFunction = {name: 'hessra_granted_resources', argTypes: ['text', 'text', 'text', 'text', 'text']}

/** schema.fn(args): the call, qualified by the extension's schema. */
function callIn(schema: string, fn: HessraFunction, args: readonly string[]): string {
  if (args.length !== fn.argTypes.length) throw new Error(`${fn.name} takes ${fn.argTypes.length} arguments, not ${args.length}`)
  return `${quoteIdent(schema, 'extension schema')}.${fn.name}(${args.join(', ')})`
}

/** "fn(text,text)" in schema, as to_regprocedure() takes it. */
export function functionSignature(schema: string, fn: HessraFunction): string {
  return `${quoteIdent(schema, 'extension schema')}.${fn.name}(${fn.argTypes.join(',')})`
}

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
  /**
   * With resourceColumn: check each row with hessra_row_security(column, operation) instead of comparing
   * the column with hessra_granted_resources(operation) (the default, which an index serves).
   */
  perRow?: boolean
  /** Owner-column mode: rows whose column equals the token's subject. */
  ownerColumn?: string
  /**
   * Identity-column mode (identity tokens): rows whose column equals the identity the session's identity
   * token proves (hessra_current_identity()); no resource check (an identity token grants no rights).
   */
  identityColumn?: string
  /** One policy per command and role; empty: PUBLIC. */
  roles?: readonly string[]
  /** Setting the token is read from; default hessra.token. */
  tokenSetting?: string
  /** PERMISSIVE (default) or RESTRICTIVE policies. */
  as?: 'permissive' | 'restrictive'
  /** Schema the hessra extension is installed in; default DEFAULT_EXTENSION_SCHEMA. */
  extensionSchema?: string
  /**
   * Whether the owner (or identity) column's type is a string type (known at apply). Any other type is
   * compared by its text form, and the suggested index is then an expression index on that text form.
   */
  ownerColumnIsText?: boolean
  /** Whether the resource column's type is a string type (known at apply; as ownerColumnIsText). */
  resourceColumnIsText?: boolean
  /**
   * Columns an index serves (apply reads them from the catalog): no index is suggested for them.
   * Undefined (generate, offline): unknown, so every compared column gets a suggestion.
   */
  indexedColumns?: readonly string[]
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
  /** The first of indexSuggestions, or null. */
  indexSuggestion: string | null
  /** Indexes the comparisons need, for the compared columns not known to have one (not executed). */
  indexSuggestions: string[]
  /** Schema the calls are qualified with. */
  extensionSchema: string
  /** The extension functions the policies call (apply checks they exist before running anything). */
  functions: HessraFunction[]
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
      throw new UsageError(`unknown SQL command ${displayValue(p)} in --operations`, {hint: `use some of ${COMMANDS.join(',')} (or all)`})
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
      throw new UsageError(`--operation-map entry ${displayValue(part)} is not COMMAND=OPERATION`, {hint: 'e.g. --operation-map select=read,insert=create,update=write,delete=delete'})
    }
    const cmd = part.slice(0, eq).trim().toLowerCase()
    const op = part.slice(eq + 1).trim()
    if (!(COMMANDS as readonly string[]).includes(cmd)) {
      throw new UsageError(`unknown SQL command ${displayValue(cmd)} in --operation-map`, {hint: `commands: ${COMMANDS.join(', ')}`})
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
    throw new UsageError(`--token-setting ${displayValue(name)} is not a custom setting name (e.g. hessra.token or app.token)`)
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
        throw new UsageError(`unknown placeholder ${displayValue(`{${name}}`)} in --resource`, {hint: 'placeholders: {table}, {schema}, {command}, {operation}'})
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
  const extensionSchema = opts.extensionSchema ?? DEFAULT_EXTENSION_SCHEMA
  checkName(extensionSchema, 'extension schema')
  const commands = opts.operations && opts.operations.length > 0 ? [...opts.operations] : [...COMMANDS]
  const opMap: Record<SqlCommand, string> = {...DEFAULT_OPERATION_MAP, ...(opts.operationMap ?? {})}
  const roles = [...(opts.roles ?? [])]
  for (const role of roles) checkName(role, 'role name')
  const tokenSetting = opts.tokenSetting ?? DEFAULT_TOKEN_SETTING
  checkTokenSetting(tokenSetting)
  const template = opts.resource ?? '{table}'
  const kind = opts.as ?? 'permissive'
  const warnings: string[] = []
  // the functions the policies call, in the order they first appear
  const functions: HessraFunction[] = opts.identityColumn === undefined && opts.resourceColumn === undefined ? [ROW_SECURITY] : []

  const indexSuggestions: string[] = []
  /**
   * A column's text form, as every comparison here uses it: a no-op for text columns (an index on the
   * column still serves it), and for integer/uuid/... columns a value that is not a valid one simply
   * matches no row instead of raising an error (casting the function's text to the column type would).
   * The index that serves the comparison is suggested unless the column is known to have one: on the
   * column, or for another type on its text form.
   */
  const comparedColumn = (column: string, what: string, isText: boolean | undefined): string => {
    const col = quoteIdent(column, what)
    const columnText = `${col}::pg_catalog.text`
    if (!opts.indexedColumns?.includes(column)) {
      const idxName = quoteIdent(truncateIdent(`${table}_${column}_idx`), 'index name')
      const indexed = isText === false ? `((${columnText}))` : `(${col})`
      indexSuggestions.push(`CREATE INDEX IF NOT EXISTS ${idxName} ON ${qualified} ${indexed};`)
    }
    return columnText
  }

  /** `column::text = (SELECT schema.fn())` (see comparedColumn). */
  const columnEquals = (column: string, flag: string, fn: HessraFunction): string => {
    if (tokenSetting !== DEFAULT_TOKEN_SETTING) {
      throw new UsageError(`--${flag} compares with ${fn.name}(), which reads ${DEFAULT_TOKEN_SETTING}; it cannot be combined with --token-setting ${tokenSetting}`, {
        hint: `keep the token in ${DEFAULT_TOKEN_SETTING} (SET hessra.token / hessra_set_token()) to use --${flag}`,
      })
    }
    functions.push(fn)
    return `${comparedColumn(column, flag.replace('-', ' '), opts.ownerColumnIsText)} = (SELECT ${callIn(extensionSchema, fn, [])})`
  }

  let ownerExpr: string | null = null
  let identityExpr: string | null = null
  if (opts.identityColumn !== undefined) {
    const clash = (
      [
        ['owner-column', opts.ownerColumn],
        ['resource', opts.resource],
        ['resource-column', opts.resourceColumn],
      ] as const
    ).find(([, v]) => v !== undefined)
    if (clash) {
      throw new UsageError(`--identity-column and --${clash[0]} cannot be combined: identity tokens carry an identity, not rights on resources`, {
        hint: 'use --identity-column for identity tokens, --owner-column/--resource for authorization tokens',
      })
    }
    identityExpr = columnEquals(opts.identityColumn, 'identity-column', CURRENT_IDENTITY)
  }
  if (opts.ownerColumn !== undefined) ownerExpr = columnEquals(opts.ownerColumn, 'owner-column', CURRENT_SUBJECT)

  const tokenExpression = `pg_catalog.current_setting(${quoteLiteral(tokenSetting)}, true)`
  let resourceColumn: string | null = null
  const perRow = opts.perRow === true
  if (opts.resourceColumn !== undefined) {
    if (opts.resource !== undefined) throw new UsageError('--resource and --resource-column both name the resource: give one of them')
    resourceColumn = quoteIdent(opts.resourceColumn, 'resource column')
    const sessionToken = tokenSetting === DEFAULT_TOKEN_SETTING
    functions.push(perRow ? (sessionToken ? ROW_SECURITY_SESSION : ROW_SECURITY) : sessionToken ? GRANTED_RESOURCES : GRANTED_RESOURCES_FOR_TOKEN)
  } else if (perRow) {
    throw new UsageError('--per-row applies to --resource-column (a resource read from each row)', {hint: 'add --resource-column COLUMN, or drop --per-row'})
  }
  const resourceColumnText = opts.resourceColumn !== undefined && !perRow ? comparedColumn(opts.resourceColumn, 'resource column', opts.resourceColumnIsText) : null
  const policies: GeneratedPolicy[] = []
  for (const command of commands) {
    const operation = opMap[command]
    const resource = resourceColumn ?? renderResource(template, {table, schema, command, operation})
    const check =
      resourceColumn === null
        ? `(SELECT ${callIn(extensionSchema, ROW_SECURITY, [tokenExpression, textLiteral(resource), textLiteral(operation)])})`
        : resourceColumnText === null
          ? perRowCheck(extensionSchema, tokenSetting, tokenExpression, resourceColumn, operation)
          : `${resourceColumnText} = ANY (${grantedResources(extensionSchema, tokenSetting, tokenExpression, operation)})`
    const expr = identityExpr ?? (ownerExpr ? `${check} AND ${ownerExpr}` : check)
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
    if (names.has(p.name)) throw new UsageError(`two generated policies would both be named ${displayValue(p.name)} (role names too similar after truncation)`)
    names.add(p.name)
  }

  if ((commands.includes('update') || commands.includes('delete')) && !commands.includes('select')) {
    warnings.push('UPDATE/DELETE policies without a SELECT policy: statements with a WHERE clause only see rows a SELECT policy allows, so they would change nothing')
  }
  if (kind === 'restrictive') {
    warnings.push('RESTRICTIVE policies only narrow PERMISSIVE ones: with no permissive policy on the table every row is denied')
  }

  const statements = [
    PINNED_SEARCH_PATH,
    extensionSchemaCheck(extensionSchema),
    `ALTER TABLE ${qualified} ENABLE ROW LEVEL SECURITY;`,
    `ALTER TABLE ${qualified} FORCE ROW LEVEL SECURITY;`,
    dropOwnPoliciesStatement(qualified),
    ...policies.map((p) => p.sql),
  ]

  const header = [
    `hessra row-level security for ${qualified} (generated by \`hessra pg policy generate\`)`,
    identityExpr !== null
      ? `identity tokens: ${quoteIdent(opts.identityColumn!)} (as text) must equal the identity ${DEFAULT_TOKEN_SETTING} proves (hessra_current_identity(): its subject or narrowest delegated identity), once per statement (an InitPlan)`
      : resourceColumn === null
        ? `token: ${tokenExpression}; each check is wrapped in (SELECT ...) so it runs once per statement (an InitPlan)`
        : perRow
          ? `token: ${tokenExpression}; --per-row: the check runs for every row (a repeated resource is answered from a per-statement memo); no index can serve it`
          : `token: ${tokenExpression}; the row's resource must be one the token grants: hessra_granted_resources() runs once per statement (an InitPlan) and an index on the column serves the comparison`,
    identityExpr !== null
      ? `commands: ${commands.join(', ')}`
      : `operations: ${commands.map((c) => `${c}=${opMap[c]}`).join(', ')}; resource ${resourceColumn !== null ? `column ${resourceColumn}` : template === '{table}' ? quoteLiteral(table) : `template ${quoteLiteral(template)}`}`,
    `extension functions called in schema ${quoteIdent(extensionSchema)}; the transaction pins search_path to pg_catalog`,
  ]
  if (ownerExpr) header.push(`owner column: ${quoteIdent(opts.ownerColumn!)} (as text) must equal the token's subject (hessra_current_subject())`)
  header.push('re-running this script replaces the policies named hessra_* on this table and touches no others;')
  header.push('superusers and roles with BYPASSRLS are not subject to row-level security.')
  for (const w of warnings) header.push(`WARNING: ${w}`)
  const trailer: string[] = []
  if (indexSuggestions.length > 0) {
    const known = opts.indexedColumns !== undefined
    trailer.push('', sqlComment(`Suggested: ${known ? 'no index serves the compared column; create one' : 'unless the compared column has an index, create one'} so the comparison can use it${known ? '' : ' (`hessra pg policy apply` and `hessra pg policy lint` check)'}:`))
    for (const s of indexSuggestions) trailer.push(sqlComment(`  ${s}`))
  }
  const sql = [...header.map(sqlComment), 'BEGIN;', ...statements, 'COMMIT;', ...trailer].join('\n') + '\n'

  return {schema, table, qualified, tokenExpression, policies, statements, sql, warnings, indexSuggestion: indexSuggestions[0] ?? null, indexSuggestions, extensionSchema, functions}
}

/**
 * Stops the script unless the hessra extension is installed in `schema`: a function of that name in a
 * schema the extension does not own could be anyone's.
 */
export function extensionSchemaCheck(schema: string): string {
  const body = [
    'BEGIN',
    '  IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace',
    `                 WHERE e.extname = 'hessra' AND n.nspname = ${quoteLiteral(schema)}) THEN`,
    `    RAISE EXCEPTION 'the hessra extension is not installed in schema %', ${quoteLiteral(schema)}`,
    "      USING HINT = 'generate the policies with --extension-schema naming the schema the extension is installed in, or use hessra pg policy apply';",
    '  END IF;',
    'END',
  ].join('\n')
  const tag = dollarTag(body)
  return `DO ${tag}\n${body}\n${tag};`
}

/**
 * The per-row check of a resource column: the two-argument form reads hessra.token itself (no token
 * text per row); a custom token setting needs the three-argument form.
 */
function perRowCheck(extensionSchema: string, tokenSetting: string, tokenExpression: string, column: string, operation: string): string {
  if (tokenSetting === DEFAULT_TOKEN_SETTING) return callIn(extensionSchema, ROW_SECURITY_SESSION, [column, textLiteral(operation)])
  return callIn(extensionSchema, ROW_SECURITY, [tokenExpression, column, textLiteral(operation)])
}

/**
 * The granted resources as an array expression, once per statement: `(SELECT fn(...))::text[]` (the cast
 * keeps PostgreSQL from reading `ANY ((SELECT ...))` as a subquery). A custom token setting is read
 * with current_setting() and passed to the token form.
 */
function grantedResources(extensionSchema: string, tokenSetting: string, tokenExpression: string, operation: string): string {
  const call =
    tokenSetting === DEFAULT_TOKEN_SETTING
      ? callIn(extensionSchema, GRANTED_RESOURCES, [textLiteral(operation)])
      : callIn(extensionSchema, GRANTED_RESOURCES_FOR_TOKEN, [tokenExpression, textLiteral(operation), 'NULL::pg_catalog.text', 'NULL::pg_catalog.text', 'NULL::pg_catalog.text'])
  return `(SELECT ${call})::pg_catalog.text[]`
}

/** A DO block dropping the table's policies named hessra_* (and no others). */
export function dropOwnPoliciesStatement(qualified: string): string {
  const body = [
    'DECLARE pol name;',
    'BEGIN',
    '  FOR pol IN SELECT p.polname FROM pg_catalog.pg_policy p',
    `             WHERE p.polrelid = ${quoteLiteral(qualified)}::pg_catalog.regclass AND pg_catalog.starts_with(p.polname, ${quoteLiteral(POLICY_PREFIX)})`,
    '  LOOP',
    `    EXECUTE pg_catalog.format('DROP POLICY %I ON %s', pol, ${quoteLiteral(qualified)}::pg_catalog.regclass);`,
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
