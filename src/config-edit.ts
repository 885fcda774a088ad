/** Loading the configuration for editing, and writing it back (used by keys/config commands). */
import {resolve} from 'node:path'

import {checkConfigShape, defaultConfig, loadConfig, userConfigPath, writeConfig, type HessraConfig, type LoadedConfig} from './config/index.js'
import {ConfigError} from './errors.js'

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
