import {Args, Flags} from '@oclif/core'
import {userInfo} from 'node:os'

import {BaseCommand} from '../../base-command.js'
import {ExitCode} from '../../errors.js'
import {c, printJson, stderr, stdout} from '../../output.js'
import {pgConfigFlag} from '../../pg/flags.js'
import {createProgress} from '../../pg/progress.js'
import {DEFAULT_SANDBOX_PORT, ROOT_SANDBOX_DIR, sandboxRoleUrl, sandboxStart, sandboxStatus, sandboxStop} from '../../pg/sandbox.js'

export default class PgSandbox extends BaseCommand<typeof PgSandbox> {
  static override summary = 'Start, stop or check a throwaway local PostgreSQL cluster with hessra installed'
  static override description = `start: initdb a cluster in --dir (default ~/.cache/hessra/sandbox; as root ${ROOT_SANDBOX_DIR}), listening on a unix socket in DIR/socket and on 127.0.0.1 only, port --port (default ${DEFAULT_SANDBOX_PORT}, or a free one); builds the extension and installs it into a private PostgreSQL installation tree in DIR/pg, so nothing outside DIR is written (the server's own files, a packaged hessra.so included, stay untouched); writes the server-side configuration from the hessra configuration (public keys only) and creates the extension. Prints the connection string on stdout (progress on stderr), so URL=$(hessra pg sandbox start) works. Running it again reuses the running cluster. No other local user gets in: the socket (mode 0700) admits only the OS user who started it (peer authentication), and TCP needs the random password kept in DIR/password (PGPASSFILE=DIR/pgpass). Never put real data in it. When run as root the server runs as the postgres OS user. A --dir (or its sandbox.json) that another user could have written is refused before anything is built or run.

stop: stops the server and deletes --dir (only if it is a hessra sandbox) unless --keep.

status: exit 0 when running, 1 when not.

url: the connection string of the running sandbox; with --role ROLE (an application's role, which the socket's peer authentication does not admit) a TCP one with a new random password for that role, kept in DIR/pgpass: DATABASE_URL=$(hessra pg sandbox url --role app) node app.js`

  static override examples = [
    {description: 'Start one and connect', command: 'URL=$(<%= config.bin %> <%= command.id %> start) && psql "$URL"'},
    {description: 'Somewhere else, on a given port', command: '<%= config.bin %> <%= command.id %> start --dir /var/tmp/hs --port 55432'},
    {description: 'Connect an application as its own role', command: 'DATABASE_URL=$(<%= config.bin %> <%= command.id %> url --role app) node app.js'},
    {description: 'Stop it and delete its files', command: '<%= config.bin %> <%= command.id %> stop'},
  ]

  static override args = {
    action: Args.string({description: 'start | stop | status | url', required: true, options: ['start', 'stop', 'status', 'url'], ignoreStdin: true}),
  }

  static override flags = {
    dir: Flags.string({description: `sandbox directory, private to you (default ~/.cache/hessra/sandbox; as root ${ROOT_SANDBOX_DIR})`, helpValue: 'DIR'}),
    port: Flags.integer({description: `TCP port on 127.0.0.1 (default ${DEFAULT_SANDBOX_PORT}, or a free one when busy)`, min: 1, max: 65_535, helpValue: 'N'}),
    'pg-config': pgConfigFlag,
    'skip-install': Flags.boolean({description: 'start: do not build/install the extension (use the one already installed)', default: false}),
    keep: Flags.boolean({description: 'stop: keep the directory (data, logs) instead of deleting it', default: false}),
    role: Flags.string({description: 'url: connect as this role, over TCP with a new random password (kept in DIR/pgpass)', helpValue: 'ROLE'}),
  }

  async run(): Promise<void> {
    const {flags, args} = this
    const progress = createProgress()
    const o = c()
    if (args.action === 'start') {
      const loaded = await this.loadConfig()
      const r = await sandboxStart({dir: flags.dir, port: flags.port, pgConfig: flags['pg-config'], loaded, progress, noInstall: flags['skip-install']})
      if (flags.json) {
        printJson({
          ok: true,
          running: true,
          url: r.url,
          tcp_url: r.tcpUrl,
          password_file: r.passwordFile,
          pgpass_file: r.pgpassFile,
          port: r.port,
          dir: r.dir,
          already_running: r.alreadyRunning,
          created: r.created,
          config_path: r.configPath,
          extension_version: r.extensionVersion,
          postgres: r.postgres,
          warnings: r.warnings,
        })
        return
      }
      stderr(o.dim(`sandbox ${r.alreadyRunning ? 'already running' : 'running'} in ${r.dir} (PostgreSQL ${r.postgres.major}, hessra ${r.extensionVersion ?? '?'}${r.configPath ? `, config ${r.configPath}` : ''})`))
      stderr(o.dim(`connect: psql "${r.url}"  (as ${userInfo().username}, through the private socket)`))
      stderr(o.dim(`     or: PGPASSFILE=${r.pgpassFile} psql ${r.tcpUrl}  (TCP; the password is in ${r.passwordFile})`))
      stdout(r.url)
      return
    }
    if (args.action === 'url') {
      const r = await sandboxRoleUrl({dir: flags.dir, role: flags.role})
      if (flags.json) printJson({url: r.url, role: r.role})
      else stdout(r.url)
      return
    }
    if (args.action === 'stop') {
      const r = await sandboxStop({dir: flags.dir, keep: flags.keep, progress, pgConfig: flags['pg-config']})
      if (flags.json) printJson({ok: true, dir: r.dir, found: r.found, was_running: r.wasRunning, removed: r.removed})
      else if (!r.found) stderr(o.dim(`no sandbox in ${r.dir}`))
      else stderr(`sandbox ${r.wasRunning ? 'stopped' : 'was not running'}${r.removed ? `; removed ${r.dir}` : `; kept ${r.dir}`}`)
      return
    }
    const r = await sandboxStatus({dir: flags.dir, pgConfig: flags['pg-config']})
    if (flags.json) printJson({running: r.running, found: r.found, dir: r.dir, pid: r.pid, port: r.port, url: r.url, config_path: r.configPath, postgres: r.postgres})
    else if (!r.found) stdout(`no sandbox in ${r.dir}`)
    else {
      stdout(`${r.running ? o.green('running') : o.red('stopped')}  ${r.url}`)
      stdout(o.dim(`  dir ${r.dir}${r.pid ? `, pid ${r.pid}` : ''}, PostgreSQL ${r.postgres?.major}${r.configPath ? `, config ${r.configPath}` : ''}`))
    }
    this.setExitCode(r.running ? ExitCode.OK : ExitCode.DENIED)
  }
}
