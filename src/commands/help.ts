import {Args, loadHelpClass} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {commandNotFound} from '../cli/commands.js'

export default class HelpCommand extends BaseCommand<typeof HelpCommand> {
  static override summary = 'Show help for hessra or one of its commands (the same as --help or -h)'

  static override examples = [
    {description: 'Help for verify', command: '<%= config.bin %> <%= command.id %> verify'},
    {description: 'The commands of a topic', command: '<%= config.bin %> <%= command.id %> keys'},
  ]

  static override strict = false
  static override args = {command: Args.string({description: 'the command or topic, e.g. verify, keys generate', required: false, ignoreStdin: true})}

  async run(): Promise<void> {
    const words = this.argv.filter((a) => !a.startsWith('-'))
    const id = words.join(':')
    if (words.length > 0 && !this.config.findCommand(id) && !this.config.findTopic(id)) throw commandNotFound(words, this.config)
    const Help = await loadHelpClass(this.config)
    await new Help(this.config, this.config.pjson.oclif.helpOptions).showHelp(words)
  }
}
