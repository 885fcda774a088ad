import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {isRevocationId} from '../config/index.js'
import {UsageError} from '../errors.js'
import {tokenFileFlag} from '../flags.js'
import {resolveTokenInput} from '../input/token.js'
import {ce, printJson, stderr, stdout} from '../output.js'
import {resolveConnection, withClient} from '../pg/connect.js'
import {parseRevocationList, readRevocationList, revokeInDatabase} from '../pg/trust.js'
import {revocationIdsFor, revoke, serverConfigNote, type RevokedId} from '../revocation.js'

export default class Revoke extends BaseCommand<typeof Revoke> {
  static override summary = 'Revoke a token: list its revocation id in a database or in the configuration'
  static override description = `With --database, lists the revocation id in the database's table hessra_revocations (superusers only): every session refuses the token from its next statement, hot standbys after replay, through any pooler. Without it, adds the id to "revoked_ids" of the configuration file: verify and the library refuse the token with status "revoked" (a PostgreSQL server reading another file does not).

Hessra revokes by block. Given a token, the id of its last block is listed: exactly this token (and tokens later attenuated from it) is refused, the token it was attenuated from stays valid. --block 0 lists the authority block's id: the token and every attenuation of it are refused. --all-blocks lists every block's id. Given a revocation id (hex, as \`hessra inspect\` shows them), that id is listed. --from-file lists many ids at once (one per line, \`-\` for stdin), in one transaction.`

  static override examples = [
    {description: 'Revoke a token in a database', command: '<%= config.bin %> <%= command.id %> "$T" --database "$DATABASE_URL"'},
    {description: 'Revoke a token and everything attenuated from it', command: '<%= config.bin %> <%= command.id %> "$T" --block 0 --database "$DATABASE_URL"'},
    {description: 'Revoke a list of ids, with a reason', command: '<%= config.bin %> <%= command.id %> --from-file revoked.txt --reason "key leak 2026-03" --database "$DATABASE_URL"'},
    {description: "In the configuration file instead: every block's id of a token read from a file", command: '<%= config.bin %> <%= command.id %> --token-file token.txt --all-blocks'},
  ]

  static override args = {
    target: Args.string({name: 'target', description: 'the token (base64url; `-` reads stdin), or a revocation id (hex)', required: false, ignoreStdin: true}),
  }

  static override flags = {
    'token-file': tokenFileFlag,
    block: Flags.integer({description: "revoke this block's id (0: the authority block; default: the last block)", min: 0, helpValue: 'N', exclusive: ['all-blocks']}),
    'all-blocks': Flags.boolean({description: "revoke every block's id", default: false, exclusive: ['block']}),
    database: Flags.string({char: 'd', description: 'revoke in this database (PostgreSQL connection URL) instead of the configuration file', helpValue: 'URL'}),
    'from-file': Flags.string({description: 'revoke every id listed in FILE (one per line, # comments; `-`: stdin), with --database', helpValue: 'FILE', exclusive: ['token-file', 'block', 'all-blocks']}),
    reason: Flags.string({description: 'with --database: why (kept with each new id)', helpValue: 'TEXT'}),
  }

  async run(): Promise<void> {
    const {flags, args} = this
    if (flags['from-file'] !== undefined) {
      if (args.target !== undefined) throw new UsageError('give either ids with --from-file or one target, not both')
      if (flags.database === undefined) {
        throw new UsageError('--from-file needs --database', {hint: 'a configuration file holds at most 1 MiB; name a list there with "revocation_file" instead'})
      }
    } else if (args.target === undefined && flags['token-file'] === undefined) {
      // never the HESSRA_TOKEN or piped-stdin fallbacks of other commands: revoke only what is named
      throw new UsageError('name what to revoke: a token, a revocation id, --token-file PATH, or --from-file FILE')
    }
    if (flags.reason !== undefined && flags.database === undefined) throw new UsageError('--reason is kept by the database: give --database')
    const revoked = await this.idsToRevoke()
    if (flags.database !== undefined) {
      const target = resolveConnection(flags.database)
      const r = await withClient(target, (client) => revokeInDatabase(client, revoked.map((x) => x.revocationId), {reason: flags.reason}))
      const added = new Set(r.added)
      if (flags.json) {
        printJson({
          revoked: flags['from-file'] === undefined ? revoked.map((x) => ({block: x.block, revocation_id: x.revocationId})) : undefined,
          count: revoked.length,
          added: r.added.length,
          already_revoked: r.alreadyRevoked,
          database: target.display,
        })
        return
      }
      if (flags['from-file'] === undefined) for (const x of revoked) stdout(`${added.has(x.revocationId) ? 'revoked' : 'already revoked'}: ${describe(x)} ${x.revocationId}`)
      else stdout(`revoked ${r.added.length} id${r.added.length === 1 ? '' : 's'}${r.alreadyRevoked > 0 ? ` (${r.alreadyRevoked} already revoked)` : ''}`)
      stdout(`database: ${target.display} (committed: refused from the next statement of every session)`)
      return
    }
    const r = await revoke(revoked, {configPath: flags.config})
    if (flags.json) {
      printJson({revoked: r.revoked.map((x) => ({block: x.block, revocation_id: x.revocationId})), added: r.added, config_file: r.configFile, created: r.created})
      return
    }
    for (const x of r.revoked) stdout(`${r.added.includes(x.revocationId) ? 'revoked' : 'already revoked'}: ${describe(x)} ${x.revocationId}`)
    stdout(`configuration: ${r.configFile}${r.created ? ' (created)' : ''}`)
    const note = serverConfigNote(r.configFile)
    if (note) stderr(ce().yellow(`note: ${note}`))
  }

  /** The ids named: a list (--from-file), or the target's (a revocation id, or a token's blocks). */
  private async idsToRevoke(): Promise<RevokedId[]> {
    const {flags, args} = this
    if (flags['from-file'] !== undefined) {
      const list = await readRevocationList(flags['from-file'])
      return parseRevocationList(list.text, list.source).map((revocationId) => ({block: null, revocationId}))
    }
    const target = args.target !== undefined && isRevocationId(args.target.trim()) ? args.target : await resolveTokenInput({arg: args.target, tokenFile: flags['token-file']})
    return revocationIdsFor(target, {allBlocks: flags['all-blocks'], block: flags.block})
  }
}

function describe(x: RevokedId): string {
  return x.block === null ? 'revocation id' : x.block === 0 ? 'block 0 (authority)' : `block ${x.block}`
}
