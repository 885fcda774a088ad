import {BaseCommand} from '../base-command.js'
import {isAvailable, version as engineVersion} from '../native/binding.js'
import {printJson, stdout} from '../output.js'

export default class Version extends BaseCommand<typeof Version> {
  static override summary = 'Show the versions of hessra, its engine and Node.js (also: --version)'

  static override examples = [
    {description: 'For a bug report', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'For scripts', command: '<%= config.bin %> --version --json'},
  ]

  async run(): Promise<void> {
    const {name, version, platform, arch} = this.config
    const engine = isAvailable() ? engineVersion() : null
    if (this.flags.json) {
      printJson({name, version, engine, node: process.version, platform, arch})
      return
    }
    stdout(`${this.config.userAgent}${engine === null ? ' (engine library not loadable)' : ` engine-${engine}`}`)
  }
}
