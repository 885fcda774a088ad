/** "Did you mean …?" for mistyped command names and configuration fields. */

/** Edit distance (insert, delete, substitute, swap two neighbours: `verfy`/`verify`, `genrate`/`generate`). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({length: a.length + 1}, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  }
  return d[a.length][b.length]
}

/**
 * The candidate closest to `typed`, when close enough to be a typo (at most a third of its length
 * wrong, at least one edit allowed), else undefined. Ties go to the first candidate.
 */
export function closest(typed: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const c of candidates) {
    const dist = editDistance(typed.toLowerCase(), c.toLowerCase())
    if (dist < bestDistance) {
      best = c
      bestDistance = dist
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined
}

/**
 * The command meant by a mistyped one. `typed` is what was typed in word form (`['keys', 'genrate',
 * 'x']`: the words may run into the arguments), `commands` the command ids in word form
 * (`keys generate`). Compares each command with as many typed words as it has.
 */
export function suggestCommand(typed: readonly string[], commands: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const cmd of commands) {
    const words = cmd.split(' ').length
    if (typed.length < words) continue
    const attempt = typed.slice(0, words).join(' ')
    if (closest(attempt, [cmd]) === undefined) continue
    const dist = editDistance(attempt, cmd)
    if (dist < bestDistance) {
      best = cmd
      bestDistance = dist
    }
  }
  return best
}

/**
 * Every command meant by a mistyped one, best first: the typo of a full command (`verfy`) when there is
 * one, else the commands whose last word is the typed word or close to it, so that another tool's verb
 * (biscuit-cli's `attenuate`, `generate`, `seal`; `mint`) finds `token attenuate`, `keys generate`, ….
 * Ties go to the topic listed first in `topics` (the project's own order: keys and token before
 * identity and pg).
 */
export function suggestCommands(typed: readonly string[], commands: readonly string[], topics: readonly string[]): string[] {
  const typo = suggestCommand(typed, commands)
  if (typo) return [typo]
  const word = typed[0]?.toLowerCase()
  if (!word) return []
  const rank = (cmd: string) => {
    const topic = cmd.split(' ').slice(0, -1).join(' ')
    const i = topics.indexOf(topic)
    return i === -1 ? topics.length : i
  }
  return commands
    .map((cmd) => ({cmd, verb: cmd.split(' ').at(-1)!}))
    .filter(({cmd, verb}) => cmd.includes(' ') && closest(word, [verb]) !== undefined)
    .map(({cmd, verb}) => ({cmd, dist: editDistance(word, verb), rank: rank(cmd)}))
    .sort((a, b) => a.dist - b.dist || a.rank - b.rank)
    .map((s) => s.cmd)
}

/**
 * The flag meant by a mistyped long flag (`--subjet` → `--subject`), among `flags` (names without
 * dashes); undefined for a short flag or nothing close. A value given with `=` is ignored (and so never
 * echoed).
 */
export function suggestFlag(typed: string, flags: readonly string[]): string | undefined {
  if (!typed.startsWith('--')) return undefined
  const name = typed.slice(2).split('=')[0]
  const best = closest(name, flags)
  return best === undefined ? undefined : `--${best}`
}
