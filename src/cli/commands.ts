/** What the CLI knows about its own commands: names in the form users type, and unknown-command errors. */
import {type Config} from '@oclif/core'

import {UsageError} from '../errors.js'
import {suggestCommand} from '../suggest.js'

/** Visible command ids in the form users type (`keys generate`). */
export function commandNames(config: Pick<Config, 'commands'>): string[] {
  return config.commands.filter((c) => !c.hidden).map((c) => c.id.replaceAll(':', ' '))
}

/** The error for `hessra WORDS...` naming no command: with the closest command when one is close. */
export function commandNotFound(words: readonly string[], config: Pick<Config, 'bin' | 'commands' | 'findTopic'>): UsageError {
  // oclif hands over the command words run together with the arguments (`verfy:$TOKEN`): name only
  // the topics and the one word after them, so an argument (a token) is never echoed.
  let topics = 0
  while (topics < words.length - 1 && config.findTopic(words.slice(0, topics + 1).join(':'))) topics++
  const typed = words.slice(0, topics + 1).join(' ')
  const message = `\`${typed}\` is not a ${config.bin} command`
  const suggestion = suggestCommand(words, commandNames(config))
  if (suggestion) return new UsageError(message, {hint: `did you mean \`${config.bin} ${suggestion}\`?`})
  const topic = topics > 0 ? `${words.slice(0, topics).join(' ')} ` : ''
  return new UsageError(message, {hint: `see \`${config.bin} ${topic}--help\` for the commands`})
}
