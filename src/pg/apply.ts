/**
 * `hessra pg policy apply`: the generated statements, in one transaction.
 *
 * Everything — the checks and the statements — runs inside that transaction with search_path pinned to
 * pg_catalog, so nothing a database owner puts on the search_path is ever called by the (usually
 * superuser) session applying the policies. The extension's schema and the owner column's type are read
 * from the catalogs and the SQL is generated for them.
 */
import {EnvironmentError, HessraError, UsageError} from '../errors.js'
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

/** Whether the owner (or identity) column is a string type; a clear error when it is missing or of an unusable type. */
async function ownerColumnIsText(client: Queryable, qualified: string, column: string): Promise<boolean> {
  const r = await client.query<{category: string; type: string}>(
    `SELECT t.typcategory AS category, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = $1::pg_catalog.regclass AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped`,
    [qualified, column],
  )
  const row = r.rows[0]
  if (!row) throw new UsageError(`column ${displayValue(column)} does not exist in ${qualified}`, {hint: 'check --owner-column / --identity-column'})
  if (!OWNER_COLUMN_CATEGORIES.has(row.category)) {
    throw new UsageError(`owner column ${displayValue(column)} is of type ${row.type}, which cannot hold a token subject or identity`, {
      hint: 'use a text, integer or uuid column: its text form is compared with the subject',
    })
  }
  return row.category === 'S'
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
    const compared = options.ownerColumn ?? options.identityColumn
    const isText = compared === undefined ? undefined : await ownerColumnIsText(client, qualified, compared)
    const gen = generatePolicies({...options, extensionSchema, ownerColumnIsText: isText})
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
