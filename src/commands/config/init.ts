import {Flags} from '@oclif/core'
import {existsSync} from 'node:fs'
import {resolve} from 'node:path'

import {BaseCommand} from '../../base-command.js'
import {defaultConfig, userConfigPath, writeConfig} from '../../config/index.js'
import {UsageError} from '../../errors.js'
import {parsePublicKeySpec} from '../../keys.js'
import {ce, printJson, stderr, stdout} from '../../output.js'

export default class ConfigInit extends BaseCommand<typeof ConfigInit> {
  static override summary = 'Create a configuration file'
  static override description = `Writes a version 1 configuration: ~/.config/hessra/config.json by default, ./.hessrarc.json with --local, or the path given with --config. Refuses to overwrite an existing file without --force.`

  static override examples = [
    {description: 'A user-wide configuration trusting one key', command: '<%= config.bin %> <%= command.id %> --key ./prod.pub.pem --id prod'},
    {description: 'A project configuration next to package.json', command: '<%= config.bin %> <%= command.id %> --local'},
    {description: 'A file for a deployment', command: '<%= config.bin %> <%= command.id %> --config /etc/hessra/config.json --key ed25519/3b6a27bc... --id prod --domain example.com'},
  ]

  static override flags = {
    local: Flags.boolean({description: 'write ./.hessrarc.json in the current directory', default: false}),
    force: Flags.boolean({char: 'f', description: 'overwrite an existing file', default: false}),
    key: Flags.string({char: 'k', description: 'a public key to trust (text or file)', helpValue: 'KEY|FILE'}),
    id: Flags.string({description: 'id for --key (default "default")', helpValue: 'ID'}),
    'root-key-id': Flags.integer({description: 'root key id for --key', min: 0, helpValue: 'N'}),
    domain: Flags.string({description: 'domain for domain-restricted tokens', helpValue: 'DOMAIN'}),
    leeway: Flags.integer({description: 'tolerated clock skew in seconds', min: 0, helpValue: 'SECONDS'}),
  }

  async run(): Promise<void> {
    const {flags} = this
    if (flags.local && flags.config) throw new UsageError('give either --local or --config, not both')
    const target = flags.config ? resolve(flags.config) : flags.local ? resolve('.hessrarc.json') : userConfigPath()
    if (existsSync(target) && !flags.force) throw new UsageError(`${target} already exists; refusing to overwrite it`, {hint: 'pass --force to replace it'})
    const config = defaultConfig()
    if (flags.key) {
      const {key, derivedFromPrivate} = parsePublicKeySpec(flags.key, '--key')
      try {
        if (derivedFromPrivate) throw new UsageError('--key holds a PRIVATE key; give its public key (hessra keys public FILE)')
        const id = flags.id ?? 'default'
        config.keys = [{id, public_key: key.toText(), root_key_id: flags['root-key-id'] ?? null}]
        config.default_key = id
      } finally {
        key.dispose()
      }
    }
    if (flags.domain) config.domain = flags.domain
    if (flags.leeway !== undefined) config.leeway_seconds = flags.leeway
    writeConfig(target, config, 'json')
    if (flags.json) printJson({config_file: target, config})
    else {
      stdout(target)
      stderr(ce().dim('configuration written; trust keys with `hessra keys add ID KEY`'))
    }
  }
}
