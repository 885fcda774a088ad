import {BaseCommand} from '../../../base-command.js'
import {ce, printJson, stderr} from '../../../output.js'
import {generateFromFlags, policyFlags} from '../../../pg/policy-flags.js'

export default class PgPolicyGenerate extends BaseCommand<typeof PgPolicyGenerate> {
  static override summary = 'Print row-level security policies that check hessra tokens'
  static override description = `Prints SQL (for psql, or review) that enables and FORCEs row level security on the table and creates one policy per SQL command (and role). Every hessra call is wrapped in (SELECT ...) so PostgreSQL runs it once per statement (an InitPlan), not once per row; INSERT and UPDATE get a WITH CHECK. The token is read with current_setting('hessra.token', true) (see --token-setting); the check is hessra_row_security(token, RESOURCE, OPERATION) — the token must grant OPERATION on RESOURCE to someone. With --resource-column, the resource differs per row: the row's COLUMN must be one of the resources the token grants, COLUMN = ANY ((SELECT hessra_granted_resources(OPERATION))::text[]) — computed once per statement, so an index on COLUMN serves the query and it costs what the granted rows cost. --per-row checks every row with hessra_row_security(COLUMN, OPERATION) instead (for tokens whose rights are derived by rules). With --owner-column, rows must also belong to the token's subject: COLUMN = (SELECT hessra_current_subject()). The script ends with the index each compared column needs (\`pg policy apply\` and \`pg policy lint\` ask the database whether it exists). 

Policies are named hessra_<command>[_<role>]; the script first drops the table's hessra_* policies and no others, so running it again replaces them. \`hessra pg policy apply\` runs the same SQL in one transaction.`

  static override examples = [
    {description: 'Anyone whose token grants read/write on "documents"', command: '<%= config.bin %> <%= command.id %> --table documents'},
    {description: "Only the token subject's own rows, for role app", command: '<%= config.bin %> <%= command.id %> --table documents --owner-column owner --role app'},
    {description: "Per-project rows: the token must grant read/write on the row's project", command: '<%= config.bin %> <%= command.id %> --table tasks --resource-column project'},
    {description: 'The same, checked row by row', command: '<%= config.bin %> <%= command.id %> --table tasks --resource-column project --per-row'},
    {description: 'Read-only, custom operation names and resource', command: '<%= config.bin %> <%= command.id %> --table orders --schema shop --operations select --operation-map select=view --resource "shop:{table}"'},
    {description: 'Review, then apply with psql', command: '<%= config.bin %> <%= command.id %> --table documents > policies.sql && psql "$DATABASE_URL" -f policies.sql'},
  ]

  static override flags = policyFlags

  async run(): Promise<void> {
    const gen = generateFromFlags(this.flags)
    if (this.flags.json) {
      printJson({
        table: gen.qualified,
        schema: gen.schema,
        name: gen.table,
        token_expression: gen.tokenExpression,
        policies: gen.policies.map((p) => ({name: p.name, command: p.command, role: p.role, operation: p.operation, resource: p.resource, using: p.using, with_check: p.withCheck})),
        statements: gen.statements,
        sql: gen.sql,
        index_suggestion: gen.indexSuggestion,
        index_suggestions: gen.indexSuggestions,
        warnings: gen.warnings,
      })
      return
    }
    process.stdout.write(gen.sql)
    for (const w of gen.warnings) stderr(`${ce().yellow('warning')}: ${w}`)
  }
}
