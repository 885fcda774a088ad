/** Human-readable renderings of results (pure functions: unit-tested without a terminal). */
import {Chalk, type ChalkInstance} from 'chalk'

import {isoDate, nowSeconds, relativeTime} from './input/time.js'
import {type AuthorizeResult} from './tokens/authorize.js'
import {type IdentityVerifyResult} from './tokens/identity.js'
import {type InspectResult} from './tokens/inspect.js'
import {type VerifyResult} from './tokens/verify.js'

const plain: ChalkInstance = new Chalk({level: 0})

export function describeExpiry(expiresAt: number | null, now: number = nowSeconds()): string | null {
  if (expiresAt === null) return null
  return `${isoDate(expiresAt)} (${expiresAt <= now ? 'expired ' : 'expires '}${relativeTime(expiresAt, now)})`
}

export function formatVerify(r: VerifyResult, ch: ChalkInstance = plain, now: number = nowSeconds()): string[] {
  const who = r.subject ?? '(capability)'
  const what = `${who} → ${r.operation ?? 'any operation'} on ${r.resource}`
  const lines: string[] = []
  if (r.status === 'valid') {
    lines.push(`${ch.green.bold('✔ valid')}  ${what}`)
  } else if (r.status === 'expired') {
    lines.push(`${ch.red.bold('✘ expired')}  ${what}`)
    if (r.expiresAt !== null) {
      const atNow = Math.abs(r.checkedAt - now) <= 5
      const rel = relativeTime(r.expiresAt, r.checkedAt)
      lines.push(`  expired:    ${isoDate(r.expiresAt)} (expired ${atNow ? rel : `${rel.replace(/ ago$/, '')} before the time checked`})`)
    }
    if (r.reason) lines.push(`  reason:     ${r.reason}`)
  } else {
    lines.push(`${ch.red.bold(r.status === 'invalid' || r.status === 'revoked' ? `✘ ${r.status}` : '✘ denied')}  ${what}`)
    if (r.reason) lines.push(`  reason:     ${r.reason}`)
  }
  // What the token does grant, when its signatures verified and it was refused.
  if (!r.valid && r.rights.length > 0) lines.push(`  token grants: ${r.rights.map((g) => `${g.subject} ${g.operation} ${g.resource}`).join(', ')}`)
  if (r.status !== 'expired' && r.expiresAt !== null) lines.push(`  expires:    ${describeExpiry(r.expiresAt, now)}`)
  if (r.status === 'valid' && r.expiresAt === null) lines.push(`  expires:    ${ch.yellow('never (no time bound)')}`)
  lines.push(`  key:        ${r.key.origin}${r.rootKeyId !== null ? ` (token root key id ${r.rootKeyId})` : ''}`)
  lines.push(`  checked at: ${isoDate(r.checkedAt)}${Math.abs(r.checkedAt - now) > 5 ? ` (${relativeTime(r.checkedAt, now)})` : ''}`)
  return lines
}

export function formatIdentityVerify(r: IdentityVerifyResult, ch: ChalkInstance = plain, now: number = nowSeconds()): string[] {
  const what = r.mode === 'actor' ? `identity ${r.identity}` : `bearer: identity ${r.verifiedIdentity ?? 'of the token\'s subject'}`
  const lines: string[] = []
  const mark = r.status === 'valid' ? ch.green.bold('✔ valid') : ch.red.bold(`✘ ${r.status}`)
  lines.push(`${mark}  ${what}${r.domain ? ` in domain ${r.domain}` : ''}`)
  if (r.status === 'expired' && r.expiresAt !== null) lines.push(`  expired:    ${isoDate(r.expiresAt)} (expired ${relativeTime(r.expiresAt, r.checkedAt)})`)
  if (r.reason) lines.push(`  reason:     ${r.reason}`)
  if (r.status !== 'expired' && r.expiresAt !== null) lines.push(`  expires:    ${describeExpiry(r.expiresAt, now)}`)
  lines.push(`  key:        ${r.key.origin}${r.rootKeyId !== null ? ` (token root key id ${r.rootKeyId})` : ''}`)
  lines.push(`  checked at: ${isoDate(r.checkedAt)}${Math.abs(r.checkedAt - now) > 5 ? ` (${relativeTime(r.checkedAt, now)})` : ''}`)
  return lines
}

export function formatAuthorize(r: AuthorizeResult, ch: ChalkInstance = plain): string[] {
  const lines: string[] = []
  if (r.authorized) {
    lines.push(`${ch.green.bold('✔ authorized')}${r.policy !== null ? `  by allow policy #${r.policy}` : ''}`)
    return lines
  }
  lines.push(`${ch.red.bold('✘ not authorized')}`)
  if (r.policy !== null && r.policy_kind) lines.push(`  matched ${r.policy_kind} policy #${r.policy}`)
  if (r.error) {
    lines.push(`  ${r.error.kind}: ${r.error.message}`)
    for (const c of r.error.failed_checks ?? []) {
      lines.push(`  failed check ${c.block === null ? 'in authorizer' : `in block ${c.block}`} #${c.check}: ${c.rule}`)
    }
  }
  return lines
}

export function formatInspect(r: InspectResult, ch: ChalkInstance = plain, now: number = nowSeconds()): string[] {
  const lines: string[] = []
  if (r.verified) lines.push(ch.green.bold('signatures verified with the given root key'))
  else lines.push(ch.yellow.bold('UNVERIFIED: decoded only, signatures NOT checked (pass --key to verify)'))
  lines.push(`root key id:    ${r.root_key_id ?? 'none'}`)
  lines.push(`sealed:         ${r.sealed ? 'yes' : 'no'}`)
  lines.push(`blocks:         ${r.blocks.length}`)
  lines.push(`expires:        ${r.expires_at === null ? 'never (no time bound)' : describeExpiry(r.expires_at, now)}`)
  if (r.rights.length > 0) {
    // what the authority block grants; later blocks only narrow it, so say so rather than imply the token has them all
    lines.push('rights granted by the authority block:')
    for (const x of r.rights) lines.push(`  ${x.subject} may ${x.operation} ${x.resource}`)
    const narrowing = r.blocks.length - 1
    if (narrowing > 0) {
      lines.push(ch.dim(`  (the ${narrowing === 1 ? 'block after it narrows' : `${narrowing} blocks after it narrow`} them: \`hessra verify\` says what a request gets)`))
    }
  }
  const k = r.classification
  if (k) {
    const n = k.structure.depth ?? k.structure.nodes ?? k.structure.parties
    lines.push(`kind:           ${k.kind}, ${k.structure.type.replaceAll('_', ' ')}${n === undefined ? '' : ` (${n})`}`)
    if (k.base_identity !== null) {
      lines.push(`identity:       ${k.identity}${k.identity === k.base_identity ? '' : ` (delegated from ${k.base_identity})`}`)
      lines.push(`delegatable:    ${k.delegatable ? 'yes' : 'no'}${k.domain ? `; domain ${k.domain}` : ''}`)
    }
  }
  if (r.service_nodes.length > 0) {
    lines.push('service chain:')
    for (const n of r.service_nodes) lines.push(`  ${n.component}  ${n.public_key}`)
  }
  for (const b of r.blocks) {
    lines.push('')
    const role = k?.blocks[b.index]
    const roleText = role && b.index > 0 && role.role !== 'other' ? `: ${role.role.replaceAll('_', ' ')}${role.identity ? ` to ${role.identity}` : ''}` : ''
    const title = b.index === 0 ? 'authority block' : `block ${b.index}${roleText}`
    const ext = b.external_key ? ` (third-party, signed by ${b.external_key})` : ''
    lines.push(ch.bold(`── ${title}${ext}`) + (b.context ? ch.dim(`  context: ${b.context}`) : ''))
    const code = b.code.trimEnd()
    lines.push(code === '' ? ch.dim('  (empty)') : code.split('\n').map((l) => `  ${l}${timeBoundNote(l, b.expires_at, ch, now)}`).join('\n'))
  }
  lines.push('')
  lines.push('revocation ids:')
  r.revocation_ids.forEach((id, i) => lines.push(`  ${i}: ${id}`))
  return lines
}

/**
 * The date of a block's time bound (the engine's `expires_at` of the block), next to the line of
 * Datalog that holds it (`$t < N`, or `$t <= N - 1`): raw unix seconds say nothing to a reader.
 */
export function timeBoundNote(line: string, bound: number | null | undefined, ch: ChalkInstance = plain, now: number = nowSeconds()): string {
  if (bound === null || bound === undefined || !/\btime\(/.test(line)) return ''
  if (!new RegExp(`\\b(?:${bound}|${bound - 1})\\b`).test(line)) return ''
  return ch.dim(`   // ${describeExpiry(bound, now)}`)
}
