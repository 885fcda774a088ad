import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {isRevocationId} from '../config/index.js'
import {UsageError} from '../errors.js'
import {tokenFileFlag} from '../flags.js'
import {resolveTokenInput} from '../input/token.js'
import {printJson, stdout} from '../output.js'
import {revoke} from '../revocation.js'

export default class Revoke extends BaseCommand<typeof Revoke> {
  static override summary = 'Revoke a token: list its revocation id in the configuration'
  static override description = `Adds a revocation id to "revoked_ids" of the configuration. Every verifier that loads it (verify, the library, the PostgreSQL extension after hessra_reload_config() or SIGHUP) then refuses the token with status "revoked".

Hessra revokes by block. Given a token, the id of its last block is listed: exactly this token (and tokens later attenuated from it) is refused, the token it was attenuated from stays valid. --block 0 lists the authority block's id: the token and every attenuation of it are refused. --all-blocks lists every block's id. Given a revocation id (hex, as \`hessra inspect\` shows them), that id is listed.`

  static override examples = [
    {description: 'Revoke a token (its last block)', command: '<%= config.bin %> <%= command.id %> "$T"'},
    {description: 'Revoke a token and everything attenuated from it', command: '<%= config.bin %> <%= command.id %> "$T" --block 0'},
    {description: "Revoke every block's id of a token read from a file", command: '<%= config.bin %> <%= command.id %> --token-file token.txt --all-blocks'},
  ]

  static override args = {
    target: Args.string({name: 'target', description: 'the token (base64url; `-` reads stdin), or a revocation id (hex)', required: false, ignoreStdin: true}),
  }

  static override flags = {
    'token-file': tokenFileFlag,
    block: Flags.integer({description: "revoke this block's id (0: the authority block; default: the last block)", min: 0, helpValue: 'N', exclusive: ['all-blocks']}),
    'all-blocks': Flags.boolean({description: "revoke every block's id", default: false, exclusive: ['block']}),
  }

  async run(): Promise<void> {
    const {flags, args} = this
    if (args.target === undefined && flags['token-file'] === undefined) {
      // never the HESSRA_TOKEN or piped-stdin fallbacks of other commands: revoke only what is named
      throw new UsageError('name what to revoke: a token, a revocation id, or --token-file PATH')
    }
    const target = args.target !== undefined && isRevocationId(args.target.trim()) ? args.target : await resolveTokenInput({arg: args.target, tokenFile: flags['token-file']})
    const r = await revoke(target, {configPath: flags.config, allBlocks: flags['all-blocks'], block: flags.block})
    if (flags.json) {
      printJson({
        revoked: r.revoked.map((x) => ({block: x.block, revocation_id: x.revocationId})),
        added: r.added,
        config_file: r.configFile,
        created: r.created,
      })
      return
    }
    for (const x of r.revoked) {
      const what = x.block === null ? 'revocation id' : x.block === 0 ? 'block 0 (authority)' : `block ${x.block}`
      const news = r.added.includes(x.revocationId) ? 'revoked' : 'already revoked'
      stdout(`${news}: ${what} ${x.revocationId}`)
    }
    stdout(`configuration: ${r.configFile}${r.created ? ' (created)' : ''}`)
  }
}
