import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {checkSettablePath, openForEdit, saveEdited} from '../../config-edit.js'
import {parseValue, setPath} from '../../config/index.js'
import {UsageError} from '../../errors.js'
import {ce, printJson, stderr, stdout} from '../../output.js'

export default class ConfigSet extends BaseCommand<typeof ConfigSet> {
  static override summary = 'Set (or with --unset remove) one configuration value'
  static override description = 'VALUE is parsed as JSON when it is valid JSON (numbers, true/false, null, objects), else taken as a string. The file is created when there is none; YAML and JavaScript configurations must be edited by hand.'

  static override examples = [
    {description: 'Tolerate 30 seconds of clock skew', command: '<%= config.bin %> <%= command.id %> leeway_seconds 30'},
    {description: 'Choose the default key', command: '<%= config.bin %> <%= command.id %> default_key prod'},
    {description: 'A service chain for the "orders" resource', command: `<%= config.bin %> <%= command.id %> service_chains.orders '[{"component":"auth_service","public_key":"ed25519/..."}]'`},
    {description: 'Remove the domain', command: '<%= config.bin %> <%= command.id %> domain --unset'},
  ]

  static override args = {
    key: Args.string({description: 'dotted path, e.g. leeway_seconds, limits.max_facts', required: true, ignoreStdin: true}),
    value: Args.string({description: 'the value (JSON or a string)', required: false, ignoreStdin: true}),
  }

  static override flags = {
    unset: Flags.boolean({description: 'remove the value instead', default: false}),
  }

  async run(): Promise<void> {
    const {args, flags} = this
    if (!flags.unset && args.value === undefined) {
      throw new UsageError('missing VALUE (or pass --unset)')
    }
    checkSettablePath(args.key)
    const ed = await openForEdit(flags.config)
    const value = flags.unset ? undefined : parseValue(args.value as string)
    const next = setPath(ed.config, args.key, value)
    saveEdited(ed, next)
    if (flags.json) printJson({key: args.key, value: value ?? null, unset: flags.unset, config_file: ed.filepath})
    else {
      stdout(flags.unset ? `unset ${args.key}` : `${args.key} = ${JSON.stringify(value)}`)
      stderr(ce().dim(`${ed.created ? 'created' : 'updated'} ${ed.filepath}`))
    }
  }
}
