import {BaseCommand} from '../../base-command.js'
import {ExitCode} from '../../errors.js'
import {c, printJson, snakeCaseKeys, stdout} from '../../output.js'
import {resolveConnection, withClient} from '../../pg/connect.js'
import {databaseFlag} from '../../pg/flags.js'
import {getStatus, type Judgement, type StatusReport} from '../../pg/status.js'

export default class PgStatus extends BaseCommand<typeof PgStatus> {
  static override summary = 'Show whether a database is ready for hessra: extension, configuration, keys, revocations, policies'
  static override description = `Reports the extension's version, hessra.config_path and whether the server loads it, the trusted key ids (as a superuser) and how many keys and revoked ids the database's tables hold, this connection's cache statistics, and for each table with row level security the hessra policies on it (flagging disabled/not forced RLS and per-row calls).

Exit status: 0 healthy · 1 unhealthy · 5 the database cannot be reached.`

  static override examples = [
    {description: 'The database in DATABASE_URL', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'A sandbox, as JSON', command: '<%= config.bin %> <%= command.id %> --database postgresql://postgres@127.0.0.1:54329/postgres --json'},
  ]

  static override flags = {
    database: databaseFlag,
  }

  async run(): Promise<void> {
    const target = resolveConnection(this.flags.database)
    const {report, judgement} = await withClient(target, (client) => getStatus(client))
    if (this.flags.json) printJson(snakeCaseKeys({healthy: judgement.healthy, problems: judgement.problems, warnings: judgement.warnings, target: target.display, ...report}))
    else printHuman(target.display, report, judgement)
    this.setExitCode(judgement.healthy ? ExitCode.OK : ExitCode.DENIED)
  }
}

function printHuman(target: string, r: StatusReport, j: Judgement): void {
  const o = c()
  const yes = (b: boolean | null, t = 'yes', f = 'no') => (b === null ? o.dim('unknown') : b ? o.green(t) : o.red(f))
  stdout(`${j.healthy ? o.green.bold('healthy') : o.red.bold('unhealthy')}  ${target}`)
  stdout(`  server:        PostgreSQL ${r.server.version} (database ${r.server.database}, user ${r.server.user}${r.server.superuser ? ', superuser' : ''})`)
  stdout(`  extension:     ${r.extension.installed ? o.green(`hessra ${r.extension.version}`) : r.extension.available ? o.red('available, not created') : o.red('not installed')}`)
  if (r.extension.installed) {
    stdout(`  config path:   ${r.config.path ?? o.red('not set')}`)
    stdout(`  config loads:  ${yes(r.config.loads)}${r.config.error ? o.dim(` — ${r.config.error}`) : ''}`)
    stdout(`  keys:          ${r.config.keys === null ? o.dim(r.server.superuser ? `unknown (${r.config.keysError ?? 'the configuration was not read'})` : 'unknown (needs a superuser)') : r.config.keys.length === 0 ? o.red('none') : r.config.keys.map((k) => (k === r.config.defaultKey ? `${k} (default)` : k)).join(', ')}`)
    stdout(`  database:      ${r.trust === null ? o.dim('keys and revocations unknown (needs a superuser and extension 0.5.0)') : `${r.trust.keys} trusted key${r.trust.keys === 1 ? '' : 's'}, ${r.trust.revocations} revoked id${r.trust.revocations === 1 ? '' : 's'} (tables hessra_trusted_keys, hessra_revocations)`}`)
    if (r.stats) {
      const s = r.stats
      stdout(`  cache:         ${s.verifications} verifications, ${s.cache_hits} hits / ${s.cache_misses} misses, ${s.cache_entries}/${s.cache_capacity} entries, config generation ${s.config_generation} ${o.dim('(this connection)')}`)
    }
  }
  if (r.tables.length === 0) stdout(`  tables:        ${o.dim('no table has row level security')}`)
  else {
    stdout('  tables with row level security:')
    for (const t of r.tables) {
      const rls = t.rlsEnabled ? (t.rlsForced ? 'enabled, forced' : o.yellow('enabled, not forced')) : o.red('DISABLED')
      stdout(`    ${t.schema}.${t.table}  ${o.dim('RLS')} ${rls}${t.otherPolicies ? o.dim(`, ${t.otherPolicies} other polic${t.otherPolicies === 1 ? 'y' : 'ies'}`) : ''}`)
      if (t.hessraPolicies.length === 0) stdout(`      ${o.dim('no hessra policies')}`)
      for (const p of t.hessraPolicies) {
        stdout(`      ${p.name}  ${p.command}${p.permissive ? '' : ' restrictive'} to ${p.roles.join(', ') || 'public'}${p.perStatement ? '' : o.yellow('  (per-row call!)')}`)
      }
    }
  }
  for (const p of j.problems) stdout(`  ${o.red('✖')} ${p}`)
  for (const w of j.warnings) stdout(`  ${o.yellow('!')} ${w}`)
}
