import {BaseCommand} from '../../base-command.js'
import {ConfigError} from '../../errors.js'
import {ce, printJson, stderr, stdout} from '../../output.js'

export default class ConfigShow extends BaseCommand<typeof ConfigShow> {
  static override summary = 'Print the configuration in use, and the environment overrides in effect'
  static override examples = [
    {description: 'Show it', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'The default key id, with jq', command: '<%= config.bin %> <%= command.id %> --json | jq -r .config.default_key'},
  ]

  async run(): Promise<void> {
    const loaded = await this.loadConfig()
    if (!loaded.config) throw new ConfigError('no configuration found', {hint: 'create one with `hessra config init`'})
    const env = process.env
    const overrides = {
      HESSRA_CONFIG: Boolean(env.HESSRA_CONFIG && env.HESSRA_CONFIG.trim()),
      HESSRA_PUBLIC_KEY: Boolean(env.HESSRA_PUBLIC_KEY && env.HESSRA_PUBLIC_KEY.trim()),
      HESSRA_TOKEN: Boolean(env.HESSRA_TOKEN && env.HESSRA_TOKEN.trim()),
    }
    if (this.flags.json) {
      printJson({config_file: loaded.filepath, source: loaded.source, config: loaded.config, overrides})
      return
    }
    stderr(ce().dim(`# ${loaded.filepath}`))
    if (overrides.HESSRA_PUBLIC_KEY) stderr(ce().yellow('# HESSRA_PUBLIC_KEY is set: it is used instead of the keys below when no --key/--key-id is given'))
    if (overrides.HESSRA_TOKEN) stderr(ce().dim('# HESSRA_TOKEN is set (token input when none is given)'))
    stdout(JSON.stringify(loaded.config, null, 2))
  }
}
