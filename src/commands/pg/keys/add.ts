import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../../base-command.js'
import {trustedKeyText} from '../../../keys.js'
import {printJson, stdout} from '../../../output.js'
import {resolveConnection, withClient} from '../../../pg/connect.js'
import {databaseFlag} from '../../../pg/flags.js'
import {addKey} from '../../../pg/trust.js'

export default class PgKeysAdd extends BaseCommand<typeof PgKeysAdd> {
  static override summary = "Trust a public key in a database: add it to the extension's table"
  static override description = `Adds the key to hessra_trusted_keys (superusers only). The change counts at the next statement of every session and on hot standbys after replay; the transaction first checks that the server loads the result, so a key that clashes with the configuration file (same id or root key id) is refused, not committed. Rotation: add the new key with --default, move the issuers over, then \`hessra pg keys remove OLD\`.`

  static override examples = [
    {description: 'Trust a key for tokens with root key id 8', command: '<%= config.bin %> <%= command.id %> prod-2026 ./prod-2026.pub.pem --root-key-id 8 --database "$URL"'},
    {description: 'Make it the default key (tokens without a root key id)', command: '<%= config.bin %> <%= command.id %> prod-2026 ed25519/78bd4592ea5d0f9f1a67a381fd24eeb7546a26566bdf6fd4b8811e7b9f37a1df --default'},
  ]

  static override args = {
    id: Args.string({description: 'key id', required: true, ignoreStdin: true}),
    key: Args.string({description: 'public key text or file', required: true, ignoreStdin: true}),
  }

  static override flags = {
    database: databaseFlag,
    'root-key-id': Flags.integer({description: 'the root key id carried by tokens signed with this key', min: 0, max: 4_294_967_295, helpValue: 'N'}),
    default: Flags.boolean({description: 'make it the default key (instead of the current default, from the table or the file)', default: false}),
    force: Flags.boolean({char: 'f', description: 'replace a database key with the same id', default: false}),
  }

  async run(): Promise<void> {
    const {args, flags} = this
    const text = trustedKeyText(args.key, args.id, 'hessra pg keys add')
    const target = resolveConnection(flags.database)
    const r = await withClient(target, (client) =>
      addKey(client, {id: args.id, publicKey: text, rootKeyId: flags['root-key-id'], makeDefault: flags.default, replace: flags.force}),
    )
    if (flags.json) {
      printJson({id: r.key.id, public_key: r.key.publicKey, root_key_id: r.key.rootKeyId, default: r.key.isDefault, replaced: r.replaced, database: target.display})
      return
    }
    stdout(`${r.replaced ? 'replaced' : 'added'} key "${r.key.id}" (${r.key.publicKey})${r.key.isDefault ? ', the default key' : ''} in ${target.display}`)
  }
}
