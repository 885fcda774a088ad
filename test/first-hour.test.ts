/**
 * Issue 26 ("first hour, second pass"): what a new user still tripped over, end to end through the
 * built CLI (bin/run.js). Needs the native library (fails, never skips, when it is missing).
 */
import {strict as assert} from 'node:assert'
import {spawnSync} from 'node:child_process'
import {chmodSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {BIN, cli, cliKeyAndToken, json, requireNative} from './helpers.js'

describe('first hour (issue 26)', function () {
  this.timeout(120_000)
  let dir: string
  let rootPem: string
  let pub: string
  let token: string

  before(() => {
    requireNative()
    ;({dir, rootPem, pub, token} = cliKeyAndToken())
  })

  describe('1. did you mean, everywhere', () => {
    it("biscuit-cli's verbs suggest the hessra commands", () => {
      for (const [verb, want] of [['attenuate', 'token attenuate'], ['mint', 'token mint'], ['generate', 'keys generate']]) {
        const r = cli([verb])
        assert.equal(r.status, 2, r.stderr)
        assert.match(r.stderr, new RegExp(`did you mean \`hessra ${want}\``), `${verb}: ${r.stderr}`)
      }
    })
    it('a mistyped flag suggests the flag, on both paths of verify and on any command', () => {
      for (const env of [{}, {HESSRA_NO_FAST_PATH: '1'}]) {
        const r = cli(['verify', token, '--key', pub, '--subjet', 'alice', '-r', 'documents'], {env})
        assert.equal(r.status, 2, r.stderr)
        assert.match(r.stderr, /did you mean `--subject`\?/)
        assert.ok(!r.stderr.includes(token), 'the token is never echoed')
      }
      const i = cli(['inspect', token, '--keyid', 'dev', '--json'])
      assert.equal(i.status, 2)
      assert.match(json<{error: {hint: string}}>(i.stdout).error.hint, /did you mean `--key-id`\?/)
    })
  })

  describe('3. one name for one failure', () => {
    it("inspect --key on a forged token reports the verifier's status and reason", () => {
      const otherPem = join(dir, 'other.pem')
      assert.equal(cli(['keys', 'generate', '--out', otherPem]).status, 0)
      const forged = cli(['token', 'mint', '-p', otherPem, '-s', 'alice', '-r', 'documents', '-o', 'read']).stdout.trim()
      const v = json<{status: string; reason: string}>(cli(['verify', forged, '--key', pub, '-s', 'alice', '-r', 'documents', '--json']).stdout)
      assert.equal(v.status, 'invalid')
      const i = cli(['inspect', forged, '--key', pub, '--json'])
      assert.equal(i.status, 1)
      const e = json<{error: {code: string; message: string}}>(i.stdout).error
      assert.equal(e.code, v.status)
      assert.equal(e.message, v.reason)
      const h = cli(['inspect', forged, '--key', pub])
      assert.match(h.stderr, /error: signature verification failed \(block 0/)
    })
    it('verify --json calls subject mode "subject"', () => {
      const r = json<{mode: string; token_kind: string}>(cli(['verify', token, '--key', pub, '-s', 'alice', '-r', 'documents', '--json']).stdout)
      assert.equal(r.mode, 'subject')
      assert.equal(r.token_kind, 'authorization')
    })
  })

  describe('4. truthful messages', () => {
    let id: string
    before(() => {
      const m = cli(['identity', 'mint', '-p', rootPem, '--subject', 'urn:hessra:alice', '--delegatable', '--ttl', '1h'])
      assert.equal(m.status, 0, m.stderr)
      id = m.stdout.trim()
    })
    it('identity delegate prints the effective expiry: the parent lapses first', () => {
      const d = cli(['identity', 'delegate', id, '--key', pub, '--to', 'urn:hessra:alice:laptop', '--ttl', '1d'])
      assert.equal(d.status, 0, d.stderr)
      assert.doesNotMatch(d.stderr, /in 1 day/)
      assert.match(d.stderr, /expires \S+ \(in (1 hour|59 minutes)\), with its parent token/)
      const j = json<{expires_at: number; requested_expires_at: number}>(cli(['identity', 'delegate', id, '--key', pub, '--to', 'urn:hessra:alice:laptop', '--ttl', '1d', '--json']).stdout)
      assert.ok(j.requested_expires_at - j.expires_at > 22 * 3600, JSON.stringify(j))
    })
    it('an identity token verified with --subject says what it is and which flag to use', () => {
      const r = cli(['verify', id, '--key', pub, '--subject', 'urn:hessra:alice', '-r', 'documents'])
      assert.equal(r.status, 1)
      assert.match(r.stdout, /not an authorization token/)
      assert.doesNotMatch(r.stdout, /actor\(\$a\)/)
      assert.match(r.stderr, /hint: this is an identity token: verify it with `--identity ID`/)
      const back = cli(['verify', token, '--key', pub, '--identity', 'urn:hessra:alice'])
      assert.match(back.stderr, /hint: this is an authorization token: verify it with `--subject S --resource R/)
      assert.equal(json<{token_kind: string}>(cli(['verify', id, '--key', pub, '-s', 'x', '-r', 'y', '--json']).stdout).token_kind, 'identity')
    })
    it('authorize without --authorizer says what it needs, not oclif\'s "Missing required flag"', () => {
      const r = cli(['authorize', token, '--key', pub])
      assert.equal(r.status, 2)
      assert.doesNotMatch(r.stderr, /Missing required flag/)
      assert.match(r.stderr, /an authorizer is required: --authorizer FILE/)
    })
    it('token mint -p TOKEN-FILE says it holds a token, not a key', () => {
      const f = join(dir, 'alice.tok')
      writeFileSync(f, token + '\n')
      const r = cli(['token', 'mint', '-p', f, '-s', 'a', '-r', 'b', '-o', 'c'])
      assert.equal(r.status, 3)
      assert.match(r.stderr, /alice\.tok holds a token, not a private key/)
      assert.ok(!r.stderr.includes(token))
    })
  })

  describe('5. keys from a pipe', () => {
    const sh = (script: string) => spawnSync('bash', ['-c', script], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1', HOME: dir}, cwd: dir})
    it('--private-key <(cat FILE) mints; --key <(...) verifies', () => {
      const r = sh(`node ${BIN} token mint -p <(cat ${rootPem}) -s alice -r documents -o read`)
      assert.equal(r.status, 0, r.stderr)
      const v = sh(`node ${BIN} verify ${r.stdout.trim()} --key <(echo ${pub}) -s alice -r documents`)
      assert.equal(v.status, 0, v.stdout + v.stderr)
    })
    it('a pipe over the size bound is refused, not read to the end', () => {
      const r = sh(`node ${BIN} token mint -p <(head -c 200000 /dev/zero) -s a -r b -o c`)
      assert.equal(r.status, 3, r.stderr)
      assert.match(r.stderr, /too large to be a key/)
    })
    it('directories, devices and files anyone may write are still refused', () => {
      const sub = join(dir, 'keydir')
      mkdirSync(sub, {recursive: true})
      assert.match(cli(['token', 'mint', '-p', sub, '-s', 'a', '-r', 'b', '-o', 'c']).stderr, /is a directory/)
      assert.match(cli(['token', 'mint', '-p', '/dev/zero', '-s', 'a', '-r', 'b', '-o', 'c']).stderr, /not a regular file/)
      const open = join(dir, 'open.pem')
      writeFileSync(open, '')
      chmodSync(open, 0o666)
      const w = cli(['token', 'mint', '-p', open, '-s', 'a', '-r', 'b', '-o', 'c'])
      assert.equal(w.status, 3)
      assert.match(w.stderr, /could be replaced by another user \(anyone may write it\)/)
    })
  })

  describe('13, 14. inspect: dates next to time bounds, rights labelled as the authority block grants', () => {
    it('shows the date of a time bound next to it, and says later blocks narrow the rights', () => {
      const att = cli(['token', 'attenuate', token, '--key', pub, '--check', 'operation("read")'])
      assert.equal(att.status, 0, att.stderr)
      const r = cli(['inspect', att.stdout.trim()])
      assert.equal(r.status, 0, r.stderr)
      assert.match(r.stdout, /check if time\(\$t\), \$t < \d+; {3}\/\/ \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(expires in \d+ minutes\)/)
      assert.match(r.stdout, /rights granted by the authority block:\n {2}alice may read documents\n {2}\(the block after it narrows them: `hessra verify` says what a request gets\)/)
      const j = json<{blocks: {expires_at: number | null}[]; expires_at: number}>(cli(['inspect', token, '--json']).stdout)
      assert.equal(j.blocks[0].expires_at, j.expires_at, "the engine's per-block bound")
    })
  })
})
