import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {keyFlags, tokenArg, tokenFileFlag} from '../../flags.js'
import {resolveTokenInput} from '../../input/token.js'
import {ce, printJson, stderr} from '../../output.js'
import {attestToken} from '../../tokens.js'

export default class TokenAttest extends BaseCommand<typeof TokenAttest> {
  static override summary = 'Attest a token as a service-chain node (third-party block service(RESOURCE))'
  static override description = `Appends the third-party block service(RESOURCE) signed by the node's private key, as Hessra services do when a request passes through them. When the token lists its service nodes, --component must be one of them and --node-key must match its key. The new token alone goes to stdout.`

  static override examples = [
    {description: 'auth_service attests, then payment_service', command: 'T=$(<%= config.bin %> <%= command.id %> "$T" --key root.pub --node-key auth.pem --component auth_service)\nT=$(<%= config.bin %> <%= command.id %> "$T" --key root.pub --node-key payment.pem --component payment_service)'},
    {description: 'Attest a specific resource', command: '<%= config.bin %> <%= command.id %> --token-file t.txt --key-id prod --node-key node.pem --component auth_service --resource orders'},
  ]

  static override args = {token: tokenArg}

  static override flags = {
    ...keyFlags,
    'token-file': tokenFileFlag,
    'node-key': Flags.string({required: true, description: "the node's private key file", helpValue: 'FILE'}),
    component: Flags.string({required: true, description: 'the component (service) attesting', helpValue: 'NAME'}),
    resource: Flags.string({description: 'resource to attest (default: the resource of the token\'s first right)', helpValue: 'RESOURCE'}),
  }

  async run(): Promise<void> {
    const {flags, args} = this
    const input = await resolveTokenInput({arg: args.token, tokenFile: flags['token-file']})
    const loaded = await this.loadConfig()
    const token = attestToken(input, {
      key: flags.key,
      keyId: flags['key-id'],
      config: loaded,
      nodeKey: flags['node-key'],
      component: flags.component,
      resource: flags.resource ?? null,
    })
    if (flags.json) {
      printJson({token, component: flags.component, resource: flags.resource ?? null})
      return
    }
    process.stdout.write(token + '\n')
    stderr(ce().dim(`attested by ${flags.component}`))
  }
}
