import {Flags} from '@oclif/core'
import {readFileSync} from 'node:fs'

import {BaseCommand} from '../base-command.js'
import {ExitCode, IoError, UsageError} from '../errors.js'
import {atFlag, keyFlags, tokenArg, tokenFileFlag} from '../flags.js'
import {formatAuthorize} from '../format.js'
import {dateLiteralTimeHint, parseAt} from '../input/time.js'
import {readAllStdin, resolveTokenInput} from '../input/token.js'
import {c, ce, printJson, stderr, stdout} from '../output.js'
import {authorize, authorizerAt} from '../tokens/authorize.js'
import {verdictError} from '../tokens/verify.js'

export default class Authorize extends BaseCommand<typeof Authorize> {
  static override summary = 'General Biscuit authorization: run your own Datalog authorizer against a token'
  static override description = `Verifies the token's signatures with the root public key, then evaluates the authorizer (facts, rules, checks and allow/deny policies) together with the token's blocks. Exit status 0 when an allow policy matches and every check passes, 1 otherwise, 3 when the token or the authorizer does not parse.

--json prints {"authorized": bool, "policy": index|null, "policy_kind": "allow"|"deny"|null, "error": null|{...}}.`

  static override examples = [
    {description: 'Authorizer from a file', command: '<%= config.bin %> <%= command.id %> "$TOKEN" --key root.pub --authorizer authorizer.dl'},
    {
      description: 'Authorizer from stdin (the token then comes from an argument, --token-file or HESSRA_TOKEN)',
      command: `echo 'subject("alice"); resource("documents");' 'operation("read");' 'allow if right($s, "documents", "read");' | <%= config.bin %> <%= command.id %> "$TOKEN" --key-id prod --at now --authorizer -`,
    },
    {description: 'Machine-readable', command: '<%= config.bin %> <%= command.id %> --token-file token.txt --key root.pub --authorizer policy.dl --json'},
  ]

  static override args = {token: tokenArg}

  static override flags = {
    ...keyFlags,
    'token-file': tokenFileFlag,
    authorizer: Flags.string({char: 'a', description: 'authorizer Datalog (required): a file, or `-` for stdin', helpValue: 'FILE|-'}),
    at: atFlag('add the fact time(AT) to the authorizer, in integer unix seconds as Hessra tokens compare time'),
  }

  async run(): Promise<void> {
    const {flags, args} = this
    // Checked here rather than by oclif (`required`), whose message is "Missing required flag authorizer".
    if (flags.authorizer === undefined) {
      throw new UsageError('an authorizer is required: --authorizer FILE (or `-` to read it from stdin) holding the facts, checks and allow/deny policies to run', {
        hint: 'for the Hessra rules (subject, resource, operation) use `hessra verify`; see `hessra authorize --help` for examples',
      })
    }
    if (flags.authorizer === '-' && (args.token === '-' || flags['token-file'] === '-')) {
      throw new UsageError('stdin cannot hold both the token and the authorizer')
    }
    let code: string
    if (flags.authorizer === '-') {
      code = Buffer.from(await readAllStdin()).toString('utf8')
    } else {
      try {
        code = readFileSync(flags.authorizer, 'utf8')
      } catch (error) {
        throw new IoError(`cannot read authorizer file ${flags.authorizer} (${(error as {code?: string}).code ?? 'error'})`)
      }
    }
    if (flags.at !== undefined) code = authorizerAt(code, parseAt(flags.at))
    const input = await resolveTokenInput({
      arg: args.token,
      tokenFile: flags['token-file'],
      stdinIsPiped: flags.authorizer === '-' ? () => false : undefined,
    })
    const loaded = await this.loadConfig()
    const result = authorize(input, {key: flags.key, keyId: flags['key-id'], config: loaded, authorizer: code})
    // not a token: an error (exit 3), as for every malformed input
    if (result.error?.kind === 'malformed') throw verdictError({status: 'malformed', reason: result.error.message, code: result.error.code ?? null, expiresAt: null})
    if (flags.json) printJson(result)
    else for (const line of formatAuthorize(result, c())) stdout(line)
    if (!result.authorized) {
      const hint = dateLiteralTimeHint(code)
      if (hint) stderr(`${ce().dim('hint')}: ${hint}`)
      this.setExitCode(ExitCode.DENIED)
    }
  }
}
