/**
 * Issue 24 end to end on a throwaway cluster (the sandbox code): index-usable policies from
 * `pg policy apply --resource-column` (EXPLAIN shows an Index Cond; exactly the granted rows for a
 * one-resource token, a two-resource token, a copy attenuated to one of them, an expired token and no
 * token), `--per-row` beside them, and the `pg policy check` and `pg policy lint` commands.
 *
 * Needs PostgreSQL server binaries + headers, make, a C compiler and the native library. Does not skip.
 */
import {strict as assert} from 'node:assert'
import {chmodSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import pg from 'pg'

import {loadConfig} from '../../src/config/index.js'
import {generateKeyPair} from '../../src/keys.js'
import type {KeyPair} from '../../src/native/binding.js'
import {applyPolicies} from '../../src/pg/apply.js'
import {recordingProgress} from '../../src/pg/progress.js'
import {sandboxStart, sandboxStop, type SandboxStartResult} from '../../src/pg/sandbox.js'
import {attenuateToken, mintFromDatalog} from '../../src/tokens/devkit.js'
import {cli, json, requireNative, tempDir} from '../helpers.js'

const APP = 'hessra_e2e_app'
const RIGHTS = (rights: [string, string][]) =>
  rights.map(([r, o]) => `right("alice", "${r}", "${o}");`).join('\n') + '\ncheck if subject($s), resource($r), operation($o), right($s, $r, $o);\ncheck if time($t), $t < {exp};'

interface CheckJson {
  ok: boolean
  role: string
  roleSource: string
  rows: number | null
  tokens: {label: string; subject: string | null; verifies: boolean | null; cells: Record<string, {allowed: number; of: number | null; error?: string}>}[]
  expectations: {spec: string; token: string; command: string; ok: boolean; actual: number | null}[]
}

describe('pg: index-usable policies, policy check, policy lint (issue 24; throwaway cluster)', function () {
  this.timeout(15 * 60_000)

  let dir: string
  let sb: SandboxStartResult
  let admin: pg.Client
  let root: KeyPair
  const tokens: Record<string, string> = {}
  const files: Record<string, string> = {}

  before(async () => {
    requireNative()
    dir = tempDir('hessra-pg-e2e-')
    chmodSync(dir, 0o755)
    const configPath = join(dir, 'hessra-cli.json')
    root = generateKeyPair('ed25519')
    const pub = root.publicKey()
    writeFileSync(configPath, JSON.stringify({version: 1, default_key: 'e2e', keys: [{id: 'e2e', public_key: pub.toText()}]}))
    sb = await sandboxStart({dir: join(dir, 'sandbox'), loaded: await loadConfig({configPath}), progress: recordingProgress()})
    admin = new pg.Client({connectionString: sb.url})
    await admin.connect()

    const now = Math.floor(Date.now() / 1000)
    tokens.one = mintFromDatalog({privateKey: root, datalog: RIGHTS([['r1', 'read']]), params: {exp: now + 3600}})
    tokens.two = mintFromDatalog({privateKey: root, datalog: RIGHTS([['r1', 'read'], ['r2', 'read'], ['r1', 'write']]), params: {exp: now + 3600}})
    tokens.narrowed = attenuateToken(tokens.two, {key: pub, datalog: 'check if resource("r2");'})
    tokens.expired = mintFromDatalog({privateKey: root, datalog: RIGHTS([['r1', 'read'], ['r2', 'read']]), params: {exp: now - 60}})
    pub.dispose()
    for (const [name, t] of Object.entries(tokens)) {
      files[name] = join(dir, `${name}.token`)
      writeFileSync(files[name], `${t}\n`)
    }

    await admin.query(`CREATE ROLE ${APP}`)
    for (const t of ['tasks', 'tasks_per_row']) {
      await admin.query(`CREATE TABLE ${t} (id int PRIMARY KEY, project text NOT NULL, title text NOT NULL)`)
      await admin.query(`INSERT INTO ${t} SELECT g, 'r' || (g % 400 + 1), 't' || g FROM generate_series(1, 20000) g`)
      await admin.query(`CREATE INDEX ON ${t} (project)`)
      await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${t} TO ${APP}`)
      await admin.query(`VACUUM ANALYZE ${t}`)
    }
  })

  after(async () => {
    await admin?.end().catch(() => {})
    if (sb) await sandboxStop({dir: sb.dir, progress: recordingProgress()})
    root?.dispose()
  })

  /** Runs fn as the application role with the token (or none), in a transaction rolled back. */
  async function as<T>(token: string | null, fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const c = new pg.Client({connectionString: sb.url})
    await c.connect()
    try {
      await c.query('BEGIN')
      await c.query(`SET LOCAL ROLE ${APP}`)
      await c.query('SET LOCAL max_parallel_workers_per_gather = 0')
      if (token !== null) await c.query("SELECT set_config('hessra.token', $1, true)", [token])
      return await fn(c)
    } finally {
      await c.query('ROLLBACK').catch(() => {})
      await c.end()
    }
  }
  const visible = (table: string, token: string | null) =>
    as(token, async (c) => {
      const r = await c.query<{n: string; resources: string[] | null}>(`SELECT count(*) AS n, array_agg(DISTINCT project ORDER BY project) AS resources FROM ${table}`)
      return {rows: Number(r.rows[0].n), resources: r.rows[0].resources ?? []}
    })
  const plan = (table: string, token: string) => as(token, async (c) => (await c.query(`EXPLAIN (COSTS OFF) SELECT count(*) FROM ${table}`)).rows.map((r) => r['QUERY PLAN'] as string).join('\n'))

  describe('generated policies', () => {
    before(async () => {
      const index = await applyPolicies(admin, {table: 'tasks', resourceColumn: 'project'})
      assert.deepEqual(index.generated.indexSuggestions, [], 'the column is indexed: nothing to suggest')
      assert.deepEqual(index.generated.functions.map((f) => f.name), ['hessra_granted_resources'])
      await applyPolicies(admin, {table: 'tasks_per_row', resourceColumn: 'project', perRow: true})
    })

    it('exactly the granted rows: one resource, two, narrowed to one, expired, none — both forms agree', async () => {
      const cases: [string, string | null, string[]][] = [
        ['one', tokens.one, ['r1']],
        ['two', tokens.two, ['r1', 'r2']],
        ['narrowed', tokens.narrowed, ['r2']],
        ['expired', tokens.expired, []],
        ['no token', null, []],
      ]
      for (const [name, token, resources] of cases) {
        const want = {rows: resources.length * 50, resources}
        assert.deepEqual(await visible('tasks', token), want, name)
        assert.deepEqual(await visible('tasks_per_row', token), want, `${name} (per row)`)
      }
    })

    it('EXPLAIN: the index form compares the column in an Index Cond with an InitPlan; the per-row form filters every row', async () => {
      const index = await plan('tasks', tokens.two)
      assert.match(index, /Index Cond: \(project = ANY \(/, index)
      assert.match(index, /InitPlan 1/)
      const perRow = await plan('tasks_per_row', tokens.two)
      assert.doesNotMatch(perRow, /Index Cond/, perRow)
      assert.match(perRow, /Filter: hessra_row_security\(project, 'read'::text\)/, perRow)
    })

    it('writes: WITH CHECK holds new and changed rows to the write grant', async () => {
      await as(tokens.two, (c) => c.query("INSERT INTO tasks VALUES (100001, 'r1', 'new')"))
      await assert.rejects(as(tokens.two, (c) => c.query("INSERT INTO tasks VALUES (100002, 'r2', 'new')")), /row-level security/)
      await assert.rejects(as(tokens.two, (c) => c.query("UPDATE tasks SET project = 'r2' WHERE id = 400")), /row-level security/)
      const updated = await as(tokens.two, (c) => c.query("UPDATE tasks SET title = 'x' WHERE project = 'r1'"))
      assert.equal(updated.rowCount, 50)
    })

    it('apply suggests an index where none serves the column, and the CLI says so', async () => {
      await admin.query('CREATE TABLE unindexed (id int PRIMARY KEY, project text NOT NULL, owner integer NOT NULL)')
      const dry = await applyPolicies(admin, {table: 'unindexed', resourceColumn: 'project', ownerColumn: 'owner', operations: ['select']}, {dryRun: true})
      assert.deepEqual(dry.generated.indexSuggestions, [
        'CREATE INDEX IF NOT EXISTS "unindexed_owner_idx" ON "public"."unindexed" (("owner"::pg_catalog.text));',
        'CREATE INDEX IF NOT EXISTS "unindexed_project_idx" ON "public"."unindexed" ("project");',
      ])
      await admin.query('CREATE INDEX ON unindexed (project)')
      await admin.query('CREATE INDEX ON unindexed ((owner::text))')
      const again = await applyPolicies(admin, {table: 'unindexed', resourceColumn: 'project', ownerColumn: 'owner', operations: ['select']}, {dryRun: true})
      assert.deepEqual(again.generated.indexSuggestions, [], 'a plain index on the text column and an expression index on the other serve them')
      await admin.query('DROP TABLE unindexed')
    })
  })

  describe('hessra pg policy check', () => {
    const checkCli = (...args: string[]) => cli(['pg', 'policy', 'check', '--database', sb.url, '--table', 'tasks', '--json', ...args])
    const snapshot = async () =>
      (await admin.query<{s: string}>("SELECT md5(string_agg(t::text, ',' ORDER BY id)) || ':' || (SELECT count(*) FROM pg_roles) AS s FROM tasks t")).rows[0].s

    it('prints the access matrix as the application role, and changes nothing', async () => {
      const before = await snapshot()
      const r = checkCli('--token-file', files.two, '--token-file', files.narrowed, '--token-file', files.expired, '--role', APP, '--sample', '60')
      assert.equal(r.status, 0, r.stderr)
      const out = json<CheckJson>(r.stdout)
      assert.equal(out.role, APP)
      const cells = Object.fromEntries(out.tokens.map((t) => [t.label.replace(/^.*\//, ''), Object.fromEntries(Object.entries(t.cells).map(([k, v]) => [k, v.allowed]))]))
      // the sample is the first 60 rows: ids 1..60 are r2..r61; r1 (write) is among none of them
      assert.deepEqual(cells['two.token'], {select: 100, insert: 0, update: 50, delete: 50})
      assert.deepEqual(cells['narrowed.token'], {select: 50, insert: 0, update: 0, delete: 0})
      assert.deepEqual(cells['expired.token'], {select: 0, insert: 0, update: 0, delete: 0})
      assert.deepEqual(out.tokens.map((t) => [t.subject, t.verifies]), [['alice', true], ['alice', true], [null, false]])
      assert.equal(await snapshot(), before, 'the table and the roles are as they were')
    })

    it('as a superuser: a temporary role, created and gone with the transaction; INSERT accepts granted rows', async () => {
      await admin.query('CREATE TABLE inserts (id int PRIMARY KEY, project text NOT NULL)')
      await admin.query("INSERT INTO inserts SELECT g, CASE WHEN g <= 5 THEN 'r1' ELSE 'r9' END FROM generate_series(1, 10) g")
      await admin.query('CREATE INDEX ON inserts (project)')
      await applyPolicies(admin, {table: 'inserts', resourceColumn: 'project'})
      const before = await snapshot()
      const r = cli(['pg', 'policy', 'check', '--database', sb.url, '--table', 'inserts', '--json', '--token-file', files.two])
      assert.equal(r.status, 0, r.stderr)
      const out = json<CheckJson>(r.stdout)
      assert.equal(out.roleSource, 'temporary role')
      assert.equal(out.rows, 10)
      assert.deepEqual(out.tokens[0].cells, {
        select: {allowed: 5, of: 10},
        insert: {allowed: 5, of: 10},
        update: {allowed: 5, of: 10},
        delete: {allowed: 5, of: 10},
      }, 'r1: read and write; r9: nothing')
      assert.equal(await snapshot(), before, 'the temporary role is gone')
      assert.equal((await admin.query('SELECT count(*)::int AS n FROM inserts')).rows[0].n, 10)
    })

    it('--expect: exit 0 when it holds, 1 with the cell that does not', () => {
      const ok = checkCli('--token-file', files.one, '--token-file', files.expired, '--role', APP, '--commands', 'select,delete', '--expect', 'one.token:select=50,delete=none', '--expect', 'expired.token:*=none')
      assert.equal(ok.status, 0, ok.stdout + ok.stderr)
      assert.ok(json<CheckJson>(ok.stdout).expectations.every((e) => e.ok))
      const bad = checkCli('--token-file', files.one, '--role', APP, '--commands', 'select', '--expect', 'select=all')
      assert.equal(bad.status, 1, bad.stdout + bad.stderr)
      const out = json<CheckJson>(bad.stdout)
      assert.equal(out.ok, false)
      assert.deepEqual(out.expectations.map((e) => [e.command, e.ok, e.actual]), [['select', false, 50]])
      const text = cli(['pg', 'policy', 'check', '--database', sb.url, '--table', 'tasks', '--token-file', files.one, '--role', APP, '--commands', 'select', '--expect', 'select=all'])
      assert.equal(text.status, 1)
      assert.match(text.stdout, /✖ .*one\.token SELECT: expected all \(20000\), got 50/)
      assert.ok(!text.stdout.includes(tokens.one) && !text.stderr.includes(tokens.one), 'never the token')
    })

    it('usage errors: an unknown token in --expect, a role that bypasses RLS, a missing table', () => {
      assert.equal(checkCli('--token-file', files.one, '--expect', 'nobody.token:select=1').status, 2)
      const su = checkCli('--token-file', files.one, '--role', 'postgres')
      assert.equal(su.status, 2)
      assert.match(su.stdout, /bypasses row level security/)
      assert.equal(cli(['pg', 'policy', 'check', '--database', sb.url, '--table', 'nope', '--token-file', files.one]).status, 2)
    })
  })

  describe('hessra pg policy lint', () => {
    before(async () => {
      await admin.query('CREATE TABLE sloppy (id int PRIMARY KEY, owner text NOT NULL, project text NOT NULL)')
      await admin.query('ALTER TABLE sloppy ENABLE ROW LEVEL SECURITY')
      await admin.query('CREATE POLICY bare ON sloppy FOR SELECT USING (owner = hessra_current_subject())')
      await admin.query("CREATE POLICY ins ON sloppy FOR INSERT WITH CHECK (true)")
      await admin.query('CREATE POLICY open_insert ON sloppy AS PERMISSIVE FOR INSERT TO PUBLIC')
      await admin.query("CREATE POLICY wrapped ON sloppy FOR SELECT USING (project::text = ANY ((SELECT hessra_granted_resources('read'))::text[]))")
    })

    it('reports every problem of a sloppy table, exit 1', () => {
      const r = cli(['pg', 'policy', 'lint', '--database', sb.url, '--table', 'sloppy', '--json'])
      assert.equal(r.status, 1, r.stdout + r.stderr)
      const out = json<{ok: boolean; tables: string[]; findings: {policy: string | null; rule: string}[]}>(r.stdout)
      assert.deepEqual(out.tables, ['sloppy'])
      assert.deepEqual(
        out.findings.map((f) => [f.policy, f.rule]),
        [
          [null, 'rls-not-forced'],
          ['bare', 'unwrapped-call'],
          ['bare', 'column-without-index'],
          ['open_insert', 'insert-without-check'],
          ['wrapped', 'column-without-index'],
        ],
      )
      const text = cli(['pg', 'policy', 'lint', '--database', sb.url, '--table', 'sloppy'])
      assert.match(text.stdout, /error {2}sloppy policy "bare": hessra_current_subject\(\) is evaluated for every row \[unwrapped-call\]/)
      assert.match(text.stdout, /1 table with hessra policies; 2 errors, 3 warnings/)
    })

    it('the generated policies pass (the per-row form is a note); every table by default', () => {
      const r = cli(['pg', 'policy', 'lint', '--database', sb.url, '--table', 'tasks', '--json'])
      assert.equal(r.status, 0, r.stdout + r.stderr)
      assert.deepEqual(json<{findings: unknown[]}>(r.stdout).findings, [])
      const perRow = json<{ok: boolean; findings: {rule: string}[]}>(cli(['pg', 'policy', 'lint', '--database', sb.url, '--table', 'tasks_per_row', '--json']).stdout)
      assert.deepEqual([perRow.ok, ...new Set(perRow.findings.map((f) => f.rule))], [true, 'per-row-check'])
      const all = json<{tables: string[]}>(cli(['pg', 'policy', 'lint', '--database', sb.url, '--json']).stdout)
      assert.deepEqual(all.tables, ['inserts', 'sloppy', 'tasks', 'tasks_per_row'])
    })
  })
})
