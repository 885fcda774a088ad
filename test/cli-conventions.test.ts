/**
 * The CLI's conventions (issue 15): what a new user expects from gh, biscuit-cli, step or any oclif CLI.
 * Runs the built CLI (bin/run.js). Needs the native library (fails, never skips, when it is missing).
 */
import {strict as assert} from 'node:assert'
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {BIN, cli, json, requireNative, ROOT, tempDir} from './helpers.js'

describe('hessra CLI conventions', function () {
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

  describe('repeatable flags leave the token alone (any position)', () => {
    it('attenuate --check A TOKEN, and --check A --check B TOKEN', () => {
      const one = cli(['token', 'attenuate', '--key', pub, '--check', 'operation("read")', token])
      assert.equal(one.status, 0, one.stderr)
      const two = cli(['token', 'attenuate', '--key', pub, '--check', 'operation("read")', '--check', 'resource("documents")', token, '--json'])
      assert.equal(two.status, 0, two.stderr)
      const block = String(json(two.stdout).block)
      assert.match(block, /check if operation\("read"\);\ncheck if resource\("documents"\);/)
      const v = cli(['verify', json(two.stdout).token as string, '--key', pub, '-s', 'alice', '-r', 'documents', '-o', 'read'])
      assert.equal(v.status, 0, v.stdout + v.stderr)
    })
    it('attenuate --param NAME=VALUE TOKEN', () => {
      const f = join(dir, 'block.dl')
      writeFileSync(f, 'check if operation({op});\n')
      const r = cli(['token', 'attenuate', '--key', pub, '--datalog', f, '--param', 'op=read', token, '--json'])
      assert.equal(r.status, 0, r.stderr)
      const i = cli(['inspect', json(r.stdout).token as string, '--json'])
      assert.match((json(i.stdout).blocks as {code: string}[])[1].code, /check if operation\("read"\)/)
    })
    it('mint --service-node C=KEY, then attest with the token after --component', () => {
      const nodePem = join(dir, 'node.pem')
      const nodePub = cli(['keys', 'generate', '--out', nodePem]).stdout.trim()
      const m = cli(['token', 'mint', '-p', rootPem, '-s', 'alice', '-r', 'orders', '-o', 'read', '--service-node', `auth=${nodePub}`, '--service-node', `pay=${nodePub}`])
      assert.equal(m.status, 0, m.stderr)
      const i = cli(['inspect', m.stdout.trim(), '--json'])
      assert.deepEqual(
        (json(i.stdout).service_nodes as {component: string}[]).map((n) => n.component),
        ['auth', 'pay'],
      )
    })
  })

  describe('time input', () => {
    const facts = 'subject("alice"); resource("documents"); operation("read");\nallow if true;\n'
    it('verify --at takes relative times; authorize --at adds time(AT) in unix seconds', () => {
      const v = (at: string) => cli(['verify', token, '--key', pub, '-s', 'alice', '-r', 'documents', '--at', at]).status
      assert.equal(v('-30m'), 0)
      assert.equal(v('+2h'), 1, 'the token lives an hour')
      assert.equal(v('now'), 0)
      const az = (...extra: string[]) => cli(['authorize', token, '--key', pub, '--authorizer', '-', ...extra], {input: facts})
      assert.equal(az('--at', 'now').status, 0, az('--at', 'now').stdout)
      assert.equal(az('--at', '+2h').status, 1)
      assert.equal(az().status, 1, 'no time fact: the time check fails')
    })
    it('a date literal in the authorizer gets a hint about unix seconds', () => {
      const r = cli(['authorize', token, '--key', pub, '--authorizer', '-'], {input: `time(2026-12-02T17:00:00Z); ${facts}`})
      assert.equal(r.status, 1)
      assert.match(r.stderr, /integer unix seconds: write time\(1796230800\) instead of time\(2026-12-02T17:00:00Z\)/)
    })
    it('inspect --at judges the expiry at that time', () => {
      const later = json(cli(['inspect', token, '--at', '+2h', '--json']).stdout)
      assert.equal(later.expired, true)
      assert.equal(json(cli(['inspect', token, '--json']).stdout).expired, false)
      assert.match(cli(['inspect', token, '--at', '+2h']).stdout, /expires: .*\(expired /)
    })
    it('a bad --ttl or --at, or a missing --token-file, is a usage error (exit 2)', () => {
      assert.equal(cli(['token', 'mint', '-p', rootPem, '-s', 'a', '-r', 'b', '-o', 'c', '--ttl', 'soon']).status, 2)
      assert.equal(cli(['token', 'attenuate', token, '--key', pub, '--ttl', '5x']).status, 2)
      assert.equal(cli(['verify', token, '--key', pub, '-r', 'documents', '--at', '-5x']).status, 2)
      const f = cli(['verify', '--token-file', join(dir, 'missing.txt'), '--key', pub, '-r', 'documents'])
      assert.equal(f.status, 2)
      assert.match(f.stderr, /cannot read token file/)
    })
    it('attenuate --ttl beyond the token\'s own expiry warns', () => {
      const long = cli(['token', 'attenuate', token, '--key', pub, '--ttl', '2h'])
      assert.equal(long.status, 0, long.stderr)
      assert.match(long.stderr, /warning: --ttl ends .* after the token's own expiry/)
      const short = cli(['token', 'attenuate', token, '--key', pub, '--ttl', '5m'])
      assert.doesNotMatch(short.stderr, /warning/)
    })
  })

  it('a private key given as the verification key warns, without echoing it (both verify paths)', () => {
    const pem = readFileSync(rootPem, 'utf8')
    for (const env of [{}, {HESSRA_NO_FAST_PATH: '1'}]) {
      const r = cli(['verify', token, '--key', rootPem, '-r', 'documents'], {env})
      assert.equal(r.status, 0, r.stderr)
      assert.match(r.stderr, /warning: --key is a PRIVATE key/)
      const t = cli(['verify', token, '--key', pem, '-r', 'documents'], {env})
      assert.match(t.stderr, /warning: --key is a PRIVATE key/)
      assert.ok(!t.stderr.includes(pem.split('\n')[1]), 'the key is not echoed')
    }
    assert.doesNotMatch(cli(['verify', token, '--key', pub, '-r', 'documents']).stderr, /warning/)
    assert.match(cli(['inspect', token, '--key', rootPem]).stderr, /warning: --key is a PRIVATE key/)
    assert.match(cli(['verify', token, '-r', 'documents'], {env: {HESSRA_PUBLIC_KEY: rootPem}}).stderr, /warning: HESSRA_PUBLIC_KEY is a PRIVATE key/)
  })

  describe('configuration', () => {
    it('config set refuses an unknown field with a suggestion, and writes nothing', () => {
      const cfg = join(dir, 'set.json')
      const r = cli(['config', 'set', 'leeway_secs', '5', '--config', cfg])
      assert.equal(r.status, 2, r.stderr)
      assert.match(r.stderr, /`leeway_secs` is not a configuration field/)
      assert.match(r.stderr, /did you mean `leeway_seconds`\?/)
      assert.equal(existsSync(cfg), false)
      const l = cli(['config', 'set', 'limits.max_tme_ms', '5', '--config', cfg])
      assert.match(l.stderr, /did you mean `limits.max_time_ms`\?/)
      assert.equal(cli(['config', 'set', 'leeway_seconds', '5', '--config', cfg]).status, 0)
      assert.equal(json(readFileSync(cfg, 'utf8')).leeway_seconds, 5)
    })
    it('keys generate --add leaves the limits to the engine, whose defaults the README states', () => {
      const home = tempDir('hessra-home-')
      assert.equal(cli(['keys', 'generate', '--out', join(home, 'k.pem'), '--id', 'dev', '--add'], {env: {HOME: home}}).status, 0)
      const written = json(readFileSync(join(home, '.config', 'hessra', 'config.json'), 'utf8'))
      assert.equal(written.limits, undefined)
      const engine = readFileSync(join(ROOT, 'native', 'src', 'config.rs'), 'utf8')
      const bytes = Number(/max_token_bytes: (\d+),/.exec(engine)![1])
      const ms = Number(/DEFAULT_MAX_TIME_MS: u64 = (\d+);/.exec(engine)![1])
      const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
      assert.ok(readme.includes(`token ≤ ${bytes / 1024} KiB`), `README states the ${bytes / 1024} KiB default`)
      assert.ok(readme.includes(`a ${ms / 1000} s wall-clock`), `README states the ${ms / 1000} s default`)
    })
  })

  describe('several operations in one token', () => {
    for (const ops of [['-o', 'read', '-o', 'write'], ['-o', 'read,write']]) {
      it(`token mint ${ops.join(' ')}`, () => {
        const m = cli(['token', 'mint', '-p', rootPem, '-s', 'alice', '-r', 'documents', ...ops, '--json'])
        assert.equal(m.status, 0, m.stderr)
        const j = json(m.stdout)
        assert.deepEqual(j.operations, ['read', 'write'])
        assert.equal(j.operation, null)
        for (const op of ['read', 'write']) {
          const v = cli(['verify', j.token as string, '--key', pub, '-s', 'alice', '-r', 'documents', '-o', op])
          assert.equal(v.status, 0, `${op}: ${v.stdout}${v.stderr}`)
        }
        assert.equal(cli(['verify', j.token as string, '--key', pub, '-s', 'alice', '-r', 'documents', '-o', 'read,write']).status, 1)
        assert.equal(cli(['verify', j.token as string, '--key', pub, '-s', 'alice', '-r', 'documents', '-o', 'delete']).status, 1)
      })
    }
    it('an empty operation name is a usage error', () => {
      const r = cli(['token', 'mint', '-p', rootPem, '-s', 'alice', '-r', 'documents', '-o', 'read,'])
      assert.equal(r.status, 2, r.stderr)
      assert.match(r.stderr, /empty operation/)
    })
  })
})

describe('hessra CLI: commands, help, version, completion', function () {
  this.timeout(120_000)
  it('a mistyped command gets "did you mean" in the typed form, exit 2, never echoing an argument', () => {
    const r = cli(['verfy', 'SECRET-TOKEN-TEXT', '--resource', 'x'])
    assert.equal(r.status, 2)
    assert.match(r.stderr, /`verfy` is not a hessra command/)
    assert.match(r.stderr, /did you mean `hessra verify`\?/)
    assert.ok(!r.stderr.includes('SECRET-TOKEN-TEXT'))
    const k = cli(['keys', 'genrate', '--out', 'x.pem'])
    assert.equal(k.status, 2)
    assert.match(k.stderr, /did you mean `hessra keys generate`\?/)
    assert.ok(!k.stderr.includes('keys:genrate'), 'no internal colon form')
    const j = cli(['keys', 'genrate', '--json'])
    assert.equal(json<{error: {code: string; hint: string}}>(j.stdout).error.code, 'usage')
  })
  it('help command, -h and --help show the same help', () => {
    const a = cli(['help', 'verify'])
    assert.equal(a.status, 0, a.stderr)
    assert.match(a.stdout, /^Verify a Hessra token/)
    assert.equal(cli(['verify', '-h']).stdout, a.stdout)
    assert.equal(cli(['verify', '--help']).stdout, a.stdout)
    assert.equal(cli(['help', 'keys', 'generate']).stdout, cli(['keys', 'generate', '-h']).stdout)
    const bad = cli(['help', 'verfy'])
    assert.equal(bad.status, 2)
    assert.match(bad.stderr, /did you mean `hessra verify`/)
  })
  it('--version, --version --json', () => {
    const h = cli(['--version'])
    assert.equal(h.status, 0, h.stderr)
    assert.match(h.stdout, /^hessra\/\d+\.\d+\.\d+ \S+ node-v\d+/)
    const j = cli(['--version', '--json'])
    assert.equal(j.status, 0, j.stderr)
    const v = json(j.stdout)
    assert.match(String(v.version), /^\d+\.\d+\.\d+/)
    assert.equal(v.name, 'hessra')
    assert.equal(v.node, process.version)
    assert.equal(typeof v.engine, 'string')
  })
  it('completion prints a bash script that completes the real commands', () => {
    const r = cli(['completion', 'bash'])
    assert.equal(r.status, 0, r.stderr)
    const s = spawnSync('bash', ['-c', `${r.stdout}\nCOMP_WORDS=(hessra keys gen); COMP_CWORD=2; _hessra_complete; echo "\${COMPREPLY[@]}"`], {encoding: 'utf8'})
    assert.equal(s.stdout.trim(), 'generate')
    assert.equal(cli(['autocomplete', 'zsh']).status, 0)
    assert.equal(cli(['completion', 'tcsh']).status, 2)
  })
})

describe('hessra CLI on a terminal', function () {
  this.timeout(120_000)
  /** Runs the CLI on a pseudo-terminal (`script`), 80 columns, with `env`; returns what the terminal got. */
  const onTerminal = (args: string, env: Record<string, string>): string => {
    const base: Record<string, string> = {}
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(NO_COLOR|CLICOLOR|FORCE_COLOR|TERM|HESSRA_)/.test(k)) base[k] = v
    const r = spawnSync('script', ['-qec', `stty cols 80 2>/dev/null; "${process.execPath}" "${BIN}" ${args}`, '/dev/null'], {env: {...base, ...env}, encoding: 'utf8', timeout: 60_000})
    assert.equal(r.error, undefined)
    return r.stdout
  }
  const ESC = '\u001B['

  it('colours only when the terminal and the environment allow it', () => {
    for (const args of ['--help', 'keys genrate', 'inspect not-a-token']) {
      assert.ok(onTerminal(args, {TERM: 'xterm-256color'}).includes(ESC), `${args}: colour on a plain terminal`)
      const plain: Record<string, string>[] = [{TERM: 'dumb'}, {TERM: 'xterm-256color', CLICOLOR: '0'}, {TERM: 'xterm-256color', NO_COLOR: '1'}]
      for (const env of plain) {
        assert.ok(!onTerminal(args, env).includes(ESC), `${args} with ${JSON.stringify(env)}: plain text`)
      }
    }
  })

  it('help wraps at spaces within 80 columns, and every example line starts with $', () => {
    for (const args of ['--help', 'token mint --help', 'token attest --help', 'authorize --help']) {
      const text = onTerminal(args, {TERM: 'dumb'}).replaceAll('\r', '')
      for (const line of text.split('\n')) assert.ok(line.length <= 80, `${args}: line longer than 80 columns: ${line}`)
      const examples = text.slice(text.indexOf('EXAMPLES'), text.search(/\n(EXIT CODES|FLAG DESCRIPTIONS)|$/))
      const blocks = examples.split('\n\n').slice(1)
      const commands = blocks.filter((b) => /^ {4}\S/.test(b))
      assert.ok(commands.length >= 2, `${args}: examples found`)
      for (const block of commands) {
        const lines = block.trimEnd().split('\n')
        lines.forEach((l, i) => {
          const continued = i > 0 && lines[i - 1].endsWith(' \\')
          assert.match(l, continued ? /^ {6}\S/ : /^ {4}\$ /, `${args}: ${l}`)
        })
      }
    }
  })

  it('token mint shows its two forms as usage', () => {
    const usage = /USAGE\n([\s\S]*?)\n\n/.exec(onTerminal('token mint --help', {TERM: 'dumb'}).replaceAll('\r', ''))![1]
    assert.match(usage, /\$ hessra token mint -p FILE -s SUBJECT -r RESOURCE -o OP\.\.\./)
    assert.match(usage, /\$ hessra token mint -p FILE --datalog FILE/)
    assert.doesNotMatch(usage, /\[--param NAME=VALUE\.\.\. \[/)
  })
})
