/**
 * The playground's server module (src/playground/server.ts, api.ts), in process: who it answers (the
 * per-run secret, its own Host and Origin only), what it sends (CSP and the other headers), the body
 * bound, and that each endpoint returns what the library (the engine) answers for the same call.
 */
import {strict as assert} from 'node:assert'
import {readFileSync} from 'node:fs'
import {request} from 'node:http'
import {join} from 'node:path'

import {type LoadedConfig} from '../../src/config/index.js'
import {KeyPair} from '../../src/native/binding.js'
import {MAX_BODY_BYTES, startPlayground, type Playground} from '../../src/playground/server.js'
import {authorize, authorizerAt} from '../../src/tokens/authorize.js'
import {mintHessra} from '../../src/tokens/devkit.js'
import {mintIdentityToken, verifyIdentityToken} from '../../src/tokens/identity.js'
import {inspectToken} from '../../src/tokens/inspect.js'
import {verifyToken, type VerifyResult} from '../../src/tokens/verify.js'
import {requireNative, ROOT} from '../helpers.js'

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** One HTTP request with exactly the headers given (node:http lets a test send a foreign Host). */
function send(pg: Playground, opts: {method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer; chunks?: Buffer[]}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({host: '127.0.0.1', port: pg.port, method: opts.method ?? 'GET', path: opts.path, headers: {Host: `127.0.0.1:${pg.port}`, ...opts.headers}}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8')}))
    })
    req.on('error', reject)
    if (opts.chunks) {
      // a body without Content-Length (chunked): the bound must hold while reading
      const write = (i: number): void => {
        if (i === opts.chunks!.length) return void req.end()
        if (!req.write(opts.chunks![i])) req.once('drain', () => write(i + 1))
        else write(i + 1)
      }
      req.on('response', () => req.destroy())
      write(0)
    } else {
      req.end(opts.body)
    }
  })
}

function post(pg: Playground, endpoint: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return send(pg, {method: 'POST', path: `/${pg.secret}/api/${endpoint}`, headers: {'Content-Type': 'application/json', Origin: `http://127.0.0.1:${pg.port}`, ...headers}, body: JSON.stringify(body)})
}

const now = () => Math.floor(Date.now() / 1000)

describe('playground server', function () {
  let root: KeyPair
  let other: KeyPair
  let pub: string
  let token: string
  let forged: string
  let loaded: LoadedConfig
  let pg: Playground
  const at = () => now()

  before(async () => {
    requireNative()
    root = KeyPair.generate('ed25519')
    other = KeyPair.generate('ed25519')
    const pk = root.publicKey()
    pub = pk.toText()
    pk.dispose()
    token = mintHessra({privateKey: root, subject: 'alice', resource: 'documents', operation: 'read', expiresAt: now() + 3600})
    // the same claims signed by a key nobody trusts
    forged = mintHessra({privateKey: other, subject: 'alice', resource: 'documents', operation: 'read', expiresAt: now() + 3600})
    loaded = {config: {version: 1, default_key: 'root', keys: [{id: 'root', public_key: pub}]}, filepath: null, source: 'none', format: null}
    pg = await startPlayground({context: {config: loaded, env: {}}})
  })
  after(async () => {
    await pg?.close()
    root?.dispose()
    other?.dispose()
  })

  describe('who it answers', () => {
    it('listens on 127.0.0.1 and prints a URL holding the secret', () => {
      assert.equal(pg.url, `http://127.0.0.1:${pg.port}/${pg.secret}/`)
      assert.ok(pg.secret.length >= 32, pg.secret)
    })

    it('serves the page with the secret', async () => {
      const r = await send(pg, {path: `/${pg.secret}/`})
      assert.equal(r.status, 200)
      assert.match(r.body, /data-testid="verdict"/)
    })

    it('refuses requests without the secret, with a wrong one, or with one a character off', async () => {
      const near = pg.secret.slice(0, -1) + (pg.secret.endsWith('A') ? 'B' : 'A')
      for (const path of ['/', '/index.html', '/playground.js', '/api/verify', `/${near}/`, `/${pg.secret}x/`, `/x${pg.secret}/`, `/${near}/api/keys`]) {
        const r = await send(pg, {path})
        assert.equal(r.status, 403, path)
        assert.doesNotMatch(r.body, /data-testid/, path)
      }
    })

    it('refuses a foreign Host (DNS rebinding) even with the secret', async () => {
      for (const host of ['evil.example', `evil.example:${pg.port}`, `127.0.0.1:${pg.port + 1}`, `[::1]:${pg.port}`]) {
        const r = await send(pg, {path: `/${pg.secret}/`, headers: {Host: host}})
        assert.equal(r.status, 403, host)
      }
      assert.equal((await send(pg, {path: `/${pg.secret}/`, headers: {Host: `localhost:${pg.port}`}})).status, 200)
    })

    it('refuses a foreign Origin even with the secret, and accepts its own', async () => {
      for (const origin of ['http://evil.example', `http://evil.example:${pg.port}`, 'null', `https://127.0.0.1:${pg.port}`]) {
        const r = await post(pg, 'inspect', {token}, {Origin: origin})
        assert.equal(r.status, 403, origin)
        assert.doesNotMatch(r.body, /blocks/)
      }
      assert.equal((await post(pg, 'inspect', {token})).status, 200)
    })

    it('refuses an API request another site makes (Sec-Fetch-Site)', async () => {
      assert.equal((await post(pg, 'inspect', {token}, {'Sec-Fetch-Site': 'cross-site'})).status, 403)
      assert.equal((await post(pg, 'inspect', {token}, {'Sec-Fetch-Site': 'same-origin'})).status, 200)
    })

    it('takes the endpoints as POSTed JSON only', async () => {
      assert.equal((await send(pg, {path: `/${pg.secret}/api/verify`})).status, 405)
      const form = await send(pg, {method: 'POST', path: `/${pg.secret}/api/inspect`, headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: `token=${token}`})
      assert.equal(form.status, 415)
      const notJson = await send(pg, {method: 'POST', path: `/${pg.secret}/api/inspect`, headers: {'Content-Type': 'application/json'}, body: '{token'})
      assert.equal(notJson.status, 400)
      assert.equal((await post(pg, 'nope', {})).status, 404)
      assert.equal((await post(pg, 'constructor', {})).status, 404)
    })
  })

  describe('the body bound', () => {
    it('refuses a body declared larger than the bound before reading it', async () => {
      const r = await send(pg, {method: 'POST', path: `/${pg.secret}/api/inspect`, headers: {'Content-Type': 'application/json', 'Content-Length': String(MAX_BODY_BYTES + 1)}, body: '{}'})
      assert.equal(r.status, 413)
    })

    it('refuses a chunked body once it grows past the bound', async () => {
      const chunk = Buffer.alloc(256 * 1024, 0x61)
      const chunks = [Buffer.from('{"token":"'), ...Array.from({length: MAX_BODY_BYTES / chunk.length + 2}, () => chunk)]
      const r = await send(pg, {method: 'POST', path: `/${pg.secret}/api/inspect`, headers: {'Content-Type': 'application/json'}, chunks})
      assert.equal(r.status, 413)
    })

    it('accepts a body just under the bound (the limit is not smaller than it says)', async () => {
      const padding = 'x'.repeat(MAX_BODY_BYTES - token.length - 64)
      const r = await post(pg, 'inspect', {token, padding})
      assert.equal(r.status, 200, r.body.slice(0, 200))
    })
  })

  describe('headers', () => {
    it('sends a strict Content-Security-Policy on the page, its assets and refusals', async () => {
      for (const path of [`/${pg.secret}/`, `/${pg.secret}/playground.js`, `/${pg.secret}/playground.css`, '/']) {
        const r = await send(pg, {path})
        const csp = String(r.headers['content-security-policy'])
        assert.match(csp, /default-src 'none'/, path)
        assert.match(csp, /script-src 'self'(;|$)/, path)
        assert.match(csp, /style-src 'self'(;|$)/, path)
        assert.match(csp, /connect-src 'self'(;|$)/, path)
        assert.match(csp, /frame-ancestors 'none'/, path)
        assert.doesNotMatch(csp, /unsafe|https?:|\*/, path)
        assert.equal(r.headers['x-content-type-options'], 'nosniff', path)
        assert.equal(r.headers['referrer-policy'], 'no-referrer', path)
        assert.equal(r.headers['cache-control'], 'no-store', path)
      }
    })

    it('serves a page that needs nothing the policy forbids: no inline script or handler, nothing from outside', () => {
      for (const file of ['index.html', 'playground.js', 'playground.css']) {
        const text = readFileSync(join(ROOT, 'assets', 'playground', file), 'utf8')
        assert.doesNotMatch(text, /https?:\/\/|\/\/[a-z0-9.-]+\.[a-z]{2,}\//i, file)
        if (file === 'index.html') {
          assert.doesNotMatch(text, /<script(?![^>]*\bsrc=)[^>]*>/i, 'inline script')
          assert.doesNotMatch(text, /\son[a-z]+=/i, 'inline event handler')
          assert.doesNotMatch(text, /\sstyle=/i, 'inline style')
        }
      }
    })
  })

  describe('endpoints return what the engine answers', () => {
    const request = {subject: 'alice', resource: 'documents', operation: 'read'}

    it('verify: valid, as verifyToken says', async () => {
      const when = at()
      const r = await post(pg, 'verify', {token, key: pub, ...request, at: String(when)})
      assert.equal(r.status, 200, r.body)
      const body = JSON.parse(r.body)
      assert.deepEqual(body.outcome, verifyToken(token, {key: pub, config: loaded, ...request, at: when}))
      assert.equal(body.outcome.status, 'valid')
      assert.equal(body.inspect.blocks.length, 1)
      assert.equal(body.expiry.at, body.outcome.expiresAt)
    })

    it('verify: denied, with the failing check of block 0', async () => {
      const body = JSON.parse((await post(pg, 'verify', {token, key: pub, ...request, operation: 'write'})).body) as {outcome: VerifyResult}
      assert.equal(body.outcome.status, 'denied')
      assert.deepEqual(
        body.outcome.failedChecks.map((f) => f.block),
        [0],
      )
    })

    it('verify: expired as of a relative time (the CLI\'s --at parsing)', async () => {
      const body = JSON.parse((await post(pg, 'verify', {token, key: pub, ...request, at: '+2h'})).body)
      assert.equal(body.outcome.status, 'expired')
      assert.ok(Math.abs(body.outcome.checkedAt - (now() + 7200)) <= 5, String(body.outcome.checkedAt))
      assert.match(body.expiry.relative, /ago$/)
    })

    it('verify: invalid for a token signed by another key; the configuration key by id is used', async () => {
      const body = JSON.parse((await post(pg, 'verify', {token: forged, keyId: 'root', ...request})).body)
      assert.equal(body.outcome.status, 'invalid')
      assert.equal(body.outcome.key.id, 'root')
      assert.equal(body.expiry.at, null, 'an unverified time bound is not reported as when it stops working')
    })

    it('verify: an identity token, for the identity given or (no request fields) in bearer mode', async () => {
      const idToken = mintIdentityToken({privateKey: root, subject: 'urn:hessra:alice', delegatable: true, expiresAt: now() + 3600})
      const when = at()
      const asAlice = JSON.parse((await post(pg, 'verify', {token: idToken, key: pub, identity: 'urn:hessra:alice', at: String(when)})).body)
      assert.deepEqual(asAlice.outcome, verifyIdentityToken(idToken, {key: pub, config: loaded, identity: 'urn:hessra:alice', at: when}))
      assert.equal(asAlice.outcome.status, 'valid')
      const prefixAttack = JSON.parse((await post(pg, 'verify', {token: idToken, key: pub, identity: 'urn:hessra:alice2'})).body)
      assert.equal(prefixAttack.outcome.status, 'denied')
      const bearer = JSON.parse((await post(pg, 'verify', {token: idToken, key: pub})).body)
      assert.equal(bearer.outcome.mode, 'bearer')
      assert.equal(bearer.outcome.verifiedIdentity, 'urn:hessra:alice')
      // an authorization token with no request at all: the usage error naming what each kind needs
      const nothing = await post(pg, 'verify', {token, key: pub})
      assert.equal(nothing.status, 422, nothing.body)
      assert.match(nothing.body, /--identity/)
    })

    it('verify: accepts the token as the CLI does (wrapped, with a Bearer prefix)', async () => {
      const wrapped = `Bearer ${token.slice(0, 40)}\n${token.slice(40)}\n`
      const body = JSON.parse((await post(pg, 'verify', {token: wrapped, key: pub, ...request})).body)
      assert.equal(body.outcome.status, 'valid')
    })

    it('inspect: as inspectToken decodes it', async () => {
      const body = JSON.parse((await post(pg, 'inspect', {token})).body)
      assert.deepEqual(body.inspect, inspectToken(token))
    })

    it('authorize: as authorize() says, with time(AT) added: "at", else now (issue 26 item 12)', async () => {
      const policy = 'subject("alice"); resource("documents"); operation("read"); allow if right($s, "documents", "read");'
      const allowed = JSON.parse((await post(pg, 'authorize', {token, key: pub, authorizer: policy})).body)
      assert.equal(allowed.result.authorized, true, 'without "at" the time is now: ' + JSON.stringify(allowed.result))
      assert.match(allowed.authorizer, /^time\(\d+\);\nsubject\("alice"\);/, 'the authorizer as run')
      const later = now() + 7200
      const expired = JSON.parse((await post(pg, 'authorize', {token, key: pub, authorizer: policy, at: String(later)})).body)
      assert.equal(expired.authorizer, authorizerAt(policy, later))
      assert.deepEqual(expired.result, authorize(token, {key: pub, authorizer: authorizerAt(policy, later)}))
      assert.equal(expired.result.authorized, false, 'two hours later the time check fails')
    })

    it('attenuate: a new token with one more block, which the engine then denies for other operations', async () => {
      const r = JSON.parse((await post(pg, 'attenuate', {token, key: pub, checks: 'operation("read")', ttl: '5m'})).body)
      assert.match(r.block, /check if operation\("read"\);/)
      assert.match(r.block, /check if time\(\$time\), \$time < \d+;/)
      assert.equal(inspectToken(r.token).blocks.length, 2)
      assert.equal(verifyToken(r.token, {key: pub, ...request}).status, 'valid')
      assert.equal(verifyToken(r.token, {key: pub, ...request, at: now() + 600}).status, 'expired')
    })
  })

  describe('errors', () => {
    it('a token that does not decode: 422 invalid_token, the token not quoted', async () => {
      const garbage = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo' + 'x'.repeat(20)
      const r = await post(pg, 'verify', {token: garbage, key: pub, resource: 'documents'})
      assert.equal(r.status, 422)
      assert.equal(JSON.parse(r.body).error.code, 'invalid_token')
      assert.ok(!r.body.includes(garbage))
    })

    it('a pasted "key" that names a file is not read as one', async () => {
      const r = await post(pg, 'verify', {token, key: join(ROOT, 'package.json'), resource: 'documents'})
      assert.equal(r.status, 422)
      assert.equal(JSON.parse(r.body).error.code, 'invalid_key')
    })

    it('an empty token, a missing resource, a field of the wrong type: 422 usage', async () => {
      for (const body of [{token: '  ', resource: 'documents'}, {token, key: pub}, {token, key: pub, resource: 7}]) {
        const r = await post(pg, 'verify', body)
        assert.equal(r.status, 422, JSON.stringify(body))
        assert.equal(JSON.parse(r.body).error.code, 'usage')
      }
    })
  })

  it('a port in use: an environment error naming it, with a hint', async () => {
    await assert.rejects(startPlayground({context: {config: loaded, env: {}}, port: pg.port}), (error: Error & {kind?: string; hint?: string}) => {
      assert.equal(error.kind, 'environment')
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${pg.port}: the port is in use`))
      assert.match(error.hint ?? '', /--port/)
      return true
    })
  })

  it('close() stops it: the port refuses connections', async () => {
    const other = await startPlayground({context: {config: loaded, env: {}}})
    await other.close()
    await assert.rejects(send(other, {path: `/${other.secret}/`}), /ECONNREFUSED/)
  })
})
