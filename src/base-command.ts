/**
 * Every hessra command extends BaseCommand. Its `catch` is the ONE place where errors become exit codes
 * and error output (human on stderr, or a JSON object on stdout with --json). No stack traces unless
 * DEBUG=hessra or HESSRA_DEBUG=1.
 */
import {Command, Flags, type Interfaces} from '@oclif/core'

import {loadConfig, type LoadedConfig} from './config/index.js'
import {errorKindFor, errorMessage, exitCodeFor, ExitCode, HessraError, type ExitCode as ExitCodeT} from './errors.js'
import {ce, printJson} from './output.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override baseFlags = {
    json: Flags.boolean({description: 'print machine-readable JSON on stdout (see docs/cli-json.md); exit codes are unchanged', default: false}),
    config: Flags.string({
      description: 'configuration file to use (default: searched from the current directory, then ~/.config/hessra/config.json; env HESSRA_CONFIG)',
      helpValue: 'PATH',
    }),
  }

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>

  /** True when --json was asked for, even if flag parsing failed. */
  protected get jsonMode(): boolean {
    if (this.flags && typeof this.flags.json === 'boolean') return this.flags.json
    return this.argv.includes('--json')
  }

  public override async init(): Promise<void> {
    await super.init()
    const {flags, args} = await this.parse(this.ctor)
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
  }

  /** Loads the configuration (--config, HESSRA_CONFIG, search, ~/.config/hessra/config.json). */
  protected async loadConfig(): Promise<LoadedConfig> {
    return loadConfig({configPath: this.flags.config})
  }

  /** Sets the exit code for a successful run that still has a non-zero outcome (e.g. a denied token). */
  protected setExitCode(code: ExitCodeT): void {
    process.exitCode = code
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}; code?: string}): Promise<void> {
    // this.exit(n) / help / version: not errors
    if (err.code === 'EEXIT' || err.name === 'ExitError') {
      process.exitCode = err.oclif?.exit ?? 0
      return
    }
    const code = exitCodeFor(err)
    const kind = errorKindFor(err)
    const message = cleanMessage(errorMessage(err))
    const hint = err instanceof HessraError ? err.hint : code === ExitCode.USAGE ? `see \`hessra ${this.id?.replaceAll(':', ' ') ?? ''} --help\`` : undefined
    if (this.jsonMode) {
      const body: Record<string, unknown> = {code: kind, message, exit_code: code}
      if (hint) body.hint = hint
      const field = (err as {field?: string}).field
      if (field) body.field = field
      printJson({ok: false, error: body})
    } else {
      const e = ce()
      process.stderr.write(`${e.red.bold('error')}: ${message}\n`)
      if (hint) process.stderr.write(`${e.dim('hint')}: ${hint}\n`)
    }
    if (process.env.HESSRA_DEBUG === '1' || /\bhessra\b/.test(process.env.DEBUG ?? '')) {
      process.stderr.write(`${err.stack ?? ''}\n`)
    }
    process.exitCode = code
  }
}

/** oclif messages may carry ANSI codes and "See more help with --help" trailers; keep the first meaningful lines. */
function cleanMessage(message: string): string {
  // eslint-disable-next-line no-control-regex
  const plain = message.replace(/\u001B\[[0-9;]*m/g, '')
  return plain
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^See more help with --help$/.test(l) && !/^The following errors? occurred:$/.test(l))
    .join('\n')
    .trim()
}
