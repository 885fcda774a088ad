import {Args} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {getPath} from '../../config/index.js'
import {ConfigError} from '../../errors.js'
import {printJson, stdout} from '../../output.js'

export default class ConfigGet extends BaseCommand<typeof ConfigGet> {
  static override summary = 'Print one configuration value'
  static override examples = [
    {description: 'The default key id', command: '<%= config.bin %> <%= command.id %> default_key'},
    {description: 'The tolerated clock skew', command: '<%= config.bin %> <%= command.id %> leeway_seconds'},
    {description: 'The second key', command: '<%= config.bin %> <%= command.id %> keys[1]'},
  ]

  static override args = {key: Args.string({description: 'dotted path, e.g. default_key, limits.max_facts, keys[0].id', required: true, ignoreStdin: true})}

  async run(): Promise<void> {
    const loaded = await this.loadConfig()
    if (!loaded.config) throw new ConfigError('no configuration found', {hint: 'create one with `hessra config init`'})
    const value = getPath(loaded.config, this.args.key)
    if (value === undefined) throw new ConfigError(`${this.args.key} is not set in ${loaded.filepath}`, {field: this.args.key, file: loaded.filepath ?? undefined})
    if (this.flags.json) printJson({key: this.args.key, value})
    else stdout(typeof value === 'string' ? value : JSON.stringify(value, null, 2))
  }
}
