import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {classifyKeyText, loadKeyPair, parsePublicKeySpec} from '../../keys.js'
import {printJson, stdout} from '../../output.js'
import {existsSync, readFileSync} from 'node:fs'

export default class KeysPublic extends BaseCommand<typeof KeysPublic> {
  static override summary = 'Print the public key of a private key file, or normalize a public key'
  static override description = 'Reads a private key (PEM PKCS#8, ed25519-private/<hex>) or any public key form (PEM, ed25519/<hex>, secp256r1/<hex>, bare hex; text or file) and prints the public key.'

  static override examples = [
    {description: 'The public half of a private key file', command: '<%= config.bin %> <%= command.id %> root.pem'},
    {description: 'Convert a PEM public key to the ed25519/<hex> form', command: '<%= config.bin %> <%= command.id %> root.pub.pem'},
    {description: 'As PEM (SubjectPublicKeyInfo)', command: '<%= config.bin %> <%= command.id %> ed25519/3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29 --pem'},
  ]

  static override args = {
    key: Args.string({description: 'private or public key: text or a file holding it', required: true, ignoreStdin: true}),
  }

  static override flags = {
    pem: Flags.boolean({description: 'print PEM (SubjectPublicKeyInfo) instead of alg/hex', default: false}),
  }

  async run(): Promise<void> {
    const spec = this.args.key
    const text = classifyKeyText(spec) === 'unknown' && existsSync(spec) ? readFileSync(spec, 'utf8') : spec
    const kind = classifyKeyText(text)
    let key
    if (kind === 'private-pem' || kind === 'private-text') {
      const kp = loadKeyPair(spec)
      try {
        key = kp.publicKey()
      } finally {
        kp.dispose()
      }
    } else {
      key = parsePublicKeySpec(spec).key
    }
    try {
      const out = {public_key: key.toText(), public_key_pem: key.toPem(), algorithm: key.algorithm, from_private_key: kind.startsWith('private')}
      if (this.flags.json) printJson(out)
      else stdout(this.flags.pem ? out.public_key_pem.trimEnd() : out.public_key)
    } finally {
      key.dispose()
    }
  }
}
