/**
 * Trust in the database (issue 22) end to end, through the CLI, on a sandbox cluster: `hessra revoke
 * --database` refused by the next statement of a session opened before it and by new sessions, `--from-file`
 * in one transaction, `hessra pg keys`, `hessra pg status` counts, `hessra pg install` run twice keeping
 * every key and revocation (issue 23.5), a non-superuser changing nothing; and the sandbox (issues 22.6,
 * 23.3) writing nothing outside its directory (the server's files compared before and after) and admitting
 * no other local user. Standbys, PgBouncer and unreadable tables: test/faults/trust.sh.
 */
import {strict as assert} from 'node:assert'
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

import pg from 'pg'

import {loadConfig} from '../../src/config/index.js'
import {generateKeyPair} from '../../src/keys.js'
import type {KeyPair} from '../../src/native/binding.js'
import {describePgConfig, discoverPgConfig} from '../../src/pg/pg-config.js'
import {recordingProgress} from '../../src/pg/progress.js'
import {sandboxStart, sandboxStop, type SandboxStartResult} from '../../src/pg/sandbox.js'
import {mintHessra} from '../../src/tokens/devkit.js'
import {inspectToken} from '../../src/tokens/inspect.js'
import {cli, json, requireNative, ROOT, tempDir, writeKeyConfig} from '../helpers.js'

const isRoot = process.getuid?.() === 0

/** Every file under the directories (links not followed): content hash, inode, times. */
function snapshot(dirs: string[]): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      const st = lstatSync(p)
      if (st.isDirectory()) walk(p)
      else {
        const hash = st.isFile() ? createHash('sha256').update(readFileSync(p)).digest('hex') : 'link'
        out.set(p, `${hash} ino=${st.ino} mtime=${st.mtimeMs} ctime=${st.ctimeMs} mode=${st.mode}`)
      }
    }
  }
  for (const d of dirs) if (existsSync(d)) walk(d)
  return out
}

describe('pg trust in the database (throwaway cluster)', function () {
  this.timeout(15 * 60_000)

  let dir: string
  let configPath: string
  let sb: SandboxStartResult
  let admin: pg.Client
  let root: KeyPair
  let next: KeyPair
  let serverFilesBefore: Map<string, string>
  let serverDirs: string[]
  const tokens: Record<string, string> = {}

  const verify = async (c: pg.Client, token: string) =>
    (await c.query<{ok: boolean}>("SELECT hessra_verify_token($1, 'alice', 'documents') AS ok", [token])).rows[0].ok

  before(async () => {
    requireNative()
    dir = tempDir('hessra-pg-trust-')
    chmodSync(dir, 0o755) // the server's OS user (postgres, when we are root) must reach the sandbox inside
    configPath = join(dir, 'hessra-cli.json')
    root = generateKeyPair('ed25519')
    next = generateKeyPair('ed25519')
    writeKeyConfig(configPath, 'cli', root)
    const now = Math.floor(Date.now() / 1000)
    tokens.alice = mintHessra({privateKey: root, subject: 'alice', resource: 'documents', operation: 'read', expiresAt: now + 3600})
    tokens.alice2 = mintHessra({privateKey: root, subject: 'alice', resource: 'documents', operation: 'read', expiresAt: now + 3601})
    tokens.next = mintHessra({privateKey: next, subject: 'alice', resource: 'documents', operation: 'read', expiresAt: now + 3600, rootKeyId: 5})

    // "the server": a PostgreSQL installation of its own, so that nothing else on the machine (another
    // checkout's test run installing the extension) changes its files meanwhile; it holds a packaged
    // hessra extension, as a Debian package would
    const system = (await discoverPgConfig({})).chosen
    const server = join(dir, 'server')
    const made = spawnSync('bash', [join(ROOT, 'scripts', 'pg-private-tree.sh'), system.path, server], {encoding: 'utf8'})
    assert.equal(made.status, 0, made.stderr)
    mkdirSync(dirname(server + system.includedirServer), {recursive: true})
    symlinkSync(system.includedirServer, server + system.includedirServer) // the server headers, for the build
    const info = await describePgConfig(join(server + system.bindir, 'pg_config'))
    writeFileSync(join(info.pkglibdir, 'hessra.so'), 'the packaged hessra.so\n')
    writeFileSync(join(info.sharedir, 'extension', 'hessra.control'), "default_version = '0.0.1'\n")
    serverDirs = [info.pkglibdir, join(info.sharedir, 'extension'), info.bindir]
    serverFilesBefore = snapshot(serverDirs)

    sb = await sandboxStart({dir: join(dir, 'sandbox'), pgConfig: info.path, loaded: await loadConfig({configPath}), progress: recordingProgress()})
    admin = new pg.Client({connectionString: sb.url})
    await admin.connect()
  })

  after(async () => {
    await admin?.end().catch(() => {})
    if (sb) await sandboxStop({dir: sb.dir, progress: recordingProgress()})
    root?.dispose()
    next?.dispose()
  })

  describe('the sandbox', () => {
    it("writes nothing outside its directory: the server's files are as they were, its own tree is used", async () => {
      const after = snapshot(serverDirs)
      const changed = [...new Set([...serverFilesBefore.keys(), ...after.keys()])].filter((p) => serverFilesBefore.get(p) !== after.get(p))
      assert.deepEqual(changed, [], 'files of the server changed')
      assert.ok(serverFilesBefore.size > 50, 'the comparison saw the server files')
      const r = await admin.query<{name: string; setting: string}>("SELECT name, setting FROM pg_config WHERE name IN ('PKGLIBDIR', 'SHAREDIR') ORDER BY 1")
      for (const row of r.rows) assert.ok(row.setting.startsWith(join(sb.dir, 'pg') + '/'), `${row.name} = ${row.setting}`)
      const so = await admin.query<{f: string}>("SELECT setting || '/hessra.so' AS f FROM pg_config WHERE name = 'PKGLIBDIR'")
      assert.ok(statSync(so.rows[0].f).isFile(), 'the extension is installed in the private tree')
    })

    it('admits no other local user: the socket directory is private, TCP needs the password, no trust line', async () => {
      const hba = readFileSync(join(sb.dir, 'data', 'pg_hba.conf'), 'utf8')
      assert.doesNotMatch(hba.replace(/^#.*$/gm, ''), /\btrust\b/)
      assert.equal(statSync(join(sb.dir, 'socket')).mode & 0o777, 0o700)
      assert.equal(statSync(sb.passwordFile).mode & 0o777, 0o600)
      // TCP without the password: refused; with DIR/pgpass: in
      const withPassword = (pw: string) => sb.tcpUrl.replace('postgres@', `postgres:${encodeURIComponent(pw)}@`)
      const tcp = new pg.Client({connectionString: withPassword('not-the-password')})
      await assert.rejects(tcp.connect(), /password authentication failed/)
      const ok = new pg.Client({connectionString: withPassword(readFileSync(sb.passwordFile, 'utf8').trim())})
      await ok.connect()
      assert.equal((await ok.query('SELECT 1 AS one')).rows[0].one, 1)
      await ok.end()
      // an application's role: `url --role` gives it a random password, kept in DIR/pgpass
      await admin.query('DROP ROLE IF EXISTS hessra_trust_url; CREATE ROLE hessra_trust_url LOGIN')
      const u = cli(['pg', 'sandbox', 'url', '--dir', sb.dir, '--role', 'hessra_trust_url'])
      assert.equal(u.status, 0, u.stderr)
      const app = new pg.Client({connectionString: u.stdout.trim()})
      await app.connect()
      assert.equal((await app.query('SELECT current_user AS u')).rows[0].u, 'hessra_trust_url')
      await app.end()
      assert.match(readFileSync(sb.pgpassFile, 'utf8'), new RegExp(`^127\\.0\\.0\\.1:${sb.port}:\\*:hessra_trust_url:[\\w-]{32}$`, 'm'))
      assert.equal(cli(['pg', 'sandbox', 'url', '--dir', sb.dir, '--role', 'no_such_role']).status, 2)
      await admin.query('DROP ROLE hessra_trust_url')
      if (isRoot) {
        // another OS user (nobody): neither the socket nor TCP without the password
        const psql = (args: string[]) => spawnSync('runuser', ['-u', 'nobody', '--', 'psql', '-X', '-w', ...args, '-c', 'SELECT 1'], {encoding: 'utf8'})
        const sock = psql(['-h', join(sb.dir, 'socket'), '-p', String(sb.port), '-U', 'postgres'])
        assert.notEqual(sock.status, 0)
        assert.match(sock.stderr, /Permission denied/)
        const host = psql(['-h', '127.0.0.1', '-p', String(sb.port), '-U', 'postgres'])
        assert.notEqual(host.status, 0)
        assert.match(host.stderr, /password/)
      }
    })
  })

  describe('revocations and keys in the database', () => {
    let early: pg.Client

    before(async () => {
      // a long-lived session, opened before anything is revoked
      early = new pg.Client({connectionString: sb.url})
      await early.connect()
      assert.equal(await verify(early, tokens.alice), true)
    })
    after(async () => {
      await early?.end().catch(() => {})
    })

    it('`hessra revoke --database`: the next statement of an open session refuses the token, in a transaction block too', async () => {
      await early.query('BEGIN')
      assert.equal(await verify(early, tokens.alice2), true)
      const r = cli(['revoke', tokens.alice, '--database', sb.url, '--reason', 'test', '--json'])
      assert.equal(r.status, 0, r.stderr)
      const out = json<{revoked: {block: number; revocation_id: string}[]; added: number; already_revoked: number}>(r.stdout)
      assert.equal(out.added, 1)
      assert.equal(out.revoked[0].revocation_id, inspectToken(tokens.alice).revocation_ids[0])
      assert.equal(await verify(early, tokens.alice), false, 'the open session, inside its transaction')
      assert.equal(await verify(early, tokens.alice2), true, 'another token of the same subject')
      await early.query('COMMIT')
      assert.equal(await verify(early, tokens.alice), false, 'the open session, next transaction')
      const fresh = new pg.Client({connectionString: sb.url})
      await fresh.connect()
      assert.equal(await verify(fresh, tokens.alice), false, 'a new session')
      await fresh.end()
      const again = cli(['revoke', tokens.alice, '--database', sb.url])
      assert.equal(again.status, 0, again.stderr)
      assert.match(again.stdout, /^already revoked: block 0 \(authority\) [0-9a-f]+$/m)
      const row = await admin.query('SELECT reason FROM hessra_revocations')
      assert.deepEqual(row.rows, [{reason: 'test'}])
    })

    it('`--from-file`: many ids in one transaction, a bad line refuses all of them', async () => {
      const ids = Array.from({length: 5000}, (_, i) => createHash('sha512').update(String(i)).digest('hex'))
      const list = join(dir, 'revoked.txt')
      writeFileSync(list, `# revoked in bulk\n${ids.join('\n')}\n${inspectToken(tokens.alice).revocation_ids[0]}\n`)
      const r = cli(['revoke', '--from-file', list, '--database', sb.url])
      assert.equal(r.status, 0, r.stderr)
      assert.match(r.stdout, /^revoked 5000 ids \(1 already revoked\)$/m)
      const bad = join(dir, 'bad.txt')
      writeFileSync(bad, `${'ab'.repeat(64)}\nnot-an-id\n`)
      const b = cli(['revoke', '--from-file', bad, '--database', sb.url])
      assert.equal(b.status, 3, b.stderr)
      assert.match(b.stderr, /bad\.txt line 2 is not a revocation id/)
      assert.doesNotMatch(b.stderr, /not-an-id/, 'the line is not quoted')
      const stdin = cli(['revoke', '--from-file', '-', '--database', sb.url, '--json'], {input: `${'cd'.repeat(64)}\n`})
      assert.equal(stdin.status, 0, stdin.stderr)
      assert.equal(json<{added: number}>(stdin.stdout).added, 1)
      const count = await admin.query<{n: string}>('SELECT count(*) AS n FROM hessra_revocations')
      assert.equal(Number(count.rows[0].n), 5002)
      const noDb = cli(['revoke', '--from-file', list])
      assert.equal(noDb.status, 2)
      assert.match(noDb.stderr, /--from-file needs --database/)
    })

    it('`hessra pg keys`: add (effective at once), list with sources, refuse clashes, rotation, remove with --force rules', () => {
      assert.equal(cli(['verify', tokens.next, '-s', 'alice', '-r', 'documents', '-o', 'read', '--key', nextPublic()]).status, 0)
      const pub = nextPublic()
      const add = cli(['pg', 'keys', 'add', 'next', pub, '--root-key-id', '5', '--database', sb.url])
      assert.equal(add.status, 0, add.stderr)
      const list = json<{keys: {id: string; source: string; default: boolean; root_key_id: number | null}[]}>(cli(['pg', 'keys', 'list', '--database', sb.url, '--json']).stdout)
      assert.deepEqual(
        list.keys.map((k) => [k.id, k.source, k.default, k.root_key_id]),
        [
          ['cli', 'file', true, null],
          ['next', 'database', false, 5],
        ],
      )
      // a key id of the configuration file: refused, nothing committed
      const clash = cli(['pg', 'keys', 'add', 'cli', pub, '--database', sb.url])
      assert.equal(clash.status, 4, clash.stderr)
      assert.match(clash.stderr, /key of the configuration file/)
      // the only database key is not the default: removing it is fine; the file key cannot be removed here
      const fileKey = cli(['pg', 'keys', 'remove', 'cli', '--database', sb.url])
      assert.equal(fileKey.status, 4)
      assert.match(fileKey.stderr, /comes from the configuration file/)
      // rotation: the new key becomes the default, then the default cannot go without --force
      assert.equal(cli(['pg', 'keys', 'add', 'next', pub, '--root-key-id', '5', '--default', '--force', '--database', sb.url]).status, 0)
      const dflt = cli(['pg', 'keys', 'remove', 'next', '--database', sb.url])
      assert.equal(dflt.status, 2)
      assert.match(dflt.stderr, /is the default key/)
      assert.equal(cli(['pg', 'keys', 'remove', 'next', '--force', '--database', sb.url]).status, 0)
      assert.equal(cli(['pg', 'keys', 'add', 'next', pub, '--root-key-id', '5', '--database', sb.url]).status, 0)
    })

    it('the new key verifies in the open session; `pg status` counts keys and revocations', async () => {
      assert.equal(await verify(early, tokens.next), true)
      const r = cli(['pg', 'status', '--database', sb.url, '--json'])
      assert.equal(r.status, 0, r.stdout + r.stderr)
      assert.deepEqual(json<{trust: {keys: number; revocations: number}}>(r.stdout).trust, {keys: 1, revocations: 5002})
      const human = cli(['pg', 'status', '--database', sb.url])
      assert.match(human.stdout, /database: +1 trusted key, 5002 revoked ids/)
    })

    it('`pg install` run twice keeps every key and revocation, of the file and of the tables (issue 23.5)', async () => {
      // the server's file lists a revocation of its own, and a key the CLI configuration does not have
      const serverFile = join(sb.dir, 'hessra.json')
      const text = JSON.parse(readFileSync(serverFile, 'utf8')) as {keys: unknown[]; revoked_ids?: string[]}
      const otherKey = generateKeyPair('ed25519')
      const otherPub = otherKey.publicKey()
      text.keys.push({id: 'ops', public_key: otherPub.toText()})
      otherPub.dispose()
      otherKey.dispose()
      text.revoked_ids = [inspectToken(tokens.alice2).revocation_ids[0]]
      writeFileSync(serverFile, JSON.stringify(text, null, 2))
      for (const round of [1, 2]) {
        const r = cli(['pg', 'install', '--database', sb.url, '--skip-build', '--json'], {env: {HESSRA_CONFIG: configPath}})
        assert.equal(r.status, 0, r.stderr)
        const out = json<{server_config: {changed: boolean; changes: string[]}}>(r.stdout)
        if (round === 2) assert.equal(out.server_config.changed, false, 'the second run changes nothing')
      }
      const kept = JSON.parse(readFileSync(serverFile, 'utf8')) as {keys: {id: string}[]; revoked_ids: string[]}
      assert.deepEqual(kept.keys.map((k) => k.id).sort(), ['cli', 'ops'])
      assert.deepEqual(kept.revoked_ids, [inspectToken(tokens.alice2).revocation_ids[0]])
      assert.equal(await verify(early, tokens.alice), false, 'revoked in the table')
      assert.equal(await verify(early, tokens.alice2), false, 'revoked in the file')
      assert.equal(await verify(early, tokens.next), true, "the table's key")
      // a key id whose key changed is refused, unless --replace (which says what it drops)
      const changed = JSON.parse(readFileSync(configPath, 'utf8')) as {keys: {id: string; public_key: string}[]}
      const replacedKey = changed.keys[0].public_key
      changed.keys[0].public_key = nextPublic()
      const cfg2 = join(dir, 'changed-cli.json')
      writeFileSync(cfg2, JSON.stringify(changed))
      const refused = cli(['pg', 'install', '--database', sb.url, '--skip-build'], {env: {HESSRA_CONFIG: cfg2}})
      assert.equal(refused.status, 4, refused.stderr)
      assert.match(refused.stderr, /key "cli" differs from the key .* trusts under that id/)
      assert.ok(readFileSync(serverFile, 'utf8').includes(replacedKey), 'nothing written')
    })

    it('a non-superuser changes nothing: revoke, keys add and remove fail, the tables stay as they were', async () => {
      await admin.query('DROP ROLE IF EXISTS hessra_trust_app')
      await admin.query("CREATE ROLE hessra_trust_app LOGIN PASSWORD 'app-password'")
      const appUrl = `postgresql://hessra_trust_app:app-password@127.0.0.1:${sb.port}/postgres`
      const before = (await admin.query('SELECT count(*) AS n FROM hessra_revocations')).rows[0].n as string
      const r = cli(['revoke', 'ab'.repeat(64), '--database', appUrl])
      assert.equal(r.status, 5, r.stderr)
      assert.match(r.stderr, /needs a superuser/)
      const k = cli(['pg', 'keys', 'remove', 'next', '--force', '--database', appUrl])
      assert.equal(k.status, 5, k.stderr)
      const c = new pg.Client({connectionString: appUrl})
      await c.connect()
      await assert.rejects(c.query('DELETE FROM hessra_revocations'), /permission denied for table hessra_revocations/)
      await assert.rejects(c.query('TRUNCATE hessra_trusted_keys'), /permission denied for table hessra_trusted_keys/)
      assert.equal(await verify(c, tokens.alice), false, "the app role's verification sees the revocations")
      await c.end()
      assert.equal((await admin.query('SELECT count(*) AS n FROM hessra_revocations')).rows[0].n, before)
      await admin.query('DROP ROLE hessra_trust_app')
    })
  })

  function nextPublic(): string {
    const p = next.publicKey()
    try {
      return p.toText()
    } finally {
      p.dispose()
    }
  }
})
