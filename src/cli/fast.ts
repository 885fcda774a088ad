/**
 * Fast path for `hessra verify`, taken by bin/run.js (see there for when). Loading oclif's command,
 * configuration and plugin machinery (`Config.load`, command discovery, hooks) costs more than the
 * verification itself; scripts and request paths call `hessra verify` in a loop. This path parses the
 * very same definitions (src/cli/verify.ts) with oclif's own parser, runs the same code and reports
 * errors through the same reportError, so output, --json and exit codes are those of the oclif
 * command (test/cli.test.ts runs both and compares).
 */
import {flush} from '@oclif/core/flush'
import {parse} from '@oclif/core/parser'

import {baseFlags} from '../flags.js'
import {warnIfPrivateVerificationKey} from '../keys.js'
import {jsonRequested, reportError, type ReportableError} from './report.js'
import {runVerify, verifyArgs, verifyFlags, type VerifyFlags} from './verify.js'

// As @oclif/core's command module does on load: a closed pipe on stdout (`hessra verify ... | head -0`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err && err.code === 'EPIPE') return
  throw err
})

/** Runs `hessra verify` with `argv` (the arguments after `verify`); sets process.exitCode. */
export async function runVerifyFast(argv: string[]): Promise<void> {
  let flags: VerifyFlags | undefined
  try {
    // What Command.parse hands the parser: base flags merged under the command's own (strict, no json flag of oclif's).
    const parsed = await parse(argv, {flags: {...baseFlags, ...verifyFlags}, args: verifyArgs, strict: true})
    flags = parsed.flags as VerifyFlags
    warnIfPrivateVerificationKey(flags)
    const code = await runVerify(flags, parsed.args)
    if (code !== 0) process.exitCode = code
  } catch (error) {
    reportError(error as ReportableError, {json: jsonRequested(flags, argv), id: 'verify', flags: Object.keys({...baseFlags, ...verifyFlags})})
  }
  await flush()
}
