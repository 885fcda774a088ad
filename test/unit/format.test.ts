import {strict as assert} from 'node:assert'

import {formatAuthorize, formatInspect, formatVerify} from '../../src/format.js'
import {type VerifyResult} from '../../src/tokens/verify.js'

const NOW = 1_764_151_200
const base: VerifyResult = {
  valid: true,
  status: 'valid',
  reason: null,
  code: null,
  mode: 'subject',
  subject: 'alice',
  resource: 'documents',
  operation: 'read',
  checkedAt: NOW,
  leewaySeconds: 0,
  expiresAt: NOW + 300,
  failedChecks: [],
  rights: [{subject: 'alice', resource: 'documents', operation: 'read'}],
  verifiedSubject: 'alice',
  key: {origin: '--key', id: null},
  rootKeyId: null,
  revoked: null,
  tokenKind: 'authorization',
}

describe('human output', () => {
  it('valid', () => {
    const out = formatVerify(base, undefined, NOW).join('\n')
    assert.match(out, /✔ valid {2}alice → read on documents/)
    assert.match(out, /expires: {4}2025-11-26T10:05:00Z \(expires in 5 minutes\)/)
  })
  it('expired shows the date and how long ago', () => {
    const out = formatVerify({...base, valid: false, status: 'expired', reason: 'expired at 2025-11-26T07:00:00Z (unix 1764140400)', expiresAt: NOW - 3 * 3600}, undefined, NOW).join('\n')
    assert.match(out, /✘ expired/)
    assert.match(out, /expired: {4}2025-11-26T07:00:00Z \(expired 3 hours ago\)/)
  })
  it('denied shows the failing check', () => {
    const out = formatVerify({...base, valid: false, status: 'denied', reason: 'check failed in block 0: check if resource($r), ...', subject: null, mode: 'capability'}, undefined, NOW).join('\n')
    assert.match(out, /✘ denied {2}\(capability\)/)
    assert.match(out, /reason: {5}check failed in block 0/)
  })
  it('a denial says what the token does grant', () => {
    const out = formatVerify({...base, valid: false, status: 'denied', operation: 'write', reason: 'denied: block 0 check 0 failed: ...'}, undefined, NOW).join('\n')
    assert.match(out, /token grants: alice read documents/)
    assert.doesNotMatch(formatVerify(base, undefined, NOW).join('\n'), /token grants/)
  })
  it('a bad signature is invalid and shows no expiry', () => {
    const out = formatVerify({...base, valid: false, status: 'invalid', reason: 'signature verification failed', expiresAt: null, rights: []}, undefined, NOW).join('\n')
    assert.match(out, /✘ invalid/)
    assert.doesNotMatch(out, /expire/)
    assert.doesNotMatch(out, /token grants/)
  })
  it('authorize', () => {
    assert.match(formatAuthorize({authorized: true, policy: 0, policy_kind: 'allow', error: null}).join('\n'), /authorized {2}by allow policy #0/)
    const out = formatAuthorize({authorized: false, policy: null, policy_kind: null, error: {kind: 'failed_logic', message: 'checks failed', failed_checks: [{block: 0, check: 1, rule: 'check if time($t), $t < 5', rule_bytes: 25, truncated: false}]}}).join('\n')
    assert.match(out, /failed check in block 0 #1: check if time/)
  })
  it('authorize does not call an allow policy with failed checks a deny', () => {
    const out = formatAuthorize({authorized: false, policy: 0, policy_kind: 'allow', error: {kind: 'unauthorized', message: 'allow policy 0 matched but checks failed: block 0 check 0 failed: check if a(1)', failed_checks: [{block: 0, check: 0, rule: 'check if a(1)', rule_bytes: 13, truncated: false}]}}).join('\n')
    assert.doesNotMatch(out, /deny/)
    assert.match(out, /matched allow policy #0/)
    const denied = formatAuthorize({authorized: false, policy: 1, policy_kind: 'deny', error: {kind: 'unauthorized', message: 'deny policy 1 matched'}}).join('\n')
    assert.match(denied, /matched deny policy #1/)
  })
  it('inspect says loudly when nothing was verified', () => {
    const out = formatInspect(
      {verified: false, root_key_id: 7, sealed: false, revocation_ids: ['ab'], blocks: [{index: 0, code: 'right("a", "b", "c");\n', code_bytes: 22, truncated: false, symbols: [], public_keys: [], external_key: null, version: 3, context: null, expires_at: null}], rights: [{subject: 'a', resource: 'b', operation: 'c'}], expires_at: null, service_nodes: [], classification: {kind: 'authorization', structure: {type: 'base'}, blocks: [{index: 0, role: 'authority'}], base_identity: null, identity: null, delegatable: null, domain: null}},
      undefined,
      NOW,
    ).join('\n')
    assert.match(out, /UNVERIFIED/)
    assert.match(out, /root key id: {4}7/)
    assert.match(out, /a may c b/)
    assert.match(out, / {2}right\("a", "b", "c"\);/)
  })
})
