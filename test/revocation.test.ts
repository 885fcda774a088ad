/**
 * Revocation through the library and the CLI: `hessra revoke` lists a block's revocation id in the
 * configuration, and every verification with that configuration answers `revoked` (exit 1) for a token
 * containing the block. Revoking the last block of an attenuated token leaves its parent valid; the
 * authority block's id revokes both. A revocation file is read relative to the configuration and an
 * unreadable one makes the configuration unusable (fail closed).
 */
import {strict as assert} from 'node:assert'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {loadConfig} from '../src/config/index.js'
import {validateConfig} from '../src/config/validate.js'
import {ConfigError, RevokedError, UsageError} from '../src/errors.js'
import {KeyPair} from '../src/native/binding.js'
import {revocationIdsFor, revoke, withRevokedIds} from '../src/revocation.js'
import {attenuateToken, mintHessra} from '../src/tokens/devkit.js'
import {inspectToken} from '../src/tokens/inspect.js'
import {assertValid, verifyToken} from '../src/tokens/verify.js'
import {cli, json, newKeyPair, requireNative, tempDir} from './helpers.js'

const now = () => Math.floor(Date.now() / 1000)

describe('revocation', function () {
  let kp: KeyPair
  let pub: string
  let parent: string
  let child: string
  let ids: string[]

  before(() => {
    requireNative()
    ;({kp, pub} = newKeyPair())
    parent = mintHessra({privateKey: kp, subject: 'alice', resource: 'orders', operation: ['read', 'write'], expiresAt: now() + 600})
    child = attenuateToken(parent, {key: pub, datalog: 'check if operation("read");'})
    ids = inspectToken(child).revocation_ids
    assert.equal(ids.length, 2)
  })
  after(() => kp.dispose())

  /** A configuration file trusting the key, with `extra` fields. */
  function configFile(extra: Record<string, unknown> = {}): string {
    const file = join(tempDir(), 'hessra.json')
    writeFileSync(file, JSON.stringify({version: 1, keys: [{id: 'dev', public_key: pub}], ...extra}))
    return file
  }

  async function statusOf(token: string, file: string): Promise<string> {
    const config = await loadConfig({configPath: file})
    return verifyToken(token, {config, subject: 'alice', resource: 'orders', operation: 'read'}).status
  }

  describe('library', () => {
    it('chooses the last block by default, or a block, or every block', () => {
      assert.deepEqual(revocationIdsFor(child), [{block: 1, revocationId: ids[1]}])
      assert.deepEqual(revocationIdsFor(child, {block: 0}), [{block: 0, revocationId: ids[0]}])
      assert.deepEqual(
        revocationIdsFor(child, {allBlocks: true}).map((r) => r.block),
        [0, 1],
      )
      assert.deepEqual(revocationIdsFor(ids[0].toUpperCase()), [{block: null, revocationId: ids[0]}])
      assert.throws(() => revocationIdsFor(child, {block: 2}), (e: unknown) => e instanceof UsageError && /2 blocks/.test(e.message))
      assert.throws(() => revocationIdsFor(ids[0], {block: 0}), UsageError)
    })

    it('adds each id once, lower-case', () => {
      const r = withRevokedIds({version: 1, revoked_ids: [ids[0]]}, [ids[0].toUpperCase(), ids[1], ids[1]])
      assert.deepEqual(r.added, [ids[1]])
      assert.deepEqual(r.config.revoked_ids, [ids[0], ids[1]])
      assert.throws(() => withRevokedIds({version: 1}, ['xyz']), UsageError)
    })

    it('revoking the last block refuses the attenuated token only; the authority block refuses both', async () => {
      const file = configFile()
      assert.equal(await statusOf(child, file), 'valid')
      const r = await revoke(child, {configPath: file})
      assert.deepEqual(r.added, [ids[1]])
      assert.equal(r.created, false)
      assert.equal(await statusOf(child, file), 'revoked')
      assert.equal(await statusOf(parent, file), 'valid')

      await revoke(parent, {configPath: file}) // the parent's last block is the authority block
      assert.equal(await statusOf(parent, file), 'revoked')
      const again = await revoke(parent, {configPath: file})
      assert.deepEqual(again.added, [], 'already listed')
      assert.deepEqual((JSON.parse(readFileSync(file, 'utf8')) as {revoked_ids: string[]}).revoked_ids, [ids[1], ids[0]])

      const config = await loadConfig({configPath: file})
      const v = verifyToken(child, {config, subject: 'alice', resource: 'orders', operation: 'read'})
      assert.equal(v.valid, false)
      assert.equal(v.code, 'revoked')
      assert.deepEqual(v.revoked, {block: 0, revocationId: ids[0]})
      assert.match(v.reason ?? '', /revoked/)
      assert.throws(() => assertValid(child, {config, subject: 'alice', resource: 'orders', operation: 'read'}), RevokedError)
    })

    it('reads a revocation file relative to the configuration, and fails closed without it', async () => {
      const file = configFile({revocation_file: 'revoked.txt'})
      const list = join(file, '..', 'revoked.txt')
      writeFileSync(list, `# revoked\n${ids[0].toUpperCase()}\n`)
      assert.equal(await statusOf(parent, file), 'revoked')
      const report = validateConfig((await loadConfig({configPath: file})).config, file)
      assert.equal(report.valid, true)
      assert.equal((report.summary as {revoked_id_count: number}).revoked_id_count, 1)

      writeFileSync(list, 'not hex\n')
      const bad = validateConfig((await loadConfig({configPath: file})).config, file)
      assert.deepEqual(
        bad.problems.map((p) => p.field),
        ['revocation_file'],
      )
      writeFileSync(list, '')
      assert.equal(await statusOf(parent, file), 'valid')
      const gone = configFile({revocation_file: 'nowhere.txt'})
      await assert.rejects(statusOf(parent, gone), (e: unknown) => e instanceof Error && /revocation_file/.test(e.message))
    })

    it('checks the shape of revoked_ids', async () => {
      const report = validateConfig({version: 1, revoked_ids: ['abc']})
      assert.deepEqual(
        report.problems.map((p) => p.field),
        ['revoked_ids[0]'],
      )
      await assert.rejects(statusOf(parent, configFile({revoked_ids: 'x'})), ConfigError)
    })
  })

  describe('CLI', () => {
    it('hessra revoke TOKEN, then verify says revoked (exit 1, --json status)', () => {
      const file = configFile()
      const env = {HESSRA_CONFIG: file}
      const verify = (token: string) => cli(['verify', token, '-s', 'alice', '-r', 'orders', '-o', 'read', '--json'], {env})
      assert.equal(verify(child).status, 0)

      const r = cli(['revoke', child, '--json'], {env})
      assert.equal(r.status, 0, r.stderr)
      const out = json<{revoked: {block: number; revocation_id: string}[]; added: string[]; config_file: string}>(r.stdout)
      assert.deepEqual(out.revoked, [{block: 1, revocation_id: ids[1]}])
      assert.equal(out.config_file, file)

      const v = verify(child)
      assert.equal(v.status, 1)
      const o = json<{status: string; exit_code: number; revoked: {block: number; revocation_id: string}}>(v.stdout)
      assert.equal(o.status, 'revoked')
      assert.equal(o.exit_code, 1)
      assert.deepEqual(o.revoked, {block: 1, revocation_id: ids[1]})
      assert.equal(verify(parent).status, 0, 'the parent stays valid')

      const human = cli(['verify', child, '-s', 'alice', '-r', 'orders'], {env})
      assert.equal(human.status, 1)
      assert.match(human.stdout, /✘ revoked/)

      // by id, every block, and a chosen block
      assert.equal(cli(['revoke', ids[0]], {env}).status, 0)
      assert.equal(verify(parent).status, 1)
      const all = cli(['revoke', parent, '--all-blocks', '--json'], {env})
      assert.deepEqual(json<{added: string[]}>(all.stdout).added, [], 'already listed')
    })

    it('refuses what it cannot revoke, without touching the configuration', () => {
      const file = configFile()
      const env = {HESSRA_CONFIG: file, HESSRA_TOKEN: child}
      const before = readFileSync(file, 'utf8')
      assert.equal(cli(['revoke'], {env}).status, 2, 'names nothing: HESSRA_TOKEN is not taken')
      assert.equal(cli(['revoke', child, '--block', '5'], {env}).status, 2)
      assert.equal(cli(['revoke', child, '--block', '0', '--all-blocks'], {env}).status, 2)
      assert.equal(cli(['revoke', 'not-a-token!'], {env}).status, 3)
      assert.equal(readFileSync(file, 'utf8'), before)
    })
  })
})
