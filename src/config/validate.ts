/** Full validation: structure (exact field paths) then the engine (keys, files, semantics). */
import {HessraError} from '../errors.js'
import {PublicKey} from '../native/binding.js'
import {checkConfigShape, engineConfig, type ConfigProblem, type HessraConfig} from './index.js'

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
  keyProblems(config as HessraConfig, problems)
  if (problems.some((p) => p.severity === 'error')) return {valid: false, problems, summary: null}
  // the engine's verdict (the files it names read under the trust rule), its field as data
  const built = engineConfig(config as HessraConfig, filepath)
  if ('problem' in built) {
    const problem = built.problem
    problems.push({field: problem.field === '' ? '(engine)' : problem.field, message: problem.message, severity: 'error'})
    return {valid: false, problems, summary: null}
  }
  const handle = built.config
  try {
    return {valid: true, problems, summary: JSON.parse(handle.describe()) as unknown}
  } finally {
    handle.dispose()
  }
}

/**
 * Parses every key text with the engine, so a bad key is reported at its own field (key files are
 * read by the engine, under the trust rule, and reported at theirs).
 */
function keyProblems(config: HessraConfig, problems: ConfigProblem[]): void {
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
  })
  for (const [name, nodes] of Object.entries(config.service_chains ?? {})) {
    nodes.forEach((n, i) => tryKey(`service_chains.${name}[${i}].public_key`, () => PublicKey.fromString(n.public_key)))
  }
}
