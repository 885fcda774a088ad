import {BaseCommand} from '../../../base-command.js'
import {c, printJson, stderr, stdout} from '../../../output.js'
import {resolveConnection, withClient} from '../../../pg/connect.js'
import {databaseFlag} from '../../../pg/flags.js'
import {listKeys} from '../../../pg/trust.js'

export default class PgKeysList extends BaseCommand<typeof PgKeysList> {
  static override summary = 'List the public keys a database trusts: its table and its configuration file'
  static override description = `The keys in effect for the database, as the extension combines them: the configuration file's (hessra.config_path) and the table hessra_trusted_keys, with where each comes from and which is the default. Needs a superuser.`

  static override examples = [
    {description: 'The database in DATABASE_URL', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'As JSON', command: '<%= config.bin %> <%= command.id %> --database "$URL" --json'},
  ]

  static override flags = {database: databaseFlag}

  async run(): Promise<void> {
    const target = resolveConnection(this.flags.database)
    const r = await withClient(target, (client) => listKeys(client))
    if (this.flags.json) {
      printJson({
        keys: r.keys.map((k) => ({id: k.id, public_key: k.publicKey, root_key_id: k.rootKeyId, source: k.source, default: k.isDefault, added_at: k.addedAt})),
        error: r.error,
      })
      return
    }
    const o = c()
    if (r.error) stderr(o.yellow(`warning: the server cannot load its trust configuration (${r.error}); the table's rows:`))
    if (r.keys.length === 0) stdout(o.dim('no trusted key'))
    for (const k of r.keys) {
      const extra = [k.source, k.rootKeyId === null ? null : `root key id ${k.rootKeyId}`, k.isDefault ? 'default' : null].filter(Boolean).join(', ')
      stdout(`${k.id}  ${k.publicKey}  ${o.dim(`(${extra})`)}`)
    }
  }
}
