// Access to the engine for the benchmark: the library API (dist/) plus a few raw koffi bindings of
// the same shared library for calls the library does not wrap (or to measure without its wrapper).

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
  const lib = koffi.load(binding.libraryPath())
  // The binding registered HessraToken, HessraVerifyRequest, ... (koffi type names are global).
  const raw = {}
  const protos = {
    version: 'const char *hessra_version(void)',
    parse: 'int hessra_token_parse(const char *token_string, _Out_ HessraToken *out_token)',
    free: 'void hessra_token_free(HessraToken token)',
    verifyRequest: 'int hessra_token_verify_request(HessraToken token, HessraPublicKey key, const HessraVerifyRequest *request, void *out_error)',
    verifyWithConfig: 'int hessra_token_verify_with_config(HessraToken token, HessraConfig config, const HessraVerifyRequest *request, void *out_error)',
    configVerifyString: 'int hessra_config_verify_token_string(HessraConfig config, const char *token_string, const HessraVerifyRequest *request, void *out_error)',
    cacheStats: 'int hessra_config_cache_stats(HessraConfig config, _Out_ HessraCacheStats *out_stats)',
    setCacheSize: 'int hessra_config_set_cache_size(HessraConfig config, size_t capacity)',
  }
  const missing = []
  for (const [k, p] of Object.entries(protos)) {
    try {
      raw[k] = lib.func(p)
    } catch {
      missing.push(p.match(/(hessra_\w+)/)[1])
    }
  }
  return {binding, api, koffi, raw, missing}
}
