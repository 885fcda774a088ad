/** `--service-chain JSON|@file`, `--service-node component=KEY` and `--multi-party NAMESPACE=KEY` parsing. */
import {readFileSync} from 'node:fs'

import {type ServiceNode} from './config/index.js'
import {InputError, IoError} from './errors.js'
import {type Party} from './tokens/devkit.js'

export function parseServiceChain(spec: string): ServiceNode[] {
  let text = spec
  if (spec.startsWith('@')) {
    const path = spec.slice(1)
    try {
      text = readFileSync(path, 'utf8')
    } catch (error) {
      throw new IoError(`cannot read service chain file ${path} (${(error as {code?: string}).code ?? 'error'})`)
    }
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new InputError(`--service-chain is not valid JSON: ${(error as Error).message}`)
  }
  if (!Array.isArray(value)) throw new InputError('--service-chain must be a JSON array of {"component": ..., "public_key": ...}')
  return value.map((n: unknown, i: number) => {
    const o = n as Record<string, unknown>
    if (!o || typeof o !== 'object' || typeof o.component !== 'string' || typeof o.public_key !== 'string') {
      throw new InputError(`--service-chain[${i}] must be {"component": string, "public_key": string}`)
    }
    return {component: o.component, public_key: o.public_key}
  })
}

/** "NAME=KEY" split at the first "=" (KEY: text or file); `flag` and `shape` phrase the error. */
function nameAndKey(spec: string, flag: string, shape: string): [string, string] {
  const i = spec.indexOf('=')
  if (i <= 0 || i === spec.length - 1) throw new InputError(`${flag} "${spec}" must look like ${shape}`)
  return [spec.slice(0, i), spec.slice(i + 1)]
}

/** "component=KEY" (KEY: text or file). */
export function parseServiceNode(spec: string): ServiceNode {
  const [component, key] = nameAndKey(spec, '--service-node', 'component=KEY')
  return {component, public_key: key}
}

/** `--multi-party` "NAMESPACE=KEY" (KEY: the party's public key, text or file). */
export function parseParty(spec: string): Party {
  const [namespace, key] = nameAndKey(spec, '--multi-party', 'NAMESPACE=KEY')
  return {namespace, public_key: key}
}
