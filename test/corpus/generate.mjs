#!/usr/bin/env node
// test/corpus/generate.mjs — hostile-input corpus for the hessra engine, CLI and
// PostgreSQL extension.
//
//   node test/corpus/generate.mjs OUTDIR        writes OUTDIR/<file> for every case,
//                                               OUTDIR/manifest.json and OUTDIR/cases.tsv
//   node test/corpus/generate.mjs --manifest    prints the manifest (what test/corpus/manifest.json holds)
//
// Everything is built here, independently of the engine's minter: a small
// protobuf writer for the Biscuit schema and Node's own Ed25519 / ECDSA P-256
// (OpenSSL underneath). Keys come from fixed TEST-ONLY seeds, Ed25519 and the
// P-256 signatures we need are deterministic or not compared, so the output
// files are the same on every run (except P-256 signatures, which no case
// compares byte for byte). No token has a time bound that depends on "now":
// the expired case expired in 2001 and the others have none.
//
// Each case says what every front end must answer (see README.md):
//   c_codes         HessraResult of parse + hessra_token_verify_request(key, request)
//   c_config_codes  HessraResult of hessra_config_verify_token_string with a config
//                   that trusts `key` (default limits: max_token_bytes 65536, ...)
//   sql             hessra_verify_token(token, subject, resource, operation) result
//                   (false for every hostile input; null: not representable as text)
//   cli_exit        `hessra verify --key KEY --subject S --resource R --operation O`
//                   exit code (0 valid, 1 denied/expired/limit, 3 malformed token or key)
import {createHash, createPrivateKey, createPublicKey, createECDH, sign as cryptoSign} from 'node:crypto'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

// ---------------------------------------------------------------- protobuf
const B = (...parts) => Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))))
function varint(v) {
  let n = BigInt.asUintN(64, BigInt(v))
  const out = []
  do {
    let byte = Number(n & 0x7fn)
    n >>= 7n
    if (n) byte |= 0x80
    out.push(byte)
  } while (n)
  return Buffer.from(out)
}
const tag = (field, wt) => varint((field << 3) | wt)
const fVarint = (field, v) => B(tag(field, 0), varint(v))
const fBytes = (field, buf) => B(tag(field, 2), varint(buf.length), buf)
const fStr = (field, s) => fBytes(field, Buffer.from(s, 'utf8'))

// ---------------------------------------------------------------- keys
const seed = (label) => createHash('sha256').update('hessra-corpus TEST-ONLY ' + label).digest()
function edKey(label, rawSeed) {
  const s = rawSeed ?? seed(label)
  const priv = createPrivateKey({key: B(Buffer.from('302e020100300506032b657004220420', 'hex'), s), format: 'der', type: 'pkcs8'})
  const pub = createPublicKey(priv).export({format: 'der', type: 'spki'}).subarray(-32)
  return {alg: 0, seed: s, priv, pub, text: 'ed25519/' + pub.toString('hex'), sign: (m) => cryptoSign(null, m, priv)}
}
function p256Key(label) {
  const d = seed(label)
  const ecdh = createECDH('prime256v1')
  ecdh.setPrivateKey(d)
  const pubU = ecdh.getPublicKey()
  const pubC = ecdh.getPublicKey(null, 'compressed')
  const b64u = (b) => b.toString('base64url')
  const priv = createPrivateKey({key: {kty: 'EC', crv: 'P-256', d: b64u(d), x: b64u(pubU.subarray(1, 33)), y: b64u(pubU.subarray(33))}, format: 'jwk'})
  return {alg: 1, seed: d, priv, pub: pubC, text: 'secp256r1/' + pubC.toString('hex'), sign: (m) => cryptoSign('sha256', m, priv)}
}
const ROOT = edKey('root')
const ATTACKER = edKey('attacker')
const NODE = edKey('node')
const P256 = p256Key('p256')
let ephemeralCounter = 0
const ephemeral = () => edKey('ephemeral ' + ephemeralCounter++)

// ---------------------------------------------------------------- Datalog blocks
const DEFAULT_SYMBOLS = ['read', 'write', 'resource', 'operation', 'right', 'time', 'role', 'owner', 'tenant',
  'namespace', 'user', 'team', 'service', 'admin', 'email', 'group', 'member', 'ip_address', 'client', 'client_ip',
  'domain', 'path', 'version', 'cluster', 'node', 'hostname', 'nonce', 'query']
class Symbols {
  constructor() { this.custom = []; this.index = new Map() }
  id(s) {
    const d = DEFAULT_SYMBOLS.indexOf(s)
    if (d >= 0) return d
    if (!this.index.has(s)) { this.index.set(s, 1024 + this.custom.length); this.custom.push(s); this.fresh.push(s) }
    return this.index.get(s)
  }
  begin() { this.fresh = [] }
}
// Terms: {v: name} variable, {s: text} string, {i: n} integer, raw Buffer = pre-encoded TermV2
const term = (t, sy) => {
  if (Buffer.isBuffer(t)) return t
  if ('v' in t) return fVarint(1, sy.id(t.v))
  if ('i' in t) return fVarint(2, t.i)
  if ('s' in t) return fVarint(3, sy.id(t.s))
  if ('b' in t) return fVarint(6, t.b ? 1 : 0)
  throw new Error('term')
}
const pred = (name, terms, sy) => B(fVarint(1, sy.id(name)), ...terms.map((t) => fBytes(2, term(t, sy))))
// ops are built lazily: they need the block's symbol table
const opValue = (t) => (sy) => fBytes(1, term(t, sy))
const UNARY = [0, 1, 2].map((k) => fBytes(2, fVarint(1, k)))
const opUnary = (k) => UNARY[k] ?? fBytes(2, fVarint(1, k))
const opBinary = (k) => fBytes(3, fVarint(1, k))
const BIN = {lt: 0, gt: 1, eq: 4, regex: 8, add: 9, sub: 10, mul: 11, div: 12}
// rule: {head:[name, terms], body:[[name, terms]...], exprs:[Buffer(ops...)...]}
const rule = (r, sy) => B(
  fBytes(1, pred(r.head[0], r.head[1], sy)),
  ...(r.body ?? []).map(([n, ts]) => fBytes(2, pred(n, ts, sy))),
  ...(r.exprs ?? []).map((ops) => fBytes(3, Buffer.concat(ops.map((o) => fBytes(1, typeof o === 'function' ? o(sy) : o))))),
)
const check = (queries, sy) => B(...queries.map((q) => fBytes(1, rule({head: ['query', []], ...q}, sy))))
// block: {facts:[[name, terms]], rules:[rule], checks:[[query...]], version, extraSymbols:[..], raw: Buffer appended}
function encodeBlock(blk, sy) {
  sy.begin()
  for (const s of blk.extraSymbols ?? []) sy.id(s)
  const body = B(
    ...(blk.facts ?? []).map(([n, ts]) => fBytes(4, fBytes(1, pred(n, ts, sy)))),
    ...(blk.rules ?? []).map((r) => fBytes(5, rule(r, sy))),
    ...(blk.checks ?? []).map((c) => fBytes(6, check(c, sy))),
  )
  const symbols = sy.fresh.map((s) => (Buffer.isBuffer(s) ? fBytes(1, s) : fStr(1, s)))
  return B(...symbols, ...(blk.rawSymbols ?? []).map((s) => fBytes(1, s)), fVarint(3, blk.version ?? 3), body, blk.raw ?? Buffer.alloc(0))
}
// The Hessra token shape: right(S,R,O); check if subject($s), resource($r), operation($o), right($s,$r,$o)
const hessraAuthority = (subject, resource, operation, extra = {}) => ({
  facts: [['right', [{s: subject}, {s: resource}, {s: operation}]], ...(extra.facts ?? [])],
  rules: extra.rules ?? [],
  checks: [
    [{body: [['subject', [{v: 's'}]], ['resource', [{v: 'r'}]], ['operation', [{v: 'o'}]], ['right', [{v: 's'}, {v: 'r'}, {v: 'o'}]]]}],
    ...(extra.checks ?? []),
  ],
  version: extra.version,
  extraSymbols: extra.extraSymbols,
  raw: extra.raw,
})

// ---------------------------------------------------------------- signing
const le32 = (n) => { const b = Buffer.alloc(4); b.writeInt32LE(n); return b }
const P = (s) => Buffer.from(s.replace(/\\0/g, '\0'), 'latin1')
const P_BLOCK = P('\\0BLOCK\\0\\0VERSION\\0'), P_PAYLOAD = P('\\0PAYLOAD\\0'), P_ALG = P('\\0ALGORITHM\\0')
const P_NEXT = P('\\0NEXTKEY\\0'), P_PREV = P('\\0PREVSIG\\0'), P_EXTSIG = P('\\0EXTERNALSIG\\0')
const P_EXT = P('\\0EXTERNAL\\0\\0VERSION\\0')
const pubKeyMsg = (k) => B(fVarint(1, k.alg), fBytes(2, k.pub))
// Signed block list -> Biscuit bytes. blocks: [{data, next, sig, ext:{sig, key}, sv}]
function container({rootKeyId, blocks, proof, extraFields}) {
  const sb = (b) => B(
    fBytes(1, b.data), fBytes(2, pubKeyMsg(b.next)), fBytes(3, b.sig),
    ...(b.ext ? [fBytes(4, B(fBytes(1, b.ext.sig), fBytes(2, pubKeyMsg(b.ext.key))))] : []),
    ...(b.sv ? [fVarint(5, b.sv)] : []),
  )
  return B(
    ...(rootKeyId !== undefined ? [fVarint(1, rootKeyId)] : []),
    fBytes(2, sb(blocks[0])), ...blocks.slice(1).map((b) => fBytes(3, sb(b))),
    ...(proof ? [fBytes(4, proof)] : []),
    extraFields ?? Buffer.alloc(0),
  )
}
// Builds and signs a token. specs: [{data | block, next?, signer?, thirdParty?: {key, data}, sv?}]
function mint(specs, opts = {}) {
  const sy = new Symbols()
  const root = opts.root ?? ROOT
  let signer = root
  let prevSig = null
  const blocks = []
  for (const [i, s] of specs.entries()) {
    const data = s.data ?? encodeBlock(s.block, sy)
    const next = s.next ?? ephemeral()
    const who = s.signer ?? signer
    const sv = s.sv ?? (s.ext ? 1 : 0)
    let ext = null
    if (s.ext) {
      const esig = s.ext.forgedSig ?? s.ext.key.sign(B(P_EXT, le32(1), P_PAYLOAD, data, P_PREV, s.ext.prevSig ?? prevSig))
      ext = {sig: esig, key: s.ext.key}
    }
    let payload
    if (sv === 1) {
      payload = B(P_BLOCK, le32(1), P_PAYLOAD, data, P_ALG, le32(next.alg), P_NEXT, next.pub,
        ...(i > 0 ? [P_PREV, prevSig] : []), ...(ext ? [P_EXTSIG, ext.sig] : []))
    } else {
      payload = B(data, ...(ext ? [ext.sig] : []), le32(next.alg), next.pub)
    }
    const sig = s.forgedSig ?? who.sign(payload)
    blocks.push({data, next, sig, ext, sv})
    prevSig = sig
    signer = next
  }
  const last = blocks[blocks.length - 1]
  let proof
  if (opts.seal) {
    const sealSig = opts.forgedSeal ?? signer.sign(B(last.data, le32(last.next.alg), last.next.pub, last.sig))
    proof = fBytes(2, sealSig)
  } else if (opts.proof !== undefined) {
    proof = opts.proof
  } else {
    proof = fBytes(1, signer.seed)
  }
  const bytes = container({rootKeyId: opts.rootKeyId, blocks, proof, extraFields: opts.extraFields})
  return {bytes, blocks, sy, signer}
}
// Third-party block data: fresh symbol table, version >= 5
const thirdPartyData = (blk) => encodeBlock({version: 5, ...blk}, new Symbols())

// Ed25519: the smallest y (little-endian) for which x^2 = (y^2 - 1) / (d y^2 + 1) has no solution
const ED_P = 2n ** 255n - 19n
const modpow = (b, e, m) => { let r = 1n; b %= m; while (e > 0n) { if (e & 1n) r = r * b % m; b = b * b % m; e >>= 1n } return r }
function notOnCurveY() {
  const d = (-121665n * modpow(121666n, ED_P - 2n, ED_P)) % ED_P + ED_P
  for (let y = 2n; ; y++) {
    const u = (y * y - 1n) % ED_P
    const v = (d * y * y + 1n) % ED_P
    const x2 = u * modpow(v, ED_P - 2n, ED_P) % ED_P
    if (x2 !== 0n && modpow(x2, (ED_P - 1n) / 2n, ED_P) !== 1n) return y
  }
}
const leBytes = (n) => { const b = Buffer.alloc(32); for (let i = 0; i < 32; i++) { b[i] = Number(n & 0xffn); n >>= 8n } return b }

// ---------------------------------------------------------------- cases
const cases = []
const CODES = {SUCCESS: 0, INVALID_TOKEN: 1, INVALID_KEY: 2, VERIFICATION_FAILED: 3, CONFIG_INVALID: 4,
  MEMORY: 5, IO: 6, INVALID_PARAMETER: 7, EXPIRED: 8, LIMIT_EXCEEDED: 9, INTERNAL: 99}
const CLI = {0: 0, 1: 3, 2: 3, 7: 3, 3: 1, 8: 1, 9: 1}
const REQ = {subject: 'alice', resource: 'orders', operation: 'read'}
// add(name, category, description, content(Buffer|string), expect, options)
function add(name, category, description, content, expect, o = {}) {
  const kind = o.kind ?? 'token'
  const encoding = o.encoding ?? (typeof content === 'string' ? 'text' : 'binary')
  const ext = kind === 'key' ? 'key' : encoding === 'text' ? 'txt' : 'bin'
  const codes = [].concat(expect).map((c) => CODES[c])
  const cfgCodes = o.config === undefined ? codes : [].concat(o.config).map((c) => CODES[c])
  const text = typeof content === 'string' ? content : null
  // SQL runs with a configuration trusting ROOT (or P256); other keys are covered by the C ABI only
  const sqlOk = kind === 'token' && encoding === 'text' && !/\0/.test(text ?? '') && o.sql !== null &&
    [ROOT.text, P256.text].includes(o.key ?? ROOT.text)
  cases.push({
    name, category, description, kind, encoding,
    file: `${kind === 'key' ? 'keys' : 'tokens'}/${name}.${ext}`,
    key: kind === 'key' ? null : (o.key ?? ROOT.text),
    subject: kind === 'key' ? null : (o.subject ?? REQ.subject),
    resource: kind === 'key' ? null : (o.resource ?? REQ.resource),
    operation: kind === 'key' ? null : (o.operation ?? REQ.operation),
    c: [].concat(expect).map((c) => 'HESSRA_' + (c === 'SUCCESS' ? c : 'ERROR_' + c)),
    c_codes: codes,
    c_config_codes: kind === 'key' ? null : cfgCodes,
    sql: sqlOk ? (o.sqlResult ?? cfgCodes.includes(0)) : null,
    cli_exit: o.cli ?? CLI[codes[0]],
    max_ms: o.maxMs ?? 1000,
    valgrind: o.valgrind ?? true,
    content,
  })
}
const b64 = (buf) => buf.toString('base64url')
const tok = (buf) => b64(buf)
const flip = (buf, at, mask = 0x01) => { const c = Buffer.from(buf); c[at] ^= mask; return c }

// --- controls: prove the hand-built tokens are right (must verify) -------------------------
const control = mint([{block: hessraAuthority('alice', 'orders', 'read')}])
add('control-valid', 'control', 'well-formed Hessra token for alice/orders/read (sanity check of the generator)', tok(control.bytes), 'SUCCESS')
add('control-valid-binary', 'control', 'the same token as raw protobuf bytes', control.bytes, 'SUCCESS', {sql: null})
add('control-valid-unpadded', 'control', 'base64url without padding', tok(control.bytes).replace(/=+$/, ''), 'SUCCESS')
add('control-bearer-whitespace', 'control', '"Bearer " prefix and surrounding whitespace are ignored', `  Bearer ${tok(control.bytes)}\n`, 'SUCCESS')
add('control-attenuated', 'control', 'authority + a first-party block `check if operation("read")`',
  tok(mint([{block: hessraAuthority('alice', 'orders', 'read')}, {block: {checks: [[{body: [['operation', [{s: 'read'}]]]}]]}}]).bytes), 'SUCCESS')
const sealed = mint([{block: hessraAuthority('alice', 'orders', 'read')}, {block: {checks: [[{body: [['operation', [{s: 'read'}]]]}]]}}], {seal: true})
add('control-sealed', 'control', 'sealed token (finalSignature proof)', tok(sealed.bytes), 'SUCCESS')
const tpPrev = mint([{block: hessraAuthority('alice', 'orders', 'read')}])
const tpData = thirdPartyData({facts: [['service', [{s: 'orders'}]]]})
const thirdParty = mint([{block: hessraAuthority('alice', 'orders', 'read')}, {data: tpData, ext: {key: NODE}}])
add('control-third-party', 'control', 'authority + third-party block service("orders") signed by a node key (v1 external signature)', tok(thirdParty.bytes), 'SUCCESS')
add('control-p256-root', 'control', 'token whose root key is ECDSA P-256', tok(mint([{block: hessraAuthority('alice', 'orders', 'read')}], {root: P256}).bytes), 'SUCCESS', {key: P256.text})
void tpPrev

// --- wrong request / replay elsewhere ---------------------------------------------------------
add('replay-other-subject', 'replay', 'alice\'s valid token presented for subject mallory', tok(control.bytes), 'VERIFICATION_FAILED', {subject: 'mallory'})
add('replay-other-resource', 'replay', 'alice\'s orders token presented for resource payroll', tok(control.bytes), 'VERIFICATION_FAILED', {resource: 'payroll'})
add('replay-other-operation', 'replay', 'read token presented for write', tok(control.bytes), 'VERIFICATION_FAILED', {operation: 'write'})
add('expired-2001', 'expiry', 'check if time($t), $t < 1000000000 (expired in 2001)',
  tok(mint([{block: hessraAuthority('alice', 'orders', 'read', {checks: [[{body: [['time', [{v: 't'}]]], exprs: [[opValue({v: 't'}), opValue({i: 1000000000}), opBinary(BIN.lt)]]}]]})}]).bytes), 'EXPIRED')
add('expired-attenuation', 'expiry', 'valid authority, attenuation block expired in 2001',
  tok(mint([{block: hessraAuthority('alice', 'orders', 'read')}, {block: {checks: [[{body: [['time', [{v: 't'}]]], exprs: [[opValue({v: 't'}), opValue({i: 1000000000}), opBinary(BIN.lt)]]}]]}}]).bytes), 'EXPIRED')

add('semantics-no-checks', 'semantics', 'token with right(mallory, orders, read) and NO check: Hessra verification only runs the token\'s own checks, so the issuer must include them (documented trust assumption)',
  tok(mint([{block: {facts: [['right', [{s: 'mallory'}, {s: 'orders'}, {s: 'read'}]]]}}]).bytes), 'SUCCESS')

// --- malformed base64 / text -----------------------------------------------------------------
add('b64-empty', 'base64', 'empty input', '', 'INVALID_TOKEN')
add('b64-whitespace', 'base64', 'only whitespace', ' \t \n', 'INVALID_TOKEN')
add('b64-bearer-only', 'base64', '"Bearer " and nothing else', 'Bearer ', 'INVALID_TOKEN')
add('b64-symbols', 'base64', 'characters outside both base64 alphabets', '!!!!@@@@####$$$$', 'INVALID_TOKEN')
add('b64-one-char', 'base64', 'a single base64 character (impossible length)', 'A', 'INVALID_TOKEN')
add('b64-bad-padding', 'base64', 'padding in the middle', tok(control.bytes).slice(0, 20) + '==' + tok(control.bytes).slice(20), 'INVALID_TOKEN')
add('b64-too-much-padding', 'base64', 'five = signs', tok(control.bytes).replace(/=*$/, '') + '=====', 'INVALID_TOKEN')
add('b64-non-ascii', 'base64', 'valid UTF-8 that is not base64 (é, emoji)', 'ééé😀😀😀', 'INVALID_TOKEN')
add('b64-embedded-space', 'base64', 'a space inside the token: ignored, like surrounding whitespace (the engine\'s one normalisation; tokens get wrapped in terminals and YAML)', tok(control.bytes).slice(0, 40) + ' ' + tok(control.bytes).slice(40), 'SUCCESS')
add('b64-random-bytes', 'base64', 'base64 of 96 pseudo-random bytes (not protobuf)', tok(createHash('sha512').update('x').digest().subarray(0, 48)) + tok(createHash('sha512').update('y').digest().subarray(0, 48)), 'INVALID_TOKEN')
add('b64-nul-inside', 'base64', 'NUL byte inside the text (binary file; C string stops there)', Buffer.from(tok(control.bytes).slice(0, 30) + '\0' + tok(control.bytes).slice(30)), 'INVALID_TOKEN', {sql: null})
add('utf8-invalid-text', 'utf8', 'bytes ff fe 80 c0 af as the token text: not UTF-8', Buffer.from([0xff, 0xfe, 0x80, 0xc0, 0xaf, 0x41, 0x41, 0x41]), 'INVALID_TOKEN', {sql: null})
add('utf8-overlong-nul', 'utf8', 'overlong encoding of NUL (c0 80) followed by base64', Buffer.concat([Buffer.from([0xc0, 0x80]), Buffer.from(tok(control.bytes))]), 'INVALID_TOKEN', {sql: null})

// --- protobuf truncated at every byte --------------------------------------------------------
for (let n = 0; n < control.bytes.length; n++) {
  add(`trunc-${String(n).padStart(4, '0')}`, 'truncation', `first ${n} of ${control.bytes.length} bytes of the control token`,
    tok(control.bytes.subarray(0, n)), 'INVALID_TOKEN', {valgrind: n % 16 === 0})
}
const attenuatedCtl = mint([{block: hessraAuthority('alice', 'orders', 'read')}, {block: {checks: [[{body: [['operation', [{s: 'read'}]]]}]]}}]).bytes
for (let n = control.bytes.length; n < attenuatedCtl.length; n += 7) {
  add(`trunc-attenuated-${String(n).padStart(4, '0')}`, 'truncation', `first ${n} of ${attenuatedCtl.length} bytes of a two-block token`,
    tok(attenuatedCtl.subarray(0, n)), 'INVALID_TOKEN', {valgrind: false})
}

// --- wrong wire types / malformed protobuf ---------------------------------------------------
{
  const a = control.blocks[0]
  const sbBytes = B(fBytes(1, a.data), fBytes(2, pubKeyMsg(a.next)), fBytes(3, a.sig))
  const proof = fBytes(4, fBytes(1, control.signer.seed))
  add('wt-authority-varint', 'wiretype', 'Biscuit.authority (field 2) sent as a varint', tok(B(tag(2, 0), varint(12345), proof)), 'INVALID_TOKEN')
  add('wt-authority-fixed64', 'wiretype', 'Biscuit.authority sent as fixed64', tok(B(tag(2, 1), Buffer.alloc(8, 7), proof)), 'INVALID_TOKEN')
  add('wt-group-start', 'wiretype', 'deprecated group start (wire type 3)', tok(B(tag(2, 3), fBytes(2, sbBytes), proof)), 'INVALID_TOKEN')
  add('wt-invalid-6', 'wiretype', 'wire type 6 (does not exist)', tok(B(tag(2, 6), fBytes(2, sbBytes), proof)), 'INVALID_TOKEN')
  add('wt-invalid-7', 'wiretype', 'wire type 7 (does not exist)', tok(B(fBytes(2, sbBytes), tag(9, 7), proof)), 'INVALID_TOKEN')
  add('wt-field-zero', 'wiretype', 'field number 0', tok(B(tag(0, 2), varint(0), fBytes(2, sbBytes), proof)), 'INVALID_TOKEN')
  add('wt-signature-varint', 'wiretype', 'SignedBlock.signature as a varint', tok(B(fBytes(2, B(fBytes(1, a.data), fBytes(2, pubKeyMsg(a.next)), fVarint(3, 5))), proof)), 'INVALID_TOKEN')
  add('wt-nextkey-alg-bytes', 'wiretype', 'PublicKey.algorithm as bytes', tok(B(fBytes(2, B(fBytes(1, a.data), fBytes(2, B(fBytes(1, Buffer.from([0])), fBytes(2, a.next.pub))), fBytes(3, a.sig))), proof)), 'INVALID_TOKEN')
  add('pb-length-overflow', 'protobuf', 'length prefix 2^64-1', tok(B(tag(2, 2), varint(-1n), sbBytes)), 'INVALID_TOKEN')
  add('pb-length-past-end', 'protobuf', 'length prefix one byte longer than the data', tok(B(tag(2, 2), varint(sbBytes.length + 1), sbBytes)), 'INVALID_TOKEN')
  add('pb-varint-11-bytes', 'protobuf', 'an 11-byte varint (longer than 64 bits)', tok(B(tag(1, 0), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), fBytes(2, sbBytes), proof)), 'INVALID_TOKEN')
  add('pb-varint-unterminated', 'protobuf', 'varint whose continuation bit never ends', tok(B(fBytes(2, sbBytes), tag(1, 0), Buffer.alloc(20, 0xff))), 'INVALID_TOKEN')
  add('pb-root-key-id-overflow', 'integer-overflow', 'rootKeyId (uint32) = 2^40: truncated to 32 bits like prost does; the id is an unsigned hint, so harmless', tok(B(fVarint(1, 2n ** 40n), fBytes(2, sbBytes), proof)), 'SUCCESS')
  add('pb-missing-proof', 'protobuf', 'no Proof', tok(B(fBytes(2, sbBytes))), 'INVALID_TOKEN')
  add('pb-empty-proof', 'protobuf', 'Proof with neither nextSecret nor finalSignature', tok(B(fBytes(2, sbBytes), fBytes(4, Buffer.alloc(0)))), 'INVALID_TOKEN')
  add('pb-missing-authority', 'protobuf', 'no authority block', tok(proof), 'INVALID_TOKEN')
  add('pb-empty-signed-block', 'protobuf', 'authority is an empty message', tok(B(fBytes(2, Buffer.alloc(0)), proof)), 'INVALID_TOKEN')
  add('pb-nextkey-bad-alg', 'protobuf', 'nextKey algorithm 7', tok(B(fBytes(2, B(fBytes(1, a.data), fBytes(2, B(fVarint(1, 7), fBytes(2, a.next.pub))), fBytes(3, a.sig))), proof)), 'INVALID_TOKEN')
  add('pb-nextkey-short', 'protobuf', 'nextKey of 31 bytes', tok(B(fBytes(2, B(fBytes(1, a.data), fBytes(2, B(fVarint(1, 0), fBytes(2, a.next.pub.subarray(1)))), fBytes(3, a.sig))), proof)), 'INVALID_TOKEN')
  add('pb-next-secret-short', 'protobuf', 'Proof.nextSecret of 31 bytes', tok(B(fBytes(2, sbBytes), fBytes(4, fBytes(1, control.signer.seed.subarray(1))))), ['VERIFICATION_FAILED', 'INVALID_TOKEN'])
  add('pb-deep-unknown-nesting', 'protobuf', '200 nested length-delimited unknown fields', tok(B(fBytes(2, sbBytes), proof, Array.from({length: 200}).reduce((acc) => fBytes(15, acc), Buffer.alloc(0)))), ['SUCCESS'], {sqlResult: true})
  add('pb-unknown-field-container', 'protobuf', 'an unknown field 15 in the (unsigned) container: ignored, still valid (malleability, harmless)', tok(B(fBytes(2, sbBytes), proof, fStr(15, 'x'))), 'SUCCESS')
  const attacker = mint([{block: hessraAuthority('alice', 'orders', 'read')}], {root: ATTACKER})
  const atkSb = B(fBytes(1, attacker.blocks[0].data), fBytes(2, pubKeyMsg(attacker.blocks[0].next)), fBytes(3, attacker.blocks[0].sig))
  add('pb-duplicate-authority', 'protobuf', 'authority field twice: legitimate first, attacker-signed second', tok(B(fBytes(2, sbBytes), fBytes(2, atkSb), fBytes(4, fBytes(1, attacker.signer.seed)))), ['INVALID_TOKEN', 'VERIFICATION_FAILED'])
  add('pb-duplicate-authority-rev', 'protobuf', 'authority field twice: attacker-signed first, legitimate second', tok(B(fBytes(2, atkSb), fBytes(2, sbBytes), proof)), ['INVALID_TOKEN', 'VERIFICATION_FAILED', 'SUCCESS'])
}
// signed blocks that do not decode (signature valid: the block bytes are checked after)
const signedBad = (name, desc, blockBytes, expect = 'INVALID_TOKEN', o = {}) =>
  add(name, o.category ?? 'block', desc, tok(mint([{data: blockBytes}]).bytes), expect, o)
signedBad('blk-symbols-varint', 'Block.symbols (string) sent as a varint, validly signed', B(tag(1, 0), varint(3), fVarint(3, 3)))
signedBad('blk-garbage', 'validly signed block of 64 random bytes', createHash('sha512').update('g').digest())
signedBad('blk-version-0', 'Block.version absent', B(fStr(1, 'x')))
signedBad('blk-version-7', 'Block.version 7', B(fVarint(3, 7)))
signedBad('blk-version-huge', 'Block.version 2^32+3: truncated to 3 like prost (uint32); the empty block then has no check, so it is valid', B(fVarint(3, 2n ** 32n + 3n)), 'SUCCESS', {category: 'integer-overflow'})
signedBad('blk-symbol-index-max', 'predicate name = symbol index 2^64-1', B(fVarint(3, 3), fBytes(4, fBytes(1, fVarint(1, -1n)))), 'INVALID_TOKEN', {category: 'integer-overflow'})
signedBad('blk-symbol-gap', 'symbol index 500 (between defaults and 1024)', B(fVarint(3, 3), fBytes(4, fBytes(1, fVarint(1, 500)))))
signedBad('blk-default-symbol-redefined', 'block defines "read" (a default symbol)', B(fStr(1, 'read'), fVarint(3, 3)))
signedBad('utf8-invalid-symbol', 'symbol bytes ff fe (invalid UTF-8) in a signed block', B(fBytes(1, Buffer.from([0xff, 0xfe])), fVarint(3, 3)), 'INVALID_TOKEN', {category: 'utf8'})
signedBad('utf8-surrogate-symbol', 'symbol with an encoded UTF-16 surrogate (ed a0 80)', B(fBytes(1, Buffer.from([0x61, 0xed, 0xa0, 0x80])), fVarint(3, 3)), 'INVALID_TOKEN', {category: 'utf8'})
signedBad('utf8-overlong-symbol', 'symbol with an overlong "/" (c0 af)', B(fBytes(1, Buffer.from([0xc0, 0xaf])), fVarint(3, 3)), 'INVALID_TOKEN', {category: 'utf8'})
{
  // nested sets/arrays deeper than the protobuf nesting limit
  let t = fVarint(2, 1)
  for (let i = 0; i < 100; i++) t = fBytes(9, fBytes(1, t))
  signedBad('nest-array-100', 'a fact whose term is an array nested 100 deep (v6)', B(fStr(1, 'f'), fVarint(3, 6), fBytes(4, fBytes(1, B(fVarint(1, 1024), fBytes(2, t))))), 'INVALID_TOKEN', {category: 'nesting'})
  let s = fVarint(2, 1)
  for (let i = 0; i < 5000; i++) s = fBytes(7, fBytes(1, s))
  signedBad('nest-set-5000', 'a set nested 5000 deep', B(fStr(1, 'f'), fVarint(3, 3), fBytes(4, fBytes(1, B(fVarint(1, 1024), fBytes(2, s))))), 'INVALID_TOKEN', {category: 'nesting'})
}

// --- forged signatures ----------------------------------------------------------------------
{
  const a = control.blocks[0]
  const rebuild = (blocks, proofSeed = control.signer.seed) => tok(container({blocks, proof: fBytes(1, proofSeed)}))
  add('sig-bitflip', 'forgery', 'one bit of the authority signature flipped', rebuild([{...a, sig: flip(a.sig, 10)}]), 'VERIFICATION_FAILED')
  add('sig-zero', 'forgery', 'signature of 64 zero bytes', rebuild([{...a, sig: Buffer.alloc(64)}]), 'VERIFICATION_FAILED')
  add('sig-short', 'forgery', 'signature of 63 bytes', rebuild([{...a, sig: a.sig.subarray(1)}]), ['VERIFICATION_FAILED', 'INVALID_TOKEN'])
  add('sig-empty', 'forgery', 'empty signature', rebuild([{...a, sig: Buffer.alloc(0)}]), ['VERIFICATION_FAILED', 'INVALID_TOKEN'])
  add('sig-long', 'forgery', 'signature of 65 bytes', rebuild([{...a, sig: B(a.sig, Buffer.from([0]))}]), ['VERIFICATION_FAILED', 'INVALID_TOKEN'])
  add('sig-s-plus-l', 'forgery', 'Ed25519 malleability: S replaced by S + L (non-canonical S)', rebuild([{...a, sig: (() => {
    const L = 2n ** 252n + 27742317777372353535851937790883648493n
    let S = 0n
    for (let i = 31; i >= 0; i--) S = (S << 8n) | BigInt(a.sig[32 + i])
    S += L
    const out = Buffer.from(a.sig)
    for (let i = 0; i < 32; i++) { out[32 + i] = Number(S & 0xffn); S >>= 8n }
    return out
  })()}]), 'VERIFICATION_FAILED')
  add('sig-attacker-root', 'forgery', 'valid token signed by an untrusted root key', tok(mint([{block: hessraAuthority('alice', 'orders', 'read')}], {root: ATTACKER}).bytes), 'VERIFICATION_FAILED')
  const tampered = Buffer.from(a.data)
  const at = tampered.indexOf(Buffer.from('alice'))
  tampered.write('admin', at)
  add('sig-tampered-payload', 'forgery', 'authority bytes edited after signing ("alice" -> "admin")', rebuild([{...a, data: tampered}]), 'VERIFICATION_FAILED', {subject: 'admin'})
  add('sig-nextkey-swapped', 'forgery', 'authority nextKey replaced (signature covers it)', rebuild([{...a, next: ATTACKER}], ATTACKER.seed), 'VERIFICATION_FAILED')
  add('proof-wrong-secret', 'forgery', 'Proof.nextSecret that does not match the last nextKey', rebuild([a], ATTACKER.seed), ['VERIFICATION_FAILED', 'INVALID_TOKEN'])
  const two = mint([{block: hessraAuthority('alice', 'orders', 'read')}, {block: {checks: [[{body: [['operation', [{s: 'read'}]]]}]]}}])
  add('sig-block1-bitflip', 'forgery', 'attenuation block signature flipped', tok(container({blocks: [two.blocks[0], {...two.blocks[1], sig: flip(two.blocks[1].sig, 3)}], proof: fBytes(1, two.signer.seed)})), 'VERIFICATION_FAILED')
  add('sig-block-removed', 'forgery', 'attenuation block removed (its restriction dropped), proof of the authority reused', tok(container({blocks: [two.blocks[0]], proof: fBytes(1, two.signer.seed)})), ['VERIFICATION_FAILED', 'INVALID_TOKEN'])
  add('sig-v1-unknown-version', 'forgery', 'SignedBlock.version 2', rebuild([{...a, sv: 2}]), ['INVALID_TOKEN', 'VERIFICATION_FAILED'])
  add('sig-v1-relabelled', 'forgery', 'v0 signature relabelled as signature version 1', rebuild([{...a, sv: 1}]), 'VERIFICATION_FAILED')
}

// --- small-order Ed25519 keys (OpenSSL 3.0 accepts R = identity, S = 0 under the identity key) -------
{
  const low = (b) => { const a = Buffer.alloc(32); a[0] = b; return a }
  const high = (b) => { const a = Buffer.alloc(32, 0xff); a[0] = b; a[31] = 0x7f; return a }
  const points = {
    zero: Buffer.alloc(32), identity: low(1),
    order8a: Buffer.from('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', 'hex'),
    order8b: Buffer.from('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', 'hex'),
    'p-minus-1': high(0xec), p: high(0xed), 'p-plus-1': high(0xee),
  }
  for (const [pname, bytes] of Object.entries(points)) {
    for (const signBit of [false, true]) {
      const enc = Buffer.from(bytes)
      if (signBit) enc[31] |= 0x80
      const label = `${pname}${signBit ? '-neg' : ''}`
      const so = {alg: 0, pub: enc, seed: Buffer.alloc(32), sign: () => { throw new Error('no secret') }}
      const forged = B(low(1), Buffer.alloc(32)) // R = identity, S = 0
      // root signs an authority whose nextKey is small-order; block 1 is "signed" with the forged signature
      const t = mint([
        {block: hessraAuthority('alice', 'orders', 'read'), next: so},
        {block: {facts: [['right', [{s: 'alice'}, {s: 'orders'}, {s: 'write'}]]]}, forgedSig: forged},
      ])
      add(`small-order-nextkey-${label}`, 'small-order', `authority nextKey = small-order point (${label}); block 1 carries the universal forgery R=identity, S=0`, tok(t.bytes), ['VERIFICATION_FAILED', 'INVALID_TOKEN'], {valgrind: pname === 'identity'})
      add(`small-order-key-${label}`, 'small-order', `the key text ed25519/<small-order point ${label}>`, `ed25519/${enc.toString('hex')}`, ['INVALID_KEY', 'SUCCESS'], {kind: 'key', cli: 3})
      // token verified *with* a small-order root key and a forged authority signature
      if (!signBit) {
        const forgedTok = mint([{block: hessraAuthority('alice', 'orders', 'read'), forgedSig: forged}], {root: so})
        add(`small-order-root-${label}`, 'small-order', `verifier configured with the small-order root key ${label}; authority signature R=identity, S=0`, tok(forgedTok.bytes), ['VERIFICATION_FAILED', 'INVALID_KEY'], {key: `ed25519/${enc.toString('hex')}`})
      }
    }
  }
  // small-order R under the real root key
  const t = mint([{block: hessraAuthority('alice', 'orders', 'read'), forgedSig: B(low(1), Buffer.alloc(32))}])
  add('small-order-r-real-key', 'small-order', 'authority signature R=identity, S=0 under the real root key', tok(t.bytes), 'VERIFICATION_FAILED')
  // sealed token whose last key is small-order: forged seal
  const so = {alg: 0, pub: low(1), seed: Buffer.alloc(32), sign: () => B(low(1), Buffer.alloc(32))}
  const s2 = mint([{block: hessraAuthority('alice', 'orders', 'read'), next: so}], {seal: true})
  add('small-order-forged-seal', 'small-order', 'last nextKey small-order and a forged finalSignature', tok(s2.bytes), ['VERIFICATION_FAILED', 'INVALID_TOKEN'])
  // third-party block whose external key is small-order with a forged external signature
  const s3 = mint([{block: hessraAuthority('alice', 'orders', 'read')}, {data: tpData, ext: {key: {alg: 0, pub: low(1)}, forgedSig: B(low(1), Buffer.alloc(32))}}])
  add('small-order-external-key', 'small-order', 'third-party block with a small-order external key and a forged external signature', tok(s3.bytes), ['VERIFICATION_FAILED', 'INVALID_TOKEN'])
}

// --- third-party blocks and sealing ------------------------------------------------------------
{
  const bob = mint([{block: hessraAuthority('bob', 'orders', 'read')}])
  const moved = thirdParty.blocks[1]
  // bob's holder re-signs the moved block with bob's next secret (they hold it); the external signature
  // still covers alice's token's previous signature
  const t = mint([{data: bob.blocks[0].data, next: bob.blocks[0].next, forgedSig: bob.blocks[0].sig},
    {data: moved.data, ext: {key: NODE, forgedSig: moved.ext.sig}, signer: bob.blocks[0].next}])
  add('third-party-moved', 'third-party', 'third-party block taken from alice\'s token, appended to bob\'s (re-signed by bob\'s holder)', tok(t.bytes), 'VERIFICATION_FAILED', {subject: 'bob'})
  const t2 = mint([{block: hessraAuthority('alice', 'orders', 'read')}, {data: tpData, ext: {key: NODE, forgedSig: flip(thirdParty.blocks[1].ext.sig, 5)}}])
  add('third-party-bad-external-sig', 'third-party', 'third-party block with a corrupted external signature', tok(t2.bytes), 'VERIFICATION_FAILED')
  const t3 = mint([{block: hessraAuthority('alice', 'orders', 'read')}, {data: tpData, ext: {key: NODE, prevSig: Buffer.alloc(64)}}])
  add('third-party-wrong-prevsig', 'third-party', 'external signature over a different previous signature', tok(t3.bytes), 'VERIFICATION_FAILED')
  const t4 = mint([{block: hessraAuthority('alice', 'orders', 'read')}, {data: tpData, ext: {key: NODE}, sv: 0}])
  add('third-party-legacy-v0', 'third-party', 'third-party block with signature version 0 (legacy, insecure scheme)', tok(t4.bytes), ['INVALID_TOKEN', 'VERIFICATION_FAILED'])
  const t5 = mint([{data: thirdPartyData({facts: [['right', [{s: 'alice'}, {s: 'orders'}, {s: 'read'}]]]}), ext: {key: NODE, prevSig: Buffer.alloc(0)}}])
  add('third-party-as-authority', 'third-party', 'authority block carrying an external signature', tok(t5.bytes), ['INVALID_TOKEN', 'VERIFICATION_FAILED'])
  const t6 = mint([{block: hessraAuthority('alice', 'orders', 'read')}, {data: encodeBlock({version: 4, facts: [['service', [{s: 'orders'}]]]}, new Symbols()), ext: {key: NODE}}])
  add('third-party-version-4', 'third-party', 'third-party block with Block.version 4 (< 5)', tok(t6.bytes), ['INVALID_TOKEN', 'VERIFICATION_FAILED'])

  // sealed token with a block appended: keep the final signature, add a block signed by the sealed key holder
  // the sealer still holds the last secret (sealed.signer): it signs a new block, the old seal is kept
  const sealedProof = fBytes(2, sealed.bytes.subarray(sealed.bytes.length - 64))
  const appended = mint([...sealed.blocks.map((b) => ({data: b.data, next: b.next, forgedSig: b.sig})),
    {block: {facts: [['right', [{s: 'alice'}, {s: 'orders'}, {s: 'write'}]]]}}], {proof: sealedProof}).bytes
  add('sealed-appended', 'sealing', 'sealed token with a block appended after the seal (old finalSignature kept)', tok(appended), ['VERIFICATION_FAILED', 'INVALID_TOKEN'])
  const sealedBadSig = container({blocks: sealed.blocks, proof: fBytes(2, flip(sealed.bytes.subarray(sealed.bytes.length - 64), 0))})
  add('sealed-bad-seal', 'sealing', 'sealed token whose finalSignature is corrupted', tok(sealedBadSig), 'VERIFICATION_FAILED')
  const sealedBoth = container({blocks: sealed.blocks, proof: B(fBytes(1, Buffer.alloc(32, 1)), fBytes(2, sealed.bytes.subarray(sealed.bytes.length - 64)))})
  add('sealed-proof-both', 'sealing', 'Proof with both nextSecret and finalSignature', tok(sealedBoth), ['INVALID_TOKEN', 'VERIFICATION_FAILED', 'SUCCESS'])
}

// --- sizes: oversized tokens, thousands of blocks, huge symbol tables ------------------------------
{
  const pad = (n) => Buffer.alloc(n, 0x61)
  add('size-10mb', 'size', '10 MB of base64 (a protobuf with a 7.5 MB symbol)', tok(B(fBytes(2, B(fBytes(1, B(fBytes(1, pad(7_500_000)), fVarint(3, 3))))), fBytes(4, fBytes(1, pad(32))))), 'LIMIT_EXCEEDED', {valgrind: false, maxMs: 3000})
  add('size-10mb-binary', 'size', '10 MB of raw protobuf bytes', B(fBytes(2, B(fBytes(1, B(fBytes(1, pad(10_000_000)), fVarint(3, 3))))), fBytes(4, fBytes(1, pad(32)))), 'LIMIT_EXCEEDED', {valgrind: false, maxMs: 3000})
  add('size-1mib-plus-1', 'size', 'one byte over the 1 MiB parse limit', B(fBytes(15, pad(1 << 20))), 'LIMIT_EXCEEDED', {valgrind: false})
  // 200 KB, validly signed, denied (right for mallory): over the config's 64 KiB max_token_bytes
  add('size-200kb-signed', 'size', 'validly signed 200 KB token (one big symbol); grants mallory only',
    tok(mint([{block: hessraAuthority('mallory', 'orders', 'read', {extraSymbols: ['p'.repeat(200_000)]})}]).bytes), 'VERIFICATION_FAILED', {config: 'LIMIT_EXCEEDED', valgrind: false})
  add('size-60kb-valid', 'size', 'validly signed 60 KB token for alice: under the config limit, must still verify',
    tok(mint([{block: hessraAuthority('alice', 'orders', 'read', {extraSymbols: ['p'.repeat(44_000)]})}]).bytes), 'SUCCESS', {valgrind: false})
  const symbols = Array.from({length: 60_000}, (_, i) => 's' + i)
  add('symbols-60000', 'symbols', 'authority block with 60 000 symbols; grants mallory only', tok(mint([{block: hessraAuthority('mallory', 'orders', 'read', {extraSymbols: symbols})}]).bytes), 'VERIFICATION_FAILED', {config: 'LIMIT_EXCEEDED', valgrind: false, maxMs: 2000})
  const many = (n, lastCheck) => {
    const specs = [{block: hessraAuthority('alice', 'orders', 'read')}]
    for (let i = 1; i < n; i++) specs.push({block: {checks: [[{body: [['resource', [{v: 'r'}]]]}]]}})
    if (lastCheck) specs[n - 1] = {block: {checks: [[{body: [['operation', [{s: 'admin'}]]]}]]}}
    return mint(specs).bytes
  }
  add('blocks-1024', 'blocks', '1024 blocks (authority + 1023: the maximum), last one requires operation "admin"', tok(many(1024, true)), 'VERIFICATION_FAILED', {config: 'LIMIT_EXCEEDED', valgrind: false, maxMs: 3000})
  add('blocks-1025', 'blocks', '1025 blocks (one over the limit)', tok(many(1025, false)), 'LIMIT_EXCEEDED', {valgrind: false, maxMs: 3000})
  add('blocks-5000', 'blocks', '5000 blocks', tok(many(5000, false)), 'LIMIT_EXCEEDED', {valgrind: false, maxMs: 3000})
  add('blocks-300-valid', 'blocks', '300 passing blocks (60 KB): under every limit, must verify', tok(many(300, false)), 'SUCCESS', {valgrind: false, maxMs: 3000})
}

// --- Datalog blow-ups -------------------------------------------------------------------------
{
  const facts = (n, name = 'q') => Array.from({length: n}, (_, i) => [name, [{i}]])
  add('datalog-5000-facts', 'datalog', '5000 facts in the authority block and no rule: like the reference, max_facts is only checked after an iteration that derives facts, so this verifies (work is bounded by the token size)', tok(mint([{block: hessraAuthority('alice', 'orders', 'read', {facts: facts(5000)})}]).bytes), 'SUCCESS', {valgrind: false})
  add('datalog-5000-facts-rule', 'datalog', '5000 facts and a rule deriving one more fact (max_facts 1000)', tok(mint([{block: hessraAuthority('alice', 'orders', 'read', {facts: facts(5000), rules: [{head: ['derived', [{i: 1}]], body: [['q', [{i: 1}]]]}]})}]).bytes), 'LIMIT_EXCEEDED', {valgrind: false})
  add('datalog-cross-product', 'datalog', 'p($x,$y) <- q($x), q($y) over 100 facts: 10 000 derived facts', tok(mint([{block: hessraAuthority('alice', 'orders', 'read', {
    facts: facts(100), rules: [{head: ['p', [{v: 'x'}, {v: 'y'}]], body: [['q', [{v: 'x'}]], ['q', [{v: 'y'}]]]}]})}]).bytes), 'LIMIT_EXCEEDED')
  // the iteration chain proper: m(x, x+1) facts let n() grow one step per iteration
  add('datalog-iteration-chain', 'datalog', 'n($y) <- n($x), m($x, $y) with 500 chained m facts: 500 iterations (max 100)', tok(mint([{block: hessraAuthority('alice', 'orders', 'read', {
    facts: [['n', [{i: 0}]], ...Array.from({length: 500}, (_, i) => ['m', [{i}, {i: i + 1}]])],
    rules: [{head: ['n', [{v: 'y'}]], body: [['n', [{v: 'x'}]], ['m', [{v: 'x'}, {v: 'y'}]]]}],
  })}]).bytes), 'LIMIT_EXCEEDED')
  // long expressions: flat RPN programs
  const longOps = (n) => [opValue({i: 1}), ...Array.from({length: n}, () => opUnary(1)), opValue({i: 1}), opBinary(BIN.eq)]
  add('expr-100k-parens', 'expression', 'check whose expression is 1 wrapped in 100 000 parentheses (flat RPN), == 1; grants mallory', tok(mint([{block: hessraAuthority('mallory', 'orders', 'read', {checks: [[{exprs: [longOps(100_000)]}]]})}]).bytes), 'VERIFICATION_FAILED', {config: 'LIMIT_EXCEEDED', valgrind: false, maxMs: 2000})
  const deepStack = (n) => [...Array.from({length: n}, (_, i) => opValue({i})), ...Array.from({length: n - 1}, () => opBinary(BIN.add)), opValue({i: 0}), opBinary(BIN.gt)]
  add('expr-deep-stack-5000', 'expression', '5000 values pushed before the first operator (stack deeper than 1024); grants alice', tok(mint([{block: hessraAuthority('alice', 'orders', 'read', {checks: [[{exprs: [deepStack(5000)]}]]})}]).bytes), ['VERIFICATION_FAILED', 'LIMIT_EXCEEDED'])
  add('expr-stack-underflow', 'expression', 'binary operator on an empty stack; grants alice', tok(mint([{block: hessraAuthority('alice', 'orders', 'read', {checks: [[{exprs: [[opBinary(BIN.add)]]}]]})}]).bytes), ['VERIFICATION_FAILED', 'INVALID_TOKEN'])
  add('expr-not-boolean', 'expression', 'expression that evaluates to an integer; grants alice', tok(mint([{block: hessraAuthority('alice', 'orders', 'read', {checks: [[{exprs: [[opValue({i: 7})]]}]]})}]).bytes), 'VERIFICATION_FAILED')
  const ovf = (name, desc, ops) => add(name, 'integer-overflow', desc, tok(mint([{block: hessraAuthority('alice', 'orders', 'read', {checks: [[{exprs: [ops]}]]})}]).bytes), 'VERIFICATION_FAILED')
  ovf('int-add-overflow', 'check if 9223372036854775807 + 1 > 0', [opValue({i: 2n ** 63n - 1n}), opValue({i: 1}), opBinary(BIN.add), opValue({i: 0}), opBinary(BIN.gt)])
  ovf('int-sub-overflow', 'check if -9223372036854775808 - 1 < 0', [opValue({i: -(2n ** 63n)}), opValue({i: 1}), opBinary(BIN.sub), opValue({i: 0}), opBinary(BIN.lt)])
  ovf('int-mul-overflow', 'check if -9223372036854775808 * -1 > 0', [opValue({i: -(2n ** 63n)}), opValue({i: -1}), opBinary(BIN.mul), opValue({i: 0}), opBinary(BIN.gt)])
  ovf('int-div-overflow', 'check if -9223372036854775808 / -1 > 0', [opValue({i: -(2n ** 63n)}), opValue({i: -1}), opBinary(BIN.div), opValue({i: 0}), opBinary(BIN.gt)])
  ovf('int-div-zero', 'check if 1 / 0 == 0', [opValue({i: 1}), opValue({i: 0}), opBinary(BIN.div), opValue({i: 0}), opBinary(BIN.eq)])
  ovf('int-negate-min', 'check if -(-9223372036854775808) > 0 (unary negate of i64::MIN)', [opValue({i: -(2n ** 63n)}), opUnary(0), opValue({i: 0}), opBinary(BIN.gt)])
  add('int-time-bound-max', 'integer-overflow', 'check if time($t), $t < 9223372036854775807 (far future): valid', tok(mint([{block: hessraAuthority('alice', 'orders', 'read', {checks: [[{body: [['time', [{v: 't'}]]], exprs: [[opValue({v: 't'}), opValue({i: 2n ** 63n - 1n}), opBinary(BIN.lt)]]}]]})}]).bytes), 'SUCCESS')
  add('int-time-bound-min', 'integer-overflow', 'check if time($t), $t < -9223372036854775808: expired', tok(mint([{block: hessraAuthority('alice', 'orders', 'read', {checks: [[{body: [['time', [{v: 't'}]]], exprs: [[opValue({v: 't'}), opValue({i: -(2n ** 63n)}), opBinary(BIN.lt)]]}]]})}]).bytes), 'EXPIRED')
}

// --- rendering bombs (issue 23): a symbol is stored once and referenced by an index, so a small token
// can name a long string thousands of times; decoding and rendering must stay bounded ----------------
{
  // check if nosuch($x), S + S + ... (n times) == S: nosuch has no facts, so the check fails and is rendered
  const chain = (n, text) => [opValue({s: text}), ...Array.from({length: n - 1}, () => [opValue({s: text}), opBinary(BIN.add)]).flat(), opValue({s: text}), opBinary(21)]
  const bombCheck = (n, text) => [[{body: [['nosuch', [{v: 'x'}]]], exprs: [chain(n, text)]}]]
  const attenuated = (checks) => tok(mint([{block: hessraAuthority('alice', 'orders', 'read')}, {block: {checks, version: 6}}]).bytes)
  add('render-bomb-issue23', 'rendering', 'the issue 23 recipe: an attenuation check repeating a 24 KB string 2,600 times (58 KB token, 62 MB of text; ~60 s and 523 MB in `hessra verify` before): decoding refuses it', attenuated(bombCheck(2600, 'A'.repeat(24_000))), 'LIMIT_EXCEEDED', {maxMs: 2000})
  add('render-bomb-600', 'rendering', 'the same check with 600 repetitions (14 MB of text): decodes, is denied, and the failed check is shown cut to 4 KiB', attenuated(bombCheck(600, 'A'.repeat(24_000))), 'VERIFICATION_FAILED', {maxMs: 2000})
  add('render-bomb-700-checks', 'rendering', '700 failing checks each naming one 20 KB string (14 MB of text): denied, 64 KiB of failed-check text in all', attenuated(Array.from({length: 700}, () => [{body: [['nosuch', [{s: 'B'.repeat(20_000)}]]]}])), 'VERIFICATION_FAILED', {maxMs: 2000})
  add('render-bomb-200mb', 'rendering', 'a 100 KB string named 2,000 times (126 KB token, 200 MB of text; what inspection decodes without a size limit): decoding refuses it', attenuated(bombCheck(2000, 'C'.repeat(100_000))), 'LIMIT_EXCEEDED', {maxMs: 2000, valgrind: false})
}

// --- regex bombs ------------------------------------------------------------------------------
{
  const rx = (name, desc, subject, pattern, expect = 'VERIFICATION_FAILED', o = {}) =>
    add(name, 'regex', desc, tok(mint([{block: hessraAuthority('alice', 'orders', 'read', {checks: [[{exprs: [[opValue({s: subject}), opValue({s: pattern}), opBinary(BIN.regex)]]}]]})}]).bytes), expect, o)
  rx('regex-nested-quantifier', '"aaaa…a!".matches("^(a+)+$") — exponential backtracking', 'a'.repeat(40) + '!', '^(a+)+$')
  rx('regex-alternation', '"aaaa…a".matches("^(a|a)*b$")', 'a'.repeat(40), '^(a|a)*b$')
  rx('regex-dotstar-repeat', '"aaaa…".matches("(.*a){25}x")', 'a'.repeat(60), '(.*a){25}x')
  rx('regex-backreference', 'back-reference (refused)', 'abab', '^(ab)\\1$')
  rx('regex-lookahead', 'look-ahead (refused)', 'abc', '^(?=a)abc$')
  rx('regex-recursion', 'recursive pattern (?R) (refused)', '((()))', '\\((?R)*\\)')
  rx('regex-invalid', 'pattern that does not compile', 'abc', '([a-')
  rx('regex-huge-pattern', '100 KB pattern', 'abc', '(a|b|c)'.repeat(15_000) + 'x', 'VERIFICATION_FAILED', {config: 'LIMIT_EXCEEDED', valgrind: false})
  rx('regex-huge-repeat', 'a{65535}{65535}', 'aaaa', '(a{65535}){65535}')
  rx('regex-long-subject', '50 KB subject string against (a+)+$', 'a'.repeat(50_000) + '!', '(a+)+$', 'VERIFICATION_FAILED', {valgrind: false})
  rx('regex-ok-control', 'a regex that matches: check passes, token valid', 'orders-2024', '^orders-[0-9]+$', 'SUCCESS')
}

// --- keys: wrong types and sizes ------------------------------------------------------------------
{
  const k = (name, desc, text, expect = 'INVALID_KEY') => add(name, 'key', desc, text, expect, {kind: 'key', cli: 3})
  const h = (n, b = 0x11) => Buffer.alloc(n, b).toString('hex')
  k('key-empty', 'empty key text', '')
  k('key-ed25519-31', 'ed25519/<31 bytes>', 'ed25519/' + ROOT.pub.subarray(1).toString('hex'))
  k('key-ed25519-33', 'ed25519/<33 bytes>', 'ed25519/' + ROOT.pub.toString('hex') + '00')
  k('key-ed25519-odd-hex', 'odd number of hex digits', 'ed25519/' + ROOT.pub.toString('hex').slice(1))
  k('key-ed25519-nonhex', 'non-hex characters', 'ed25519/' + 'zz' + ROOT.pub.toString('hex').slice(2))
  k('key-ed25519-not-on-curve', `ed25519/<y = ${notOnCurveY()}: no x satisfies the curve equation>`, 'ed25519/' + leBytes(notOnCurveY()).toString('hex'))
  k('key-p256-32', 'secp256r1/<32 bytes>', 'secp256r1/' + h(32))
  k('key-p256-33-bad-prefix', 'secp256r1/<33 bytes, prefix 05>', 'secp256r1/05' + P256.pub.subarray(1).toString('hex'))
  k('key-p256-not-on-curve', 'secp256r1/<compressed x with no point>', 'secp256r1/02' + 'ff'.repeat(32))
  k('key-p256-infinity', 'secp256r1/00 (point at infinity)', 'secp256r1/00')
  k('key-p256-uncompressed-bad', 'secp256r1/04<x><y+1> (not on the curve)', 'secp256r1/04' + h(64, 0x22))
  k('key-unknown-alg', 'rsa/<hex>', 'rsa/' + ROOT.pub.toString('hex'))
  k('key-bare-hex-33', 'bare hex of 33 bytes', P256.pub.toString('hex'))
  k('key-huge', '1 MB of hex after ed25519/', 'ed25519/' + 'ab'.repeat(500_000))
  const rsa = '-----BEGIN PUBLIC KEY-----\nMFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAMu2ZwSv0i3k5E3JcPaVv7OGbnTxv7cO\nbIHbYk0Fzj2oU+YtFCHdQ9/Hrn1qBqJqmMpqxLgNq3Dn6cVY2bB2XckCAwEAAQ==\n-----END PUBLIC KEY-----\n'
  k('key-pem-rsa', 'PEM SubjectPublicKeyInfo of an RSA key', rsa)
  k('key-pem-x25519', 'PEM SPKI of an X25519 key (wrong curve OID 1.3.101.110)', '-----BEGIN PUBLIC KEY-----\n' + B(Buffer.from('302a300506032b656e032100', 'hex'), ROOT.pub).toString('base64') + '\n-----END PUBLIC KEY-----\n')
  k('key-pem-garbage', 'PEM armour around garbage', '-----BEGIN PUBLIC KEY-----\n!!!notbase64!!!\n-----END PUBLIC KEY-----\n')
  k('key-pem-truncated-der', 'PEM of a truncated SPKI', '-----BEGIN PUBLIC KEY-----\n' + B(Buffer.from('302a300506032b6570032100', 'hex'), ROOT.pub).subarray(0, 20).toString('base64') + '\n-----END PUBLIC KEY-----\n')
  k('key-pem-private', 'a PKCS#8 private key where a public key is expected', '-----BEGIN PRIVATE KEY-----\n' + B(Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, 3)).toString('base64') + '\n-----END PRIVATE KEY-----\n')
  k('key-valid-control', 'a valid key (control)', ROOT.text, 'SUCCESS')
  add('key-not-on-curve-verify', 'key', 'valid token checked with the Ed25519 "key" that is not a curve point', tok(control.bytes), ['VERIFICATION_FAILED', 'INVALID_KEY'], {key: 'ed25519/' + leBytes(notOnCurveY()).toString('hex')})
  add('key-type-mismatch', 'key', 'valid Ed25519-rooted token checked with a valid P-256 key', tok(control.bytes), 'VERIFICATION_FAILED', {key: P256.text})
  add('key-type-mismatch-rev', 'key', 'P-256-rooted token checked with an Ed25519 key', tok(mint([{block: hessraAuthority('alice', 'orders', 'read')}], {root: P256}).bytes), 'VERIFICATION_FAILED')
}

// ---------------------------------------------------------------- output
const manifest = {
  description: 'hessra hostile-input corpus: generated by test/corpus/generate.mjs (deterministic, TEST-ONLY keys). ' +
    'Files live in the generator\'s OUTDIR; `file` is relative to it.',
  root_key: ROOT.text,
  p256_root_key: P256.text,
  node_key: NODE.text,
  code_names: Object.fromEntries(Object.entries(CODES).map(([k, v]) => [v, k])),
  cli_exit_for_code: CLI,
  cases: cases.map(({content, ...c}) => c),
}
// one case per line keeps the committed file short and its diffs readable
function manifestText() {
  const {cases: list, ...head} = manifest
  const top = JSON.stringify(head, null, 1).replace(/\n}$/, '')
  return top + ',\n "cases": [\n' + list.map((c) => '  ' + JSON.stringify(c)).join(',\n') + '\n ]\n}\n'
}
const arg = process.argv[2]
if (arg === '--manifest' || !arg) {
  process.stdout.write(manifestText())
} else {
  mkdirSync(join(arg, 'tokens'), {recursive: true})
  mkdirSync(join(arg, 'keys'), {recursive: true})
  const tsv = []
  for (const c of cases) {
    writeFileSync(join(arg, c.file), c.content)
    tsv.push([c.name, c.kind, c.encoding, c.file, c.key ?? '-', c.subject ?? '-', c.resource ?? '-', c.operation ?? '-',
      c.c_codes.join(','), (c.c_config_codes ?? []).join(',') || '-', c.sql === null ? '-' : String(c.sql), c.max_ms, c.valgrind ? 1 : 0].join('\t'))
  }
  writeFileSync(join(arg, 'cases.tsv'), tsv.join('\n') + '\n')
  writeFileSync(join(arg, 'manifest.json'), manifestText())
  process.stderr.write(`corpus: ${cases.length} cases written to ${arg}\n`)
}
