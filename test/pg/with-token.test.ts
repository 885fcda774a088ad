/**
 * withToken() (src/db.ts) against a real throwaway cluster (scripts/pg-cluster.sh, the extension
 * installed with `make -C pg-plugin install`), directly and through PgBouncer in transaction pooling
 * mode (issue 25, item 4):
 *
 * - 300 requests, 16 at a time, alternating two subjects' tokens, through a pg.Pool of 4: each request
 *   sees exactly its own rows;
 * - afterwards no server connection keeps a token: every connection the requests used is checked
 *   out again, without withToken, and asked `current_setting('hessra.token', true)`;
 * - a throwing fn rolls back (its write is gone) and gives its client back; a successful one commits;
 * - the token text is in neither pg_stat_statements nor the server log (which logs every statement);
 * - directly: a ROLLBACK that fails (fn killed its own connection) does not hide fn's error and the pool
 *   discards that connection; a given pg.Client is used and left open; no token masks a session-level
 *   one; nested use and a caller's open transaction are refused; a client released inside a transaction
 *   does not get its work committed; a swallowed SQL error is TransactionAbortedError; identity tokens.
 *
 * Needs PostgreSQL server binaries + headers (and the pg_stat_statements module, postgresql-contrib),
 * pgbouncer, make, a C compiler and the native library. Installs the extension: run under the pg lock,
 * as every suite under test/pg. Does not skip.
 */
import {strict as assert} from 'node:assert'
import {spawnSync} from 'node:child_process'
import {chmodSync, chownSync, existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import pg from 'pg'

import {TransactionAbortedError, withToken} from '../../src/db.js'
import {UsageError} from '../../src/errors.js'
import {generateKeyPair} from '../../src/keys.js'
import type {KeyPair} from '../../src/native/binding.js'
import {generatePolicies} from '../../src/pg/policy.js'
import {mintHessra} from '../../src/tokens/devkit.js'
import {mintIdentityToken} from '../../src/tokens/identity.js'
import {freePort, requireNative, ROOT, tempDir} from '../helpers.js'

const CLUSTER = join(ROOT, 'scripts', 'pg-cluster.sh')
const ROWS = {alice: 3, bob: 5}
const SERVER_POOL = 2 // PgBouncer's server connections: fewer than the application pool's 4

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, {encoding: 'utf8', env, timeout: 10 * 60_000})
  if (r.error) throw r.error
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}`)
  return r.stdout
}

const asRoot = process.getuid?.() === 0
/** Files the cluster's and PgBouncer's OS user (postgres, when we are root) must read. */
function giveToPostgres(path: string): void {
  if (!asRoot) return
  const id = (flag: string) => Number(run('id', [flag, 'postgres']).trim())
  chownSync(path, id('-u'), id('-g'))
}

/** Runs `n` tasks, `concurrency` at a time; their results in order. */
async function inParallel<T>(n: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(n)
  let next = 0
  const worker = async () => {
    while (next < n) {
      const i = next++
      out[i] = await task(i)
    }
  }
  await Promise.all(Array.from({length: concurrency}, worker))
  return out
}

describe('withToken: a token per request through a pool (real cluster, PgBouncer)', function () {
  this.timeout(15 * 60_000)

  let dir: string
  let port: number
  let bouncerPort: number
  let bouncerPid: number | null = null
  let started = false
  let admin: pg.Client
  let root: KeyPair
  const tokens: Record<string, string> = {}
  const pools: pg.Pool[] = []

  const poolFor = (target: 'direct' | 'pgbouncer', max = 4) => {
    const p = new pg.Pool({host: '127.0.0.1', port: target === 'direct' ? port : bouncerPort, user: 'app', database: 'app', max})
    p.on('error', () => {}) // a connection killed on purpose below
    pools.push(p)
    return p
  }

  before(async () => {
    requireNative()
    assert.ok(existsSync('/usr/sbin/pgbouncer') || spawnSync('sh', ['-c', 'command -v pgbouncer']).status === 0, 'pgbouncer is not installed (Debian package pgbouncer; scripts/install-deps.sh)')
    dir = tempDir('hessra-with-token-')
    chmodSync(dir, 0o755)
    run('make', ['-C', join(ROOT, 'pg-plugin'), '-s', 'install'])

    root = generateKeyPair('ed25519')
    const pub = root.publicKey()
    const configPath = join(dir, 'hessra.json')
    writeFileSync(configPath, JSON.stringify({version: 1, default_key: 'k', keys: [{id: 'k', public_key: pub.toText()}]}), {mode: 0o644})
    pub.dispose()
    const exp = Math.floor(Date.now() / 1000) + 3600
    tokens.alice = mintHessra({privateKey: root, subject: 'alice', resource: 'docs', operation: ['read', 'write'], expiresAt: exp})
    tokens.bob = mintHessra({privateKey: root, subject: 'bob', resource: 'docs', operation: ['read', 'write'], expiresAt: exp})
    tokens.carolIdentity = mintIdentityToken({privateKey: root, subject: 'urn:hessra:carol', expiresAt: exp})

    port = await freePort()
    const conf = [
      `hessra.config_path = '${configPath}'`,
      "shared_preload_libraries = 'pg_stat_statements'",
      'pg_stat_statements.track_utility = on',
      // every statement is logged, bind parameters never (PostgreSQL logs them with log_statement unless told not to)
      "log_statement = 'all'",
      'log_parameter_max_length = 0',
      'log_min_error_statement = error',
      'max_connections = 40',
    ].join('\n')
    run('bash', [CLUSTER, 'start', join(dir, 'pg'), String(port)], {...process.env, PG_CLUSTER_CONF: conf})
    started = true
    admin = new pg.Client({host: '127.0.0.1', port, user: 'postgres', database: 'postgres'})
    await admin.connect()
    await admin.query('CREATE DATABASE app')
    await admin.end()
    admin = new pg.Client({host: '127.0.0.1', port, user: 'postgres', database: 'app'})
    await admin.connect()
    await admin.query('CREATE EXTENSION hessra')
    await admin.query('CREATE EXTENSION pg_stat_statements')
    await admin.query('CREATE ROLE app LOGIN')
    await admin.query('CREATE TABLE docs (id serial PRIMARY KEY, owner text NOT NULL, body text NOT NULL)')
    await admin.query(`INSERT INTO docs (owner, body) SELECT 'alice', 'a' || g FROM generate_series(1, ${ROWS.alice}) g`)
    await admin.query(`INSERT INTO docs (owner, body) SELECT 'bob', 'b' || g FROM generate_series(1, ${ROWS.bob}) g`)
    await admin.query("INSERT INTO docs (owner, body) SELECT 'nobody', 'n' || g FROM generate_series(1, 7) g")
    await admin.query('CREATE TABLE notes (id serial PRIMARY KEY, owner text NOT NULL)')
    await admin.query("INSERT INTO notes (owner) VALUES ('urn:hessra:carol'), ('urn:hessra:carol'), ('urn:hessra:dave')")
    await admin.query('CREATE TABLE marks (mark text PRIMARY KEY)') // no RLS: what fn wrote, to see whether it was committed
    await admin.query(generatePolicies({table: 'docs', ownerColumn: 'owner', roles: ['app']}).sql)
    await admin.query(generatePolicies({table: 'notes', identityColumn: 'owner', operations: ['select'], roles: ['app']}).sql)
    await admin.query('GRANT SELECT, INSERT, UPDATE, DELETE ON docs, notes, marks TO app; GRANT USAGE ON SEQUENCE docs_id_seq TO app')
    await admin.query('SELECT pg_stat_statements_reset()')

    // PgBouncer, transaction pooling, 2 server connections
    const pb = join(dir, 'pgbouncer')
    run('mkdir', ['-p', pb])
    bouncerPort = await freePort()
    writeFileSync(join(pb, 'userlist.txt'), '"app" ""\n')
    writeFileSync(
      join(pb, 'pgbouncer.ini'),
      [
        '[databases]',
        `app = host=127.0.0.1 port=${port} dbname=app`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${bouncerPort}`,
        'unix_socket_dir =',
        'auth_type = trust',
        `auth_file = ${join(pb, 'userlist.txt')}`,
        'pool_mode = transaction',
        `default_pool_size = ${SERVER_POOL}`,
        'max_client_conn = 100',
        `logfile = ${join(pb, 'pgbouncer.log')}`,
        `pidfile = ${join(pb, 'pgbouncer.pid')}`,
        'ignore_startup_parameters = extra_float_digits',
        '',
      ].join('\n'),
    )
    giveToPostgres(pb)
    const bouncer = existsSync('/usr/sbin/pgbouncer') ? '/usr/sbin/pgbouncer' : 'pgbouncer'
    run(asRoot ? 'runuser' : bouncer, [...(asRoot ? ['-u', 'postgres', '--', bouncer] : []), '-d', '-q', join(pb, 'pgbouncer.ini')])
    for (let i = 0; i < 100 && bouncerPid === null; i++) {
      if (existsSync(join(pb, 'pgbouncer.pid'))) bouncerPid = Number(readFileSync(join(pb, 'pgbouncer.pid'), 'utf8').trim()) || null
      else await new Promise((r) => setTimeout(r, 50))
    }
    assert.ok(bouncerPid, 'PgBouncer started')
  })

  after(async () => {
    for (const p of pools) await p.end().catch(() => {})
    await admin?.end().catch(() => {})
    if (bouncerPid) {
      try {
        process.kill(bouncerPid, 'SIGTERM')
      } catch {
        // gone
      }
    }
    if (started) run('bash', [CLUSTER, 'stop', join(dir, 'pg')])
    root?.dispose()
  })

  const marked = async (mark: string) => (await admin.query('SELECT 1 FROM marks WHERE mark = $1', [mark])).rowCount === 1

  for (const target of ['direct', 'pgbouncer'] as const) {
    describe(target === 'direct' ? 'directly' : 'through PgBouncer (transaction pooling, 2 server connections)', () => {
      let pool: pg.Pool
      const usedBackends = new Set<number>()

      before(() => {
        pool = poolFor(target)
      })

      it('300 requests, 16 at a time, alternating two tokens: each sees exactly its own rows', async () => {
        const subjects = ['alice', 'bob'] as const
        const results = await inParallel(300, 16, (i) =>
          withToken(pool, tokens[subjects[i % 2]], async (client) => {
            const rows = (await client.query<{owner: string}>('SELECT owner FROM docs')).rows
            const {pid} = (await client.query<{pid: number}>('SELECT pg_backend_pid() AS pid')).rows[0]
            return {rows, pid}
          }),
        )
        results.forEach((r, i) => {
          const subject = subjects[i % 2]
          assert.equal(r.rows.length, ROWS[subject], `request ${i} (${subject}) saw ${r.rows.length} rows`)
          assert.ok(
            r.rows.every((row) => row.owner === subject),
            `request ${i} (${subject}) saw another's rows`,
          )
          usedBackends.add(r.pid)
        })
        assert.ok(pool.totalCount <= 4 && pool.totalCount > 1, `the pool of 4 opened ${pool.totalCount} connections`)
        assert.equal(pool.idleCount, pool.totalCount, 'every client was given back')
        assert.equal(pool.waitingCount, 0)
        if (target === 'pgbouncer') assert.ok(usedBackends.size <= SERVER_POOL, `PgBouncer used ${usedBackends.size} server connections`)
      })

      it('no connection keeps a token afterwards (asked on the connection, without withToken)', async () => {
        assert.ok(usedBackends.size > 0)
        // hold as many connections as there are (the pool's 4; PgBouncer's 2 server connections, each
        // pinned by an open transaction), so that every one the requests used is asked
        const held = await Promise.all(Array.from({length: target === 'direct' ? 4 : SERVER_POOL}, () => pool.connect()))
        try {
          const seen = await Promise.all(
            held.map(async (c) => {
              await c.query('BEGIN')
              const r = await c.query<{token: string | null; pid: number; n: string}>(
                "SELECT current_setting('hessra.token', true) AS token, pg_backend_pid() AS pid, (SELECT count(*) FROM docs) AS n",
              )
              return r.rows[0]
            }),
          )
          for (const s of seen) {
            assert.ok(s.token === null || s.token === '', `connection ${s.pid} still holds a token`)
            assert.equal(s.n, '0', `connection ${s.pid} sees rows without a token`)
          }
          const asked = new Set(seen.map((s) => s.pid))
          for (const pid of usedBackends) assert.ok(asked.has(pid), `connection ${pid}, used by the requests, was asked`)
        } finally {
          for (const c of held) {
            await c.query('COMMIT')
            c.release()
          }
        }
      })

      it('a throwing fn rolls back (its write is gone), rethrows its error and gives its client back', async () => {
        const mark = `${target}-throw`
        const boom = new Error('boom')
        await assert.rejects(
          withToken(pool, tokens.bob, async (client) => {
            await client.query('INSERT INTO marks VALUES ($1)', [mark])
            await client.query("INSERT INTO docs (owner, body) VALUES ('bob', 'rolled back')")
            throw boom
          }),
          (e) => e === boom,
        )
        assert.equal(await marked(mark), false, 'the write was rolled back')
        assert.equal((await admin.query("SELECT 1 FROM docs WHERE body = 'rolled back'")).rowCount, 0)
        await assert.rejects(
          withToken(pool, tokens.bob, (client) => client.query('SELECT 1 / 0')),
          (e: Error & {code?: string}) => e.code === '22012',
        )
        assert.equal(pool.idleCount, pool.totalCount, 'the clients are back in the pool')
        assert.equal(pool.waitingCount, 0)
      })

      it('a successful fn commits and returns its result', async () => {
        const mark = `${target}-commit`
        const result = await withToken(pool, tokens.alice, async (client) => {
          await client.query('INSERT INTO marks VALUES ($1)', [mark])
          return (await client.query<{id: number}>("INSERT INTO docs (owner, body) VALUES ('alice', $1) RETURNING id", [mark])).rows[0].id
        })
        assert.equal(typeof result, 'number')
        assert.equal(await marked(mark), true, 'committed')
        assert.equal((await admin.query('SELECT owner FROM docs WHERE id = $1', [result])).rows[0].owner, 'alice')
        await admin.query('DELETE FROM docs WHERE id = $1', [result])
        // and the policies still decide: bob's token cannot write a row for alice
        await assert.rejects(
          withToken(pool, tokens.bob, (client) => client.query("INSERT INTO docs (owner, body) VALUES ('alice', 'from bob')")),
          (e: Error & {code?: string}) => e.code === '42501',
        )
        assert.equal(pool.idleCount, pool.totalCount)
      })
    })
  }

  describe('directly, the edges', () => {
    it('a ROLLBACK that fails does not hide fn\'s error, and the pool discards that connection', async () => {
      const pool = poolFor('direct', 2)
      await withToken(pool, tokens.alice, (c) => c.query('SELECT 1'))
      const before = pool.totalCount
      let fnError: unknown
      await assert.rejects(
        withToken(pool, tokens.alice, async (client) => {
          try {
            await client.query('SELECT pg_terminate_backend(pg_backend_pid())')
          } catch (error) {
            fnError = error
            throw error
          }
        }),
        (e) => e === fnError && e !== undefined,
      )
      assert.equal(pool.totalCount, before - 1, 'the broken connection left the pool')
      const again = await withToken(pool, tokens.alice, async (c) => (await c.query('SELECT count(*)::int AS n FROM docs')).rows[0].n as number)
      assert.equal(again, ROWS.alice, 'the pool goes on with a new connection')
    })

    it('a given pg.Client is used, left open, and keeps no token', async () => {
      const client = new pg.Client({host: '127.0.0.1', port, user: 'app', database: 'app'})
      await client.connect()
      try {
        const n = await withToken(client, tokens.bob, async (c) => {
          assert.equal(c, client)
          return (await c.query('SELECT count(*)::int AS n FROM docs')).rows[0].n as number
        })
        assert.equal(n, ROWS.bob)
        const after = (await client.query("SELECT current_setting('hessra.token', true) AS t, (SELECT count(*)::int FROM docs) AS n")).rows[0]
        assert.deepEqual(after, {t: '', n: 0}, 'the token ended with the transaction')
      } finally {
        await client.end()
      }
    })

    it("no token (null, undefined, ''): the database sees none, even over a session-level token", async () => {
      const client = new pg.Client({host: '127.0.0.1', port, user: 'app', database: 'app'})
      await client.connect()
      try {
        await client.query("SELECT set_config('hessra.token', $1, false)", [tokens.alice]) // someone's session-level setting
        for (const none of [null, undefined, '']) {
          const seen = await withToken(client, none, async (c) => (await c.query("SELECT current_setting('hessra.token', true) AS t, (SELECT count(*)::int FROM docs) AS n")).rows[0])
          assert.deepEqual(seen, {t: '', n: 0}, `token ${String(none)}`)
        }
      } finally {
        await client.end()
      }
    })

    it('nested use on one client, or inside the caller\'s own transaction, is refused before anything is sent', async () => {
      const pool = poolFor('direct', 2)
      const mark = 'nested-outer'
      await assert.rejects(
        withToken(pool, tokens.alice, async (client) => {
          await client.query('INSERT INTO marks VALUES ($1)', [mark])
          await assert.rejects(
            withToken(client, tokens.bob, () => 'inner'),
            (e) => e instanceof UsageError && /already in a transaction/.test(e.message),
          )
          throw new Error('outer fails after the refused inner call')
        }),
        /outer fails/,
      )
      assert.equal(await marked(mark), false, 'the refused inner call committed nothing of the outer transaction')
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        await assert.rejects(withToken(client, tokens.bob, () => 'x'), UsageError)
        assert.equal(client.getTransactionStatus(), 'T', "the caller's transaction is left open, untouched")
        await client.query('ROLLBACK')
      } finally {
        client.release()
      }
      assert.equal(pool.idleCount, pool.totalCount)
    })

    it('a pool client its last user released inside a transaction: that work is rolled back, not committed by ours', async () => {
      const pool = poolFor('direct', 1)
      const stale = await pool.connect()
      await stale.query('BEGIN')
      await stale.query("INSERT INTO marks VALUES ('stale')")
      stale.release() // a bug elsewhere: released mid-transaction
      await withToken(pool, tokens.alice, async (c) => c.query("INSERT INTO marks VALUES ('ours')"))
      assert.equal(await marked('ours'), true)
      assert.equal(await marked('stale'), false)
    })

    it('fn swallowing a failed statement: TransactionAbortedError (25P02), nothing committed', async () => {
      const pool = poolFor('direct', 1)
      await assert.rejects(
        withToken(pool, tokens.alice, async (c) => {
          await c.query("INSERT INTO marks VALUES ('swallowed')")
          await c.query('SELECT 1 / 0').catch(() => null)
          return 'looks fine'
        }),
        (e) => e instanceof TransactionAbortedError && e.code === '25P02',
      )
      assert.equal(await marked('swallowed'), false)
      assert.equal(pool.idleCount, pool.totalCount)
    })

    it('identity tokens go through the same call', async () => {
      const pool = poolFor('direct', 2)
      const owners = await withToken(pool, tokens.carolIdentity, async (c) => (await c.query<{owner: string}>('SELECT owner FROM notes')).rows.map((r) => r.owner))
      assert.deepEqual(owners, ['urn:hessra:carol', 'urn:hessra:carol'])
      assert.deepEqual(await withToken(pool, tokens.alice, async (c) => (await c.query('SELECT owner FROM notes')).rows), [], 'an authorization token proves no identity')
    })

    it('a token that is not a string, or no pool or client: UsageError, no connection taken', async () => {
      const pool = poolFor('direct', 2)
      for (const bad of [42, {token: 'SECRET-ZZZ'}, Buffer.from('SECRET-ZZZ'), ['SECRET-ZZZ']]) {
        await assert.rejects(withToken(pool, bad as never, () => 1), (e) => e instanceof UsageError && /must be a string/.test(e.message) && !e.message.includes('SECRET'))
      }
      await assert.rejects(withToken({} as never, tokens.alice, () => 1), UsageError)
      await assert.rejects(withToken(pool, tokens.alice, 'SELECT 1' as never), UsageError)
      assert.equal(pool.totalCount, 0, 'nothing was checked out')
    })
  })

  // a describe of its own: mocha runs a suite's own tests before its nested suites, and this one comes last
  describe('afterwards', () => {
    it('the token text appears neither in pg_stat_statements nor in the server log', async () => {
      const statements = (await admin.query<{query: string}>('SELECT query FROM pg_stat_statements')).rows.map((r) => r.query)
      assert.ok(
        statements.some((q) => q.includes('set_config')),
        `pg_stat_statements recorded the set_config statement: ${statements.slice(0, 30).join(' ;; ')}`,
      )
      const log = readFileSync(join(dir, 'pg', 'server.log'), 'utf8')
      assert.ok(log.includes('set_config'), 'the server log has the statements (log_statement = all)')
      assert.ok(log.includes('division by zero'), 'and the failed ones, with their statement')
      for (const [name, token] of Object.entries(tokens)) {
        for (const text of [token, token.slice(0, 40), token.slice(-40)]) {
          assert.ok(!statements.some((q) => q.includes(text)), `${name}'s token is in pg_stat_statements`)
          assert.ok(!log.includes(text), `${name}'s token is in the server log`)
        }
      }
    })
  })
})
