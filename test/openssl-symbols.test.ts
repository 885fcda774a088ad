/**
 * Inside node, the engine's libcrypto calls bind to the OpenSSL that the node binary exports (the
 * executable comes first in symbol lookup), not to the system libcrypto it was linked against. That is
 * safe only if every OpenSSL symbol the engine imports comes from the same copy: an object allocated by
 * one copy and freed by the other would corrupt the heap. This test fails when a new engine import is
 * missing from node's exports (or present while the rest are not).
 */
import {strict as assert} from 'node:assert'
import {spawnSync} from 'node:child_process'

import {libraryPath} from '../src/native/binding.js'
import {requireNative} from './helpers.js'

const OPENSSL = /^(EVP_|EC_|ECDSA_|BN_|SHA\d|RAND_|OPENSSL_|ERR_|d2i_|i2d_|PEM_|BIO_|CRYPTO_|OSSL_)/

function dynamicSymbols(file: string, which: '--undefined-only' | '--defined-only'): Set<string> {
  const r = spawnSync('nm', ['-D', which, file], {encoding: 'utf8', maxBuffer: 1 << 26})
  assert.equal(r.status, 0, `nm failed on ${file}: ${r.stderr}`)
  const names = r.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/).pop() ?? '')
    .map((name) => name.replace(/@.*$/, ''))
  return new Set(names.filter((name) => OPENSSL.test(name)))
}

describe('OpenSSL symbols under node', () => {
  before(requireNative)

  it('every libcrypto symbol the engine imports resolves to one OpenSSL copy', () => {
    const imported = dynamicSymbols(libraryPath(), '--undefined-only')
    assert.ok(imported.size > 10, `expected the engine to import libcrypto, found ${imported.size} symbols`)
    const exportedByNode = dynamicSymbols(process.execPath, '--defined-only')
    const fromNode = [...imported].filter((s) => exportedByNode.has(s))
    const fromSystem = [...imported].filter((s) => !exportedByNode.has(s))
    assert.ok(
      fromNode.length === 0 || fromSystem.length === 0,
      `mixed OpenSSL copies: ${fromSystem.join(', ')} would come from the system libcrypto while ` +
        `${fromNode.length} other symbols come from node's`,
    )
  })
})
