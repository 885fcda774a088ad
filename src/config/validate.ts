/** Full validation: structure (exact field paths) then the engine (keys, semantics). */
import {dirname, isAbsolute, resolve} from 'node:path'

import {ConfigError, HessraError} from '../errors.js'
import {Config, PublicKey} from '../native/binding.js'
import {checkConfigShape, engineJson, fieldOf, type ConfigProblem, type HessraConfig} from './index.js'

export interface ValidationReport {
  valid: boolean
  problems: ConfigProblem[]
  /** The engine's summary (hessra_config_describe) when valid. */
  summary: unknown
}

/** Validates a configuration object; `filepath` resolves relative public_key_file paths. */
export function validateConfig(config: unknown, filepath: string | null = null): ValidationReport {
  const problems = checkConfigShape(config)
  if (problems.some((p) => p.severity === 'error')) return {valid: false, problems, summary: null}
  keyProblems(config as HessraConfig, filepath, problems)
  if (problems.some((p) => p.severity === 'error')) return {valid: false, problems, summary: null}
  let handle: Config | undefined
  try {
    handle = Config.fromString(engineJson(config as HessraConfig, filepath))
    let summary: unknown = null
    try {
      summary = JSON.parse(handle.describe())
    } catch (error) {
      if (error instanceof HessraError && error.kind === 'native_library_missing') throw error
      summary = null
    }
    return {valid: true, problems, summary}
  } catch (error) {
    if (error instanceof ConfigError || (error instanceof HessraError && (error.kind === 'invalid_key' || error.kind === 'invalid_input' || error.kind === 'io'))) {
      // the engine names the field first ("keys[1].public_key: ..."): report it as the field
      const field = (error instanceof ConfigError ? error.field : undefined) ?? fieldOf(error.message) ?? '(engine)'
      const message = error.message.startsWith(`${field}: `) ? error.message.slice(field.length + 2) : error.message
      problems.push({field, message, severity: 'error'})
      return {valid: false, problems, summary: null}
    }
    throw error
  } finally {
    handle?.dispose()
  }
}

/** Parses every key with the engine, so a bad key is reported at its own field. */
function keyProblems(config: HessraConfig, filepath: string | null, problems: ConfigProblem[]): void {
  const base = filepath ? dirname(filepath) : process.cwd()
  const tryKey = (field: string, parse: () => PublicKey) => {
    try {
      parse().dispose()
    } catch (error) {
      if (error instanceof HessraError && error.kind === 'native_library_missing') throw error
      problems.push({field, message: `not a usable public key: ${(error as Error).message}`, severity: 'error'})
    }
  }
  ;(config.keys ?? []).forEach((k, i) => {
    if (typeof k.public_key === 'string') tryKey(`keys[${i}].public_key`, () => PublicKey.fromString(k.public_key as string))
    else if (typeof k.public_key_file === 'string') {
      const file = isAbsolute(k.public_key_file) ? k.public_key_file : resolve(base, k.public_key_file)
      tryKey(`keys[${i}].public_key_file`, () => PublicKey.fromFile(file))
    }
  })
  for (const [name, nodes] of Object.entries(config.service_chains ?? {})) {
    nodes.forEach((n, i) => tryKey(`service_chains.${name}[${i}].public_key`, () => PublicKey.fromString(n.public_key)))
  }
}
