/**
 * The ONE place where errors become exit codes and error output (human on stderr, or a JSON object on
 * stdout with --json), for BaseCommand.catch and for `hessra verify`'s fast path (src/cli/fast.ts).
 * No stack traces unless DEBUG=hessra or HESSRA_DEBUG=1. Free of @oclif/core imports on purpose.
 */
import {errorKindFor, errorMessage, exitCodeFor, ExitCode, HessraError} from '../errors.js'
import {ce, printJson} from '../output.js'
import {unknownFlagHint} from './commands.js'

export type ReportableError = Error & {exitCode?: number; oclif?: {exit?: number}; code?: string}

/** True when --json was asked for: the parsed flag when parsing got that far, else the raw argv. */
export function jsonRequested(flags: {json?: unknown} | undefined, argv: readonly string[]): boolean {
  if (flags && typeof flags.json === 'boolean') return flags.json
  return argv.includes('--json')
}

/**
 * Reports an error that ended a command and sets process.exitCode. `id` is the oclif command id (e.g.
 * `keys:add`); `flags` the command's flag names, for "did you mean" on a mistyped flag.
 */
export function reportError(err: ReportableError, opts: {json: boolean; id?: string; flags?: readonly string[]}): void {
  // this.exit(n) / help / version: not errors
  if (err.code === 'EEXIT' || err.name === 'ExitError') {
    process.exitCode = err.oclif?.exit ?? 0
    return
  }
  const code = exitCodeFor(err)
  const kind = errorKindFor(err)
  const message = cleanMessage(errorMessage(err))
  const help = `see \`hessra ${opts.id?.replaceAll(':', ' ') ?? ''} --help\``
  const flagHint = unknownFlagHint(err, opts.flags ?? [])
  const hint = err instanceof HessraError ? err.hint : code === ExitCode.USAGE ? (flagHint ? `${flagHint} (${help})` : help) : undefined
  if (opts.json) {
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
