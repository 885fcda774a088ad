/**
 * The playground server against clients that misbehave (issue 23, item 6), in process: a request with
 * two Host (or Origin) headers was accepted with the first one; connections were not capped, and 500
 * connections sending partial headers stayed open ~32 s. Also the render bomb (item 1): the endpoints
 * run the engine on the event loop, so a token whose failed check renders to 14 MB must not block it.
 */
import {strict as assert} from 'node:assert'
import {connect, type Socket} from 'node:net'

import {type LoadedConfig} from '../../src/config/index.js'
import {KeyPair} from '../../src/native/binding.js'
import {LIMITS, startPlayground, type Playground} from '../../src/playground/server.js'
import {attenuateToken, mintFromDatalog} from '../../src/tokens/devkit.js'
import {type VerifyResult} from '../../src/tokens/verify.js'
import {requireNative} from '../helpers.js'

/** Sends raw bytes on a new connection; resolves with what came back once the server closed it. */
function raw(pg: Playground, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(pg.port, '127.0.0.1', () => socket.end(text))
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', reject)
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')))
  })
}

/** An open connection and when (ms since `t0`) the server closed it, once it does. */
interface Held {
  socket: Socket
  closedAt: Promise<number>
}

function hold(pg: Playground, t0: number, send = ''): Promise<Held> {
  return new Promise((resolve, reject) => {
    const socket = connect(pg.port, '127.0.0.1', () => {
      if (send) socket.write(send)
      resolve({socket, closedAt})
    })
    const closedAt = new Promise<number>((done) => socket.on('close', () => done(Date.now() - t0)))
    socket.resume() // read what the server sends (a 408), or its end is never seen
    socket.on('error', () => {}) // a reset by the server is a close
    socket.once('error', reject)
  })
}

function status(reply: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('playground server limits (issue 23)', function () {
  this.timeout(60_000)
  let root: KeyPair
  let pub: string
  let pg: Playground
  let host: string

  before(async () => {
    requireNative()
    root = KeyPair.generate('ed25519')
    const pk = root.publicKey()
    pub = pk.toText()
    pk.dispose()
    const loaded: LoadedConfig = {config: {version: 1, default_key: 'root', keys: [{id: 'root', public_key: pub}]}, filepath: null, source: 'none', format: null}
    pg = await startPlayground({context: {config: loaded, env: {}}})
    host = `127.0.0.1:${pg.port}`
  })
  after(async () => {
    await pg?.close()
    root?.dispose()
  })

  it('refuses a request that sends Host twice, even when the first one is right', async () => {
    const path = `/${pg.secret}/`
    assert.equal(status(await raw(pg, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)), 200, 'control')
    for (const second of ['evil.example', host]) {
      const reply = await raw(pg, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nHost: ${second}\r\nConnection: close\r\n\r\n`)
      assert.equal(status(reply), 400, reply)
      assert.match(reply, /duplicated Host or Origin header/)
    }
  })

  it('refuses a request that sends Origin twice', async () => {
    const path = `/${pg.secret}/api/keys`
    const origin = `http://${host}`
    const one = await raw(pg, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nOrigin: ${origin}\r\nConnection: close\r\n\r\n`)
    assert.equal(status(one), 200, one)
    const two = await raw(pg, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nOrigin: ${origin}\r\nOrigin: http://evil.example\r\nConnection: close\r\n\r\n`)
    assert.equal(status(two), 400, two)
  })

  it(`caps concurrent connections at ${LIMITS.connections}, and serves again once they are gone`, async () => {
    const t0 = Date.now()
    const held = await Promise.all(Array.from({length: LIMITS.connections + 10}, () => hold(pg, t0)))
    await sleep(300)
    const closed = await Promise.all(held.map((h) => Promise.race([h.closedAt.then(() => true), sleep(50).then(() => false)])))
    assert.equal(closed.filter(Boolean).length, 10, 'the connections over the cap were closed at once')
    for (const h of held) h.socket.destroy()
    await sleep(100)
    const reply = await raw(pg, `GET /${pg.secret}/ HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
    assert.equal(status(reply), 200, reply)
  })

  it('closes connections that send partial headers within a few seconds, however many there are', async () => {
    const t0 = Date.now()
    const held = await Promise.all(Array.from({length: 100}, () => hold(pg, t0, `GET /${pg.secret}/ HTTP/1.1\r\nHost: ${host}\r\nX-Slow: `)))
    const bound = LIMITS.headersMs + 3 * LIMITS.checkMs + 2_000
    const times = await Promise.all(held.map((h) => Promise.race([h.closedAt, sleep(bound + 5_000).then(() => Infinity)])))
    const slowest = Math.max(...times)
    assert.ok(slowest < bound, `the last one was closed after ${slowest} ms (bound ${bound} ms)`)
    for (const h of held) h.socket.destroy()
  })

  it('the render bomb is answered at once, with the failed check cut, and the server keeps answering', async () => {
    const base = mintFromDatalog({privateKey: root, datalog: 'right("alice", "notes", "read");'})
    const bomb = attenuateToken(base, {key: pub, datalog: `check if nosuch($x), ${Array(600).fill('{s}').join(' + ')} == {s};`, params: {s: 'A'.repeat(24_000)}})
    const body = JSON.stringify({token: bomb, key: pub, subject: 'alice', resource: 'notes', operation: 'read'})
    const t0 = Date.now()
    const reply = await raw(
      pg,
      `POST /${pg.secret}/api/verify HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    )
    const ms = Date.now() - t0
    assert.equal(status(reply), 200, reply.slice(0, 300))
    assert.ok(ms < 5_000, `answered after ${ms} ms`)
    assert.ok(reply.length < 1_300_000, `${reply.length} bytes answered`)
    const outcome = (JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)) as {outcome: VerifyResult}).outcome
    assert.equal(outcome.status, 'denied')
    assert.equal(outcome.failedChecks[0].truncated, true)
    assert.ok(outcome.failedChecks[0].rule_bytes > 14_000_000)
    assert.equal(status(await raw(pg, `GET /${pg.secret}/ HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)), 200)
  })
})
