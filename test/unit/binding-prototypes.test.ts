/**
 * koffi needs the C prototypes as text, so src/native/prototypes.ts holds the one JavaScript copy of
 * them. This keeps that copy equal to native/include/hessra_ffi.h: same functions, same parameter
 * and return types (up to the spellings koffi needs). No native library needed.
 */
import {strict as assert} from 'node:assert'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {PROTOTYPES} from '../../src/native/binding.js'
import {ROOT} from '../helpers.js'

interface Signature {
  returns: string
  params: string[]
}

/**
 * One C type, comparable across the two spellings: no parameter name, no spaces, no koffi `_Out_`;
 * enums are `int` to koffi; strings the caller must free (`char*`, and `char**` outputs) are bound as
 * `void*` / `void**` so koffi hands over the pointer instead of a copy.
 */
function normalizeType(text: string): string {
  let t = text.replace(/\b_Out_\b/, '').trim()
  const named = /^(.*?[\s*])([A-Za-z_]\w*)$/.exec(t)
  if (named && named[1].trim() !== '' && named[1].trim() !== 'const' && named[1].trim() !== 'struct') t = named[1]
  t = t.replace(/\s+/g, '')
  t = t.replace(/^(HessraResult|HessraAlgorithm)$/, 'int')
  return t.replace(/^char(\*\*?)$/, 'void$1')
}

function parseSignature(returns: string, params: string): Signature {
  const list = params.trim() === 'void' || params.trim() === '' ? [] : params.split(',')
  return {returns: normalizeType(returns), params: list.map(normalizeType)}
}

/** Every function declared in the header, by name. */
function headerSignatures(header: string): Map<string, Signature> {
  const out = new Map<string, Signature>()
  for (const m of header.matchAll(/^([A-Za-z][\w *]*?[\s*])(hessra_\w+)\(([^)]*)\)\s*;/gm)) {
    out.set(m[2], parseSignature(m[1], m[3]))
  }
  return out
}

describe('binding prototypes', () => {
  const header = headerSignatures(readFileSync(join(ROOT, 'native', 'include', 'hessra_ffi.h'), 'utf8'))

  it('reads the header', () => {
    // A parse that finds nothing would make the comparison below vacuous.
    assert.deepEqual(header.get('hessra_token_verify'), {returns: 'int', params: ['HessraToken', 'HessraPublicKey', 'constchar*', 'constchar*']})
    assert.deepEqual(header.get('hessra_version'), {returns: 'constchar*', params: []})
    assert.ok(header.size >= 50, `only ${header.size} functions parsed`)
  })

  for (const [name, prototype] of Object.entries(PROTOTYPES)) {
    it(`${name} matches hessra_ffi.h`, () => {
      const m = /^(.*?[\s*])(hessra_\w+)\((.*)\)$/.exec(prototype)
      assert.ok(m, `unparseable prototype: ${prototype}`)
      assert.equal(m[2], name, 'prototype declares another function than its key')
      const expected = header.get(name)
      assert.ok(expected, `${name} is not declared in hessra_ffi.h`)
      assert.deepEqual(parseSignature(m[1], m[3]), expected)
    })
  }
})
