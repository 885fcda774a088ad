/** Issue 26 item 6: completion for fish as well as bash and zsh, and of flag values (a real bash and a real fish). */
import {strict as assert} from 'node:assert'
import {spawnSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {completionScript, type CompletionCommand} from '../../src/cli/completion.js'
import {cli, tempDir} from '../helpers.js'

const COMMANDS: CompletionCommand[] = [
  {name: 'verify', flags: [{name: 'key', char: 'k', takesValue: true}, {name: 'json', takesValue: false}]},
  {name: 'keys generate', flags: [{name: 'algorithm', char: 'a', takesValue: true, options: ['ed25519', 'secp256r1']}, {name: 'out', char: 'o', takesValue: true}]},
  {name: 'keys list', flags: []},
  {name: 'pg policy apply', flags: []},
]

describe('shell completion: fish and flag values', () => {
  it('bash completes the values of a flag with a fixed list (keys generate -a <TAB>)', () => {
    const script = completionScript('bash', 'hessra', COMMANDS)
    const complete = (...words: string[]) => {
      const line = ['hessra', ...words].map((w) => `'${w}'`).join(' ')
      const r = spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=(${line}); COMP_CWORD=${words.length}; _hessra_complete; printf '%s\\n' "\${COMPREPLY[@]}"`], {encoding: 'utf8'})
      assert.equal(r.status, 0, r.stderr)
      return r.stdout.split('\n').filter(Boolean).sort()
    }
    assert.deepEqual(complete('keys', 'generate', '-a', ''), ['ed25519', 'secp256r1'])
    assert.deepEqual(complete('keys', 'generate', '--algorithm', 'sec'), ['secp256r1'])
    assert.deepEqual(complete('keys', 'generate', '--out', ''), [], 'a file: left to the shell')
    assert.deepEqual(complete('keys', 'generate', '-a', 'ed25519', '--o'), ['--out'])
  })

  describe('fish', () => {
    const fish = spawnSync('fish', ['--version'], {encoding: 'utf8'})
    const dir = tempDir()
    const file = join(dir, 'hessra.fish')
    const complete = (line: string): string[] => {
      const r = spawnSync('fish', ['--no-config', '-c', `source ${file}; complete -C ${JSON.stringify(line)}`], {encoding: 'utf8'})
      assert.equal(r.status, 0, r.stderr)
      return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]).sort()
    }
    before(() => {
      assert.equal(fish.status, 0, 'fish is needed (scripts/install-deps.sh installs it)')
      writeFileSync(file, completionScript('fish', 'hessra', COMMANDS))
    })
    it('completes commands and topics, level by level', () => {
      assert.deepEqual(complete('hessra '), ['keys', 'pg', 'verify'])
      assert.deepEqual(complete('hessra keys '), ['generate', 'list'])
      assert.deepEqual(complete('hessra pg policy '), ['apply'])
    })
    it('completes flags and flag values', () => {
      assert.deepEqual(complete('hessra verify --'), ['--help', '--json', '--key'])
      assert.deepEqual(complete('hessra keys generate -a '), ['ed25519', 'secp256r1'])
      assert.deepEqual(complete('hessra keys generate --algorithm s'), ['secp256r1'])
    })
    it('hessra completion fish loads in fish and knows the real commands', () => {
      const r = cli(['completion', 'fish'])
      assert.equal(r.status, 0, r.stderr)
      writeFileSync(file, r.stdout)
      assert.deepEqual(complete('hessra keys generate --algorithm '), ['ed25519', 'secp256r1'])
      assert.ok(complete('hessra token ').includes('attenuate'))
    })
  })
})
