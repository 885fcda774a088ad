/** Loading the configuration for editing, and writing it back (used by keys/config commands). */
import {resolve} from 'node:path'

import {
  checkConfigShape,
  defaultConfig,
  KEY_FIELDS,
  LIMIT_FIELDS,
  loadConfig,
  parsePath,
  SERVICE_NODE_FIELDS,
  TOP_LEVEL,
  userConfigPath,
  writeConfig,
  type HessraConfig,
  type LoadedConfig,
} from './config/index.js'
import {ConfigError, UsageError} from './errors.js'
import {closest} from './suggest.js'

export interface Editable {
  loaded: LoadedConfig
  config: HessraConfig
  filepath: string
  created: boolean
}

/** The configuration to edit: the one in use, or a new one at --config PATH / the user path. */
export async function openForEdit(configPath: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Editable> {
  let loaded: LoadedConfig
  try {
    loaded = await loadConfig({configPath, env})
  } catch (error) {
    // --config PATH that does not exist yet: create it
    const target = configPath ?? env.HESSRA_CONFIG
    if (error instanceof ConfigError && target && /does not exist/.test(error.message)) {
      const filepath = resolve(target)
      return {loaded: {config: null, filepath, source: configPath ? 'flag' : 'env', format: 'json'}, config: defaultConfig(), filepath, created: true}
    }
    throw error
  }
  if (loaded.config && loaded.filepath) return {loaded, config: loaded.config, filepath: loaded.filepath, created: false}
  const filepath = userConfigPath(env)
  return {loaded, config: defaultConfig(), filepath, created: true}
}

/** Writes the edited configuration after checking its structure (errors name the field). */
export function saveEdited(ed: Editable, config: HessraConfig): void {
  const errors = checkConfigShape(config).filter((p) => p.severity === 'error')
  if (errors.length > 0) {
    const p = errors[0]
    throw new ConfigError(`the change would make the configuration invalid: ${p.field}: ${p.message}`, {field: p.field, file: ed.filepath})
  }
  writeConfig(ed.filepath, config, ed.loaded.format ?? 'json')
}

/**
 * Refuses a path naming no configuration field (`leeway_secs`), with the closest field as a hint:
 * a misspelt field would be written and then ignored. Service chain names are free.
 */
export function checkSettablePath(path: string): void {
  const segs = parsePath(path)
  const names = segs.map((s) => (typeof s === 'number' ? `[${s}]` : s))
  const fieldAt = (i: number, known: readonly string[], where: string): void => {
    const name = segs[i]
    if (typeof name !== 'string' || known.includes(name)) return
    const near = closest(name, known)
    const prefix = names.slice(0, i).join('.').replaceAll('.[', '[')
    const full = (n: string) => (prefix ? `${prefix}.${n}` : n)
    throw new UsageError(`\`${path}\` is not a configuration field`, {
      hint: near ? `did you mean \`${full(near)}\`?` : `${where}: ${known.join(', ')}`,
    })
  }
  fieldAt(0, [...TOP_LEVEL].filter((f) => f !== '$schema'), 'the fields are')
  if (segs[0] === 'limits') fieldAt(1, LIMIT_FIELDS, 'the limits are')
  if (segs[0] === 'keys' && typeof segs[1] === 'number') fieldAt(2, KEY_FIELDS, 'a key has')
  if (segs[0] === 'service_chains' && typeof segs[2] === 'number') fieldAt(3, SERVICE_NODE_FIELDS, 'a service node has')
}
