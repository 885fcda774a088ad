// Timing helpers: calibrated batches, repetitions interleaved across variants, medians.
//
// Every group of variants is measured side by side: for each repetition, every variant runs one
// batch in turn (the order rotates), so drift in machine load hits all of them alike. The figure
// reported is the median over repetitions of the per-operation time of a batch.

import {performance} from 'node:perf_hooks'

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const n = s.length
  if (n === 0) return NaN
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
}

export function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const i = Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))
  return s[i]
}

/** Runs fn n times; returns [wall µs per call, process CPU µs per call]. */
function batch(fn, n) {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  for (let i = 0; i < n; i++) fn(i)
  const wall = ((performance.now() - t0) * 1000) / n
  const c = process.cpuUsage(c0)
  return [wall, (c.user + c.system) / n]
}

/**
 * Which clock the figures use: "cpu" (process CPU time: robust when other processes compete for the
 * cores, as on a shared 2-core machine) or "wall". Set with HESSRA_BENCH_CLOCK.
 */
export const CLOCK = process.env.HESSRA_BENCH_CLOCK === 'wall' ? 'wall' : 'cpu'

/** Iterations so one batch lasts about batchMs. */
function calibrate(fn, batchMs) {
  let n = 1
  for (;;) {
    const t0 = performance.now()
    for (let i = 0; i < n; i++) fn(i)
    const ms = performance.now() - t0
    if (ms >= batchMs / 4 || n >= 1 << 24) {
      return Math.max(1, Math.round((n * batchMs) / Math.max(ms, 0.001)))
    }
    n *= 4
  }
}

/**
 * variants: {name: fn}. Returns {name: {us, min, p25, p75, reps, iterations}} (µs per call).
 */
export function sideBySide(variants, {reps = 9, batchMs = 60, warmupMs = 100} = {}) {
  const names = Object.keys(variants)
  const iters = {}
  for (const name of names) {
    const fn = variants[name]
    // warm-up (JIT, caches), then calibrate
    const t0 = performance.now()
    while (performance.now() - t0 < warmupMs) fn(0)
    iters[name] = calibrate(fn, batchMs)
  }
  const samples = Object.fromEntries(names.map((n) => [n, {wall: [], cpu: []}]))
  for (let r = 0; r < reps; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + r) % names.length]
      const [w, c] = batch(variants[name], iters[name])
      samples[name].wall.push(w)
      samples[name].cpu.push(c)
    }
  }
  const out = {}
  for (const name of names) {
    const s = samples[name][CLOCK]
    out[name] = {
      us: median(s),
      min: Math.min(...s),
      p25: quantile(s, 0.25),
      p75: quantile(s, 0.75),
      wall_us: median(samples[name].wall),
      cpu_us: median(samples[name].cpu),
      reps,
      iterations: iters[name],
    }
  }
  return out
}

export function fmtUs(us) {
  if (us === null || us === undefined || Number.isNaN(us)) return 'n/a'
  if (us >= 100000) return `${(us / 1000).toFixed(0)} ms`
  if (us >= 10000) return `${(us / 1000).toFixed(1)} ms`
  if (us >= 100) return `${us.toFixed(0)} µs`
  if (us >= 10) return `${us.toFixed(1)} µs`
  return `${us.toFixed(2)} µs`
}
