import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {keyFlags, tokenArg, tokenFileFlag} from '../../flags.js'
import {resolveTokenInput} from '../../input/token.js'
import {isoDate, parseTtl, relativeTime} from '../../input/time.js'
import {ce, printJson, stderr} from '../../output.js'
import {delegateIdentityToken} from '../../tokens/identity.js'
import {inspectToken} from '../../tokens/inspect.js'

export default class IdentityDelegate extends BaseCommand<typeof IdentityDelegate> {
  static override summary = 'Delegate an identity token to an identity below it (e.g. alice to alice:laptop)'
  static override description = `Appends a third-party block, signed by a fresh ephemeral key, that restricts the actor to --to (and the identities below it) until --ttl. The delegated token serves only that identity: not the delegator, not a sibling. The delegation is refused unless the result verifies for --to now (the token must be delegatable, not expired, and --to below its identity). The new token alone goes to stdout.`

  static override examples = [
    {description: "alice hands her laptop a day's identity", command: '<%= config.bin %> <%= command.id %> "$ID_TOKEN" --key root.pub --to urn:hessra:alice:laptop --ttl 1d'},
  ]

  static override args = {token: tokenArg}

  static override flags = {
    ...keyFlags,
    'token-file': tokenFileFlag,
    to: Flags.string({required: true, description: 'the identity to delegate to (below the token\'s own: ID:...)', helpValue: 'ID'}),
    ttl: Flags.string({description: 'lifetime of the delegation (30s, 5m, 1h, 2d) or an RFC 3339 expiry', default: '1h', helpValue: 'DURATION|RFC3339'}),
  }

  async run(): Promise<void> {
    const {flags, args} = this
    const input = await resolveTokenInput({arg: args.token, tokenFile: flags['token-file']})
    const loaded = await this.loadConfig()
    const expiresAt = parseTtl(flags.ttl)
    const token = delegateIdentityToken(input, {key: flags.key, keyId: flags['key-id'], config: loaded, to: flags.to, expiresAt})
    // The token lapses at its earliest time bound, which may be the parent's: the engine reads it.
    const effective = inspectToken(token).expires_at ?? expiresAt
    if (flags.json) {
      printJson({token, identity: flags.to, expires_at: effective, expires_at_rfc3339: isoDate(effective), requested_expires_at: expiresAt})
      return
    }
    process.stdout.write(token + '\n')
    const parent = effective < expiresAt ? `, with its parent token: before the --ttl ${flags.ttl} asked for` : ''
    stderr(ce().dim(`delegated to ${flags.to}; it expires ${isoDate(effective)} (${relativeTime(effective)})${parent}`))
  }
}
