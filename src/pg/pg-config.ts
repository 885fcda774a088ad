/**
 * Finding pg_config and checking what building the extension needs: the server headers (PGXS), a C
 * compiler, make, and cargo (the native engine is built from source when its static library is missing).
 */
import {existsSync, readdirSync} from 'node:fs'
import {join} from 'node:path'

import {EnvironmentError, UsageError} from '../errors.js'
import {findInPath, isExecutable, runProcess, type Runner} from './exec.js'

export interface PgConfigInfo {
  /** the pg_config executable */
  path: string
  /** "PostgreSQL 15.6 (Debian 15.6-0+deb12u1)" */
  version: string
  major: number
  bindir: string
  pkglibdir: string
  sharedir: string
  /** Makefile of PGXS (may not exist: server headers missing) */
  pgxs: string
  includedirServer: string
  cc: string
}

export interface Discovery {
  chosen: PgConfigInfo
  /** every distinct installation found (chosen included) */
  found: PgConfigInfo[]
  /** how the choice was made, for the user */
  reason: string
}

export interface DiscoverOptions {
  /** --pg-config */
  explicit?: string
  env?: NodeJS.ProcessEnv
  run?: Runner
  /** directories searched after PATH (globs expanded by listCandidates) */
  searchRoots?: string[]
  /** for tests */
  exists?: (path: string) => boolean
  listDir?: (dir: string) => string[]
  isExec?: (path: string) => boolean
}

const PG_CONFIG_FIELDS = ['--version', '--bindir', '--pkglibdir', '--sharedir', '--pgxs', '--includedir-server', '--cc'] as const

/** Parses the lines of `pg_config --version --bindir ... --cc` (in PG_CONFIG_FIELDS order). */
export function parsePgConfigOutput(path: string, stdout: string): PgConfigInfo {
  const lines = stdout.split('\n').map((l) => l.trim())
  const [version, bindir, pkglibdir, sharedir, pgxs, includedirServer, cc] = lines
  const m = /PostgreSQL\s+(\d+)(?:\.(\d+))?/.exec(version ?? '')
  if (!m || !bindir) throw new EnvironmentError(`${path} does not look like pg_config (unexpected output: ${JSON.stringify((version ?? '').slice(0, 80))})`)
  let major = Number(m[1])
  if (major < 10 && m[2] !== undefined) major = Number(`${m[1]}.${m[2]}`) // 9.6
  return {path, version, major, bindir, pkglibdir: pkglibdir ?? '', sharedir: sharedir ?? '', pgxs: pgxs ?? '', includedirServer: includedirServer ?? '', cc: cc ?? 'cc'}
}

export async function describePgConfig(path: string, run: Runner = runProcess): Promise<PgConfigInfo> {
  const r = await run(path, PG_CONFIG_FIELDS, {timeoutMs: 20_000})
  if (r.error || r.code !== 0) {
    throw new EnvironmentError(`${path} failed (${r.error ? r.error.code ?? r.error.message : `exit ${r.code}`}): ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}`, {
      hint: 'install the server development files: apt-get install postgresql-server-dev-<major> (or pass --pg-config PATH)',
    })
  }
  return parsePgConfigOutput(path, r.stdout)
}

/** Every pg_config candidate, in preference order: $PG_CONFIG, PATH, then the usual install dirs (newest first). */
export function listCandidates(opts: DiscoverOptions = {}): string[] {
  const env = opts.env ?? process.env
  const exists = opts.exists ?? existsSync
  const isExec = opts.isExec ?? isExecutable
  const listDir =
    opts.listDir ??
    ((d: string) => {
      try {
        return readdirSync(d)
      } catch {
        return []
      }
    })
  const out: string[] = []
  const add = (p: string | null | undefined) => {
    if (p && !out.includes(p) && isExec(p)) out.push(p)
  }
  if (env.PG_CONFIG) add(env.PG_CONFIG.includes('/') ? env.PG_CONFIG : findInPath(env.PG_CONFIG, env.PATH))
  add(findInPathWith('pg_config', env.PATH, isExec))
  const versioned: {path: string; v: number}[] = []
  for (const root of opts.searchRoots ?? ['/usr/lib/postgresql', '/usr/pgsql-*', '/usr/local/pgsql', '/opt/homebrew/opt/postgresql@*', '/usr/local/opt/postgresql@*']) {
    if (root.endsWith('*')) {
      // /usr/pgsql-17 style: list the parent, match the prefix
      const slash = root.lastIndexOf('/')
      const parent = root.slice(0, slash) || '/'
      const prefix = root.slice(slash + 1, -1)
      for (const name of listDir(parent)) {
        if (!name.startsWith(prefix)) continue
        const p = join(parent, name, 'bin', 'pg_config')
        if (exists(p)) versioned.push({path: p, v: versionOf(name.slice(prefix.length))})
      }
    } else if (root === '/usr/lib/postgresql') {
      for (const name of listDir(root)) {
        const p = join(root, name, 'bin', 'pg_config')
        if (exists(p)) versioned.push({path: p, v: versionOf(name)})
      }
    } else {
      const p = join(root, 'bin', 'pg_config')
      if (exists(p)) versioned.push({path: p, v: 0})
    }
  }
  versioned.sort((a, b) => b.v - a.v)
  for (const v of versioned) add(v.path)
  return out
}

function findInPathWith(name: string, pathEnv: string | undefined, isExec: (p: string) => boolean): string | null {
  for (const dir of (pathEnv ?? '').split(':')) {
    if (!dir) continue
    const p = join(dir, name)
    if (isExec(p)) return p
  }
  return null
}

function versionOf(text: string): number {
  const n = Number.parseFloat(text)
  return Number.isFinite(n) ? n : 0
}

/**
 * Finds pg_config: --pg-config, else $PG_CONFIG, PATH, /usr/lib/postgresql/<v>/bin (and other usual
 * places). Distinct installations are told apart by their bindir; when several exist the one first in
 * that order wins and `reason` says so.
 */
export async function discoverPgConfig(opts: DiscoverOptions = {}): Promise<Discovery> {
  const run = opts.run ?? runProcess
  const isExec = opts.isExec ?? isExecutable
  if (opts.explicit) {
    if (!isExec(opts.explicit)) {
      throw new UsageError(`--pg-config ${opts.explicit} is not an executable file`)
    }
    const info = await describePgConfig(opts.explicit, run)
    return {chosen: info, found: [info], reason: `--pg-config ${opts.explicit}`}
  }
  const candidates = listCandidates(opts)
  const found: PgConfigInfo[] = []
  const failures: string[] = []
  for (const c of candidates) {
    try {
      const info = await describePgConfig(c, run)
      if (!found.some((f) => f.bindir === info.bindir)) found.push(info)
    } catch (error) {
      failures.push(`${c}: ${(error as Error).message}`)
    }
  }
  if (found.length === 0) {
    throw new EnvironmentError(
      failures.length > 0
        ? `no working pg_config found (${failures.join('; ')})`
        : 'pg_config not found (looked in PATH and /usr/lib/postgresql/*/bin)',
      {hint: 'install PostgreSQL and its server development files (Debian: apt-get install postgresql postgresql-server-dev-<major>), or pass --pg-config PATH'},
    )
  }
  const chosen = found[0]
  const reason =
    found.length === 1
      ? `found ${chosen.path}`
      : `found ${found.length} PostgreSQL installations (${found.map((f) => `${f.major} at ${f.path}`).join(', ')}); using ${chosen.major} (${chosen.path}) — pass --pg-config to choose another`
  return {chosen, found, reason}
}

export interface BuildCheck {
  ok: boolean
  problems: {what: string; hint: string}[]
  /** cargo is needed only when the engine's static library must be built */
  cargo: string | null
  make: string | null
  cc: string | null
}

/**
 * Checks the server headers and the build tools. `nativeLibExists`: the engine's static library is
 * already built (then cargo is optional).
 */
export function checkBuildPrerequisites(
  info: PgConfigInfo,
  opts: {env?: NodeJS.ProcessEnv; exists?: (p: string) => boolean; nativeLibExists: boolean; which?: (name: string) => string | null},
): BuildCheck {
  const exists = opts.exists ?? existsSync
  const which = opts.which ?? ((n: string) => findInPath(n, (opts.env ?? process.env).PATH))
  const problems: {what: string; hint: string}[] = []
  const devPkg = `postgresql-server-dev-${info.major}`
  if (!info.pgxs || !exists(info.pgxs)) {
    problems.push({what: `the PostgreSQL ${info.major} extension build system (PGXS: ${info.pgxs || 'pg_config --pgxs'}) is missing`, hint: `apt-get install ${devPkg}`})
  } else if (!info.includedirServer || !exists(join(info.includedirServer, 'postgres.h'))) {
    problems.push({what: `the PostgreSQL ${info.major} server headers (postgres.h in ${info.includedirServer}) are missing`, hint: `apt-get install ${devPkg}`})
  }
  const ccName = (info.cc || 'cc').trim().split(/\s+/)[0] || 'cc'
  const cc = which(ccName) ?? which('cc')
  if (!cc) problems.push({what: `no C compiler (${ccName})`, hint: 'apt-get install build-essential'})
  const make = which('make')
  if (!make) problems.push({what: 'make is missing', hint: 'apt-get install make (or build-essential)'})
  const cargo = which('cargo')
  if (!cargo && !opts.nativeLibExists) {
    problems.push({what: 'cargo (Rust) is needed to build the native engine (native/target/release/libhessra_ffi.a is missing)', hint: 'install Rust (apt-get install cargo, or rustup)'})
  }
  return {ok: problems.length === 0, problems, cargo, make, cc}
}

/** One EnvironmentError naming every missing piece and the packages that provide them. */
export function buildPrerequisitesError(check: BuildCheck): EnvironmentError {
  const what = check.problems.map((p) => p.what).join('; ')
  const hints = [...new Set(check.problems.map((p) => p.hint))].join('; ')
  return new EnvironmentError(`cannot build the hessra extension: ${what}`, {hint: hints})
}

/** Turns well-known build failures into the package to install. */
export function hintForBuildOutput(output: string, major: number): string | undefined {
  if (/cannot find -lcrypto|openssl\/[a-z]+\.h: No such file/.test(output)) return 'apt-get install libssl-dev'
  if (/cannot find -lpcre2-8|pcre2\.h: No such file/.test(output)) return 'apt-get install libpcre2-dev'
  if (/postgres\.h: No such file|pgxs\.mk: No such file/.test(output)) return `apt-get install postgresql-server-dev-${major}`
  if (/cargo: (command )?not found|could not find `Cargo.toml`/.test(output)) return 'install Rust (apt-get install cargo, or rustup)'
  if (/(cc|gcc|clang): (command )?not found/.test(output)) return 'apt-get install build-essential'
  if (/Permission denied/.test(output)) return 'installing into the PostgreSQL directories needs root: run it with sudo'
  return undefined
}
