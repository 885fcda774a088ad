import {BaseCommand} from '../../base-command.js'
import {keyFlags, tokenArg, tokenFileFlag} from '../../flags.js'
import {resolveTokenInput} from '../../input/token.js'
import {ce, printJson, stderr} from '../../output.js'
import {sealToken} from '../../tokens/devkit.js'

export default class TokenSeal extends BaseCommand<typeof TokenSeal> {
  static override summary = 'Seal a token: nobody can append a block afterwards'
  static override description = 'The token is verified with the root public key first. The sealed token alone goes to stdout.'

  static override examples = [
    {description: 'Seal before handing the token to a client', command: 'T=$(<%= config.bin %> <%= command.id %> "$T" --key root.pub)'},
    {description: 'From a file, key from the configuration', command: '<%= config.bin %> <%= command.id %> --token-file t.txt --key-id prod > sealed.txt'},
  ]

  static override args = {token: tokenArg}
  static override flags = {...keyFlags, 'token-file': tokenFileFlag}

  async run(): Promise<void> {
    const {flags, args} = this
    const input = await resolveTokenInput({arg: args.token, tokenFile: flags['token-file']})
    const loaded = await this.loadConfig()
    const token = sealToken(input, {key: flags.key, keyId: flags['key-id'], config: loaded})
    if (flags.json) {
      printJson({token, sealed: true})
      return
    }
    process.stdout.write(token + '\n')
    stderr(ce().dim('sealed'))
  }
}
