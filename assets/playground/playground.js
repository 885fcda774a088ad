// The hessra playground page. It only shows what the local server answers: the server makes one
// library call per request (inspect, verify, authorize, attenuate) and the engine decides. Everything
// from a token is put in the page as text (textContent), never as HTML.
'use strict'

const $ = (id) => document.getElementById(id)

/** Creates an element with a class and text. */
function el(tag, cls, text) {
  const e = document.createElement(tag)
  if (cls) e.className = cls
  if (text !== undefined) e.textContent = text
  return e
}

/** POSTs JSON to the server (same origin, relative to the secret URL). Throws the server's error message. */
async function call(endpoint, body) {
  const res = await fetch(`api/${endpoint}`, {
    method: body ? 'POST' : 'GET',
    headers: body ? {'Content-Type': 'application/json'} : {},
    body: body ? JSON.stringify(body) : undefined,
    cache: 'no-store',
  })
  const data = await res.json()
  if (!res.ok) {
    const e = data.error || {}
    throw new Error(e.hint ? `${e.message} (${e.hint})` : e.message || `HTTP ${res.status}`)
  }
  return data
}

// ---- Datalog, highlighted simply -------------------------------------------------------------

const DATALOG = new RegExp(
  [
    '(?<comment>//.*$)',
    '(?<string>"(?:[^"\\\\]|\\\\.)*")',
    '(?<key>\\b(?:ed25519|secp256r1)/[0-9a-fA-F]+)',
    '(?<keyword>\\b(?:check if|check all|reject if|allow if|deny if|trusting|authority|previous)\\b|<-)',
    '(?<variable>\\$[A-Za-z0-9_]+)',
    '(?<predicate>\\b[A-Za-z_][A-Za-z0-9_:]*(?=\\())',
    '(?<number>-?\\b\\d+\\b)',
  ].join('|'),
  'gm',
)

/** One line of Datalog as spans, each kind with its class. */
function highlight(line) {
  const out = el('code', 'dl')
  let last = 0
  for (const m of line.matchAll(DATALOG)) {
    if (m.index > last) out.append(line.slice(last, m.index))
    const kind = Object.keys(m.groups).find((k) => m.groups[k] !== undefined)
    out.append(el('span', `dl-${kind}`, m[0]))
    last = m.index + m[0].length
  }
  out.append(line.slice(last))
  return out
}

// ---- the token: summary and block cards ------------------------------------------------------

/** A unix time as the page shows it next to raw seconds: RFC 3339 UTC, to the second. */
const date = (unix) => new Date(unix * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')

/** The summary of a response: `r.inspect` (the decoded token), `r.tokenExpiry`, `r.signaturesVerified`. */
function summary(r) {
  const inspect = r.inspect
  const box = $('summary')
  box.replaceChildren()
  const dl = el('dl', 'facts')
  const add = (name, value, testid) => {
    const dd = el('dd', '', value)
    if (testid) dd.dataset.testid = testid
    dl.append(el('dt', '', name), dd)
  }
  add('blocks', String(inspect.blocks.length))
  // when it stops working, in words (as jwt.io does for exp); a claim until the signatures verify
  const e = r.tokenExpiry
  const claimed = r.signaturesVerified ? '' : ' — as the token claims: signatures not verified'
  add('expires', e.at === null ? `never: no time bound${claimed}` : `${e.rfc3339} (${e.relative})${claimed}`, 'expiry')
  add('sealed', inspect.sealed ? 'yes: no block can be added' : 'no')
  add('root key id', inspect.root_key_id === null ? 'none' : String(inspect.root_key_id))
  const c = inspect.classification
  if (c) {
    // the engine's classification (kind and structure), when this build's inspect gives one
    const structure = c.structure ? [c.structure.type, ...['depth', 'nodes', 'parties'].filter((k) => c.structure[k] !== undefined).map((k) => `${k} ${c.structure[k]}`)].join(', ') : null
    add('kind', [c.kind, structure].filter(Boolean).join(' · '))
    if (c.identity) add('identity', c.identity)
  }
  if (inspect.rights.length > 0) {
    // the authority block's grant: later blocks can only narrow it, so it is not what a request gets
    const later = inspect.blocks.length - 1
    const note = later > 0 ? ` (narrowed by the ${later === 1 ? 'block' : `${later} blocks`} after it: Verify says what a request gets)` : ''
    add('rights granted by the authority block', inspect.rights.map((g) => `${g.subject} may ${g.operation} ${g.resource}`).join(' · ') + note, 'rights')
  }
  if (inspect.service_nodes.length > 0) add('service chain', inspect.service_nodes.map((n) => n.component).join(' → '))
  box.append(dl)
}

/** Normalised statement text, to find a failing check's line in its block. */
const statement = (s) => s.trim().replace(/;$/, '').replace(/\s+/g, ' ')

/**
 * The block cards; `failed` are the failing checks ({block, check, rule}) to point at; `verified`:
 * whether the signatures verified (else every card says "unverified", as `hessra inspect` does).
 */
function blocks(inspect, failed, verified) {
  const box = $('blocks')
  box.replaceChildren()
  for (const b of inspect.blocks) {
    const card = el('article', 'block')
    card.dataset.testid = 'block'
    const kind = b.index === 0 ? 'authority' : b.external_key ? 'third-party' : 'attenuation'
    card.classList.add(`block-${kind}`)
    const head = el('header')
    head.append(el('span', 'block-title', b.index === 0 ? 'Authority block' : `Block ${b.index}`), el('span', `badge badge-${kind}`, kind))
    if (inspect.sealed && b.index === inspect.blocks.length - 1) head.append(el('span', 'badge badge-sealed', 'sealed'))
    if (!verified) {
      const u = el('span', 'badge badge-unverified', 'unverified')
      u.dataset.testid = 'unverified'
      u.title = 'decoded only: nothing proves this block was signed by the key you trust'
      head.append(u)
    }
    card.append(head)
    if (b.index > 0 && kind === 'attenuation') card.append(el('p', 'effect', 'narrows the rights above: every request must also pass the checks below'))
    if (b.external_key) {
      const p = el('p', 'signer', 'signed by ')
      p.append(el('code', 'dl-key', b.external_key))
      card.append(p)
    }
    if (b.context) card.append(el('p', 'context', `context: ${b.context}`))
    const mine = failed.filter((f) => f.block === b.index)
    const unmatched = new Set(mine)
    const pre = el('pre', 'code')
    const lines = b.code.trimEnd() === '' ? [] : b.code.trimEnd().split('\n')
    for (const line of lines) {
      const row = el('div', 'line')
      row.append(highlight(line))
      // the date of this block's time bound (the engine's expires_at), next to the raw seconds
      if (b.expires_at !== null && b.expires_at !== undefined && /\btime\(/.test(line) && new RegExp(`\\b(${b.expires_at}|${b.expires_at - 1})\\b`).test(line)) {
        const d = el('span', 'dl-date', `  // ${date(b.expires_at)}`)
        d.dataset.testid = 'time-bound-date'
        row.append(d)
      }
      const hit = mine.find((f) => statement(f.rule) === statement(line))
      if (hit) {
        row.classList.add('failed')
        row.dataset.testid = 'failed-check'
        row.title = `check #${hit.check} of this block failed`
        unmatched.delete(hit)
      }
      pre.append(row)
    }
    if (lines.length === 0) pre.append(el('div', 'line empty', '(empty)'))
    card.append(pre)
    for (const f of unmatched) {
      const row = el('p', 'failed', `check #${f.check} failed: ${f.rule}`)
      row.dataset.testid = 'failed-check'
      card.append(row)
    }
    const rev = inspect.revocation_ids[b.index]
    if (rev) {
      const p = el('p', 'revocation', 'revocation id ')
      p.append(el('code', '', rev))
      card.append(p)
    }
    box.append(card)
  }
}

// ---- results -----------------------------------------------------------------------------------

function showError(message) {
  const e = $('error')
  e.textContent = message
  e.hidden = message === ''
}

/** Every action replaces the whole result: nothing of the previous token or verdict stays on screen. */
function clearResults() {
  pending++ // a decode still in flight must not paint over this action's result
  showError('')
  for (const id of ['verify-result', 'authorize-result']) $(id).hidden = true
  $('summary').replaceChildren()
  $('blocks').replaceChildren()
  $('authorizer-run').replaceChildren()
  $('authorizer-run').hidden = true
}

/**
 * Shows a verdict in one of the two result panels (verify, authorize). Failing checks of the authorizer
 * itself (block null) have no card: they are listed under the verdict.
 */
function showResult(panelId, {verdict, good, line, reason, facts, failed}) {
  for (const id of ['verify-result', 'authorize-result']) $(id).hidden = id !== panelId
  const panel = $(panelId)
  const part = (cls) => panel.querySelector(`.${cls}`)
  panel.className = `result result-${good ? 'good' : 'bad'}`
  part('verdict').textContent = verdict
  part('request-line').textContent = line
  part('reason').textContent = reason || ''
  part('facts').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', '', k), el('dd', '', v)]))
  part('other-failures').replaceChildren(
    ...failed
      .filter((f) => f.block === null)
      .map((f) => {
        const li = el('li', 'failed', `authorizer check #${f.check} failed: ${f.rule}`)
        li.dataset.testid = 'failed-check'
        return li
      }),
  )
}

function keyFields() {
  return {key: $('key').value, keyId: $('key-id').value}
}

async function verify() {
  clearResults()
  const body = {
    token: $('token').value,
    ...keyFields(),
    subject: $('subject').value,
    resource: $('resource').value,
    operation: $('operation').value,
    identity: $('identity').value,
    at: $('at').value,
  }
  try {
    const r = await call('verify', body)
    const o = r.outcome
    summary(r)
    blocks(r.inspect, o.failedChecks, r.signaturesVerified)
    const facts = [['checked as of', r.checkedAtRfc3339]]
    // an invalid token's time bound is a claim nobody signed: nothing to say about it
    if (o.status === 'invalid') facts.push(['stops working', 'unknown: the signatures do not verify'])
    else if (r.expiry.at === null) facts.push(['stops working', 'never: the token has no time bound'])
    else facts.push([o.status === 'expired' ? 'stopped working' : 'stops working', `${r.expiry.rfc3339} (${r.expiry.relative} from then)`])
    facts.push(['key', o.key.origin === '--key' ? 'the key pasted' : o.key.origin])
    if (!o.valid && o.rights && o.rights.length > 0) facts.push(['token grants', o.rights.map((g) => `${g.subject} ${g.operation} ${g.resource}`).join(', ')])
    showResult('verify-result', {
      verdict: o.status,
      good: o.valid,
      line: o.resource === undefined ? `identity ${o.identity ?? '(bearer)'}` : `${o.subject ?? '(capability)'} → ${o.operation ?? 'any operation'} on ${o.resource}`,
      reason: o.reason,
      facts,
      failed: o.failedChecks,
    })
  } catch (e) {
    // a token that does not even decode is invalid; the message says why
    showResult('verify-result', {verdict: 'invalid', good: false, line: '', reason: e.message, facts: [], failed: []})
  }
}

async function authorizeToken() {
  clearResults()
  try {
    const r = await call('authorize', {token: $('token').value, ...keyFields(), authorizer: $('authorizer').value, at: $('at').value})
    const a = r.result
    const failed = (a.error && a.error.failed_checks) || []
    summary(r)
    blocks(r.inspect, failed, r.signaturesVerified)
    const policy = a.policy === null ? 'no policy matched' : `${a.policy_kind} policy #${a.policy} matched`
    showResult('authorize-result', {
      verdict: a.authorized ? 'authorized' : 'not authorized',
      good: a.authorized,
      line: 'your authorizer',
      reason: a.error ? `${a.error.kind}: ${a.error.message}` : '',
      facts: [['policy', policy]],
      failed,
    })
    // the authorizer exactly as run (with the time fact the server put first)
    const run = $('authorizer-run')
    run.replaceChildren(el('p', 'label', 'authorizer as run'), ...r.authorizer.trimEnd().split('\n').map((l) => {
      const row = el('div', 'line')
      row.append(highlight(l))
      return row
    }))
    run.hidden = false
  } catch (e) {
    showError(e.message)
  }
}

async function attenuate() {
  clearResults()
  $('new-token').value = ''
  try {
    const r = await call('attenuate', {token: $('token').value, ...keyFields(), checks: $('attenuate-check').value, ttl: $('ttl').value})
    $('new-token').value = r.token
  } catch (e) {
    showError(e.message)
  }
}

/** Decodes the token as it is pasted (no verdict yet: that needs a key and a request). */
let pending = 0
async function decode() {
  clearResults()
  const mine = pending
  if ($('token').value.trim() === '') return
  try {
    const r = await call('inspect', {token: $('token').value})
    if (mine !== pending) return
    summary(r)
    blocks(r.inspect, [], false)
  } catch (e) {
    if (mine === pending) showError(e.message)
  }
}

async function loadKeys() {
  try {
    const r = await call('keys')
    for (const k of r.keys) {
      const o = el('option', '', `key id ${k.id}${k.default ? ' (default)' : ''}`)
      o.value = k.id
      $('key-id').append(o)
    }
  } catch (e) {
    showError(e.message)
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('verify').addEventListener('click', verify)
  $('authorize').addEventListener('click', authorizeToken)
  $('attenuate').addEventListener('click', attenuate)
  $('token').addEventListener('input', decode)
  for (const b of document.querySelectorAll('[data-at]')) {
    b.addEventListener('click', () => {
      $('at').value = b.dataset.at
      verify()
    })
  }
  $('copy').addEventListener('click', () => navigator.clipboard.writeText($('new-token').value).catch((e) => showError(e.message)))
  $('use-new').addEventListener('click', () => {
    if ($('new-token').value === '') return
    $('token').value = $('new-token').value
    decode()
  })
  loadKeys()
})
