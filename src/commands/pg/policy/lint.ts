import {Flags} from '@oclif/core'

import {BaseCommand} from '../../../base-command.js'
import {ExitCode} from '../../../errors.js'
import {c, printJson, stdout} from '../../../output.js'
import {resolveConnection, withClient} from '../../../pg/connect.js'
import {databaseFlag} from '../../../pg/flags.js'
import {lintFails, lintTables, readLintTables} from '../../../pg/policy-lint.js'
import {qualifiedName} from '../../../pg/sql.js'
import {splitTable} from '../../../pg/policy.js'

export default class PgPolicyLint extends BaseCommand<typeof PgPolicyLint> {
  static override summary = 'Find the mistakes that make hessra row-level security slow or leaky'
  static override description = `Reads the catalogs of every table with a policy calling a hessra function (or only --table) and reports: hessra calls evaluated for every row (not wrapped in (SELECT ...)), row level security disabled or not FORCEd, INSERT policies without WITH CHECK (and UPDATE/ALL policies leaving it implicit), and compared columns no index serves (the query reads the whole table). Per-row hessra_row_security checks are noted.

Exit status: 0 nothing found · 1 an error or warning · 5 the database cannot be reached.`

  static override examples = [
    {description: 'Every table of the database in DATABASE_URL', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'One table, as JSON', command: '<%= config.bin %> <%= command.id %> --table shop.orders --json'},
  ]

  static override flags = {
    database: databaseFlag,
    table: Flags.string({char: 't', description: 'only this table (schema.table accepted when --schema is not given)', helpValue: 'TABLE'}),
    schema: Flags.string({description: 'schema of --table (default public)', helpValue: 'SCHEMA', dependsOn: ['table']}),
  }

  async run(): Promise<void> {
    const only = this.flags.table === undefined ? undefined : splitTable(this.flags.table, this.flags.schema)
    const table = only === undefined ? undefined : qualifiedName(only.schema, only.table)
    const target = resolveConnection(this.flags.database)
    const tables = await withClient(target, (client) => readLintTables(client, table))
    const findings = lintTables(tables)
    const fails = lintFails(findings)
    if (this.flags.json) {
      printJson({ok: !fails, tables: tables.map((t) => t.table), findings})
    } else {
      const o = c()
      const mark = {error: o.red('error'), warning: o.yellow('warning'), note: o.dim('note')}
      for (const f of findings) {
        stdout(`${mark[f.severity]}  ${f.table}${f.policy === null ? '' : ` policy ${JSON.stringify(f.policy)}`}: ${f.message} [${f.rule}]`)
        if (f.hint) stdout(o.dim(`    ${f.hint}`))
      }
      stdout(`${tables.length} table${tables.length === 1 ? '' : 's'} with hessra policies; ${findings.filter((f) => f.severity === 'error').length} errors, ${findings.filter((f) => f.severity === 'warning').length} warnings`)
    }
    this.setExitCode(fails ? ExitCode.DENIED : ExitCode.OK)
  }
}
