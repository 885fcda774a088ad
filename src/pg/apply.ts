/**
 * `hessra pg policy apply`: the generated statements, in one transaction.
 *
 * Everything — the checks and the statements — runs inside that transaction with search_path pinned to
 * pg_catalog, so nothing a database owner puts on the search_path is ever called by the (usually
 * superuser) session applying the policies. The extension's schema, the compared columns' types and which
 * of them an index serves are read from the catalogs and the SQL is generated for them (an index is only
 * suggested where none serves the comparison).
 */
import {EnvironmentError, HessraError, UsageError} from '../errors.js'
import {indexedColumns, tableColumns, type ColumnInfo} from './columns.js'
import {mapPgError, type Queryable} from './connect.js'
import {EXTENSION_NAME} from './install.js'
import {functionSignature, generatePolicies, PINNED_SEARCH_PATH, POLICY_PREFIX, type GeneratedPolicies, type PolicyOptions} from './policy.js'
import {displayValue} from './sql.js'

export interface ApplyResult {
  table: string
  created: string[]
  dropped: string[]
  /** other (non-hessra) policies left untouched */
  untouched: string[]
  warnings: string[]
  /** the SQL, for the database's extension schema and owner column type */
  generated: GeneratedPolicies
  /** false for a dry run (everything checked, then rolled back) */
  applied: boolean
}

interface PolicyRow extends Record<string, unknown> {
  name: string
  permissive: boolean
  cmd: string
}

/**
 * Type categories (pg_type.typcategory) an owner column may have: strings, numbers, user-defined types
 * such as uuid. Their text form is what is compared with the token's subject. Date/time text depends on
 * DateStyle and arrays/composites/booleans are not identities, so those are refused.
 */
const OWNER_COLUMN_CATEGORIES = new Set(['S', 'N', 'U'])

async function policiesOf(client: Queryable, qualified: string): Promise<PolicyRow[]> {
  const r = await client.query<PolicyRow>(
    `SELECT p.polname AS name, p.polpermissive AS permissive,
            CASE p.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert' WHEN 'w' THEN 'update' WHEN 'd' THEN 'delete' ELSE 'all' END AS cmd
       FROM pg_catalog.pg_policy p WHERE p.polrelid = $1::pg_catalog.regclass ORDER BY 1`,
    [qualified],
  )
  return r.rows
}

/** The schema the extension is installed in; a clear error when it is not created here. */
async function extensionSchemaOf(client: Queryable): Promise<string> {
  const r = await client.query<{nspname: string}>(
    'SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1',
    [EXTENSION_NAME],
  )
  if (r.rows.length === 0) {
    throw new EnvironmentError('the hessra extension is not created in this database', {hint: 'run `hessra pg install --database ...` first'})
  }
  return r.rows[0].nspname
}

/**
 * Whether a compared column is a string type; a clear error when it is missing or of a type whose text
 * form cannot be a subject, identity or resource.
 */
function compareColumnIsText(columns: Map<string, ColumnInfo>, qualified: string, column: string, flag: string): boolean {
  const c = columns.get(column)
  if (!c) throw new UsageError(`column ${displayValue(column)} does not exist in ${qualified}`, {hint: `check --${flag}`})
  if (!OWNER_COLUMN_CATEGORIES.has(c.category)) {
    throw new UsageError(`${flag.replace('-', ' ')} ${displayValue(column)} is of type ${c.type}, which cannot hold a token ${flag === 'resource-column' ? 'resource' : 'subject or identity'}`, {
      hint: 'use a text, integer or uuid column: its text form is compared',
    })
  }
  return c.category === 'S'
}

export async function applyPolicies(client: Queryable, options: PolicyOptions, opts: {dryRun?: boolean} = {}): Promise<ApplyResult> {
  const {qualified} = generatePolicies(options) // bad flags or names: a usage error before touching the database
  const warnings: string[] = []
  await client.query('BEGIN')
  try {
    await client.query(PINNED_SEARCH_PATH)
    const t = await client.query<{oid: number | null}>('SELECT pg_catalog.to_regclass($1)::pg_catalog.oid AS oid', [qualified])
    if (!t.rows[0]?.oid) {
      throw new UsageError(`table ${qualified} does not exist in this database`, {hint: 'check --table / --schema and --database'})
    }
    const extensionSchema = await extensionSchemaOf(client)
    if (options.extensionSchema !== undefined && options.extensionSchema !== extensionSchema) {
      throw new UsageError(`--extension-schema ${displayValue(options.extensionSchema)}, but the hessra extension is installed in schema ${displayValue(extensionSchema)}`, {
        hint: 'omit --extension-schema: apply uses the schema the extension is in',
      })
    }
    const columns = await tableColumns(client, qualified)
    const compared = options.ownerColumn ?? options.identityColumn
    const gen = generatePolicies({
      ...options,
      extensionSchema,
      ownerColumnIsText: compared === undefined ? undefined : compareColumnIsText(columns, qualified, compared, options.ownerColumn !== undefined ? 'owner-column' : 'identity-column'),
      // the per-row form passes the column as it is (a text argument)
      resourceColumnIsText: options.resourceColumn === undefined || options.perRow ? undefined : compareColumnIsText(columns, qualified, options.resourceColumn, 'resource-column'),
      indexedColumns: indexedColumns(columns),
    })
    for (const fn of gen.functions) {
      const sig = functionSignature(extensionSchema, fn)
      const f = await client.query<{oid: number | null}>('SELECT pg_catalog.to_regprocedure($1)::pg_catalog.oid AS oid', [sig])
      if (!f.rows[0]?.oid) {
        throw new EnvironmentError(`the hessra extension in this database has no function ${sig}`, {hint: 'update it: ALTER EXTENSION hessra UPDATE (or `hessra pg install --database ...`)'})
      }
    }

    const before = await policiesOf(client, qualified)
    const dropped = before.filter((p) => p.name.startsWith(POLICY_PREFIX)).map((p) => p.name)
    const untouched = before.filter((p) => !p.name.startsWith(POLICY_PREFIX))
    const permissiveOthers = untouched.filter((p) => p.permissive)
    if (permissiveOthers.length > 0) {
      warnings.push(
        `${qualified} has other permissive policies (${permissiveOthers.map((p) => p.name).join(', ')}): PostgreSQL ORs permissive policies, so they can allow rows hessra would deny (consider --as restrictive)`,
      )
    }
    if (!opts.dryRun) for (const s of gen.statements) await client.query(s)
    await client.query(opts.dryRun ? 'ROLLBACK' : 'COMMIT')
    return {table: qualified, created: gen.policies.map((p) => p.name), dropped, untouched: untouched.map((p) => p.name), warnings, generated: gen, applied: !opts.dryRun}
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    if (error instanceof HessraError) throw error
    const e = error as {code?: string; message?: string}
    // Names and functions were checked above; what is left is reported with the server's own message.
    if (e.code === '42704') throw new UsageError(`${e.message} (check --role)`)
    if (e.code === '42501') throw new EnvironmentError(`${e.message}`, {hint: 'only the table owner (or a superuser) can change its row level security'})
    throw mapPgError(error)
  }
}
