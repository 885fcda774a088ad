import {Flags} from '@oclif/core'

import {BaseCommand} from '../../../base-command.js'
import {ExitCode, UsageError} from '../../../errors.js'
import {repeatable} from '../../../flags.js'
import {resolveTokenInput} from '../../../input/token.js'
import {c, printJson, stdout} from '../../../output.js'
import {resolveConnection, withClient} from '../../../pg/connect.js'
import {databaseFlag} from '../../../pg/flags.js'
import {checkPolicies, type CheckToken, DEFAULT_SAMPLE, evaluateExpectations, formatCheck, parseExpectations} from '../../../pg/policy-check.js'
import {parseOperations} from '../../../pg/policy.js'

export default class PgPolicyCheck extends BaseCommand<typeof PgPolicyCheck> {
  static override summary = 'Show what each token may do to a table under its row-level security: an access matrix'
  static override description = `For each --token-file, as a role row-level security applies to: the rows a SELECT sees, the rows an UPDATE and a DELETE would change, and how many of up to --sample existing rows an INSERT would accept. Everything runs in one transaction that is rolled back: the check changes nothing (UPDATE and DELETE lock the rows they touch until then). The role is --role, else the connected user, else — connected as a superuser or a BYPASSRLS role, which policies never restrict — a temporary role that sees what policies TO PUBLIC allow.

--expect states what must hold; exit status 1 when an expectation does not.

Exit status: 0 · 1 an expectation failed · 2 usage · 5 the database cannot be reached.`

  static override examples = [
    {description: 'Two tokens, as the application role', command: '<%= config.bin %> <%= command.id %> --table documents --token-file alice.token --token-file expired.token --role app'},
    {
      description: 'In CI: alice sees rows but deletes none, the expired token nothing',
      command: '<%= config.bin %> <%= command.id %> --table documents --token-file alice.token --token-file expired.token --expect alice.token:select=some,delete=0 --expect "expired.token:*=none"',
    },
  ]

  static override flags = {
    database: databaseFlag,
    table: Flags.string({char: 't', description: 'the table (schema.table accepted when --schema is not given)', required: true, helpValue: 'TABLE'}),
    schema: Flags.string({description: 'schema of the table (default public)', helpValue: 'SCHEMA'}),
    'token-file': Flags.string({description: 'a token to check (repeatable): text or raw binary', required: true, helpValue: 'FILE', ...repeatable}),
    role: Flags.string({description: 'run as this role (it must not bypass row level security)', helpValue: 'ROLE'}),
    expect: Flags.string({
      description: 'what must hold (repeatable): [TOKEN-FILE:]COMMAND=VALUE[,...], COMMAND select|insert|update|delete|*, VALUE N, >N, <N, all, none, some',
      helpValue: 'SPEC',
      ...repeatable,
    }),
    commands: Flags.string({description: 'SQL commands to check, comma separated (default all: select,insert,update,delete)', helpValue: 'LIST'}),
    sample: Flags.integer({description: `existing rows re-inserted to check INSERT (default ${DEFAULT_SAMPLE})`, min: 1, max: 100000, helpValue: 'N'}),
  }

  async run(): Promise<void> {
    const files = this.flags['token-file']
    if (new Set(files).size !== files.length) throw new UsageError('the same --token-file is given twice')
    const tokens: CheckToken[] = []
    for (const file of files) {
      const input = await resolveTokenInput({tokenFile: file})
      tokens.push({label: file, token: input.kind === 'text' ? input.text : Buffer.from(input.bytes).toString('base64url')})
    }
    const expectations = parseExpectations(this.flags.expect ?? [], files)
    const target = resolveConnection(this.flags.database)
    const result = await withClient(target, (client) =>
      checkPolicies(client, {table: this.flags.table, schema: this.flags.schema, tokens, role: this.flags.role, commands: parseOperations(this.flags.commands), sample: this.flags.sample}),
    )
    const outcomes = evaluateExpectations(result, expectations)
    const ok = outcomes.every((o) => o.ok)
    if (this.flags.json) {
      printJson({ok, ...result, expectations: outcomes})
    } else {
      for (const line of formatCheck(result)) stdout(line)
      const o = c()
      for (const e of outcomes) {
        stdout(`${e.ok ? o.green('✔') : o.red('✖')} ${e.token} ${e.command.toUpperCase()}: expected ${e.expected}, got ${e.actual ?? 'an error'}`)
      }
    }
    this.setExitCode(ok ? ExitCode.OK : ExitCode.DENIED)
  }
}
