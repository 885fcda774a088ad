import {strict as assert} from 'node:assert'

import {exitCodeFor, UsageError} from '../../src/errors.js'
import {
  checkTokenSetting,
  dropOwnPoliciesStatement,
  extensionSchemaCheck,
  generatePolicies,
  parseOperationMap,
  parseOperations,
  parseRoles,
  policyName,
  renderResource,
  splitTable,
} from '../../src/pg/policy.js'
import {dollarTag, qualifiedName, quoteIdent, quoteLiteral, redactUrl, sqlComment} from '../../src/pg/sql.js'
import {checksArePerStatement} from '../../src/pg/status.js'

const DROP = `DO $hessra$
DECLARE pol name;
BEGIN
  FOR pol IN SELECT p.polname FROM pg_catalog.pg_policy p
             WHERE p.polrelid = '"public"."documents"'::pg_catalog.regclass AND pg_catalog.starts_with(p.polname, 'hessra_')
  LOOP
    EXECUTE pg_catalog.format('DROP POLICY %I ON %s', pol, '"public"."documents"'::pg_catalog.regclass);
  END LOOP;
END
$hessra$;`

const CHECK = (op: string, schema = '"public"') =>
  `(SELECT ${schema}.hessra_row_security(pg_catalog.current_setting('hessra.token', true), 'documents'::pg_catalog.text, '${op}'::pg_catalog.text))`

describe('pg policy generation', () => {
  it('default: enable + force, drop own policies, one policy per command, golden SQL', () => {
    const g = generatePolicies({table: 'documents'})
    assert.deepEqual(g.statements, [
      'SET LOCAL search_path = pg_catalog, pg_temp;',
      extensionSchemaCheck('public'),
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
      assert.ok(!/hessra_\w+\(/.test(expr.replaceAll('(SELECT "public".hessra_', '')), 'no bare call')
    }
  })

  it('owner-column mode compares with (SELECT hessra_current_subject()) and suggests an index', () => {
    const g = generatePolicies({table: 'documents', ownerColumn: 'Owner Id', operations: ['select', 'insert']})
    const owner = `"Owner Id"::pg_catalog.text = (SELECT "public".hessra_current_subject())`
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
      `CREATE POLICY "hessra_select_Report""ing" ON "App"."docs"\n  AS PERMISSIVE FOR SELECT TO "Report""ing"\n  USING ((SELECT "public".hessra_row_security(pg_catalog.current_setting('hessra.token', true), 'docs'::pg_catalog.text, 'read'::pg_catalog.text)));`,
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
      `CREATE POLICY "hessra_select" ON "shop"."orders"\n  AS RESTRICTIVE FOR SELECT TO PUBLIC\n  USING ((SELECT "public".hessra_row_security(pg_catalog.current_setting('app.token', true), 'shop:orders/select'::pg_catalog.text, 'view'::pg_catalog.text)));`,
    )
    assert.equal(g.policies[1].operation, 'edit')
    assert.equal(g.policies[1].resource, 'shop:orders/update')
    assert.ok(g.warnings.some((w) => /RESTRICTIVE/.test(w)))
  })

  it('--resource-column --per-row checks the row\'s resource per row with the two-argument form', () => {
    const g = generatePolicies({table: 'tasks', resourceColumn: 'Project Id', perRow: true, operations: ['select', 'update']})
    const check = (op: string) => `"public".hessra_row_security("Project Id", '${op}'::pg_catalog.text)`
    assert.deepEqual(
      g.policies.map((p) => p.sql),
      [
        `CREATE POLICY "hessra_select" ON "public"."tasks"\n  AS PERMISSIVE FOR SELECT TO PUBLIC\n  USING (${check('read')});`,
        `CREATE POLICY "hessra_update" ON "public"."tasks"\n  AS PERMISSIVE FOR UPDATE TO PUBLIC\n  USING (${check('write')})\n  WITH CHECK (${check('write')});`,
      ],
    )
    assert.equal(g.policies[0].resource, '"Project Id"')
    assert.ok(g.sql.includes('resource column "Project Id"'))
    assert.ok(g.sql.includes('--per-row: the check runs for every row'))
    for (const p of g.policies) assert.ok(checksArePerStatement(`${p.using ?? ''} ${p.withCheck ?? ''}`), 'not flagged by pg status')
  })

  it('--resource-column --per-row with a custom --token-setting uses the three-argument form; not with --resource', () => {
    const g = generatePolicies({table: 'tasks', resourceColumn: 'project', perRow: true, operations: ['select'], tokenSetting: 'app.token'})
    assert.equal(g.policies[0].using, `"public".hessra_row_security(pg_catalog.current_setting('app.token', true), "project", 'read'::pg_catalog.text)`)
    assert.throws(() => generatePolicies({table: 't', resourceColumn: 'p', resource: '{table}'}), (e: Error) => e instanceof UsageError && /--resource-column/.test(e.message))
    assert.throws(() => generatePolicies({table: 't', resourceColumn: ''}), UsageError)
  })

  it('quotes hostile names and literals', () => {
    const g = generatePolicies({table: `x"; DROP TABLE t; --`, resource: `it's`})
    assert.ok(g.qualified === `"public"."x""; DROP TABLE t; --"`)
    assert.ok(g.policies[0].sql.includes(`'it''s'::pg_catalog.text`))
    assert.throws(() => generatePolicies({table: 'a\u0000b'}), UsageError)
  })

  describe('hostile names and values (issue 18 #2: script injection)', () => {
    const INJECT = 'notes\nALTER ROLE mallory SUPERUSER;--'
    const breakers = ['\n', '\r', '\u000b', '\u0085', '\u2028', '\u202e', '\u007f']

    it('refuses control characters in every name: table, schema, owner column, role, extension schema', () => {
      const cases: [string, (v: string) => Parameters<typeof generatePolicies>[0]][] = [
        ['table name', (v) => ({table: v})],
        ['schema name', (v) => ({table: 't', schema: v})],
        ['owner column', (v) => ({table: 't', ownerColumn: v})],
        ['identity column', (v) => ({table: 't', identityColumn: v})],
        ['role name', (v) => ({table: 't', roles: [v]})],
        ['extension schema', (v) => ({table: 't', extensionSchema: v})],
      ]
      for (const [what, opts] of cases) {
        for (const ch of breakers) {
          const name = INJECT.replace('\n', ch)
          assert.throws(
            () => generatePolicies(opts(name)),
            (e: Error) => {
              assert.ok(e instanceof UsageError, `${what}: ${e.message}`)
              assert.equal(exitCodeFor(e), 2)
              assert.match(e.message, new RegExp(`^${what} ".*" contains a control or formatting character \\(U\\+`))
              // eslint-disable-next-line no-control-regex -- the point is to find raw control characters
              assert.ok(!/[\n\r\u000b\u0085\u2028\u202e\u007f]/.test(e.message), 'the message shows the character escaped')
              return true
            },
          )
        }
      }
    })

    it('values in literals (--resource, --operation-map) cannot leave their literal or comment', () => {
      for (const ch of breakers) {
        const hostile = `x${ch}'); COMMIT; ALTER ROLE mallory SUPERUSER; --\\'`
        const g = generatePolicies({table: 'notes', resource: hostile, operationMap: parseOperationMap(`select=${hostile.replaceAll(',', '')}`)})
        const lines = g.sql.split('\n')
        const begin = lines.indexOf('BEGIN;')
        const commit = lines.indexOf('COMMIT;')
        for (const l of [...lines.slice(0, begin), ...lines.slice(commit + 1)]) assert.ok(l === '' || l.startsWith('-- '), `outside the transaction only comments: ${JSON.stringify(l)}`)
        // backslashes: E'' literals, read the same whatever standard_conforming_strings says
        for (const p of g.policies) {
          assert.ok(p.sql.includes(`${quoteLiteral(p.resource)}::pg_catalog.text`))
          assert.ok(quoteLiteral(p.resource).startsWith("E'"))
        }
      }
    })

    it('messages about other flags show hostile values escaped', () => {
      assert.throws(() => parseOperations('read\nx'), (e: Error) => !e.message.includes('\n') && e.message.includes('\\n'))
      assert.throws(() => parseOperationMap('sel\nect=read'), (e: Error) => !e.message.includes('\n'))
      assert.throws(() => checkTokenSetting('a.b\nc'), (e: Error) => !e.message.includes('\n'))
      assert.throws(() => renderResource('{x\ny}', {table: 't', schema: 's', command: 'select', operation: 'read'}), (e: Error) => !e.message.includes('\n'))
    })
  })

  it('calls are qualified by the extension schema, with typed arguments, under a pinned search_path (issue 18 #3)', () => {
    const g = generatePolicies({table: 'documents', ownerColumn: 'owner', extensionSchema: 'ext"s'})
    assert.equal(g.statements[0], 'SET LOCAL search_path = pg_catalog, pg_temp;')
    assert.equal(g.statements[1], extensionSchemaCheck('ext"s'))
    assert.match(g.statements[1], /e\.extname = 'hessra' AND n\.nspname = 'ext"s'/)
    assert.ok(g.sql.indexOf('BEGIN;') < g.sql.indexOf('SET LOCAL search_path'))
    assert.equal(g.policies[0].using, `${CHECK('read', '"ext""s"')} AND "owner"::pg_catalog.text = (SELECT "ext""s".hessra_current_subject())`)
    assert.deepEqual(g.functions.map((f) => f.name), ['hessra_row_security', 'hessra_current_subject'])
    // nothing callable is left to the search_path
    for (const p of g.policies) for (const call of `${p.using ?? ''} ${p.withCheck ?? ''}`.matchAll(/([\w".]+)\(/g)) assert.match(call[1], /^("ext""s"|pg_catalog)\./, call[1])
  })

  it('owner column of another type: compared by its text form; index suggestion on that expression (issue 15 #1)', () => {
    const g = generatePolicies({table: 'documents', ownerColumn: 'owner_id', ownerColumnIsText: false})
    assert.match(g.policies[0].using ?? '', /"owner_id"::pg_catalog\.text = \(SELECT "public"\.hessra_current_subject\(\)\)/)
    assert.equal(g.indexSuggestion, 'CREATE INDEX IF NOT EXISTS "documents_owner_id_idx" ON "public"."documents" (("owner_id"::pg_catalog.text));')
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
    assert.equal(quoteLiteral('a\\b'), "E'a\\\\b'")
    assert.equal(sqlComment('a\nDROP TABLE t; -- b\r\u2028'), '-- a\\u000aDROP TABLE t; -- b\\u000d\\u2028')
    assert.throws(() => quoteIdent('x'.repeat(64)), /63 bytes/)
    assert.throws(() => quoteIdent(''), UsageError)
    assert.equal(redactUrl('postgresql://u:secret@h:5/db'), 'postgresql://u:***@h:5/db')
    assert.ok(!redactUrl('postgresql://u@h/db?password=x').includes('=x'))
  })

  describe('--identity-column (identity tokens)', () => {
    it('compares the column with the identity the token proves, schema-qualified, once per statement, no resource check', () => {
      const g = generatePolicies({table: 'notes', identityColumn: 'owner', extensionSchema: 'ext'})
      assert.deepEqual(
        g.functions.map((f) => f.name),
        ['hessra_current_identity'],
      )
      for (const p of g.policies) {
        for (const expr of [p.using, p.withCheck]) {
          if (expr === null) continue
          assert.equal(expr, '"owner"::pg_catalog.text = (SELECT "ext".hessra_current_identity())')
        }
      }
      assert.deepEqual(
        g.policies.map((p) => [p.command, p.using !== null, p.withCheck !== null]),
        [
          ['select', true, false],
          ['insert', false, true],
          ['update', true, true],
          ['delete', true, false],
        ],
      )
      assert.doesNotMatch(g.sql, /hessra_row_security/)
      assert.match(g.sql, /hessra_current_identity\(\): its subject or narrowest delegated identity/)
    })

    it('casts a non-text column by its text form, as --owner-column does, and indexes that form', () => {
      const g = generatePolicies({table: 'notes', identityColumn: 'owner_id', ownerColumnIsText: false})
      assert.match(g.policies[0].using ?? '', /^"owner_id"::pg_catalog\.text = \(SELECT "public"\.hessra_current_identity\(\)\)$/)
      assert.equal(g.indexSuggestion, 'CREATE INDEX IF NOT EXISTS "notes_owner_id_idx" ON "public"."notes" (("owner_id"::pg_catalog.text));')
    })

    it('refuses what does not apply to identity tokens', () => {
      for (const extra of [{ownerColumn: 'o'}, {resource: 'r'}, {resourceColumn: 'r'}, {tokenSetting: 'app.token'}]) {
        assert.throws(
          () => generatePolicies({table: 't', identityColumn: 'owner', ...extra}),
          (e: Error) => e instanceof UsageError && /--identity-column|hessra_current_identity/.test(e.message),
          JSON.stringify(extra),
        )
      }
    })
  })
})
