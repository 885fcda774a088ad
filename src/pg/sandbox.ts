/**
 * `hessra pg sandbox start|stop|status`: a throwaway PostgreSQL cluster for trying hessra out.
 *
 * The cluster lives in DIR: DIR/data (initdb), DIR/server.log, DIR/hessra.json (the server-side
 * configuration, public keys only), DIR/sandbox.json (what we know about it) and the unix socket. It
 * listens on 127.0.0.1 only, on its own port (54329, or a free one), with `trust` authentication for local
 * connections — never point it at real data. When we are root the server runs as the `postgres` OS user
 * (PostgreSQL refuses to run as root).
 *
 * This code often runs as root, so DIR must be private (see safe-path.ts): the default is per user, not in
 * a shared /tmp; a DIR or sandbox.json someone else could have written is refused before anything else
 * happens; and no program path read from sandbox.json is run unless only root or the caller could have
 * put it there (the server programs are then taken from that pg_config's own answer, never from the file).
 */
import {createServer} from 'node:net'
import {chmodSync, chownSync, existsSync, mkdirSync, rmSync} from 'node:fs'
import {homedir} from 'node:os'
import {dirname, isAbsolute, join, resolve} from 'node:path'

import type {LoadedConfig} from '../config/index.js'
import {ConfigError, EnvironmentError, UsageError} from '../errors.js'
import {connect, type ConnectionTarget} from './connect.js'
import {isExecutable, isRoot, runProcess, tail, type Runner} from './exec.js'
import {buildAndInstall, normalizeKeyText, setupDatabase, type PlannedStep} from './install.js'
import {describePgConfig, discoverPgConfig, type PgConfigInfo} from './pg-config.js'
import type {Progress} from './progress.js'
import {callerUid, checkOwnFile, checkPrivateDir, checkTrustedProgram, readFileNoFollow, writeFileNoFollow} from './safe-path.js'
import {buildServerConfig, serverConfigText, writeServerConfig} from './server-config.js'

export const DEFAULT_SANDBOX_PORT = 54_329
export const STATE_FILE = 'sandbox.json'
export const SANDBOX_CONF = 'hessra-sandbox.conf'
const SERVER_USER = 'postgres'
/** Root's default: under a root-owned directory nobody else can create in, reachable by the server's OS user. */
export const ROOT_SANDBOX_DIR = '/var/lib/hessra/sandbox'

export interface SandboxState {
  version: 1
  dir: string
  port: number
  /** the pg_config the cluster was created with; run again only after checkTrustedProgram */
  pg_config: string
  major: number
  config_path: string
  os_user: string
  created_at: string
}

/**
 * Per user and private: $XDG_CACHE_HOME/hessra/sandbox (default ~/.cache/hessra/sandbox); for root
 * ROOT_SANDBOX_DIR, since the server's OS user must reach the directory and /root is private.
 */
export function defaultSandboxDir(env: NodeJS.ProcessEnv = process.env, uid: number | null = callerUid()): string {
  if (uid === 0) return ROOT_SANDBOX_DIR
  const cache = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(env.HOME && isAbsolute(env.HOME) ? env.HOME : homedir(), '.cache')
  return join(cache, 'hessra', 'sandbox')
}

const DIR_HINT = 'choose a directory of your own with --dir (the default is private to you), or fix its owner and mode'

/** The sandbox directory, resolved and checked (see safe-path.ts); `server` may own it when we are root. */
function sandboxDir(dir: string | undefined, server: OsUser | null): string {
  return checkPrivateDir(resolve(dir ?? defaultSandboxDir()), {alsoOwner: server?.uid, what: 'the sandbox directory', hint: DIR_HINT})
}

export function sandboxUrl(port: number): string {
  return `postgresql://postgres@127.0.0.1:${port}/postgres`
}

export function sandboxTarget(port: number): ConnectionTarget {
  const url = sandboxUrl(port)
  return {connectionString: url, source: 'flag', display: url}
}

/** The state file of a checked directory; refused unless the caller wrote it (see checkOwnFile). */
export function readState(dir: string): SandboxState | null {
  const p = join(dir, STATE_FILE)
  if (!existsSync(p)) return null
  checkOwnFile(p, 'the sandbox state')
  try {
    const s = JSON.parse(readFileNoFollow(p)) as SandboxState
    const valid = s && s.version === 1 && Number.isInteger(s.port) && s.port > 0 && s.port <= 65_535 && typeof s.pg_config === 'string' && isAbsolute(s.pg_config)
    return valid ? s : null
  } catch {
    return null
  }
}

function writeState(state: SandboxState): void {
  writeFileNoFollow(join(state.dir, STATE_FILE), JSON.stringify(state, null, 2) + '\n', {mode: 0o644})
}

/** The sandbox's own settings (included from postgresql.conf, rewritten on every start). */
export function sandboxConf(dir: string, port: number): string {
  const q = (s: string) => `'${s.replaceAll("'", "''")}'`
  return [
    '# written by `hessra pg sandbox start` on every start: a throwaway cluster',
    "listen_addresses = '127.0.0.1'",
    `port = ${port}`,
    `unix_socket_directories = ${q(dir)}`,
    'fsync = off',
    'synchronous_commit = off',
    'full_page_writes = off',
    'shared_buffers = 32MB',
    'max_connections = 40',
    'max_worker_processes = 8',
    'max_parallel_workers = 4',
    'log_min_messages = warning',
    "log_line_prefix = '%m [%p] '",
    '',
  ].join('\n')
}

/** Is the TCP port free on 127.0.0.1? */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const srv = createServer()
    srv.once('error', () => resolvePromise(false))
    srv.listen({port, host, exclusive: true}, () => {
      srv.close(() => resolvePromise(true))
    })
  })
}

/** A port the OS says is free. */
export function ephemeralPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen({port: 0, host, exclusive: true}, () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolvePromise(port))
    })
  })
}

/**
 * The port to use: --port (must be free), else the preferred one when free, else the next free one
 * in a small range, else one the OS picks.
 */
export async function pickPort(opts: {explicit?: number; preferred?: number; isFree?: (p: number) => Promise<boolean>; avoid?: number[]}): Promise<number> {
  const isFree = opts.isFree ?? isPortFree
  const avoid = new Set(opts.avoid ?? [])
  if (opts.explicit !== undefined) {
    if (opts.explicit < 1 || opts.explicit > 65_535) throw new UsageError(`--port ${opts.explicit} is not a TCP port`)
    if (!(await isFree(opts.explicit))) {
      throw new EnvironmentError(`port ${opts.explicit} on 127.0.0.1 is already in use`, {hint: 'choose another with --port N, or omit --port to pick a free one'})
    }
    return opts.explicit
  }
  const start = opts.preferred ?? DEFAULT_SANDBOX_PORT
  for (let p = start; p < start + 20 && p <= 65_535; p++) {
    if (!avoid.has(p) && (await isFree(p))) return p
  }
  for (let i = 0; i < 5; i++) {
    const p = await ephemeralPort()
    if (!avoid.has(p)) return p
  }
  throw new EnvironmentError('could not find a free TCP port on 127.0.0.1')
}

interface OsUser {
  name: string
  uid: number
  gid: number
}

async function serverOsUser(run: Runner): Promise<OsUser | null> {
  if (!isRoot()) return null
  const u = await run('id', ['-u', SERVER_USER])
  const g = await run('id', ['-g', SERVER_USER])
  if (u.code !== 0 || g.code !== 0) {
    throw new EnvironmentError(`running as root, the sandbox server needs the "${SERVER_USER}" OS user, which does not exist (PostgreSQL refuses to run as root)`, {
      hint: `install the postgresql package (it creates the user), or: useradd --system --user-group --home-dir /var/lib/postgresql ${SERVER_USER}`,
    })
  }
  return {name: SERVER_USER, uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim())}
}

/**
 * --pg-config, else the pg_config recorded in the state (only when it passes checkTrustedProgram; the
 * server programs then come from its answer and are checked the same way), else discovery.
 */
async function findServerBinaries(pgConfig: string | undefined, stateInfo: SandboxState | null, run: Runner): Promise<PgConfigInfo> {
  let info: PgConfigInfo
  const fromState = !pgConfig && stateInfo !== null && existsSync(stateInfo.pg_config)
  if (pgConfig) info = (await discoverPgConfig({explicit: pgConfig, run})).chosen
  else if (fromState) info = await describePgConfig(checkTrustedProgram(stateInfo.pg_config, STATE_FILE), run)
  else info = (await discoverPgConfig({run})).chosen
  for (const tool of ['initdb', 'pg_ctl', 'postgres']) {
    if (fromState && existsSync(join(info.bindir, tool))) checkTrustedProgram(join(info.bindir, tool), `the bindir of ${info.path}`)
    if (!isExecutable(join(info.bindir, tool))) {
      throw new EnvironmentError(`PostgreSQL ${info.major} server programs are missing (${join(info.bindir, tool)})`, {
        hint: `apt-get install postgresql-${info.major}`,
      })
    }
  }
  return info
}

export interface SandboxOptions {
  dir?: string
  port?: number
  pgConfig?: string
  loaded: LoadedConfig | null
  progress: Progress
  run?: Runner
  /** do not build/install the extension (it is already installed) */
  noInstall?: boolean
}

export interface SandboxStartResult {
  dir: string
  port: number
  url: string
  alreadyRunning: boolean
  created: boolean
  configPath: string | null
  extensionVersion: string | null
  postgres: {major: number; pg_config: string}
  warnings: string[]
}

async function pgCtl(info: PgConfigInfo, user: OsUser | null, args: string[], run: Runner, dir: string, timeoutMs = 90_000) {
  return run(join(info.bindir, 'pg_ctl'), args, {asUser: user?.name, cwd: dir, timeoutMs})
}

export async function isRunning(info: PgConfigInfo, dir: string, run: Runner = runProcess): Promise<{running: boolean; pid: number | null}> {
  const user = isRoot() ? {name: SERVER_USER, uid: -1, gid: -1} : null
  const r = await pgCtl(info, user, ['-D', join(dir, 'data'), 'status'], run, dir, 20_000)
  const m = /PID:\s*(\d+)/.exec(r.stdout)
  return {running: r.code === 0, pid: m ? Number(m[1]) : null}
}

/** Creates the (checked) directory: private to us, or when we are root to the server's OS user, which must reach it. */
async function prepareDir(dir: string, user: OsUser | null, run: Runner): Promise<void> {
  if (!existsSync(dir)) {
    mkdirSync(dirname(dir), {recursive: true, mode: user ? 0o755 : 0o700})
    mkdirSync(dir, {mode: 0o700})
  }
  if (!user) return
  chownSync(dir, user.uid, user.gid)
  chmodSync(dir, 0o700)
  const reach = await run('test', ['-x', dir], {asUser: user.name})
  if (reach.code !== 0) {
    throw new EnvironmentError(`the ${user.name} OS user cannot reach ${dir} (a parent directory is not traversable)`, {
      hint: `use the default (${ROOT_SANDBOX_DIR}) or a --dir whose parent directories others may traverse`,
    })
  }
}

export async function sandboxStart(opts: SandboxOptions): Promise<SandboxStartResult> {
  const run = opts.run ?? runProcess
  const {progress} = opts
  const warnings: string[] = []
  const steps: PlannedStep[] = []
  // The directory first, before anything is built or run: ours, private, not someone else's cluster.
  const user = await serverOsUser(run)
  const dir = sandboxDir(opts.dir, user)
  const prior = readState(dir)
  const dataDir = join(dir, 'data')
  if (existsSync(dataDir) && !prior) {
    throw new UsageError(`${dir} holds a data directory that is not a hessra sandbox (no valid ${STATE_FILE})`, {hint: 'choose another --dir'})
  }
  const socketPath = join(dir, `.s.PGSQL.${opts.port ?? DEFAULT_SANDBOX_PORT}`)
  if (Buffer.byteLength(socketPath) > 100) {
    throw new UsageError(`${dir} is too long a path for a unix socket directory`, {hint: 'use a shorter --dir'})
  }
  await prepareDir(dir, user, run)

  const info = await findServerBinaries(opts.pgConfig, prior, run)
  const configPath = join(dir, 'hessra.json')

  // the server-side configuration from the CLI configuration (a sandbox without keys still starts)
  let configText: string | null = null
  if (opts.loaded) {
    try {
      configText = serverConfigText(buildServerConfig(opts.loaded, {normalizeKey: normalizeKeyText}))
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      warnings.push(`${error.message}; the sandbox starts without hessra.config_path (add a key, then \`hessra pg install --database URL\`)`)
    }
  } else {
    warnings.push('no hessra configuration found; the sandbox starts without hessra.config_path')
  }
  for (const w of warnings) progress.warn(w)

  // already running: refresh the configuration, print the URL
  if (prior && existsSync(join(dataDir, 'PG_VERSION'))) {
    const st = await isRunning(info, dir, run)
    if (st.running) {
      if (configText !== null) writeServerConfig(configPath, configText)
      const extensionVersion = await ensureExtension(prior.port, configText !== null ? configPath : null, info, progress, steps)
      return {dir, port: prior.port, url: sandboxUrl(prior.port), alreadyRunning: true, created: false, configPath: configText !== null ? configPath : null, extensionVersion, postgres: {major: info.major, pg_config: info.path}, warnings}
    }
  }

  if (!opts.noInstall) await buildAndInstall({info, progress, dryRun: false, run, steps})

  let created = false
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    await progress.step(`Creating the cluster (initdb, PostgreSQL ${info.major})`, async () => {
      const r = await run(join(info.bindir, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'], {
        asUser: user?.name,
        cwd: dir,
        timeoutMs: 180_000,
      })
      if (r.code !== 0) throw new EnvironmentError(`initdb failed: ${tail(r.stderr || r.stdout)}`)
    })
    writeFileNoFollow(join(dataDir, 'postgresql.conf'), `\n# hessra sandbox\ninclude_if_exists '${SANDBOX_CONF}'\n`, {mode: 0o600, append: true})
    created = true
  }

  const explicit = opts.port
  let port = await pickPort({explicit, preferred: prior?.port ?? DEFAULT_SANDBOX_PORT})
  const state: SandboxState = {
    version: 1,
    dir,
    port,
    pg_config: info.path,
    major: info.major,
    config_path: configPath,
    os_user: user?.name ?? (process.env.USER || 'self'),
    created_at: prior?.created_at ?? new Date().toISOString(),
  }
  if (configText !== null) writeServerConfig(configPath, configText)

  for (let attempt = 0; ; attempt++) {
    writeFileNoFollow(join(dataDir, SANDBOX_CONF), sandboxConf(dir, port), {mode: 0o644, owner: user ?? undefined})
    state.port = port
    writeState(state)
    const log = join(dir, 'server.log')
    const r = await progress.step(`Starting PostgreSQL on 127.0.0.1:${port}`, async () => pgCtl(info, user, ['-D', dataDir, '-l', log, '-w', '-t', '60', 'start'], run, dir))
    if (r.code === 0) break
    const logText = existsSync(log) ? readFileNoFollow(log) : ''
    if (explicit === undefined && attempt < 2 && /could not bind|Address already in use|could not create any TCP\/IP sockets/.test(logText + r.stderr)) {
      port = await pickPort({preferred: port + 1, avoid: [port]})
      continue
    }
    throw new EnvironmentError(`the sandbox server did not start: ${tail(logText || r.stderr || r.stdout, 10)}`, {hint: `see ${log}`})
  }
  const extensionVersion = await ensureExtension(port, configText !== null ? configPath : null, info, progress, steps)
  return {dir, port, url: sandboxUrl(port), alreadyRunning: false, created, configPath: configText !== null ? configPath : null, extensionVersion, postgres: {major: info.major, pg_config: info.path}, warnings}
}

async function ensureExtension(port: number, configPath: string | null, info: PgConfigInfo, progress: Progress, steps: PlannedStep[]): Promise<string | null> {
  const client = await connect(sandboxTarget(port))
  try {
    const r = await setupDatabase(client, {configPath, info, dryRun: false, progress, steps})
    return r.extensionVersion
  } finally {
    await client.end().catch(() => {})
  }
}

export interface SandboxStopResult {
  dir: string
  wasRunning: boolean
  removed: boolean
  found: boolean
}

export async function sandboxStop(opts: {dir?: string; keep?: boolean; progress: Progress; run?: Runner; pgConfig?: string}): Promise<SandboxStopResult> {
  const run = opts.run ?? runProcess
  const requested = resolve(opts.dir ?? defaultSandboxDir())
  if (!existsSync(requested)) return {dir: requested, wasRunning: false, removed: false, found: false}
  const user = await serverOsUser(run)
  const dir = sandboxDir(requested, user)
  const state = readState(dir)
  if (!state) {
    if (existsSync(join(dir, 'data'))) throw new UsageError(`${dir} is not a hessra sandbox (no ${STATE_FILE}); not touching it`)
    return {dir, wasRunning: false, removed: false, found: false}
  }
  let wasRunning = false
  if (existsSync(join(dir, 'data', 'PG_VERSION'))) {
    const info = await findServerBinaries(opts.pgConfig, state, run)
    const st = await isRunning(info, dir, run)
    if (st.running) {
      wasRunning = true
      await opts.progress.step('Stopping PostgreSQL', async () => {
        const r = await pgCtl(info, user, ['-D', join(dir, 'data'), '-m', 'fast', '-w', '-t', '60', 'stop'], run, dir)
        if (r.code !== 0) throw new EnvironmentError(`pg_ctl stop failed: ${tail(r.stderr || r.stdout)}`)
      })
    }
  }
  let removed = false
  if (!opts.keep) {
    rmSync(dir, {recursive: true, force: true})
    removed = true
  }
  return {dir, wasRunning, removed, found: true}
}

export interface SandboxStatusResult {
  dir: string
  found: boolean
  running: boolean
  pid: number | null
  port: number | null
  url: string | null
  configPath: string | null
  postgres: {major: number; pg_config: string} | null
}

export async function sandboxStatus(opts: {dir?: string; run?: Runner; pgConfig?: string}): Promise<SandboxStatusResult> {
  const run = opts.run ?? runProcess
  const requested = resolve(opts.dir ?? defaultSandboxDir())
  const notFound = {found: false, running: false, pid: null, port: null, url: null, configPath: null, postgres: null}
  if (!existsSync(requested)) return {dir: requested, ...notFound}
  const dir = sandboxDir(requested, await serverOsUser(run))
  const state = readState(dir)
  if (!state || !existsSync(join(dir, 'data', 'PG_VERSION'))) {
    return {dir, ...notFound}
  }
  const info = await findServerBinaries(opts.pgConfig, state, run)
  const st = await isRunning(info, dir, run)
  return {
    dir,
    found: true,
    running: st.running,
    pid: st.pid,
    port: state.port,
    url: sandboxUrl(state.port),
    configPath: existsSync(join(dir, 'hessra.json')) ? join(dir, 'hessra.json') : null,
    postgres: {major: info.major, pg_config: info.path},
  }
}
