/**
 * One verifier, three front ends: the same table of cases (test/data/verify-agreement.json) run through
 * the CLI (`hessra verify --json`), the library (`verifyToken`), the C ABI (`hessra_verify`, and the seed
 * `hessra_config_verify_token_string` where it can say the same thing) and the PostgreSQL extension
 * (`hessra_verify_token`, `hessra_explain` on a throwaway cluster), with one configuration file. Every
 * front must give the status the table expects.
 *
 * Needs PostgreSQL server binaries + headers, make, a C compiler and the native library; installs the
 * extension (run under the pg lock, as every suite under test/pg). Does not skip.
 */
import {strict as assert} from 'node:assert'
import {chmodSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import koffi from 'koffi'
import pg from 'pg'

import {loadConfig, type LoadedConfig} from '../../src/config/index.js'
import {generateKeyPair} from '../../src/keys.js'
import {libraryPath, type KeyPair} from '../../src/native/binding.js'
import {recordingProgress} from '../../src/pg/progress.js'
import {sandboxStart, sandboxStop, type SandboxStartResult} from '../../src/pg/sandbox.js'
import {attestToken, mintHessra} from '../../src/tokens/devkit.js'
import {verifyToken} from '../../src/tokens/verify.js'
import {cli, json, requireNative, ROOT, tempDir} from '../helpers.js'

interface Case {
  name: string
  token: string
  subject: string | null
  resource: string
  operation: string
  /** null: not given (the configuration's leeway applies) */
  leeway: number | null
  status: 'valid' | 'denied' | 'expired' | 'invalid'
}

const TABLE = JSON.parse(readFileSync(join(ROOT, 'test', 'data', 'verify-agreement.json'), 'utf8')) as {cases: Case[]}

/** What the extension can say: true/false, and hessra_explain's kind (the engine's result code). */
function extensionAnswer(status: Case['status']): string {
  if (status === 'valid') return 'allowed'
  if (status === 'expired') return 'denied (expired)'
  return 'denied (verification_failed)' // denied and invalid share a result code
}

/** The C ABI, declared here from hessra_ffi.h (not through the library's binding); declared once. */
let abiFns: ReturnType<typeof declareAbi> | undefined
function cAbi() {
  abiFns ??= declareAbi()
  return abiFns
}

function declareAbi() {
  const lib = koffi.load(libraryPath())
  koffi.opaque('AgreementConfig')
  koffi.struct('AgreementRequest', {
    subject: 'const char *',
    resource: 'const char *',
    operation: 'const char *',
    domain: 'const char *',
    prefix: 'const char *',
    now: 'int64_t',
    leeway_seconds: 'int64_t',
    service_chain_json: 'const char *',
    component: 'const char *',
  })
  const fromFile = lib.func('int hessra_config_from_file(const char *path, _Out_ AgreementConfig **out)')
  const free = lib.func('void hessra_config_free(AgreementConfig *config)')
  const verify = lib.func(
    'int hessra_verify(AgreementConfig *config, void *key, const char *key_id, const uint8_t *token, size_t len, const AgreementRequest *request, _Out_ void **out_json, void *out_error)',
  )
  const seed = lib.func('int hessra_config_verify_token_string(AgreementConfig *config, const char *token, const AgreementRequest *request, void *out_error)')
  const stringFree = lib.func('void hessra_string_free(void *s)')
  return {fromFile, free, verify, seed, stringFree}
}

describe('one verifier: CLI, library, C ABI and extension agree', function () {
  this.timeout(15 * 60_000)

  let dir: string
  let configPath: string
  let loaded: LoadedConfig
  let sb: SandboxStartResult
  let admin: pg.Client
  const keys: KeyPair[] = []
  const tokens: Record<string, string> = {}

  before(async () => {
    requireNative()
    dir = tempDir('hessra-agreement-')
    chmodSync(dir, 0o755)
    const root = generateKeyPair('ed25519')
    const other = generateKeyPair('ed25519')
    const node = generateKeyPair('ed25519')
    keys.push(root, other, node)
    const text = (kp: KeyPair) => {
      const p = kp.publicKey()
      try {
        return p.toText()
      } finally {
        p.dispose()
      }
    }
    const chain = [{component: 'auth', public_key: text(node)}]
    configPath = join(dir, 'hessra.json')
    writeFileSync(
      configPath,
      JSON.stringify({version: 1, default_key: 'dev', keys: [{id: 'dev', public_key: text(root)}], leeway_seconds: 120, service_chains: {orders: chain}}),
    )
    chmodSync(configPath, 0o644)
    loaded = await loadConfig({configPath})

    const now = Math.floor(Date.now() / 1000)
    const mint = (privateKey: KeyPair, expiresAt: number, resource = 'documents', serviceNodes: typeof chain = []) =>
      mintHessra({privateKey, subject: 'alice', resource, operation: 'read', expiresAt, serviceNodes})
    tokens.valid = mint(root, now + 3600)
    tokens.recent = mint(root, now - 20)
    tokens.old = mint(root, now - 3600)
    tokens.forged = mint(other, now + 3600)
    tokens.unattested = mint(root, now + 3600, 'orders', chain)
    tokens.chained = attestToken(tokens.unattested, {key: text(root), nodeKey: node, component: 'auth', resource: 'orders'})

    sb = await sandboxStart({dir: join(dir, 'sandbox'), loaded, progress: recordingProgress()})
    admin = new pg.Client({connectionString: sb.url})
    await admin.connect()
  })

  after(async () => {
    await admin?.end().catch(() => {})
    if (sb) await sandboxStop({dir: sb.dir, progress: recordingProgress()})
    for (const k of keys) k.dispose()
  })

  it('the table covers every status', () => {
    assert.deepEqual([...new Set(TABLE.cases.map((c) => c.status))].sort(), ['denied', 'expired', 'invalid', 'valid'])
  })

  for (const c of TABLE.cases) {
    it(c.name, async () => {
      const token = tokens[c.token]
      assert.ok(token, `no token "${c.token}"`)

      // the CLI
      const args = ['verify', token, '--config', configPath, '--resource', c.resource, '--operation', c.operation, '--json']
      if (c.subject !== null) args.push('--subject', c.subject)
      if (c.leeway !== null) args.push('--leeway', String(c.leeway))
      const r = cli(args)
      const out = json<{status: string; failed_checks: unknown[]; expires_at: number | null}>(r.stdout)
      assert.equal(out.status, c.status, `CLI: ${r.stdout}${r.stderr}`)
      assert.equal(r.status, c.status === 'valid' ? 0 : 1, 'CLI exit code')
      if (c.status === 'invalid') assert.equal(out.expires_at, null, 'no unverified expiry')
      if (c.status === 'denied') assert.ok(out.failed_checks.length > 0, 'failed checks listed')

      // the library
      const lib = verifyToken(token, {config: loaded, subject: c.subject, resource: c.resource, operation: c.operation, leewaySeconds: c.leeway})
      assert.equal(lib.status, c.status, `library: ${lib.reason}`)

      // the C ABI
      const abi = cAbi()
      const cfg: unknown[] = [null]
      assert.equal(abi.fromFile(configPath, cfg), 0)
      try {
        const req = {subject: c.subject, resource: c.resource, operation: c.operation, domain: null, prefix: null, now: 0, leeway_seconds: c.leeway ?? -1, service_chain_json: null, component: null}
        const outJson: unknown[] = [null]
        const bytes = Buffer.from(token)
        abi.verify(cfg[0], null, null, bytes, bytes.length, req, outJson, null)
        const outcome = JSON.parse(koffi.decode(outJson[0], 'char', -1) as string) as {status: string}
        abi.stringFree(outJson[0])
        assert.equal(outcome.status, c.status, 'C ABI hessra_verify')
        // the seed call reads leeway 0 as "not given", so it can only say the rest
        if (c.leeway === null) {
          const rc = abi.seed(cfg[0], token, {...req, leeway_seconds: 0}, null) as number
          const want = c.status === 'valid' ? 0 : c.status === 'expired' ? 8 : 3
          assert.equal(rc, want, 'C ABI hessra_config_verify_token_string')
        }
      } finally {
        abi.free(cfg[0])
      }

      // the extension
      await admin.query(c.leeway === null ? 'RESET hessra.leeway_seconds' : `SET hessra.leeway_seconds = ${c.leeway}`)
      const q = await admin.query<{ok: boolean; why: string}>(
        'SELECT hessra_verify_token($1, $2, $3, $4) AS ok, hessra_explain($1, $2, $3, $4) AS why',
        [token, c.subject, c.resource, c.operation],
      )
      assert.equal(q.rows[0].ok, c.status === 'valid', `extension: ${q.rows[0].why}`)
      assert.ok(q.rows[0].why.startsWith(extensionAnswer(c.status)), `extension explain: ${q.rows[0].why}`)
    })
  }
})
