/**
 * Shell completion scripts, generated from the command definitions (so they never go stale). Offline
 * and dependency-free: @oclif/plugin-autocomplete writes cache files and edits rc files instead.
 * zsh uses the bash function through bashcompinit; fish gets its own `complete` rules.
 */

export interface CompletionFlag {
  /** The long name, without dashes: `out`. */
  name: string
  /** The one-letter form, when there is one: `o`. */
  char?: string
  /** Whether the flag takes a value (not a boolean switch). */
  takesValue: boolean
  /** The values it accepts, when they are a fixed list (`keys generate --algorithm`). */
  options?: readonly string[]
}

export interface CompletionCommand {
  /** The command id in word form: `keys generate`. */
  name: string
  flags: readonly CompletionFlag[]
}

export const SHELLS = ['bash', 'zsh', 'fish'] as const
export type Shell = (typeof SHELLS)[number]

/** Every node of the command tree ('' is the root, then `keys`, `keys:generate`, …) and the words that may follow it. */
function commandTree(commands: readonly CompletionCommand[]): Map<string, Set<string>> {
  const children = new Map<string, Set<string>>([['', new Set()]])
  for (const c of commands) {
    const words = c.name.split(' ')
    for (let i = 0; i < words.length; i++) {
      const parent = words.slice(0, i).join(':')
      const node = words.slice(0, i + 1).join(':')
      if (!children.has(parent)) children.set(parent, new Set())
      children.get(parent)!.add(words[i])
      if (!children.has(node)) children.set(node, new Set())
    }
  }
  return children
}

const spellings = (f: CompletionFlag) => [`--${f.name}`, ...(f.char ? [`-${f.char}`] : [])]

/**
 * The script for `shell`; `bin` is the executable name. Completes commands, topics, flags and the
 * values of flags that take one of a fixed list; files elsewhere.
 */
export function completionScript(shell: Shell, bin: string, commands: readonly CompletionCommand[]): string {
  return shell === 'fish' ? fishScript(bin, commands) : bashScript(shell, bin, commands)
}

function bashScript(shell: 'bash' | 'zsh', bin: string, commands: readonly CompletionCommand[]): string {
  const fn = `_${bin.replaceAll(/[^A-Za-z0-9_]/g, '_')}_complete`
  const children = commandTree(commands)
  const byNode = new Map(commands.map((c) => [c.name.replaceAll(' ', ':'), c.flags]))
  const cases = [...children.entries()].map(([node, next]) => {
    const flags = byNode.get(node)
    if (!flags) return `    "${node}") words="${[...next].join(' ')}" ;;`
    // After a flag with a fixed list of values: those values; after `-`: the flags; else files (`complete -o default`).
    const values = flags
      .filter((f) => f.options && f.options.length > 0)
      .map((f) => `${spellings(f).join('|')}) words="${f.options!.join(' ')}" ;;`)
    const all = [...flags.flatMap(spellings), '--help'].join(' ')
    return `    "${node}") case "$prev" in ${[...values, `*) [[ $cur == -* ]] && words="${all}" ;;`].join(' ')} esac ;;`
  })
  const lines = [
    `# ${bin} completion for ${shell}. Load it with:  source <(${bin} completion ${shell})`,
    ...(shell === 'zsh' ? ['autoload -U +X bashcompinit && bashcompinit'] : []),
    `${fn}() {`,
    '  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} path="" next words="" i',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    [[ ${COMP_WORDS[i]} == -* ]] && continue',
    '    next=${path:+$path:}${COMP_WORDS[i]}',
    `    case " ${[...children.keys()].filter((k) => k !== '').join(' ')} " in *" $next "*) path=$next ;; esac`,
    '  done',
    '  case "$path" in',
    ...cases,
    '  esac',
    '  COMPREPLY=($(compgen -W "$words" -- "$cur"))',
    '}',
    `complete -o default -F ${fn} ${bin}`,
    '',
  ]
  return lines.join('\n')
}

/** fish: one `complete` rule per command word, flag and value list, each under the command path typed so far. */
function fishScript(bin: string, commands: readonly CompletionCommand[]): string {
  const fn = `__${bin.replaceAll(/[^A-Za-z0-9_]/g, '_')}_path`
  const children = commandTree(commands)
  const nodes = [...children.keys()].filter((k) => k !== '')
  const q = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`
  const when = (node: string) => `-n ${q(`test (${fn}) = ${q(node)}`)}`
  const lines = [
    `# ${bin} completion for fish. Load it with:  ${bin} completion fish | source`,
    `# (or keep it: ${bin} completion fish > ~/.config/fish/completions/${bin}.fish)`,
    `function ${fn} --description 'the ${bin} command typed so far, as topic:command'`,
    '    set -l path ""',
    '    set -l words (commandline -opc)',
    '    set -e words[1]',
    '    for w in $words',
    "        string match -q -- '-*' $w; and continue",
    '        set -l next $w',
    '        test -n "$path"; and set next "$path:$w"',
    `        contains -- $next ${nodes.map(q).join(' ')}; and set path $next`,
    '    end',
    '    echo $path',
    'end',
  ]
  for (const [node, next] of children) {
    if (next.size > 0) lines.push(`complete -c ${bin} ${when(node)} -f -a ${q([...next].join(' '))}`)
  }
  for (const c of commands) {
    const node = c.name.replaceAll(' ', ':')
    for (const f of [...c.flags, {name: 'help', char: 'h', takesValue: false}]) {
      const short = f.char ? ` -s ${f.char}` : ''
      const value = 'options' in f && f.options && f.options.length > 0 ? ` -x -a ${q(f.options.join(' '))}` : f.takesValue ? ' -r' : ''
      lines.push(`complete -c ${bin} ${when(node)} -l ${f.name}${short}${value}`)
    }
  }
  lines.push('')
  return lines.join('\n')
}
