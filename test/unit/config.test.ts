import {strict as assert} from 'node:assert'
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {Config} from '../../src/native/binding.js'
import {checkConfigShape, defaultConfig, engineJson, getPath, loadConfig, parseValue, searchMayFind, setPath, userConfigPath, writeConfig} from '../../src/config/index.js'
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
    it('searches cwd and parents, in cosmiconfig order, before the user file', async () => {
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

    it('cosmiconfig is skipped only when it cannot find anything or fail', async () => {
      const dir = tempDir()
      const sub = join(dir, 'a', 'b')
      mkdirSync(sub, {recursive: true})
      const env = {HOME: dir}
      const saved = {HOME: process.env.HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME}
      process.env.HOME = dir // cosmiconfig's global directory is under process.env's HOME
      delete process.env.XDG_CONFIG_HOME
      try {
        assert.equal(searchMayFind(sub), false)
        writeFileSync(join(dir, 'a', 'package.json'), JSON.stringify({name: 'x'}))
        assert.equal(searchMayFind(sub), false, 'a package.json without "hessra" cannot be found')
        writeFileSync(join(dir, 'a', 'package.json'), '{"name": ')
        assert.equal(searchMayFind(sub), true, 'a broken package.json makes cosmiconfig fail: it must run')
        await assert.rejects(loadConfig({cwd: sub, env}), /cannot read configuration/)
        writeFileSync(join(dir, 'a', 'package.json'), JSON.stringify({name: 'x', hessra: good}))
        assert.equal(searchMayFind(sub), true)
        assert.equal((await loadConfig({cwd: sub, env})).source, 'search')
        writeFileSync(join(dir, 'a', 'package.json'), JSON.stringify({name: 'x'}))
        writeFileSync(join(sub, '.hessrarc'), 'version: 1\n')
        assert.equal(searchMayFind(sub), true)
        assert.equal((await loadConfig({cwd: sub, env})).format, 'yaml')
        writeFileSync(join(sub, '.hessrarc'), '')
        assert.equal((await loadConfig({cwd: sub, env})).source, 'none', 'cosmiconfig ignores an empty file')
        rmSync(join(sub, '.hessrarc'))
        // the user file (cosmiconfig's global directory): a JSON file there is read by loadConfig itself
        mkdirSync(join(dir, '.config', 'hessra'), {recursive: true})
        writeFileSync(userConfigPath(env), JSON.stringify(good))
        assert.equal(searchMayFind(sub), false)
        assert.equal((await loadConfig({cwd: sub, env})).source, 'user')
        writeFileSync(userConfigPath(env), '{"version": 1,,}')
        // (cosmiconfig reports a broken file there itself; which HOME it uses is fixed when it is first loaded)
        assert.equal(searchMayFind(sub), true, 'a broken user file is left to cosmiconfig')
        writeFileSync(userConfigPath(env), JSON.stringify(good))
        writeFileSync(join(dir, '.config', 'hessra', 'config.yaml'), 'version: 1\n')
        assert.equal(searchMayFind(sub), true)
      } finally {
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k]
          else process.env[k] = v
        }
      }
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
