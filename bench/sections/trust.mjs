// Trust in the database (issue 22): what 100,000 revoked ids in the extension's table hessra_revocations
// cost a verification, uncached and cached, against an empty table, in backend CPU time; the memory a
// backend holds for them; and `hessra revoke --database --from-file` of 100,000 ids in one transaction.
// A throwaway cluster running this checkout's extension (bench/lib/pg.mjs: a private installation tree).

import {createHash} from 'node:crypto'
import {chmodSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'

import {ROOT} from '../lib/native.mjs'
import {processCpuNs, rssAnonKb, sh, withBenchCluster} from '../lib/pg.mjs'
import {median} from '../lib/stats.mjs'

const REVOKED = 100_000

function must(r, what) {
  if (r.status !== 0) throw new Error(`${what} failed: ${`${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-2).join(' | ')}`)
  return r
}

/** n fake revocation ids (64-byte, like Ed25519 block signatures), none of them a real token's. */
const fakeIds = (n, salt) => Array.from({length: n}, (_, i) => createHash('sha512').update(`${salt}:${i}`).digest('hex'))

export async function trustSection(ctx) {
  const rows = []
  const {binding, api} = ctx.native ?? {}
  if (!binding) throw new Error(ctx.nativeError ?? 'native library unavailable')
  if (process.platform !== 'linux') throw new Error('the PostgreSQL benchmark needs Linux')
  const reps = ctx.quick ? 3 : 9
  const nTokens = ctx.quick ? 400 : 700 // fits the default cache (1024 entries, 2 MB): the cached runs hit
  const conf = ['shared_buffers = 128MB', 'max_parallel_workers_per_gather = 0', 'jit = off']

  return withBenchCluster({prefix: 'hessra-bench-trust-', conf}, async ({dir, url, connect, forget}) => {
    const admin = await connect()
    const version = (await admin.query('SHOW server_version')).rows[0].server_version

    const kp = binding.KeyPair.generate('ed25519')
    const cfgPath = join(dir, 'hessra.json')
    writeFileSync(cfgPath, JSON.stringify({version: 1, default_key: 'bench', keys: [{id: 'bench', public_key: kp.publicKey().toText()}]}), {mode: 0o644})
    chmodSync(cfgPath, 0o644)
    await admin.query('CREATE EXTENSION hessra')
    const extVersion = (await admin.query("SELECT extversion FROM pg_extension WHERE extname = 'hessra'")).rows[0].extversion
    await admin.query(`ALTER SYSTEM SET hessra.config_path = '${cfgPath.replace(/'/g, "''")}'`)
    await admin.query('SELECT pg_reload_conf()')

    // distinct tokens (different subjects): the per-statement memo cannot answer, the engine does
    const exp = Math.floor(Date.now() / 1000) + 3 * 3600
    const tokens = Array.from({length: nTokens}, (_, i) => binding.mintHessraToken(kp, {subject: `user_${i}`, resource: 'docs', operation: 'read', expiresAt: exp}))
    await admin.query('CREATE TABLE bench_tokens (subject text, token text)')
    await admin.query("INSERT INTO bench_tokens SELECT 'user_' || (o - 1), t FROM unnest($1::text[]) WITH ORDINALITY AS u(t, o)", [tokens])
    const victim = api.inspectToken(tokens[0]).revocation_ids[0]
    const q = "SELECT count(*) FILTER (WHERE hessra_verify_token(token, subject, 'docs')) AS n FROM bench_tokens"

    /** Backend CPU per statement (median), uncached (hessra.cache_size = 0: every call checks signatures and probes) and cached. */
    const measure = async (expectValid) => {
      const out = {}
      for (const [mode, cacheSize] of [['uncached', 0], ['cached', 1024]]) {
        const c = await connect()
        await c.query(`SET hessra.cache_size = ${cacheSize}`)
        const pid = (await c.query('SELECT pg_backend_pid() AS p')).rows[0].p
        const got = Number((await c.query(q)).rows[0].n) // warm: configuration, cache
        if (got !== expectValid) throw new Error(`${got} of ${nTokens} tokens verified, expected ${expectValid}: refusing to report timings`)
        const cpu = []
        const wall = []
        for (let r = 0; r < reps; r++) {
          const c0 = processCpuNs(pid)
          const t0 = performance.now()
          await c.query(q)
          wall.push(performance.now() - t0)
          cpu.push((processCpuNs(pid) - c0) / 1e6)
        }
        out[mode] = {cpu: median(cpu), wall: median(wall)}
        await c.end()
        forget(c)
      }
      return out
    }
    /** RssAnon growth of a fresh backend verifying every token through a full cache. */
    const memory = async () => {
      const c = await connect()
      const pid = (await c.query('SELECT pg_backend_pid() AS p')).rows[0].p
      await c.query("SELECT hessra_verify_token($1, 'user_0', 'docs')", [tokens[1]])
      const before = rssAnonKb(pid)
      await c.query(q)
      await c.query(q)
      const after = rssAnonKb(pid)
      await c.end()
      forget(c)
      return after - before
    }

    ctx.progress(`trust: ${nTokens} tokens, empty revocation table`)
    const none = await measure(nTokens)
    const memNone = await memory()

    // 2. 100,000 ids, the CLI's bulk path: one transaction
    const list = join(dir, 'revoked.txt')
    writeFileSync(list, fakeIds(REVOKED - 1, 'bench').concat(victim).join('\n') + '\n')
    ctx.progress(`trust: hessra revoke --from-file (${REVOKED} ids)`)
    const t0 = performance.now()
    const rv = sh(process.execPath, [join(ROOT, 'bin', 'run.js'), 'revoke', '--from-file', list, '--database', url, '--json'], {env: {...process.env, NO_COLOR: '1'}})
    const bulkSeconds = (performance.now() - t0) / 1000
    must(rv, 'hessra revoke --from-file')
    const added = JSON.parse(rv.stdout).added
    if (added !== REVOKED) throw new Error(`hessra revoke added ${added} ids, expected ${REVOKED}`)
    await admin.query('VACUUM ANALYZE hessra_revocations')

    ctx.progress(`trust: ${nTokens} tokens, ${REVOKED} revoked ids`)
    const many = await measure(nTokens - 1) // the victim is refused
    const memMany = await memory()

    const ratio = (name, a, b, mode) => {
      const v = a[mode].cpu / b[mode].cpu
      rows.push({
        section: 'trust',
        name,
        value: v,
        unit: '×',
        target: '≤ 1.10',
        status: v <= 1.1 ? 'met' : 'missed',
        note: `backend CPU per statement of ${nTokens} verifications ${a[mode].cpu.toFixed(1)} / ${b[mode].cpu.toFixed(1)} ms (≈ ${((a[mode].cpu * 1000) / nTokens).toFixed(1)} / ${((b[mode].cpu * 1000) / nTokens).toFixed(1)} µs each, medians of ${reps}); wall ${(a[mode].wall / b[mode].wall).toFixed(2)}×`,
      })
    }
    rows.push({
      section: 'trust',
      name: `uncached verification, PostgreSQL ${version}, hessra ${extVersion}, empty revocation table`,
      value: (none.uncached.cpu * 1000) / nTokens,
      unit: 'µs',
      note: `hessra_verify_token over ${nTokens} distinct tokens, backend CPU; revoked ids are looked up by primary key per block, never copied into the backend`,
    })
    ratio(`  uncached: ${REVOKED} revoked / none`, many, none, 'uncached')
    ratio(`  cached: ${REVOKED} revoked / none`, many, none, 'cached')
    const extraMb = Math.max(0, memMany - memNone) / 1024
    rows.push({
      section: 'trust',
      name: `  backend memory with ${REVOKED} revoked ids, beyond the cache`,
      value: extraMb,
      unit: 'MB',
      target: '≤ 1 MB',
      status: extraMb <= 1 ? 'met' : 'missed',
      note: `RssAnon growth verifying ${nTokens} tokens through the cache: ${memMany} kB with ${REVOKED} revoked ids, ${memNone} kB with none (the cache's own budget is 2 MB)`,
    })
    rows.push({
      section: 'trust',
      name: `  hessra revoke --database --from-file, ${REVOKED} ids`,
      value: bulkSeconds,
      unit: 's',
      target: '≤ 10 s',
      status: bulkSeconds <= 10 ? 'met' : 'missed',
      note: 'one transaction, the CLI process included (start, parse, connect, insert, commit)',
    })
    return rows
  })
}
