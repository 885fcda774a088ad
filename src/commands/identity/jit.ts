import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {keyFlags, tokenArg, tokenFileFlag} from '../../flags.js'
import {resolveTokenInput} from '../../input/token.js'
import {isoDate, parseTtl} from '../../input/time.js'
import {printJson} from '../../output.js'
import {jitIdentityToken} from '../../tokens/identity.js'
import {inspectToken} from '../../tokens/inspect.js'

export default class IdentityJit extends BaseCommand<typeof IdentityJit> {
  static override summary = 'Make a just-in-time identity token: the same identity, for a few seconds'
  static override description = `Appends a third-party block, signed by a fresh ephemeral key, holding only a time bound (default 5 seconds): send this to a service instead of the long-lived token, so a leaked copy is soon useless. The new token alone goes to stdout.`

  static override examples = [
    {description: 'A 5-second token to send with one request', command: 'JIT=$(<%= config.bin %> <%= command.id %> "$ID_TOKEN" --key root.pub) && <%= config.bin %> verify "$JIT" --key root.pub --identity urn:hessra:alice'},
  ]

  static override args = {token: tokenArg}

  static override flags = {
    ...keyFlags,
    'token-file': tokenFileFlag,
    ttl: Flags.string({description: 'lifetime (5s, 30s, 1m) or an RFC 3339 expiry', default: '5s', helpValue: 'DURATION|RFC3339'}),
  }

  async run(): Promise<void> {
    const {flags, args} = this
    const input = await resolveTokenInput({arg: args.token, tokenFile: flags['token-file']})
    const loaded = await this.loadConfig()
    const expiresAt = parseTtl(flags.ttl)
    const token = jitIdentityToken(input, {key: flags.key, keyId: flags['key-id'], config: loaded, expiresAt})
    if (flags.json) {
      // the token's earliest time bound (the engine's reading): the parent's when it lapses first
      const effective = inspectToken(token).expires_at ?? expiresAt
      printJson({token, expires_at: effective, expires_at_rfc3339: isoDate(effective), requested_expires_at: expiresAt})
      return
    }
    process.stdout.write(token + '\n')
  }
}
