/**
 * `hessra pg install --database` on a server where the extension already exists and hessra.config_path
 * was never set: the CLI's connection is a fresh session that has not loaded the library, so
 * hessra.config_path is unknown there, and PostgreSQL 15/16 refuse `ALTER SYSTEM SET` for it unless
 * the CLI loads the library first (issue 13).
 *
 * Uses its own sandbox started without a hessra configuration, so nothing sets the parameter (the
 * sandbox of integration.test.ts sets it, which makes it a known placeholder in every session).
 */
import {strict as assert} from 'node:assert'
import {chmodSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import pg from 'pg'

import {generateKeyPair} from '../../src/keys.js'
import {recordingProgress} from '../../src/pg/progress.js'
import {sandboxStart, sandboxStop, type SandboxStartResult} from '../../src/pg/sandbox.js'
import {cli, json, requireNative, tempDir} from '../helpers.js'

describe('pg install: hessra.config_path from a fresh session', function () {
  this.timeout(15 * 60_000)

  let dir: string
  let sb: SandboxStartResult

  before(async () => {
    requireNative()
    dir = tempDir('hessra-pg-fresh-')
    chmodSync(dir, 0o755) // the server's OS user must reach the sandbox inside
    sb = await sandboxStart({dir: join(dir, 'sandbox'), loaded: null, progress: recordingProgress()})
  })

  after(async () => {
    if (sb) await sandboxStop({dir: sb.dir, progress: recordingProgress()})
  })

  /** Runs the statements in one new session; returns the rows of each. */
  const session = async (...sql: string[]) => {
    const c = new pg.Client({connectionString: sb.url})
    await c.connect()
    try {
      const out: Record<string, unknown>[][] = []
      for (const q of sql) out.push((await c.query(q)).rows)
      return out
    } finally {
      await c.end()
    }
  }
  const query = async (sql: string) => (await session(sql))[0]

  it('sets it with ALTER SYSTEM, and new sessions use it', async () => {
    assert.equal(sb.configPath, null, 'the sandbox must start without hessra.config_path for this test')
    assert.deepEqual(await query("SELECT extname FROM pg_extension WHERE extname = 'hessra'"), [{extname: 'hessra'}])
    assert.deepEqual(await query("SELECT current_setting('hessra.config_path', true) AS p"), [{p: null}], 'a fresh session does not know the parameter')

    const kp = generateKeyPair('ed25519')
    const pub = kp.publicKey()
    const configPath = join(dir, 'hessra-cli.json')
    writeFileSync(configPath, JSON.stringify({version: 1, default_key: 'fresh', keys: [{id: 'fresh', public_key: pub.toText()}]}))
    pub.dispose()
    kp.dispose()
    const serverConfig = join(sb.dir, 'server-hessra.json')
    const r = cli(['pg', 'install', '--database', sb.url, '--skip-build', '--server-config', serverConfig, '--json'], {env: {HESSRA_CONFIG: configPath}})
    assert.equal(r.status, 0, r.stdout + r.stderr)
    const out = json<{database: {created: boolean; config_path_set: boolean}}>(r.stdout)
    assert.equal(out.database.created, false)

    assert.equal(out.database.config_path_set, true)
    const [setting, , stats] = await session(
      "SELECT current_setting('hessra.config_path', true) AS p",
      'SELECT hessra_reload_config()',
      'SELECT config_loaded FROM hessra_stats()',
    )
    assert.deepEqual(setting, [{p: serverConfig}])
    assert.deepEqual(stats, [{config_loaded: true}])
  })
})
