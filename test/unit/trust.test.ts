/**
 * Trust in the database (issue 22), the parts that need no server: revocation lists (`--from-file`), the
 * rules `hessra pg keys` applies before asking the server, the merge `hessra pg install` makes into the
 * server's file (issue 23.5), and the note `hessra revoke` prints when a database would not see its
 * revocation. The server side: test/pg/trust.test.ts, pg-plugin/sql/trust.sql, test/faults/trust.sh.
 */
import {strict as assert} from 'node:assert'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'

import {ConfigError, InputError, IoError} from '../../src/errors.js'
import {mergeServerConfig} from '../../src/pg/server-config.js'
import {addKeyProblem, parseRevocationList, readRevocationList, removeKeyProblem, type TrustedKey} from '../../src/pg/trust.js'
import {serverConfigNote} from '../../src/revocation.js'

const A = 'ab'.repeat(64)
const B = 'CD'.repeat(64)
const K1 = 'ed25519/' + '1'.repeat(64)
const K2 = 'ed25519/' + '2'.repeat(64)

describe('revocation lists (revoke --from-file)', () => {
  it('one id per line, comments and blank lines ignored, each id once and lower-case', () => {
    assert.deepEqual(parseRevocationList(`# list\n\n${A}\n  ${B}  \r\n${A}\n`, 'f'), [A, B.toLowerCase()])
  })

  it('a bad line is an error naming the line, never quoting it; an empty list is an error', () => {
    assert.throws(
      () => parseRevocationList(`${A}\nBearer eyJ0b2tlbiI\n`, 'list.txt'),
      (e: Error) => e instanceof InputError && /list\.txt line 2 is not a revocation id/.test(e.message) && !e.message.includes('eyJ'),
    )
    assert.throws(() => parseRevocationList('abc\n', 'f'), /line 1/) // odd length
    assert.throws(() => parseRevocationList('a'.repeat(258) + '\n', 'f'), /line 1/) // longer than 128 bytes
    assert.throws(() => parseRevocationList('# nothing\n', 'f'), /holds no revocation id/)
  })

  it('reads a regular file or stdin, refuses a FIFO (it would block) without opening it for writing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hessra-trust-'))
    try {
      writeFileSync(join(dir, 'ids'), `${A}\n`)
      assert.equal((await readRevocationList(join(dir, 'ids'))).text, `${A}\n`)
      assert.deepEqual(await readRevocationList('-', Readable.from([Buffer.from(`${B}\n`)])), {text: `${B}\n`, source: 'stdin'})
      assert.equal(spawnSync('mkfifo', [join(dir, 'fifo')]).status, 0)
      await assert.rejects(readRevocationList(join(dir, 'fifo')), (e: Error) => e instanceof IoError && /is not a regular file/.test(e.message))
      await assert.rejects(readRevocationList(join(dir, 'missing')), /cannot read/)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

describe('pg keys rules', () => {
  const keys: TrustedKey[] = [
    {id: 'prod', publicKey: K1, rootKeyId: 1, source: 'file', isDefault: true, addedAt: null},
    {id: 'next', publicKey: K2, rootKeyId: 2, source: 'database', isDefault: false, addedAt: '2026-01-01T00:00:00.000Z'},
  ]

  it('add: a file key id, an existing id without --force, a root key id in use are refused', () => {
    assert.match(addKeyProblem(keys, {id: 'prod', publicKey: K2}) ?? '', /key of the configuration file/)
    assert.match(addKeyProblem(keys, {id: 'next', publicKey: K2}) ?? '', /already trusted by the database \(pass --force/)
    assert.equal(addKeyProblem(keys, {id: 'next', publicKey: K2, rootKeyId: 2, replace: true}), null)
    assert.match(addKeyProblem(keys, {id: 'new', publicKey: K2, rootKeyId: 1}) ?? '', /root key id 1 is already used by key "prod" \(configuration file\)/)
    assert.equal(addKeyProblem(keys, {id: 'new', publicKey: K2, rootKeyId: 3}), null)
  })

  it('remove: not the default or the last key without --force; a file key is removed in the file', () => {
    const dbDefault = keys.map((k) => ({...k, isDefault: k.id === 'next'}))
    assert.match(removeKeyProblem(dbDefault, 'next', false) ?? '', /is the default key/)
    assert.equal(removeKeyProblem(dbDefault, 'next', true), null)
    assert.match(removeKeyProblem([keys[1]], 'next', false) ?? '', /is the last trusted key/)
    assert.equal(removeKeyProblem(keys, 'next', false), null)
    assert.match(removeKeyProblem(keys, 'prod', true) ?? '', /comes from the configuration file/)
    assert.match(removeKeyProblem(keys, 'nope', true) ?? '', /no key "nope"/)
  })
})

describe('pg install merges into the server-side configuration (issue 23.5)', () => {
  const existing = {
    version: 1 as const,
    default_key: 'prod',
    keys: [{id: 'prod', public_key: K1, root_key_id: 1}],
    revoked_ids: [A],
    revocation_file: '/etc/hessra/revoked.txt',
    leeway_seconds: 5,
  }

  it('keeps every key and revocation of the file, adds the new ones, says what changes', () => {
    const built = {version: 1 as const, default_key: 'edge', keys: [{id: 'edge', public_key: K2}], revoked_ids: [B], leeway_seconds: 10}
    const r = mergeServerConfig(existing, built, {path: 'S'})
    assert.deepEqual(r.config.keys, [...existing.keys, {id: 'edge', public_key: K2}])
    assert.deepEqual(r.config.revoked_ids, [A, B.toLowerCase()])
    assert.equal(r.config.revocation_file, '/etc/hessra/revoked.txt')
    assert.equal(r.config.default_key, 'prod')
    assert.equal(r.config.leeway_seconds, 10)
    assert.deepEqual(r.changes, ['adds key "edge"', 'keeps the default key "prod" (yours is "edge"; --replace switches it)', 'sets leeway_seconds to 10', 'adds 1 revoked id'])
  })

  it('the same configuration again changes nothing', () => {
    const built = {version: 1 as const, default_key: 'prod', keys: [{id: 'prod', public_key: K1, root_key_id: 1}], leeway_seconds: 5}
    const r = mergeServerConfig(existing, built)
    assert.deepEqual(r.config, existing)
    assert.deepEqual(r.changes, [])
  })

  it('a key id whose key differs, or a root key id given to another key, is refused (it would stop trusting a key)', () => {
    assert.throws(() => mergeServerConfig(existing, {version: 1, keys: [{id: 'prod', public_key: K2}]}, {path: 'S'}), (e: Error) => e instanceof ConfigError && /key "prod" differs from the key S trusts/.test(e.message))
    assert.throws(() => mergeServerConfig(existing, {version: 1, keys: [{id: 'other', public_key: K2, root_key_id: 1}]}), /root key id 1, which .* gives to key "prod"/)
  })

  it('--replace writes the configuration as built and lists what it drops', () => {
    const built = {version: 1 as const, default_key: 'edge', keys: [{id: 'edge', public_key: K2}]}
    const r = mergeServerConfig(existing, built, {replace: true})
    assert.deepEqual(r.config, built)
    assert.deepEqual(r.changes, ['drops key "prod"', 'adds key "edge"', 'drops 1 revoked id', 'drops revocation_file /etc/hessra/revoked.txt', 'sets the default key to "edge"'])
  })

  it('no file yet: the configuration as built', () => {
    const built = {version: 1 as const, keys: [{id: 'edge', public_key: K2}]}
    assert.deepEqual(mergeServerConfig(null, built, {path: 'S'}), {config: built, changes: ['creates S']})
  })
})

describe('hessra revoke without --database', () => {
  const fs = (present: string[]) => ({exists: (p: string) => present.includes(p), realpath: (p: string) => p})

  it('says when the server reads another configuration file, or a database is named', () => {
    const other = serverConfigNote('/home/ann/.config/hessra/config.json', {env: {}, ...fs(['/etc/hessra/config.json'])})
    assert.match(other ?? '', /PostgreSQL reads \/etc\/hessra\/config\.json .*, not \/home\/ann\/.config\/hessra\/config\.json: .*--database URL/)
    const db = serverConfigNote('/home/ann/.config/hessra/config.json', {env: {DATABASE_URL: 'postgresql://x'}, ...fs([])})
    assert.match(db ?? '', /DATABASE_URL \/ PG\* name a database/)
  })

  it('says nothing when it edits the server file itself, or nothing suggests a server', () => {
    assert.equal(serverConfigNote('/etc/hessra/config.json', {env: {}, ...fs(['/etc/hessra/config.json'])}), null)
    assert.equal(serverConfigNote('/home/ann/h.json', {env: {}, ...fs([])}), null)
  })
})
