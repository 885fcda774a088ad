/**
 * docs/DESIGN.md names the project's interfaces; this keeps it honest: every function declared in the
 * C header and every SQL function the extension creates is named there, and every hessra_* name it
 * mentions still exists.
 */
import {strict as assert} from 'node:assert'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {ROOT} from '../helpers.js'

/** Function names declared in hessra_ffi.h (a return type, then `hessra_name(` at line start). */
function headerFunctions(header: string): string[] {
  const names = [...header.matchAll(/^[A-Za-z][\w *]*?[\s*](hessra_\w+)\(/gm)].map((m) => m[1])
  return [...new Set(names)].sort()
}

/** Names of the functions created by the extension's install and upgrade scripts. */
function sqlFunctions(scripts: string[]): string[] {
  const names = scripts.flatMap((s) => [...s.matchAll(/CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+(hessra_\w+)\s*\(/gi)].map((m) => m[1]))
  return [...new Set(names)].sort()
}

/** Names of the tables, indexes and triggers the scripts create (the document may name them too). */
function sqlObjects(scripts: string[]): string[] {
  return [...new Set(scripts.flatMap((s) => [...s.matchAll(/CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX|TRIGGER)\s+(hessra_\w+)/gi)].map((m) => m[1])))]
}

describe('docs/DESIGN.md', () => {
  const design = readFileSync(join(ROOT, 'docs', 'DESIGN.md'), 'utf8')
  const mentioned = new Set([...design.matchAll(/\bhessra_\w+/g)].map((m) => m[0]))
  const header = headerFunctions(readFileSync(join(ROOT, 'native', 'include', 'hessra_ffi.h'), 'utf8'))
  const sqlDir = join(ROOT, 'pg-plugin', 'sql')
  const scripts = readdirSync(sqlDir)
    .filter((f) => /^hessra--[\d.]+(--[\d.]+)?\.sql$/.test(f))
    .map((f) => readFileSync(join(sqlDir, f), 'utf8'))
  const sql = sqlFunctions(scripts)
  const objects = sqlObjects(scripts)

  it('finds the declarations it checks', () => {
    // Guards the patterns above: a parse that silently finds nothing would pass everything below.
    assert.ok(header.includes('hessra_token_parse') && header.includes('hessra_token_seal') && header.length > 40, `header: ${header.join(' ')}`)
    assert.ok(sql.includes('hessra_init') && sql.includes('hessra_stats'), `sql: ${sql.join(' ')}`)
  })

  it('names every function of the C ABI', () => {
    assert.deepEqual(
      header.filter((f) => !mentioned.has(f)),
      [],
    )
  })

  it('names every SQL function of the extension', () => {
    assert.deepEqual(
      sql.filter((f) => !mentioned.has(f)),
      [],
    )
  })

  it('mentions no hessra_* name that no longer exists', () => {
    const known = new Set([...header, ...sql, ...objects, 'hessra_ffi'])
    assert.deepEqual(
      [...mentioned].filter((n) => !known.has(n)),
      [],
    )
  })
})
