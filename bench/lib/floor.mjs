// The cryptographic floor of verifying one token: the signature verifications (and the proof check)
// the token needs, done with node's crypto (OpenSSL) on the exact bytes the engine checks.
//
// The token container is decoded here (a minimal protobuf reader for the Biscuit schema) only to
// obtain the signed payloads; nothing here decides whether a token is valid for the product.

import crypto from 'node:crypto'

function varint(buf, pos) {
  let x = 0
  let mul = 1
  for (;;) {
    if (pos >= buf.length) throw new Error('protobuf: truncated varint')
    const b = buf[pos++]
    x += (b & 0x7f) * mul
    if ((b & 0x80) === 0) return [x, pos]
    mul *= 128
  }
}

function fields(buf) {
  const out = []
  let p = 0
  while (p < buf.length) {
    let key
    ;[key, p] = varint(buf, p)
    const f = Math.floor(key / 8)
    const wt = key & 7
    if (wt === 0) {
      let v
      ;[v, p] = varint(buf, p)
      out.push([f, v])
    } else if (wt === 2) {
      let len
      ;[len, p] = varint(buf, p)
      out.push([f, buf.subarray(p, p + len)])
      p += len
    } else if (wt === 1) p += 8
    else if (wt === 5) p += 4
    else throw new Error(`protobuf: wire type ${wt}`)
  }
  return out
}

function decodePublicKey(buf) {
  let alg = 0
  let key = null
  for (const [f, v] of fields(buf)) {
    if (f === 1) alg = v
    else if (f === 2) key = Buffer.from(v)
  }
  return {alg, key}
}

function decodeSignedBlock(buf) {
  const b = {block: null, nextKey: null, signature: null, external: null, version: 0}
  for (const [f, v] of fields(buf)) {
    if (f === 1) b.block = Buffer.from(v)
    else if (f === 2) b.nextKey = decodePublicKey(v)
    else if (f === 3) b.signature = Buffer.from(v)
    else if (f === 4) {
      const e = {signature: null, key: null}
      for (const [g, w] of fields(v)) {
        if (g === 1) e.signature = Buffer.from(w)
        else if (g === 2) e.key = decodePublicKey(w)
      }
      b.external = e
    } else if (f === 5) b.version = v
  }
  return b
}

export function decodeToken(base64url) {
  const raw = Buffer.from(base64url.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/'), 'base64')
  const t = {rootKeyId: null, blocks: [], proof: null}
  for (const [f, v] of fields(raw)) {
    if (f === 1) t.rootKeyId = v
    else if (f === 2) t.blocks.unshift(decodeSignedBlock(v))
    else if (f === 3) t.blocks.push(decodeSignedBlock(v))
    else if (f === 4) {
      for (const [g, w] of fields(v)) t.proof = g === 1 ? {nextSecret: Buffer.from(w)} : {finalSignature: Buffer.from(w)}
    }
  }
  return t
}

const le32 = (n) => {
  const b = Buffer.alloc(4)
  b.writeInt32LE(n)
  return b
}
const S = (s) => Buffer.from(s, 'latin1')

function payloadV0(block, externalSig) {
  return Buffer.concat([block.block, ...(externalSig ? [externalSig] : []), le32(block.nextKey.alg), block.nextKey.key])
}

function payloadV1(block, externalSig, prevSig) {
  const parts = [S('\0BLOCK\0\0VERSION\0'), le32(1), S('\0PAYLOAD\0'), block.block, S('\0ALGORITHM\0'), le32(block.nextKey.alg), S('\0NEXTKEY\0'), block.nextKey.key]
  if (prevSig) parts.push(S('\0PREVSIG\0'), prevSig)
  if (externalSig) parts.push(S('\0EXTERNALSIG\0'), externalSig)
  return Buffer.concat(parts)
}

const ED_SPKI = Buffer.from('302a300506032b6570032100', 'hex')
const P256_SPKI_COMPRESSED = Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex')

export function publicKeyObject(alg, bytes) {
  if (alg === 0) return crypto.createPublicKey({key: Buffer.concat([ED_SPKI, bytes]), format: 'der', type: 'spki'})
  if (alg === 1 && bytes.length === 33) return crypto.createPublicKey({key: Buffer.concat([P256_SPKI_COMPRESSED, bytes]), format: 'der', type: 'spki'})
  throw new Error(`unsupported key: alg ${alg}, ${bytes.length} bytes`)
}

/** "ed25519/<hex>" | "secp256r1/<hex>" -> {alg, key} */
export function parseKeyText(text) {
  const [name, hex] = text.split('/')
  return {alg: name === 'ed25519' ? 0 : 1, key: Buffer.from(hex, 'hex')}
}

let LC = null
/** OpenSSL libcrypto through koffi: the same primitives the engine calls (crypto/openssl.rs). */
function libcrypto(koffi) {
  if (LC) return LC
  const names = ['libcrypto.so.3', 'libcrypto.3.dylib']
  let lib = null
  for (const n of names) {
    try {
      lib = koffi.load(n)
      break
    } catch {
      // not this name: try the next one
    }
  }
  if (!lib) throw new Error('libcrypto.so.3 not loadable')
  const f = (p) => lib.func(p)
  LC = {
    newRawPublic: f('void *EVP_PKEY_new_raw_public_key(int type, void *e, const uint8_t *key, size_t keylen)'),
    newRawPrivate: f('void *EVP_PKEY_new_raw_private_key(int type, void *e, const uint8_t *key, size_t keylen)'),
    getRawPublic: f('int EVP_PKEY_get_raw_public_key(void *pkey, uint8_t *out, _Inout_ size_t *len)'),
    pkeyFree: f('void EVP_PKEY_free(void *pkey)'),
    mdNew: f('void *EVP_MD_CTX_new(void)'),
    mdFree: f('void EVP_MD_CTX_free(void *ctx)'),
    verifyInit: f('int EVP_DigestVerifyInit(void *ctx, void *pctx, void *type, void *e, void *pkey)'),
    digestVerify: f('int EVP_DigestVerify(void *ctx, const uint8_t *sig, size_t siglen, const uint8_t *tbs, size_t tbslen)'),
    sha256: f('uint8_t *SHA256(const uint8_t *d, size_t n, uint8_t *md)'),
    ecNew: f('void *EC_KEY_new_by_curve_name(int nid)'),
    ecOct2key: f('int EC_KEY_oct2key(void *key, const uint8_t *buf, size_t len, void *ctx)'),
    ecdsaVerify: f('int ECDSA_verify(int type, const uint8_t *dgst, int dgstlen, const uint8_t *sig, int siglen, void *eckey)'),
  }
  return LC
}
const NID_ED25519 = 1087
const NID_P256 = 415

/**
 * Prepares the floor for one token: run() performs exactly the primitive operations the token needs
 * (each block signature, the proof's private→public key derivation) through OpenSSL libcrypto, with
 * the keys already imported (the engine, too, keeps the root key's OpenSSL object on the long-lived
 * key handle). Every signature is first checked with node's crypto, so the payloads are the real ones.
 */
export function prepareFloor(tokenText, rootKeyText, koffi) {
  const lc = libcrypto(koffi)
  const t = decodeToken(tokenText)
  const root = parseKeyText(rootKeyText)
  const checks = []
  let current = root
  let prevSig = null
  t.blocks.forEach((b, i) => {
    const ext = b.external ? b.external.signature : null
    if (ext) throw new Error('third-party blocks are not part of this benchmark')
    const payload = b.version === 1 ? payloadV1(b, ext, prevSig) : payloadV0(b, ext)
    const node = publicKeyObject(current.alg, current.key)
    const ok = current.alg === 0 ? crypto.verify(null, payload, node, b.signature) : crypto.verify('sha256', payload, {key: node, dsaEncoding: 'der'}, b.signature)
    if (!ok) throw new Error(`floor: block ${i} (v${b.version}) does not verify: the payload reconstruction is wrong`)
    let key
    if (current.alg === 0) key = lc.newRawPublic(NID_ED25519, null, current.key, 32)
    else {
      key = lc.ecNew(NID_P256)
      if (!lc.ecOct2key(key, current.key, current.key.length, null)) throw new Error('EC_KEY_oct2key failed')
    }
    checks.push({alg: current.alg, key, payload, sig: b.signature})
    current = b.nextKey
    prevSig = b.signature
  })
  const md = Buffer.alloc(32)
  const verifyOne = (c) => {
    if (c.alg === 0) {
      const ctx = lc.mdNew()
      lc.verifyInit(ctx, null, null, null, c.key)
      const r = lc.digestVerify(ctx, c.sig, c.sig.length, c.payload, c.payload.length)
      lc.mdFree(ctx)
      return r === 1
    }
    lc.sha256(c.payload, c.payload.length, md)
    return lc.ecdsaVerify(0, md, 32, c.sig, c.sig.length, c.key) === 1
  }
  for (const c of checks) if (!verifyOne(c)) throw new Error('floor: libcrypto disagrees with node crypto')

  if (!t.proof?.nextSecret) throw new Error('floor: only unsealed tokens (next secret proof) are modelled')
  if (current.alg !== 0) throw new Error('floor: only Ed25519 ephemeral keys are modelled')
  const seed = t.proof.nextSecret
  const expect = current.key
  const pub = Buffer.alloc(32)
  const len = [32]
  const proof = () => {
    const k = lc.newRawPrivate(NID_ED25519, null, seed, 32)
    len[0] = 32
    lc.getRawPublic(k, pub, len)
    lc.pkeyFree(k)
    return pub.equals(expect)
  }
  if (!proof()) throw new Error('floor: proof does not match the last next key')

  const run = () => {
    for (let i = 0; i < checks.length; i++) verifyOne(checks[i])
    proof()
  }
  const counts = {ed25519_verify: checks.filter((c) => c.alg === 0).length, p256_verify: checks.filter((c) => c.alg === 1).length, ed25519_keypair_from_seed: 1}
  return {run, verifyOnly: () => checks.forEach(verifyOne), proofOnly: proof, counts, blocks: t.blocks.length, bytes: Buffer.from(tokenText, 'base64url').length}
}
