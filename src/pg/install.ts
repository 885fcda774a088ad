/**
 * `hessra pg install`: build the bundled extension (pg-plugin/, PGXS) against the chosen pg_config,
 * install it, write the server-side configuration, and (with a database) create/update the extension,
 * point hessra.config_path at the file (ALTER SYSTEM + reload) and check the server can load it.
 * Every step is idempotent; --dry-run shows each one without doing it.
 */
import {accessSync, constants, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {dirname, isAbsolute, join, resolve} from 'node:path'

import type {HessraConfig, KeyEntry, LoadedConfig} from '../config/index.js'
import {ConfigError, EnvironmentError, HessraError} from '../errors.js'
import {engineStaticLibrary, isAvailable as nativeAvailable, packageRoot} from '../native/binding.js'
import {publicKeyText} from '../tokens/devkit.js'
import {connect, isLocalTarget, mapPgError, requireSuperuser, type ConnectionTarget, type Queryable} from './connect.js'
import {isRoot, runProcess, tail, type Runner} from './exec.js'
import {buildPrerequisitesError, checkBuildPrerequisites, discoverPgConfig, hintForBuildOutput, type Discovery, type PgConfigInfo} from './pg-config.js'
import type {Progress} from './progress.js'
import {buildServerConfig, DEFAULT_SERVER_CONFIG_PATH, mergeServerConfig, serverConfigText, writeServerConfig, type MergeResult} from './server-config.js'
import {quoteIdent, quoteLiteral} from './sql.js'
import {databaseKeyIds, extensionInfo, KEYS_TABLE} from './trust.js'

export const EXTENSION_NAME = 'hessra'
const LOAD_LIBRARY_SQL = `LOAD '${EXTENSION_NAME}';`

export function pluginDir(root = packageRoot()): string {
  return join(root, 'pg-plugin')
}

/** The engine linked into the extension: prebuilt in a packaged release, else built here (cargo). */
export function nativeStaticLib(root = packageRoot()): {path: string; prebuilt: boolean} {
  return engineStaticLibrary(root)
}

/** A step as shown by --dry-run (and the --json report). */
export interface PlannedStep {
  title: string
  /** shell command, when the step runs one */
  command?: string
  /** SQL, when the step runs some */
  sql?: string
  /** file written, when the step writes one */
  file?: string
  /** what the file would hold (dry run) */
  content?: string
  /** true: done; false: skipped (dry run / nothing to do) */
  done: boolean
  note?: string
}

function shellQuote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`
}

export function commandLine(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map(shellQuote).join(' ')
}

/** The key normaliser for the server-side config: the native engine when it loads, else the text as is. */
export function normalizeKeyText(spec: string, what: string): string {
  if (!nativeAvailable()) return spec.trim()
  return publicKeyText(spec, what)
}

/**
 * The server-side file at `path` as the server reads it now (null when there is none), for merging. One
 * that is not a configuration object is refused: writing over it would hide what it held.
 */
export function readServerConfigFile(path: string): HessraConfig | null {
  if (!existsSync(path)) return null
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new ConfigError(`cannot merge with the server-side configuration ${path}: ${(error as Error).message}`, {
      file: path,
      hint: 'fix the file, or pass --replace to write your configuration over it',
    })
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || (parsed as {version?: unknown}).version !== 1) {
    throw new ConfigError(`cannot merge with the server-side configuration ${path}: not a hessra configuration ("version": 1)`, {
      file: path,
      hint: 'fix the file, or pass --replace to write your configuration over it',
    })
  }
  return parsed as HessraConfig
}

/** The key text of an entry of the server-side file at `path` (a public_key_file resolved against it), canonical when the engine loads. */
function serverKeyText(entry: KeyEntry, path: string): string | null {
  try {
    if (typeof entry.public_key === 'string') return normalizeKeyText(entry.public_key, `keys.${entry.id}`)
    if (typeof entry.public_key_file === 'string') {
      const file = isAbsolute(entry.public_key_file) ? entry.public_key_file : resolve(dirname(path), entry.public_key_file)
      return normalizeKeyText(file, `keys.${entry.id}`)
    }
  } catch {
    // unreadable: never the same key
  }
  return null
}

/** The server-side configuration to write at `path`: `built` merged into what the file holds (mergeServerConfig). */
export function mergedServerConfig(path: string, built: HessraConfig, replace: boolean): MergeResult {
  const existing = replace ? safeRead(path) : readServerConfigFile(path)
  return mergeServerConfig(existing, built, {
    replace,
    path,
    sameKey: (old, next) => {
      const a = serverKeyText(old, path)
      return a !== null && a === (typeof next.public_key === 'string' ? normalizeKeyText(next.public_key, `keys.${next.id}`) : null)
    },
  })
}

/** With --replace a broken file is replaced: read it only to list what is dropped. */
function safeRead(path: string): HessraConfig | null {
  try {
    return readServerConfigFile(path)
  } catch {
    return null
  }
}

export interface BuildOptions {
  info: PgConfigInfo
  progress: Progress
  dryRun: boolean
  run?: Runner
  root?: string
  /** record of what was (or would be) done */
  steps: PlannedStep[]
  /** build in a copy of the sources here instead of in the package's pg-plugin/ */
  buildDir?: string
  /** install under this root (`make install DESTDIR=...`: a private installation tree) instead of into PostgreSQL */
  destdir?: string
}

/** The files `make` needs to build and install the extension (what the npm package ships of pg-plugin/). */
function copyPluginSources(from: string, to: string): void {
  rmSync(to, {recursive: true, force: true})
  mkdirSync(join(to, 'sql'), {recursive: true, mode: 0o755})
  for (const f of ['Makefile', 'hessra.control']) cpSync(join(from, f), join(to, f))
  cpSync(join(from, 'src'), join(to, 'src'), {recursive: true, filter: (p) => !/\.(o|so|bc)$/.test(p)})
  for (const f of readdirSync(join(from, 'sql'))) if (/^hessra--.*\.sql$/.test(f)) cpSync(join(from, 'sql', f), join(to, 'sql', f))
}

/** Builds the engine (when cargo is there) and the extension, then `make install`. */
export async function buildAndInstall(opts: BuildOptions): Promise<void> {
  const run = opts.run ?? runProcess
  const root = opts.root ?? packageRoot()
  const sources = pluginDir(root)
  const {info, progress, steps} = opts
  if (!existsSync(join(sources, 'Makefile')) || !existsSync(join(sources, 'hessra.control'))) {
    throw new EnvironmentError(`the extension sources are missing from this installation (${sources})`, {
      hint: 'reinstall hessra from a package that includes pg-plugin/, or build it from a clone: make -C pg-plugin install',
    })
  }
  const engine = nativeStaticLib(root)
  const staticLib = engine.path
  const check = checkBuildPrerequisites(info, {nativeLibExists: existsSync(staticLib)})
  if (!check.ok) throw buildPrerequisitesError(check)

  const dir = opts.buildDir ? join(opts.buildDir, 'pg-plugin') : sources
  const cargoArgs = ['build', '--release', '--offline', '--manifest-path', join(root, 'native', 'Cargo.toml')]
  const makeArgs = ['-C', dir, `PG_CONFIG=${info.path}`, `NATIVE_LIB=${staticLib}`, ...(opts.buildDir ? [`NATIVE_DIR=${join(root, 'native')}`] : [])]
  const env = {...process.env, CARGO_TARGET_DIR: join(root, 'native', 'target')}

  const exec = async (title: string, cmd: string, args: string[], opts2: {env?: NodeJS.ProcessEnv; timeoutMs: number}) => {
    const line = commandLine(cmd, args)
    if (opts.dryRun) {
      steps.push({title, command: line, done: false})
      return
    }
    await progress.step(title, async (update) => {
      const r = await run(cmd, args, {env: opts2.env ?? process.env, timeoutMs: opts2.timeoutMs, onOutput: update, cwd: root})
      if (r.error || r.code !== 0) {
        const output = `${r.stdout}\n${r.stderr}`
        const hint = hintForBuildOutput(output, info.major)
        throw new EnvironmentError(`${title} failed (${r.error ? r.error.code ?? r.error.message : `exit ${r.code}`}): ${line}\n${tail(output)}`, {hint})
      }
    })
    steps.push({title, command: line, done: true})
  }

  if (check.cargo && !engine.prebuilt) {
    await exec('Building the native engine (cargo, release)', 'cargo', cargoArgs, {env, timeoutMs: 30 * 60_000})
  } else {
    const why = check.cargo ? 'prebuilt for this platform' : 'cargo not found'
    steps.push({title: 'Building the native engine', done: false, note: `${why}; using ${staticLib}`})
    if (!opts.dryRun) progress.info(`${why}; using ${staticLib}`)
  }
  if (opts.buildDir && !opts.dryRun) copyPluginSources(sources, dir)
  await exec(`Building the extension for PostgreSQL ${info.major}`, 'make', [...makeArgs, '-j2'], {timeoutMs: 10 * 60_000})
  if (opts.destdir) {
    await exec(`Installing the extension into ${opts.destdir}`, 'make', [...makeArgs, `DESTDIR=${opts.destdir}`, 'install'], {timeoutMs: 5 * 60_000})
    return
  }
  if (!opts.dryRun) checkInstallWritable(info)
  await exec(`Installing the extension into ${info.pkglibdir}`, 'make', [...makeArgs, 'install'], {timeoutMs: 5 * 60_000})
}

/** Fails early (exit 5) when we cannot write PostgreSQL's library and extension directories. */
export function checkInstallWritable(info: PgConfigInfo): void {
  for (const d of [info.pkglibdir, join(info.sharedir, 'extension')]) {
    if (!d || !existsSync(d)) continue
    try {
      accessSync(d, constants.W_OK)
    } catch {
      throw new EnvironmentError(`cannot write ${d}: installing the extension into PostgreSQL ${info.major} needs root`, {
        hint: 'run `sudo hessra pg install ...` (or `sudo make -C pg-plugin install`)',
      })
    }
  }
}

export interface DatabaseSetupResult {
  serverVersion: string
  extensionVersion: string
  created: boolean
  updated: boolean
  configPathSet: boolean
}

/**
 * The entries of a session_preload_libraries value with the extension added, or null when it is listed
 * already (as `hessra`, `"hessra"` or `$libdir/hessra`).
 */
export function withPreloadedExtension(current: string): string[] | null {
  const items = current
    .split(',')
    .map((i) => i.trim().replace(/^"(.*)"$/, '$1'))
    .filter(Boolean)
  if (items.some((i) => i === EXTENSION_NAME || i === `$libdir/${EXTENSION_NAME}`)) return null
  return [...items, EXTENSION_NAME]
}

/**
 * The database side: superuser check, CREATE/UPDATE EXTENSION, ALTER SYSTEM SET hessra.config_path, reload, load
 * check; with `preload`, hessra added to session_preload_libraries (new sessions load it before their first
 * statement, so none loads it inside a parallel operation, where its settings cannot be applied).
 */
export async function setupDatabase(
  client: Queryable,
  opts: {configPath: string | null; info?: PgConfigInfo; dryRun: boolean; progress: Progress; steps: PlannedStep[]; preload?: boolean},
): Promise<DatabaseSetupResult> {
  const {progress, steps} = opts
  const sqlStep = async <T>(title: string, sql: string, fn: () => Promise<T>): Promise<T | undefined> => {
    if (opts.dryRun) {
      steps.push({title, sql, done: false})
      return undefined
    }
    const r = await progress.step(title, fn)
    steps.push({title, sql, done: true})
    return r
  }

  await requireSuperuser(client, 'installing the extension')
  const ver = await client.query<{v: string; n: string}>("SELECT pg_catalog.current_setting('server_version') AS v, pg_catalog.current_setting('server_version_num') AS n")
  const serverVersion = ver.rows[0]?.v ?? 'unknown'
  const serverMajor = Math.floor(Number(ver.rows[0]?.n ?? 0) / 10_000)
  if (opts.info && serverMajor && serverMajor !== opts.info.major) {
    throw new EnvironmentError(`the server runs PostgreSQL ${serverMajor} but the extension was built for ${opts.info.major} (${opts.info.path})`, {
      hint: `pass --pg-config /usr/lib/postgresql/${serverMajor}/bin/pg_config (install postgresql-server-dev-${serverMajor} if missing)`,
    })
  }
  const avail = await client.query<{default_version: string | null; installed_version: string | null}>(
    'SELECT default_version, installed_version FROM pg_catalog.pg_available_extensions WHERE name = $1',
    [EXTENSION_NAME],
  )
  const row = avail.rows[0]
  if (!row && !opts.dryRun) {
    throw new EnvironmentError('the server does not see the hessra extension files (hessra.control)', {
      hint: 'the server must run on this machine from the same PostgreSQL installation the extension was installed into (check --pg-config)',
    })
  }
  let created = false
  let updated = false
  if (!row?.installed_version) {
    await sqlStep('Creating the extension', `CREATE EXTENSION IF NOT EXISTS ${EXTENSION_NAME};`, () => client.query(`CREATE EXTENSION IF NOT EXISTS ${EXTENSION_NAME}`))
    created = !opts.dryRun
  } else if (row.default_version && row.installed_version !== row.default_version) {
    await sqlStep(`Updating the extension ${row.installed_version} → ${row.default_version}`, `ALTER EXTENSION ${EXTENSION_NAME} UPDATE;`, () =>
      client.query(`ALTER EXTENSION ${EXTENSION_NAME} UPDATE`),
    )
    updated = !opts.dryRun
  } else {
    steps.push({title: `Extension ${row.installed_version} already installed`, done: false})
    if (!opts.dryRun) progress.info(`extension hessra ${row.installed_version} already installed`)
  }

  let configPathSet = false
  if (opts.configPath) {
    const path = opts.configPath
    const current = await client.query<{p: string | null}>("SELECT pg_catalog.current_setting('hessra.config_path', true) AS p")
    const alter = `ALTER SYSTEM SET hessra.config_path = ${quoteLiteral(path)};`
    if (current.rows[0]?.p !== path) {
      // A fresh session has not loaded the library, so hessra.config_path may not be defined in it and
      // PostgreSQL 15/16 refuse `ALTER SYSTEM SET` for an unknown parameter. LOAD defines it (superuser).
      await sqlStep('Loading the extension library in this session', LOAD_LIBRARY_SQL, () => client.query(LOAD_LIBRARY_SQL))
      await sqlStep(`Setting hessra.config_path = ${path}`, alter, () => client.query(alter))
      await sqlStep('Reloading the server configuration', 'SELECT pg_reload_conf();', () => client.query('SELECT pg_catalog.pg_reload_conf()'))
    } else {
      steps.push({title: `hessra.config_path is already ${path}`, done: false})
    }
    await sqlStep('Checking the server loads the configuration', `SELECT hessra_init(${quoteLiteral(path)});`, async () => {
      try {
        // qualified: an unqualified call by a superuser would run whatever hessra_init a database owner put
        // first on the search_path (a schema named after the superuser)
        const schema = await client.query<{nspname: string}>(
          'SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1',
          [EXTENSION_NAME],
        )
        await client.query(`SELECT ${quoteIdent(schema.rows[0]?.nspname ?? 'public', 'extension schema')}.hessra_init($1)`, [path])
      } catch (error) {
        const e = mapPgError(error)
        throw new EnvironmentError(`the server cannot load ${path}: ${e.message}`, {hint: e.hint, cause: error})
      }
    })
    configPathSet = !opts.dryRun
  }
  if (opts.preload) {
    const cur = await client.query<{l: string | null}>("SELECT current_setting('session_preload_libraries') AS l")
    const list = withPreloadedExtension(cur.rows[0]?.l ?? '')
    if (list) {
      const alter = `ALTER SYSTEM SET session_preload_libraries = ${list.map(quoteLiteral).join(', ')};`
      await sqlStep(`Adding ${EXTENSION_NAME} to session_preload_libraries`, alter, () => client.query(alter))
      await sqlStep('Reloading the server configuration (new sessions preload hessra)', 'SELECT pg_reload_conf();', () => client.query('SELECT pg_reload_conf()'))
    } else {
      steps.push({title: `${EXTENSION_NAME} is already in session_preload_libraries`, done: false})
    }
  }
  const v = await client.query<{v: string | null}>('SELECT extversion AS v FROM pg_catalog.pg_extension WHERE extname = $1', [EXTENSION_NAME])
  return {serverVersion, extensionVersion: v.rows[0]?.v ?? row?.default_version ?? 'unknown', created, updated, configPathSet}
}

export interface InstallOptions {
  pgConfig?: string
  database: ConnectionTarget | null
  serverConfigPath?: string
  loaded: LoadedConfig
  dryRun: boolean
  progress: Progress
  run?: Runner
  /** skip building (the sandbox reuses an already installed extension) */
  skipBuild?: boolean
  /** add hessra to session_preload_libraries (with a database) */
  preload?: boolean
  /** write the server-side configuration as built from `loaded`, dropping what only the existing file holds */
  replaceServerConfig?: boolean
}

export interface InstallResult {
  pgConfig: PgConfigInfo
  discovery: string
  /** `changes`: what the merge into the existing file adds, changes or (--replace) drops */
  serverConfig: {path: string; changed: boolean; written: boolean; changes: string[]} | null
  database: (DatabaseSetupResult & {target: string}) | null
  steps: PlannedStep[]
  dryRun: boolean
}

/**
 * A key id or root key id in both the file about to be written and the database's table of keys would make
 * the server refuse its configuration (docs/DESIGN.md, "Trust in the database"): refused before writing.
 */
async function checkDatabaseKeys(client: Queryable, config: HessraConfig): Promise<void> {
  const ext = await extensionInfo(client)
  if (!ext?.hasTrustTables) return
  const problems = (await databaseKeyIds(client, ext)).flatMap((row) =>
    (config.keys ?? []).flatMap((k) => [
      k.id === row.id ? `key id "${k.id}" is also in the database's table ${KEYS_TABLE}` : null,
      row.rootKeyId !== null && k.root_key_id === row.rootKeyId ? `root key id ${row.rootKeyId} of key "${k.id}" is also used by the database's key "${row.id}"` : null,
    ]),
  )
  const first = problems.find((p) => p !== null)
  if (first) {
    throw new ConfigError(`${first}: each key is trusted from one place`, {field: 'keys', hint: '`hessra pg keys remove ID` in the database, or give the key another id in your configuration'})
  }
}

export async function install(opts: InstallOptions): Promise<InstallResult> {
  const {progress} = opts
  const steps: PlannedStep[] = []
  const discovery: Discovery = await discoverPgConfig({explicit: opts.pgConfig, run: opts.run})
  const info = discovery.chosen
  if (discovery.found.length > 1 && !opts.pgConfig) progress.warn(discovery.reason)
  progress.info(`PostgreSQL ${info.major}: ${info.path}`)
  steps.push({title: `Using pg_config ${info.path} (PostgreSQL ${info.major})`, done: true, note: discovery.reason})

  // the server-side configuration (public keys only): built first so a config problem stops before the build
  const serverConfig = buildServerConfig(opts.loaded, {normalizeKey: normalizeKeyText})
  if (opts.loaded.config?.revocation_file) {
    progress.warn(`your configuration's revocation_file (${opts.loaded.config.revocation_file}) is not copied to the server: list those ids with \`hessra revoke --database URL --from-file FILE\``)
  }

  let client: (Queryable & {end(): Promise<void>}) | null = null
  try {
    // connect first: an unreachable database or a missing privilege should not wait for a build
    if (opts.database) {
      try {
        client = await connect(opts.database)
        await requireSuperuser(client, 'installing the extension')
      } catch (error) {
        if (!opts.dryRun) throw error
        progress.warn(`dry run: ${(error as Error).message}`)
      }
    }
    if (!opts.skipBuild) await buildAndInstall({info, progress, dryRun: opts.dryRun, run: opts.run, steps})
    // where the file goes: --server-config, else where the server already looks, else the default
    let path = opts.serverConfigPath
    if (!path && client) {
      const r = await client.query<{p: string | null}>("SELECT pg_catalog.current_setting('hessra.config_path', true) AS p")
      const p = r.rows[0]?.p
      if (p && p.startsWith('/')) {
        path = p
        progress.info(`the server already uses ${p}; merging into that file`)
      }
    }
    path ??= DEFAULT_SERVER_CONFIG_PATH
    // merged into what the server trusts and refuses now: nothing is dropped without --replace
    const merged = mergedServerConfig(path, serverConfig, Boolean(opts.replaceServerConfig))
    if (client) await checkDatabaseKeys(client, merged.config)
    for (const change of merged.changes) progress.info(`${path}: ${change}`)
    const text = serverConfigText(merged.config)
    let written = false
    let changed = false
    if (opts.database && !isLocalTarget(opts.database)) {
      progress.warn(`the database is on another host: ${path} is written on THIS machine; copy it to the same path on the server`)
    }
    if (opts.dryRun) {
      steps.push({title: `Writing the server-side configuration ${path} (mode 0644${isRoot() ? ', owner root' : ''})`, file: path, content: text, done: false})
    } else {
      const w = await progress.step(`Writing the server-side configuration ${path}`, async () => writeServerConfig(path, text))
      written = true
      changed = w.changed
      steps.push({title: `Writing the server-side configuration ${path}`, file: path, done: true, note: w.changed ? undefined : 'unchanged'})
    }

    let database: InstallResult['database'] = null
    if (client && opts.database) {
      const r = await setupDatabase(client, {configPath: path, info, dryRun: opts.dryRun, progress, steps, preload: opts.preload})
      database = {...r, target: opts.database.display}
    } else if (!opts.database) {
      steps.push({title: 'No database given: skipped CREATE EXTENSION and hessra.config_path', done: false, note: 'pass --database URL (or DATABASE_URL / PG* variables)'})
    }
    return {pgConfig: info, discovery: discovery.reason, serverConfig: {path, changed, written, changes: merged.changes}, database, steps, dryRun: opts.dryRun}
  } catch (error) {
    if (error instanceof HessraError) throw error
    throw mapPgError(error, opts.database ?? undefined)
  } finally {
    if (client) await client.end().catch(() => {})
  }
}
