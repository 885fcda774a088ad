import {Args} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {completionScript, SHELLS, type Shell} from '../cli/completion.js'

export default class Completion extends BaseCommand<typeof Completion> {
  static override summary = 'Print a shell completion script (bash or zsh)'
  static override description = 'Completes commands, topics and flags; file names elsewhere. Add the `source` line to ~/.bashrc or ~/.zshrc to keep it.'
  static override aliases = ['autocomplete']

  static override examples = [
    {description: 'bash, for this shell', command: 'source <(<%= config.bin %> <%= command.id %> bash)'},
    {description: 'zsh, for this shell', command: 'source <(<%= config.bin %> <%= command.id %> zsh)'},
  ]

  static override args = {shell: Args.string({description: 'the shell', options: [...SHELLS], default: 'bash', ignoreStdin: true})}

  async run(): Promise<void> {
    const commands = this.config.commands
      .filter((c) => !c.hidden)
      .map((c) => ({
        name: c.id.replaceAll(':', ' '),
        flags: Object.entries(c.flags).flatMap(([name, f]) => [`--${name}`, ...(f.char ? [`-${f.char}`] : [])]),
      }))
    process.stdout.write(completionScript(this.args.shell as Shell, this.config.bin, commands))
  }
}
