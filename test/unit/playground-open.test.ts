/**
 * Opening the playground (src/playground/open.ts): xdg-open only when installed, and never given the
 * secret URL on its command line (readable by every local user) but a private redirect file.
 */
import {strict as assert} from 'node:assert'
import {chmodSync, existsSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {findOnPath, openInBrowser, writeLauncher} from '../../src/playground/open.js'
import {tempDir} from '../helpers.js'

const URL_WITH_SECRET = 'http://127.0.0.1:4321/s3cr3t-0123456789abcdefghijklmnopqr/'

describe('playground: opening the browser', () => {
  it('without xdg-open on PATH: nothing is opened and nothing fails', () => {
    const empty = tempDir()
    assert.equal(findOnPath('xdg-open', {PATH: empty}), null)
    const r = openInBrowser(URL_WITH_SECRET, {PATH: empty})
    assert.equal(r.opened, false)
    r.cleanup()
  })

  it('the launcher is a redirect only its owner can read, removed by cleanup', () => {
    const launcher = writeLauncher(URL_WITH_SECRET)
    assert.equal(statSync(launcher.file).mode & 0o777, 0o600)
    assert.equal(statSync(dirname(launcher.file)).mode & 0o777, 0o700)
    assert.match(readFileSync(launcher.file, 'utf8'), new RegExp(`<meta http-equiv="refresh" content="0;url=${URL_WITH_SECRET.replaceAll('.', '\\.')}">`))
    launcher.remove()
    assert.equal(existsSync(launcher.file), false)
  })

  it('xdg-open gets the launcher file, not the URL', async () => {
    const bin = tempDir()
    const record = join(bin, 'argv.txt')
    writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${record}.tmp' && mv '${record}.tmp' '${record}'\n`)
    chmodSync(join(bin, 'xdg-open'), 0o755)
    const r = openInBrowser(URL_WITH_SECRET, {PATH: `${bin}:/usr/bin:/bin`})
    assert.equal(r.opened, true)
    for (let i = 0; i < 200 && !existsSync(record); i++) await new Promise((resolve) => setTimeout(resolve, 25))
    const argv = readFileSync(record, 'utf8').trim()
    assert.ok(!argv.includes('s3cr3t'), `the secret is on the command line: ${argv}`)
    assert.match(readFileSync(argv, 'utf8'), /s3cr3t/)
    r.cleanup()
    assert.equal(existsSync(argv), false)
  })
})
