/**
 * `hessra playground` in a real browser: the built CLI serves the page, Debian's chromium (driven by
 * playwright-core, never a downloaded browser) pastes a valid, a denied, an expired and a forged token,
 * reads the verdicts and the block cards, moves the time, attenuates, and the new token is checked with
 * the CLI. A screenshot of each state goes to test-output/playground/ (gitignored).
 *
 * Chromium runs with --no-sandbox only as root (CI and these machines run the tests as root): its
 * sandbox needs an unprivileged user namespace or a setuid helper and refuses to start as root. The
 * page it loads is our own, from 127.0.0.1.
 */
import {strict as assert} from 'node:assert'
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import {chromium, type Browser, type Page} from 'playwright-core'

import {KeyPair} from '../../src/native/binding.js'
import {writeLauncher} from '../../src/playground/open.js'
import {attestToken, mintHessra} from '../../src/tokens/devkit.js'
import {BIN, cli, json, requireNative, ROOT, tempDir} from '../helpers.js'

/** The system chromium (scripts/install-deps.sh installs Debian's `chromium`); HESSRA_CHROMIUM overrides. */
const CHROMIUM = process.env.HESSRA_CHROMIUM ?? '/usr/bin/chromium'
const OUT = join(ROOT, 'test-output', 'playground')
const now = () => Math.floor(Date.now() / 1000)

/** Starts `hessra playground --no-open --json` and resolves with its URL once it listens. */
function startCli(env: Record<string, string>): Promise<{child: ChildProcess; url: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'playground', '--no-open', '--json'], {env, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    const timer = setTimeout(() => reject(new Error(`hessra playground did not print its URL: ${err}`)), 30_000)
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      try {
        const {url} = JSON.parse(out) as {url: string}
        clearTimeout(timer)
        resolve({child, url})
      } catch {
        // not all of it yet
      }
    })
    child.on('exit', (code) => reject(new Error(`hessra playground exited (${code}): ${err}`)))
  })
}

/** Polls until `read` gives a non-empty string (the page's CSP forbids Playwright's string predicates: no eval). */
async function until(read: () => Promise<string>, ms = 15_000): Promise<string> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await read()
    if (value !== '') return value
    if (Date.now() > deadline) throw new Error('timed out waiting for the page')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('hessra playground in chromium', function () {
  this.timeout(120_000)
  let dir: string
  let pub: string
  let tokens: {valid: string; denied: string; expired: string; forged: string}
  let server: {child: ChildProcess; url: string}
  let browser: Browser
  let page: Page
  const outside: string[] = []
  const cspViolations: string[] = []

  before(async () => {
    requireNative()
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run \`bash scripts/install-deps.sh\` (installs Debian's chromium) or set HESSRA_CHROMIUM`)
    mkdirSync(OUT, {recursive: true})
    dir = tempDir('hessra-playground-')
    const root = KeyPair.generate('ed25519')
    const other = KeyPair.generate('ed25519')
    const node = KeyPair.generate('ed25519')
    const text = (kp: KeyPair) => {
      const k = kp.publicKey()
      try {
        return k.toText()
      } finally {
        k.dispose()
      }
    }
    pub = text(root)
    writeFileSync(join(dir, 'root.pub'), pub + '\n')
    writeFileSync(join(dir, 'hessra.json'), JSON.stringify({version: 1, default_key: 'root', keys: [{id: 'root', public_key: pub}]}))
    const claims = {subject: 'alice', resource: 'documents', operation: 'read'}
    // valid: an authority block and a third-party block signed by the service node
    const minted = mintHessra({privateKey: root, ...claims, expiresAt: now() + 3600, serviceNodes: [{component: 'gateway', public_key: text(node)}]})
    tokens = {
      valid: attestToken(minted, {key: pub, nodeKey: node, component: 'gateway'}),
      denied: mintHessra({privateKey: root, ...claims, subject: 'bob', expiresAt: now() + 3600}),
      expired: mintHessra({privateKey: root, ...claims, expiresAt: now() - 600}),
      forged: mintHessra({privateKey: other, ...claims, expiresAt: now() + 3600}),
    }
    for (const kp of [root, other, node]) kp.dispose()

    const env: Record<string, string> = {PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, HESSRA_CONFIG: join(dir, 'hessra.json'), NO_COLOR: '1'}
    if (process.env.HESSRA_FFI_LIB) env.HESSRA_FFI_LIB = process.env.HESSRA_FFI_LIB
    server = await startCli(env)
    const args = typeof process.getuid === 'function' && process.getuid() === 0 ? ['--no-sandbox'] : []
    browser = await chromium.launch({executablePath: CHROMIUM, args, headless: true})
    page = await browser.newPage({viewport: {width: 1280, height: 900}})
    const base = new URL(server.url).origin
    page.on('request', (r) => {
      // (file: is the launcher page the test itself opens)
      if (!r.url().startsWith(`${base}/`) && !r.url().startsWith('file:')) outside.push(r.url())
    })
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text())
    })
    await page.goto(server.url)
  })

  after(async () => {
    await browser?.close()
    if (server?.child.exitCode === null) {
      const exited = new Promise<number | null>((resolve) => server.child.once('exit', resolve))
      server.child.kill('SIGTERM')
      // stopping cleanly: SIGTERM ends it with status 0
      assert.equal(await exited, 0)
    }
  })

  /** Pastes a token and a request, clicks Verify, waits for the verdict and saves a screenshot. */
  async function verify(state: string, token: string, request: {subject?: string; operation?: string; at?: string; keyId?: string} = {}): Promise<{verdict: string; blocks: number; failed: number}> {
    await page.getByTestId('token').fill(token)
    // a key id from the configuration, or the key pasted
    await page.locator('#key-id').selectOption(request.keyId ?? '')
    await page.getByTestId('key').fill(request.keyId === undefined ? pub : '')
    await page.getByTestId('subject').fill(request.subject ?? 'alice')
    await page.getByTestId('resource').fill('documents')
    await page.getByTestId('operation').fill(request.operation ?? 'read')
    await page.getByTestId('at').fill(request.at ?? '')
    await page.getByTestId('verdict').evaluate((e) => (e.textContent = ''))
    await page.getByTestId('verify').click()
    await page.locator('[data-testid="verdict"]:not(:empty)').waitFor({state: 'attached'})
    await page.screenshot({path: join(OUT, `${state}.png`), fullPage: true})
    return {
      verdict: (await page.getByTestId('verdict').textContent()) ?? '',
      blocks: await page.getByTestId('block').count(),
      failed: await page.getByTestId('failed-check').count(),
    }
  }

  it('valid: both blocks shown as cards, the third-party one with its signer', async () => {
    const r = await verify('valid', tokens.valid)
    assert.deepEqual(r, {verdict: 'valid', blocks: 2, failed: 0})
    const thirdParty = page.getByTestId('block').nth(1)
    assert.match((await thirdParty.textContent()) ?? '', /third-party[\s\S]*signed by ed25519\//)
    assert.match((await page.locator('#verify-result').textContent()) ?? '', /stops working\d{4}-\d\d-\d\dT/)
  })

  it('the time control: the same token as of two hours from now is expired', async () => {
    const r = await verify('valid-in-2h', tokens.valid, {at: '+2h'})
    assert.equal(r.verdict, 'expired')
    assert.ok(r.failed >= 1, 'the time check is pointed at')
  })

  it('denied: a token for another subject, its failing check pointed at in the authority block', async () => {
    const r = await verify('denied', tokens.denied)
    assert.deepEqual(r, {verdict: 'denied', blocks: 1, failed: 1})
    const failed = page.getByTestId('block').nth(0).getByTestId('failed-check')
    assert.match((await failed.textContent()) ?? '', /^check if subject\(\$s\), resource\(\$r\), operation\(\$o\), right\(\$s, \$r, \$o\);$/)
  })

  it('expired: a token whose time bound has passed', async () => {
    const r = await verify('expired', tokens.expired)
    assert.equal(r.verdict, 'expired')
    assert.equal(r.blocks, 1)
  })

  it('invalid: a token signed by another key (the key chosen from the configuration)', async () => {
    const r = await verify('forged', tokens.forged, {keyId: 'root'})
    assert.equal(r.verdict, 'invalid')
    assert.equal(r.blocks, 1, 'a forged token is still decoded and shown')
    assert.match((await page.locator('#verify-result').textContent()) ?? '', /key id root/)
  })

  it('authorizes with your own Datalog, as of a time', async () => {
    await page.getByTestId('token').fill(tokens.valid)
    await page.getByTestId('at').fill('now')
    const verdict = page.locator('#authorize-result .verdict')
    await page.locator('#authorizer').fill('subject("alice"); resource("documents"); operation("read");\nallow if right($s, "documents", "read");')
    await page.locator('#authorize').click()
    assert.equal(await until(() => verdict.textContent().then((t) => t ?? '')), 'authorized')
    await page.locator('#authorizer').fill('subject("alice"); resource("documents"); operation("write");\nallow if right($s, "documents", "write");')
    await verdict.evaluate((e) => (e.textContent = ''))
    await page.locator('#authorize').click()
    assert.equal(await until(() => verdict.textContent().then((t) => t ?? '')), 'not authorized')
    await page.screenshot({path: join(OUT, 'authorize-denied.png'), fullPage: true})
  })

  it('attenuates: the new token, checked with the CLI, has the added check', async () => {
    await verify('before-attenuation', tokens.valid)
    await page.getByTestId('attenuate-check').fill('operation("read")')
    await page.getByTestId('attenuate').click()
    const attenuated = await until(() => page.getByTestId('new-token').inputValue())
    await page.screenshot({path: join(OUT, 'attenuated.png'), fullPage: true})
    const args = ['--key', join(dir, 'root.pub'), '--subject', 'alice', '--resource', 'documents']
    const read = cli(['verify', attenuated, ...args, '--operation', 'read'])
    assert.equal(read.status, 0, read.stderr)
    const write = cli(['verify', attenuated, ...args, '--operation', 'write', '--json'])
    assert.equal(write.status, 1, write.stderr)
    assert.ok(json<{failed_checks: {block: number}[]}>(write.stdout).failed_checks.some((f) => f.block === 2), write.stdout)
    const inspected = json<{blocks: {code: string}[]}>(cli(['inspect', attenuated, '--json']).stdout)
    assert.equal(inspected.blocks.length, 3)
    assert.match(inspected.blocks[2].code, /check if operation\("read"\);/)
    // and in the page: three cards (authority, third-party, attenuation), the new check failing for a write
    const r = await verify('attenuated-write', attenuated, {operation: 'write'})
    assert.equal(r.verdict, 'denied')
    assert.equal(r.blocks, 3)
    assert.equal(await page.getByTestId('block').nth(2).getByTestId('failed-check').textContent(), 'check if operation("read");')
  })

  describe('first hour (issue 26)', () => {
    const cards = () => page.getByTestId('block').count()
    before(async () => {
      await page.goto(server.url) // (the tests above end on other pages)
    })
    it('11. pasting garbage or emptying the box after a verdict leaves nothing of it on screen', async () => {
      const r = await verify('denied-before-garbage', tokens.denied)
      assert.deepEqual(r, {verdict: 'denied', blocks: 1, failed: 1})
      await page.getByTestId('token').fill('this is not a token')
      await page.getByTestId('error').waitFor({state: 'visible'})
      assert.equal(await cards(), 0, 'no block card of the previous token')
      assert.equal(await page.getByTestId('failed-check').count(), 0, 'no old red highlight')
      assert.equal(await page.locator('#verify-result').isHidden(), true, 'no old verdict')
      await page.screenshot({path: join(OUT, 'garbage-after-denied.png'), fullPage: true})
      await verify('denied-before-empty', tokens.denied)
      await page.getByTestId('token').fill('')
      await page.locator('#verify-result').waitFor({state: 'hidden'})
      assert.equal(await cards(), 0)
      assert.equal(await page.getByTestId('error').isHidden(), true)
    })
    it('11. a Datalog error from Attenuate replaces the previous result', async () => {
      await verify('valid-before-bad-attenuation', tokens.valid)
      await page.getByTestId('attenuate-check').fill('this is not datalog (')
      await page.getByTestId('attenuate').click()
      await page.getByTestId('error').waitFor({state: 'visible'})
      assert.equal(await page.locator('#verify-result').isHidden(), true)
      assert.equal(await cards(), 0)
      await page.getByTestId('attenuate-check').fill('')
    })
    it('12. the default authorizer authorizes a fresh valid token (time is now), and is shown as run', async () => {
      await page.goto(server.url) // the page's own default authorizer, untouched
      await page.getByTestId('token').fill(tokens.valid)
      await page.getByTestId('key').fill(pub)
      const verdict = page.locator('#authorize-result .verdict')
      await page.locator('#authorize').click()
      assert.equal(await until(() => verdict.textContent().then((t) => t ?? '')), 'authorized')
      const run = (await page.getByTestId('authorizer-run').textContent()) ?? ''
      assert.match(run, /^authorizer as runtime\(\d{10}\);subject\("alice"\);/)
      await page.screenshot({path: join(OUT, 'default-authorizer.png'), fullPage: true})
    })
    it('13. dates next to time bounds, and an expiry line in words', async () => {
      await verify('dates', tokens.valid)
      assert.match((await page.getByTestId('expiry').textContent()) ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in (\d+ minutes|1 hour)\)$/)
      const date = (await page.getByTestId('block').nth(0).getByTestId('time-bound-date').textContent()) ?? ''
      assert.match(date, /\/\/ \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/)
    })
    it('14. cards say "unverified" until the signatures check; rights are labelled as the authority block grants', async () => {
      await verify('forged-unverified', tokens.forged, {keyId: 'root'})
      assert.equal(await page.getByTestId('unverified').count(), 1, 'the forged token\'s card is marked')
      await verify('valid-verified', tokens.valid)
      assert.equal(await page.getByTestId('unverified').count(), 0, 'a verified token\'s cards are not')
      await page.getByTestId('token').fill(tokens.denied)
      await until(async () => ((await page.getByTestId('unverified').count()) > 0 ? 'marked' : ''))
      await page.getByTestId('token').fill(tokens.valid)
      await page.getByTestId('attenuate-check').fill('operation("read")')
      await page.getByTestId('attenuate').click()
      const attenuated = await until(() => page.getByTestId('new-token').inputValue())
      await page.getByTestId('attenuate-check').fill('')
      await verify('attenuated-rights', attenuated)
      const rights = (await page.getByTestId('rights').textContent()) ?? ''
      assert.match(rights, /alice may read documents \(narrowed by the 2 blocks after it: Verify says what a request gets\)/)
      assert.match((await page.locator('#summary').textContent()) ?? '', /rights granted by the authority block/)
      assert.match((await page.getByTestId('block').nth(2).textContent()) ?? '', /narrows the rights above/)
    })
  })

  it('the launcher file given to xdg-open leads the browser to the page', async () => {
    const launcher = writeLauncher(server.url)
    try {
      await page.goto(pathToFileURL(launcher.file).href)
      await page.waitForURL(server.url)
      assert.equal(await page.getByTestId('verify').count(), 1)
    } finally {
      launcher.remove()
    }
  })

  it('refuses a request without the secret', async () => {
    const bare = await page.goto(new URL(server.url).origin + '/')
    assert.equal(bare?.status(), 403)
    await page.screenshot({path: join(OUT, 'refused.png')})
    const api = await page.request.post(new URL(server.url).origin + '/api/verify', {data: {token: tokens.valid, resource: 'documents'}})
    assert.equal(api.status(), 403)
  })

  it('fetched nothing from anywhere else and broke no Content-Security-Policy rule', () => {
    assert.deepEqual(outside, [])
    assert.deepEqual(cspViolations, [])
  })
})
