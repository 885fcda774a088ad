/**
 * Every hessra command extends BaseCommand. Its `catch` hands errors to reportError (src/cli/report.ts),
 * the ONE place where errors become exit codes and error output (human on stderr, or a JSON object on
 * stdout with --json). No stack traces unless DEBUG=hessra or HESSRA_DEBUG=1.
 */
import {Command, type Interfaces} from '@oclif/core'

import {jsonRequested, reportError, type ReportableError} from './cli/report.js'
import {loadConfig, type LoadedConfig} from './config/index.js'
import {type ExitCode as ExitCodeT} from './errors.js'
import {baseFlags} from './flags.js'
import {warnIfPrivateVerificationKey} from './keys.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override baseFlags = baseFlags

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>

  /** True when --json was asked for, even if flag parsing failed. */
  protected get jsonMode(): boolean {
    return jsonRequested(this.flags, this.argv)
  }

  public override async init(): Promise<void> {
    await super.init()
    const {flags, args} = await this.parse(this.ctor)
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    if ('key-id' in (this.ctor.flags ?? {})) warnIfPrivateVerificationKey(flags as {key?: string; 'key-id'?: string})
  }

  /** Loads the configuration (--config, HESSRA_CONFIG, search, ~/.config/hessra/config.json). */
  protected async loadConfig(): Promise<LoadedConfig> {
    return loadConfig({configPath: this.flags.config})
  }

  /** Sets the exit code for a successful run that still has a non-zero outcome (e.g. a denied token). */
  protected setExitCode(code: ExitCodeT): void {
    process.exitCode = code
  }

  protected override async catch(err: ReportableError): Promise<void> {
    reportError(err, {json: this.jsonMode, id: this.id, flags: Object.keys({...this.ctor.baseFlags, ...this.ctor.flags})})
  }
}
