/**
 * Flags and arguments shared by several commands.
 *
 * Imported from @oclif/core's `flags` and `args` entry points rather than the package index, so that
 * `hessra verify`'s fast path (src/cli/fast.ts) can use these very definitions with oclif's own parser
 * without loading oclif's command, configuration and plugin machinery (see bin/run.js).
 */
import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

/**
 * For a flag that may be given several times. oclif's `multiple` alone is greedy: `--check A "$T"`
 * would take the token as a second check. Non-greedy, each occurrence takes one value, so a
 * positional argument (the token) may come anywhere.
 */
export const repeatable = {multiple: true, multipleNonGreedy: true} as const

/** Flags every command has (BaseCommand.baseFlags). */
export const baseFlags = {
  json: Flags.boolean({description: 'print machine-readable JSON on stdout (see docs/cli-json.md); exit codes are unchanged', default: false}),
  config: Flags.string({
    description: 'configuration file to use (default: searched from the current directory, then ~/.config/hessra/config.json; env HESSRA_CONFIG)',
    helpValue: 'PATH',
  }),
}

export const tokenArg = Args.string({
  name: 'token',
  description: 'the token (base64url; `-` reads stdin). Also: --token-file, HESSRA_TOKEN, or piped stdin',
  required: false,
  ignoreStdin: true,
})

/** `--at` of verify, authorize and inspect (parsed by parseAt in src/input/time.ts); `what` says what it does. */
export function atFlag(what: string) {
  return Flags.string({description: `${what}: unix seconds, RFC 3339, now, or relative to now (-30m, +1h)`, helpValue: 'TIME'})
}

export const tokenFileFlag = Flags.string({
  description: 'read the token from a file (text or raw binary; `-` for stdin)',
  helpValue: 'PATH',
})

export const keyFlags = {
  key: Flags.string({
    char: 'k',
    description: 'root public key: PEM, ed25519/<hex>, secp256r1/<hex>, or a file holding one (env HESSRA_PUBLIC_KEY)',
    helpValue: 'KEY|FILE',
    exclusive: ['key-id'],
  }),
  'key-id': Flags.string({
    description: 'use the public key stored under this id in the configuration',
    helpValue: 'ID',
    exclusive: ['key'],
  }),
}
