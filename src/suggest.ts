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
