/** Issue 26 item 8: the README's release commands name no version other than the one `npm run package` builds. */
import {strict as assert} from 'node:assert'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {ROOT} from '../helpers.js'

describe('README: release file names', () => {
  it('every .deb it names carries the extension version (hessra.control) or a placeholder', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    const control = readFileSync(join(ROOT, 'pg-plugin', 'hessra.control'), 'utf8')
    const version = /default_version = '([^']+)'/.exec(control)?.[1]
    assert.ok(version)
    const named = [...readme.matchAll(/hessra_(\d+\.\d+\.\d+)_\w+\.deb/g)].map((m) => m[1])
    assert.deepEqual(named.filter((v) => v !== version), [], `README names .deb versions other than ${version}`)
  })
  it('tells a fresh clone how the package step gets its build tools', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    assert.match(readme, /`npm run package`[^.]*`npm ci`/)
  })
})
