import {BaseCommand} from '../../base-command.js'
import {userConfigPath} from '../../config/index.js'
import {ConfigError} from '../../errors.js'
import {ce, printJson, stderr, stdout} from '../../output.js'

const HOW: Record<string, string> = {
  flag: 'from --config',
  env: 'from HESSRA_CONFIG',
  search: 'found searching from the current directory',
  user: 'the user configuration',
}

export default class ConfigPath extends BaseCommand<typeof ConfigPath> {
  static override summary = 'Print which configuration file is used'
  static override description = `Search order: --config PATH, HESSRA_CONFIG, then from the current directory upwards package.json#hessra, .hessrarc, .hessrarc.json, .hessrarc.yaml, .hessrarc.yml, hessra.config.js|cjs|mjs|json, then ~/.config/hessra/config.json. Exit status 4 when none is found.`

  static override examples = [
    {description: 'Where is my configuration?', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Open it in an editor', command: '$EDITOR "$(<%= config.bin %> <%= command.id %>)"'},
  ]

  async run(): Promise<void> {
    const loaded = await this.loadConfig()
    if (!loaded.filepath) {
      throw new ConfigError('no configuration found', {hint: `\`hessra config init\` creates ${userConfigPath()}`})
    }
    if (this.flags.json) printJson({config_file: loaded.filepath, source: loaded.source, format: loaded.format})
    else {
      stdout(loaded.filepath)
      stderr(ce().dim(`(${HOW[loaded.source] ?? loaded.source})`))
    }
  }
}
