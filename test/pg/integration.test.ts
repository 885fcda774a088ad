/**
 * End to end against a real, throwaway PostgreSQL cluster started by this test through the sandbox code
 * (`hessra pg sandbox`): install, status, generated RLS policies with real tokens, EXPLAIN.
 *
 * Needs PostgreSQL server binaries + server headers, make, a C compiler, and the native library. Does
 * not skip: a missing piece fails the suite with the reason.
 */
import {strict as assert} from 'node:assert'
import {spawnSync} from 'node:child_process'
import {chmodSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import pg from 'pg'

import {loadConfig} from '../../src/config/index.js'
import {generateKeyPair} from '../../src/keys.js'
import type {KeyPair} from '../../src/native/binding.js'
import {applyPolicies} from '../../src/pg/apply.js'
import {UsageError} from '../../src/errors.js'
import {generatePolicies, parseOperationMap, type PolicyOptions} from '../../src/pg/policy.js'
import {describePgConfig} from '../../src/pg/pg-config.js'
import {recordingProgress} from '../../src/pg/progress.js'
import {sandboxRoleUrl, sandboxStart, sandboxStatus, sandboxStop, type SandboxStartResult} from '../../src/pg/sandbox.js'
import {getStatus} from '../../src/pg/status.js'
import {mintFromDatalog, mintHessra} from '../../src/tokens/devkit.js'
import {delegateIdentityToken, mintIdentityToken} from '../../src/tokens/identity.js'
import {cli, json, requireNative, tempDir, writeKeyConfig} from '../helpers.js'

const APP = 'hessra_it_app'

describe('pg end to end (throwaway cluster)', function () {
  this.timeout(15 * 60_000)

  let dir: string
  let configPath: string
  let sb: SandboxStartResult
  let admin: pg.Client
  let root: KeyPair
  let other: KeyPair
  const tokens: Record<string, string> = {}

  const url = (db = 'postgres') => sb.url.replace(/\/postgres$/, `/${db}`)

  before(async () => {
    requireNative()
    dir = tempDir('hessra-pg-it-')
    chmodSync(dir, 0o755) // the server's OS user (postgres, when we are root) must reach the sandbox inside
    configPath = join(dir, 'hessra-cli.json')
    root = generateKeyPair('ed25519')
    other = generateKeyPair('ed25519')
    writeKeyConfig(configPath, 'it', root)
    const loaded = await loadConfig({configPath})
    sb = await sandboxStart({dir: join(dir, 'sandbox'), loaded, progress: recordingProgress()})
    admin = new pg.Client({connectionString: sb.url})
    await admin.connect()

    const now = Math.floor(Date.now() / 1000)
    const multi = (subject: string, ops: string[]) =>
      ops.map((o) => `right("${subject}", "documents", "${o}"); right("${subject}", "notes", "${o}");`).join('\n') +
      '\ncheck if subject($s), resource($r), operation($o), right($s, $r, $o);\ncheck if time($t), $t < {exp};'
    tokens.alice = mintFromDatalog({privateKey: root, datalog: multi('alice', ['read']), params: {exp: now + 3600}})
    tokens.bob = mintFromDatalog({privateKey: root, datalog: multi('bob', ['read', 'write']), params: {exp: now + 3600}})
    tokens.expired = mintFromDatalog({privateKey: root, datalog: multi('bob', ['read', 'write']), params: {exp: now - 120}})
    tokens.forged = mintFromDatalog({privateKey: other, datalog: multi('bob', ['read', 'write']), params: {exp: now + 3600}})
    tokens.aliceOtherTable = mintHessra({privateKey: root, subject: 'alice', resource: 'invoices', operation: 'read', expiresAt: now + 3600})
  })

  after(async () => {
    await admin?.end().catch(() => {})
    if (sb) await sandboxStop({dir: sb.dir, progress: recordingProgress()})
    root?.dispose()
    other?.dispose()
  })

  /** Runs fn as the unprivileged app role with the token (or none) in hessra.token, in a transaction rolled back unless keep. */
  async function as<T>(token: string | null, fn: (c: pg.Client) => Promise<T>, keep = true): Promise<T> {
    const c = new pg.Client({connectionString: sb.url})
    await c.connect()
    try {
      await c.query('BEGIN')
      await c.query(`SET LOCAL ROLE ${APP}`)
      if (token !== null) await c.query("SELECT set_config('hessra.token', $1, true)", [token])
      const r = await fn(c)
      await c.query(keep ? 'COMMIT' : 'ROLLBACK')
      return r
    } catch (error) {
      await c.query('ROLLBACK').catch(() => {})
      throw error
    } finally {
      await c.end()
    }
  }
  const ids = async (token: string | null, table = 'documents') =>
    as(token, async (c) => (await c.query<{id: number}>(`SELECT id FROM ${table} ORDER BY id`)).rows.map((r) => r.id))
  const rlsError = async (p: Promise<unknown>) =>
    assert.rejects(p, (e: Error & {code?: string}) => {
      assert.equal(e.code, '42501', e.message)
      assert.match(e.message, /row-level security/)
      return true
    })

  it('installs the extension into a fresh cluster and configures it', async () => {
    assert.ok(sb.created)
    assert.equal(sb.url, `postgresql://postgres@${encodeURIComponent(join(sb.dir, 'socket'))}:${sb.port}/postgres`)
    const ext = await admin.query("SELECT extversion FROM pg_extension WHERE extname = 'hessra'")
    assert.equal(ext.rows.length, 1)
    const def = await admin.query("SELECT default_version FROM pg_available_extensions WHERE name = 'hessra'")
    assert.equal(ext.rows[0].extversion, def.rows[0].default_version)
    const path = await admin.query("SELECT current_setting('hessra.config_path') AS p")
    assert.equal(path.rows[0].p, join(sb.dir, 'hessra.json'))
    const st = await sandboxStatus({dir: sb.dir})
    assert.ok(st.running)
    assert.equal(st.port, sb.port)
  })

  it('starting again reuses the running cluster', async () => {
    const loaded = await loadConfig({configPath})
    const again = await sandboxStart({dir: sb.dir, loaded, progress: recordingProgress(), noInstall: true})
    assert.ok(again.alreadyRunning)
    assert.equal(again.url, sb.url)
  })

  it('pg install into it is idempotent (CLI, exit 0)', () => {
    const r = cli(['pg', 'install', '--database', sb.url, '--skip-build', '--json'], {env: {HESSRA_CONFIG: configPath}})
    assert.equal(r.status, 0, r.stderr)
    const out = json<{server_config: {path: string; changed: boolean}; database: {created: boolean}}>(r.stdout)
    assert.equal(out.server_config.path, join(sb.dir, 'hessra.json'))
    assert.equal(out.server_config.changed, false)
    assert.equal(out.database.created, false)
    const dry = cli(['pg', 'install', '--database', sb.url, '--dry-run'], {env: {HESSRA_CONFIG: configPath}})
    assert.equal(dry.status, 0, dry.stderr)
    assert.match(dry.stdout, /make -C .*pg-plugin PG_CONFIG=.* install/)
    assert.match(dry.stdout, /hessra_init/)
  })

  it('status: healthy (exit 0)', async () => {
    const {judgement, report} = await getStatus(admin)
    assert.ok(judgement.healthy, judgement.problems.join('; '))
    assert.deepEqual(report.config.keys, ['it'])
    assert.equal(report.config.loads, true)
    const r = cli(['pg', 'status', '--database', sb.url, '--json'])
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.equal(json<{healthy: boolean}>(r.stdout).healthy, true)
  })

  it('status: unhealthy (exit 1) without the extension or with a broken config, unreachable (exit 5)', async () => {
    await admin.query('DROP DATABASE IF EXISTS it_noext')
    await admin.query('DROP DATABASE IF EXISTS it_broken')
    await admin.query('CREATE DATABASE it_noext')
    await admin.query('CREATE DATABASE it_broken')
    const c = new pg.Client({connectionString: url('it_broken')})
    await c.connect()
    await c.query('CREATE EXTENSION hessra')
    await c.end()
    await admin.query("ALTER DATABASE it_broken SET hessra.config_path = '/nonexistent/hessra.json'")

    const noext = cli(['pg', 'status', '--database', url('it_noext'), '--json'])
    assert.equal(noext.status, 1, noext.stdout + noext.stderr)
    assert.match(json<{problems: string[]}>(noext.stdout).problems.join(' '), /not created/)

    const broken = cli(['pg', 'status', '--database', url('it_broken')])
    assert.equal(broken.status, 1, broken.stdout + broken.stderr)
    assert.match(broken.stdout, /unhealthy/)
    assert.match(broken.stdout, /does not load/)

    const down = cli(['pg', 'status', '--database', 'postgresql://postgres@127.0.0.1:1/postgres'])
    assert.equal(down.status, 5, down.stderr)
    assert.match(down.stderr, /cannot reach PostgreSQL/)
  })

  describe('generated policies on a real table', () => {
    before(async () => {
      await admin.query(`DROP TABLE IF EXISTS documents, notes`)
      await admin.query(`DROP ROLE IF EXISTS ${APP}`)
      await admin.query(`CREATE ROLE ${APP}`)
      await admin.query('CREATE TABLE documents (id int PRIMARY KEY, owner text NOT NULL, title text NOT NULL)')
      await admin.query("INSERT INTO documents VALUES (1, 'alice', 'a1'), (2, 'alice', 'a2'), (3, 'bob', 'b1'), (4, 'bob', 'b2')")
      await admin.query('CREATE TABLE notes (id int PRIMARY KEY, body text)')
      await admin.query("INSERT INTO notes SELECT g, 'n' || g FROM generate_series(1, 5000) g")
      await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON documents, notes TO ${APP}`)
      // hessra_stats() is for monitoring roles (0.3.0 revokes it from PUBLIC)
      await admin.query(`GRANT pg_monitor TO ${APP}`)
      const r = await applyPolicies(admin, {table: 'documents', ownerColumn: 'owner'})
      assert.deepEqual(r.created, ['hessra_select', 'hessra_insert', 'hessra_update', 'hessra_delete'])
      await applyPolicies(admin, {table: 'notes', roles: [APP]})
    })

    it('SELECT: each subject sees only its rows; expired, forged, wrong-resource and no token see none', async () => {
      assert.deepEqual(await ids(tokens.alice), [1, 2])
      assert.deepEqual(await ids(tokens.bob), [3, 4])
      assert.deepEqual(await ids(tokens.expired), [])
      assert.deepEqual(await ids(tokens.forged), [])
      assert.deepEqual(await ids(tokens.aliceOtherTable), [])
      assert.deepEqual(await ids(null), [])
      assert.deepEqual(await ids('not a token'), [])
    })

    it('INSERT: only with a write grant, only as the owner', async () => {
      await rlsError(as(tokens.alice, (c) => c.query("INSERT INTO documents VALUES (10, 'alice', 'x')")))
      await rlsError(as(tokens.bob, (c) => c.query("INSERT INTO documents VALUES (11, 'alice', 'x')")))
      await rlsError(as(tokens.expired, (c) => c.query("INSERT INTO documents VALUES (12, 'bob', 'x')")))
      await rlsError(as(tokens.forged, (c) => c.query("INSERT INTO documents VALUES (13, 'bob', 'x')")))
      await rlsError(as(null, (c) => c.query("INSERT INTO documents VALUES (14, 'bob', 'x')")))
      await as(tokens.bob, (c) => c.query("INSERT INTO documents VALUES (15, 'bob', 'new')"))
      assert.deepEqual(await ids(tokens.bob), [3, 4, 15])
    })

    it('UPDATE: only own rows with a write grant; cannot give a row away', async () => {
      const alice = await as(tokens.alice, (c) => c.query("UPDATE documents SET title = 'changed'"))
      assert.equal(alice.rowCount, 0)
      const bob = await as(tokens.bob, (c) => c.query("UPDATE documents SET title = title || '!'"))
      assert.equal(bob.rowCount, 3)
      const expired = await as(tokens.expired, (c) => c.query("UPDATE documents SET title = 'x'"))
      assert.equal(expired.rowCount, 0)
      await rlsError(as(tokens.bob, (c) => c.query("UPDATE documents SET owner = 'alice' WHERE id = 3")))
      const titles = await admin.query('SELECT id, title FROM documents ORDER BY id')
      assert.deepEqual(titles.rows.map((r) => r.title), ['a1', 'a2', 'b1!', 'b2!', 'new!'])
    })

    it('DELETE: only own rows with a write grant', async () => {
      const alice = await as(tokens.alice, (c) => c.query('DELETE FROM documents'))
      assert.equal(alice.rowCount, 0)
      const forged = await as(tokens.forged, (c) => c.query('DELETE FROM documents'))
      assert.equal(forged.rowCount, 0)
      const bob = await as(tokens.bob, (c) => c.query('DELETE FROM documents WHERE id = 15'))
      assert.equal(bob.rowCount, 1)
      const all = await admin.query('SELECT count(*)::int AS n FROM documents')
      assert.equal(all.rows[0].n, 4)
    })

    it('capability mode (no owner column): every row for a read grant, writes need write', async () => {
      assert.equal((await ids(tokens.alice, 'notes')).length, 5000)
      assert.equal((await ids(tokens.bob, 'notes')).length, 5000)
      assert.equal((await ids(tokens.expired, 'notes')).length, 0)
      assert.equal((await ids(tokens.forged, 'notes')).length, 0)
      await rlsError(as(tokens.alice, (c) => c.query("INSERT INTO notes VALUES (9001, 'x')")))
      await as(tokens.bob, (c) => c.query("INSERT INTO notes VALUES (9001, 'x')"))
    })

    it('EXPLAIN shows the hessra check as an InitPlan, run once per statement', async () => {
      const plan = await as(tokens.bob, async (c) => (await c.query('EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM documents')).rows.map((r) => r['QUERY PLAN'] as string))
      const text = plan.join('\n')
      assert.match(text, /InitPlan 1/)
      assert.match(text, /InitPlan 2/)
      const filter = plan.find((l) => /Filter:/.test(l)) ?? ''
      assert.ok(!/hessra_/.test(filter), `the per-row filter must not call hessra: ${filter}`)
      const initplan = plan.slice(plan.findIndex((l) => /InitPlan 1/.test(l))).join('\n')
      assert.match(initplan, /hessra_row_security/)
      // 5000 rows, one call of the policy function
      const calls = await as(tokens.bob, async (c) => {
        const before = (await c.query('SELECT calls FROM hessra_stats()')).rows[0].calls
        await c.query('SELECT count(*) FROM notes')
        const after = (await c.query('SELECT calls FROM hessra_stats()')).rows[0].calls
        return Number(after) - Number(before)
      })
      assert.equal(calls, 1)
    })

    it('re-apply replaces only hessra_* policies, in one transaction', async () => {
      await admin.query('CREATE POLICY keep_me ON documents AS RESTRICTIVE FOR SELECT USING (true)')
      const r = await applyPolicies(admin, {table: 'documents', ownerColumn: 'owner', operations: ['select']})
      assert.deepEqual(r.dropped, ['hessra_delete', 'hessra_insert', 'hessra_select', 'hessra_update'])
      assert.deepEqual(r.untouched, ['keep_me'])
      const names = await admin.query("SELECT polname FROM pg_policy WHERE polrelid = 'documents'::regclass ORDER BY 1")
      assert.deepEqual(names.rows.map((x) => x.polname), ['hessra_select', 'keep_me'])
      // a failing apply changes nothing
      await assert.rejects(applyPolicies(admin, {table: 'documents', ownerColumn: 'no_such_column'}), (e: Error) => e instanceof UsageError && /column "no_such_column" does not exist/.test(e.message))
      const after = await admin.query("SELECT polname FROM pg_policy WHERE polrelid = 'documents'::regclass ORDER BY 1")
      assert.deepEqual(after.rows.map((x) => x.polname), ['hessra_select', 'keep_me'])
      assert.deepEqual(await ids(tokens.alice), [1, 2])
    })

    it('CLI: policy apply (dry run and real), then status lists the policies', () => {
      const dry = cli(['pg', 'policy', 'apply', '--database', sb.url, '--table', 'documents', '--owner-column', 'owner', '--dry-run'])
      assert.equal(dry.status, 0, dry.stderr)
      assert.match(dry.stdout, /CREATE POLICY "hessra_select"/)
      const r = cli(['pg', 'policy', 'apply', '--database', sb.url, '--table', 'documents', '--owner-column', 'owner', '--json'])
      assert.equal(r.status, 0, r.stderr)
      assert.deepEqual(json<{created: string[]}>(r.stdout).created, ['hessra_select', 'hessra_insert', 'hessra_update', 'hessra_delete'])
      const missing = cli(['pg', 'policy', 'apply', '--database', sb.url, '--table', 'nope'])
      assert.equal(missing.status, 2, missing.stderr)
      const st = cli(['pg', 'status', '--database', sb.url, '--json'])
      assert.equal(st.status, 0, st.stdout)
      const tables = json<{tables: {table: string; hessra_policies: {name: string; per_statement: boolean}[]}[]}>(st.stdout).tables
      const docs = tables.find((t) => t.table === 'documents')
      assert.ok(docs)
      assert.equal(docs.hessra_policies.length, 4)
      assert.ok(docs.hessra_policies.every((p) => p.per_statement))
    })
  })
  describe('hostile names, search_path hijack, non-text owner columns (issue 18 #2 #3, issue 15 #1)', () => {
    const MALLORY = 'hessra_it_mallory'
    const INJECT = `notes\nALTER ROLE ${MALLORY} SUPERUSER;--`
    let psql: string
    let work: string

    /** Runs a script the way a user would (psql -f, no ON_ERROR_STOP), as the superuser. */
    const runScript = (sql: string, db: string) => {
      const file = join(work, `script-${Math.random().toString(36).slice(2)}.sql`)
      writeFileSync(file, sql)
      chmodSync(file, 0o644)
      return spawnSync(psql, ['-X', '-q', '-d', url(db), '-f', file], {encoding: 'utf8', timeout: 60_000})
    }
    const malloryRights = async () =>
      (await admin.query(`SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = '${MALLORY}'`)).rows[0] as Record<string, boolean>
    const NOTHING = {rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolbypassrls: false}

    before(async () => {
      psql = join((await describePgConfig(sb.postgres.pg_config)).bindir, 'psql')
      work = tempDir('hessra-it-scripts-')
      chmodSync(work, 0o755)
      await admin.query(`DROP ROLE IF EXISTS ${MALLORY}`)
      await admin.query(`CREATE ROLE ${MALLORY} NOSUPERUSER`)
      await admin.query('DROP DATABASE IF EXISTS it_inject')
      await admin.query('CREATE DATABASE it_inject')
      const c = new pg.Client({connectionString: url('it_inject')})
      await c.connect()
      await c.query('CREATE EXTENSION hessra')
      await c.query("CREATE TABLE canary (id int); INSERT INTO canary VALUES (1)")
      await c.end()
      // a database owner may turn this off for their database: backslashes in '' literals become escapes
      await admin.query('ALTER DATABASE it_inject SET standard_conforming_strings = off')
    })

    it('psql -f of a generated script does only what it says, whatever the names and values (every flag)', async () => {
      const escape = `\\'); COMMIT; ALTER ROLE ${MALLORY} SUPERUSER; --`
      const cases: [string, PolicyOptions][] = [
        ['--table', {table: INJECT}],
        ['--schema', {table: 'notes', schema: INJECT}],
        ['--owner-column', {table: 'notes', ownerColumn: INJECT}],
        ['--role', {table: 'notes', roles: [INJECT]}],
        ['--resource', {table: 'notes', resource: INJECT}],
        ['--operation-map', {table: 'notes', operationMap: parseOperationMap(`select=${INJECT}`)}],
        ['--extension-schema', {table: 'notes', extensionSchema: INJECT}],
        ['--resource (backslash)', {table: 'notes', resource: escape}],
        ['--operation-map (backslash)', {table: 'notes', operationMap: parseOperationMap(`select=${escape}`)}],
      ]
      for (const db of ['postgres', 'it_inject']) {
        for (const [flag, options] of cases) {
          let sql: string
          try {
            sql = generatePolicies(options).sql
          } catch (error) {
            assert.ok(error instanceof UsageError, `${flag}: ${(error as Error).message}`)
            assert.match((error as Error).message, /contains a control or formatting character \(U\+000A\)/)
            continue
          }
          runScript(sql, db)
          assert.deepEqual(await malloryRights(), NOTHING, `${flag} on ${db}: the script changed ${MALLORY}`)
        }
      }
      const canary = new pg.Client({connectionString: url('it_inject')})
      await canary.connect()
      assert.equal((await canary.query('SELECT count(*)::int AS n FROM canary')).rows[0].n, 1)
      await canary.end()
    })

    it('hostile but valid names work end to end: quotes, backslashes, dollar tags, psql variables', async () => {
      const table = `it's "odd" \\ $hessra$ :x ;--`
      const owner = `own\\er's :'v'`
      const role = `r\\ole "x"`
      await admin.query(`DROP ROLE IF EXISTS "${role.replaceAll('"', '""')}"`)
      await admin.query(`CREATE ROLE "${role.replaceAll('"', '""')}"`)
      const c = new pg.Client({connectionString: url('it_inject')})
      await c.connect()
      await c.query(`CREATE TABLE "${table.replaceAll('"', '""')}" (id int, "${owner.replaceAll('"', '""')}" text)`)
      const gen = generatePolicies({table, ownerColumn: owner, roles: [role], resource: `{table}\\x`, operationMap: parseOperationMap("select=re'ad")})
      const r = runScript(gen.sql, 'it_inject')
      assert.equal(r.status, 0, r.stderr)
      assert.doesNotMatch(r.stderr, /ERROR/, r.stderr)
      await c.query('SET standard_conforming_strings = on') // how pg_get_expr prints the literals below
      const pols = await c.query<{polname: string; qual: string}>('SELECT polname, pg_get_expr(polqual, polrelid) AS qual FROM pg_policy WHERE polrelid = $1::regclass ORDER BY 1', [gen.qualified])
      assert.deepEqual(pols.rows.map((p) => p.polname), ['hessra_delete_r\\ole "x"', 'hessra_insert_r\\ole "x"', 'hessra_select_r\\ole "x"', 'hessra_update_r\\ole "x"'])
      const select = pols.rows.find((p) => p.polname.startsWith('hessra_select'))!
      assert.ok(select.qual.includes(`'${table.replaceAll("'", "''")}\\x'::text`), select.qual)
      assert.ok(select.qual.includes("'re''ad'::text"), select.qual)
      await c.end()
      assert.deepEqual(await malloryRights(), NOTHING)
    })

    it("a database owner's look-alike functions on the superuser's search_path are never called", async () => {
      await admin.query('DROP DATABASE IF EXISTS it_hijack')
      await admin.query('DROP ROLE IF EXISTS hessra_it_dbowner')
      await admin.query('CREATE ROLE hessra_it_dbowner LOGIN')
      await admin.query('CREATE DATABASE it_hijack OWNER hessra_it_dbowner')
      const su = new pg.Client({connectionString: url('it_hijack')})
      await su.connect()
      try {
        await hijack(su)
      } finally {
        await su.end()
      }
    })

    async function hijack(su: pg.Client) {
      await su.query('CREATE EXTENSION hessra')
      await su.query('CREATE TABLE secrets (id int, owner text)')
      await su.query("INSERT INTO secrets VALUES (1, 'alice'), (2, 'bob')")
      await su.query(`GRANT SELECT ON secrets TO ${APP}`)
      // the owner of the database: schema "postgres" comes first in the superuser's default search_path
      // over TCP with a password: the sandbox's socket admits only its owner, as postgres
      const owner = await sandboxRoleUrl({dir: sb.dir, role: 'hessra_it_dbowner'})
      const evil = new pg.Client({connectionString: owner.url.replace(/\/postgres$/, '/it_hijack')})
      await evil.connect()
      await evil.query('CREATE SCHEMA postgres')
      await evil.query('CREATE FUNCTION postgres.hessra_row_security(text, text, text) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$')
      await evil.query("CREATE FUNCTION postgres.hessra_current_subject() RETURNS text LANGUAGE sql AS $$ SELECT 'alice' $$")
      await evil.query('GRANT USAGE ON SCHEMA postgres TO PUBLIC')
      // run by a superuser, this would make the database owner a superuser
      await evil.query('CREATE FUNCTION postgres.hessra_init(text) RETURNS boolean LANGUAGE sql AS $$ ALTER ROLE hessra_it_dbowner SUPERUSER; SELECT true $$')
      await evil.end()
      const ownerIsSuperuser = async () => (await admin.query("SELECT rolsuper FROM pg_roles WHERE rolname = 'hessra_it_dbowner'")).rows[0].rolsuper as boolean


      const visible = async () => {
        const c = new pg.Client({connectionString: url('it_hijack')})
        await c.connect()
        try {
          await c.query('BEGIN')
          await c.query(`SET LOCAL ROLE ${APP}`)
          return (await c.query('SELECT id FROM public.secrets')).rows.length
        } finally {
          await c.end()
        }
      }
      // apply through the library (as `hessra pg policy apply` does)
      await applyPolicies(su, {table: 'secrets', ownerColumn: 'owner'})
      assert.equal(await visible(), 0, 'after apply, a role with no token sees no row')
      // and the script from `generate`, run with psql as the superuser
      const r = runScript(generatePolicies({table: 'secrets', ownerColumn: 'owner'}).sql, 'it_hijack')
      assert.equal(r.status, 0, r.stderr)
      assert.equal(await visible(), 0, 'after psql -f, a role with no token sees no row')
      const quals = await su.query("SELECT concat(pg_get_expr(polqual, polrelid), ' ', pg_get_expr(polwithcheck, polrelid)) AS q FROM pg_policy WHERE polrelid = 'public.secrets'::regclass")
      assert.equal(quals.rows.length, 4)
      for (const q of quals.rows) {
        assert.match(q.q, /public\.hessra_row_security/, q.q)
        assert.doesNotMatch(q.q, /postgres\./, q.q)
      }
      // generated for the wrong schema: the script stops instead of calling whatever is there
      const wrong = runScript(generatePolicies({table: 'secrets', extensionSchema: 'postgres'}).sql, 'it_hijack')
      assert.match(wrong.stderr, /the hessra extension is not installed in schema postgres/)
      assert.equal(await ownerIsSuperuser(), false)

      // `pg install` as the superuser checks the configuration loads with hessra_init()
      const install = cli(['pg', 'install', '--database', url('it_hijack'), '--skip-build', '--json'], {env: {HESSRA_CONFIG: configPath}})
      assert.equal(install.status, 0, install.stderr)
      assert.equal(await ownerIsSuperuser(), false, "pg install called the database owner's hessra_init")
    }

    it('integer and uuid owner columns: apply works, rows match the subject by text, a non-numeric subject matches nothing', async () => {
      const now = Math.floor(Date.now() / 1000)
      const uuid = '6f1b0d5e-2c4a-4b7e-9a3f-0c2d9e8b7a61'
      const grant = (subject: string, table: string) =>
        mintFromDatalog({privateKey: root, datalog: `right("${subject}", "${table}", "read");\ncheck if subject($s), resource($r), operation($o), right($s, $r, $o);\ncheck if time($t), $t < {exp};`, params: {exp: now + 3600}})
      await admin.query('DROP TABLE IF EXISTS accounts, devices')
      await admin.query('CREATE TABLE accounts (id int PRIMARY KEY, owner_id int NOT NULL)')
      await admin.query('INSERT INTO accounts SELECT g, g % 50 FROM generate_series(1, 2000) g')
      await admin.query('CREATE TABLE devices (id int PRIMARY KEY, owner uuid NOT NULL)')
      await admin.query(`INSERT INTO devices VALUES (1, '${uuid}'), (2, gen_random_uuid())`)
      await admin.query(`GRANT SELECT ON accounts, devices TO ${APP}`)
      const acc = await applyPolicies(admin, {table: 'accounts', ownerColumn: 'owner_id', operations: ['select']})
      assert.equal(acc.generated.indexSuggestion, 'CREATE INDEX IF NOT EXISTS "accounts_owner_id_idx" ON "public"."accounts" (("owner_id"::pg_catalog.text));')
      await applyPolicies(admin, {table: 'devices', ownerColumn: 'owner', operations: ['select']})
      assert.equal((await ids(grant('42', 'accounts'), 'accounts')).length, 40)
      assert.deepEqual(await ids(grant('alice', 'accounts'), 'accounts'), [], 'a subject that is not an integer: no rows, no error')
      assert.deepEqual(await ids(grant('99999999999999999999', 'accounts'), 'accounts'), [])
      assert.deepEqual(await ids(grant(uuid, 'devices'), 'devices'), [1])
      assert.deepEqual(await ids(grant('not-a-uuid', 'devices'), 'devices'), [])
      // the suggested expression index serves the comparison
      await admin.query(acc.generated.indexSuggestion)
      await admin.query('ANALYZE accounts')
      const plan = await as(grant('42', 'accounts'), async (c) => {
        await c.query('SET LOCAL enable_seqscan = off')
        return (await c.query('EXPLAIN (COSTS OFF) SELECT * FROM accounts')).rows.map((r) => r['QUERY PLAN'] as string).join('\n')
      })
      assert.match(plan, /accounts_owner_id_idx/, plan)
      // the CLI: clear errors, exit 2, no talk of search_path
      const intColumn = cli(['pg', 'policy', 'apply', '--database', sb.url, '--table', 'accounts', '--owner-column', 'id', '--json'])
      assert.equal(intColumn.status, 0, intColumn.stderr)
      await admin.query('ALTER TABLE devices ADD COLUMN made date')
      const bad = cli(['pg', 'policy', 'apply', '--database', sb.url, '--table', 'devices', '--owner-column', 'made'])
      assert.equal(bad.status, 2, bad.stderr)
      assert.match(bad.stderr, /owner column "made" is of type date, which cannot hold a token subject/)
      assert.doesNotMatch(bad.stderr, /search_path/)
    })

    it('identity tokens: --identity-column policies show each identity its rows, a delegated token only the delegated identity\'s', async () => {
      const now = Math.floor(Date.now() / 1000)
      const pub = root.publicKey()
      const key = pub.toText()
      pub.dispose()
      const alice = mintIdentityToken({privateKey: root, subject: 'urn:hessra:alice', delegatable: true, expiresAt: now + 3600})
      const laptop = delegateIdentityToken(alice, {key, to: 'urn:hessra:alice:laptop', expiresAt: now + 600})
      const forged = mintIdentityToken({privateKey: other, subject: 'urn:hessra:alice', expiresAt: now + 3600})
      await admin.query('DROP TABLE IF EXISTS notes, badges')
      await admin.query('CREATE TABLE notes (id int PRIMARY KEY, owner text NOT NULL)')
      await admin.query(
        "INSERT INTO notes VALUES (1, 'urn:hessra:alice'), (2, 'urn:hessra:alice:laptop'), (3, 'urn:hessra:alice:phone'), (4, 'urn:hessra:alice2')",
      )
      await admin.query('CREATE TABLE badges (id int PRIMARY KEY, holder int NOT NULL)')
      await admin.query('INSERT INTO badges VALUES (1, 7), (2, 8)')
      await admin.query(`GRANT SELECT, INSERT ON notes, badges TO ${APP}`)
      const r = await applyPolicies(admin, {table: 'notes', identityColumn: 'owner', operations: ['select', 'insert']})
      assert.ok(r.generated.policies.every((p) => !(p.using ?? p.withCheck ?? '').includes('hessra_row_security')))
      assert.deepEqual(await ids(alice, 'notes'), [1])
      assert.deepEqual(await ids(laptop, 'notes'), [2])
      assert.deepEqual(await ids(forged, 'notes'), [])
      assert.deepEqual(await ids(tokens.alice, 'notes'), [], 'an authorization token proves no identity')
      assert.deepEqual(await ids(null, 'notes'), [])
      // writes: only rows owned by the identity proven
      await as(laptop, (c) => c.query("INSERT INTO notes VALUES (5, 'urn:hessra:alice:laptop')"))
      await rlsError(as(laptop, (c) => c.query("INSERT INTO notes VALUES (6, 'urn:hessra:alice')")))
      // a non-text column is compared by its text form: an identity that is not an integer matches nothing
      await applyPolicies(admin, {table: 'badges', identityColumn: 'holder', operations: ['select']})
      const seven = mintIdentityToken({privateKey: root, subject: '7', expiresAt: now + 3600})
      assert.deepEqual(await ids(seven, 'badges'), [1])
      assert.deepEqual(await ids(alice, 'badges'), [])
    })
  })
})
