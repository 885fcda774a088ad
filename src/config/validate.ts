/** Full validation: structure (exact field paths) then the engine (keys, semantics). */
import {dirname, isAbsolute, resolve} from 'node:path'

import {HessraError} from '../errors.js'
import {Config, PublicKey} from '../native/binding.js'
import {checkConfigShape, engineJson, type ConfigProblem, type HessraConfig} from './index.js'

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
  const json = engineJson(config as HessraConfig, filepath)
  // the engine's verdict, its field as data
  const problem = Config.check(json)
  if (problem) {
    problems.push({field: problem.field === '' ? '(engine)' : problem.field, message: problem.message, severity: 'error'})
    return {valid: false, problems, summary: null}
  }
  const handle = Config.fromString(json)
  try {
    return {valid: true, problems, summary: JSON.parse(handle.describe()) as unknown}
  } finally {
    handle.dispose()
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
