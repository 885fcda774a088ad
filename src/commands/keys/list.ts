import {BaseCommand} from '../../base-command.js'
import {ConfigError} from '../../errors.js'
import {parsePublicKeySpec} from '../../keys.js'
import {PublicKey} from '../../native/binding.js'
import {c, ce, printJson, stderr, stdout} from '../../output.js'
import {dirname, isAbsolute, resolve} from 'node:path'

export default class KeysList extends BaseCommand<typeof KeysList> {
  static override summary = 'List the public keys trusted in the configuration'
  static override examples = [
    {description: 'Human table', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'JSON, for scripts', command: '<%= config.bin %> <%= command.id %> --json'},
    {description: 'Keys of another configuration file', command: '<%= config.bin %> <%= command.id %> --config ./deploy/hessra.json'},
  ]

  async run(): Promise<void> {
    const loaded = await this.loadConfig()
    if (!loaded.config) throw new ConfigError('no configuration found', {hint: 'create one with `hessra config init` or add a key with `hessra keys add ID KEY`'})
    const cfg = loaded.config
    const base = loaded.filepath ? dirname(loaded.filepath) : process.cwd()
    const rows = (cfg.keys ?? []).map((k) => {
      let normalized: string | null = null
      let algorithm: string | null = null
      let error: string | null = null
      try {
        let key: PublicKey
        if (typeof k.public_key === 'string') key = PublicKey.fromString(k.public_key)
        else if (typeof k.public_key_file === 'string') key = parsePublicKeySpec(isAbsolute(k.public_key_file) ? k.public_key_file : resolve(base, k.public_key_file)).key
        else throw new Error('no public_key')
        try {
          normalized = key.toText()
          algorithm = key.algorithm
        } finally {
          key.dispose()
        }
      } catch (error_) {
        error = (error_ as Error).message
      }
      return {
        id: k.id,
        default: cfg.default_key === k.id,
        algorithm,
        public_key: normalized,
        public_key_file: k.public_key_file ?? null,
        root_key_id: k.root_key_id ?? null,
        error,
      }
    })
    if (this.flags.json) {
      printJson({config_file: loaded.filepath, keys: rows})
      return
    }
    stderr(ce().dim(`# ${loaded.filepath}`))
    if (rows.length === 0) stderr('no keys (add one with `hessra keys add ID KEY`)')
    for (const r of rows) {
      const mark = r.default ? c().green('*') : ' '
      const rid = r.root_key_id === null ? '' : `  root_key_id=${r.root_key_id}`
      const key = r.error ? c().red(`invalid: ${r.error}`) : r.public_key
      stdout(`${mark} ${r.id}  ${key}${rid}${r.public_key_file ? `  (file ${r.public_key_file})` : ''}`)
    }
  }
}
