/**
 * The CLI as users and scripts see it: bin/run.js spawned for every exit code, human and --json.
 * Needs the native library (fails, never skips, when it is missing).
 */
import {strict as assert} from 'node:assert'
import {statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {cli, json, requireNative, tempDir} from './helpers.js'

describe('hessra CLI', function () {
  this.timeout(120_000)
  let dir: string
  let rootPem: string
  let pub: string
  let token: string
  let expired: string

  before(() => {
    requireNative()
    dir = tempDir()
    rootPem = join(dir, 'root.pem')
    const g = cli(['keys', 'generate', '--out', rootPem])
    assert.equal(g.status, 0, g.stderr)
    pub = g.stdout.trim()
    assert.match(pub, /^ed25519\/[0-9a-f]{64}$/)
    const m = cli(['token', 'mint', '--private-key', rootPem, '--subject', 'alice', '--resource', 'documents', '--operation', 'read', '--ttl', '1h'])
    assert.equal(m.status, 0, m.stderr)
    token = m.stdout.trim()
    assert.match(token, /^[A-Za-z0-9_-]+=*$/, 'mint prints the token alone on stdout')
    const threeHoursAgo = new Date(Date.now() - 3 * 3600 * 1000).toISOString()
    const e = cli(['token', 'mint', '--private-key', rootPem, '--subject', 'alice', '--resource', 'documents', '--operation', 'read', '--ttl', threeHoursAgo])
    assert.equal(e.status, 0, e.stderr)
    expired = e.stdout.trim()
  })

  const args = (...extra: string[]) => ['verify', '--key', pub, '--subject', 'alice', '--resource', 'documents', ...extra]

  describe('exit 0: valid', () => {
    it('human', () => {
      const r = cli([...args('--operation', 'read'), token])
      assert.equal(r.status, 0, r.stderr)
      assert.match(r.stdout, /✔ valid/)
      assert.match(r.stdout, /expires in (59 minutes|1 hour)/)
    })
    it('--json', () => {
      const r = cli([...args('--operation', 'read', '--json'), token])
      assert.equal(r.status, 0, r.stderr)
      const j = json(r.stdout)
      assert.equal(j.valid, true)
      assert.equal(j.status, 'valid')
      assert.equal(j.exit_code, 0)
      assert.equal(typeof j.expires_at, 'number')
    })
    it('token from stdin (`-` and piped), --token-file, HESSRA_TOKEN, with Bearer and whitespace', () => {
      assert.equal(cli([...args(), '-'], {input: `Bearer ${token}\n`}).status, 0)
      assert.equal(cli(args(), {input: `${token}\n`}).status, 0)
      const f = join(dir, 'token.txt')
      writeFileSync(f, `  ${token.slice(0, 40)}\n${token.slice(40)}\n`)
      assert.equal(cli([...args(), '--token-file', f]).status, 0)
      assert.equal(cli(args(), {env: {HESSRA_TOKEN: `Bearer ${token}`}}).status, 0)
    })
    it('raw binary token file', () => {
      const f = join(dir, 'token.bc')
      writeFileSync(f, Buffer.from(token, 'base64url'))
      const r = cli([...args(), '--token-file', f])
      assert.equal(r.status, 0, r.stderr + r.stdout)
    })
    it('capability mode (no --subject), key from HESSRA_PUBLIC_KEY', () => {
      const r = cli(['verify', token, '--resource', 'documents', '--operation', 'read'], {env: {HESSRA_PUBLIC_KEY: pub}})
      assert.equal(r.status, 0, r.stderr)
    })
    it('key from the configuration (--config and --key-id)', () => {
      const cfg = join(dir, 'hessra.json')
      writeFileSync(cfg, JSON.stringify({version: 1, default_key: 'dev', keys: [{id: 'dev', public_key: pub}]}))
      assert.equal(cli(['verify', token, '--config', cfg, '--subject', 'alice', '--resource', 'documents']).status, 0)
      assert.equal(cli(['verify', token, '--config', cfg, '--key-id', 'dev', '--subject', 'alice', '--resource', 'documents']).status, 0)
      assert.equal(cli(['verify', token, '--subject', 'alice', '--resource', 'documents'], {env: {HESSRA_CONFIG: cfg}}).status, 0)
    })
    it('--at in the past (unix seconds and RFC 3339)', () => {
      const at = Math.floor(Date.now() / 1000) - 60
      assert.equal(cli([...args(), token, '--at', String(at)]).status, 0)
      assert.equal(cli([...args(), token, '--at', new Date(at * 1000).toISOString()]).status, 0)
    })
  })

  describe('exit 1: denied or expired', () => {
    it('wrong resource names the failing check', () => {
      const r = cli(['verify', token, '--key', pub, '--subject', 'alice', '--resource', 'payroll'])
      assert.equal(r.status, 1)
      assert.match(r.stdout, /✘ denied/)
      assert.match(r.stdout, /check if .*right\(\$s, \$r, \$o\)/)
      assert.ok(!r.stdout.includes(token) && !r.stderr.includes(token), 'the token is never printed')
    })
    it('wrong resource, --json', () => {
      const r = cli(['verify', token, '--key', pub, '--subject', 'alice', '--resource', 'payroll', '--json'])
      assert.equal(r.status, 1)
      const j = json(r.stdout)
      assert.equal(j.valid, false)
      assert.equal(j.status, 'denied')
      assert.match(String(j.reason), /check if/)
      assert.equal(j.exit_code, 1)
    })
    it('expired prints the expiry date and how long ago', () => {
      const r = cli([...args(), expired])
      assert.equal(r.status, 1)
      assert.match(r.stdout, /✘ expired/)
      assert.match(r.stdout, /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z \(expired (3 hours|2 hours|179 minutes) ago\)/)
    })
    it('expired, --json', () => {
      const r = cli([...args('--json'), expired])
      assert.equal(r.status, 1)
      const j = json(r.stdout)
      assert.equal(j.status, 'expired')
      assert.equal(typeof j.expires_at, 'number')
      assert.match(String(j.expires_at_rfc3339), /Z$/)
    })
    it('--at after the expiry, or a leeway that does not cover it', () => {
      const later = String(Math.floor(Date.now() / 1000) + 2 * 3600)
      assert.equal(cli([...args(), token, '--at', later]).status, 1)
      assert.equal(cli([...args(), token, '--at', later, '--leeway', '10']).status, 1)
    })
    it('a token signed by another key is denied', () => {
      const other = cli(['keys', 'generate', '--out', join(dir, 'other.pem')]).stdout.trim()
      const r = cli(['verify', token, '--key', other, '--subject', 'alice', '--resource', 'documents', '--json'])
      assert.equal(r.status, 1, r.stdout + r.stderr)
    })
    it('authorize: denied with failing checks, --json shape', () => {
      const az = join(dir, 'deny.dl')
      writeFileSync(az, 'allow if right("bob", "documents", "read");\n')
      const r = cli(['authorize', token, '--key', pub, '--authorizer', az, '--json'])
      assert.equal(r.status, 1, r.stderr)
      const j = json(r.stdout)
      assert.deepEqual(Object.keys(j).sort(), ['authorized', 'error', 'policy', 'policy_kind'])
      assert.equal(j.authorized, false)
    })
  })

  describe('exit 0: authorize and inspect', () => {
    it('authorize from a file and from stdin', () => {
      const now = Math.floor(Date.now() / 1000)
      const code = `time(${now}); subject("alice"); resource("documents"); operation("read");\nallow if right("alice", "documents", "read");\n`
      const az = join(dir, 'allow.dl')
      writeFileSync(az, code)
      const r = cli(['authorize', token, '--key', pub, '--authorizer', az, '--json'])
      assert.equal(r.status, 0, r.stdout + r.stderr)
      assert.deepEqual(json(r.stdout), {authorized: true, policy: 0, policy_kind: 'allow', error: null})
      const s = cli(['authorize', token, '--key', pub, '--authorizer', '-'], {input: code})
      assert.equal(s.status, 0, s.stdout + s.stderr)
      assert.match(s.stdout, /✔ authorized/)
    })
    it('inspect without a key says so, with a key verifies', () => {
      const r = cli(['inspect', token])
      assert.equal(r.status, 0, r.stderr)
      assert.match(r.stdout, /UNVERIFIED/)
      assert.match(r.stderr, /NOT verified/)
      assert.match(r.stdout, /right\("alice", "documents", "read"\)/)
      const v = cli(['inspect', token, '--key', pub, '--json'])
      assert.equal(v.status, 0, v.stderr)
      const j = json<{verified: boolean; rights: unknown[]; revocation_ids: string[]}>(v.stdout)
      assert.equal(j.verified, true)
      assert.deepEqual(j.rights, [{subject: 'alice', resource: 'documents', operation: 'read'}])
      assert.equal(j.revocation_ids.length, 1)
    })
  })

  describe('exit 3: malformed input', () => {
    it('garbage token', () => {
      const r = cli([...args(), 'this-is-not-a-token'])
      assert.equal(r.status, 3)
      assert.match(r.stderr, /not a token/)
    })
    it('garbage token, --json', () => {
      const r = cli([...args('--json'), 'this-is-not-a-token'])
      assert.equal(r.status, 3)
      const j = json<{ok: boolean; error: {code: string; exit_code: number}}>(r.stdout)
      assert.equal(j.ok, false)
      assert.equal(j.error.code, 'invalid_token')
      assert.equal(j.error.exit_code, 3)
    })
    it('bad key', () => {
      assert.equal(cli(['verify', token, '--key', 'ed25519/zz', '--resource', 'documents']).status, 3)
      assert.equal(cli(['verify', token, '--key', '/nonexistent/key.pem', '--resource', 'documents']).status, 3)
    })
    it('authorizer that does not parse', () => {
      const az = join(dir, 'bad.dl')
      writeFileSync(az, 'allow if right(\n')
      const r = cli(['authorize', token, '--key', pub, '--authorizer', az])
      assert.equal(r.status, 3, r.stdout + r.stderr)
    })
    it('bad --at', () => {
      assert.equal(cli([...args(), token, '--at', 'yesterday']).status, 2)
    })
  })

  describe('exit 4: configuration', () => {
    it('bad configuration file', () => {
      const bad = join(dir, 'bad-config.json')
      writeFileSync(bad, JSON.stringify({version: 1, default_key: 'x', keys: [{id: 'x', public_key: 'not a key'}]}))
      const r = cli(['verify', token, '--config', bad, '--resource', 'documents'])
      assert.equal(r.status, 4, r.stdout + r.stderr)
      const j = cli(['verify', token, '--config', bad, '--resource', 'documents', '--json'])
      assert.equal(j.status, 4)
      assert.equal(json<{error: {code: string}}>(j.stdout).error.code, 'config')
    })
    it('config validate points at the bad field', () => {
      const bad = join(dir, 'bad-field.json')
      writeFileSync(bad, JSON.stringify({version: 1, keys: [{id: 'a', public_key: pub}, {id: 'b', public_key: 'ed25519/1234'}]}))
      const r = cli(['config', 'validate', bad])
      assert.equal(r.status, 4)
      assert.match(r.stderr, /keys\[1\]/)
      const j = cli(['config', 'validate', bad, '--json'])
      assert.equal(j.status, 4)
      const body = json<{valid: boolean; problems: {field: string}[]}>(j.stdout)
      assert.equal(body.valid, false)
      assert.match(body.problems[0].field, /^keys\[1\]/)
      const shape = join(dir, 'bad-shape.json')
      writeFileSync(shape, JSON.stringify({version: 1, leeway_seconds: 'ten'}))
      const s = cli(['config', 'validate', shape, '--json'])
      assert.equal(s.status, 4)
      assert.equal(json<{problems: {field: string}[]}>(s.stdout).problems[0].field, 'leeway_seconds')
    })
    it('no key anywhere', () => {
      const r = cli(['verify', token, '--resource', 'documents'])
      assert.equal(r.status, 4)
      assert.match(r.stderr, /no public key/)
    })
    it('missing --config file', () => {
      assert.equal(cli(['config', 'show', '--config', join(dir, 'nope.json')]).status, 4)
    })
  })

  describe('exit 2: usage', () => {
    it('missing required flag, unknown flag, unknown command, no token', () => {
      assert.equal(cli(['verify', token]).status, 2)
      assert.equal(cli(['verify', token, '--resource', 'documents', '--bogus']).status, 2)
      assert.equal(cli(['frobnicate']).status, 2)
      assert.equal(cli(['verify', '--resource', 'documents', '--key', pub]).status, 2)
    })
    it('usage errors with --json are JSON too', () => {
      const r = cli(['verify', token, '--json'])
      assert.equal(r.status, 2)
      const j = json<{error: {code: string; exit_code: number}}>(r.stdout)
      assert.equal(j.error.code, 'usage')
      assert.equal(j.error.exit_code, 2)
    })
  })

  describe('exit 5: environment', () => {
    it('missing native library: clear message, no stack trace', () => {
      const r = cli([...args(), token], {env: {HESSRA_FFI_LIB: join(dir, 'missing', 'libhessra_ffi.so')}})
      assert.equal(r.status, 5)
      assert.match(r.stderr, /native library/)
      assert.match(r.stderr, /npm run build:native/)
      assert.doesNotMatch(r.stderr, /\n\s+at /)
    })
  })

  describe('keys and config', () => {
    it('keys generate writes 0600 and refuses to overwrite without --force', () => {
      const f = join(dir, 'k.pem')
      assert.equal(cli(['keys', 'generate', '--out', f, '--algorithm', 'secp256r1']).status, 0)
      assert.equal(statSync(f).mode & 0o777, 0o600)
      const again = cli(['keys', 'generate', '--out', f])
      assert.equal(again.status, 2)
      assert.match(again.stderr, /--force/)
      assert.equal(cli(['keys', 'generate', '--out', f, '--force']).status, 0)
      assert.equal(statSync(f).mode & 0o777, 0o600)
    })
    it('config init/path/set/get/show, keys add/list/remove', () => {
      const home = tempDir()
      const env = {HOME: home}
      assert.equal(cli(['config', 'path'], {env, cwd: home}).status, 4)
      const init = cli(['config', 'init', '--key', pub, '--id', 'dev'], {env, cwd: home})
      assert.equal(init.status, 0, init.stderr)
      assert.equal(init.stdout.trim(), join(home, '.config', 'hessra', 'config.json'))
      assert.equal(cli(['config', 'init'], {env, cwd: home}).status, 2, 'no overwrite without --force')
      assert.equal(cli(['config', 'path'], {env, cwd: home}).stdout.trim(), join(home, '.config', 'hessra', 'config.json'))
      assert.equal(cli(['config', 'set', 'leeway_seconds', '30'], {env, cwd: home}).status, 0)
      assert.equal(cli(['config', 'get', 'leeway_seconds'], {env, cwd: home}).stdout.trim(), '30')
      assert.equal(cli(['config', 'set', 'leeway_seconds', 'thirty'], {env, cwd: home}).status, 4)
      assert.equal(cli(['config', 'get', 'nope'], {env, cwd: home}).status, 4)
      const other = cli(['keys', 'generate', '--out', join(home, 'edge.pem'), '--id', 'edge', '--add', '--root-key-id', '3'], {env, cwd: home})
      assert.equal(other.status, 0, other.stderr)
      const list = json<{keys: {id: string; default: boolean; root_key_id: number | null}[]}>(cli(['keys', 'list', '--json'], {env, cwd: home}).stdout)
      assert.deepEqual(list.keys.map((k) => [k.id, k.default, k.root_key_id]), [['dev', true, null], ['edge', false, 3]])
      assert.equal(cli(['keys', 'add', 'dev', pub], {env, cwd: home}).status, 2, 'duplicate id needs --force')
      assert.equal(cli(['keys', 'remove', 'dev'], {env, cwd: home}).status, 0)
      assert.equal(cli(['config', 'get', 'default_key'], {env, cwd: home}).stdout.trim(), 'edge')
      assert.equal(cli(['keys', 'remove', 'dev'], {env, cwd: home}).status, 4)
      assert.equal(cli(['config', 'validate'], {env, cwd: home}).status, 0)
      const show = json<{config: {leeway_seconds: number}; overrides: Record<string, boolean>}>(cli(['config', 'show', '--json'], {env: {...env, HESSRA_PUBLIC_KEY: pub}, cwd: home}).stdout)
      assert.equal(show.config.leeway_seconds, 30)
      assert.equal(show.overrides.HESSRA_PUBLIC_KEY, true)
    })
  })

  describe('help', () => {
    it('root and every command show examples', () => {
      const root = cli(['--help'])
      assert.equal(root.status, 0)
      assert.match(root.stdout, /EXAMPLES/)
      const commands = ['verify', 'authorize', 'inspect', 'keys generate', 'keys public', 'keys list', 'keys add', 'keys remove', 'config init', 'config show', 'config path', 'config validate', 'config get', 'config set', 'token mint', 'token attenuate', 'token attest', 'token seal']
      for (const c of commands) {
        const r = cli([...c.split(' '), '--help'])
        assert.equal(r.status, 0, c)
        assert.match(r.stdout, /EXAMPLES/, `${c} --help has examples`)
        assert.match(r.stdout, /\$ hessra /, `${c} --help examples are commands`)
      }
    })
  })

  describe('verify fast path (bin/run.js)', () => {
    // `hessra verify` skips oclif's command machinery; with HESSRA_NO_FAST_PATH=1 it goes through oclif.
    // Both must print the same and exit the same, for every outcome.
    it('matches the oclif command: output, --json, exit codes, stdin', () => {
      const at = ['--at', String(Math.floor(Date.now() / 1000))]
      const cfg = join(dir, 'fast-config.json')
      writeFileSync(cfg, JSON.stringify({version: 1, default_key: 'dev', keys: [{id: 'dev', public_key: pub}]}))
      const bad = join(dir, 'fast-bad-config.json')
      writeFileSync(bad, '{"version": 1, "keys": [')
      const cases: {argv: string[]; input?: string; env?: Record<string, string>}[] = [
        {argv: [...args('--operation', 'read'), token, ...at]},
        {argv: [...args('--operation', 'read', '--json'), token, ...at]},
        {argv: [...args('--operation', 'write'), token, ...at]},
        {argv: [...args('--operation', 'write', '--json'), token, ...at]},
        {argv: [...args(), expired, ...at]},
        {argv: [...args('--json'), expired, ...at]},
        {argv: [...args(), '-', ...at], input: `Bearer ${token}\n`},
        {argv: [...args('--json'), ...at], input: `${token}\n`},
        {argv: ['verify', token, '--resource', 'documents', '-o', 'read', ...at], env: {HESSRA_PUBLIC_KEY: pub}},
        {argv: ['verify', token, '--config', cfg, '-s', 'alice', '-r', 'documents', ...at]},
        {argv: ['verify', token, '--config', bad, '--resource', 'documents']},
        {argv: ['verify', token, '--config', bad, '--resource', 'documents', '--json']},
        {argv: ['verify', token, '--key', 'ed25519/zz', '--resource', 'documents']},
        {argv: ['verify', token, '--key', 'ed25519/zz', '--resource', 'documents', '--json']},
        {argv: ['verify', token, '--resource', 'documents']},
        {argv: ['verify', token]},
        {argv: ['verify', token, '--json']},
        {argv: ['verify', token, '--resource', 'documents', '--bogus']},
        {argv: ['verify', token, '--resource', 'documents', 'extra']},
        {argv: ['verify', token, '--key', pub, '--key-id', 'dev', '--resource', 'documents', '--json']},
        {argv: ['verify', token, '--key', pub, '--resource', 'documents', '--leeway', '-1']},
        {argv: ['verify', token, '--key', pub, '--resource', 'documents', '--at', 'yesterday', '--json']},
        {argv: ['verify', '--resource', 'documents', '--key', pub]},
        {argv: ['verify', 'not-a-token', '--key', pub, '--resource', 'documents']},
      ]
      for (const c of cases) {
        const fast = cli(c.argv, {input: c.input, env: c.env})
        const slow = cli(c.argv, {input: c.input, env: {...c.env, HESSRA_NO_FAST_PATH: '1'}})
        const what = c.argv.join(' ').replace(token, 'TOKEN').replace(expired, 'EXPIRED')
        // Relative times ("8 seconds ago") are rendered against the wall clock, which moves between the
        // two runs on a loaded machine; everything else must match exactly.
        assert.deepEqual(withoutRelativeTimes(fast), withoutRelativeTimes(slow), what)
      }
    })
  })
})

/**
 * Blanks the wall-clock-relative parts of human output ("(8 seconds ago)", "(expires in 57 minutes)"). The
 * "checked at" line shows one only when the time checked is more than 5 s from now, so whether it is there
 * at all depends on the clock too: it is dropped.
 */
function withoutRelativeTimes<T extends {stdout: string; stderr: string}>(r: T): T {
  const blank = (s: string) =>
    s.replace(/\((?:expires in |expired )?[^()]*?\b(?:ago|seconds?|minutes?|hours?|days?)\)/g, '(…)').replace(/(checked at: \S+) \(…\)/g, '$1')
  return {...r, stdout: blank(r.stdout), stderr: blank(r.stderr)}
}
