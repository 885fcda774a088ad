#!/usr/bin/env node
// The `hessra` executable. Errors that escape a command (unknown command, broken install) are
// reported here without a stack trace; command errors go through BaseCommand.catch.
//
// Start-up cost matters: scripts and request paths run `hessra verify` per request (issue 8's target:
// ≤ 4 × `node -e 0`; bench/README.md). Hence:
// - `hessra verify` takes a fast path (dist/cli/fast.js): the same flag definitions, parsed by oclif's
//   own parser, the same code and error reporting, without oclif's command/config/plugin machinery.
//   Not taken for --help (oclif renders help), with DEBUG set (oclif's debug output), when the working
//   directory is gone (oclif warns first) or with HESSRA_NO_FAST_PATH=1 (the tests compare both paths).
// - @oclif/core checks the node version against its own `engines` with semver on import (~10 ms);
//   package.json's `engines` (node >= 20, stricter than oclif's) makes that redundant, so it is
//   switched off for the import (hence the dynamic import) unless the user set it.
// - oclif gets the package root and package.json instead of finding them by walking up from this
//   file with asynchronous reads; what it then loads is the same.
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const argv = process.argv.slice(2)
// `hessra --version [--json]` is the version command (oclif's own --version knows no --json).
if (argv[0] === '--version') argv[0] = 'version'

/** Whether `hessra verify ...` can take the fast path (see above). */
function fastPath() {
  if (argv[0] !== 'verify' || process.env.HESSRA_NO_FAST_PATH === '1' || process.env.DEBUG) return false
  const end = argv.indexOf('--')
  const before = end === -1 ? argv : argv.slice(0, end)
  if (before.includes('--help') || before.includes('-h')) return false
  try {
    process.cwd()
  } catch {
    return false
  }
  return true
}

try {
  // CLICOLOR=0 and TERM=dumb mean plain text (src/output.ts); NO_COLOR is what every library here
  // (chalk, oclif's ansis) understands.
  const {noColorRequested} = await import('../dist/output.js')
  if (noColorRequested(process.env) && !process.env.NO_COLOR) process.env.NO_COLOR = '1'
  if (fastPath()) {
    const {runVerifyFast} = await import('../dist/cli/fast.js')
    await runVerifyFast(argv.slice(1))
  } else {
    const ENGINE_CHECK = 'OCLIF_DISABLE_ENGINE_WARNING'
    const setEngineCheck = process.env[ENGINE_CHECK] === undefined
    if (setEngineCheck) process.env[ENGINE_CHECK] = '1'
    const {flush, run} = await import('@oclif/core')
    if (setEngineCheck) delete process.env[ENGINE_CHECK] // not passed on to child processes
    const root = dirname(dirname(fileURLToPath(import.meta.url)))
    const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
    await run(argv, {root, pjson})
    await flush()
  }
} catch (error) {
  const err = /** @type {any} */ (error)
  if (err?.code === 'EEXIT' || err?.name === 'ExitError') {
    process.exitCode = err?.oclif?.exit ?? 0
  } else if (err?.kind !== undefined && err?.exitCode !== undefined) {
    // a HessraError from a hook (e.g. an unknown command): the commands' own error reporting
    const {reportError} = await import('../dist/cli/report.js')
    reportError(err, {json: argv.includes('--json')})
  } else {
    // eslint-disable-next-line no-control-regex -- strips ANSI colour sequences (ESC [ ... m)
    const message = String(err?.message ?? err).replace(/\u001B\[[0-9;]*m/g, '').split('\n')[0]
    const usage = /command .* not found|Unexpected argument|Nonexistent flag/i.test(message)
    process.stderr.write(`error: ${message}\n`)
    if (usage) process.stderr.write('hint: see `hessra --help`\n')
    if (process.env.HESSRA_DEBUG === '1') process.stderr.write(`${err?.stack ?? ''}\n`)
    process.exitCode = usage ? 2 : 5
  }
}
