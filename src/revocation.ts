/**
 * Revocation: which revocation ids `hessra revoke` lists, and listing them in a configuration.
 *
 * Hessra revokes by block. Each block of a token has a revocation id (the hex of its signature, as
 * `hessra inspect` shows them) and a token is refused (status `revoked`) when the id of any of its blocks
 * is in the configuration's `revoked_ids` or `revocation_file` (the engine decides, in one place).
 * So the authority block's id revokes a token and every token attenuated from it, and the last block's
 * id revokes exactly that token (and whatever is later attenuated from it), leaving the token it was
 * attenuated from valid. `hessra revoke TOKEN` revokes the last block by default: "this token", no more.
 */
import {existsSync, realpathSync} from 'node:fs'

import {isRevocationId, type HessraConfig} from './config/index.js'
import {openForEdit, saveEdited} from './config-edit.js'
import {UsageError} from './errors.js'
import {DEFAULT_SERVER_CONFIG_PATH} from './pg/server-config.js'
import {inspectToken} from './tokens/inspect.js'
import {type TokenLike} from './tokens/open.js'

export interface RevokeOptions {
  /** Revoke every block's id (the authority block's alone already revokes the token and its attenuations). */
  allBlocks?: boolean
  /** Revoke this block's id (0: the authority block). Default: the last block. */
  block?: number
}

export interface RevokedId {
  /** The block the id belongs to; null when an id was given rather than a token. */
  block: number | null
  /** Lower-case hex. */
  revocationId: string
}

/** The text of a target that may be a revocation id, else null (bytes are always a token). */
function idText(target: TokenLike): string | null {
  if (typeof target === 'string') return target.trim()
  if (target instanceof Uint8Array || target.kind === 'bytes') return null
  return target.text.trim()
}

/**
 * The revocation ids to list for a target: a revocation id (hex) as given, or a token's (decoded, its
 * signatures not needed: listing an id only ever refuses tokens) last block id, chosen block id, or every
 * block's id. A target that is only hex digits is read as an id (a token never is: its base64 holds other
 * characters).
 */
export function revocationIdsFor(target: TokenLike, opts: RevokeOptions = {}): RevokedId[] {
  if (opts.allBlocks && opts.block !== undefined) throw new UsageError('give either --block or --all-blocks, not both')
  const text = idText(target)
  if (text !== null && isRevocationId(text)) {
    if (opts.allBlocks || opts.block !== undefined) throw new UsageError('--block and --all-blocks choose among the blocks of a token; a revocation id was given')
    return [{block: null, revocationId: text.toLowerCase()}]
  }
  const ids = inspectToken(target).revocation_ids
  if (opts.allBlocks) return ids.map((revocationId, block) => ({block, revocationId}))
  const block = opts.block ?? ids.length - 1
  if (!Number.isInteger(block) || block < 0 || block >= ids.length) {
    throw new UsageError(`--block ${block}: the token has ${ids.length} block${ids.length === 1 ? '' : 's'} (0 to ${ids.length - 1})`)
  }
  return [{block, revocationId: ids[block]}]
}

/** The configuration with `ids` added to its revoked_ids (each once, lower-case), and the ids that were new. */
export function withRevokedIds(config: HessraConfig, ids: readonly string[]): {config: HessraConfig; added: string[]} {
  const listed = [...(config.revoked_ids ?? [])]
  const known = new Set(listed.map((id) => id.trim().toLowerCase()))
  const added: string[] = []
  for (const raw of ids) {
    const id = raw.trim().toLowerCase()
    if (!isRevocationId(id)) throw new UsageError('not a revocation id: expected hex, as `hessra inspect` shows them')
    if (known.has(id)) continue
    known.add(id)
    listed.push(id)
    added.push(id)
  }
  return {config: {...config, revoked_ids: listed}, added}
}

export interface RevokeResult {
  revoked: RevokedId[]
  /** The ids that were not listed yet (the others were already revoked). */
  added: string[]
  /** The configuration file written. */
  configFile: string
  /** True when no configuration existed and a new one was created. */
  created: boolean
}

/**
 * Revokes a token (or a revocation id): adds the ids to `revoked_ids` of the configuration in use (or at
 * `configPath`; created when there is none). Verifiers that load this configuration refuse the token
 * from their next load on (the PostgreSQL extension: after hessra_reload_config() or SIGHUP).
 */
export async function revoke(target: TokenLike | readonly RevokedId[], opts: RevokeOptions & {configPath?: string; env?: NodeJS.ProcessEnv} = {}): Promise<RevokeResult> {
  const revoked = Array.isArray(target) ? [...(target as readonly RevokedId[])] : revocationIdsFor(target as TokenLike, opts)
  const ed = await openForEdit(opts.configPath, opts.env)
  const next = withRevokedIds(ed.config, revoked.map((r) => r.revocationId))
  if (next.added.length > 0 || ed.created) saveEdited(ed, next.config)
  return {revoked, added: next.added, configFile: ed.filepath, created: ed.created}
}

/**
 * When a revocation written to a configuration file is not one a database enforces, where that can be
 * told without connecting: a server configuration file (`hessra pg install`'s) that is another file, or a
 * database named by DATABASE_URL / PG* variables. Null when nothing suggests a database.
 */
export function serverConfigNote(
  editedFile: string,
  opts: {env?: NodeJS.ProcessEnv; exists?: (p: string) => boolean; realpath?: (p: string) => string; serverConfig?: string} = {},
): string | null {
  const env = opts.env ?? process.env
  const exists = opts.exists ?? existsSync
  const real = opts.realpath ?? ((p: string) => (exists(p) ? realpathSync(p) : p))
  const server = opts.serverConfig ?? DEFAULT_SERVER_CONFIG_PATH
  const other = exists(server) && real(server) !== real(editedFile)
  const database = Boolean(env.DATABASE_URL || env.PGHOST || env.PGDATABASE)
  if (!other && !database) return null
  const why = other ? `PostgreSQL reads ${server} (and its own table of revocations), not ${editedFile}` : `DATABASE_URL / PG* name a database, which does not read ${editedFile}`
  return `${why}: to refuse the token in a database, run \`hessra revoke ... --database URL\` (effective at the next statement of every session, standbys included)`
}
