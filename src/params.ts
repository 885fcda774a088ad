/** `--param name=value` for Datalog {name} placeholders. */
import {InputError} from './errors.js'

/** value: JSON when it parses (5, true, "text", {"$bytes":"hex"}), else a string. */
export function parseParams(specs: string[] | undefined): Record<string, unknown> | null {
  if (!specs || specs.length === 0) return null
  const out: Record<string, unknown> = {}
  for (const spec of specs) {
    const i = spec.indexOf('=')
    if (i <= 0) throw new InputError(`--param "${spec}" must look like name=value`)
    const name = spec.slice(0, i)
    if (!/^[A-Za-z_][\w]*$/.test(name)) throw new InputError(`--param: "${name}" is not a parameter name`)
    const raw = spec.slice(i + 1)
    let value: unknown
    try {
      value = JSON.parse(raw)
    } catch {
      value = raw
    }
    out[name] = value
  }
  return out
}
