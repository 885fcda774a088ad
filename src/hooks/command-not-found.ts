/**
 * oclif's `command_not_found` hook: a mistyped command gets "did you mean" in the form users type
 * (`hessra keys generate`, not oclif's internal `keys:generate`), exit 2 (usage). Never prompts, unlike
 * @oclif/plugin-not-found, so scripts and terminals behave alike.
 */
import {type Hook} from '@oclif/core'

import {commandNotFound} from '../cli/commands.js'

const hook: Hook.CommandNotFound = async function (opts) {
  throw commandNotFound(opts.id.split(':'), opts.config)
}

export default hook
