import {BaseCommand} from '../../../base-command.js'
import {c, ce, printJson, stderr, stdout} from '../../../output.js'
import {applyPolicies} from '../../../pg/apply.js'
import {resolveConnection, withClient} from '../../../pg/connect.js'
import {databaseFlag, dryRunFlag} from '../../../pg/flags.js'
import {policyFlags, policyOptionsFromFlags} from '../../../pg/policy-flags.js'

export default class PgPolicyApply extends BaseCommand<typeof PgPolicyApply> {
  static override summary = 'Create (or replace) hessra row-level security policies on a table, in one transaction'
  static override description = `Runs exactly the SQL \`hessra pg policy generate\` prints with the same flags, in one transaction: RLS enabled and forced, the table's previous hessra_* policies dropped (no other policy is touched), the new ones created. Re-applying is safe. The calls are qualified with the schema the extension is installed in (read from the database) and the transaction pins search_path to pg_catalog. --dry-run connects, checks everything and prints the SQL it would run, changing nothing.`

  static override examples = [
    {description: 'Apply to the database in DATABASE_URL', command: '<%= config.bin %> <%= command.id %> --table documents --owner-column owner'},
    {description: 'Show what would run', command: '<%= config.bin %> <%= command.id %> --table documents --database postgresql://postgres@127.0.0.1:54329/postgres --dry-run'},
  ]

  static override flags = {
    ...policyFlags,
    database: databaseFlag,
    'dry-run': dryRunFlag,
  }

  async run(): Promise<void> {
    const options = policyOptionsFromFlags(this.flags)
    const target = resolveConnection(this.flags.database)
    const r = await withClient(target, (client) => applyPolicies(client, options, {dryRun: this.flags['dry-run']}))
    const gen = r.generated
    const warnings = [...gen.warnings, ...r.warnings]
    for (const w of warnings) stderr(`${ce().yellow('warning')}: ${w}`)
    if (!r.applied) {
      if (this.flags.json) printJson({dry_run: true, table: gen.qualified, statements: gen.statements, sql: gen.sql})
      else process.stdout.write(gen.sql)
      return
    }
    if (this.flags.json) {
      printJson({ok: true, table: r.table, created: r.created, replaced: r.dropped, untouched: r.untouched, warnings, index_suggestion: gen.indexSuggestion, index_suggestions: gen.indexSuggestions})
      return
    }
    const o = c()
    stdout(`${o.green('✔')} ${r.table}: row level security enabled and forced; ${r.created.length} hessra polic${r.created.length === 1 ? 'y' : 'ies'} ${r.dropped.length > 0 ? 'replaced' : 'created'} (${r.created.join(', ')})`)
    if (r.untouched.length > 0) stdout(o.dim(`  other policies left as they were: ${r.untouched.join(', ')}`))
    for (const s of gen.indexSuggestions) stdout(o.dim(`  no index serves the comparison; suggested: ${s}`))
  }
}
