/**
 * Configuration: finding it (--config, HESSRA_CONFIG, a search bounded by the home directory or the
 * repository, ~/.config/hessra/config.json; see loadConfig), reading it under the engine's trust rule,
 * validating it (structure here, semantics by the engine's hessra_config_from_string_trusted, whose
 * errors name the offending field) and editing it (JSON files and package.json#hessra).
 *
 * The format is docs/DESIGN.md's "Configuration" (JSON, "version": 1).
 */
import {closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {basename, dirname, extname, isAbsolute, join, resolve} from 'node:path'

import {ConfigError, HessraError} from '../errors.js'
import {Config, readTrustedFile} from '../native/binding.js'

export interface KeyEntry {
  id: string
  public_key?: string | null
  public_key_file?: string | null
  root_key_id?: number | null
}

export interface ServiceNode {
  component: string
  public_key: string
}

export interface Limits {
  max_token_bytes?: number
  max_facts?: number
  max_iterations?: number
  max_time_ms?: number
}

export interface HessraConfig {
  version: 1
  default_key?: string | null
  keys?: KeyEntry[]
  domain?: string | null
  service_chains?: Record<string, ServiceNode[]>
  leeway_seconds?: number
  limits?: Limits
  cache_size?: number
  /** Revoked block ids (hex, as `hessra inspect` shows them); see `hessra revoke`. */
  revoked_ids?: string[] | null
  /** A file of more revoked ids, one per line (relative: to this file's directory). Unreadable: the configuration is unusable. */
  revocation_file?: string | null
  [extra: string]: unknown
}

/** How the configuration in use was found. */
export type ConfigSource = 'flag' | 'env' | 'search' | 'user' | 'none'

export interface LoadedConfig {
  /** The parsed configuration (not yet validated), or null when none was found. */
  config: HessraConfig | null
  /** Absolute path of the file, or null. */
  filepath: string | null
  source: ConfigSource
  /** json | package.json | yaml | js */
  format: ConfigFormat | null
}

export type ConfigFormat = 'json' | 'package.json' | 'yaml' | 'js'

export const MODULE_NAME = 'hessra'

/**
 * The file names the search looks for in each directory, in this order (cosmiconfig's names for
 * "hessra"). JavaScript configurations (JS_CONFIG_NAMES, between .hessrarc.yml and hessra.config.json)
 * are never run when found by the search: they are refused with a hint to name them with --config.
 */
export const SEARCH_PLACES = ['package.json', '.hessrarc', '.hessrarc.json', '.hessrarc.yaml', '.hessrarc.yml', 'hessra.config.json']
export const JS_CONFIG_NAMES = ['hessra.config.js', 'hessra.config.cjs', 'hessra.config.mjs']
/** Every name of a directory's candidates, in precedence order. */
const CANDIDATES = [...SEARCH_PLACES.slice(0, 5), ...JS_CONFIG_NAMES, ...SEARCH_PLACES.slice(5)]

/** Largest configuration file read (the engine's limit for the JSON it parses). */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024

/** ~/.config/hessra/config.json ($XDG_CONFIG_HOME respected). */
export function userConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(homeDir(env), '.config')
  return join(base, 'hessra', 'config.json')
}

function homeDir(env: NodeJS.ProcessEnv): string {
  return env.HOME || homedir()
}

export function formatOf(filepath: string, text?: string): ConfigFormat {
  const name = basename(filepath)
  if (name === 'package.json') return 'package.json'
  if (/\.(ya?ml)$/.test(name)) return 'yaml'
  if (/\.(c|m)?js$/.test(name)) return 'js'
  if (name === '.hessrarc') {
    // .hessrarc may be JSON or YAML: JSON when it parses as JSON
    return parseJson(text ?? readRegularFile(filepath) ?? '') === undefined ? 'yaml' : 'json'
  }
  return 'json'
}

/**
 * Who may own a configuration file, or a file one names (public_key_file, revocation_file): the user
 * running hessra, and root. The engine applies the rule (hessra_trusted_file_read,
 * hessra_config_from_string_trusted): a regular file, owned by one of them, not writable by group or
 * others — the rule the extension applies to its configuration and key files.
 */
export function trustedOwners(): number[] {
  const me = process.getuid?.() ?? 0
  return me === 0 ? [0] : [me, 0]
}

export interface LoadOptions {
  /** --config PATH */
  configPath?: string
  cwd?: string
  env?: NodeJS.ProcessEnv
}

/**
 * Finds and loads the configuration (docs/DESIGN.md, "Finding the configuration"). Never validates;
 * throws ConfigError when a named file is unusable, when the search meets a JavaScript configuration, or
 * when a file found is not trusted.
 *   1. --config PATH, else HESSRA_CONFIG: that file (JSON, YAML, package.json#hessra, or JavaScript —
 *      run only when named this way);
 *   2. else the search: from the working directory up to the first of the home directory, a repository
 *      root (a directory holding .git) and the root, each directory's SEARCH_PLACES (JSON and YAML);
 *   3. else ~/.config/hessra/config.json.
 * Every file read must pass the trust rule of trustedOwners(); so must the files it names.
 */
export async function loadConfig(opts: LoadOptions = {}): Promise<LoadedConfig> {
  const env = opts.env ?? process.env
  const cwd = opts.cwd ?? process.cwd()
  const explicit = opts.configPath ?? (env.HESSRA_CONFIG && env.HESSRA_CONFIG.trim() !== '' ? env.HESSRA_CONFIG : undefined)
  if (explicit !== undefined) {
    const source: ConfigSource = opts.configPath === undefined ? 'env' : 'flag'
    const filepath = resolve(cwd, explicit)
    if (!existsSync(filepath)) {
      throw new ConfigError(`configuration file ${filepath} does not exist`, {
        file: filepath,
        hint: `create it with \`hessra config init --config ${explicit}\``,
      })
    }
    const {config, format} = await loadFile(filepath, true)
    return {config, filepath, source, format}
  }
  const found = searchConfig(resolve(cwd), env)
  if (found) {
    const {config, format} = await loadFile(found, false)
    return {config, filepath: found, source: 'search', format}
  }
  const user = userConfigPath(env)
  if (existsSync(user)) {
    const {config} = await loadFile(user, false)
    return {config, filepath: user, source: 'user', format: 'json'}
  }
  return {config: null, filepath: null, source: 'none', format: null}
}

/**
 * The configuration file the search finds from `from`, or null. In each directory the first
 * candidate present wins (a package.json counts only with a "hessra" field, an empty file not at all,
 * as with cosmiconfig); a JavaScript one is refused (searching never runs code). The search ends after the home directory, after a repository
 * root, or at the root: a parent directory shared with other users (/tmp, /srv, a colleague's home)
 * is not a place to take configuration from. Files found are held to the trust rule when read.
 */
export function searchConfig(from: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const home = resolve(homeDir(env))
  for (let dir = from; ; dir = dirname(dir)) {
    for (const name of CANDIDATES) {
      const file = join(dir, name)
      if (!existsSync(file)) continue
      if (name === 'package.json' ? !packageHasHessra(file) : readRegularFile(file)?.trim() === '') continue
      if (JS_CONFIG_NAMES.includes(name)) {
        throw new ConfigError(`found ${file}: a JavaScript configuration is not run when it is found by searching`, {
          file,
          hint: `if it is yours, name it: \`--config ${file}\` (or HESSRA_CONFIG); or use a JSON or YAML configuration`,
        })
      }
      return file
    }
    if (dir === home || existsSync(join(dir, '.git')) || dirname(dir) === dir) return null
  }
}

/**
 * Whether a package.json holds a "hessra" field. Read without trusting it (nothing in it is used
 * unless it has the field, and then it is read again under the trust rule), but safely: a regular
 * file only, opened without blocking, at most MAX_CONFIG_FILE_BYTES (readRegularFile); anything else
 * counts as "yes", so that the trusted read reports the problem.
 */
function packageHasHessra(file: string): boolean {
  const text = readRegularFile(file)
  if (text === undefined) return true
  const pkg = parseJson(text)
  return pkg === undefined || (pkg !== null && typeof pkg === 'object' && Object.hasOwn(pkg, MODULE_NAME))
}

function readRegularFile(file: string): string | undefined {
  let fd: number | undefined
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK)
    const st = fstatSync(fd)
    if (!st.isFile() || st.size > MAX_CONFIG_FILE_BYTES) return undefined
    return readFileSync(fd, 'utf8')
  } catch {
    return undefined
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/**
 * A configuration file's text, or a file it names (`field`), under the trust rule (see trustedOwners);
 * its problems as ConfigError.
 */
export function readConfigText(filepath: string, opts: {field?: string; maxBytes?: number} = {}): string {
  try {
    return readTrustedFile(filepath, trustedOwners(), opts.maxBytes ?? MAX_CONFIG_FILE_BYTES)
  } catch (error) {
    if (!(error instanceof HessraError) || error.kind === 'native_library_missing') throw error
    throw new ConfigError(opts.field ? `${opts.field}: ${error.message}` : error.message, {
      file: filepath,
      field: opts.field,
      hint: 'hessra only reads configuration files, and the files they name, that you or root own and nobody else can write',
    })
  }
}

async function loadFile(filepath: string, named: boolean): Promise<{config: HessraConfig; format: ConfigFormat}> {
  const text = readConfigText(filepath)
  const format = formatOf(filepath, text)
  let value: unknown
  try {
    if (format === 'json') value = JSON.parse(text)
    else if (format === 'package.json') value = (JSON.parse(text) as Record<string, unknown>)[MODULE_NAME]
    else if (format === 'yaml') value = (await import('cosmiconfig')).defaultLoaders['.yaml'](filepath, text)
    else if (named) value = await (await import('cosmiconfig')).defaultLoaders[extname(filepath) as '.js'](filepath, text)
    else throw new ConfigError(`${filepath}: a JavaScript configuration is run only when named with --config or HESSRA_CONFIG`, {file: filepath})
  } catch (error) {
    if (error instanceof ConfigError) throw error
    const what = format === 'json' || format === 'package.json' ? 'is not valid JSON' : format === 'yaml' ? 'is not valid YAML' : 'cannot be loaded'
    // cosmiconfig's loaders prefix "YAML Error in FILE:" on a line of its own
    const why = (error as Error).message.replace(/^\w+ Error in [^\n]*:\n/, '').split('\n')[0]
    throw new ConfigError(`${filepath} ${what}: ${why}`, {file: filepath})
  }
  if (value === undefined && format === 'package.json') throw new ConfigError(`${filepath} holds no "hessra" field`, {file: filepath})
  return {config: asConfigObject(value, filepath), format}
}

function asConfigObject(value: unknown, filepath: string): HessraConfig {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`${filepath}: the configuration must be a JSON object`, {file: filepath, field: '(root)'})
  }
  return value as HessraConfig
}

// ---------------------------------------------------------------------------------------------
// Validation (structure). The engine validates the rest (keys, semantics).
// ---------------------------------------------------------------------------------------------

export interface ConfigProblem {
  /** JSON path of the offending field, e.g. keys[1].public_key */
  field: string
  message: string
  severity: 'error' | 'warning'
}

export const TOP_LEVEL = new Set([
  '$schema',
  'version',
  'default_key',
  'keys',
  'domain',
  'service_chains',
  'leeway_seconds',
  'limits',
  'cache_size',
  'revoked_ids',
  'revocation_file',
])
export const LIMIT_FIELDS = ['max_token_bytes', 'max_facts', 'max_iterations', 'max_time_ms']
export const KEY_FIELDS = ['id', 'public_key', 'public_key_file', 'root_key_id']
export const SERVICE_NODE_FIELDS = ['component', 'public_key']

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v)
const isStr = (v: unknown): v is string => typeof v === 'string'

/** Structural checks with exact field paths (the engine then checks keys and semantics). */
export function checkConfigShape(raw: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  const err = (field: string, message: string) => problems.push({field, message, severity: 'error'})
  const warn = (field: string, message: string) => problems.push({field, message, severity: 'warning'})
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    err('(root)', 'the configuration must be a JSON object')
    return problems
  }
  const c = raw as Record<string, unknown>
  if (!('version' in c)) err('version', 'missing; must be 1')
  else if (c.version !== 1) err('version', `must be 1 (got ${JSON.stringify(c.version)})`)
  for (const k of Object.keys(c)) if (!TOP_LEVEL.has(k)) warn(k, 'unknown field (ignored)')

  const ids = new Set<string>()
  if (c.keys !== undefined && c.keys !== null) {
    if (!Array.isArray(c.keys)) err('keys', 'must be an array of {"id", "public_key"} objects')
    else
      c.keys.forEach((k: unknown, i: number) => {
        const p = `keys[${i}]`
        if (k === null || typeof k !== 'object' || Array.isArray(k)) return err(p, 'must be an object with "id" and "public_key"')
        const e = k as Record<string, unknown>
        if (!isStr(e.id) || e.id.trim() === '') err(`${p}.id`, 'must be a non-empty string')
        else if (ids.has(e.id)) err(`${p}.id`, `duplicate key id "${e.id}"`)
        else ids.add(e.id)
        const hasKey = e.public_key !== undefined && e.public_key !== null
        const hasFile = e.public_key_file !== undefined && e.public_key_file !== null
        if (hasKey && !isStr(e.public_key)) err(`${p}.public_key`, 'must be a string (PEM, ed25519/<hex> or secp256r1/<hex>)')
        if (hasFile && !isStr(e.public_key_file)) err(`${p}.public_key_file`, 'must be a path string')
        if (!hasKey && !hasFile) err(`${p}.public_key`, 'missing: give public_key or public_key_file')
        if (hasKey && hasFile) err(`${p}.public_key_file`, 'give either public_key or public_key_file, not both')
        if (e.root_key_id !== undefined && e.root_key_id !== null && (!isInt(e.root_key_id) || e.root_key_id < 0))
          err(`${p}.root_key_id`, 'must be a non-negative integer or null')
      })
  }
  if (c.default_key !== undefined && c.default_key !== null) {
    if (!isStr(c.default_key)) err('default_key', 'must be a key id (string) or null')
    else if (Array.isArray(c.keys) && !ids.has(c.default_key)) err('default_key', `names no key in "keys" ("${c.default_key}")`)
  }
  if (c.domain !== undefined && c.domain !== null && !isStr(c.domain)) err('domain', 'must be a string or null')
  if (c.leeway_seconds !== undefined && (!isInt(c.leeway_seconds) || c.leeway_seconds < 0)) err('leeway_seconds', 'must be a non-negative integer (seconds)')
  if (c.cache_size !== undefined && (!isInt(c.cache_size) || c.cache_size < 0)) err('cache_size', 'must be a non-negative integer')
  if (c.service_chains !== undefined && c.service_chains !== null) {
    if (typeof c.service_chains !== 'object' || Array.isArray(c.service_chains)) err('service_chains', 'must be an object mapping a resource to a list of nodes')
    else
      for (const [name, nodes] of Object.entries(c.service_chains as Record<string, unknown>)) {
        const p = `service_chains.${name}`
        if (!Array.isArray(nodes)) {
          err(p, 'must be an array of {"component", "public_key"}')
          continue
        }
        nodes.forEach((n: unknown, i: number) => {
          if (n === null || typeof n !== 'object') return err(`${p}[${i}]`, 'must be an object with "component" and "public_key"')
          const e = n as Record<string, unknown>
          if (!isStr(e.component) || e.component === '') err(`${p}[${i}].component`, 'must be a non-empty string')
          if (!isStr(e.public_key) || e.public_key === '') err(`${p}[${i}].public_key`, 'must be a public key string')
        })
      }
  }
  revocationProblems(c, err)
  if (c.limits !== undefined && c.limits !== null) {
    if (typeof c.limits !== 'object' || Array.isArray(c.limits)) err('limits', 'must be an object')
    else
      for (const [k, v] of Object.entries(c.limits as Record<string, unknown>)) {
        if (!LIMIT_FIELDS.includes(k)) warn(`limits.${k}`, 'unknown limit (ignored)')
        else if (!isInt(v) || v <= 0) err(`limits.${k}`, 'must be a positive integer')
      }
  }
  return problems
}

/** A revocation id as the engine accepts it: hex, an even number of digits, at most 128 bytes. */
export function isRevocationId(text: string): boolean {
  return text.length > 0 && text.length <= 256 && text.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(text)
}

function revocationProblems(c: Record<string, unknown>, err: (field: string, message: string) => void): void {
  if (c.revoked_ids !== undefined && c.revoked_ids !== null) {
    if (!Array.isArray(c.revoked_ids)) err('revoked_ids', 'must be an array of revocation ids (hex strings)')
    else
      c.revoked_ids.forEach((id: unknown, i: number) => {
        if (!isStr(id) || !isRevocationId(id.trim())) err(`revoked_ids[${i}]`, 'must be a revocation id: hex, as `hessra inspect` shows them')
      })
  }
  if (c.revocation_file !== undefined && c.revocation_file !== null && (!isStr(c.revocation_file) || c.revocation_file === ''))
    err('revocation_file', 'must be a path string or null')
}

/**
 * The engine's configuration for a loaded one (engineJson), the files it names held to the trust rule
 * of trustedOwners(): the native Config, or the first problem (field, message) as data.
 */
export function engineConfig(config: HessraConfig, filepath: string | null): ReturnType<typeof Config.fromStringTrusted> {
  return Config.fromStringTrusted(engineJson(config, filepath), trustedOwners())
}

/**
 * The configuration as the engine reads it: public_key_file and revocation_file paths made absolute
 * (relative to the configuration file), unknown top-level fields dropped.
 */
export function engineJson(config: HessraConfig, filepath: string | null): string {
  const base = filepath ? dirname(filepath) : process.cwd()
  const copy: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(config)) if (TOP_LEVEL.has(k) && k !== '$schema') copy[k] = v
  if (Array.isArray(config.keys)) {
    copy.keys = config.keys.map((k) =>
      k && typeof k === 'object' && typeof k.public_key_file === 'string' && !isAbsolute(k.public_key_file)
        ? {...k, public_key_file: resolve(base, k.public_key_file)}
        : k,
    )
  }
  if (typeof config.revocation_file === 'string' && config.revocation_file !== '' && !isAbsolute(config.revocation_file)) {
    copy.revocation_file = resolve(base, config.revocation_file)
  }
  return JSON.stringify(copy)
}

// ---------------------------------------------------------------------------------------------
// Reading values and editing files
// ---------------------------------------------------------------------------------------------

/** Splits "keys[0].id" / "limits.max_facts" into path segments. */
export function parsePath(path: string): (string | number)[] {
  if (!/^[A-Za-z_$][\w$-]*(?:\[\d+\]|\.[A-Za-z_$][\w$-]*)*$/.test(path)) {
    throw new ConfigError(`"${path}" is not a configuration path (e.g. default_key, limits.max_facts, keys[0].id)`)
  }
  const segs: (string | number)[] = []
  const re = /([^.[\]]+)|\[(\d+)\]/g
  let m: RegExpExecArray | null
  while ((m = re.exec(path)) !== null) segs.push(m[2] === undefined ? m[1] : Number(m[2]))
  return segs
}

export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj
  for (const seg of parsePath(path)) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string | number, unknown>)[seg]
  }
  return cur
}

/** Sets a value (creating objects on the way); returns a new object. */
export function setPath<T extends object>(obj: T, path: string, value: unknown): T {
  const segs = parsePath(path)
  const root = structuredClone(obj) as Record<string | number, unknown>
  let cur: Record<string | number, unknown> = root
  segs.forEach((seg, i) => {
    if (i === segs.length - 1) {
      if (value === undefined) {
        if (Array.isArray(cur) && typeof seg === 'number') cur.splice(seg, 1)
        else delete cur[seg]
      } else cur[seg] = value
      return
    }
    let next = cur[seg]
    if (next === null || typeof next !== 'object') {
      next = typeof segs[i + 1] === 'number' ? [] : {}
      cur[seg] = next
    }
    cur = next as Record<string | number, unknown>
  })
  return root as T
}

/** Parses a command-line value for `config set`: JSON when it parses (numbers, null, objects), else a string. */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** A new configuration skeleton. */
export function defaultConfig(): HessraConfig {
  return {
    version: 1,
    default_key: null,
    keys: [],
    domain: null,
    service_chains: {},
    leeway_seconds: 0,
    // no "limits": the engine's defaults apply (one place: native/src/config.rs, Limits::default)
  }
}

/**
 * Writes the configuration back where it came from. JSON files are rewritten (2-space indent);
 * package.json gets its "hessra" field replaced; YAML and JS files are refused.
 */
export function writeConfig(filepath: string, config: HessraConfig, format: ConfigFormat = formatOf(filepath)): void {
  if (format === 'yaml' || format === 'js') {
    throw new ConfigError(`${filepath} is a ${format === 'js' ? 'JavaScript' : 'YAML'} file: hessra only edits JSON configuration; change it by hand`, {
      file: filepath,
    })
  }
  let text: string
  if (format === 'package.json') {
    const pkg = JSON.parse(readFileSync(filepath, 'utf8')) as Record<string, unknown>
    pkg.hessra = config
    text = JSON.stringify(pkg, null, 2) + '\n'
  } else {
    text = JSON.stringify(config, null, 2) + '\n'
  }
  mkdirSync(dirname(filepath), {recursive: true})
  const tmp = `${filepath}.tmp-${process.pid}`
  writeFileSync(tmp, text, {mode: 0o644})
  renameSync(tmp, filepath)
}
