#!/usr/bin/env node
// npm run bench — side-by-side performance figures for hessra (not a test).
//
//   npm run bench                      everything (engine, cache, koffi, CLI, PostgreSQL)
//   npm run bench -- --quick           fewer repetitions / rows (smoke run)
//   npm run bench -- --only=engine,cli,pg,app,rls,render
//   npm run bench -- --rows=1000000 --pgbench-seconds=10
//
// Prints one table and writes the same rows to bench/results.json. Every ratio is against a
// baseline measured in the same run. Figures that could not be measured are "n/a" with the reason.
//
// Needs: `npm ci`, the native library (`npm run build:native`), `npm run build`; for the PostgreSQL
// part a local PostgreSQL server installation with its dev headers (the bench builds and installs the
// extension with `make -C pg-plugin install`, which needs root) — see bench/README.md.

import {spawnSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import os from 'node:os'
import {join} from 'node:path'

// biscuit-wasm is an ES module importing a .wasm file: node 20 needs --experimental-wasm-modules.
if (!process.execArgv.includes('--experimental-wasm-modules') && !process.env.HESSRA_BENCH_CHILD) {
  const r = spawnSync(process.execPath, ['--experimental-wasm-modules', '--disable-warning=ExperimentalWarning', ...process.execArgv, process.argv[1], ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: {...process.env, HESSRA_BENCH_CHILD: '1'},
  })
  process.exit(r.status ?? 1)
}

const {loadNative, ROOT} = await import('./lib/native.mjs')
const {fmtUs} = await import('./lib/stats.mjs')

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const m = a.match(/^--([^=]+)(?:=(.*))?$/)
    return m ? [m[1], m[2] ?? true] : [a, true]
  }),
)
const only = typeof args.only === 'string' ? new Set(args.only.split(',')) : null
const want = (s) => !only || only.has(s)

const ctx = {
  quick: Boolean(args.quick),
  rows: Number(args.rows ?? (args.quick ? 200000 : 1000000)),
  pgbenchSeconds: Number(args['pgbench-seconds'] ?? (args.quick ? 3 : 8)),
  progress: (m) => process.stderr.write(`  … ${m}\n`),
  native: null,
}

const rows = []
const started = new Date()
const loadStart = os.loadavg()[0]

function na(section, name, target, reason) {
  rows.push({section, name, value: null, unit: '', target, status: 'n/a', note: reason})
}

try {
  ctx.native = await loadNative()
  if (ctx.native.missing.length) ctx.progress(`native library lacks: ${ctx.native.missing.join(', ')}`)
} catch (e) {
  ctx.nativeError = String(e.message ?? e)
}

async function section(name, fn, targets) {
  if (!want(name)) return
  process.stderr.write(`[bench] ${name}\n`)
  try {
    if (ctx.nativeError && name !== 'pg') throw new Error(ctx.nativeError)
    rows.push(...(await fn(ctx)))
  } catch (e) {
    const reason = String(e?.message ?? e).split('\n')[0]
    process.stderr.write(`[bench] ${name}: ${reason}\n`)
    if (process.env.HESSRA_BENCH_DEBUG) process.stderr.write(`${e?.stack}\n`)
    for (const [n, t] of targets) na(name, n, t, reason)
  }
}

await section('engine', async (c) => (await import('./sections/engine.mjs')).engineSection(c), [
  ['uncached verify / crypto floor', '≤ 1.15'],
  ['speedup vs biscuit-wasm', '≥ 15'],
  ['cached re-verify (Token.verifyWithConfig)', '≤ 5'],
])
await section('cli', async (c) => (await import('./sections/cli.mjs')).cliSection(c), [['hessra verify / node -e 0', '≤ 4']])
await section('pg', async (c) => (await import('./sections/pg.mjs')).pgSection(c), [
  ['2-arg per row / unsigned per row', '≤ 1.00'],
  ['3-arg per row / unsigned per row', '≤ 1.30'],
  ['hessra wrapped / unsigned wrapped', '≤ 1.05'],
  ['owner mode / unsigned owner', '≤ 1.20'],
  ['pgbench TPS per-row policy / unsigned twin', '≥ 0.95'],
  ['pgbench TPS owner / unsigned owner', '≥ 0.85'],
  ['per-backend cache memory', '≤ 2 MB'],
])
await section('app', async (c) => (await import('./sections/app.mjs')).appSection(c), [['example app req/s, Hessra / unsigned', '≥ 0.90']])
await section('render', async (c) => (await import('./sections/render.mjs')).renderSection(c), [
  ['  verify, 4× the repetitions, same text', '≤ 1.5'],
  ['  inspect, 4× the repetitions, same text', '≤ 1.5'],
])
await section('rls', async (c) => (await import('./sections/rls-index.mjs')).rlsIndexSection(c), [
  ['generated policy / no-RLS floor', '≤ 1.5'],
  ['per-row check / generated policy', '≥ 50'],
])

// ---- output
function fmtValue(r) {
  if (r.value === null || r.value === undefined) return 'n/a'
  if (r.unit === 'µs') return fmtUs(r.value)
  if (r.unit === 'ms') return `${r.value.toFixed(r.value >= 100 ? 0 : 1)} ms`
  if (r.unit === '×') return `${r.value.toFixed(2)}×`
  if (r.unit === 'MB') return `${r.value.toFixed(2)} MB`
  if (r.unit === 'tps') return `${r.value.toFixed(0)} tps`
  return `${typeof r.value === 'number' ? Number(r.value.toPrecision(4)) : r.value} ${r.unit}`.trim()
}
const mark = (s) => (s === 'met' ? 'met' : s === 'missed' ? 'MISSED' : s === 'n/a' ? 'n/a' : '')

const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
const header = ['section', 'figure', 'value', 'target', 'status', 'notes']
const table = rows.map((r) => [r.section, r.name, fmtValue(r), r.target ?? '', mark(r.status), r.note ?? ''])
const widths = header.map((h, i) => Math.min(i === 5 ? 200 : 60, Math.max(h.length, ...table.map((t) => String(t[i]).length))))
const line = (cells) => cells.map((c, i) => (i === 2 ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join('  ').trimEnd()
const loadEnd = os.loadavg()[0]
const {CLOCK} = await import('./lib/stats.mjs')
console.log(`\nhessra benchmark — ${started.toISOString()} — ${cpu}, ${os.cpus().length} CPUs, node ${process.version}, ${os.platform()} ${os.release()}`)
console.log(`load average ${loadStart.toFixed(1)} at start, ${loadEnd.toFixed(1)} at end; in-process figures use ${CLOCK === 'cpu' ? 'process CPU time (HESSRA_BENCH_CLOCK=wall for wall clock; wall figures are in the notes and results.json)' : 'wall-clock time'}; CLI and PostgreSQL figures are wall-clock`)
console.log(line(header))
console.log(line(widths.map((w) => '-'.repeat(w))))
for (const t of table) console.log(line(t))
const met = rows.filter((r) => r.status === 'met').length
const missed = rows.filter((r) => r.status === 'missed')
const nas = rows.filter((r) => r.status === 'n/a')
console.log(`\ntargets: ${met} met, ${missed.length} missed${missed.length ? ` (${missed.map((r) => r.name.trim()).join('; ')})` : ''}, ${nas.length} n/a`)

const json = {
  generated: started.toISOString(),
  command: `npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`,
  machine: {cpu, cpus: os.cpus().length, memory_mb: Math.round(os.totalmem() / 1048576), platform: `${os.platform()} ${os.release()}`, node: process.version, openssl_node: process.versions.openssl, load_average_start: loadStart, load_average_end: loadEnd},
  clock: {in_process: CLOCK, cli: 'wall', pg: 'wall'},
  options: {quick: ctx.quick, rows: ctx.rows, pgbench_seconds: ctx.pgbenchSeconds},
  rows,
  summary: {met, missed: missed.map((r) => r.name.trim()), na: nas.map((r) => ({name: r.name.trim(), reason: r.note}))},
}
writeFileSync(join(ROOT, 'bench', 'results.json'), JSON.stringify(json, null, 2) + '\n')
console.log(`written: bench/results.json`)
