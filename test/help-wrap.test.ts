/**
 * Issue 26 item 2: help text is written unwrapped (one line per paragraph) and wrapped once, by the help
 * renderer, to the width: at 80 columns and when piped (no terminal: 80 too) no paragraph has a line
 * broken early (a ragged line whose next word would have fit), which is what text wrapped by hand and
 * then again by the renderer looks like. And verify's USAGE does not read as if its flags excluded each other.
 */
import {strict as assert} from 'node:assert'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {cli, ROOT} from './helpers.js'

/** Lines broken before the width: `line` and the next one of the same paragraph (same indent) whose first word would have fit. */
export function raggedLines(help: string, width: number): string[] {
  const out: string[] = []
  let section = ''
  const lines = help.split('\n')
  for (let i = 0; i + 1 < lines.length; i++) {
    const [line, next] = [lines[i], lines[i + 1]]
    if (/^[A-Z][A-Z ]+$/.test(line)) section = line
    if (section === 'USAGE' || section === 'EXAMPLES' || line.trim() === '' || next.trim() === '') continue
    const indent = (s: string) => s.length - s.trimStart().length
    // a flag, oclif's `<options: ...>` line, or a table row (term, two spaces, text): not a paragraph's next line
    if (indent(line) !== indent(next) || /^\s*(-|<options:)/.test(next) || /^\s*\S.*? {2,}\S/.test(next)) continue
    const word = next.trim().split(' ')[0]
    if (line.length + 1 + word.length <= width) out.push(`${line}⏎${next}`)
  }
  return out
}

describe('help wraps once, to the width (issue 26 item 2)', function () {
  this.timeout(300_000)
  const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {hidden?: boolean}>}
  const ids = Object.entries(manifest.commands)
    .filter(([, c]) => !c.hidden)
    .map(([id]) => id.split(':'))

  for (const [label, env] of [
    ['at 80 columns', {COLUMNS: '80'}],
    ['piped (no COLUMNS)', {COLUMNS: undefined}],
  ] as const) {
    it(`every command's help, ${label}: no line longer than 80, no paragraph broken early`, () => {
      const problems: string[] = []
      for (const words of [[], ...ids]) {
        const r = cli([...words, '--help'], {env})
        assert.equal(r.status, 0, `${words.join(' ')}: ${r.stderr}`)
        for (const l of r.stdout.split('\n')) if (l.length > 80) problems.push(`${words.join(' ')}: longer than 80: ${l}`)
        for (const l of raggedLines(r.stdout, 80)) problems.push(`${words.join(' ')}: ${l}`)
      }
      assert.deepEqual(problems, [])
    })
  }

  it("verify's USAGE shows the two kinds of verification, not one group of exclusive flags", () => {
    const usage = /USAGE\n([\s\S]*?)\n\n/.exec(cli(['verify', '--help'], {env: {COLUMNS: '200'}}).stdout)?.[1] ?? ''
    assert.doesNotMatch(usage, /-s SUBJECT \| -r RESOURCE/)
    assert.match(usage, /\$ hessra verify \[TOKEN\] \[-s SUBJECT\] -r RESOURCE/)
    assert.match(usage, /\$ hessra verify \[TOKEN\] \[--identity ID\]/)
  })
})
