import {Args} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {openForEdit, saveEdited} from '../../config-edit.js'
import {ConfigError} from '../../errors.js'
import {printJson, stdout} from '../../output.js'

export default class KeysRemove extends BaseCommand<typeof KeysRemove> {
  static override summary = 'Stop trusting a public key: remove it from the configuration'
  static override examples = [
    {description: 'Remove the key "staging"', command: '<%= config.bin %> <%= command.id %> staging'},
    {description: 'From a specific configuration file', command: '<%= config.bin %> <%= command.id %> old-prod --config ./deploy/hessra.json'},
  ]

  static override args = {id: Args.string({description: 'key id', required: true, ignoreStdin: true})}

  async run(): Promise<void> {
    const ed = await openForEdit(this.flags.config)
    const keys = ed.config.keys ?? []
    if (ed.created || !keys.some((k) => k.id === this.args.id)) {
      throw new ConfigError(`no key "${this.args.id}" in ${ed.created ? 'the configuration (none found)' : ed.filepath}`, {field: 'keys'})
    }
    const next = {...ed.config, keys: keys.filter((k) => k.id !== this.args.id)}
    const wasDefault = next.default_key === this.args.id
    if (wasDefault) next.default_key = next.keys.length > 0 ? next.keys[0].id : null
    saveEdited(ed, next)
    if (this.flags.json) printJson({removed: this.args.id, default_key: next.default_key ?? null, config_file: ed.filepath})
    else stdout(`removed key "${this.args.id}"${wasDefault ? ` (default key is now ${next.default_key ?? 'unset'})` : ''}`)
  }
}
