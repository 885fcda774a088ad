import {strict as assert} from 'node:assert'
import {spawnSync} from 'node:child_process'

import {completionScript} from '../../src/cli/completion.js'
import {closest, editDistance, suggestCommand} from '../../src/suggest.js'

describe('did you mean', () => {
  it('edit distance counts a swap of neighbours as one edit', () => {
    assert.equal(editDistance('verfy', 'verify'), 1)
    assert.equal(editDistance('verfiy', 'verify'), 1)
    assert.equal(editDistance('genrate', 'generate'), 1)
    assert.equal(editDistance('', 'abc'), 3)
  })
  it('suggests close names only', () => {
    assert.equal(closest('leeway_secs', ['leeway_seconds', 'limits', 'domain']), 'leeway_seconds')
    assert.equal(closest('xyz', ['verify', 'inspect']), undefined)
    assert.equal(closest('defualt_key', ['default_key', 'domain']), 'default_key')
  })
  it('suggests commands in word form, the typed words possibly running into the arguments', () => {
    const cmds = ['verify', 'inspect', 'keys generate', 'keys list', 'pg policy apply', 'pg policy generate']
    assert.equal(suggestCommand(['verfy'], cmds), 'verify')
    assert.equal(suggestCommand(['verfy', 'TOKEN'], cmds), 'verify')
    assert.equal(suggestCommand(['keys', 'genrate'], cmds), 'keys generate')
    assert.equal(suggestCommand(['pg', 'policy', 'aply'], cmds), 'pg policy apply')
    assert.equal(suggestCommand(['frobnicate'], cmds), undefined)
  })
})

describe('shell completion script', () => {
  const script = completionScript('bash', 'hessra', [
    {name: 'verify', flags: [{name: 'key', char: 'k', takesValue: true}, {name: 'resource', takesValue: true}]},
    {name: 'keys generate', flags: [{name: 'out', takesValue: true}]},
    {name: 'keys list', flags: []},
  ])
  /** Runs the bash completion function for the words typed so far (the last one being completed). */
  const complete = (...words: string[]): string[] => {
    const line = ['hessra', ...words].map((w) => `'${w}'`).join(' ')
    const r = spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=(${line}); COMP_CWORD=${words.length}; _hessra_complete; printf '%s\\n' "\${COMPREPLY[@]}"`], {encoding: 'utf8'})
    assert.equal(r.status, 0, r.stderr)
    return r.stdout.split('\n').filter(Boolean).sort()
  }
  it('completes commands, topics and flags', () => {
    assert.deepEqual(complete(''), ['keys', 'verify'])
    assert.deepEqual(complete('k'), ['keys'])
    assert.deepEqual(complete('keys', ''), ['generate', 'list'])
    assert.deepEqual(complete('keys', 'generate', '--'), ['--help', '--out'])
    assert.deepEqual(complete('verify', 'TOKEN', '--k'), ['--key'])
  })
  it('leaves file names to the shell after a command (complete -o default)', () => {
    assert.deepEqual(complete('verify', ''), [])
    assert.match(script, /complete -o default -F _hessra_complete hessra/)
  })
  it('zsh loads the same function through bashcompinit', () => {
    assert.match(completionScript('zsh', 'hessra', []), /bashcompinit/)
  })
})
