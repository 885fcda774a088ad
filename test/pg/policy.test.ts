import {strict as assert} from 'node:assert'

import {exitCodeFor, UsageError} from '../../src/errors.js'
import {
  checkTokenSetting,
  dropOwnPoliciesStatement,
  generatePolicies,
  parseOperationMap,
  parseOperations,
  parseRoles,
  policyName,
  renderResource,
  splitTable,
} from '../../src/pg/policy.js'
import {dollarTag, qualifiedName, quoteIdent, quoteLiteral, redactUrl} from '../../src/pg/sql.js'
import {checksArePerStatement} from '../../src/pg/status.js'

const DROP = `DO $hessra$
DECLARE pol name;
BEGIN
  FOR pol IN SELECT p.polname FROM pg_catalog.pg_policy p
             WHERE p.polrelid = '"public"."documents"'::regclass AND p.polname LIKE 'hessra\\_%'
  LOOP
    EXECUTE format('DROP POLICY %I ON %s', pol, '"public"."documents"'::regclass);
  END LOOP;
END
$hessra$;`

const CHECK = (op: string) => `(SELECT hessra_row_security(current_setting('hessra.token', true), 'documents', '${op}'))`

describe('pg policy generation', () => {
  it('default: enable + force, drop own policies, one policy per command, golden SQL', () => {
    const g = generatePolicies({table: 'documents'})
    assert.deepEqual(g.statements, [
      'ALTER TABLE "public"."documents" ENABLE ROW LEVEL SECURITY;',
      'ALTER TABLE "public"."documents" FORCE ROW LEVEL SECURITY;',
      DROP,
      `CREATE POLICY "hessra_select" ON "public"."documents"\n  AS PERMISSIVE FOR SELECT TO PUBLIC\n  USING (${CHECK('read')});`,
      `CREATE POLICY "hessra_insert" ON "public"."documents"\n  AS PERMISSIVE FOR INSERT TO PUBLIC\n  WITH CHECK (${CHECK('write')});`,
      `CREATE POLICY "hessra_update" ON "public"."documents"\n  AS PERMISSIVE FOR UPDATE TO PUBLIC\n  USING (${CHECK('write')})\n  WITH CHECK (${CHECK('write')});`,
      `CREATE POLICY "hessra_delete" ON "public"."documents"\n  AS PERMISSIVE FOR DELETE TO PUBLIC\n  USING (${CHECK('write')});`,
    ])
    assert.equal(g.indexSuggestion, null)
    assert.deepEqual(g.warnings, [])
    // the script: comments, one transaction
    const lines = g.sql.split('\n')
    assert.ok(lines[0].startsWith('-- hessra row-level security for "public"."documents"'))
    assert.equal(lines.filter((l) => l === 'BEGIN;').length, 1)
    assert.equal(lines.filter((l) => l === 'COMMIT;').length, 1)
    assert.ok(g.sql.indexOf('BEGIN;') < g.sql.indexOf('ALTER TABLE'))
    assert.ok(g.sql.trimEnd().endsWith('COMMIT;'))
  })

  it('every hessra call is wrapped in (SELECT ...)', () => {
    const g = generatePolicies({table: 'documents', ownerColumn: 'owner'})
    for (const p of g.policies) {
      const expr = `${p.using ?? ''} ${p.withCheck ?? ''}`
      assert.ok(checksArePerStatement(expr), expr)
      assert.ok(!/[^(]\s*hessra_row_security\(/.test(expr.replaceAll('(SELECT hessra_row_security(', '')), 'no bare call')
    }
  })

  it('owner-column mode compares with (SELECT hessra_current_subject()) and suggests an index', () => {
    const g = generatePolicies({table: 'documents', ownerColumn: 'Owner Id', operations: ['select', 'insert']})
    const owner = `"Owner Id" = (SELECT hessra_current_subject())`
    assert.deepEqual(
      g.policies.map((p) => p.sql),
      [
        `CREATE POLICY "hessra_select" ON "public"."documents"\n  AS PERMISSIVE FOR SELECT TO PUBLIC\n  USING (${CHECK('read')} AND ${owner});`,
        `CREATE POLICY "hessra_insert" ON "public"."documents"\n  AS PERMISSIVE FOR INSERT TO PUBLIC\n  WITH CHECK (${CHECK('write')} AND ${owner});`,
      ],
    )
    assert.equal(g.indexSuggestion, 'CREATE INDEX IF NOT EXISTS "documents_Owner Id_idx" ON "public"."documents" ("Owner Id");')
    assert.ok(g.sql.includes(`--   ${g.indexSuggestion}`), 'index suggestion as a comment')
    assert.ok(!g.statements.some((s) => s.startsWith('CREATE INDEX')), 'never executed')
  })

  it('one policy per command and role, roles quoted', () => {
    const g = generatePolicies({table: 'docs', schema: 'App', roles: ['app', 'Report"ing'], operations: ['select', 'delete']})
    assert.deepEqual(
      g.policies.map((p) => [p.name, p.command, p.role]),
      [
        ['hessra_select_app', 'select', 'app'],
        ['hessra_select_Report"ing', 'select', 'Report"ing'],
        ['hessra_delete_app', 'delete', 'app'],
        ['hessra_delete_Report"ing', 'delete', 'Report"ing'],
      ],
    )
    assert.equal(
      g.policies[1].sql,
      `CREATE POLICY "hessra_select_Report""ing" ON "App"."docs"\n  AS PERMISSIVE FOR SELECT TO "Report""ing"\n  USING ((SELECT hessra_row_security(current_setting('hessra.token', true), 'docs', 'read')));`,
    )
  })

  it('--operation-map, --resource template, --token-setting, restrictive', () => {
    const g = generatePolicies({
      table: 'orders',
      schema: 'shop',
      operations: ['select', 'update'],
      operationMap: parseOperationMap('select=view,update=edit'),
      resource: '{schema}:{table}/{command}',
      tokenSetting: 'app.token',
      as: 'restrictive',
    })
    assert.equal(
      g.policies[0].sql,
      `CREATE POLICY "hessra_select" ON "shop"."orders"\n  AS RESTRICTIVE FOR SELECT TO PUBLIC\n  USING ((SELECT hessra_row_security(current_setting('app.token', true), 'shop:orders/select', 'view')));`,
    )
    assert.equal(g.policies[1].operation, 'edit')
    assert.equal(g.policies[1].resource, 'shop:orders/update')
    assert.ok(g.warnings.some((w) => /RESTRICTIVE/.test(w)))
  })

  it('--resource-column checks the row\'s resource per row with the two-argument form', () => {
    const g = generatePolicies({table: 'tasks', resourceColumn: 'Project Id', operations: ['select', 'update']})
    const check = (op: string) => `hessra_row_security("Project Id", '${op}')`
    assert.deepEqual(
      g.policies.map((p) => p.sql),
      [
        `CREATE POLICY "hessra_select" ON "public"."tasks"\n  AS PERMISSIVE FOR SELECT TO PUBLIC\n  USING (${check('read')});`,
        `CREATE POLICY "hessra_update" ON "public"."tasks"\n  AS PERMISSIVE FOR UPDATE TO PUBLIC\n  USING (${check('write')})\n  WITH CHECK (${check('write')});`,
      ],
    )
    assert.equal(g.policies[0].resource, '"Project Id"')
    assert.ok(g.sql.includes('resource column "Project Id"'))
    assert.ok(g.sql.includes('the check runs per row'))
    for (const p of g.policies) assert.ok(checksArePerStatement(`${p.using ?? ''} ${p.withCheck ?? ''}`), 'not flagged by pg status')
  })

  it('--resource-column with a custom --token-setting uses the three-argument form; not with --resource', () => {
    const g = generatePolicies({table: 'tasks', resourceColumn: 'project', operations: ['select'], tokenSetting: 'app.token'})
    assert.equal(g.policies[0].using, `hessra_row_security(current_setting('app.token', true), "project", 'read')`)
    assert.throws(() => generatePolicies({table: 't', resourceColumn: 'p', resource: '{table}'}), (e: Error) => e instanceof UsageError && /--resource-column/.test(e.message))
    assert.throws(() => generatePolicies({table: 't', resourceColumn: ''}), UsageError)
  })

  it('quotes hostile names and literals', () => {
    const g = generatePolicies({table: `x"; DROP TABLE t; --`, resource: `it's`})
    assert.ok(g.qualified === `"public"."x""; DROP TABLE t; --"`)
    assert.ok(g.policies[0].sql.includes(`'it''s'`))
    assert.throws(() => generatePolicies({table: 'a\u0000b'}), UsageError)
  })

  it('warns when UPDATE/DELETE come without SELECT', () => {
    const g = generatePolicies({table: 't', operations: ['update']})
    assert.ok(g.warnings.some((w) => /SELECT policy/.test(w)))
    assert.ok(g.sql.includes('-- WARNING:'))
  })

  it('rejects --owner-column with a custom --token-setting', () => {
    assert.throws(() => generatePolicies({table: 't', ownerColumn: 'o', tokenSetting: 'app.token'}), /hessra_current_subject/)
  })

  it('parses --operations and --operation-map', () => {
    assert.deepEqual(parseOperations(undefined), ['select', 'insert', 'update', 'delete'])
    assert.deepEqual(parseOperations('delete, SELECT'), ['select', 'delete'])
    assert.deepEqual(parseOperations('all'), ['select', 'insert', 'update', 'delete'])
    assert.throws(() => parseOperations('truncate'), (e: Error) => e instanceof UsageError && exitCodeFor(e) === 2)
    assert.throws(() => parseOperations(''), UsageError)
    assert.deepEqual(parseOperationMap('insert=create,delete=remove'), {select: 'read', insert: 'create', update: 'write', delete: 'remove'})
    assert.throws(() => parseOperationMap('select'), /COMMAND=OPERATION/)
    assert.throws(() => parseOperationMap('merge=x'), /unknown SQL command/)
    assert.deepEqual(parseRoles(['a,b', 'c', 'a']), ['a', 'b', 'c'])
  })

  it('resource templates and table names', () => {
    assert.equal(renderResource('{table}', {table: 't', schema: 's', command: 'select', operation: 'read'}), 't')
    assert.equal(renderResource('{schema}.{table}:{operation}', {table: 't', schema: 's', command: 'select', operation: 'read'}), 's.t:read')
    assert.throws(() => renderResource('{nope}', {table: 't', schema: 's', command: 'select', operation: 'read'}), /placeholder/)
    assert.deepEqual(splitTable('shop.orders', undefined), {schema: 'shop', table: 'orders'})
    assert.deepEqual(splitTable('orders', undefined), {schema: 'public', table: 'orders'})
    assert.deepEqual(splitTable('a.b', 'x'), {schema: 'x', table: 'a.b'})
    checkTokenSetting('hessra.token')
    assert.throws(() => checkTokenSetting('token'), UsageError)
    assert.throws(() => checkTokenSetting("x.y'); DROP"), UsageError)
  })

  it('policy names fit in 63 bytes and stay distinct', () => {
    assert.equal(policyName('select', null), 'hessra_select')
    const long1 = policyName('select', 'r'.repeat(80))
    const long2 = policyName('select', 'r'.repeat(81))
    assert.ok(Buffer.byteLength(long1) <= 63)
    assert.notEqual(long1, long2)
    assert.ok(long1.startsWith('hessra_select_'))
  })

  it('the drop statement only touches hessra_* policies, with a safe dollar tag', () => {
    assert.equal(dropOwnPoliciesStatement('"public"."documents"'), DROP)
    const tricky = dropOwnPoliciesStatement(qualifiedName('public', 'a$hessra$b'))
    assert.ok(tricky.startsWith('DO $hessra1$'))
    assert.equal(dollarTag('x $hessra$ $hessra1$'), '$hessra2$')
  })

  it('quoting helpers', () => {
    assert.equal(quoteIdent('a"b'), '"a""b"')
    assert.equal(quoteLiteral("a'b"), "'a''b'")
    assert.throws(() => quoteIdent('x'.repeat(64)), /63 bytes/)
    assert.throws(() => quoteIdent(''), UsageError)
    assert.equal(redactUrl('postgresql://u:secret@h:5/db'), 'postgresql://u:***@h:5/db')
    assert.ok(!redactUrl('postgresql://u@h/db?password=x').includes('=x'))
  })
})
