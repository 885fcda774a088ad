import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {ExitCode} from '../../errors.js'
import {c, printJson, stderr, stdout} from '../../output.js'
import {pgConfigFlag} from '../../pg/flags.js'
import {createProgress} from '../../pg/progress.js'
import {DEFAULT_SANDBOX_PORT, ROOT_SANDBOX_DIR, sandboxStart, sandboxStatus, sandboxStop} from '../../pg/sandbox.js'

export default class PgSandbox extends BaseCommand<typeof PgSandbox> {
  static override summary = 'Start, stop or check a throwaway local PostgreSQL cluster with hessra installed'
  static override description = `start: initdb a cluster in --dir (default ~/.cache/hessra/sandbox; as root ${ROOT_SANDBOX_DIR}), listening on 127.0.0.1 only on --port (default ${DEFAULT_SANDBOX_PORT}, or a free one), builds and installs the extension, writes the server-side configuration from the hessra configuration (public keys only) and creates the extension. Prints the connection string on stdout (progress on stderr), so URL=$(hessra pg sandbox start) works. Running it again reuses the running cluster. Authentication is "trust" for local connections: never put real data in it. When run as root the server runs as the postgres OS user. A --dir (or its sandbox.json) that another user could have written is refused before anything is built or run.

stop: stops the server and deletes --dir (only if it is a hessra sandbox) unless --keep.

status: exit 0 when running, 1 when not.`

  static override examples = [
    {description: 'Start one and connect', command: 'URL=$(<%= config.bin %> <%= command.id %> start) && psql "$URL"'},
    {description: 'Somewhere else, on a given port', command: '<%= config.bin %> <%= command.id %> start --dir /var/tmp/hs --port 55432'},
    {description: 'Stop it and delete its files', command: '<%= config.bin %> <%= command.id %> stop'},
  ]

  static override args = {
    action: Args.string({description: 'start | stop | status', required: true, options: ['start', 'stop', 'status'], ignoreStdin: true}),
  }

  static override flags = {
    dir: Flags.string({description: `sandbox directory, private to you (default ~/.cache/hessra/sandbox; as root ${ROOT_SANDBOX_DIR})`, helpValue: 'DIR'}),
    port: Flags.integer({description: `TCP port on 127.0.0.1 (default ${DEFAULT_SANDBOX_PORT}, or a free one when busy)`, min: 1, max: 65_535, helpValue: 'N'}),
    'pg-config': pgConfigFlag,
    'skip-install': Flags.boolean({description: 'start: do not build/install the extension (use the one already installed)', default: false}),
    keep: Flags.boolean({description: 'stop: keep the directory (data, logs) instead of deleting it', default: false}),
  }

  async run(): Promise<void> {
    const {flags, args} = this
    const progress = createProgress()
    const o = c()
    if (args.action === 'start') {
      const loaded = await this.loadConfig()
      const r = await sandboxStart({dir: flags.dir, port: flags.port, pgConfig: flags['pg-config'], loaded, progress, noInstall: flags['skip-install']})
      if (flags.json) {
        printJson({ok: true, running: true, url: r.url, port: r.port, dir: r.dir, already_running: r.alreadyRunning, created: r.created, config_path: r.configPath, extension_version: r.extensionVersion, postgres: r.postgres, warnings: r.warnings})
        return
      }
      stderr(o.dim(`sandbox ${r.alreadyRunning ? 'already running' : 'running'} in ${r.dir} (PostgreSQL ${r.postgres.major}, hessra ${r.extensionVersion ?? '?'}${r.configPath ? `, config ${r.configPath}` : ''})`))
      stdout(r.url)
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
