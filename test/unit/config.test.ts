import {strict as assert} from 'node:assert'
import {chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {Config} from '../../src/native/binding.js'
import {checkConfigShape, defaultConfig, engineJson, getPath, loadConfig, parseValue, setPath, userConfigPath, writeConfig} from '../../src/config/index.js'
import {ConfigError} from '../../src/errors.js'
import {tempDir} from '../helpers.js'

const KEY = 'ed25519/3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29'
const good = {version: 1 as const, default_key: 'prod', keys: [{id: 'prod', public_key: KEY, root_key_id: 7}]}

function fields(c: unknown): string[] {
  return checkConfigShape(c)
    .filter((p) => p.severity === 'error')
    .map((p) => p.field)
}

describe('configuration', () => {
  describe('discovery', () => {
    it('searches cwd and parents, in cosmiconfig\'s order of names, before the user file', async () => {
      const home = tempDir()
      const project = join(home, 'project')
      const sub = join(project, 'src', 'deep')
      mkdirSync(sub, {recursive: true})
      const env = {HOME: home}
      assert.deepEqual((await loadConfig({cwd: sub, env})).source, 'none')

      mkdirSync(join(home, '.config', 'hessra'), {recursive: true})
      writeFileSync(userConfigPath(env), JSON.stringify({...good, domain: 'user'}))
      let r = await loadConfig({cwd: sub, env})
      assert.equal(r.source, 'user')
      assert.equal(r.config?.domain, 'user')

      // package.json without a "hessra" field is skipped; with one it is used
      writeFileSync(join(project, 'package.json'), JSON.stringify({name: 'x'}))
      assert.equal((await loadConfig({cwd: sub, env})).source, 'user')
      writeFileSync(join(project, 'package.json'), JSON.stringify({name: 'x', hessra: {...good, domain: 'pkg'}}))
      r = await loadConfig({cwd: sub, env})
      assert.equal(r.source, 'search')
      assert.equal(r.config?.domain, 'pkg')
      assert.equal(r.format, 'package.json')

      // a closer .hessrarc.yaml wins
      writeFileSync(join(project, 'src', '.hessrarc.yaml'), 'version: 1\ndomain: yaml\nkeys: []\n')
      r = await loadConfig({cwd: sub, env})
      assert.equal(r.config?.domain, 'yaml')
      assert.equal(r.format, 'yaml')
    })

    it('--config beats HESSRA_CONFIG beats the search', async () => {
      const dir = tempDir()
      const a = join(dir, 'a.json')
      const b = join(dir, 'b.json')
      writeFileSync(a, JSON.stringify({...good, domain: 'a'}))
      writeFileSync(b, JSON.stringify({...good, domain: 'b'}))
      writeFileSync(join(dir, '.hessrarc.json'), JSON.stringify({...good, domain: 'rc'}))
      const env = {HOME: dir}
      assert.equal((await loadConfig({cwd: dir, env})).config?.domain, 'rc')
      assert.equal((await loadConfig({cwd: dir, env: {...env, HESSRA_CONFIG: b}})).config?.domain, 'b')
      const r = await loadConfig({cwd: dir, env: {...env, HESSRA_CONFIG: b}, configPath: a})
      assert.equal(r.config?.domain, 'a')
      assert.equal(r.source, 'flag')
    })

    it('the search stops after the home directory and after a repository root', async () => {
      const top = tempDir()
      const home = join(top, 'home')
      const repo = join(home, 'work', 'repo')
      const sub = join(repo, 'src')
      mkdirSync(sub, {recursive: true})
      const env = {HOME: home}
      // above the home directory: not searched
      writeFileSync(join(top, '.hessrarc.json'), JSON.stringify({...good, domain: 'above-home'}))
      assert.equal((await loadConfig({cwd: sub, env})).source, 'none')
      // the home directory itself is
      writeFileSync(join(home, '.hessrarc.json'), JSON.stringify({...good, domain: 'home'}))
      assert.equal((await loadConfig({cwd: sub, env})).config?.domain, 'home')
      // a repository root ends the search (its own files count)
      mkdirSync(join(repo, '.git'))
      assert.equal((await loadConfig({cwd: sub, env})).source, 'none')
      writeFileSync(join(repo, 'hessra.config.json'), JSON.stringify({...good, domain: 'repo'}))
      assert.equal((await loadConfig({cwd: sub, env})).config?.domain, 'repo')
      // outside the home directory and any repository: up to the root
      const outside = join(top, 'srv', 'app')
      mkdirSync(outside, {recursive: true})
      assert.equal((await loadConfig({cwd: outside, env})).config?.domain, 'above-home')
    })

    it('package.json without "hessra", and empty files, are passed over; a broken package.json is an error', async () => {
      const dir = tempDir()
      const sub = join(dir, 'a', 'b')
      mkdirSync(sub, {recursive: true})
      const env = {HOME: dir}
      writeFileSync(join(dir, 'a', 'package.json'), JSON.stringify({name: 'x'}))
      assert.equal((await loadConfig({cwd: sub, env})).source, 'none')
      writeFileSync(join(dir, 'a', 'package.json'), '{"name": ')
      await assert.rejects(loadConfig({cwd: sub, env}), /package\.json is not valid JSON/)
      writeFileSync(join(dir, 'a', 'package.json'), JSON.stringify({name: 'x', hessra: good}))
      assert.equal((await loadConfig({cwd: sub, env})).format, 'package.json')
      writeFileSync(join(sub, '.hessrarc'), 'version: 1\n')
      assert.equal((await loadConfig({cwd: sub, env})).format, 'yaml')
      writeFileSync(join(sub, '.hessrarc'), ' \n')
      assert.equal((await loadConfig({cwd: sub, env})).format, 'package.json', 'an empty file is passed over')
      writeFileSync(join(sub, '.hessrarc'), 'version: [1\n')
      await assert.rejects(loadConfig({cwd: sub, env}), /\.hessrarc is not valid YAML: /)
    })

    it('a JavaScript configuration found by the search is never run; named with --config it is', async () => {
      const dir = tempDir()
      const sub = join(dir, 'project')
      mkdirSync(sub)
      const marker = join(dir, 'ran')
      writeFileSync(join(dir, 'hessra.config.mjs'), `import {writeFileSync} from 'node:fs'\nwriteFileSync(${JSON.stringify(marker)}, 'ran')\nexport default ${JSON.stringify({...good, domain: 'js'})}\n`)
      await assert.rejects(loadConfig({cwd: sub, env: {HOME: dir}}), (e: unknown) => {
        assert.ok(e instanceof ConfigError && e.exitCode === 4, String(e))
        assert.match(e.message, /hessra\.config\.mjs: a JavaScript configuration is not run when it is found by searching/)
        assert.match(e.hint ?? '', /--config/)
        return true
      })
      assert.equal(existsSync(marker), false, 'the module did not run')
      const r = await loadConfig({cwd: sub, env: {HOME: dir}, configPath: join(dir, 'hessra.config.mjs')})
      assert.equal(r.config?.domain, 'js')
      assert.equal(r.format, 'js')
      assert.equal(existsSync(marker), true)
    })

    it('a configuration anyone else can write is not read, whether found or named', async () => {
      const dir = tempDir()
      const sub = join(dir, 'project')
      mkdirSync(sub)
      const rc = join(dir, '.hessrarc.json')
      writeFileSync(rc, JSON.stringify(good))
      chmodSync(rc, 0o666)
      for (const opts of [{}, {configPath: rc}]) {
        await assert.rejects(loadConfig({cwd: sub, env: {HOME: dir}, ...opts}), (e: unknown) => {
          assert.ok(e instanceof ConfigError && e.exitCode === 4, String(e))
          assert.match(e.message, /\.hessrarc\.json is writable by group or others \(mode 0666\)/)
          return true
        })
      }
      chmodSync(rc, 0o644)
      assert.equal((await loadConfig({cwd: sub, env: {HOME: dir}})).source, 'search')
      // the user file too
      const user = userConfigPath({HOME: sub})
      mkdirSync(dirname(user), {recursive: true})
      writeFileSync(user, JSON.stringify(good))
      chmodSync(user, 0o620)
      await assert.rejects(loadConfig({cwd: sub, env: {HOME: sub}}), /config\.json is writable by group or others/)
    })

    it('files planted by another user in a parent directory are neither run nor trusted (root: chown to nobody)', async function () {
      if (process.getuid?.() !== 0) this.skip() // only root can make a file another user owns
      const base = tempDir()
      chmodSync(base, 0o755)
      const shared = join(base, 'shared') // like /tmp: anyone may add files
      mkdirSync(shared)
      chmodSync(shared, 0o1777)
      const project = join(shared, 'work', 'project')
      mkdirSync(project, {recursive: true})
      const env = {HOME: join(base, 'home')}
      const marker = join(base, 'ran')
      const mjs = join(shared, 'hessra.config.mjs')
      writeFileSync(mjs, `import {writeFileSync} from 'node:fs'\nwriteFileSync(${JSON.stringify(marker)}, 'ran')\nexport default {version: 1}\n`)
      chownSync(mjs, 65534, 65534)
      await assert.rejects(loadConfig({cwd: project, env}), /JavaScript configuration is not run/)
      assert.equal(existsSync(marker), false, 'the planted module did not run')
      rmSync(mjs)
      const rc = join(shared, '.hessrarc')
      writeFileSync(rc, JSON.stringify({...good, domain: 'planted'}))
      chmodSync(rc, 0o644)
      chownSync(rc, 65534, 65534)
      await assert.rejects(loadConfig({cwd: project, env}), (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e))
        assert.match(e.message, /\.hessrarc is owned by uid 65534; only uid 0 may own it/)
        return true
      })
      // named explicitly: still not trusted
      await assert.rejects(loadConfig({cwd: project, env, configPath: rc}), /owned by uid 65534/)
    })

    it('a missing or broken named file is a configuration error (exit 4)', async () => {
      const dir = tempDir()
      await assert.rejects(loadConfig({cwd: dir, configPath: 'nope.json', env: {HOME: dir}}), (e: unknown) => e instanceof ConfigError && e.exitCode === 4)
      writeFileSync(join(dir, 'bad.json'), '{"version": 1,,}')
      await assert.rejects(loadConfig({cwd: dir, configPath: 'bad.json', env: {HOME: dir}}), /not valid JSON/)
      writeFileSync(join(dir, 'arr.json'), '[1]')
      await assert.rejects(loadConfig({cwd: dir, configPath: 'arr.json', env: {HOME: dir}}), /must be a JSON object/)
    })
  })

  describe('structure checks name the field', () => {
    it('accepts the documented example', () => {
      assert.deepEqual(fields(good), [])
      assert.deepEqual(fields(defaultConfig()), [])
    })
    it('flags bad fields with their JSON path', () => {
      assert.deepEqual(fields({}), ['version'])
      assert.deepEqual(fields({version: 2}), ['version'])
      assert.deepEqual(fields({version: 1, keys: [{id: 'a', public_key: KEY}, {id: 'b'}]}), ['keys[1].public_key'])
      assert.deepEqual(fields({version: 1, keys: [{id: 'a', public_key: 5}]}), ['keys[0].public_key'])
      assert.deepEqual(fields({version: 1, keys: [{id: 'a', public_key: KEY}, {id: 'a', public_key: KEY}]}), ['keys[1].id'])
      assert.deepEqual(fields({...good, default_key: 'nope'}), ['default_key'])
      assert.deepEqual(fields({...good, leeway_seconds: -1}), ['leeway_seconds'])
      assert.deepEqual(fields({...good, limits: {max_facts: 0}}), ['limits.max_facts'])
      assert.deepEqual(fields({...good, service_chains: {orders: [{component: 'a'}]}}), ['service_chains.orders[0].public_key'])
      assert.deepEqual(fields({...good, keys: [{id: 'prod', public_key: KEY, root_key_id: 'seven'}]}), ['keys[0].root_key_id'])
    })
    it('unknown fields are warnings', () => {
      const p = checkConfigShape({...good, colour: 'blue'})
      assert.deepEqual(p.map((x) => [x.field, x.severity]), [['colour', 'warning']])
    })
  })

  it('engineJson resolves public_key_file relative to the file', () => {
    const j = JSON.parse(engineJson({version: 1, keys: [{id: 'a', public_key_file: 'keys/a.pub'}], junk: 1}, '/etc/hessra/config.json'))
    assert.equal(j.keys[0].public_key_file, '/etc/hessra/keys/a.pub')
    assert.equal(j.junk, undefined)
  })

  it('get/set paths', () => {
    assert.equal(getPath(good, 'keys[0].root_key_id'), 7)
    assert.equal(getPath(good, 'limits.max_facts'), undefined)
    const c2 = setPath(good, 'limits.max_facts', 50)
    assert.deepEqual((c2 as Record<string, unknown>).limits, {max_facts: 50})
    assert.equal((good as Record<string, unknown>).limits, undefined, 'setPath does not mutate')
    assert.equal(setPath(good, 'default_key', undefined).default_key, undefined)
    assert.equal(parseValue('30'), 30)
    assert.equal(parseValue('null'), null)
    assert.equal(parseValue('prod'), 'prod')
    assert.throws(() => getPath(good, 'a..b'), ConfigError)
  })

  it('writes JSON and package.json, refuses YAML', () => {
    const dir = tempDir()
    const f = join(dir, 'c.json')
    writeConfig(f, good)
    assert.deepEqual(JSON.parse(readFileSync(f, 'utf8')), good)
    const pkg = join(dir, 'package.json')
    writeFileSync(pkg, JSON.stringify({name: 'app', version: '1.0.0'}))
    writeConfig(pkg, good)
    assert.deepEqual(JSON.parse(readFileSync(pkg, 'utf8')), {name: 'app', version: '1.0.0', hessra: good})
    assert.throws(() => writeConfig(join(dir, '.hessrarc.yaml'), good), ConfigError)
  })

  it('the engine selects a key by root key id, then default, then the first one', () => {
    const choose = (c: object, rootKeyId: number | null) => {
      const cfg = Config.fromString(JSON.stringify(c))
      try {
        const r = cfg.selectKey(rootKeyId, null)
        r.key.dispose()
        return r.id
      } finally {
        cfg.dispose()
      }
    }
    const c = {version: 1, default_key: 'b', keys: [{id: 'a', public_key: KEY, root_key_id: 1}, {id: 'b', public_key: KEY}]}
    assert.equal(choose(c, 1), 'a')
    assert.equal(choose(c, 9), 'b')
    assert.equal(choose(c, null), 'b')
    assert.equal(choose({version: 1, keys: [{id: 'a', public_key: KEY}]}, null), 'a')
    assert.throws(() => choose({version: 1, keys: []}, null), ConfigError)
  })
})
