// PostgreSQL: a throwaway cluster (scripts/pg-cluster.sh), the extension installed with
// `make -C pg-plugin install`, N rows per table, RLS variants measured side by side, pgbench with
// token-per-transaction point selects, and the per-backend cache memory.

import {spawnSync} from 'node:child_process'
import {chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import net from 'node:net'
import os from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'

import {ROOT} from '../lib/native.mjs'
import {median, quantile} from '../lib/stats.mjs'

const require = createRequire(join(ROOT, 'package.json'))
const CLUSTER = join(ROOT, 'scripts', 'pg-cluster.sh')

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, {encoding: 'utf8', maxBuffer: 64 << 20, ...opts})
  if (r.error) throw r.error
  return r
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.unref()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address()
      s.close(() => resolve(port))
    })
  })
}

/** CPU seconds used so far by the postmaster and its children (live ones + reaped ones). */
function clusterCpuSeconds(dataDir) {
  const pm = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
  const hz = Number(sh('getconf', ['CLK_TCK']).stdout.trim()) || 100
  const fields = (pid) => {
    const txt = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return txt.slice(txt.lastIndexOf(')') + 2).split(' ') // fields from #3 (state) on
  }
  const f = fields(pm)
  let ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) // utime stime cutime cstime
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === pm) continue
    try {
      const g = fields(d)
      if (Number(g[1]) === pm) ticks += Number(g[11]) + Number(g[12])
    } catch {
      // gone
    }
  }
  return ticks / hz
}

/** CPU seconds (user + system) used so far by one process, at clock-tick resolution. */
function processCpuSeconds(pid) {
  const hz = Number(sh('getconf', ['CLK_TCK']).stdout.trim()) || 100
  const txt = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = txt.slice(txt.lastIndexOf(')') + 2).split(' ')
  return (Number(f[11]) + Number(f[12])) / hz
}

function rssAnonKb(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^RssAnon:\s+(\d+)\s+kB/m)
  if (!m) throw new Error('no RssAnon in /proc/PID/status')
  return Number(m[1])
}

export async function pgSection(ctx) {
  const rows = []
  const N = ctx.rows
  const reps = ctx.quick ? 3 : 11
  const pgbenchReps = ctx.quick ? 1 : 3
  const {binding} = ctx.native ?? {}
  if (!binding) throw new Error(ctx.nativeError ?? 'native library unavailable')
  if (process.platform !== 'linux') throw new Error('the PostgreSQL benchmark needs Linux')

  // 1. the extension
  const inst = sh('make', ['-C', join(ROOT, 'pg-plugin'), 'install'])
  if (inst.status !== 0) {
    const tail = `${inst.stdout}\n${inst.stderr}`.trim().split('\n').slice(-3).join(' | ')
    throw new Error(`make -C pg-plugin install failed (${tail})${process.getuid?.() !== 0 ? '; installing needs root' : ''}`)
  }
  const bindir = sh('bash', [CLUSTER, 'bindir']).stdout.trim()
  const pgbenchBin = join(bindir, 'pgbench')

  // 2. the cluster (stopped and removed whatever happens)
  const dir = mkdtempSync(join(os.tmpdir(), 'hessra-bench-pg-'))
  chmodSync(dir, 0o755)
  const port = await freePort()
  let started = false
  const cleanup = () => {
    if (started) sh('bash', [CLUSTER, 'stop', dir])
    started = false
    rmSync(dir, {recursive: true, force: true})
  }
  const onSignal = () => {
    cleanup()
    process.exit(130)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('exit', cleanup)

  const pg = require('pg')
  const clients = []
  try {
    const conf = ['shared_buffers = 512MB', 'max_parallel_workers_per_gather = 0', 'jit = off', 'max_connections = 40'].join('\n')
    const st = sh('bash', [CLUSTER, 'start', dir, String(port)], {env: {...process.env, PG_CLUSTER_CONF: conf}})
    if (st.status !== 0) throw new Error(`pg-cluster.sh start failed: ${(st.stderr || st.stdout).trim().split('\n').slice(-2).join(' | ')}`)
    started = true
    const connect = async (user = 'postgres') => {
      const c = new pg.Client({host: dir, port, user, database: 'postgres'})
      await c.connect()
      clients.push(c)
      return c
    }
    const admin = await connect()
    const version = (await admin.query('SHOW server_version')).rows[0].server_version

    // keys, configuration, tokens
    const kp = binding.KeyPair.generate('ed25519')
    const pkText = kp.publicKey().toText()
    const cfgPath = join(dir, 'hessra.json')
    writeFileSync(cfgPath, JSON.stringify({version: 1, default_key: 'bench', keys: [{id: 'bench', public_key: pkText}]}), {mode: 0o644})
    chmodSync(cfgPath, 0o644)
    const exp = Math.floor(Date.now() / 1000) + 3 * 3600
    const token = binding.mintHessraToken(kp, {subject: 'user_42', resource: 'orders', operation: 'read', expiresAt: exp})

    await admin.query('CREATE EXTENSION hessra')
    const extVersion = (await admin.query("SELECT extversion FROM pg_extension WHERE extname = 'hessra'")).rows[0].extversion
    await admin.query(`ALTER SYSTEM SET hessra.config_path = '${cfgPath.replace(/'/g, "''")}'`)
    await admin.query('SELECT pg_reload_conf()')
    await admin.query('CREATE ROLE bench LOGIN IN ROLE pg_monitor') // pg_monitor: hessra_stats()

    // tables: identical copies, one per variant
    ctx.progress(`pg: loading ${N} rows × 6 tables`)
    const tables = {
      none: 't_none',
      true: 't_true',
      generated: 't_gen',
      unwrapped: 't_unwrapped',
      owner: 't_owner',
      ownerPlain: 't_owner_plain',
    }
    await admin.query(`CREATE TABLE t_base AS SELECT g AS id, 'user_' || (g % 1000) AS owner, g % 97 AS v FROM generate_series(1, ${N}) g`)
    for (const t of Object.values(tables)) {
      await admin.query(`CREATE TABLE ${t} AS TABLE t_base`)
      await admin.query(`ALTER TABLE ${t} ADD PRIMARY KEY (id)`)
    }
    await admin.query('DROP TABLE t_base')
    await admin.query('GRANT SELECT ON ALL TABLES IN SCHEMA public TO bench')
    await admin.query('VACUUM ANALYZE')

    // policies
    const tokenExpr = "current_setting('hessra.token', true)"
    let generatedVia = 'dist/pg/policy.js generatePolicies()'
    let genStatements
    try {
      const {generatePolicies} = await import(join(ROOT, 'dist', 'pg', 'policy.js'))
      genStatements = generatePolicies({table: tables.generated, operations: ['select'], resource: 'orders'}).statements
    } catch (e) {
      generatedVia = `hand-written (generator unavailable: ${String(e.message).split('\n')[0]})`
      genStatements = [
        `ALTER TABLE ${tables.generated} ENABLE ROW LEVEL SECURITY`,
        `ALTER TABLE ${tables.generated} FORCE ROW LEVEL SECURITY`,
        `CREATE POLICY hessra_select ON ${tables.generated} FOR SELECT USING ((SELECT hessra_row_security(${tokenExpr}, 'orders', 'read')))`,
      ]
    }
    for (const s of genStatements) await admin.query(s)
    const policies = {
      true: 'USING (true)',
      unwrapped: `USING (hessra_row_security(${tokenExpr}, 'orders', 'read'))`,
      owner: 'USING (owner = (SELECT hessra_current_subject()))',
      ownerPlain: "USING (owner = current_setting('app.user'))",
    }
    for (const [k, using] of Object.entries(policies)) {
      await admin.query(`ALTER TABLE ${tables[k]} ENABLE ROW LEVEL SECURITY`)
      await admin.query(`ALTER TABLE ${tables[k]} FORCE ROW LEVEL SECURITY`)
      await admin.query(`CREATE POLICY p ON ${tables[k]} FOR SELECT ${using}`)
    }
    const genUsing = (await admin.query(`SELECT pg_get_expr(polqual, polrelid) AS q FROM pg_policy WHERE polrelid = '${tables.generated}'::regclass`)).rows.map((r) => r.q).join(' OR ')

    // 3. SELECT count(*) under each variant, as a non-superuser, sequential scans only
    const b = await connect('bench')
    await b.query('SELECT set_config($1, $2, false)', ['hessra.token', token])
    await b.query("SELECT set_config('app.user', 'user_42', false)")
    for (const s of ['enable_indexscan', 'enable_indexonlyscan', 'enable_bitmapscan']) await b.query(`SET ${s} = off`)
    const expected = {none: N, true: N, generated: N, unwrapped: N, owner: N >= 42 ? Math.floor((N - 42) / 1000) + 1 : 0, ownerPlain: null}
    expected.ownerPlain = expected.owner
    const q = (k) => (k === 'constToken' ? `SELECT count(*) FROM ${tables.none} WHERE hessra_row_security('${token}', 'orders', 'read')` : `SELECT count(*) FROM ${tables[k]}`)
    for (const k of Object.keys(tables)) {
      const got = Number((await b.query(q(k))).rows[0].count)
      if (got !== expected[k]) throw new Error(`${tables[k]}: count(*) = ${got}, expected ${expected[k]} — the policy does not behave as intended, refusing to report timings`)
    }
    const plan = async (k) => (await b.query(`EXPLAIN (COSTS OFF) ${q(k)}`)).rows.map((r) => r['QUERY PLAN'].trim()).join(' / ')
    const genPlan = await plan('generated')
    const statsBefore = (await b.query('SELECT * FROM hessra_stats()')).rows[0]
    const keys = [...Object.keys(tables), 'constToken']
    const samples = Object.fromEntries(keys.map((k) => [k, []]))
    const cpuTotal = Object.fromEntries(keys.map((k) => [k, 0]))
    const backendPid = (await b.query('SELECT pg_backend_pid() AS p')).rows[0].p
    for (let r = 0; r < reps; r++) {
      for (let i = 0; i < keys.length; i++) {
        const k = keys[(i + r) % keys.length]
        const c0 = processCpuSeconds(backendPid)
        const t0 = performance.now()
        await b.query(q(k))
        samples[k].push(performance.now() - t0)
        cpuTotal[k] += processCpuSeconds(backendPid) - c0
      }
    }
    const cpuMs = Object.fromEntries(keys.map((k) => [k, (cpuTotal[k] * 1000) / reps]))
    const cpuRatio = (a, b2) => (cpuMs[b2] > 0 ? cpuMs[a] / cpuMs[b2] : NaN)
    const statsAfter = (await b.query('SELECT * FROM hessra_stats()')).rows[0]
    const m = Object.fromEntries(keys.map((k) => [k, median(samples[k])]))
    const iqr = (k) => `IQR ${quantile(samples[k], 0.25).toFixed(1)}–${quantile(samples[k], 0.75).toFixed(1)} ms`
    const d = (f) => Number(statsAfter[f]) - Number(statsBefore[f])
    // (the statement counters above include the diagnostic constant-token statements)
    const note = `median of ${reps}`
    rows.push({section: 'pg', name: `count(*) ${N} rows, no RLS`, value: m.none, unit: 'ms', note: `${note}, ${iqr('none')}; PostgreSQL ${version}, hessra ${extVersion}, seq scan, no parallel workers, jit off`})
    rows.push({section: 'pg', name: '  USING (true)', value: m.true, unit: 'ms', note: `${note}, ${iqr('true')}; baseline for the hessra policies`})
    rows.push({section: 'pg', name: '  generated policy (wrapped)', value: m.generated, unit: 'ms', note: `${iqr('generated')}; ${generatedVia}: USING ${genUsing}; plan: ${genPlan}`})
    rows.push({section: 'pg', name: '  generated / USING (true)', value: m.generated / m.true, unit: '×', target: '≤ 1.15', status: m.generated / m.true <= 1.15 ? 'met' : 'missed', note: `backend CPU: ${cpuMs.generated.toFixed(1)} vs ${cpuMs.true.toFixed(1)} ms/query (mean, 10 ms ticks), ratio ${cpuRatio('generated', 'true').toFixed(2)}×`})
    rows.push({
      section: 'pg',
      name: '  unwrapped (per-row call)',
      value: m.unwrapped,
      unit: 'ms',
      note: `${iqr('unwrapped')}; during the timed runs: ${d('calls')} SQL calls, ${d('statement_cache_hits')} statement-memo hits, ${d('verifications')} engine verifications, ${d('cache_misses')} signature checks`,
    })
    rows.push({section: 'pg', name: '  diagnostic: per-row call, constant token', value: m.constToken, unit: 'ms', note: `${iqr('constToken')}; no RLS, WHERE hessra_row_security('<token literal>', ...): the per-row cost without current_setting()`})
    rows.push({section: 'pg', name: '  unwrapped / USING (true)', value: m.unwrapped / m.true, unit: '×', target: '≤ 1.5', status: m.unwrapped / m.true <= 1.5 ? 'met' : 'missed', note: `backend CPU ratio ${cpuRatio('unwrapped', 'true').toFixed(2)}×`})
    rows.push({section: 'pg', name: '  owner = (SELECT hessra_current_subject())', value: m.owner, unit: 'ms', note: iqr('owner')})
    rows.push({section: 'pg', name: "  owner = current_setting('app.user') (unsigned)", value: m.ownerPlain, unit: 'ms', note: iqr('ownerPlain')})
    rows.push({section: 'pg', name: '  owner mode / unsigned owner', value: m.owner / m.ownerPlain, unit: '×', target: '≤ 1.2', status: m.owner / m.ownerPlain <= 1.2 ? 'met' : 'missed', note: `backend CPU ratio ${cpuRatio('owner', 'ownerPlain').toFixed(2)}×`})
    ctx.progress('pg: count(*) done')

    // 4. pgbench: token per transaction, point selects, several clients
    if (!existsSync(pgbenchBin)) {
      rows.push({section: 'pg', name: 'pgbench TPS / unsigned', value: null, unit: '', target: '≥ 0.85', status: 'n/a', note: `no pgbench at ${pgbenchBin}`})
    } else {
      // sanity: the token selects exactly the owner's rows inside a transaction
      const fresh = await connect('bench')
      await fresh.query('BEGIN')
      await fresh.query('SELECT hessra_set_token($1)', [token])
      const inTx = Number((await fresh.query(`SELECT count(*) FROM ${tables.owner} WHERE id IN (42, 43, 1042)`)).rows[0].count)
      await fresh.query('COMMIT')
      if (inTx !== 2) throw new Error(`hessra_set_token(): owner policy returned ${inTx} rows, expected 2`)
      const scripts = {
        unsigned: `\\set id random(1, ${N})\nBEGIN;\nSELECT set_config('app.user', :user, true);\nSELECT id, owner, v FROM ${tables.ownerPlain} WHERE id = :id;\nEND;\n`,
        owner: `\\set id random(1, ${N})\nBEGIN;\nSELECT hessra_set_token(:token);\nSELECT id, owner, v FROM ${tables.owner} WHERE id = :id;\nEND;\n`,
        generated: `\\set id random(1, ${N})\nBEGIN;\nSELECT hessra_set_token(:token);\nSELECT id, owner, v FROM ${tables.generated} WHERE id = :id;\nEND;\n`,
      }
      for (const [k, s] of Object.entries(scripts)) writeFileSync(join(dir, `${k}.sql`), s)
      const clientsN = 4
      const runPgbench = (k, seconds = ctx.pgbenchSeconds) => {
        const cpu0 = clusterCpuSeconds(join(dir, 'data'))
        const r = sh(pgbenchBin, ['-n', '-M', 'prepared', '-c', String(clientsN), '-j', '2', '-T', String(seconds), '-f', join(dir, `${k}.sql`), '-D', `token=${token}`, '-D', 'user=user_42', '-h', dir, '-p', String(port), '-U', 'bench', 'postgres'])
        const tps = r.stdout.match(/tps = ([\d.]+) \(without initial connection time\)/) ?? r.stdout.match(/tps = ([\d.]+)/)
        if (r.status !== 0 || !tps) throw new Error(`pgbench ${k} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' | ')}`)
        const failed = r.stdout.match(/number of failed transactions: (\d+)/)
        if (failed && Number(failed[1]) > 0) throw new Error(`pgbench ${k}: ${failed[1]} failed transactions`)
        spawnSync('sleep', ['0.3']) // let the postmaster reap the backends
        const txs = Number((r.stdout.match(/number of transactions actually processed: (\d+)/) ?? [0, 0])[1])
        const cpuUs = txs > 0 ? ((clusterCpuSeconds(join(dir, 'data')) - cpu0) * 1e6) / txs : NaN
        cpuPerTx[k]?.push(cpuUs)
        return Number(tps[1])
      }
      const cpuPerTx = {unsigned: [], owner: [], generated: []}
      for (const k of Object.keys(scripts)) runPgbench(k, 1) // warm-up: connections, caches, plans
      for (const k of Object.keys(cpuPerTx)) cpuPerTx[k].length = 0
      const tps = {unsigned: [], owner: [], generated: []}
      const order = Object.keys(tps)
      for (let r = 0; r < pgbenchReps; r++) for (let i = 0; i < order.length; i++) tps[order[(i + r) % order.length]].push(runPgbench(order[(i + r) % order.length]))
      const t = Object.fromEntries(order.map((k) => [k, median(tps[k])]))
      const cpu = Object.fromEntries(order.map((k) => [k, median(cpuPerTx[k])]))
      const cfg = `${clientsN} clients, 2 threads, ${ctx.pgbenchSeconds} s × ${pgbenchReps}, -M prepared; BEGIN; set token; point select by id; END`
      const cpuNote = (k) => `server CPU ${cpu[k].toFixed(1)} µs/transaction (all backends, from /proc)`
      rows.push({section: 'pg', name: 'pgbench unsigned (set_config app.user)', value: t.unsigned, unit: 'tps', note: `${cfg}; ${cpuNote('unsigned')}`})
      rows.push({section: 'pg', name: '  pgbench hessra_set_token + owner policy', value: t.owner, unit: 'tps', note: cpuNote('owner')})
      rows.push({section: 'pg', name: '  pgbench TPS owner / unsigned', value: t.owner / t.unsigned, unit: '×', target: '≥ 0.85', status: t.owner / t.unsigned >= 0.85 ? 'met' : 'missed'})
      rows.push({section: 'pg', name: '  CPU-normalised owner / unsigned', value: cpu.unsigned / cpu.owner, unit: '×', note: 'server CPU per transaction, unsigned / hessra: the TPS ratio a CPU-bound server converges to, insensitive to other load on the machine'})
      rows.push({section: 'pg', name: '  pgbench hessra_set_token + generated policy', value: t.generated, unit: 'tps', note: cpuNote('generated')})
      rows.push({section: 'pg', name: '  pgbench TPS generated / unsigned', value: t.generated / t.unsigned, unit: '×', target: '≥ 0.85', status: t.generated / t.unsigned >= 0.85 ? 'met' : 'missed'})
      rows.push({section: 'pg', name: '  CPU-normalised generated / unsigned', value: cpu.unsigned / cpu.generated, unit: '×', note: 'server CPU per transaction, unsigned / hessra'})
      ctx.progress('pg: pgbench done')
    }

    // 5. per-backend cache memory at the default size
    try {
      const cap = Number((await admin.query('SELECT cache_capacity FROM hessra_stats()')).rows[0].cache_capacity)
      const defaultSize = Number((await admin.query("SELECT boot_val FROM pg_settings WHERE name = 'hessra.cache_size'")).rows[0]?.boot_val ?? cap)
      const K = defaultSize > 0 ? defaultSize : 1024
      const many = []
      for (let i = 0; i < K; i++) many.push(binding.mintHessraToken(kp, {subject: 'user_42', resource: 'orders', operation: 'read', expiresAt: exp}))
      const avgBytes = many.reduce((a, s) => a + Buffer.from(s, 'base64url').length, 0) / K
      const probe = async (cacheSize) => {
        const c = await connect()
        if (cacheSize !== null) await c.query(`SET hessra.cache_size = ${cacheSize}`)
        const pid = (await c.query('SELECT pg_backend_pid() AS p')).rows[0].p
        await c.query("SELECT hessra_verify_token($1, 'user_42', 'orders')", [token]) // library + configuration loaded
        await c.query("SELECT count(*) FILTER (WHERE hessra_verify_token(t, 'user_42', 'orders')) FROM unnest($1::text[]) t", [many.slice(0, 8)])
        const before = rssAnonKb(pid)
        const ok = Number((await c.query("SELECT count(*) FILTER (WHERE hessra_verify_token(t, 'user_42', 'orders')) AS n FROM unnest($1::text[]) t", [many])).rows[0].n)
        const after = rssAnonKb(pid)
        const s = (await c.query('SELECT * FROM hessra_stats()')).rows[0]
        await c.end()
        clients.splice(clients.indexOf(c), 1)
        if (ok !== K) throw new Error(`only ${ok} of ${K} tokens verified`)
        return {deltaKb: after - before, entries: Number(s.cache_entries), capacity: Number(s.cache_capacity)}
      }
      const filled = await probe(null)
      const disabled = await probe(0)
      const mb = Math.max(0, filled.deltaKb - disabled.deltaKb) / 1024
      rows.push({
        section: 'pg',
        name: `per-backend cache memory (${filled.entries} of ${filled.capacity} entries)`,
        value: mb,
        unit: 'MB',
        target: '≤ 2 MB',
        status: mb <= 2 ? 'met' : 'missed',
        note: `RssAnon growth while verifying ${K} distinct ${avgBytes.toFixed(0)}-byte tokens: ${filled.deltaKb} kB with the default cache, ${disabled.deltaKb} kB with hessra.cache_size = 0; ≈ ${((Math.max(0, filled.deltaKb - disabled.deltaKb) * 1024) / Math.max(1, filled.entries)).toFixed(0)} B/entry`,
      })
    } catch (e) {
      rows.push({section: 'pg', name: 'per-backend cache memory', value: null, unit: '', target: '≤ 2 MB', status: 'n/a', note: String(e.message ?? e).split('\n')[0]})
    }
    ctx.progress('pg: memory done')
    return rows
  } finally {
    for (const c of clients) await c.end().catch(() => {})
    cleanup()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('exit', cleanup)
  }
}
