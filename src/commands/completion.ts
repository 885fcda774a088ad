import {Args} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {completionScript, SHELLS, type Shell} from '../cli/completion.js'

export default class Completion extends BaseCommand<typeof Completion> {
  static override summary = 'Print a shell completion script (bash, zsh or fish)'
  static override description = 'Completes commands, topics, flags and the values of flags that take one of a list (`keys generate --algorithm`); file names elsewhere. Add the `source` line to ~/.bashrc or ~/.zshrc to keep it; for fish, write the script to ~/.config/fish/completions/hessra.fish.'
  static override aliases = ['autocomplete']

  static override examples = [
    {description: 'bash, for this shell', command: 'source <(<%= config.bin %> <%= command.id %> bash)'},
    {description: 'zsh, for this shell', command: 'source <(<%= config.bin %> <%= command.id %> zsh)'},
    {description: 'fish, for good', command: 'mkdir -p ~/.config/fish/completions && <%= config.bin %> <%= command.id %> fish > ~/.config/fish/completions/<%= config.bin %>.fish'},
  ]

  static override args = {shell: Args.string({description: 'the shell', options: [...SHELLS], default: 'bash', ignoreStdin: true})}

  async run(): Promise<void> {
    const commands = this.config.commands
      .filter((c) => !c.hidden)
      .map((c) => ({
        name: c.id.replaceAll(':', ' '),
        flags: Object.entries(c.flags).map(([name, f]) => ({
          name,
          char: f.char,
          takesValue: f.type === 'option',
          options: f.type === 'option' ? f.options : undefined,
        })),
      }))
    process.stdout.write(completionScript(this.args.shell as Shell, this.config.bin, commands))
  }
}
