import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {isoDate, parseTtl, relativeTime} from '../../input/time.js'
import {ce, printJson, stderr} from '../../output.js'
import {mintIdentityToken} from '../../tokens/identity.js'

export default class IdentityMint extends BaseCommand<typeof IdentityMint> {
  static override summary = 'Mint a Hessra identity token offline (dev kit)'
  static override description = `An identity token proves who its holder is: subject(ID), a check that the actor is ID (with --delegatable: ID or an identity below it, ID:...), a time bound from --ttl, and with --domain a domain restriction. The token alone goes to stdout; details go to stderr. Verify it with \`hessra verify TOKEN --identity ID\`.`

  static override examples = [
    {description: 'A delegatable identity for alice, for one hour', command: 'T=$(<%= config.bin %> <%= command.id %> --private-key root.pem --subject urn:hessra:alice --delegatable --ttl 1h)'},
    {description: 'Restricted to a domain', command: '<%= config.bin %> <%= command.id %> --private-key root.pem --subject urn:hessra:alice --domain example.com'},
  ]

  static override flags = {
    'private-key': Flags.string({char: 'p', required: true, description: 'root private key file (PEM PKCS#8, e.g. from `hessra keys generate`)', helpValue: 'FILE', env: 'HESSRA_PRIVATE_KEY_FILE'}),
    subject: Flags.string({char: 's', required: true, description: 'the identity, e.g. urn:hessra:alice', helpValue: 'ID'}),
    delegatable: Flags.boolean({description: 'identities below it (ID:...) pass too, and it can be delegated to them', default: false}),
    domain: Flags.string({description: 'restrict the identity to a domain', helpValue: 'DOMAIN'}),
    ttl: Flags.string({description: 'lifetime (30s, 5m, 1h, 2d) or an RFC 3339 expiry', default: '1h', helpValue: 'DURATION|RFC3339'}),
    'root-key-id': Flags.integer({description: 'root key id to embed, so verifiers can pick the key', min: 0, helpValue: 'N'}),
  }

  async run(): Promise<void> {
    const {flags} = this
    const expiresAt = parseTtl(flags.ttl)
    const token = mintIdentityToken({
      privateKey: flags['private-key'],
      subject: flags.subject,
      delegatable: flags.delegatable,
      domain: flags.domain ?? null,
      expiresAt,
      rootKeyId: flags['root-key-id'] ?? null,
    })
    if (flags.json) {
      printJson({
        token,
        subject: flags.subject,
        delegatable: flags.delegatable,
        domain: flags.domain ?? null,
        expires_at: expiresAt,
        expires_at_rfc3339: isoDate(expiresAt),
        root_key_id: flags['root-key-id'] ?? null,
      })
      return
    }
    process.stdout.write(token + '\n')
    const how = [flags.delegatable ? 'delegatable' : 'not delegatable', flags.domain ? `domain ${flags.domain}` : null].filter(Boolean).join(', ')
    stderr(ce().dim(`minted identity ${flags.subject} (${how}); expires ${isoDate(expiresAt)} (${relativeTime(expiresAt)})`))
  }
}
