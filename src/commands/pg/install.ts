import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {c, printJson, stdout} from '../../output.js'
import {resolveConnection} from '../../pg/connect.js'
import {databaseFlag, databaseGiven, dryRunFlag, pgConfigFlag} from '../../pg/flags.js'
import {install} from '../../pg/install.js'
import {createProgress} from '../../pg/progress.js'
import {DEFAULT_SERVER_CONFIG_PATH} from '../../pg/server-config.js'

export default class PgInstall extends BaseCommand<typeof PgInstall> {
  static override summary = 'Build and install the hessra PostgreSQL extension, and configure a database for it'
  static override description = `Finds pg_config (several PostgreSQL installations: says which it uses), checks the server headers and build tools (exit 5 naming the Debian package to install when one is missing), builds the bundled extension with the native engine linked in, and installs it (needs root). Then writes the server-side configuration — the public keys of the hessra configuration, nothing secret — to a file the server can read (mode 0644, owned by root), and with a database: CREATE EXTENSION hessra (or UPDATE), ALTER SYSTEM SET hessra.config_path, pg_reload_conf(), and checks the server loads the file.

The file goes to --server-config, else to the path the server already uses (hessra.config_path), else to ${DEFAULT_SERVER_CONFIG_PATH}. An existing file is merged, never silently replaced: every key and revocation it holds stays (a key id whose key differs is refused), new keys and revoked ids are added, and each change is printed; --replace writes your configuration as it is and lists what that drops. The database's own keys and revocations (its tables, \`hessra pg keys\`, \`hessra revoke --database\`) are never touched. Running it again is fine: unchanged files are left alone.`

  static override examples = [
    {description: 'Install and configure a local database', command: 'sudo <%= config.bin %> <%= command.id %> --database postgresql://postgres@localhost/app'},
    {description: 'See every step first', command: '<%= config.bin %> <%= command.id %> --database "$DATABASE_URL" --dry-run'},
    {description: 'Choose the PostgreSQL installation', command: 'sudo <%= config.bin %> <%= command.id %> --pg-config /usr/lib/postgresql/17/bin/pg_config'},
  ]

  static override flags = {
    'pg-config': pgConfigFlag,
    database: databaseFlag,
    'server-config': Flags.string({description: `where the server-side configuration is written (default: the server's hessra.config_path, else ${DEFAULT_SERVER_CONFIG_PATH})`, helpValue: 'PATH'}),
    'skip-build': Flags.boolean({description: 'do not build or install the extension files (only the configuration and the database steps)', default: false}),
    preload: Flags.boolean({
      description:
        'with --database: add hessra to session_preload_libraries (ALTER SYSTEM + reload), so that no session loads it first inside a parallel query, where its settings cannot be applied',
      default: false,
    }),
    replace: Flags.boolean({
      description: 'write the server-side configuration as built from your configuration, dropping the keys and revocations only the existing file holds (they are listed)',
      default: false,
    }),
    'dry-run': dryRunFlag,
  }

  async run(): Promise<void> {
    const {flags} = this
    const loaded = await this.loadConfig()
    const database = databaseGiven(flags.database) ? resolveConnection(flags.database) : null
    const progress = createProgress()
    const r = await install({
      pgConfig: flags['pg-config'],
      database,
      serverConfigPath: flags['server-config'],
      loaded,
      dryRun: flags['dry-run'],
      progress,
      skipBuild: flags['skip-build'],
      preload: flags.preload,
      replaceServerConfig: flags.replace,
    })
    if (flags.json) {
      printJson({
        ok: true,
        dry_run: r.dryRun,
        pg_config: r.pgConfig.path,
        postgres_major: r.pgConfig.major,
        discovery: r.discovery,
        server_config: r.serverConfig,
        database: r.database && {target: r.database.target, server_version: r.database.serverVersion, extension_version: r.database.extensionVersion, created: r.database.created, updated: r.database.updated, config_path_set: r.database.configPathSet},
        steps: r.steps,
      })
      return
    }
    const o = c()
    if (r.dryRun) {
      stdout(o.bold('Dry run: nothing was changed. Steps:'))
      r.steps.forEach((s, i) => {
        stdout(`${String(i + 1).padStart(2)}. ${s.title}${s.note ? o.dim(` (${s.note})`) : ''}`)
        if (s.command) stdout(`      $ ${s.command}`)
        if (s.sql) stdout(`      ${s.sql.split('\n').join('\n      ')}`)
        if (s.file) stdout(`      file: ${s.file}`)
        if (s.content) stdout(o.dim(`      ${s.content.trimEnd().split('\n').join('\n      ')}`))
      })
      return
    }
    stdout(`${o.green('✔')} hessra extension installed for PostgreSQL ${r.pgConfig.major} (${r.pgConfig.path})`)
    if (r.serverConfig) {
      stdout(`  server config: ${r.serverConfig.path}${r.serverConfig.changed ? '' : o.dim(' (unchanged)')}`)
      for (const change of r.serverConfig.changes) stdout(o.dim(`    ${change}`))
    }
    if (r.database) {
      stdout(`  database:      ${r.database.target} — extension ${r.database.extensionVersion}${r.database.created ? ' (created)' : r.database.updated ? ' (updated)' : ''}, hessra.config_path set`)
    } else {
      stdout(o.dim('  no database given: run again with --database URL to create the extension and set hessra.config_path'))
    }
  }
}
