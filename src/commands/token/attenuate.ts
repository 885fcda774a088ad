import {Flags} from '@oclif/core'
import {readFileSync} from 'node:fs'

import {BaseCommand} from '../../base-command.js'
import {IoError} from '../../errors.js'
import {keyFlags, repeatable, tokenArg, tokenFileFlag} from '../../flags.js'
import {resolveTokenInput} from '../../input/token.js'
import {isoDate, parseTtl} from '../../input/time.js'
import {ce, printJson, stderr} from '../../output.js'
import {parseParams} from '../../params.js'
import {attenuateToken, attenuationDatalog} from '../../tokens/devkit.js'
import {inspectToken} from '../../tokens/inspect.js'

export default class TokenAttenuate extends BaseCommand<typeof TokenAttenuate> {
  static override summary = 'Append an attenuation block: a shorter lifetime, extra checks, or your own Datalog'
  static override description = 'The token is verified with the root public key first. The new token alone goes to stdout.'

  static override examples = [
    {description: 'Make it expire in five minutes', command: 'T2=$(<%= config.bin %> <%= command.id %> "$T" --key root.pub --ttl 5m)'},
    {description: 'Only from one address', command: `<%= config.bin %> <%= command.id %> "$T" --key-id dev --check 'source_ip("10.0.0.7")'`},
    {description: 'A block from a file, with parameters', command: '<%= config.bin %> <%= command.id %> --token-file t.txt --key root.pub --datalog block.dl --param max=10'},
  ]

  static override args = {token: tokenArg}

  static override flags = {
    ...keyFlags,
    'token-file': tokenFileFlag,
    ttl: Flags.string({description: 'add a time bound: duration from now (30s, 5m, 1h) or RFC 3339', helpValue: 'DURATION|RFC3339'}),
    check: Flags.string({description: 'add a check (repeatable); "check if" is added when missing', helpValue: 'DATALOG', ...repeatable}),
    datalog: Flags.string({description: 'add the Datalog in FILE (facts, rules, checks)', helpValue: 'FILE'}),
    param: Flags.string({description: 'a {name} parameter for the Datalog (repeatable), name=value', helpValue: 'NAME=VALUE', ...repeatable}),
  }

  async run(): Promise<void> {
    const {flags, args} = this
    let datalog: string | null = null
    if (flags.datalog) {
      try {
        datalog = readFileSync(flags.datalog, 'utf8')
      } catch (error) {
        throw new IoError(`cannot read Datalog file ${flags.datalog} (${(error as {code?: string}).code ?? 'error'})`)
      }
    }
    const expiresAt = flags.ttl ? parseTtl(flags.ttl) : null
    const block = attenuationDatalog({expiresAt, checks: flags.check, datalog})
    const input = await resolveTokenInput({arg: args.token, tokenFile: flags['token-file']})
    if (expiresAt !== null) {
      // a block can only narrow: a later bound than the token's own changes nothing, which the user should know
      const own = inspectToken(input).expires_at
      if (own !== null && expiresAt > own) {
        stderr(ce().yellow(`warning: --ttl ends ${isoDate(expiresAt)}, after the token's own expiry ${isoDate(own)}: the token still expires then`))
      }
    }
    const loaded = await this.loadConfig()
    const token = attenuateToken(input, {key: flags.key, keyId: flags['key-id'], config: loaded, datalog: block, params: parseParams(flags.param)})
    if (flags.json) {
      printJson({token, block, expires_at: expiresAt, expires_at_rfc3339: expiresAt === null ? null : isoDate(expiresAt)})
      return
    }
    process.stdout.write(token + '\n')
    stderr(ce().dim(`attenuated with:\n${block.trimEnd().split('\n').map((l) => `  ${l}`).join('\n')}`))
  }
}
