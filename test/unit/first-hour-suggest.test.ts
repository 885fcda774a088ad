/** Issue 26, item 1: "did you mean" for biscuit-cli's verbs and for mistyped flags (unit level). */
import {strict as assert} from 'node:assert'

import {suggestCommands, suggestFlag} from '../../src/suggest.js'

describe('did you mean: verbs of other tools and mistyped flags', () => {
  const cmds = ['identity mint', 'keys generate', 'pg policy generate', 'token attenuate', 'token mint', 'token seal', 'verify']
  const topics = ['keys', 'config', 'token', 'identity', 'pg', 'pg policy']
  it("a bare verb suggests the commands ending in it, the project's topic order first", () => {
    assert.deepEqual(suggestCommands(['attenuate'], cmds, topics), ['token attenuate'])
    assert.deepEqual(suggestCommands(['mint', 'x'], cmds, topics), ['token mint', 'identity mint'])
    assert.deepEqual(suggestCommands(['generate'], cmds, topics), ['keys generate', 'pg policy generate'])
    assert.deepEqual(suggestCommands(['atenuate'], cmds, topics), ['token attenuate'])
  })
  it('a typo of a full command still wins, and nothing close suggests nothing', () => {
    assert.deepEqual(suggestCommands(['verfy'], cmds, topics), ['verify'])
    assert.deepEqual(suggestCommands(['frobnicate'], cmds, topics), [])
  })
  it('a mistyped long flag suggests the closest flag of the command, never echoing a value', () => {
    const flags = ['subject', 'resource', 'operation', 'key', 'key-id', 'json']
    assert.equal(suggestFlag('--subjet', flags), '--subject')
    assert.equal(suggestFlag('--resorce=documents', flags), '--resource')
    assert.equal(suggestFlag('--keyid', flags), '--key-id')
    assert.equal(suggestFlag('--zzzzzz', flags), undefined)
    assert.equal(suggestFlag('-x', flags), undefined)
  })
})
