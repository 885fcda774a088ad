import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {openForEdit, saveEdited} from '../../config-edit.js'
import {UsageError} from '../../errors.js'
import {generateKeyPair, writePrivateKeyFile} from '../../keys.js'
import {ce, printJson, stderr, stdout} from '../../output.js'

export default class KeysGenerate extends BaseCommand<typeof KeysGenerate> {
  static override summary = 'Generate a root (or service node) key pair'
  static override description = `Writes the private key (PEM PKCS#8) to --out with mode 0600, refusing to overwrite an existing file unless --force, and prints the public key on stdout (ed25519/<hex> or secp256r1/<hex>; --pem for PEM). With --add the public key is also trusted in the configuration under --id.`

  static override examples = [
    {description: 'An Ed25519 key pair for local development, trusted as "dev"', command: '<%= config.bin %> <%= command.id %> --out root.pem --id dev --add'},
    {description: 'A P-256 key for a service-chain node', command: '<%= config.bin %> <%= command.id %> --algorithm secp256r1 --out payment-node.pem'},
    {description: 'Print the private key instead of writing a file (careful: it is a secret)', command: '<%= config.bin %> <%= command.id %> --out - > /secure/place/root.pem'},
  ]

  static override flags = {
    algorithm: Flags.string({char: 'a', options: ['ed25519', 'secp256r1'], default: 'ed25519', description: 'signature algorithm'}),
    out: Flags.string({char: 'o', required: true, description: 'private key file to write (mode 0600); `-` prints it on stdout', helpValue: 'FILE'}),
    force: Flags.boolean({char: 'f', description: 'overwrite --out if it exists', default: false}),
    id: Flags.string({description: 'key id to use with --add', helpValue: 'ID'}),
    add: Flags.boolean({description: 'add the public key to the configuration under --id', default: false}),
    'root-key-id': Flags.integer({description: 'with --add: the root key id tokens signed by this key carry', min: 0, helpValue: 'N'}),
    default: Flags.boolean({description: 'with --add: make it the default key', default: false}),
    pem: Flags.boolean({description: 'print the public key as PEM', default: false}),
  }

  async run(): Promise<void> {
    const {flags} = this
    if (flags.add && !flags.id) throw new UsageError('--add needs --id ID')
    if (flags.add && flags.out === '-') throw new UsageError('--add cannot be combined with --out -')
    const kp = generateKeyPair(flags.algorithm as 'ed25519' | 'secp256r1')
    try {
      const pub = kp.publicKey()
      let publicText: string
      let publicPem: string
      try {
        publicText = pub.toText()
        publicPem = pub.toPem()
      } finally {
        pub.dispose()
      }
      const privatePem = kp.toPem()
      if (flags.out === '-') {
        process.stdout.write(privatePem.endsWith('\n') ? privatePem : privatePem + '\n')
        stderr(`public key: ${publicText}`)
        return
      }
      writePrivateKeyFile(flags.out, privatePem, flags.force)
      let configFile: string | null = null
      if (flags.add && flags.id) {
        const ed = await openForEdit(this.flags.config)
        const keys = (ed.config.keys ?? []).filter((k) => k.id !== flags.id)
        const replaced = keys.length !== (ed.config.keys ?? []).length
        if (replaced && !flags.force) throw new UsageError(`key id "${flags.id}" already exists in ${ed.filepath}`, {hint: 'pass --force to replace it'})
        keys.push({id: flags.id, public_key: publicText, root_key_id: flags['root-key-id'] ?? null})
        const next = {...ed.config, keys}
        if (flags.default || !next.default_key) next.default_key = flags.id
        saveEdited(ed, next)
        configFile = ed.filepath
      }
      if (flags.json) {
        printJson({
          algorithm: flags.algorithm,
          public_key: publicText,
          public_key_pem: publicPem,
          private_key_file: flags.out,
          id: flags.id ?? null,
          added: configFile !== null,
          config_file: configFile,
        })
      } else {
        stdout(flags.pem ? publicPem.trimEnd() : publicText)
        stderr(ce().dim(`private key written to ${flags.out} (mode 0600)`))
        if (configFile) stderr(ce().dim(`public key trusted as "${flags.id}" in ${configFile}`))
      }
    } finally {
      kp.dispose()
    }
  }
}
