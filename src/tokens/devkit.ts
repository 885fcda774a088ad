/**
 * The dev kit: minting (Hessra-shaped or from Datalog), attenuating, attesting (service chains,
 * multi-party, prefix), sealing and third-party blocks. The engine builds and signs every block.
 */
import {type ServiceNode} from '../config/index.js'
import {InputError, UsageError} from '../errors.js'
import {parsePublicKeySpec} from '../keys.js'
import {createThirdPartyBlock, mintHessraToken as nativeMintHessra, mintToken as nativeMint} from '../native/binding.js'
import {type InspectResult} from './inspect.js'
import {openToken, withKeyPair, withOpenToken, withPublicKey, type KeyOptions, type PrivateKeyLike, type TokenLike} from './open.js'

/** Normalizes a public key given as text or file to "ed25519/<hex>" / "secp256r1/<hex>". */
export function publicKeyText(spec: string, what = 'public key'): string {
  const {key} = parsePublicKeySpec(spec, what)
  try {
    return key.toText()
  } finally {
    key.dispose()
  }
}

export interface MintOptions {
  privateKey: PrivateKeyLike
  subject: string
  resource: string
  /** One operation, or several (each granted). */
  operation: string | readonly string[]
  /** Unix seconds; omit for no time bound. */
  expiresAt?: number | null
  domain?: string | null
  /** Service chain nodes (public keys as text or files). */
  serviceNodes?: ServiceNode[]
  rootKeyId?: number | null
  /** Multi-party: each party must attest (attestNamespace) before the token is valid. Keys as text or files. */
  multiParty?: Party[]
  /** Prefix-restricted: valid only once narrowed (restrictPrefix) by this key's holder. Text or file. */
  prefixKey?: string | null
}

/** A party of a multi-party token: `check if namespace(NAMESPACE) trusting PUBLIC_KEY`. */
export interface Party {
  namespace: string
  public_key: string
}

/** The engine's restrictions_json for the multi-party and prefix options, or null without any. */
function restrictionsJson(opts: MintOptions): string | null {
  const parties = (opts.multiParty ?? []).map((p) => ({namespace: p.namespace, public_key: publicKeyText(p.public_key, `key of party ${p.namespace}`)}))
  const prefixKey = opts.prefixKey ? publicKeyText(opts.prefixKey, 'prefix key') : null
  if (parties.length === 0 && prefixKey === null) return null
  return JSON.stringify({multi_party: parties, prefix_key: prefixKey})
}

/** Mints a Hessra-shaped token (right, the subject/resource/operation check, time bound, domain, service nodes, multi-party and prefix restrictions). */
export function mintHessra(opts: MintOptions): string {
  const nodes = (opts.serviceNodes ?? []).map((n) => ({component: n.component, public_key: publicKeyText(n.public_key, `key of service node ${n.component}`)}))
  return withKeyPair(opts.privateKey, 'private key', (kp) =>
    nativeMintHessra(kp, {
      subject: opts.subject,
      resource: opts.resource,
      operation: opts.operation,
      expiresAt: opts.expiresAt ?? 0,
      domain: opts.domain ?? null,
      serviceNodesJson: nodes.length > 0 ? JSON.stringify(nodes) : null,
      rootKeyId: opts.rootKeyId ?? -1,
      restrictionsJson: restrictionsJson(opts),
    }),
  )
}

export interface MintDatalogOptions {
  privateKey: PrivateKeyLike
  /** Authority block Datalog, with {name} placeholders. */
  datalog: string
  params?: Record<string, unknown> | null
  rootKeyId?: number | null
}

/** Mints a token from authority Datalog. */
export function mintFromDatalog(opts: MintDatalogOptions): string {
  return withKeyPair(opts.privateKey, 'private key', (kp) => nativeMint(kp, opts.datalog, opts.params ? JSON.stringify(opts.params) : null, opts.rootKeyId ?? -1))
}

/** Datalog for an attenuation block from --ttl / --check / --datalog pieces. */
export function attenuationDatalog(parts: {expiresAt?: number | null; checks?: string[]; datalog?: string | null}): string {
  const lines: string[] = []
  if (parts.expiresAt !== undefined && parts.expiresAt !== null) lines.push(`check if time($time), $time < ${Math.trunc(parts.expiresAt)};`)
  for (const c of parts.checks ?? []) {
    let s = c.trim().replace(/;+\s*$/, '')
    if (s === '') continue
    if (!/^(check\s+(if|all)|reject\s+if)\b/i.test(s)) s = `check if ${s}`
    lines.push(`${s};`)
  }
  if (parts.datalog && parts.datalog.trim() !== '') lines.push(parts.datalog.trim())
  if (lines.length === 0) throw new UsageError('nothing to add: give --ttl, --check or --datalog')
  return lines.join('\n') + '\n'
}

export interface AttenuateOptions extends KeyOptions {
  /** The block's Datalog (see attenuationDatalog). */
  datalog: string
  params?: Record<string, unknown> | null
}

export function attenuateToken(token: TokenLike, opts: AttenuateOptions): string {
  return withOpenToken(token, (t) => withPublicKey(opts, t, (key) => t.attenuate(key, opts.datalog, opts.params ? JSON.stringify(opts.params) : null)))
}

export interface AttestOptions extends KeyOptions {
  /** The node's private key (file, text or KeyPair). */
  nodeKey: PrivateKeyLike
  /** The component attesting; checked against the token's service nodes when it lists them. */
  component?: string | null
  /** The resource to attest (default: the token's first right). */
  resource?: string | null
}

/** Adds the third-party block `service(RESOURCE)` signed by a service-chain node. */
export function attestToken(token: TokenLike, opts: AttestOptions): string {
  const t = openToken(token)
  try {
    return withKeyPair(opts.nodeKey, 'node key', (node) => {
      if (opts.component) {
        const info = JSON.parse(t.inspect()) as InspectResult
        const nodes = info.service_nodes ?? []
        if (nodes.length > 0) {
          const entry = nodes.find((n) => n.component === opts.component)
          if (!entry) {
            throw new UsageError(`component "${opts.component}" is not a service node of this token`, {
              hint: `its nodes: ${nodes.map((n) => n.component).join(', ')}`,
            })
          }
          const pub = node.publicKey()
          try {
            const mine = pub.toText()
            if (mine !== publicKeyText(entry.public_key)) {
              throw new InputError(`--node-key is not the key of component "${opts.component}" (the token expects ${entry.public_key})`)
            }
          } finally {
            pub.dispose()
          }
        }
      }
      return withPublicKey(opts, t, (key) => t.attest(key, node, opts.resource ?? null))
    })
  } finally {
    t.dispose()
  }
}

export interface AttestNamespaceOptions extends KeyOptions {
  /** The party's private key (file, text or KeyPair). */
  nodeKey: PrivateKeyLike
  /** The namespace the party attests (one the token names with this party's key). */
  namespace: string
}

/** A party's attestation of a multi-party token: the third-party block `namespace(NS)` signed by its key. */
export function attestNamespace(token: TokenLike, opts: AttestNamespaceOptions): string {
  return withOpenToken(token, (t) => withKeyPair(opts.nodeKey, 'party key', (party) => withPublicKey(opts, t, (key) => t.attestNamespace(key, party, opts.namespace))))
}

export interface RestrictPrefixOptions extends KeyOptions {
  /** The prefix the token is narrowed to; a verification must then give exactly this prefix. */
  prefix: string
  /** The prefix key's private half (file, text or KeyPair): the key the token names. */
  prefixPrivateKey: PrivateKeyLike
}

/** Narrows a prefix-restricted token: the third-party block `check if prefix(P); prefix_added(true);`. */
export function restrictPrefix(token: TokenLike, opts: RestrictPrefixOptions): string {
  return withOpenToken(token, (t) => withKeyPair(opts.prefixPrivateKey, 'prefix private key', (kp) => withPublicKey(opts, t, (key) => t.restrictPrefix(key, kp, opts.prefix))))
}

/** Seals the token: no block can be appended afterwards. */
export function sealToken(token: TokenLike, opts: KeyOptions = {}): string {
  return withOpenToken(token, (t) => withPublicKey(opts, t, (key) => t.seal(key)))
}

/** Third-party blocks, step by step: the request for the token's last block. */
export function thirdPartyRequest(token: TokenLike): string {
  return withOpenToken(token, (t) => t.thirdPartyRequest())
}

/** Signs a third-party block for a request with a node key. */
export function createThirdPartyBlockFor(request: string, nodeKey: PrivateKeyLike, datalog: string, params?: Record<string, unknown> | null): string {
  return withKeyPair(nodeKey, 'node key', (kp) => createThirdPartyBlock(request, kp, datalog, params ? JSON.stringify(params) : null))
}

/** Appends a signed third-party block. */
export function appendThirdPartyBlock(token: TokenLike, block: string, opts: KeyOptions = {}): string {
  return withOpenToken(token, (t) => withPublicKey(opts, t, (key) => t.appendThirdParty(key, block)))
}

/** The canonical base64url form of a token. */
export function tokenToString(token: TokenLike): string {
  return withOpenToken(token, (t) => t.toBase64())
}
