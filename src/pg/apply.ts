/** `hessra pg policy apply`: the generated statements, in one transaction. */
import {EnvironmentError, HessraError, UsageError} from '../errors.js'
import {mapPgError, type Queryable} from './connect.js'
import {EXTENSION_NAME} from './install.js'
import {POLICY_PREFIX, type GeneratedPolicies} from './policy.js'

export interface ApplyResult {
  table: string
  created: string[]
  dropped: string[]
  /** other (non-hessra) policies left untouched */
  untouched: string[]
  warnings: string[]
}

interface PolicyRow extends Record<string, unknown> {
  name: string
  permissive: boolean
  cmd: string
}

async function policiesOf(client: Queryable, qualified: string): Promise<PolicyRow[]> {
  const r = await client.query<PolicyRow>(
    `SELECT p.polname AS name, p.polpermissive AS permissive,
            CASE p.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert' WHEN 'w' THEN 'update' WHEN 'd' THEN 'delete' ELSE 'all' END AS cmd
       FROM pg_catalog.pg_policy p WHERE p.polrelid = $1::regclass ORDER BY 1`,
    [qualified],
  )
  return r.rows
}

export async function applyPolicies(client: Queryable, gen: GeneratedPolicies): Promise<ApplyResult> {
  const warnings: string[] = []
  // clean errors before the transaction: the table exists, the extension is there
  const t = await client.query<{oid: number | null}>('SELECT to_regclass($1)::oid AS oid', [gen.qualified])
  if (!t.rows[0]?.oid) {
    throw new UsageError(`table ${gen.qualified} does not exist in this database`, {hint: 'check --table / --schema and --database'})
  }
  const ext = await client.query('SELECT 1 FROM pg_catalog.pg_extension WHERE extname = $1', [EXTENSION_NAME])
  if (ext.rows.length === 0) {
    throw new EnvironmentError('the hessra extension is not created in this database', {hint: 'run `hessra pg install --database ...` first'})
  }
  const before = await policiesOf(client, gen.qualified)
  const dropped = before.filter((p) => p.name.startsWith(POLICY_PREFIX)).map((p) => p.name)
  const untouched = before.filter((p) => !p.name.startsWith(POLICY_PREFIX))
  const permissiveOthers = untouched.filter((p) => p.permissive)
  if (permissiveOthers.length > 0) {
    warnings.push(
      `${gen.qualified} has other permissive policies (${permissiveOthers.map((p) => p.name).join(', ')}): PostgreSQL ORs permissive policies, so they can allow rows hessra would deny (consider --as restrictive)`,
    )
  }
  await client.query('BEGIN')
  try {
    for (const s of gen.statements) await client.query(s)
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    if (error instanceof HessraError) throw error
    const e = error as {code?: string; message?: string}
    if (e.code === '42883') {
      throw new EnvironmentError(`${e.message}: the hessra functions are not on the search_path`, {
        hint: 'CREATE EXTENSION hessra in a schema on the search_path (public by default)',
        cause: error,
      })
    }
    if (e.code === '42703') throw new UsageError(`${e.message} (check --owner-column)`)
    if (e.code === '42704') throw new UsageError(`${e.message} (check --role)`)
    if (e.code === '42501') throw new EnvironmentError(`${e.message}`, {hint: 'only the table owner (or a superuser) can change its row level security'})
    throw mapPgError(error)
  }
  return {table: gen.qualified, created: gen.policies.map((p) => p.name), dropped, untouched: untouched.map((p) => p.name), warnings}
}
