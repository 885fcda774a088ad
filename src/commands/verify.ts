import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {ExitCode} from '../errors.js'
import {keyFlags, tokenArg, tokenFileFlag} from '../flags.js'
import {formatVerify} from '../format.js'
import {resolveTokenInput} from '../input/token.js'
import {isoDate, parseAt} from '../input/time.js'
import {c, printJson, stdout} from '../output.js'
import {parseServiceChain} from '../service-chain.js'
import {verifyToken} from '../tokens.js'

export default class Verify extends BaseCommand<typeof Verify> {
  static override summary = 'Verify a Hessra token: signatures, rights, expiry and service chain'
  static override description = `Checks the token's signatures with the root public key, then runs the Hessra rules: the token must grant SUBJECT the OPERATION on RESOURCE and every check (expiry, domain, service chain) must pass. Without --subject the token is checked in capability mode (whoever holds it); without --operation any operation the token grants on the resource is accepted.

The key is --key, else --key-id, else HESSRA_PUBLIC_KEY, else the configuration (by the token's root key id, then default_key). Exit status: 0 valid · 1 denied or expired · 2 usage · 3 malformed token or key · 4 configuration · 5 environment.`

  static override examples = [
    {description: 'Identity mode: may alice read documents?', command: '<%= config.bin %> <%= command.id %> "$TOKEN" --key ed25519/3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29 --subject alice --resource documents --operation read'},
    {description: 'Capability mode, token from stdin, key id from the configuration', command: 'echo "$TOKEN" | <%= config.bin %> <%= command.id %> - --key-id prod --resource documents --operation read'},
    {description: 'As a script would: JSON on stdout, exit code kept', command: '<%= config.bin %> <%= command.id %> --token-file token.txt --key root.pub --subject alice --resource documents --json'},
    {description: 'Check how it looked yesterday, with 30 s of clock skew tolerated', command: '<%= config.bin %> <%= command.id %> "$TOKEN" --subject alice --resource documents --at 2026-01-31T12:00:00Z --leeway 30'},
    {description: 'Service chain: has every node before payment_service attested?', command: '<%= config.bin %> <%= command.id %> "$TOKEN" --subject alice --resource orders --service-chain @chain.json --component payment_service'},
  ]

  static override args = {token: tokenArg}

  static override flags = {
    ...keyFlags,
    'token-file': tokenFileFlag,
    subject: Flags.string({char: 's', description: 'who is asking (omit for capability mode)', helpValue: 'SUBJECT'}),
    resource: Flags.string({char: 'r', description: 'the resource being accessed', required: true, helpValue: 'RESOURCE'}),
    operation: Flags.string({char: 'o', description: 'the operation (omit: any operation the token grants on the resource)', helpValue: 'OP'}),
    domain: Flags.string({description: 'domain fact for domain-restricted tokens (default: the configuration\'s domain)', helpValue: 'DOMAIN'}),
    prefix: Flags.string({description: 'prefix fact for prefix-restricted tokens', helpValue: 'PREFIX'}),
    'service-chain': Flags.string({description: 'service chain nodes as JSON [{"component","public_key"}] or @file', helpValue: 'JSON|@FILE'}),
    component: Flags.string({description: 'the component verifying: every node before it in the chain must have attested', helpValue: 'NAME'}),
    at: Flags.string({description: 'verify at this time instead of now: unix seconds or RFC 3339', helpValue: 'TIME'}),
    leeway: Flags.integer({description: 'tolerated clock skew on time bounds, in seconds', min: 0, helpValue: 'SECONDS'}),
  }

  async run(): Promise<void> {
    const {flags, args} = this
    const input = await resolveTokenInput({arg: args.token, tokenFile: flags['token-file']})
    const loaded = await this.loadConfig()
    const result = verifyToken(input, {
      key: flags.key,
      keyId: flags['key-id'],
      config: loaded,
      subject: flags.subject ?? null,
      resource: flags.resource,
      operation: flags.operation ?? null,
      domain: flags.domain ?? null,
      prefix: flags.prefix ?? null,
      serviceChain: flags['service-chain'] ? parseServiceChain(flags['service-chain']) : null,
      component: flags.component ?? null,
      at: flags.at === undefined ? undefined : parseAt(flags.at),
      leewaySeconds: flags.leeway,
    })
    if (flags.json) {
      printJson({
        valid: result.valid,
        status: result.status,
        reason: result.reason,
        mode: result.mode,
        subject: result.subject,
        resource: result.resource,
        operation: result.operation,
        checked_at: result.checkedAt,
        expires_at: result.expiresAt,
        expires_at_rfc3339: result.expiresAt === null ? null : isoDate(result.expiresAt),
        root_key_id: result.rootKeyId,
        key: result.key,
        exit_code: result.valid ? ExitCode.OK : ExitCode.DENIED,
      })
    } else {
      for (const line of formatVerify(result, c())) stdout(line)
    }
    if (!result.valid) this.setExitCode(ExitCode.DENIED)
  }
}
