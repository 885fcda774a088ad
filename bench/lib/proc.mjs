// Processes for the PostgreSQL sections: running programs, a free port, and per-process figures from
// /proc (Linux), what they measure a backend with.

import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import net from 'node:net'

/** CPU seconds (user + system) used so far by one process, at clock-tick resolution. */
export function processCpuSeconds(pid) {
  const hz = Number(spawnSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).stdout.trim()) || 100
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

export function rssAnonKb(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^RssAnon:\s+(\d+)\s+kB/m)
  if (!m) throw new Error('no RssAnon in /proc/PID/status')
  return Number(m[1])
}

export function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, {encoding: 'utf8', maxBuffer: 64 << 20, ...opts})
  if (r.error) throw r.error
  return r
}

/** A TCP port free on 127.0.0.1 now. */
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
