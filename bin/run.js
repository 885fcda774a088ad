#!/usr/bin/env node
// The `hessra` executable. Errors that escape a command (unknown command, broken install) are
// reported here without a stack trace; command errors go through BaseCommand.catch.
import {flush, run} from '@oclif/core'

try {
  await run(process.argv.slice(2), import.meta.url)
  await flush()
} catch (error) {
  const err = /** @type {any} */ (error)
  if (err?.code === 'EEXIT' || err?.name === 'ExitError') {
    process.exitCode = err?.oclif?.exit ?? 0
  } else {
    const message = String(err?.message ?? err).replace(/\u001B\[[0-9;]*m/g, '').split('\n')[0]
    const usage = /command .* not found|Unexpected argument|Nonexistent flag/i.test(message)
    process.stderr.write(`error: ${message}\n`)
    if (usage) process.stderr.write('hint: see `hessra --help`\n')
    if (process.env.HESSRA_DEBUG === '1') process.stderr.write(`${err?.stack ?? ''}\n`)
    process.exitCode = usage ? 2 : 5
  }
}
