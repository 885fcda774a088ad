/** Inspection: what a token holds (blocks, rights, expiry, classification), signatures checked when a key is given. */
import {type ServiceNode} from '../config/index.js'
import {openToken, resolveKey, withOpenToken, type KeyOptions, type TokenLike} from './open.js'

export interface InspectBlock {
  index: number
  /** The block's Datalog; cut (ending with ` ... [N bytes, truncated]`) when `truncated`: a token's code is shown up to 1 MiB in all. */
  code: string
  /** Bytes of the whole rendering of the block's code. */
  code_bytes: number
  truncated: boolean
  symbols: string[]
  public_keys: string[]
  external_key: string | null
  version: number
  context: string | null
  /** The earliest time bound of this block's checks (unix seconds), null without one. */
  expires_at: number | null
}

export interface InspectResult {
  verified: boolean
  root_key_id: number | null
  sealed: boolean
  revocation_ids: string[]
  blocks: InspectBlock[]
  rights: {subject: string; resource: string; operation: string}[]
  expires_at: number | null
  /** The same bound as RFC 3339 (UTC), or null. */
  expires_at_rfc3339?: string | null
  service_nodes: ServiceNode[]
  /** What kind of Hessra token this is and how it is built (read from its Datalog by the engine). */
  classification: Classification
}

/** The engine's classification of a token (docs/cli-json.md, `inspect`). */
export interface Classification {
  kind: 'identity' | 'authorization' | 'other'
  structure: {type: 'base' | 'delegated' | 'service_chain' | 'multi_party' | 'time_attenuated' | 'prefix_restricted' | 'attenuated' | 'mixed'; depth?: number; nodes?: number; parties?: number}
  blocks: {index: number; role: string; identity?: string; service?: string; namespace?: string; prefix?: string | null}[]
  /** Identity tokens: the authority block's subject. */
  base_identity: string | null
  /** Identity tokens: the narrowest delegated identity (the base identity when not delegated). */
  identity: string | null
  delegatable: boolean | null
  domain: string | null
}

export interface InspectOptions extends KeyOptions {
  /** Verify the signatures (needs a key). Default: only when a key is given. */
  verify?: boolean
}

/** Decodes a token; verifies its signatures when a key is given (or `verify: true`). */
export function inspectToken(token: TokenLike, opts: InspectOptions = {}): InspectResult {
  const t = openToken(token)
  try {
    const wantVerify = opts.verify ?? (opts.key !== undefined || opts.keyId !== undefined)
    if (!wantVerify) return JSON.parse(t.inspect()) as InspectResult
    const k = resolveKey(opts, t)
    try {
      return JSON.parse(t.inspectVerified(k.key)) as InspectResult
    } finally {
      if (k.owned) k.key.dispose()
    }
  } finally {
    t.dispose()
  }
}

/** The kind of a token, read from its authority block by the engine (signatures not checked). */
export function tokenKind(token: TokenLike): Classification['kind'] {
  return withOpenToken(token, (t) => (JSON.parse(t.inspect()) as InspectResult).classification.kind)
}
