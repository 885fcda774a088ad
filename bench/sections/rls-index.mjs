// Index-usable row-level security (issue 24): N rows (2,000,000; --quick 400,000) over 400 resources,
// each resource's rows stored together, a btree index on the resource column, a non-superuser holding a
// token for one resource. SELECT count(*)
// under the generated policy — resource = ANY ((SELECT hessra_granted_resources('read'))::text[]) — vs
// the floor (the same table without row-level security, the granted resource written by hand:
// WHERE resource = 'r1') vs the per-row check (`--per-row`: hessra_row_security(resource, 'read')).
// Before any timing: exactly the granted rows come back for a one-resource token, a two-resource token,
// a copy attenuated to one of them, an expired token and no token, in both forms, and EXPLAIN shows
// the Index Cond; otherwise the section reports no figures.
// Run it under the shared lock: flock /tmp/hessra-pg.lock npm run bench -- --only=rls

import {chmodSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'

import {ROOT} from '../lib/native.mjs'
import {processCpuNs, withBenchCluster} from '../lib/pg.mjs'
import {median} from '../lib/stats.mjs'

const RESOURCES = 400

export async function rlsIndexSection(ctx) {
  const {api} = ctx.native ?? {}
  if (!api) throw new Error(ctx.nativeError ?? 'native library unavailable')
  if (process.platform !== 'linux') throw new Error('the PostgreSQL benchmark needs Linux')
  const {generatePolicies} = await import(join(ROOT, 'dist', 'pg', 'policy.js'))
  const N = ctx.quick ? 400_000 : 2_000_000
  const perResource = N / RESOURCES
  const reps = ctx.quick ? 3 : 9
  const conf = ['shared_buffers = 512MB', 'max_parallel_workers_per_gather = 0', 'jit = off', 'max_wal_size = 4GB']
  return withBenchCluster({prefix: 'hessra-bench-rls-', conf}, async ({dir, connect}) => {
    const rows = []
    const admin = await connect()
    const version = (await admin.query('SHOW server_version')).rows[0].server_version

    // keys, configuration, tokens
    const root = api.generateKeyPair('ed25519')
    const pub = root.publicKey()
    const cfgPath = join(dir, 'hessra.json')
    writeFileSync(cfgPath, JSON.stringify({version: 1, default_key: 'bench', keys: [{id: 'bench', public_key: pub.toText()}]}), {mode: 0o644})
    chmodSync(cfgPath, 0o644)
    const exp = Math.floor(Date.now() / 1000) + 3 * 3600
    const rights = (rs, at) => ({
      privateKey: root,
      datalog: `${rs.map((r) => `right("user_42", "${r}", "read");`).join('\n')}\ncheck if subject($s), resource($r), operation($o), right($s, $r, $o);\ncheck if time($t), $t < {exp};`,
      params: {exp: at},
    })
    const two = api.mintFromDatalog(rights(['r1', 'r2'], exp))
    const tokens = {
      one: api.mintFromDatalog(rights(['r1'], exp)),
      two,
      narrowed: api.attenuateToken(two, {key: pub, datalog: 'check if resource("r2");'}),
      expired: api.mintFromDatalog(rights(['r1', 'r2'], exp - 4 * 3600)),
      none: null,
    }
    const expected = {one: perResource, two: 2 * perResource, narrowed: perResource, expired: 0, none: 0}
    pub.dispose()
    root.dispose()

    await admin.query('CREATE EXTENSION hessra')
    const extVersion = (await admin.query("SELECT extversion FROM pg_extension WHERE extname = 'hessra'")).rows[0].extversion
    await admin.query(`ALTER SYSTEM SET hessra.config_path = '${cfgPath.replace(/'/g, "''")}'`)
    await admin.query('SELECT pg_reload_conf()')
    await admin.query('CREATE ROLE bench LOGIN')

    ctx.progress(`rls: loading ${N} rows × 3 tables`)
    // Unlogged: no WAL to write while loading; reads are the same. Each resource's rows are stored
    // together: the per-row check's memo then answers nearly every row from its last slot (its best
    // case — with resources interleaved row by row it misses and asks the engine for most rows).
    await admin.query("SET maintenance_work_mem = '256MB'")
    await admin.query(`CREATE UNLOGGED TABLE t_floor AS SELECT g AS id, 'r' || ((g - 1) / ${perResource} + 1) AS resource, g % 97 AS v FROM generate_series(1, ${N}) g`)
    await admin.query('CREATE UNLOGGED TABLE t_gen AS TABLE t_floor')
    await admin.query('CREATE UNLOGGED TABLE t_per_row AS TABLE t_floor')
    for (const t of ['t_floor', 't_gen', 't_per_row']) await admin.query(`CREATE INDEX ON ${t} (resource)`)
    await admin.query('GRANT SELECT ON t_floor, t_gen, t_per_row TO bench')
    await admin.query('VACUUM ANALYZE')
    const generated = generatePolicies({table: 't_gen', resourceColumn: 'resource', operations: ['select'], indexedColumns: ['resource']})
    const perRow = generatePolicies({table: 't_per_row', resourceColumn: 'resource', perRow: true, operations: ['select']})
    for (const s of [...generated.statements, ...perRow.statements]) await admin.query(s)

    const b = await connect('bench')
    const setToken = (t) => b.query("SELECT set_config('hessra.token', $1, false)", [t ?? ''])
    for (const [name, token] of Object.entries(tokens)) {
      await setToken(token)
      for (const t of ['t_gen', 't_per_row']) {
        const got = Number((await b.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n)
        if (got !== expected[name]) throw new Error(`${t}: ${got} rows visible with the ${name} token, expected ${expected[name]} — refusing to report timings`)
      }
    }
    await setToken(tokens.one)
    const queries = {floor: "SELECT count(*) FROM t_floor WHERE resource = 'r1'", generated: 'SELECT count(*) FROM t_gen', perRow: 'SELECT count(*) FROM t_per_row'}
    const plan = async (k) => (await b.query(`EXPLAIN (COSTS OFF) ${queries[k]}`)).rows.map((r) => r['QUERY PLAN'].trim()).join(' / ')
    const genPlan = await plan('generated')
    if (!/Index Cond: \(resource = ANY \(/.test(genPlan)) throw new Error(`the generated policy's plan has no Index Cond on the resource: ${genPlan}`)
    if (Number((await b.query(queries.floor)).rows[0].count) !== perResource) throw new Error('the floor query counts the wrong rows')

    // Each sample: a batch of executions (batches of ~50 ms for the fast queries), backend CPU time
    // (/proc, immune to other processes on the shared cores) and wall time per execution.
    const pid = (await b.query('SELECT pg_backend_pid() AS p')).rows[0].p
    const run = async (k, n) => {
      const c0 = processCpuNs(pid)
      const t0 = performance.now()
      for (let i = 0; i < n; i++) await b.query(queries[k])
      return {cpu: (processCpuNs(pid) - c0) / 1e6 / n, wall: (performance.now() - t0) / n}
    }
    const batch = {}
    for (const k of Object.keys(queries)) {
      const probe = await run(k, 3)
      batch[k] = Math.max(1, Math.min(2000, Math.round(50 / Math.max(probe.wall, 0.01))))
    }
    const samples = Object.fromEntries(Object.keys(queries).map((k) => [k, {cpu: [], wall: []}]))
    const keys = Object.keys(queries)
    for (let r = 0; r < reps; r++) {
      for (let i = 0; i < keys.length; i++) {
        const k = keys[(i + r) % keys.length]
        const s = await run(k, batch[k])
        samples[k].cpu.push(s.cpu)
        samples[k].wall.push(s.wall)
      }
    }
    const cpu = Object.fromEntries(keys.map((k) => [k, median(samples[k].cpu)]))
    const wall = Object.fromEntries(keys.map((k) => [k, median(samples[k].wall)]))
    const ms = (v) => `${v.toFixed(v < 1 ? 3 : 1)} ms`
    const timing = (name, k, note) =>
      rows.push({section: 'rls', name, value: cpu[k], unit: 'ms', note: `backend CPU per statement, median of ${reps} batches of ${batch[k]}; wall ${ms(wall[k])}${note ? `; ${note}` : ''}`})
    const ratio = (name, a, base, op, limit) => {
      const v = cpu[a] / cpu[base]
      rows.push({
        section: 'rls',
        name,
        value: v,
        unit: '×',
        target: `${op} ${limit}`,
        status: (op === '≤' ? v <= limit : v >= limit) ? 'met' : 'missed',
        note: `backend CPU ${ms(cpu[a])} / ${ms(cpu[base])}; wall ${(wall[a] / wall[base]).toFixed(2)}×`,
      })
    }
    timing(`count(*) ${N} rows / ${RESOURCES} resources, no RLS, resource written by hand`, 'floor', `PostgreSQL ${version}, hessra ${extVersion}, a non-superuser, btree index on the resource; plan: ${await plan('floor')}`)
    timing('  generated policy (resource = ANY granted resources)', 'generated', `plan: ${genPlan}; exactly the granted rows for one, two, attenuated, expired and no token checked first`)
    ratio('  generated policy / no-RLS floor', 'generated', 'floor', '≤', 1.5)
    timing('  --per-row: hessra_row_security(resource, read)', 'perRow', `plan: ${await plan('perRow')}`)
    ratio('  per-row check / generated policy', 'perRow', 'generated', '≥', 50)
    ctx.progress('rls: done')
    return rows
  })
}
