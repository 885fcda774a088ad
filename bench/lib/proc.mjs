// Per-process figures from /proc (Linux): what the PostgreSQL sections measure a backend with.

import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'

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
