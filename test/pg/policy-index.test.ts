/**
 * `pg policy generate --resource-column` (issue 24): the index-usable form by default, the index each
 * compared column needs, `--per-row` for the old form. No database: the SQL text is the contract here;
 * test/pg/policy-e2e.test.ts runs it on a real cluster (EXPLAIN, rows).
 */
import {strict as assert} from 'node:assert'

import {UsageError} from '../../src/errors.js'
import {generatePolicies} from '../../src/pg/policy.js'
import {checksArePerStatement} from '../../src/pg/status.js'

const granted = (op: string, schema = '"public"') => `(SELECT ${schema}.hessra_granted_resources('${op}'::pg_catalog.text))::pg_catalog.text[]`

describe('pg policy generate --resource-column: index-usable policies', () => {
  it('compares the column with the granted resources, once per statement, with WITH CHECK for writes', () => {
    const g = generatePolicies({table: 'tasks', resourceColumn: 'Project Id'})
    const expr = (op: string) => `"Project Id"::pg_catalog.text = ANY (${granted(op)})`
    assert.deepEqual(
      g.policies.map((p) => [p.command, p.using, p.withCheck]),
      [
        ['select', expr('read'), null],
        ['insert', null, expr('write')],
        ['update', expr('write'), expr('write')],
        ['delete', expr('write'), null],
      ],
    )
    assert.deepEqual(
      g.functions.map((f) => `${f.name}(${f.argTypes.join(',')})`),
      ['hessra_granted_resources(text)'],
    )
    for (const p of g.policies) assert.ok(checksArePerStatement(`${p.using ?? ''} ${p.withCheck ?? ''}`), 'wrapped: pg status does not flag it')
    assert.match(g.sql, /hessra_granted_resources\(\) runs once per statement \(an InitPlan\) and an index on the column serves the comparison/)
  })

  it('suggests the index offline, and says how to create it', () => {
    const g = generatePolicies({table: 'tasks', resourceColumn: 'project'})
    assert.deepEqual(g.indexSuggestions, ['CREATE INDEX IF NOT EXISTS "tasks_project_idx" ON "public"."tasks" ("project");'])
    assert.equal(g.indexSuggestion, g.indexSuggestions[0])
    assert.ok(g.sql.includes('-- Suggested: unless the compared column has an index, create one so the comparison can use it'), g.sql)
    assert.ok(g.sql.includes(`--   ${g.indexSuggestions[0]}`))
    assert.ok(!g.statements.some((s) => s.includes('CREATE INDEX')), 'never executed')
  })

  it('no suggestion for a column known to be indexed; the text form of another type', () => {
    assert.deepEqual(generatePolicies({table: 'tasks', resourceColumn: 'project', indexedColumns: ['project']}).indexSuggestions, [])
    const known = generatePolicies({table: 'tasks', resourceColumn: 'project', indexedColumns: ['other']})
    assert.ok(known.sql.includes('-- Suggested: no index serves the compared column; create one'), known.sql)
    const ints = generatePolicies({table: 'tasks', resourceColumn: 'project_id', resourceColumnIsText: false})
    assert.deepEqual(ints.indexSuggestions, ['CREATE INDEX IF NOT EXISTS "tasks_project_id_idx" ON "public"."tasks" (("project_id"::pg_catalog.text));'])
  })

  it('both a resource and an owner column: two comparisons, two suggestions', () => {
    const g = generatePolicies({table: 'tasks', resourceColumn: 'project', ownerColumn: 'owner', operations: ['select']})
    assert.equal(g.policies[0].using, `"project"::pg_catalog.text = ANY (${granted('read')}) AND "owner"::pg_catalog.text = (SELECT "public".hessra_current_subject())`)
    assert.equal(g.indexSuggestions.length, 2)
  })

  it('a custom --token-setting passes the token to the token form, every argument typed', () => {
    const g = generatePolicies({table: 'tasks', resourceColumn: 'project', operations: ['select'], tokenSetting: 'app.token', extensionSchema: 'ext'})
    assert.equal(
      g.policies[0].using,
      `"project"::pg_catalog.text = ANY ((SELECT "ext".hessra_granted_resources(pg_catalog.current_setting('app.token', true), 'read'::pg_catalog.text, NULL::pg_catalog.text, NULL::pg_catalog.text, NULL::pg_catalog.text))::pg_catalog.text[])`,
    )
    assert.deepEqual(g.functions.map((f) => f.argTypes.length), [5])
  })

  it('--per-row keeps the per-row form, and only applies to --resource-column', () => {
    const g = generatePolicies({table: 'tasks', resourceColumn: 'project', perRow: true, operations: ['select']})
    assert.equal(g.policies[0].using, `"public".hessra_row_security("project", 'read'::pg_catalog.text)`)
    assert.deepEqual(g.indexSuggestions, [], 'no index can serve a per-row check')
    assert.throws(() => generatePolicies({table: 'tasks', perRow: true}), (e: Error) => e instanceof UsageError && /--per-row applies to --resource-column/.test(e.message))
  })

  it('hostile column names stay quoted in the comparison and the suggestion', () => {
    const g = generatePolicies({table: 't"x', resourceColumn: 'p"); DROP TABLE t; --', operations: ['select']})
    assert.ok(g.policies[0].using?.startsWith('"p""); DROP TABLE t; --"::pg_catalog.text = ANY ('))
    assert.ok(g.indexSuggestions[0].includes('("p""); DROP TABLE t; --")'))
    assert.throws(() => generatePolicies({table: 't', resourceColumn: 'p\nq'}), UsageError)
  })
})
