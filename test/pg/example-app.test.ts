/**
 * examples/documents/README.md runs as written (issue 25): its shell block, from the repository root,
 * with the server on a free port instead of 8080 — a sandbox cluster, the example's schema, generated
 * policies, the node:http server, and curl requests with alice's and bob's tokens. Each answer is
 * checked: alice and bob see exactly their own documents, no token sees none, bob may insert his own
 * document but not alice's, alice (read only) may insert nothing.
 *
 * Installs the extension into the local PostgreSQL (run under the pg lock, as every suite under test/pg).
 */
import {strict as assert} from 'node:assert'
import {spawn} from 'node:child_process'
import {chmodSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {recordingProgress} from '../../src/pg/progress.js'
import {sandboxStop} from '../../src/pg/sandbox.js'
import {freePort, requireNative, ROOT, tempDir} from '../helpers.js'

/** The README's sh block ("## Run it"). */
function runBlock(): string {
  const readme = readFileSync(join(ROOT, 'examples', 'documents', 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Run it'))
  return /```sh\n([\s\S]*?)```/.exec(section)![1]
}

describe('examples/documents: the README runs as written', function () {
  this.timeout(15 * 60_000)
  let tmp: string
  let child: ReturnType<typeof spawn> | undefined

  before(() => requireNative())

  after(async () => {
    // a failed run may leave its server (a background job of the script) and its sandbox behind
    if (child?.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM')
      } catch {
        // already gone
      }
    }
    for (const d of tmp ? readdirSync(tmp) : []) {
      await sandboxStop({dir: join(tmp, d, 'sandbox'), progress: recordingProgress()}).catch(() => {})
    }
  })

  it('serves each token its own documents and lets the policies decide writes', async () => {
    tmp = tempDir('hessra-example-app-')
    chmodSync(tmp, 0o755) // TMPDIR of the block: the sandbox's server (the postgres OS user, as root) must reach it
    const port = await freePort()
    const script = runBlock().replaceAll('8080', String(port))
    assert.ok(script.includes(`PORT=${port} node examples/documents/server.mjs &`), 'the block starts the server')
    const {stdout, stderr, status} = await new Promise<{stdout: string; stderr: string; status: number | null}>((resolve) => {
      const env: Record<string, string> = {...(process.env as Record<string, string>), TMPDIR: tmp, NO_COLOR: '1'} // HOME stays: cargo and rustup live there
      delete env.HESSRA_CONFIG
      child = spawn('bash', ['-e', '-c', script], {cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe']})
      let out = ''
      let err = ''
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
      const timer = setTimeout(() => process.kill(-child!.pid!, 'SIGKILL'), 12 * 60_000)
      child.on('close', (code) => {
        clearTimeout(timer)
        resolve({stdout: out, stderr: err, status: code})
      })
    })
    assert.equal(status, 0, `the block failed:\n${stdout}\n${stderr}`)
    const answers = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as {documents?: {id: number; owner: string}[]; document?: {id: number; owner: string}; error?: string})
    assert.equal(answers.length, 6, stdout)
    const ids = (a: (typeof answers)[number]) => a.documents?.map((d) => d.id)
    assert.deepEqual(ids(answers[0]), [1, 2], 'alice sees her two documents')
    assert.deepEqual(ids(answers[1]), [3, 4], "bob sees his two")
    assert.deepEqual(ids(answers[2]), [], 'no token sees none')
    assert.deepEqual(answers[3].document, {id: 5, owner: 'bob', title: 'bob: new'}, 'bob inserts his own document')
    assert.match(answers[4].error ?? '', /does not allow/, 'bob cannot insert a document for alice')
    assert.match(answers[5].error ?? '', /does not allow/, 'alice (read only) cannot insert')
    assert.doesNotMatch(stdout + stderr, /[A-Za-z0-9_-]{120,}/, 'no token is printed')
    assert.deepEqual(readdirSync(tmp), [], 'the block cleans up after itself')
  })
})
