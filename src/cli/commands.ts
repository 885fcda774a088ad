/** What the CLI knows about its own commands: names in the form users type, and unknown-command errors. */
import {type Config} from '@oclif/core'

import {UsageError} from '../errors.js'
import {suggestCommands, suggestFlag} from '../suggest.js'

/** Visible command ids in the form users type (`keys generate`). */
export function commandNames(config: Pick<Config, 'commands'>): string[] {
  return config.commands.filter((c) => !c.hidden).map((c) => c.id.replaceAll(':', ' '))
}

/** The error for `hessra WORDS...` naming no command: with the closest command when one is close. */
export function commandNotFound(words: readonly string[], config: Pick<Config, 'bin' | 'commands' | 'findTopic' | 'pjson'>): UsageError {
  // oclif hands over the command words run together with the arguments (`verfy:$TOKEN`): name only
  // the topics and the one word after them, so an argument (a token) is never echoed.
  let topics = 0
  while (topics < words.length - 1 && config.findTopic(words.slice(0, topics + 1).join(':'))) topics++
  const typed = words.slice(0, topics + 1).join(' ')
  const message = `\`${typed}\` is not a ${config.bin} command`
  const topicOrder = Object.keys(config.pjson.oclif.topics ?? {}).map((t) => t.replaceAll(':', ' '))
  const suggestions = suggestCommands(words, commandNames(config), topicOrder).slice(0, 3)
  if (suggestions.length > 0) {
    return new UsageError(message, {hint: `did you mean ${suggestions.map((s) => `\`${config.bin} ${s}\``).join(' or ')}?`})
  }
  const topic = topics > 0 ? `${words.slice(0, topics).join(' ')} ` : ''
  return new UsageError(message, {hint: `see \`${config.bin} ${topic}--help\` for the commands`})
}

/** oclif's "Nonexistent flag" error names the flags typed (`--subjet`, `--resorce=x`). */
interface NonExistentFlags {
  constructor: {name: string}
  flags?: string[]
}

/**
 * The hint for a parse error: "did you mean `--subject`?" when it is an unknown long flag close to one of
 * `flags` (the command's flag names), else undefined.
 */
export function unknownFlagHint(err: unknown, flags: readonly string[]): string | undefined {
  const e = err as Partial<NonExistentFlags> | null
  if (e?.constructor?.name !== 'NonExistentFlagsError' || !Array.isArray(e.flags)) return undefined
  const meant = e.flags.map((f) => suggestFlag(f, flags)).filter((f) => f !== undefined)
  return meant.length === 0 ? undefined : `did you mean ${meant.map((f) => `\`${f}\``).join(', ')}?`
}
