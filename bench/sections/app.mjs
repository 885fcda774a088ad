// The example application under load (issue 25): examples/documents/server.mjs on loopback, requests per
// second with withToken + a Hessra owner policy (generated: token checked once per statement, owner =
// hessra_current_subject()) vs the same server with withToken setting an unsigned `app.user` and the
// policy `owner = current_setting('app.user', true)`. Same table, rows, pool (4), client loop.
//
// A throwaway cluster (scripts/pg-cluster.sh), the extension installed with `make -C pg-plugin install`
// (root). Each server runs in its own node process; the load is a keep-alive loop of CONCURRENCY
// requests in flight from this process, for a bounded time, alternating USERS users; every answer is
// checked (the user's own rows, all of them). Rounds alternate the order; medians are compared.
// Run it under the shared lock: flock /tmp/hessra-pg.lock npm run bench -- --only=app

import {spawn, spawnSync} from 'node:child_process'
import {chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import {createRequire} from 'node:module'
import net from 'node:net'
import os from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {createInterface} from 'node:readline'

import {ROOT} from '../lib/native.mjs'
import {median} from '../lib/stats.mjs'

const require = createRequire(join(ROOT, 'package.json'))
const CLUSTER = join(ROOT, 'scripts', 'pg-cluster.sh')
const USERS = 50
const ROWS_PER_USER = 20
const CONCURRENCY = 16
const TARGET = 0.9

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address()
      s.close(() => resolve(port))
    })
  })
}

const HZ = Number(spawnSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).stdout.trim()) || 100

/** CPU seconds (user + system) used so far by one process; 0 once it is gone. */
function cpuSeconds(pid) {
  try {
    const txt = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = txt.slice(txt.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) / HZ
  } catch {
    return 0
  }
}

/** Starts bench/lib/app-server.mjs; resolves {port, pid, stop}. */
function startServer(url, setting) {
  const child = spawn(process.execPath, [join(ROOT, 'bench', 'lib', 'app-server.mjs'), url, setting], {stdio: ['ignore', 'pipe', 'inherit']})
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', (code) => reject(new Error(`the example server (${setting}) exited (${code})`)))
    createInterface({input: child.stdout}).once('line', (line) => {
      resolve({
        port: Number(line),
        pid: child.pid,
        stop: () =>
          new Promise((done) => {
            child.removeAllListeners('exit')
            child.once('exit', done)
            child.kill('SIGTERM')
          }),
      })
    })
  })
}

/** CONCURRENCY keep-alive requests in flight for `seconds`; returns requests per second. Throws on a wrong answer. */
async function load(port, credentials, seconds) {
  const agent = new http.Agent({keepAlive: true, maxSockets: CONCURRENCY})
  const get = (i) =>
    new Promise((resolve, reject) => {
      const {credential, owner} = credentials[i % credentials.length]
      const req = http.get({host: '127.0.0.1', port, path: '/documents', agent, headers: {authorization: `Bearer ${credential}`}}, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (d) => (body += d))
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`answer ${res.statusCode}: ${body.slice(0, 200)}`))
          const docs = JSON.parse(body).documents
          if (docs.length !== ROWS_PER_USER || docs.some((d) => d.owner !== owner)) return reject(new Error(`${owner} got ${docs.length} rows, not their ${ROWS_PER_USER}`))
          resolve()
        })
      })
      req.on('error', reject)
    })
  let n = 0
  let next = 0
  const end = performance.now() + seconds * 1000
  const start = performance.now()
  const worker = async () => {
    while (performance.now() < end) {
      await get(next++)
      n++
    }
  }
  await Promise.all(Array.from({length: CONCURRENCY}, worker))
  const elapsed = (performance.now() - start) / 1000
  agent.destroy()
  return n / elapsed
}

export async function appSection(ctx) {
  const {binding} = ctx.native ?? {}
  if (!binding) throw new Error(ctx.nativeError ?? 'native library unavailable')
  if (process.platform !== 'linux') throw new Error('the application benchmark needs Linux')
  const seconds = ctx.quick ? 2 : 4
  const rounds = ctx.quick ? 1 : 5

  const sh = (cmd, args, opts = {}) => spawnSync(cmd, args, {encoding: 'utf8', ...opts})
  const inst = sh('make', ['-C', join(ROOT, 'pg-plugin'), '-s', 'install'])
  if (inst.status !== 0) throw new Error(`make -C pg-plugin install failed${process.getuid?.() !== 0 ? ' (installing needs root)' : ''}: ${(inst.stderr || inst.stdout).trim().split('\n').pop()}`)
  const {generatePolicies} = await import(join(ROOT, 'dist', 'pg', 'policy.js'))

  const dir = mkdtempSync(join(os.tmpdir(), 'hessra-bench-app-'))
  chmodSync(dir, 0o755)
  const port = await freePort()
  let started = false
  const servers = []
  const cleanup = () => {
    if (started) sh('bash', [CLUSTER, 'stop', dir])
    started = false
    rmSync(dir, {recursive: true, force: true})
  }
  process.on('exit', cleanup)
  const pg = require('pg')
  let admin
  try {
    const st = sh('bash', [CLUSTER, 'start', dir, String(port)], {env: {...process.env, PG_CLUSTER_CONF: 'jit = off\nmax_connections = 40'}})
    if (st.status !== 0) throw new Error(`pg-cluster.sh start failed: ${(st.stderr || st.stdout).trim().split('\n').pop()}`)
    started = true
    admin = new pg.Client({host: '127.0.0.1', port, user: 'postgres', database: 'postgres'})
    await admin.connect()
    const version = (await admin.query('SHOW server_version')).rows[0].server_version

    const kp = binding.KeyPair.generate('ed25519')
    const cfgPath = join(dir, 'hessra.json')
    writeFileSync(cfgPath, JSON.stringify({version: 1, default_key: 'bench', keys: [{id: 'bench', public_key: kp.publicKey().toText()}]}), {mode: 0o644})
    const exp = Math.floor(Date.now() / 1000) + 3 * 3600
    const users = Array.from({length: USERS}, (_, i) => `user_${i}`)
    const hessraCredentials = users.map((owner) => ({owner, credential: binding.mintHessraToken(kp, {subject: owner, resource: 'documents', operation: 'read', expiresAt: exp})}))
    const plainCredentials = users.map((owner) => ({owner, credential: owner}))

    await admin.query('CREATE EXTENSION hessra')
    await admin.query(`ALTER SYSTEM SET hessra.config_path = '${cfgPath.replace(/'/g, "''")}'`)
    await admin.query('SELECT pg_reload_conf()')
    await admin.query('CREATE TABLE documents (id int PRIMARY KEY, owner text NOT NULL, title text NOT NULL)')
    await admin.query(`INSERT INTO documents SELECT g, 'user_' || (g % ${USERS}), 'document ' || g FROM generate_series(1, ${USERS * ROWS_PER_USER}) g`)
    await admin.query('CREATE INDEX ON documents (owner)')
    await admin.query('CREATE ROLE app_hessra LOGIN; CREATE ROLE app_plain LOGIN; GRANT SELECT ON documents TO app_hessra, app_plain')
    await admin.query(generatePolicies({table: 'documents', ownerColumn: 'owner', operations: ['select'], roles: ['app_hessra']}).sql)
    await admin.query("CREATE POLICY plain_select ON documents FOR SELECT TO app_plain USING (owner = current_setting('app.user', true))")
    await admin.query('VACUUM ANALYZE documents')

    const url = (user) => `postgresql://${user}@127.0.0.1:${port}/postgres`
    const variants = {
      hessra: {server: await startServer(url('app_hessra'), 'hessra.token'), credentials: hessraCredentials, rps: []},
      plain: {server: await startServer(url('app_plain'), 'app.user'), credentials: plainCredentials, rps: []},
    }
    servers.push(variants.hessra.server, variants.plain.server)
    ctx.progress(`app: PostgreSQL ${version}; warming up both servers`)
    for (const v of Object.values(variants)) await load(v.server.port, v.credentials, 2)
    // CPU per request: the server process and its PostgreSQL backends (the pool's connections)
    const backends = async (role) => (await admin.query('SELECT pid FROM pg_stat_activity WHERE usename = $1', [role])).rows.map((r) => r.pid)
    const roles = {hessra: 'app_hessra', plain: 'app_plain'}
    for (let r = 0; r < rounds; r++) {
      for (const k of r % 2 === 0 ? ['hessra', 'plain'] : ['plain', 'hessra']) {
        const v = variants[k]
        const pids = [v.server.pid, ...(await backends(roles[k]))]
        const cpu0 = pids.reduce((a, pid) => a + cpuSeconds(pid), 0)
        const srv0 = cpuSeconds(v.server.pid)
        const start = performance.now()
        const rps = await load(v.server.port, v.credentials, seconds)
        const requests = (rps * (performance.now() - start)) / 1000
        v.rps.push(rps)
        ;(v.cpu ??= []).push(((pids.reduce((a, pid) => a + cpuSeconds(pid), 0) - cpu0) * 1e6) / requests)
        ;(v.serverCpu ??= []).push(((cpuSeconds(v.server.pid) - srv0) * 1e6) / requests)
        ctx.progress(`app: round ${r + 1}/${rounds} ${k} ${rps.toFixed(0)} req/s, ${v.cpu.at(-1).toFixed(0)} µs CPU per request (server + backends)`)
      }
    }
    const h = median(variants.hessra.rps)
    const p = median(variants.plain.rps)
    // each round runs both variants back to back, under the same load: the ratio is the median of the rounds' ratios
    const ratio = median(variants.hessra.rps.map((x, i) => x / variants.plain.rps[i]))
    const cpuRatio = median(variants.hessra.cpu.map((x, i) => variants.plain.cpu[i] / x))
    const cpuH = median(variants.hessra.cpu)
    const cpuP = median(variants.plain.cpu)
    const load1 = os.loadavg()[0].toFixed(1)
    const cfg = `node:http example server, pg.Pool of 4, ${CONCURRENCY} keep-alive requests in flight, ${USERS} users × ${ROWS_PER_USER} rows, ${rounds} × ${seconds} s per variant (medians), PostgreSQL ${version}; load average ${load1}`
    return [
      {section: 'app', name: "example app, unsigned withToken(set_config('app.user')) + owner = current_setting", value: p, unit: 'req/s', note: cfg},
      {section: 'app', name: '  example app, withToken + generated Hessra owner policy', value: h, unit: 'req/s', note: `runs: ${variants.hessra.rps.map((x) => x.toFixed(0)).join(', ')} vs ${variants.plain.rps.map((x) => x.toFixed(0)).join(', ')}`},
      {
        section: 'app',
        name: '  example app req/s, Hessra / unsigned',
        value: ratio,
        unit: '×',
        target: `≥ ${TARGET.toFixed(2)}`,
        status: ratio >= TARGET ? 'met' : 'missed',
        note:
          `median of the rounds' ratios, wall-clock (client, both servers and PostgreSQL share the machine); CPU per request, server + backends: ${cpuH.toFixed(0)} / ${cpuP.toFixed(0)} µs ` +
          `(node server ${median(variants.hessra.serverCpu).toFixed(0)} / ${median(variants.plain.serverCpu).toFixed(0)} µs, backends the rest), so a CPU-bound server converges to ${cpuRatio.toFixed(2)}× (median of the rounds)`,
      },
    ]
  } finally {
    for (const s of servers) await s.stop()
    await admin?.end().catch(() => {})
    cleanup()
  }
}
