// CLI start-up cost: `hessra verify` wall time against `node -e 0`, interleaved, medians.

import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'

import {ROOT} from '../lib/native.mjs'
import {median, quantile} from '../lib/stats.mjs'

export async function cliSection(ctx) {
  const {binding} = ctx.native
  const runs = ctx.quick ? 8 : 20
  const kp = binding.KeyPair.generate('ed25519')
  const pk = kp.publicKey().toText()
  const token = binding.mintHessraToken(kp, {subject: 'alice', resource: 'res1', operation: 'read', expiresAt: Math.floor(Date.now() / 1000) + 3600})
  // An empty directory and HOME, so no configuration file is found or parsed by either command.
  const dir = mkdtempSync(join(os.tmpdir(), 'hessra-bench-cli-'))
  const env = {PATH: process.env.PATH, HOME: dir, NO_COLOR: '1', LANG: 'C.UTF-8'}
  const cmds = {
    node: [process.execPath, ['-e', '0']],
    verify: [process.execPath, [join(ROOT, 'bin', 'run.js'), 'verify', token, '--key', pk, '--subject', 'alice', '--resource', 'res1', '--operation', 'read']],
    floor: [process.execPath, [join(ROOT, 'bench', 'lib', 'cli-floor.mjs'), token, pk, 'alice', 'res1', 'read']],
    verifyJson: [process.execPath, [join(ROOT, 'bin', 'run.js'), 'verify', token, '--key', pk, '--subject', 'alice', '--resource', 'res1', '--operation', 'read', '--json']],
  }
  const run = (name) => {
    const [cmd, args] = cmds[name]
    const t0 = performance.now()
    const r = spawnSync(cmd, args, {cwd: dir, env, encoding: 'utf8'})
    const ms = performance.now() - t0
    if (r.status !== 0) throw new Error(`${name} exited with ${r.status}: ${(r.stderr || r.stdout || '').trim().split('\n')[0]}`)
    return ms
  }
  try {
    for (const n of Object.keys(cmds)) run(n) // warm the page cache
    const samples = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]))
    for (let i = 0; i < runs; i++) for (const n of Object.keys(cmds)) samples[n].push(run(n))
    const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]))
    const ratio = m.verify / m.node
    const iqr = (k) => `IQR ${quantile(samples[k], 0.25).toFixed(0)}–${quantile(samples[k], 0.75).toFixed(0)} ms`
    ctx.progress('cli done')
    return [
      {section: 'cli', name: 'hessra verify (wall)', value: m.verify, unit: 'ms', note: `median of ${runs}, ${iqr('verify')}; --key, identity mode, no config file`},
      {section: 'cli', name: '  hessra verify --json (wall)', value: m.verifyJson, unit: 'ms', note: `${(m.verifyJson / m.node).toFixed(2)}× node -e 0`},
      {section: 'cli', name: '  diagnostic: node + koffi binding + verify, no oclif', value: m.floor, unit: 'ms', note: `${(m.floor / m.node).toFixed(2)}× node -e 0: bench/lib/cli-floor.mjs, what a fast path could reach`},
      {section: 'cli', name: '  node -e 0 (wall)', value: m.node, unit: 'ms', note: `median of ${runs}, ${iqr('node')}`},
      {section: 'cli', name: '  hessra verify / node -e 0', value: ratio, unit: '×', target: '≤ 4', status: ratio <= 4 ? 'met' : 'missed'},
    ]
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}
