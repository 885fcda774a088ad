import {strict as assert} from 'node:assert'
import {spawnSync} from 'node:child_process'
import {join} from 'node:path'

import {EnvironmentError, exitCodeFor, UsageError} from '../../src/errors.js'
import type {RunOptions, RunResult} from '../../src/pg/exec.js'
import {wrapAsUser} from '../../src/pg/exec.js'
import {
  buildPrerequisitesError,
  checkBuildPrerequisites,
  discoverPgConfig,
  hintForBuildOutput,
  listCandidates,
  parsePgConfigOutput,
  type PgConfigInfo,
} from '../../src/pg/pg-config.js'
import {ROOT} from '../helpers.js'

function output(major: number, bindir: string): string {
  return [
    `PostgreSQL ${major}.4 (Debian ${major}.4-1)`,
    bindir,
    bindir.replace('/bin', '/lib'),
    `/usr/share/postgresql/${major}`,
    `/usr/lib/postgresql/${major}/lib/pgxs/src/makefiles/pgxs.mk`,
    `/usr/include/postgresql/${major}/server`,
    'gcc',
    '',
  ].join('\n')
}

/** A fake file system + runner: `installs` maps pg_config paths to their bindir/major. */
function fakeWorld(installs: Record<string, {major: number; bindir: string} | 'broken'>, pathDirs: string[] = []) {
  const files = new Set(Object.keys(installs))
  const calls: string[] = []
  const run = async (cmd: string, _args: readonly string[], _o?: RunOptions): Promise<RunResult> => {
    calls.push(cmd)
    const i = installs[cmd]
    if (!i) return {code: 127, stdout: '', stderr: '', error: Object.assign(new Error('ENOENT'), {code: 'ENOENT'})}
    if (i === 'broken') return {code: 1, stdout: '', stderr: 'You need to install postgresql-server-dev-NN'}
    return {code: 0, stdout: output(i.major, i.bindir), stderr: ''}
  }
  const listDir = (d: string) => {
    const prefix = d.endsWith('/') ? d : `${d}/`
    const names = new Set<string>()
    for (const f of files) if (f.startsWith(prefix)) names.add(f.slice(prefix.length).split('/')[0])
    return [...names]
  }
  return {
    run,
    calls,
    opts: {
      run,
      env: {PATH: pathDirs.join(':')} as NodeJS.ProcessEnv,
      exists: (p: string) => files.has(p),
      isExec: (p: string) => files.has(p),
      listDir,
      searchRoots: ['/usr/lib/postgresql', '/usr/pgsql-*'],
    },
  }
}

describe('pg_config discovery', () => {
  it('parses pg_config output', () => {
    const info = parsePgConfigOutput('/x/pg_config', output(17, '/usr/lib/postgresql/17/bin'))
    assert.equal(info.major, 17)
    assert.equal(info.bindir, '/usr/lib/postgresql/17/bin')
    assert.equal(info.pgxs, '/usr/lib/postgresql/17/lib/pgxs/src/makefiles/pgxs.mk')
    assert.equal(info.includedirServer, '/usr/include/postgresql/17/server')
    assert.equal(parsePgConfigOutput('/p', 'PostgreSQL 9.6.24\n/b\n').major, 9.6)
    assert.throws(() => parsePgConfigOutput('/p', 'hello\n'), EnvironmentError)
  })

  it('prefers PATH, then the newest /usr/lib/postgresql/<v>/bin, and deduplicates by bindir', async () => {
    const w = fakeWorld(
      {
        '/usr/bin/pg_config': {major: 17, bindir: '/usr/lib/postgresql/17/bin'}, // Debian's wrapper
        '/usr/lib/postgresql/15/bin/pg_config': {major: 15, bindir: '/usr/lib/postgresql/15/bin'},
        '/usr/lib/postgresql/17/bin/pg_config': {major: 17, bindir: '/usr/lib/postgresql/17/bin'},
        '/usr/lib/postgresql/9.6/bin/pg_config': {major: 9.6, bindir: '/usr/lib/postgresql/9.6/bin'},
      },
      ['/usr/bin'],
    )
    assert.deepEqual(listCandidates(w.opts), [
      '/usr/bin/pg_config',
      '/usr/lib/postgresql/17/bin/pg_config',
      '/usr/lib/postgresql/15/bin/pg_config',
      '/usr/lib/postgresql/9.6/bin/pg_config',
    ])
    const d = await discoverPgConfig(w.opts)
    assert.equal(d.chosen.path, '/usr/bin/pg_config')
    assert.equal(d.chosen.major, 17)
    assert.deepEqual(d.found.map((f) => f.major), [17, 15, 9.6])
    assert.match(d.reason, /found 3 PostgreSQL installations/)
    assert.match(d.reason, /--pg-config/)
  })

  it('without PATH: the newest versioned directory; one installation says so plainly', async () => {
    const w = fakeWorld({'/usr/lib/postgresql/16/bin/pg_config': {major: 16, bindir: '/usr/lib/postgresql/16/bin'}})
    const d = await discoverPgConfig(w.opts)
    assert.equal(d.chosen.major, 16)
    assert.equal(d.reason, 'found /usr/lib/postgresql/16/bin/pg_config')
  })

  it('RHEL-style /usr/pgsql-<v> directories', async () => {
    const w = fakeWorld({
      '/usr/pgsql-14/bin/pg_config': {major: 14, bindir: '/usr/pgsql-14/bin'},
      '/usr/pgsql-16/bin/pg_config': {major: 16, bindir: '/usr/pgsql-16/bin'},
    })
    assert.equal((await discoverPgConfig(w.opts)).chosen.major, 16)
  })

  it('$PG_CONFIG comes first', async () => {
    const w = fakeWorld({
      '/usr/lib/postgresql/17/bin/pg_config': {major: 17, bindir: '/usr/lib/postgresql/17/bin'},
      '/opt/pg13/bin/pg_config': {major: 13, bindir: '/opt/pg13/bin'},
    })
    const d = await discoverPgConfig({...w.opts, env: {PATH: '', PG_CONFIG: '/opt/pg13/bin/pg_config'}})
    assert.equal(d.chosen.major, 13)
  })

  it('--pg-config is used as given; a missing one is a usage error', async () => {
    const w = fakeWorld({'/opt/pg/bin/pg_config': {major: 15, bindir: '/opt/pg/bin'}})
    const d = await discoverPgConfig({...w.opts, explicit: '/opt/pg/bin/pg_config'})
    assert.equal(d.chosen.bindir, '/opt/pg/bin')
    await assert.rejects(discoverPgConfig({...w.opts, explicit: '/nope/pg_config'}), UsageError)
  })

  it('nothing found → exit 5 naming the packages', async () => {
    const w = fakeWorld({})
    await assert.rejects(discoverPgConfig(w.opts), (e: Error) => {
      assert.ok(e instanceof EnvironmentError)
      assert.equal(exitCodeFor(e), 5)
      assert.match(e.message, /pg_config not found/)
      assert.match(e.hint ?? '', /postgresql-server-dev-<major>/)
      return true
    })
  })

  it('a broken pg_config (libpq-dev wrapper without server dev) is reported', async () => {
    const w = fakeWorld({'/usr/bin/pg_config': 'broken'}, ['/usr/bin'])
    await assert.rejects(discoverPgConfig(w.opts), /no working pg_config found/)
  })
})

describe('build prerequisites', () => {
  const info: PgConfigInfo = parsePgConfigOutput('/usr/lib/postgresql/16/bin/pg_config', output(16, '/usr/lib/postgresql/16/bin'))
  const all = new Set([info.pgxs, `${info.includedirServer}/postgres.h`])
  const tools = (names: string[]) => (n: string) => (names.includes(n) ? `/usr/bin/${n}` : null)

  it('all present', () => {
    const c = checkBuildPrerequisites(info, {exists: (p) => all.has(p), nativeLibExists: false, which: tools(['gcc', 'make', 'cargo'])})
    assert.ok(c.ok, JSON.stringify(c.problems))
  })

  it('missing server headers name postgresql-server-dev-<major>', () => {
    const c = checkBuildPrerequisites(info, {exists: () => false, nativeLibExists: true, which: tools(['gcc', 'make'])})
    assert.ok(!c.ok)
    const e = buildPrerequisitesError(c)
    assert.equal(exitCodeFor(e), 5)
    assert.match(e.hint ?? '', /apt-get install postgresql-server-dev-16/)
  })

  it('missing make / cc / cargo', () => {
    const c = checkBuildPrerequisites(info, {exists: (p) => all.has(p), nativeLibExists: false, which: tools([])})
    const e = buildPrerequisitesError(c)
    assert.match(e.message, /C compiler/)
    assert.match(e.message, /make is missing/)
    assert.match(e.message, /cargo/)
    assert.match(e.hint ?? '', /build-essential/)
    // cargo is optional when the engine library is already built
    const c2 = checkBuildPrerequisites(info, {exists: (p) => all.has(p), nativeLibExists: true, which: tools(['cc', 'make'])})
    assert.ok(c2.ok)
  })

  it('hints from build output', () => {
    assert.equal(hintForBuildOutput('/usr/bin/ld: cannot find -lpcre2-8', 15), 'apt-get install libpcre2-dev')
    assert.equal(hintForBuildOutput('/usr/bin/ld: cannot find -lcrypto', 15), 'apt-get install libssl-dev')
    assert.equal(hintForBuildOutput('fatal error: postgres.h: No such file or directory', 17), 'apt-get install postgresql-server-dev-17')
    assert.equal(hintForBuildOutput('all good', 17), undefined)
  })

  it('runs server programs as the postgres user only when root', () => {
    assert.deepEqual(wrapAsUser('/bin/initdb', ['-D', 'x'], undefined, true), ['/bin/initdb', ['-D', 'x']])
    assert.deepEqual(wrapAsUser('/bin/initdb', ['-D', 'x'], 'postgres', false), ['/bin/initdb', ['-D', 'x']])
    const [cmd, args] = wrapAsUser('/bin/initdb', ['-D', 'x'], 'postgres', true)
    assert.ok(cmd === 'runuser' || cmd === 'su')
    assert.ok(args.includes('postgres'))
  })

  it('picks the installation the repository scripts pick (scripts/pg-find.sh)', async function () {
    // Two finders by design (the CLI ships without the scripts); on this machine they must agree.
    const env = {...process.env}
    delete env.PG_CONFIG
    delete env.PG_BINDIR
    let chosen: PgConfigInfo
    try {
      chosen = (await discoverPgConfig({env})).chosen
    } catch (error) {
      assert.ok(error instanceof EnvironmentError)
      this.skip()
    }
    const script = `source "${join(ROOT, 'scripts', 'pg-find.sh')}" && find_pg_config && find_pg_bindir`
    const r = spawnSync('bash', ['-c', script], {env, encoding: 'utf8'})
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(r.stdout.trim().split('\n'), [chosen.path, chosen.bindir])
  })
})
