/**
 * The hostile-input corpus (test/corpus, shared with the C ABI and SQL runners) through the CLI:
 * every input must give its documented exit code, within a bound, without echoing the token.
 */
import {strict as assert} from 'node:assert'
import {execFile, spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {BIN, requireNative, ROOT, sandboxHome, tempDir} from './helpers.js'

const run = promisify(execFile)

interface CorpusCase {
  name: string
  kind: 'token' | 'key'
  encoding: 'text' | 'binary'
  file: string
  key: string | null
  subject: string | null
  resource: string | null
  operation: string | null
  c_codes: number[]
  cli_exit: number
  max_ms: number
}

interface Manifest {
  root_key: string
  cli_exit_for_code: Record<string, number>
  cases: CorpusCase[]
}

/**
 * Exit codes the CLI may give for a case: one per accepted C result, plus two documented CLI
 * conveniences the C ABI does not have: whitespace anywhere in a token is stripped (tokens get
 * wrapped in terminals and YAML), and `--key` accepts a private key, using its public half.
 */
function acceptedExits(c: CorpusCase, m: Manifest, input: string): Set<number> {
  // For key cases the manifest's cli_exit assumes the key is refused; derive it from c_codes instead.
  const exits = new Set<number>(c.kind === 'token' ? [c.cli_exit] : [])
  for (const code of c.c_codes) {
    const exit = m.cli_exit_for_code[String(code)]
    if (exit !== undefined && !(c.kind === 'key' && code === 0)) exits.add(exit)
  }
  if (c.kind === 'key') {
    // A key that parses verifies the control token only if it is the key that signed it.
    const parses = c.c_codes.includes(0) || /PRIVATE KEY/.test(input)
    if (parses) exits.add(input.trim() === m.root_key ? 0 : 1)
  } else if (c.encoding === 'text' && /\S\s+\S/.test(input.trim())) {
    exits.add(0)
  }
  return exits
}

async function verifyExit(args: string[], home: string): Promise<{status: number; output: string; ms: number}> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('HESSRA_')) env[k] = v
  if (process.env.HESSRA_FFI_LIB) env.HESSRA_FFI_LIB = process.env.HESSRA_FFI_LIB
  Object.assign(env, {HOME: home, NO_COLOR: '1'})
  const t0 = Date.now()
  try {
    const r = await run(process.execPath, [BIN, 'verify', ...args], {cwd: home, env, timeout: 60_000, maxBuffer: 1 << 24})
    return {status: 0, output: r.stdout + r.stderr, ms: Date.now() - t0}
  } catch (error) {
    const e = error as {code?: number | string; stdout?: string; stderr?: string}
    if (typeof e.code !== 'number') throw error
    return {status: e.code, output: `${e.stdout ?? ''}${e.stderr ?? ''}`, ms: Date.now() - t0}
  }
}

describe('hostile-input corpus through the CLI', function () {
  this.timeout(600_000)
  let dir: string
  let manifest: Manifest

  before(() => {
    requireNative()
    dir = tempDir('hessra-corpus-cli-')
    const gen = spawnSync(process.execPath, [join(ROOT, 'test', 'corpus', 'generate.mjs'), dir], {encoding: 'utf8'})
    assert.equal(gen.status, 0, `corpus generation failed: ${gen.stderr}`)
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest
  })

  it('gives every input its documented exit code, without echoing it', async () => {
    const control = join(dir, 'tokens', 'control-valid.txt')
    const home = sandboxHome()
    const failures: string[] = []
    let slowest = 0
    const queue = [...manifest.cases]
    const worker = async () => {
      for (let c = queue.shift(); c; c = queue.shift()) {
        const file = join(dir, c.file)
        const args =
          c.kind === 'key'
            ? ['--token-file', control, '--key', file, '--subject', 'alice', '--resource', 'orders', '--operation', 'read']
            : ['--token-file', file, '--key', c.key ?? manifest.root_key, '--subject', c.subject ?? 'alice',
               '--resource', c.resource ?? 'orders', ...(c.operation ? ['--operation', c.operation] : [])]
        const r = await verifyExit(args, home)
        slowest = Math.max(slowest, r.ms)
        const want = acceptedExits(c, manifest, c.encoding === 'text' ? readFileSync(file, 'utf8') : '')
        if (!want.has(r.status)) failures.push(`${c.name}: exit ${r.status}, expected ${[...want].join(' or ')}`)
        if (c.kind === 'token' && c.encoding === 'text') {
          const text = readFileSync(file, 'utf8').trim()
          if (text.length >= 16 && r.output.includes(text)) failures.push(`${c.name}: the token appears in the output`)
        }
        if (r.status > 5) failures.push(`${c.name}: crashed (exit ${r.status})`)
      }
    }
    await Promise.all([worker(), worker(), worker()])
    console.log(`      corpus via CLI: ${manifest.cases.length} inputs, ${failures.length} failures, slowest ${slowest} ms`)
    assert.deepEqual(failures, [])
  })
})
