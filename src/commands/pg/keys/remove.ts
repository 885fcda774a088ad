import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../../base-command.js'
import {printJson, stdout} from '../../../output.js'
import {resolveConnection, withClient} from '../../../pg/connect.js'
import {databaseFlag} from '../../../pg/flags.js'
import {removeKey} from '../../../pg/trust.js'

export default class PgKeysRemove extends BaseCommand<typeof PgKeysRemove> {
  static override summary = "Stop trusting a public key in a database: remove it from the extension's table"
  static override description = `Removes the key from hessra_trusted_keys (superusers only); tokens signed with it are refused from the next statement of every session. The default key and the last trusted key are kept unless --force: removing them makes tokens fail that the server accepts now. A key of the configuration file is removed there instead.`

  static override examples = [
    {description: 'Remove the old key after a rotation', command: '<%= config.bin %> <%= command.id %> prod-2025 --database "$URL"'},
  ]

  static override args = {id: Args.string({description: 'key id', required: true, ignoreStdin: true})}

  static override flags = {
    database: databaseFlag,
    force: Flags.boolean({char: 'f', description: 'remove it even when it is the default or the last trusted key', default: false}),
  }

  async run(): Promise<void> {
    const target = resolveConnection(this.flags.database)
    await withClient(target, (client) => removeKey(client, this.args.id, {force: this.flags.force}))
    if (this.flags.json) printJson({removed: this.args.id, database: target.display})
    else stdout(`removed key "${this.args.id}" from ${target.display}`)
  }
}
