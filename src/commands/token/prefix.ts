import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {keyFlags, tokenArg, tokenFileFlag} from '../../flags.js'
import {resolveTokenInput} from '../../input/token.js'
import {ce, printJson, stderr} from '../../output.js'
import {restrictPrefix} from '../../tokens/devkit.js'

export default class TokenPrefix extends BaseCommand<typeof TokenPrefix> {
  static override summary = 'Narrow a prefix-restricted token to a prefix (third-party block check if prefix(P); prefix_added(true))'
  static override description = `A token minted with --prefix-key KEY is valid only once the holder of KEY's private half narrows it to a prefix: this appends the third-party block check if prefix(PREFIX); prefix_added(true); signed by --prefix-private-key. The token then verifies only for requests that give exactly this prefix (hessra verify --prefix PREFIX). The new token alone goes to stdout.`

  static override examples = [
    {
      description: 'Mint a prefix-restricted token, narrow it to tenant/1/, verify it for that prefix',
      command:
        'T=$(<%= config.bin %> token mint --private-key root.pem --subject alice --resource documents --operation read --prefix-key node.pub)\nT=$(<%= config.bin %> <%= command.id %> "$T" --key root.pub --prefix tenant/1/ --prefix-private-key node.pem)\n<%= config.bin %> verify "$T" --key root.pub --subject alice --resource documents --prefix tenant/1/',
    },
  ]

  static override args = {token: tokenArg}

  static override flags = {
    ...keyFlags,
    'token-file': tokenFileFlag,
    prefix: Flags.string({required: true, description: 'the prefix the token is narrowed to (e.g. tenant/1/user/7/)', helpValue: 'PREFIX'}),
    'prefix-private-key': Flags.string({required: true, description: 'private key file of the prefix key the token names (--prefix-key when minted)', helpValue: 'FILE'}),
  }

  async run(): Promise<void> {
    const {flags, args} = this
    const input = await resolveTokenInput({arg: args.token, tokenFile: flags['token-file']})
    const loaded = await this.loadConfig()
    const token = restrictPrefix(input, {key: flags.key, keyId: flags['key-id'], config: loaded, prefix: flags.prefix, prefixPrivateKey: flags['prefix-private-key']})
    if (flags.json) {
      printJson({token, prefix: flags.prefix})
      return
    }
    process.stdout.write(token + '\n')
    stderr(ce().dim(`narrowed to prefix ${flags.prefix}`))
  }
}
