/**
 * Shell completion scripts, generated from the command definitions (so they never go stale). Offline
 * and dependency-free: @oclif/plugin-autocomplete writes cache files and edits rc files instead.
 * zsh uses the bash function through bashcompinit.
 */

export interface CompletionCommand {
  /** The command id in word form: `keys generate`. */
  name: string
  /** Its flags, `--out`, `-o`, ... */
  flags: string[]
}

export const SHELLS = ['bash', 'zsh'] as const
export type Shell = (typeof SHELLS)[number]

/** The script for `shell`; `bin` is the executable name. Completes commands, topics and flags; files elsewhere. */
export function completionScript(shell: Shell, bin: string, commands: readonly CompletionCommand[]): string {
  const fn = `_${bin.replaceAll(/[^A-Za-z0-9_]/g, '_')}_complete`
  // Every node of the command tree ('' is the root) and what may follow it.
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
  const flagsOf = new Map(commands.map((c) => [c.name.replaceAll(' ', ':'), c.flags]))
  const cases = [...children.entries()].map(([node, next]) => {
    const flags = flagsOf.get(node)
    // A command completes its flags (after `-`), otherwise files (`complete -o default`).
    const body = flags ? `[[ $cur == -* ]] && words="${[...flags, '--help'].join(' ')}"` : `words="${[...next].join(' ')}"`
    return `    "${node}") ${body} ;;`
  })
  const lines = [
    `# ${bin} completion for ${shell}. Load it with:  source <(${bin} completion ${shell})`,
    ...(shell === 'zsh' ? ['autoload -U +X bashcompinit && bashcompinit'] : []),
    `${fn}() {`,
    '  local cur=${COMP_WORDS[COMP_CWORD]} path="" next words="" i',
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
