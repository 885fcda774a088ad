import {BaseCommand} from '../base-command.js'
import {atFlag, keyFlags, tokenArg, tokenFileFlag} from '../flags.js'
import {formatInspect} from '../format.js'
import {resolveTokenInput} from '../input/token.js'
import {isoDate, nowSeconds, parseAt} from '../input/time.js'
import {c, ce, printJson, stderr, stdout} from '../output.js'
import {inspectToken} from '../tokens/inspect.js'

export default class Inspect extends BaseCommand<typeof Inspect> {
  static override summary = 'Show what is inside a token: blocks as Datalog, rights, expiry, keys, revocation ids'
  static override description = `Without --key (or --key-id) the token is only DECODED: nothing proves it was issued by anyone you trust, and the output says so. With a key every signature is verified first (exit 1 if one does not match).`

  static override examples = [
    {description: 'Decode only (signatures NOT checked)', command: '<%= config.bin %> <%= command.id %> "$TOKEN"'},
    {description: 'Verify signatures with a key from the configuration', command: '<%= config.bin %> <%= command.id %> "$TOKEN" --key-id prod'},
    {description: 'Extract the expiry with jq', command: '<%= config.bin %> <%= command.id %> --token-file token.txt --json | jq .expires_at'},
  ]

  static override args = {token: tokenArg}

  static override flags = {
    ...keyFlags,
    'token-file': tokenFileFlag,
    at: atFlag('judge the expiry at this time instead of now'),
  }

  async run(): Promise<void> {
    const {flags, args} = this
    const at = flags.at === undefined ? nowSeconds() : parseAt(flags.at)
    const input = await resolveTokenInput({arg: args.token, tokenFile: flags['token-file']})
    const withKey = flags.key !== undefined || flags['key-id'] !== undefined
    const loaded = withKey ? await this.loadConfig() : undefined
    const result = inspectToken(input, {key: flags.key, keyId: flags['key-id'], config: loaded, verify: withKey})
    if (!result.verified) stderr(ce().yellow.bold('warning: signatures NOT verified (no --key given): this is what the token claims, not what it proves'))
    if (flags.json) {
      printJson({
        ...result,
        expires_at_rfc3339: result.expires_at === null ? null : (result.expires_at_rfc3339 ?? isoDate(result.expires_at)),
        expired: result.expires_at === null ? false : result.expires_at <= at,
        checked_at: at,
      })
    } else {
      for (const line of formatInspect(result, c(), at)) stdout(line)
    }
  }
}
