import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {keyFlags, tokenArg, tokenFileFlag} from '../../flags.js'
import {resolveTokenInput} from '../../input/token.js'
import {ce, printJson, stderr} from '../../output.js'
import {attestNamespace, attestToken} from '../../tokens/devkit.js'

export default class TokenAttest extends BaseCommand<typeof TokenAttest> {
  static override summary = 'Attest a token as a service-chain node (service(RESOURCE)) or as a party of a multi-party token (namespace(NS))'
  static override description = `With --component: appends the third-party block service(RESOURCE) signed by the node's private key, as Hessra services do when a request passes through them. When the token lists its service nodes, --component must be one of them and --node-key must match its key.

With --namespace: appends the third-party block namespace(NS) signed by the party's private key (--node-key), the attestation a multi-party token (token mint --multi-party NS=KEY) needs from each party; NS must be one of the token's parties and --node-key must match the key it names.

The new token alone goes to stdout.`

  static override examples = [
    {description: 'auth_service attests, then payment_service', command: 'T=$(<%= config.bin %> <%= command.id %> "$T" --key root.pub --node-key auth.pem --component auth_service)\nT=$(<%= config.bin %> <%= command.id %> "$T" --key root.pub --node-key payment.pem --component payment_service)'},
    {
      description: 'The party approvals.example attests a multi-party token',
      command:
        'T=$(<%= config.bin %> token mint --private-key root.pem --subject alice --resource orders --operation read --multi-party approvals.example=node.pub)\n<%= config.bin %> <%= command.id %> "$T" --key root.pub --namespace approvals.example --node-key node.pem',
    },
    {description: 'Attest a specific resource', command: '<%= config.bin %> <%= command.id %> --token-file t.txt --key-id prod --node-key node.pem --component auth_service --resource orders'},
  ]

  static override args = {token: tokenArg}

  static override flags = {
    ...keyFlags,
    'token-file': tokenFileFlag,
    'node-key': Flags.string({required: true, description: "the node's (or party's) private key file", helpValue: 'FILE'}),
    component: Flags.string({description: 'the component (service) attesting', helpValue: 'NAME', exactlyOne: ['component', 'namespace']}),
    namespace: Flags.string({description: 'the namespace a party of a multi-party token attests', helpValue: 'NS', exactlyOne: ['component', 'namespace'], exclusive: ['resource']}),
    resource: Flags.string({description: 'resource to attest (default: the resource of the token\'s first right)', helpValue: 'RESOURCE'}),
  }

  async run(): Promise<void> {
    const {flags, args} = this
    const input = await resolveTokenInput({arg: args.token, tokenFile: flags['token-file']})
    const loaded = await this.loadConfig()
    if (flags.namespace !== undefined) {
      const token = attestNamespace(input, {key: flags.key, keyId: flags['key-id'], config: loaded, nodeKey: flags['node-key'], namespace: flags.namespace})
      if (flags.json) printJson({token, namespace: flags.namespace})
      else {
        process.stdout.write(token + '\n')
        stderr(ce().dim(`attested namespace ${flags.namespace}`))
      }
      return
    }
    const token = attestToken(input, {
      key: flags.key,
      keyId: flags['key-id'],
      config: loaded,
      nodeKey: flags['node-key'],
      component: flags.component!,
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
