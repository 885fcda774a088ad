/**
 * What the catalog says about a table's columns, for the commands that generate, apply, lint and check
 * policies: each column's type category, whether an index serves a comparison of its text form (the form
 * every generated comparison uses), and what an INSERT or UPDATE may write to it.
 */
import type {Queryable} from './connect.js'

export interface ColumnInfo {
  name: string
  /** format_type(), for messages */
  type: string
  /** pg_type.typcategory: S string, N numeric, U user-defined (uuid), ... */
  category: string
  /** A valid, non-partial index leads with the column (string types) or with its text form. */
  indexed: boolean
  /** GENERATED ... STORED: cannot be written */
  generated: boolean
  /** GENERATED ALWAYS AS IDENTITY: written only with OVERRIDING SYSTEM VALUE, never updated */
  identityAlways: boolean
}

/** The table's live columns by name, in attribute order. */
export async function tableColumns(client: Queryable, qualified: string): Promise<Map<string, ColumnInfo>> {
  // An index serves `column::text = ...` when its first key is the column itself (for a string type the
  // cast is a no-op or a relabelling the planner sees through) or the expression (column)::text.
  const r = await client.query<{name: string; type: string; category: string; indexed: boolean; generated: boolean; identity_always: boolean}>(
    `SELECT a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, t.typcategory AS category,
            a.attgenerated <> '' AS generated, a.attidentity = 'a' AS identity_always,
            EXISTS (SELECT FROM pg_catalog.pg_index i
                     WHERE i.indrelid = a.attrelid AND i.indisvalid AND i.indpred IS NULL
                       AND ((i.indkey[0] = a.attnum AND t.typcategory = 'S')
                            OR pg_catalog.pg_get_indexdef(i.indexrelid, 1, true)
                               IN ('(' || pg_catalog.quote_ident(a.attname) || '::text)',
                                   '((' || pg_catalog.quote_ident(a.attname) || ')::text)'))) AS indexed
       FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = $1::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [qualified],
  )
  return new Map(r.rows.map((c) => [c.name, {name: c.name, type: c.type, category: c.category, indexed: c.indexed, generated: c.generated, identityAlways: c.identity_always}]))
}

/** The columns among `columns` an index serves. */
export function indexedColumns(columns: Map<string, ColumnInfo>): string[] {
  return [...columns.values()].filter((c) => c.indexed).map((c) => c.name)
}
