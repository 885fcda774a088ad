import {Flags} from '@oclif/core'
import {readFileSync} from 'node:fs'

import {BaseCommand} from '../../base-command.js'
import {IoError, UsageError} from '../../errors.js'
import {repeatable} from '../../flags.js'
import {isoDate, parseTtl, relativeTime} from '../../input/time.js'
import {ce, printJson, stderr} from '../../output.js'
import {parseParams} from '../../params.js'
import {parseParty, parseServiceNode} from '../../service-chain.js'
import {mintFromDatalog, mintHessra} from '../../tokens/devkit.js'
import {inspectToken} from '../../tokens/inspect.js'

export default class TokenMint extends BaseCommand<typeof TokenMint> {
  static override summary = 'Mint a token offline (dev kit), in the Hessra token shape or from your own Datalog'
  static override description = `The token alone goes to stdout (so T=$(hessra token mint ...) works); details go to stderr. The Hessra shape is: right(SUBJECT, RESOURCE, OPERATION); the subject/resource/operation check; a time bound (integer unix seconds) from --ttl; check if domain(DOMAIN) with --domain; one node($s, COMPONENT) <- service($s) trusting KEY rule per --service-node; check if namespace(NAMESPACE) trusting KEY per --multi-party (each party must then attest: token attest --namespace); and check if prefix_added(true) trusting KEY with --prefix-key (the token must then be narrowed: token prefix). With --datalog the authority block is your Datalog instead ({name} placeholders filled from --param).`

  // oclif's generated usage nests the exclusive flags into an unreadable line: the two forms instead
  static override usage = [
    '-p FILE -s SUBJECT -r RESOURCE -o OP... [--ttl DURATION|RFC3339|none] [--domain DOMAIN] [--service-node COMPONENT=KEY...] [--multi-party NAMESPACE=KEY...] [--prefix-key KEY] [--root-key-id N] [--json]',
    '-p FILE --datalog FILE [--param NAME=VALUE...] [--root-key-id N] [--json]',
  ]

  static override examples = [
    {description: 'alice may read documents for 5 minutes', command: 'T=$(<%= config.bin %> <%= command.id %> --private-key root.pem --subject alice --resource documents --operation read --ttl 5m)'},
    {
      description: 'With a service chain of two nodes and a root key id',
      command: '<%= config.bin %> <%= command.id %> --private-key root.pem --subject alice --resource orders --operation create --service-node auth_service=auth.pub --service-node payment_service=payment.pub --root-key-id 7',
    },
    {description: 'Valid only once the party approvals.example attested (token attest --namespace)', command: '<%= config.bin %> <%= command.id %> --private-key root.pem --subject alice --resource orders --operation read --multi-party approvals.example=node.pub'},
    {description: 'From your own authority Datalog with parameters', command: '<%= config.bin %> <%= command.id %> --private-key root.pem --datalog authority.dl --param user=alice --param level=3'},
  ]

  static override flags = {
    'private-key': Flags.string({char: 'p', required: true, description: 'root private key file (PEM PKCS#8, e.g. from `hessra keys generate`)', helpValue: 'FILE', env: 'HESSRA_PRIVATE_KEY_FILE'}),
    subject: Flags.string({char: 's', description: 'subject the token is for', helpValue: 'SUBJECT'}),
    resource: Flags.string({char: 'r', description: 'resource it grants', helpValue: 'RESOURCE'}),
    operation: Flags.string({char: 'o', description: 'operation it grants (repeatable or comma separated: -o read -o write, -o read,write)', helpValue: 'OP', ...repeatable, delimiter: ','}),
    ttl: Flags.string({description: 'lifetime (30s, 5m, 1h, 2d), an RFC 3339 expiry, or "none"', default: '1h', helpValue: 'DURATION|RFC3339|none'}),
    domain: Flags.string({description: 'restrict the token to a domain', helpValue: 'DOMAIN'}),
    'service-node': Flags.string({description: 'a service-chain node, in order (repeatable): component=KEY (KEY: text or file)', helpValue: 'COMPONENT=KEY', ...repeatable}),
    'multi-party': Flags.string({description: 'a party that must attest (repeatable): NAMESPACE=KEY (KEY: its public key, text or file)', helpValue: 'NAMESPACE=KEY', ...repeatable}),
    'prefix-key': Flags.string({description: 'prefix-restricted: the public key (text or file) of whoever narrows it with `token prefix`', helpValue: 'KEY'}),
    datalog: Flags.string({
      description: 'authority block Datalog file instead of the Hessra shape',
      helpValue: 'FILE',
      exclusive: ['subject', 'resource', 'operation', 'domain', 'service-node', 'multi-party', 'prefix-key'],
    }),
    param: Flags.string({description: 'with --datalog: a {name} parameter (repeatable), name=value (value as JSON, else a string)', helpValue: 'NAME=VALUE', dependsOn: ['datalog'], ...repeatable}),
    'root-key-id': Flags.integer({description: 'root key id to embed, so verifiers can pick the key', min: 0, helpValue: 'N'}),
  }

  async run(): Promise<void> {
    const {flags} = this
    let token: string
    let expiresAt: number | null = null
    if (flags.datalog) {
      let code: string
      try {
        code = readFileSync(flags.datalog, 'utf8')
      } catch (error) {
        throw new IoError(`cannot read Datalog file ${flags.datalog} (${(error as {code?: string}).code ?? 'error'})`)
      }
      token = mintFromDatalog({privateKey: flags['private-key'], datalog: code, params: parseParams(flags.param), rootKeyId: flags['root-key-id'] ?? null})
    } else {
      const missing = (['subject', 'resource', 'operation'] as const).filter((f) => !flags[f] || flags[f].length === 0)
      if (missing.length > 0) throw new UsageError(`missing ${missing.map((m) => `--${m}`).join(', ')} (or give --datalog FILE)`)
      if (flags.operation!.some((o) => o.trim() === '')) throw new UsageError('--operation: an empty operation name (check the commas)')
      expiresAt = flags.ttl.toLowerCase() === 'none' ? null : parseTtl(flags.ttl)
      token = mintHessra({
        privateKey: flags['private-key'],
        subject: flags.subject!,
        resource: flags.resource!,
        operation: flags.operation!,
        expiresAt,
        domain: flags.domain ?? null,
        serviceNodes: (flags['service-node'] ?? []).map(parseServiceNode),
        rootKeyId: flags['root-key-id'] ?? null,
        multiParty: (flags['multi-party'] ?? []).map(parseParty),
        prefixKey: flags['prefix-key'] ?? null,
      })
    }
    if (flags.datalog) {
      try {
        expiresAt = inspectToken(token).expires_at
      } catch {
        expiresAt = null
      }
    }
    if (flags.json) {
      printJson({
        token,
        subject: flags.subject ?? null,
        resource: flags.resource ?? null,
        operation: flags.operation?.length === 1 ? flags.operation[0] : null,
        operations: flags.operation ?? null,
        expires_at: expiresAt,
        expires_at_rfc3339: expiresAt === null ? null : isoDate(expiresAt),
        root_key_id: flags['root-key-id'] ?? null,
      })
      return
    }
    process.stdout.write(token + '\n')
    const what = flags.datalog ? `from ${flags.datalog}` : `${flags.subject} may ${flags.operation!.join(', ')} ${flags.resource}`
    stderr(ce().dim(`minted: ${what}; ${expiresAt === null ? 'no expiry' : `expires ${isoDate(expiresAt)} (${relativeTime(expiresAt)})`}`))
  }
}
