/**
 * The server-side configuration file: the CLI configuration reduced to what the extension needs —
 * public keys only (key files inlined, since the server may not be able to read them), domain,
 * service chains, leeway and limits — written atomically, mode 0644, never group/world-writable,
 * owned by root when we are root (the extension refuses files other users could have written).
 */
import {chmodSync, chownSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {dirname, isAbsolute, resolve} from 'node:path'

import {readConfigText, type HessraConfig, type KeyEntry, type LoadedConfig, type ServiceNode} from '../config/index.js'
import {ConfigError, EnvironmentError, HessraError} from '../errors.js'

/** Where `pg install` writes the server-side configuration unless told (or the server already points elsewhere). */
export const DEFAULT_SERVER_CONFIG_PATH = '/etc/hessra/config.json'

export interface ServerConfigOptions {
  /** Turns a key text or file into canonical public key text (the native engine); identity when absent. */
  normalizeKey?: (spec: string, what: string) => string
}

const KEEP = ['domain', 'leeway_seconds', 'limits', 'cache_size'] as const

/** Builds the server-side JSON object. Throws ConfigError (exit 4) when there is no key to trust. */
export function buildServerConfig(loaded: LoadedConfig, opts: ServerConfigOptions = {}): HessraConfig {
  const config = loaded.config
  const where = loaded.filepath ?? 'the configuration'
  if (!config) {
    throw new ConfigError('no hessra configuration found: the server would trust no key', {
      hint: 'create a key first: `hessra keys generate --out root.pem --id dev --add` (or `hessra keys add ID KEY`), or pass --config FILE',
    })
  }
  const keys = Array.isArray(config.keys) ? config.keys.filter((k) => k && typeof k === 'object') : []
  if (keys.length === 0) {
    throw new ConfigError(`${where} has no keys: the server would trust no token issuer`, {
      file: loaded.filepath ?? undefined,
      field: 'keys',
      hint: '`hessra keys add ID KEY` or `hessra keys generate --out root.pem --id dev --add`',
    })
  }
  const base = loaded.filepath ? dirname(loaded.filepath) : process.cwd()
  const norm = opts.normalizeKey ?? ((s: string) => s.trim())
  const outKeys: KeyEntry[] = keys.map((k, i) => {
    let text: string
    if (typeof k.public_key === 'string' && k.public_key.trim() !== '') {
      text = norm(k.public_key, `keys[${i}].public_key`)
    } else if (typeof k.public_key_file === 'string' && k.public_key_file !== '') {
      const file = isAbsolute(k.public_key_file) ? k.public_key_file : resolve(base, k.public_key_file)
      if (!existsSync(file)) throw new ConfigError(`${where}: keys[${i}].public_key_file ${file} does not exist`, {field: `keys[${i}].public_key_file`})
      const field = `keys[${i}].public_key_file`
      // under the trust rule, like every file a configuration names (a key anyone can write is anyone's)
      text = norm(readConfigText(file, {field, maxBytes: 64 * 1024}), field)
    } else {
      throw new ConfigError(`${where}: keys[${i}] has neither public_key nor public_key_file`, {field: `keys[${i}]`})
    }
    const entry: KeyEntry = {id: String(k.id), public_key: text}
    if (typeof k.root_key_id === 'number') entry.root_key_id = k.root_key_id
    return entry
  })
  const out: HessraConfig = {version: 1}
  const ids = outKeys.map((k) => k.id)
  out.default_key = typeof config.default_key === 'string' && ids.includes(config.default_key) ? config.default_key : outKeys[0].id
  out.keys = outKeys
  for (const k of KEEP) if (config[k] !== undefined && config[k] !== null) (out as Record<string, unknown>)[k] = config[k]
  if (config.service_chains && typeof config.service_chains === 'object') {
    const chains: Record<string, ServiceNode[]> = {}
    for (const [name, nodes] of Object.entries(config.service_chains)) {
      if (!Array.isArray(nodes)) continue
      chains[name] = nodes.map((n, i) => ({
        component: n.component,
        public_key: norm(typeof n.public_key === 'string' && !isAbsolute(n.public_key) && existsSync(resolve(base, n.public_key)) ? resolve(base, n.public_key) : n.public_key, `service_chains.${name}[${i}].public_key`),
      }))
    }
    if (Object.keys(chains).length > 0) out.service_chains = chains
  }
  return out
}

export function serverConfigText(config: HessraConfig): string {
  return JSON.stringify(config, null, 2) + '\n'
}

export interface WriteResult {
  path: string
  changed: boolean
}

/**
 * Writes `text` to `path` (mode 0644) unless it already holds exactly that (then nothing changes, so
 * the server does not reload for nothing). Creates the directory (0755). `owner`: chown to this uid/gid
 * (files we write as root are owned by root, which the extension's owner check accepts).
 */
export function writeServerConfig(path: string, text: string, opts: {owner?: {uid: number; gid: number}} = {}): WriteResult {
  if (!isAbsolute(path)) throw new ConfigError(`the server-side configuration path must be absolute (got ${path})`)
  try {
    if (existsSync(path)) {
      const st = statSync(path)
      const same = readFileSync(path, 'utf8') === text
      const safeMode = (st.mode & 0o022) === 0
      if (same && safeMode && (!opts.owner || st.uid === opts.owner.uid)) return {path, changed: false}
    }
    mkdirSync(dirname(path), {recursive: true, mode: 0o755})
    const tmp = `${path}.tmp-${process.pid}`
    // a fresh file (O_EXCL): a link left at the temporary name (the sandbox directory belongs to the
    // server's OS user when we are root) must not redirect root's write
    rmSync(tmp, {force: true})
    writeFileSync(tmp, text, {mode: 0o644, flag: 'wx'})
    chmodSync(tmp, 0o644) // umask may have removed bits we want; never more than 0644
    if (opts.owner) chownSync(tmp, opts.owner.uid, opts.owner.gid)
    renameSync(tmp, path)
    return {path, changed: true}
  } catch (error) {
    if (error instanceof HessraError) throw error
    const code = (error as {code?: string}).code
    throw new EnvironmentError(`cannot write the server-side configuration ${path} (${code ?? (error as Error).message})`, {
      hint: code === 'EACCES' || code === 'EPERM' ? 'run as root (sudo), or choose a writable path with --server-config PATH' : undefined,
      cause: error,
    })
  }
}

/** Problems with an existing server-side config file's permissions (what the extension would refuse). */
export function permissionProblems(path: string, serverUid?: number): string[] {
  const problems: string[] = []
  let st
  try {
    st = statSync(path)
  } catch (error) {
    return [`${path}: ${(error as {code?: string}).code ?? 'cannot stat'}`]
  }
  if (!st.isFile()) problems.push(`${path} is not a regular file`)
  if ((st.mode & 0o022) !== 0) problems.push(`${path} is writable by group or others (mode ${(st.mode & 0o777).toString(8)})`)
  if (st.uid !== 0 && serverUid !== undefined && st.uid !== serverUid) problems.push(`${path} is owned by uid ${st.uid}, neither root nor the server's OS user`)
  return problems
}
