/**
 * `hessra pg` against a server that asks for a password: psql-like messages, and the password taken from
 * the URL, PGPASSWORD or ~/.pgpass without Node deprecation noise. The server is a minimal fake speaking
 * the start of the PostgreSQL protocol (no PostgreSQL needed, no lock): it asks for a password and
 * records what it gets.
 */
import {strict as assert} from 'node:assert'
import {spawn} from 'node:child_process'
import {chmodSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {join} from 'node:path'

import {BIN, tempDir} from './helpers.js'

/** A message of the backend protocol: type byte, length, body. */
function message(type: string, body: Buffer): Buffer {
  const len = Buffer.alloc(4)
  len.writeInt32BE(body.length + 4)
  return Buffer.concat([Buffer.from(type), len, body])
}

const int32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeInt32BE(n)
  return b
}

/** Asks for a password (SCRAM like PostgreSQL's default, or cleartext), records it, then refuses it (28P01). */
function fakeServer(auth: 'scram' | 'cleartext', received: string[]): Promise<{server: Server; port: number}> {
  const server = createServer((sock) => {
    let buf = Buffer.alloc(0)
    let started = false
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d])
      if (!started) {
        if (buf.length < 4 || buf.length < buf.readInt32BE(0)) return
        started = true
        buf = buf.subarray(buf.readInt32BE(0))
        sock.write(auth === 'scram' ? message('R', Buffer.concat([int32(10), Buffer.from('SCRAM-SHA-256\0\0')])) : message('R', int32(3)))
        return
      }
      if (buf.length < 5 || buf.length < 1 + buf.readInt32BE(1)) return
      const type = String.fromCharCode(buf[0])
      const body = buf.subarray(5, 1 + buf.readInt32BE(1))
      buf = Buffer.alloc(0)
      if (type !== 'p') return // e.g. Terminate
      if (auth === 'scram') {
        sock.write(message('R', Buffer.concat([int32(11), Buffer.from('r=x,s=c2FsdA==,i=4096')])))
        return
      }
      received.push(body.toString('utf8').replace(/\0$/, ''))
      const fields = Buffer.from('SFATAL\0C28P01\0Mpassword authentication failed for user "u"\0\0')
      sock.end(message('E', fields))
    })
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({server, port: (server.address() as {port: number}).port})))
}

function run(args: string[], env: Record<string, string>): Promise<{status: number; stderr: string}> {
  return new Promise((resolve) => {
    const base: Record<string, string> = {}
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(PG|HESSRA_|DATABASE_URL)/.test(k)) base[k] = v
    const child = spawn(process.execPath, [BIN, ...args], {env: {...base, NO_COLOR: '1', ...env}, stdio: ['ignore', 'ignore', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (status) => resolve({status: status ?? -1, stderr}))
  })
}

describe('hessra pg against a password-protected server', function () {
  this.timeout(60_000)
  const home = tempDir('hessra-pgpass-')

  it('no password: says so like psql (no SASL internals), exit 5', async () => {
    const {server, port} = await fakeServer('scram', [])
    try {
      const r = await run(['pg', 'status', '--database', `postgresql://u@127.0.0.1:${port}/db`], {HOME: home})
      assert.equal(r.status, 5, r.stderr)
      assert.match(r.stderr, /connection to postgresql:\/\/u@127\.0\.0\.1:\d+\/db \(from --database\) failed: no password supplied/)
      assert.match(r.stderr, /PGPASSWORD or ~\/\.pgpass/)
      assert.doesNotMatch(r.stderr, /SASL/)
    } finally {
      server.close()
    }
  })

  it('the password comes from PGPASSWORD, then ~/.pgpass, without deprecation warnings; a wrong one is named', async () => {
    const received: string[] = []
    const {server, port} = await fakeServer('cleartext', received)
    try {
      const url = `postgresql://u@127.0.0.1:${port}/db`
      const a = await run(['pg', 'status', '--database', url], {HOME: home, PGPASSWORD: 'from-env'})
      assert.match(a.stderr, /authentication failed .*password authentication failed for user "u"/)
      writeFileSync(join(home, '.pgpass'), `127.0.0.1:${port}:db:u:from-pgpass\n`)
      chmodSync(join(home, '.pgpass'), 0o600)
      const b = await run(['pg', 'status', '--database', url], {HOME: home})
      assert.equal(b.status, 5)
      assert.deepEqual(received, ['from-env', 'from-pgpass'])
      for (const r of [a, b]) {
        assert.doesNotMatch(r.stderr, /deprecat|Warning/i, r.stderr)
        assert.ok(!r.stderr.includes('from-'), 'the password is never printed')
      }
    } finally {
      server.close()
    }
  })

  it('sslmode=require means what it means to psql, without pg\'s security warning', async () => {
    const r = await run(['pg', 'status', '--database', 'postgresql://u@127.0.0.1:1/db?sslmode=require'], {HOME: home})
    assert.equal(r.status, 5)
    assert.doesNotMatch(r.stderr, /SECURITY WARNING|Warning/)
  })
})
