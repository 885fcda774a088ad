// Access to the engine for the benchmark: the library API (dist/) plus a few C functions called raw,
// through the binding's own prototypes, to measure without its wrapper (or calls it does not wrap).

import {existsSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const require = createRequire(join(ROOT, 'package.json'))

export async function loadNative() {
  const dist = join(ROOT, 'dist', 'native', 'binding.js')
  if (!existsSync(dist)) throw new Error('dist/ is missing: run `npm run build` first')
  const binding = await import(dist)
  if (!binding.isAvailable()) throw new Error(`the native library is missing at ${binding.libraryPath()}: run \`npm run build:native\``)
  const api = await import(join(ROOT, 'dist', 'index.js'))
  const koffi = require('koffi')
  const raw = {}
  const functions = {
    version: 'hessra_version',
    parse: 'hessra_token_parse',
    free: 'hessra_token_free',
    verifyRequest: 'hessra_token_verify_request',
    verifyWithConfig: 'hessra_token_verify_with_config',
    configVerifyString: 'hessra_config_verify_token_string',
    cacheStats: 'hessra_config_cache_stats',
    setCacheSize: 'hessra_config_set_cache_size',
  }
  const missing = []
  for (const [k, name] of Object.entries(functions)) {
    try {
      raw[k] = binding.rawFunction(name)
    } catch {
      missing.push(name)
    }
  }
  return {binding, api, koffi, raw, missing}
}
