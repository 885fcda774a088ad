import {Args} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {loadConfig} from '../../config/index.js'
import {validateConfig} from '../../config/validate.js'
import {ConfigError, ExitCode} from '../../errors.js'
import {c, ce, printJson, stderr, stdout} from '../../output.js'

export default class ConfigValidate extends BaseCommand<typeof ConfigValidate> {
  static override summary = 'Check a configuration file; errors point at the offending field'
  static override description = 'Checks the structure (field by field), then lets the engine parse it (keys, limits, service chains). Exit status 0 when valid, 4 when not.'

  static override examples = [
    {description: 'The configuration in use', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'A given file, in CI', command: '<%= config.bin %> <%= command.id %> deploy/hessra.json --json'},
  ]

  static override args = {file: Args.string({description: 'configuration file (default: the one in use)', required: false, ignoreStdin: true})}

  async run(): Promise<void> {
    const loaded = this.args.file ? await loadConfig({configPath: this.args.file}) : await this.loadConfig()
    if (!loaded.config) throw new ConfigError('no configuration found', {hint: 'create one with `hessra config init`'})
    const report = validateConfig(loaded.config, loaded.filepath)
    if (this.flags.json) {
      printJson({valid: report.valid, config_file: loaded.filepath, problems: report.problems})
    } else {
      for (const p of report.problems) {
        const tag = p.severity === 'error' ? ce().red.bold('error') : ce().yellow('warning')
        stderr(`${tag}: ${loaded.filepath}: ${p.field}: ${p.message}`)
      }
      if (report.valid) {
        const n = loaded.config.keys?.length ?? 0
        stdout(`${c().green.bold('✔ valid')}  ${loaded.filepath} (${n} key${n === 1 ? '' : 's'}${loaded.config.default_key ? `, default "${loaded.config.default_key}"` : ''})`)
      } else {
        stdout(`${c().red.bold('✘ invalid')}  ${loaded.filepath}`)
      }
    }
    if (!report.valid) this.setExitCode(ExitCode.CONFIG)
  }
}
