/**
 * Issue 26 against a real throwaway cluster (the sandbox): `pg status --json` in snake_case, a truthful
 * "keys" line for a superuser, and a connection that names no user when USER is unset (item 7).
 */
import {strict as assert} from 'node:assert'
import {chmodSync, writeFileSync} from 'node:fs'
import {userInfo} from 'node:os'
import {join} from 'node:path'

import pg from 'pg'

import {loadConfig} from '../../src/config/index.js'
import {generateKeyPair} from '../../src/keys.js'
import {recordingProgress} from '../../src/pg/progress.js'
import {sandboxStart, sandboxStop, type SandboxStartResult} from '../../src/pg/sandbox.js'
import {cli, json, requireNative, tempDir} from '../helpers.js'

describe('pg: first hour (issue 26)', function () {
  this.timeout(15 * 60_000)
  let dir: string
  let sb: SandboxStartResult
  const url = (db: string) => sb.url.replace(/\/postgres$/, `/${db}`)
  const sql = async (...statements: string[]) => {
    const c = new pg.Client({connectionString: sb.url})
    await c.connect()
    try {
      for (const q of statements) await c.query(q)
    } finally {
      await c.end()
    }
  }

  before(async () => {
    requireNative()
    dir = tempDir('hessra-pg-first-')
    chmodSync(dir, 0o755) // the server's OS user must reach the sandbox inside
    const configPath = join(dir, 'hessra-cli.json')
    const kp = generateKeyPair('ed25519')
    const pub = kp.publicKey()
    writeFileSync(configPath, JSON.stringify({version: 1, default_key: 'first', keys: [{id: 'first', public_key: pub.toText()}]}))
    pub.dispose()
    kp.dispose()
    sb = await sandboxStart({dir: join(dir, 'sandbox'), loaded: await loadConfig({configPath}), progress: recordingProgress()})
  })

  after(async () => {
    if (sb) await sandboxStop({dir: sb.dir, progress: recordingProgress()})
  })

  it('3. pg status --json spells every field in snake_case', () => {
    const r = cli(['pg', 'status', '--database', sb.url, '--json'])
    assert.equal(r.status, 0, r.stdout + r.stderr)
    const doc = json<{config: Record<string, unknown>; extension: Record<string, unknown>}>(r.stdout)
    assert.equal(doc.config.default_key, 'first')
    assert.ok('default_version' in doc.extension)
    const camel = [...r.stdout.matchAll(/"([a-z]+[A-Z][A-Za-z]*)":/g)].map((m) => m[1])
    assert.deepEqual(camel, [], 'no camelCase field')
  })

  it('4. a superuser whose configuration cannot be read is told why, not "needs a superuser"', async () => {
    await sql('CREATE DATABASE hessra_first_unread', "ALTER DATABASE hessra_first_unread SET hessra.config_path = '/nonexistent/hessra.json'")
    await sql('CREATE EXTENSION IF NOT EXISTS hessra')
    const c = new pg.Client({connectionString: url('hessra_first_unread')})
    await c.connect()
    await c.query('CREATE EXTENSION hessra')
    await c.end()
    const r = cli(['pg', 'status', '--database', url('hessra_first_unread')])
    assert.match(r.stdout, /keys: +unknown \(cannot read \/nonexistent\/hessra\.json/, r.stdout)
    assert.doesNotMatch(r.stdout, /needs a superuser/)
  })

  it('7. with USER unset and no user in the URL, the OS user name is used, as libpq does', async () => {
    const me = userInfo().username
    await sql(`CREATE ROLE "${me.replaceAll('"', '""')}" SUPERUSER LOGIN`)
    const noUser = sb.url.replace(/\/\/[^@/]*@/, '//')
    assert.ok(!noUser.includes('@'), noUser)
    const r = cli(['pg', 'status', '--database', noUser, '--json'], {env: {USER: undefined, PGUSER: undefined, LOGNAME: undefined}})
    assert.doesNotMatch(r.stdout + r.stderr, /no PostgreSQL user name specified/)
    assert.equal(json<{server: {user: string}}>(r.stdout).server.user, me, r.stdout + r.stderr)
  })
})
