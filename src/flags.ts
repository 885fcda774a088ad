/** Flags and arguments shared by several commands. */
import {Args, Flags} from '@oclif/core'

export const tokenArg = Args.string({
  name: 'token',
  description: 'the token (base64url; `-` reads stdin). Also: --token-file, HESSRA_TOKEN, or piped stdin',
  required: false,
  ignoreStdin: true,
})

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
