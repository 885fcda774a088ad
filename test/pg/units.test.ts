/** Unit tests of the pg helpers that need no server: connection, errors, status judgement, config files, ports. */
import {strict as assert} from 'node:assert'
import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {ConfigError, EnvironmentError, exitCodeFor} from '../../src/errors.js'
import {isLocalTarget, mapPgError, requireSuperuser, resolveConnection} from '../../src/pg/connect.js'
import {databaseGiven} from '../../src/pg/flags.js'
import {setupDatabase, withPreloadedExtension, type PlannedStep} from '../../src/pg/install.js'
import type {PgConfigInfo} from '../../src/pg/pg-config.js'
import {recordingProgress} from '../../src/pg/progress.js'
import {buildServerConfig, permissionProblems, serverConfigText, writeServerConfig} from '../../src/pg/server-config.js'
import {pickPort, sandboxConf, sandboxHba, sandboxIdent, sandboxTcpUrl, sandboxUrl} from '../../src/pg/sandbox.js'
import {checksArePerStatement, judgeStatus, parseRoles, type StatusReport} from '../../src/pg/status.js'

describe('pg connection', () => {
  it('--database, then DATABASE_URL, then PG* variables', () => {
    assert.equal(resolveConnection('postgresql://a@h/db', {DATABASE_URL: 'postgresql://b@h/db'}).connectionString, 'postgresql://a@h/db')
    const env = resolveConnection(undefined, {DATABASE_URL: 'postgresql://b:pw@h/db'})
    assert.equal(env.source, 'DATABASE_URL')
    assert.ok(!env.display.includes('pw'))
    const pgv = resolveConnection(undefined, {PGHOST: '/run/pg', PGPORT: '5433', PGUSER: 'u', PGDATABASE: 'd'})
    assert.equal(pgv.connectionString, undefined)
    assert.equal(pgv.display, 'socket /run/pg:5433/d as u')
    const none = resolveConnection(undefined, {USER: 'me'})
    assert.equal(none.source, 'defaults')
    assert.equal(none.display, 'localhost:5432/me as me (defaults: no --database, DATABASE_URL or PG* variable set)')
    assert.equal(resolveConnection(undefined, {PGPORT: '5433'}).source, 'PG* variables')
    assert.ok(databaseGiven(undefined, {PGHOST: 'x'}))
    assert.ok(!databaseGiven(undefined, {}))
  })

  it('knows local targets', () => {
    assert.ok(isLocalTarget(resolveConnection('postgresql://u@127.0.0.1:5/d')))
    assert.ok(isLocalTarget(resolveConnection('postgresql://u@localhost/d')))
    assert.ok(isLocalTarget(resolveConnection('postgresql:///d?host=/var/run/postgresql')))
    assert.ok(!isLocalTarget(resolveConnection('postgresql://u@db.example.com/d')))
  })

  it('maps failures to exit 5 with a clear message, never a password', () => {
    const t = resolveConnection('postgresql://u:hunter2@127.0.0.1:1/db')
    const refused = mapPgError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {code: 'ECONNREFUSED'}), t)
    assert.ok(refused instanceof EnvironmentError)
    assert.equal(exitCodeFor(refused), 5)
    assert.match(refused.message, /cannot reach PostgreSQL/)
    assert.ok(!refused.message.includes('hunter2'))
    const auth = mapPgError(Object.assign(new Error('password authentication failed for user "u"'), {code: '28P01'}), t)
    assert.match(auth.message, /authentication failed/)
    assert.equal(exitCodeFor(auth), 5)
    const nodb = mapPgError(Object.assign(new Error('database "db" does not exist'), {code: '3D000'}), t)
    assert.match(nodb.message, /does not exist/)
    const other = mapPgError(Object.assign(new Error('boom'), {code: 'XX000', detail: 'd', hint: 'h'}))
    assert.match(other.message, /SQLSTATE XX000/)
    assert.equal(other.hint, 'h')
  })

  it('refuses non-superusers with exit 5', async () => {
    const fake = {query: async () => ({rows: [{rolsuper: false, user: 'app'}]})}
    await assert.rejects(requireSuperuser(fake as never, 'installing'), (e: Error) => exitCodeFor(e) === 5 && /superuser/.test(e.message))
    await requireSuperuser({query: async () => ({rows: [{rolsuper: true, user: 'postgres'}]})} as never, 'x')
  })
})

function report(over: Partial<StatusReport> = {}): StatusReport {
  return {
    server: {version: '17.2', user: 'postgres', superuser: true, database: 'app'},
    extension: {available: true, installed: true, version: '0.2.0', defaultVersion: '0.2.0'},
    config: {path: '/etc/hessra/config.json', loads: true, error: null, keys: ['prod'], defaultKey: 'prod'},
    stats: null,
    trust: null,
    tables: [],
    ...over,
  }
}

describe('pg status judgement', () => {
  it('healthy when installed, configured, loading, with keys', () => {
    const j = judgeStatus(report())
    assert.ok(j.healthy, j.problems.join('; '))
  })

  it('unhealthy cases', () => {
    assert.ok(!judgeStatus(report({extension: {available: false, installed: false, version: null, defaultVersion: null}})).healthy)
    assert.ok(!judgeStatus(report({extension: {available: true, installed: false, version: null, defaultVersion: '0.2.0'}})).healthy)
    assert.ok(!judgeStatus(report({config: {path: null, loads: false, error: 'x', keys: null, defaultKey: null}})).healthy)
    assert.ok(!judgeStatus(report({config: {path: '/x', loads: false, error: 'unsafe permissions', keys: null, defaultKey: null}})).healthy)
    assert.ok(!judgeStatus(report({config: {path: '/x', loads: true, error: null, keys: [], defaultKey: null}})).healthy)
    const disabled = judgeStatus(
      report({tables: [{schema: 'public', table: 'd', rlsEnabled: false, rlsForced: false, otherPolicies: 0, hessraPolicies: [{name: 'hessra_select', command: 'SELECT', roles: ['public'], permissive: true, using: '(SELECT hessra_row_security(x))', withCheck: null, perStatement: true}]}]}),
    )
    assert.ok(!disabled.healthy)
    assert.match(disabled.problems[0], /DISABLED/)
  })

  it('warnings: not forced, per-row calls, other permissive policies, old version', () => {
    const j = judgeStatus(
      report({
        extension: {available: true, installed: true, version: '0.1.0', defaultVersion: '0.2.0'},
        tables: [{schema: 'public', table: 'd', rlsEnabled: true, rlsForced: false, otherPolicies: 1, hessraPolicies: [{name: 'mine', command: 'SELECT', roles: [], permissive: true, using: 'hessra_row_security(x)', withCheck: null, perStatement: false}]}],
      }),
    )
    assert.ok(j.healthy)
    assert.equal(j.warnings.length, 4)
  })

  it('recognises per-statement checks in pg_get_expr output', () => {
    assert.ok(checksArePerStatement("( SELECT hessra_row_security(current_setting('hessra.token'::text, true), 'documents'::text, 'read'::text) AS hessra_row_security)"))
    assert.ok(checksArePerStatement('(( SELECT public.hessra_row_security(a, b, c)) AND (owner = ( SELECT hessra_current_subject() AS hessra_current_subject)))'))
    assert.ok(!checksArePerStatement('hessra_row_security(a, b, c)'))
    assert.ok(!checksArePerStatement('(( SELECT hessra_row_security(a, b, c)) AND (owner = hessra_current_subject()))'))
    assert.ok(!checksArePerStatement('true'))
    // the two-argument form is made for per-row resources: not flagged
    assert.ok(checksArePerStatement("hessra_row_security(project, 'read'::text)"))
    assert.ok(checksArePerStatement("public.hessra_row_security(lower((project)::text), 'a,(b'::text)"))
    assert.ok(checksArePerStatement("(hessra_row_security(project, 'it''s, ok'::text) AND (owner = ( SELECT hessra_current_subject() AS hessra_current_subject)))"))
    assert.ok(!checksArePerStatement("hessra_row_security(current_setting('hessra.token'::text, true), project, 'read'::text)"))
    assert.ok(!checksArePerStatement("hessra_row_security(current_setting('a,b'::text), 'read'::text, 'x'::text)"))
    assert.ok(!checksArePerStatement("hessra_verify_token(tok, owner, 'read'::text)"))
    assert.deepEqual(parseRoles('{app,"we ird"}'), ['app', 'we ird'])
    assert.deepEqual(parseRoles(['a']), ['a'])
  })
})

describe('server-side configuration', () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hessra-pgcfg-'))
  })
  after(() => rmSync(dir, {recursive: true, force: true}))

  it('keeps public keys only, inlines key files, drops unknown fields', () => {
    writeFileSync(join(dir, 'edge.pub'), 'ed25519/' + 'b'.repeat(64) + '\n')
    const loaded = {
      config: {
        version: 1 as const,
        default_key: 'edge',
        keys: [
          {id: 'prod', public_key: 'ed25519/' + 'a'.repeat(64), root_key_id: 7},
          {id: 'edge', public_key_file: 'edge.pub'},
        ],
        domain: 'example.com',
        leeway_seconds: 5,
        private_key_file: '/secret/root.pem',
        limits: {max_facts: 1000},
      },
      filepath: join(dir, 'hessra.json'),
      source: 'flag' as const,
      format: 'json' as const,
    }
    const out = buildServerConfig(loaded)
    assert.deepEqual(out, {
      version: 1,
      default_key: 'edge',
      keys: [
        {id: 'prod', public_key: 'ed25519/' + 'a'.repeat(64), root_key_id: 7},
        {id: 'edge', public_key: 'ed25519/' + 'b'.repeat(64)},
      ],
      domain: 'example.com',
      leeway_seconds: 5,
      limits: {max_facts: 1000},
    })
    assert.ok(!serverConfigText(out).includes('secret'))
  })

  it('no configuration or no keys → exit 4', () => {
    assert.throws(() => buildServerConfig({config: null, filepath: null, source: 'none', format: null}), (e: Error) => e instanceof ConfigError && exitCodeFor(e) === 4)
    assert.throws(() => buildServerConfig({config: {version: 1, keys: []}, filepath: null, source: 'none', format: null}), /no keys/)
  })

  it('writes mode 0644 atomically and leaves an identical file alone', () => {
    const p = join(dir, 'etc', 'hessra', 'config.json')
    const w1 = writeServerConfig(p, '{"version":1}\n')
    assert.ok(w1.changed)
    assert.equal(statSync(p).mode & 0o777, 0o644)
    const mtime = statSync(p).mtimeMs
    const w2 = writeServerConfig(p, '{"version":1}\n')
    assert.ok(!w2.changed)
    assert.equal(statSync(p).mtimeMs, mtime)
    assert.deepEqual(permissionProblems(p), [])
    const w3 = writeServerConfig(p, '{"version":1,"keys":[]}\n')
    assert.ok(w3.changed)
    assert.equal(readFileSync(p, 'utf8'), '{"version":1,"keys":[]}\n')
    assert.throws(() => writeServerConfig('relative.json', 'x'), ConfigError)
  })
})

describe('sandbox helpers', () => {
  it('connection string and settings', () => {
    // the private socket (peer authentication), never a password in it
    assert.equal(sandboxUrl("/tmp/it's", 54_329), "postgresql://postgres@%2Ftmp%2Fit's%2Fsocket:54329/postgres")
    assert.equal(sandboxTcpUrl(54_329), 'postgresql://postgres@127.0.0.1:54329/postgres')
    const conf = sandboxConf("/tmp/it's", 55_000)
    assert.match(conf, /^listen_addresses = '127\.0\.0\.1'$/m)
    assert.match(conf, /^port = 55000$/m)
    assert.match(conf, /^unix_socket_directories = '\/tmp\/it''s\/socket'$/m)
    assert.match(conf, /^unix_socket_permissions = 0700$/m)
  })

  it('admits no other local user: peer through the socket for the map, a password over TCP, no trust line (issue 23.3)', () => {
    const hba = sandboxHba()
    assert.doesNotMatch(hba, /\btrust\b/)
    assert.deepEqual(
      hba.split('\n').filter((l) => l && !l.startsWith('#')),
      ['local all all peer map=hessra_sandbox', 'host all all 127.0.0.1/32 scram-sha-256'],
    )
    assert.equal(
      sandboxIdent(['ann', 'postgres', 'ann']),
      '# written by `hessra pg sandbox start` on every start\nhessra_sandbox "ann" postgres\nhessra_sandbox "ann" "ann"\nhessra_sandbox "postgres" postgres\n',
    )
    assert.throws(() => sandboxIdent(['a" b']), /cannot be written to pg_ident\.conf/)
  })

  it('picks the preferred port, the next free one, or fails on a busy --port', async () => {
    const busy = new Set([54_329, 54_330])
    const isFree = async (p: number) => !busy.has(p)
    assert.equal(await pickPort({isFree}), 54_331)
    assert.equal(await pickPort({preferred: 60_000, isFree}), 60_000)
    assert.equal(await pickPort({explicit: 54_400, isFree}), 54_400)
    await assert.rejects(pickPort({explicit: 54_329, isFree}), (e: Error) => exitCodeFor(e) === 5 && /in use/.test(e.message))
  })

  it('detects a really busy port', async () => {
    const srv = createServer()
    await new Promise<void>((r) => srv.listen({port: 0, host: '127.0.0.1'}, () => r()))
    const port = (srv.address() as {port: number}).port
    try {
      const p = await pickPort({preferred: port})
      assert.notEqual(p, port)
    } finally {
      srv.close()
    }
  })
})

describe('pg install: database steps (fake server)', () => {
  /** A fake server: answers the catalog queries from `state`, records everything else. */
  function fakeServer(state: {superuser: boolean; installed: string | null; available: string | null; configPath: string | null; major?: number; preload?: string}) {
    const ran: string[] = []
    const client = {
      async query(text: string, params?: unknown[]) {
        const t = text.replace(/\s+/g, ' ').trim()
        if (t.includes('rolsuper')) return {rows: [{rolsuper: state.superuser, user: state.superuser ? 'postgres' : 'app'}]}
        if (t.includes("current_setting('server_version')")) return {rows: [{v: `${state.major ?? 16}.1`, n: String((state.major ?? 16) * 10_000 + 1)}]}
        if (t.includes('pg_available_extensions')) return {rows: state.available ? [{default_version: state.available, installed_version: state.installed}] : []}
        if (t.includes("current_setting('hessra.config_path', true)")) return {rows: [{p: state.configPath}]}
        if (t.includes('FROM pg_catalog.pg_extension')) return {rows: state.installed ? [{v: state.installed}] : []}
        if (t.includes("current_setting('session_preload_libraries')")) return {rows: [{l: state.preload ?? ''}]}
        ran.push(params ? `${t} ${JSON.stringify(params)}` : t)
        if (/^CREATE EXTENSION/.test(t) || /^ALTER EXTENSION/.test(t)) state.installed = state.available
        if (/^ALTER SYSTEM SET hessra.config_path = '(.*)'/.test(t)) state.configPath = /'(.*)'/.exec(t)![1]
        return {rows: []}
      },
    }
    return {client, ran}
  }
  const opts = (dryRun = false) => ({configPath: '/etc/hessra/config.json', dryRun, progress: recordingProgress(), steps: [] as PlannedStep[]})

  it('fresh database: create, set the path, reload, check it loads', async () => {
    const {client, ran} = fakeServer({superuser: true, installed: null, available: '0.2.0', configPath: null})
    const r = await setupDatabase(client as never, opts())
    assert.deepEqual(ran, [
      'CREATE EXTENSION IF NOT EXISTS hessra',
      "LOAD 'hessra';",
      "ALTER SYSTEM SET hessra.config_path = '/etc/hessra/config.json';",
      'SELECT pg_catalog.pg_reload_conf()',
      'SELECT "public".hessra_init($1) ["/etc/hessra/config.json"]',
    ])
    assert.ok(r.created)
    assert.equal(r.extensionVersion, '0.2.0')
  })

  it('second run changes nothing but still checks the file loads; an old version is updated', async () => {
    const again = fakeServer({superuser: true, installed: '0.2.0', available: '0.2.0', configPath: '/etc/hessra/config.json'})
    const r = await setupDatabase(again.client as never, opts())
    assert.deepEqual(again.ran, ['SELECT "public".hessra_init($1) ["/etc/hessra/config.json"]'])
    assert.ok(!r.created && !r.updated)
    const old = fakeServer({superuser: true, installed: '0.1.0', available: '0.2.0', configPath: '/etc/hessra/config.json'})
    assert.ok((await setupDatabase(old.client as never, opts())).updated)
    assert.equal(old.ran[0], 'ALTER EXTENSION hessra UPDATE')
  })

  it('--preload adds hessra to session_preload_libraries, keeping the others, once', async () => {
    const {client, ran} = fakeServer({superuser: true, installed: '0.3.0', available: '0.3.0', configPath: '/etc/hessra/config.json', preload: 'auto_explain, "$libdir/other"'})
    await setupDatabase(client as never, {...opts(), preload: true})
    assert.deepEqual(ran.slice(1), [
      "ALTER SYSTEM SET session_preload_libraries = 'auto_explain', '$libdir/other', 'hessra';",
      'SELECT pg_reload_conf()',
    ])
    for (const listed of ['hessra', '"hessra"', 'a,$libdir/hessra']) {
      const again = fakeServer({superuser: true, installed: '0.3.0', available: '0.3.0', configPath: '/etc/hessra/config.json', preload: listed})
      await setupDatabase(again.client as never, {...opts(), preload: true})
      assert.deepEqual(again.ran, ['SELECT "public".hessra_init($1) ["/etc/hessra/config.json"]'], listed)
    }
    assert.deepEqual(withPreloadedExtension(''), ['hessra'])
  })

  it('dry run runs nothing and lists the SQL', async () => {
    const {client, ran} = fakeServer({superuser: true, installed: null, available: '0.2.0', configPath: null})
    const o = opts(true)
    await setupDatabase(client as never, o)
    assert.deepEqual(ran, [])
    assert.deepEqual(
      o.steps.map((s) => s.sql).filter(Boolean),
      ['CREATE EXTENSION IF NOT EXISTS hessra;', "LOAD 'hessra';", "ALTER SYSTEM SET hessra.config_path = '/etc/hessra/config.json';", 'SELECT pg_reload_conf();', "SELECT hessra_init('/etc/hessra/config.json');"],
    )
  })

  it('not a superuser, extension files missing, or a different major → exit 5', async () => {
    await assert.rejects(setupDatabase(fakeServer({superuser: false, installed: null, available: '0.2.0', configPath: null}).client as never, opts()), (e: Error) => exitCodeFor(e) === 5 && /superuser/.test(e.message))
    await assert.rejects(setupDatabase(fakeServer({superuser: true, installed: null, available: null, configPath: null}).client as never, opts()), /does not see the hessra extension files/)
    const info = {major: 17} as PgConfigInfo
    await assert.rejects(setupDatabase(fakeServer({superuser: true, installed: null, available: '0.2.0', configPath: null, major: 15}).client as never, {...opts(), info}), (e: Error) =>
      /PostgreSQL 15 but the extension was built for 17/.test(e.message) && /postgresql-server-dev-15/.test((e as EnvironmentError).hint ?? ''),
    )
  })
})
