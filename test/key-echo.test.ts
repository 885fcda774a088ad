/**
 * Key material is never echoed (issue 18, defect 8): not in messages, hints, or --json errors, whether the
 * key is given whole, truncated, or as bare hex where a file path was expected.
 */
import {strict as assert} from 'node:assert'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {cli, requireNative, tempDir} from './helpers.js'

describe('key material is never echoed', function () {
  this.timeout(120_000)
  let dir: string
  let pem: string
  /** the secret parts: every base64 line of the PEM body */
  let secrets: string[]

  before(() => {
    requireNative()
    dir = tempDir()
    const g = cli(['keys', 'generate', '--out', join(dir, 'root.pem')])
    assert.equal(g.status, 0, g.stderr)
    pem = readFileSync(join(dir, 'root.pem'), 'utf8')
    secrets = pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'))
    assert.ok(secrets.length > 0)
  })

  const assertNoSecret = (r: {stdout: string; stderr: string}, secret: string[]) => {
    for (const s of secret) {
      assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), `key material echoed: ${r.stdout}${r.stderr}`)
    }
    assert.doesNotMatch(r.stdout + r.stderr, /BEGIN PRIVATE KEY/)
  }

  it('keys add ID -- "$(cat root.pem)": refused without showing the key, human and --json', () => {
    const config = join(dir, 'config.json')
    for (const extra of [[], ['--json']]) {
      const r = cli(['keys', 'add', '--config', config, ...extra, 'leak', '--', pem])
      assert.equal(r.status, 2, r.stdout + r.stderr)
      assert.match(r.stdout + r.stderr, /the key given holds a PRIVATE key/)
      assertNoSecret(r, secrets)
    }
    const file = cli(['keys', 'add', '--config', config, 'leak', join(dir, 'root.pem')])
    assert.equal(file.status, 2)
    assert.match(file.stderr, /key file .*root\.pem holds a PRIVATE key/, 'a file is named by its path')
  })

  it('a private key where a file path was expected is not echoed (truncated PEM, bare hex)', () => {
    const hex = 'a1'.repeat(32)
    const truncated = secrets[0].slice(0, 48)
    for (const spec of [hex, truncated]) {
      for (const extra of [[], ['--json']]) {
        const r = cli(['token', 'mint', '--private-key', spec, '--subject', 'a', '--resource', 'r', '--operation', 'o', ...extra])
        assert.notEqual(r.status, 0)
        assertNoSecret(r, [spec])
      }
    }
  })
})
