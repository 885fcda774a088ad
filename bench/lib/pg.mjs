// A throwaway PostgreSQL cluster for the benchmark sections: the extension installed with
// `make -C pg-plugin install` (needs root), a cluster from scripts/pg-cluster.sh on a free loopback
// port, stopped and removed whatever happens (also on SIGINT/SIGTERM); and the /proc readings the
// sections measure with.

import {spawnSync} from 'node:child_process'
import {chmodSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {createRequire} from 'node:module'
import net from 'node:net'
import os from 'node:os'
import {join} from 'node:path'

import {ROOT} from './native.mjs'

const require = createRequire(join(ROOT, 'package.json'))
export const CLUSTER = join(ROOT, 'scripts', 'pg-cluster.sh')

export function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, {encoding: 'utf8', maxBuffer: 64 << 20, ...opts})
  if (r.error) throw r.error
  return r
}

export function freePort() {
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

/** CPU seconds (user + system) used so far by one process, at clock-tick resolution. */
export function processCpuSeconds(pid) {
  const hz = Number(sh('getconf', ['CLK_TCK']).stdout.trim()) || 100
  const txt = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = txt.slice(txt.lastIndexOf(')') + 2).split(' ')
  return (Number(f[11]) + Number(f[12])) / hz
}

/** On-CPU time of one process in nanoseconds (/proc/PID/schedstat), falling back to clock ticks. */
export function processCpuNs(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0])
  } catch {
    return processCpuSeconds(pid) * 1e9
  }
}

/**
 * Runs `fn({dir, port, bindir, connect, forget})` against a fresh cluster with the extension installed:
 * `connect(user)` opens a client (closed at the end), `forget(client)` drops one the caller closed.
 * `conf` holds extra postgresql.conf lines.
 */
export async function withBenchCluster({prefix, conf}, fn) {
  const inst = sh('make', ['-C', join(ROOT, 'pg-plugin'), 'install'])
  if (inst.status !== 0) {
    const tail = `${inst.stdout}\n${inst.stderr}`.trim().split('\n').slice(-3).join(' | ')
    throw new Error(`make -C pg-plugin install failed (${tail})${process.getuid?.() !== 0 ? '; installing needs root' : ''}`)
  }
  const bindir = sh('bash', [CLUSTER, 'bindir']).stdout.trim()
  const dir = mkdtempSync(join(os.tmpdir(), prefix))
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
    const st = sh('bash', [CLUSTER, 'start', dir, String(port)], {env: {...process.env, PG_CLUSTER_CONF: conf.join('\n')}})
    if (st.status !== 0) throw new Error(`pg-cluster.sh start failed: ${(st.stderr || st.stdout).trim().split('\n').slice(-2).join(' | ')}`)
    started = true
    const connect = async (user = 'postgres') => {
      const c = new pg.Client({host: dir, port, user, database: 'postgres'})
      await c.connect()
      clients.push(c)
      return c
    }
    const forget = (c) => clients.splice(clients.indexOf(c), 1)
    return await fn({dir, port, bindir, connect, forget})
  } finally {
    for (const c of clients) await c.end().catch(() => {})
    cleanup()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('exit', cleanup)
  }
}
