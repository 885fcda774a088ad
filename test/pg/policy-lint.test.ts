/**
 * `pg policy lint` and `pg policy check` without a database: the rules on catalog snapshots, the hessra
 * calls of policy expressions as pg_get_expr prints them, and the --expect grammar. The end-to-end tests
 * against a cluster are in test/pg/policy-e2e.test.ts.
 */
import {strict as assert} from 'node:assert'

import {UsageError} from '../../src/errors.js'
import type {ColumnInfo} from '../../src/pg/columns.js'
import {evaluateExpectations, formatCheck, parseExpectations, type CheckResult} from '../../src/pg/policy-check.js'
import {hessraCalls, lintFails, lintTables, unwrappedCalls, type LintPolicy, type LintTable} from '../../src/pg/policy-lint.js'
import {checksArePerStatement} from '../../src/pg/status.js'

const col = (name: string, indexed: boolean, category = 'S'): [string, ColumnInfo] => [name, {name, type: category === 'S' ? 'text' : 'integer', category, indexed, generated: false, identityAlways: false}]

const policy = (p: Partial<LintPolicy>): LintPolicy => ({name: 'p', command: 'select', permissive: true, using: null, withCheck: null, columns: [], ...p})

const table = (t: Partial<LintTable>): LintTable => ({table: 'public.t', rls: true, forced: true, policies: [], columns: new Map([col('owner', true), col('project', false), col('n', false, 'N')]), ...t})

describe('pg policy lint: hessra calls in policy expressions', () => {
  it('tells wrapped calls from per-row ones, as pg_get_expr prints them', () => {
    const generated = `((project)::text = ANY ((( SELECT public.hessra_granted_resources('read'::text) AS hessra_granted_resources))::text[]))`
    assert.deepEqual(hessraCalls(generated), [{name: 'hessra_granted_resources', wrapped: true, args: 1}])
    assert.deepEqual(unwrappedCalls(generated), [])
    assert.ok(checksArePerStatement(generated))
    const bare = `(owner = "ext s".hessra_current_subject())`
    assert.deepEqual(unwrappedCalls(bare).map((c) => c.name), ['hessra_current_subject'])
    assert.ok(!checksArePerStatement(bare))
    // the two-argument per-row form is made for per-row resources; the three-argument one is not
    assert.deepEqual(unwrappedCalls(`hessra_row_security(project, 'read'::text)`), [])
    assert.deepEqual(unwrappedCalls(`hessra_row_security(current_setting('hessra.token'::text, true), project, 'read'::text)`).map((c) => c.args), [3])
    // a literal that looks like a call is none; an identity call is checked too
    assert.deepEqual(hessraCalls(`(note = 'hessra_current_subject()'::text)`), [])
    assert.deepEqual(unwrappedCalls(`(owner = hessra_current_identity())`).map((c) => c.name), ['hessra_current_identity'])
    assert.ok(!checksArePerStatement('(true)'), 'no hessra call: not a hessra check')
  })
})

describe('pg policy lint: the rules', () => {
  const wrapped = `((project)::text = ANY ((( SELECT hessra_granted_resources('read'::text) AS hessra_granted_resources))::text[]))`

  it('a generated policy on an indexed column: nothing to report', () => {
    const t = table({columns: new Map([col('project', true)]), policies: [policy({using: wrapped, columns: ['project']})]})
    assert.deepEqual(lintTables([t]), [])
    assert.ok(!lintFails([]))
  })

  it('reports each rule once, with its severity and a hint', () => {
    const t = table({
      forced: false,
      policies: [
        policy({name: 'bare', using: '(owner = hessra_current_subject())', columns: ['owner']}),
        policy({name: 'unindexed', using: wrapped, columns: ['project']}),
        policy({name: 'ins', command: 'insert', using: null, withCheck: null}),
        policy({name: 'upd', command: 'update', using: wrapped, withCheck: null, columns: ['project']}),
        policy({name: 'ints', using: `((n)::text = ( SELECT hessra_current_subject() AS hessra_current_subject))`, columns: ['n']}),
        policy({name: 'perrow', using: `hessra_row_security(project, 'read'::text)`, columns: ['project']}),
      ],
    })
    const found = lintTables([t]).map((f) => [f.policy, f.rule, f.severity])
    assert.deepEqual(found, [
      [null, 'rls-not-forced', 'warning'],
      ['bare', 'unwrapped-call', 'error'],
      ['unindexed', 'column-without-index', 'warning'],
      ['ins', 'insert-without-check', 'error'],
      ['upd', 'update-without-check', 'warning'],
      ['upd', 'column-without-index', 'warning'],
      ['ints', 'column-without-index', 'warning'],
      ['perrow', 'per-row-check', 'note'],
    ])
    const hints = lintTables([t]).map((f) => f.hint ?? '')
    assert.ok(hints.includes('CREATE INDEX ON public.t ("project");'), hints.join('\n'))
    assert.ok(hints.includes('CREATE INDEX ON public.t (("n"::text));'), 'another type: its text form')
    assert.ok(hints.includes('ALTER TABLE public.t FORCE ROW LEVEL SECURITY;'))
    assert.ok(lintFails(lintTables([t])))
    assert.ok(!lintFails(lintTables([table({policies: [policy({using: `hessra_row_security(owner, 'read'::text)`, columns: ['owner']})]})])), 'a note alone does not fail')
  })

  it('disabled row level security is an error; a restrictive INSERT policy without check is not', () => {
    const t = table({rls: false, forced: false, policies: [policy({command: 'insert', permissive: false, withCheck: null})]})
    assert.deepEqual(lintTables([t]).map((f) => f.rule), ['rls-disabled'])
  })

  it('hostile column names are shown escaped', () => {
    const t = table({columns: new Map([col('a\nb"', false)]), policies: [policy({using: wrapped, columns: ['a\nb"']})]})
    const [f] = lintTables([t])
    assert.ok(!f.message.includes('\n') && !(f.hint ?? '').includes('\n'), JSON.stringify(f))
  })
})

describe('pg policy check: expectations and the matrix', () => {
  const result: CheckResult = {
    table: '"public"."docs"',
    role: 'app',
    roleSource: 'option',
    rows: 10,
    commands: ['select', 'insert', 'update', 'delete'],
    tokens: [
      {label: 'dir/alice.token', subject: 'alice', verifies: true, cells: {select: {allowed: 4, of: 10}, insert: {allowed: 2, of: 5}, update: {allowed: 4, of: 10}, delete: {allowed: 0, of: 10}}},
      {label: 'expired.token', subject: null, verifies: false, cells: {select: {allowed: 0, of: 10}, insert: {allowed: 0, of: 5}, update: {allowed: 0, of: 10}, delete: {allowed: 0, of: 10, error: 'permission denied for table docs'}}},
    ],
  }
  const labels = result.tokens.map((t) => t.label)

  it('parses the grammar: token by path or file name, * for every command, all/none/some/<N/>N', () => {
    const e = parseExpectations(['alice.token:select=some,delete=0', 'expired.token:*=none', 'select=<5', 'insert=all'], labels)
    assert.deepEqual(
      e.map((x) => [x.token, x.command, x.op, x.value]),
      [
        ['dir/alice.token', 'select', '>', 0],
        ['dir/alice.token', 'delete', '=', 0],
        ['expired.token', 'select', '=', 0],
        ['expired.token', 'insert', '=', 0],
        ['expired.token', 'update', '=', 0],
        ['expired.token', 'delete', '=', 0],
        [null, 'select', '<', 5],
        [null, 'insert', '=', 'all'],
      ],
    )
    for (const bad of ['select', 'select=lots', 'truncate=1', 'bob.token:select=1']) assert.throws(() => parseExpectations([bad], labels), UsageError, bad)
  })

  it('evaluates every token an expectation names; an error is never a match', () => {
    const o = evaluateExpectations(result, parseExpectations(['select=<5', 'insert=all', 'expired.token:delete=0'], labels))
    assert.deepEqual(
      o.map((x) => [x.token, x.command, x.ok, x.actual, x.expected]),
      [
        ['dir/alice.token', 'select', true, 4, '<5'],
        ['expired.token', 'select', true, 0, '<5'],
        ['dir/alice.token', 'insert', false, 2, 'all (5)'],
        ['expired.token', 'insert', false, 0, 'all (5)'],
        ['expired.token', 'delete', false, null, '0'],
      ],
    )
  })

  it('prints one row per token', () => {
    const lines = formatCheck(result)
    assert.equal(lines[0], '"public"."docs" as role "app" (option), 10 rows')
    assert.match(lines[1], /^token\s+SELECT\s+INSERT\s+UPDATE\s+DELETE$/)
    assert.match(lines[2], /^dir\/alice\.token \(alice\)\s+4\/10\s+2\/5\s+4\/10\s+0\/10$/)
    assert.match(lines[3], /^expired\.token \(does not verify\)\s+0\/10\s+0\/5\s+0\/10\s+error$/)
    assert.equal(lines[4], '  expired.token DELETE: permission denied for table docs')
  })
})
