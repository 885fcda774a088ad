/**
 * `hessra pg sandbox start|stop|status`: a throwaway PostgreSQL cluster for trying hessra out.
 *
 * Everything lives in DIR and nothing is written outside it: DIR/pg is a private installation tree
 * (scripts/pg-private-tree.sh: copies of the server programs, links to the rest of the server's files, and
 * the extension built in DIR/build and installed there), so the server's own extension files — a Debian
 * package's hessra.so among them — stay untouched; DIR/data (initdb), DIR/socket (the unix socket),
 * DIR/log/server.log, DIR/hessra.json (the server-side configuration, public keys only), DIR/sandbox.json
 * (what we know about it), DIR/password and DIR/pgpass.
 *
 * It admits no other local user: it listens on the socket in DIR/socket (mode 0700) with peer
 * authentication mapped to the OS user who started it, and on 127.0.0.1 with scram-sha-256 and a random
 * password kept in DIR/password (0600); there is no `trust` line. Never put real data in it. When we are
 * root the server runs as the `postgres` OS user (PostgreSQL refuses to run as root): DIR belongs to root
 * (0711, so that user can reach what is its own inside) and only data/, socket/ and log/ belong to it, so
 * root never writes into a directory another user controls.
 *
 * This code often runs as root, so DIR must be private (see safe-path.ts): the default is per user, not in
 * a shared /tmp; a DIR or sandbox.json someone else could have written is refused before anything else
 * happens; and no program path read from sandbox.json is run unless only root or the caller could have
 * put it there (the server programs are then taken from that pg_config's own answer, never from the file).
 */
import {randomBytes} from 'node:crypto'
import {createServer} from 'node:net'
import {chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync} from 'node:fs'
import {homedir, userInfo} from 'node:os'
import {dirname, isAbsolute, join, resolve} from 'node:path'

import type {LoadedConfig} from '../config/index.js'
import {ConfigError, EnvironmentError, UsageError} from '../errors.js'
import {connect, type ConnectionTarget} from './connect.js'
import {isExecutable, isRoot, runProcess, tail, type Runner} from './exec.js'
import {packageRoot} from '../native/binding.js'
import {buildAndInstall, normalizeKeyText, setupDatabase, type PlannedStep} from './install.js'
import {describePgConfig, discoverPgConfig, type PgConfigInfo} from './pg-config.js'
import type {Progress} from './progress.js'
import {callerUid, checkOwnFile, checkPrivateDir, checkTrustedProgram, readFileNoFollow, writeFileNoFollow} from './safe-path.js'
import {displayValue, quoteIdent, quoteLiteral} from './sql.js'
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

/** The parts of DIR (see the top of this file). */
export function sandboxPaths(dir: string) {
  return {
    tree: join(dir, 'pg'),
    build: join(dir, 'build'),
    data: join(dir, 'data'),
    socket: join(dir, 'socket'),
    logDir: join(dir, 'log'),
    log: join(dir, 'log', 'server.log'),
    config: join(dir, 'hessra.json'),
    password: join(dir, 'password'),
    pgpass: join(dir, 'pgpass'),
  }
}

/** The connection string printed: the private socket, peer authentication (no password in it). */
export function sandboxUrl(dir: string, port: number): string {
  return `postgresql://postgres@${encodeURIComponent(sandboxPaths(dir).socket)}:${port}/postgres`
}

/** Over TCP the password is needed: `PGPASSFILE=DIR/pgpass psql URL`. */
export function sandboxTcpUrl(port: number): string {
  return `postgresql://postgres@127.0.0.1:${port}/postgres`
}

export function sandboxTarget(dir: string, port: number): ConnectionTarget {
  const url = sandboxUrl(dir, port)
  return {connectionString: url, source: 'flag', display: url}
}

/**
 * pg_hba.conf: through the socket, peer authentication with pg_ident.conf's map (the OS user who started
 * the sandbox, as `postgres`); over loopback TCP, a role's password (`postgres`: DIR/password). No trust
 * line: no other local user gets in.
 */
export function sandboxHba(): string {
  return [
    '# written by `hessra pg sandbox start` on every start: no other local user may connect',
    'local all all peer map=hessra_sandbox',
    'host all all 127.0.0.1/32 scram-sha-256',
    '',
  ].join('\n')
}

/**
 * pg_ident.conf: the OS users allowed in through the socket (who started it, and the server's user), as
 * `postgres` and, as peer authentication does without a map, as a role of their own name.
 */
export function sandboxIdent(osUsers: readonly string[]): string {
  const lines = ['# written by `hessra pg sandbox start` on every start']
  for (const u of new Set(osUsers)) {
    if (!/^[\w.@-]+$/.test(u)) throw new EnvironmentError(`the OS user name ${JSON.stringify(u)} cannot be written to pg_ident.conf`)
    lines.push(`hessra_sandbox "${u}" postgres`)
    if (u !== 'postgres') lines.push(`hessra_sandbox "${u}" "${u}"`)
  }
  return lines.join('\n') + '\n'
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
    `unix_socket_directories = ${q(sandboxPaths(dir).socket)}`,
    "unix_socket_permissions = 0700",
    "password_encryption = 'scram-sha-256'",
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
  /** through the private socket (peer authentication) */
  url: string
  /** over loopback TCP, with the password in `pgpassFile` */
  tcpUrl: string
  passwordFile: string
  pgpassFile: string
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

/**
 * Creates the (checked) directory and its parts. DIR is ours (0700; 0711 when the server runs as another
 * OS user, who must reach its own parts); data/, socket/ and log/ belong to the server's OS user (0700).
 * A DIR an earlier version gave to the server's OS user is taken back.
 */
async function prepareDir(dir: string, user: OsUser | null, run: Runner): Promise<void> {
  const paths = sandboxPaths(dir)
  if (!existsSync(dir)) {
    mkdirSync(dirname(dir), {recursive: true, mode: user ? 0o755 : 0o700})
    mkdirSync(dir, {mode: 0o700})
  }
  const me = {uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0}
  if (lstatSync(dir).uid !== me.uid) chownSync(dir, me.uid, me.gid)
  chmodSync(dir, user ? 0o711 : 0o700)
  for (const d of [paths.data, paths.socket, paths.logDir]) {
    if (!existsSync(d)) mkdirSync(d, {mode: 0o700})
    if (user) chownSync(d, user.uid, user.gid)
    chmodSync(d, 0o700)
  }
  if (!user) return
  const reach = await run('test', ['-x', paths.data], {asUser: user.name})
  if (reach.code !== 0) {
    throw new EnvironmentError(`the ${user.name} OS user cannot reach ${dir} (a parent directory is not traversable)`, {
      hint: `use the default (${ROOT_SANDBOX_DIR}) or a --dir whose parent directories others may traverse`,
    })
  }
}

/**
 * The private installation tree (scripts/pg-private-tree.sh) in DIR/pg: the server programs copied, the
 * rest of the server's files linked, and — unless `linkExtension`, which uses the extension installed in
 * the server — room for the extension installed there. Returns the PostgreSQL of the tree.
 */
async function privateTree(info: PgConfigInfo, dir: string, linkExtension: boolean, run: Runner, progress: Progress): Promise<PgConfigInfo> {
  const tree = sandboxPaths(dir).tree
  const script = join(packageRoot(), 'scripts', 'pg-private-tree.sh')
  const r = await progress.step(`Preparing a private PostgreSQL installation in ${tree}`, () =>
    run('bash', [script, info.path, tree, ...(linkExtension ? ['--link-extension'] : [])], {timeoutMs: 120_000}),
  )
  if (r.code !== 0) throw new EnvironmentError(`could not prepare the private PostgreSQL installation ${tree}: ${tail(r.stderr || r.stdout)}`)
  return {...info, bindir: r.stdout.trim()}
}

export async function sandboxStart(opts: SandboxOptions): Promise<SandboxStartResult> {
  const run = opts.run ?? runProcess
  const {progress} = opts
  const warnings: string[] = []
  const steps: PlannedStep[] = []
  // The directory first, before anything is built or run: ours, private, not someone else's cluster.
  const user = await serverOsUser(run)
  const dir = sandboxDir(opts.dir, user)
  const paths = sandboxPaths(dir)
  const prior = readState(dir)
  if (existsSync(join(paths.data, 'PG_VERSION')) && !prior) {
    throw new UsageError(`${dir} holds a data directory that is not a hessra sandbox (no valid ${STATE_FILE})`, {hint: 'choose another --dir'})
  }
  const socketPath = join(paths.socket, `.s.PGSQL.${opts.port ?? DEFAULT_SANDBOX_PORT}`)
  if (Buffer.byteLength(socketPath) > 100) {
    throw new UsageError(`${dir} is too long a path for a unix socket directory`, {hint: 'use a shorter --dir'})
  }
  await prepareDir(dir, user, run)

  const info = await findServerBinaries(opts.pgConfig, prior, run)
  const configPath = paths.config
  const osUsers = [userInfo().username, user?.name ?? userInfo().username]

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
  if (prior && existsSync(join(paths.data, 'PG_VERSION'))) {
    const st = await isRunning(info, dir, run)
    if (st.running && !existsSync(join(paths.socket, `.s.PGSQL.${prior.port}`))) {
      throw new UsageError(`the sandbox in ${dir} was started by an older hessra, which let every local user in`, {
        hint: `restart it: hessra pg sandbox stop --keep --dir ${dir} && hessra pg sandbox start --dir ${dir}`,
      })
    }
    if (st.running) {
      if (configText !== null) writeServerConfig(configPath, configText)
      const extensionVersion = await ensureExtension(dir, prior.port, configText !== null ? configPath : null, info, progress, steps)
      return startResult(dir, prior.port, {alreadyRunning: true, created: false, configPath: configText !== null ? configPath : null, extensionVersion, info, warnings})
    }
  }

  // the server runs from the private tree: its extension files are the ones installed there
  const treeInfo = await privateTree(info, dir, Boolean(opts.noInstall), run, progress)
  if (!opts.noInstall) await buildAndInstall({info, progress, dryRun: false, run, steps, buildDir: paths.build, destdir: paths.tree})

  let created = false
  if (!existsSync(join(paths.data, 'PG_VERSION'))) {
    await progress.step(`Creating the cluster (initdb, PostgreSQL ${info.major})`, async () => {
      const args = ['-D', paths.data, '-U', 'postgres', '--auth-local=peer', '--auth-host=scram-sha-256', '--encoding=UTF8', '--locale=C', '--no-sync']
      const r = await run(join(treeInfo.bindir, 'initdb'), args, {asUser: user?.name, cwd: dir, timeoutMs: 180_000})
      if (r.code !== 0) throw new EnvironmentError(`initdb failed: ${tail(r.stderr || r.stdout)}`)
    })
    writeFileNoFollow(join(paths.data, 'postgresql.conf'), `\n# hessra sandbox\ninclude_if_exists '${SANDBOX_CONF}'\n`, {mode: 0o600, append: true})
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
  // authentication, rewritten on every start (an older sandbox had `trust` lines)
  const owner = user ?? undefined
  writeFileNoFollow(join(paths.data, 'pg_hba.conf'), sandboxHba(), {mode: 0o600, owner})
  writeFileNoFollow(join(paths.data, 'pg_ident.conf'), sandboxIdent(osUsers), {mode: 0o600, owner})
  const password = sandboxPassword(paths.password)

  for (let attempt = 0; ; attempt++) {
    writeFileNoFollow(join(paths.data, SANDBOX_CONF), sandboxConf(dir, port), {mode: 0o644, owner})
    state.port = port
    writeState(state)
    const r = await progress.step(`Starting PostgreSQL on 127.0.0.1:${port} and ${paths.socket}`, async () =>
      pgCtl(treeInfo, user, ['-D', paths.data, '-l', paths.log, '-w', '-t', '60', 'start'], run, dir),
    )
    if (r.code === 0) break
    const logText = existsSync(paths.log) ? readFileNoFollow(paths.log) : ''
    if (explicit === undefined && attempt < 2 && /could not bind|Address already in use|could not create any TCP\/IP sockets/.test(logText + r.stderr)) {
      port = await pickPort({preferred: port + 1, avoid: [port]})
      continue
    }
    throw new EnvironmentError(`the sandbox server did not start: ${tail(logText || r.stderr || r.stdout, 10)}`, {hint: `see ${paths.log}`})
  }
  writeFileNoFollow(paths.pgpass, `127.0.0.1:${port}:*:postgres:${password}\n`, {mode: 0o600})
  const extensionVersion = await ensureExtension(dir, port, configText !== null ? configPath : null, info, progress, steps, password)
  return startResult(dir, port, {alreadyRunning: false, created, configPath: configText !== null ? configPath : null, extensionVersion, info, warnings})
}

function startResult(
  dir: string,
  port: number,
  r: {alreadyRunning: boolean; created: boolean; configPath: string | null; extensionVersion: string | null; info: PgConfigInfo; warnings: string[]},
): SandboxStartResult {
  const paths = sandboxPaths(dir)
  return {
    dir,
    port,
    url: sandboxUrl(dir, port),
    tcpUrl: sandboxTcpUrl(port),
    passwordFile: paths.password,
    pgpassFile: paths.pgpass,
    alreadyRunning: r.alreadyRunning,
    created: r.created,
    configPath: r.configPath,
    extensionVersion: r.extensionVersion,
    postgres: {major: r.info.major, pg_config: r.info.path},
    warnings: r.warnings,
  }
}

/** The sandbox's password (DIR/password, 0600): made once, 24 random bytes. */
function sandboxPassword(path: string): string {
  if (existsSync(path)) {
    checkOwnFile(path, 'the sandbox password')
    const text = readFileSync(path, 'utf8').trim()
    if (/^[\w-]{32}$/.test(text)) return text
  }
  const secret = randomBytes(24).toString('base64url')
  writeFileNoFollow(path, `${secret}\n`, {mode: 0o600})
  chmodSync(path, 0o600)
  return secret
}

async function ensureExtension(dir: string, port: number, configPath: string | null, info: PgConfigInfo, progress: Progress, steps: PlannedStep[], password?: string): Promise<string | null> {
  const client = await connect(sandboxTarget(dir, port))
  try {
    // a literal (a utility statement takes no parameter); 32 base64url characters, logged nowhere
    if (password) await client.query(`ALTER ROLE postgres PASSWORD ${quoteLiteral(password)}`)
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
    url: sandboxUrl(dir, state.port),
    configPath: existsSync(sandboxPaths(dir).config) ? sandboxPaths(dir).config : null,
    postgres: {major: info.major, pg_config: info.path},
  }
}

/**
 * `hessra pg sandbox url [--role ROLE]`: how to connect to a running sandbox. Without a role, the private
 * socket's URL (peer authentication, as `postgres`). With one — an application's role, which peer
 * authentication does not map — a TCP URL with a password: a new random one is given to the role and kept
 * in DIR/pgpass (0600) beside `postgres`'s, so only whoever may read DIR can connect as it.
 */
export async function sandboxRoleUrl(opts: {dir?: string; role?: string; run?: Runner}): Promise<{url: string; role: string}> {
  const st = await sandboxStatus({dir: opts.dir, run: opts.run})
  if (!st.found || !st.running || st.port === null || st.url === null) {
    throw new EnvironmentError(`no running sandbox in ${st.dir}`, {hint: `start it: hessra pg sandbox start --dir ${st.dir}`})
  }
  const role = opts.role
  if (role === undefined || role === 'postgres') return {url: st.url, role: 'postgres'}
  const paths = sandboxPaths(st.dir)
  const secret = randomBytes(24).toString('base64url')
  const client = await connect(sandboxTarget(st.dir, st.port))
  try {
    const r = await client.query<{rolcanlogin: boolean}>('SELECT rolcanlogin FROM pg_catalog.pg_roles WHERE rolname = $1', [role])
    if (!r.rows[0]) throw new UsageError(`no role ${displayValue(role)} in the sandbox`, {hint: 'create it first (CREATE ROLE … LOGIN)'})
    if (!r.rows[0].rolcanlogin) throw new UsageError(`role ${displayValue(role)} cannot log in (NOLOGIN)`)
    await client.query(`ALTER ROLE ${quoteIdent(role, 'role')} PASSWORD ${quoteLiteral(secret)}`)
  } finally {
    await client.end().catch(() => {})
  }
  const esc = (s: string) => s.replaceAll('\\', '\\\\').replaceAll(':', '\\:')
  const kept = existsSync(paths.pgpass) ? readFileNoFollow(paths.pgpass).split('\n').filter((l) => l && !l.startsWith(`127.0.0.1:${st.port}:*:${esc(role)}:`)) : []
  writeFileNoFollow(paths.pgpass, [...kept, `127.0.0.1:${st.port}:*:${esc(role)}:${secret}`].join('\n') + '\n', {mode: 0o600})
  return {url: `postgresql://${encodeURIComponent(role)}:${secret}@127.0.0.1:${st.port}/postgres`, role: role}
}
