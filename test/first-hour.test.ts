/**
 * Issue 26 ("first hour, second pass"): what a new user still tripped over, end to end through the
 * built CLI (bin/run.js). Needs the native library (fails, never skips, when it is missing).
 */
import {strict as assert} from 'node:assert'
import {join} from 'node:path'

import {cli, json, requireNative, tempDir} from './helpers.js'

describe('first hour (issue 26)', function () {
  this.timeout(120_000)
  let dir: string
  let rootPem: string
  let pub: string
  let token: string

  before(() => {
    requireNative()
    dir = tempDir()
    rootPem = join(dir, 'root.pem')
    const g = cli(['keys', 'generate', '--out', rootPem])
    assert.equal(g.status, 0, g.stderr)
    pub = g.stdout.trim()
    const m = cli(['token', 'mint', '--private-key', rootPem, '--subject', 'alice', '--resource', 'documents', '--operation', 'read'])
    assert.equal(m.status, 0, m.stderr)
    token = m.stdout.trim()
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
})
