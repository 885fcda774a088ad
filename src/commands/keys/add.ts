import {Args, Flags} from '@oclif/core'
import {existsSync} from 'node:fs'
import {resolve} from 'node:path'

import {BaseCommand} from '../../base-command.js'
import {openForEdit, saveEdited} from '../../config-edit.js'
import {UsageError} from '../../errors.js'
import {classifyKeyText, trustedKeyText} from '../../keys.js'
import {ce, printJson, stderr, stdout} from '../../output.js'

export default class KeysAdd extends BaseCommand<typeof KeysAdd> {
  static override summary = 'Trust a public key: add it to the configuration under an id'
  static override description = `The key may be PEM, ed25519/<hex>, secp256r1/<hex>, bare hex, or a file holding one (detected by content). It is stored as ed25519/<hex> or secp256r1/<hex>; with --file a key file is referenced instead of copied. The configuration is created (~/.config/hessra/config.json, or --config PATH) when there is none.`

  static override examples = [
    {description: 'Trust the production key, used for tokens with root key id 7', command: '<%= config.bin %> <%= command.id %> prod ./prod.pub.pem --root-key-id 7 --default'},
    {description: 'Inline key text', command: '<%= config.bin %> <%= command.id %> edge ed25519/78bd4592ea5d0f9f1a67a381fd24eeb7546a26566bdf6fd4b8811e7b9f37a1df'},
    {description: 'Reference the file instead of copying the key', command: '<%= config.bin %> <%= command.id %> staging /etc/hessra/staging.pub --file'},
  ]

  static override args = {
    id: Args.string({description: 'key id', required: true, ignoreStdin: true}),
    key: Args.string({description: 'public key text or file', required: true, ignoreStdin: true}),
  }

  static override flags = {
    'root-key-id': Flags.integer({description: 'the root key id carried by tokens signed with this key', min: 0, helpValue: 'N'}),
    default: Flags.boolean({description: 'make it the default key', default: false}),
    file: Flags.boolean({description: 'store a reference to the key file (public_key_file) instead of the key', default: false}),
    force: Flags.boolean({char: 'f', description: 'replace an existing key with the same id', default: false}),
  }

  async run(): Promise<void> {
    const {args, flags} = this
    const text = trustedKeyText(args.key, args.id, 'hessra keys add')
    if (flags.file && (classifyKeyText(args.key) !== 'unknown' || !existsSync(args.key))) throw new UsageError('--file needs KEY to be a file')
    const ed = await openForEdit(this.flags.config)
    const existing = ed.config.keys ?? []
    if (existing.some((k) => k.id === args.id) && !flags.force) throw new UsageError(`key id "${args.id}" already exists in ${ed.filepath}`, {hint: 'pass --force to replace it'})
    const entry = flags.file
      ? {id: args.id, public_key_file: resolve(args.key), root_key_id: flags['root-key-id'] ?? null}
      : {id: args.id, public_key: text, root_key_id: flags['root-key-id'] ?? null}
    const keys = existing.filter((k) => k.id !== args.id)
    keys.push(entry)
    const next = {...ed.config, keys}
    if (flags.default || !next.default_key) next.default_key = args.id
    saveEdited(ed, next)
    if (flags.json) printJson({id: args.id, public_key: text, root_key_id: entry.root_key_id, default: next.default_key === args.id, config_file: ed.filepath, created: ed.created})
    else {
      stdout(`added key "${args.id}" (${text})`)
      stderr(ce().dim(`${ed.created ? 'created' : 'updated'} ${ed.filepath}`))
    }
  }
}
