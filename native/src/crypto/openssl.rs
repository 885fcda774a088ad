//! The only bridge to OpenSSL libcrypto 3: hand-declared `extern "C"` items
//! and small owning wrappers around them. Everything here that is `pub(super)`
//! is safe to call: pointers never escape, every object has exactly one owner
//! that frees it, every return code is checked, and the thread's OpenSSL
//! error queue is emptied after a failure (so it never leaks into the next
//! caller, e.g. PostgreSQL's own TLS code).

use std::ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void, CStr};
use std::ptr;

use super::CryptoError;

/// `NID_ED25519` / `EVP_PKEY_ED25519`.
const NID_ED25519: c_int = 1087;
/// `NID_X9_62_prime256v1`.
const NID_P256: c_int = 415;
/// `EVP_PKEY_EC` (`NID_X9_62_id_ecPublicKey`).
const EVP_PKEY_EC: c_int = 408;
/// `POINT_CONVERSION_COMPRESSED` / `POINT_CONVERSION_UNCOMPRESSED`.
const POINT_COMPRESSED: c_int = 2;
const POINT_UNCOMPRESSED: c_int = 4;

#[link(name = "crypto")]
extern "C" {
    fn ERR_get_error() -> c_ulong;
    #[cfg(test)]
    fn ERR_peek_error() -> c_ulong;
    fn ERR_clear_error();
    fn ERR_error_string_n(e: c_ulong, buf: *mut c_char, len: usize);

    fn OPENSSL_cleanse(ptr: *mut c_void, len: usize);
    fn RAND_bytes(buf: *mut u8, num: c_int) -> c_int;

    fn SHA256_Init(ctx: *mut c_void) -> c_int;
    fn SHA256_Update(ctx: *mut c_void, data: *const c_void, len: usize) -> c_int;
    fn SHA256_Final(md: *mut u8, ctx: *mut c_void) -> c_int;

    fn EVP_PKEY_new() -> *mut c_void;
    fn EVP_PKEY_free(pkey: *mut c_void);
    fn EVP_PKEY_get_id(pkey: *const c_void) -> c_int;
    fn EVP_PKEY_new_raw_public_key(
        ty: c_int,
        e: *mut c_void,
        key: *const u8,
        len: usize,
    ) -> *mut c_void;
    fn EVP_PKEY_new_raw_private_key(
        ty: c_int,
        e: *mut c_void,
        key: *const u8,
        len: usize,
    ) -> *mut c_void;
    fn EVP_PKEY_get_raw_public_key(pkey: *const c_void, out: *mut u8, len: *mut usize) -> c_int;
    fn EVP_PKEY_get_raw_private_key(pkey: *const c_void, out: *mut u8, len: *mut usize) -> c_int;
    fn EVP_PKEY_set1_EC_KEY(pkey: *mut c_void, key: *mut c_void) -> c_int;
    fn EVP_PKEY_get_utf8_string_param(
        pkey: *const c_void,
        name: *const c_char,
        buf: *mut c_char,
        max: usize,
        out_len: *mut usize,
    ) -> c_int;
    fn EVP_PKEY_get_octet_string_param(
        pkey: *const c_void,
        name: *const c_char,
        buf: *mut u8,
        max: usize,
        out_len: *mut usize,
    ) -> c_int;
    fn EVP_PKEY_get_bn_param(
        pkey: *const c_void,
        name: *const c_char,
        bn: *mut *mut c_void,
    ) -> c_int;

    fn EVP_MD_CTX_new() -> *mut c_void;
    fn EVP_MD_CTX_free(ctx: *mut c_void);
    fn EVP_DigestSignInit(
        ctx: *mut c_void,
        pctx: *mut *mut c_void,
        md: *const c_void,
        e: *mut c_void,
        pkey: *mut c_void,
    ) -> c_int;
    fn EVP_DigestSign(
        ctx: *mut c_void,
        sig: *mut u8,
        siglen: *mut usize,
        tbs: *const u8,
        len: usize,
    ) -> c_int;
    fn EVP_DigestVerifyInit(
        ctx: *mut c_void,
        pctx: *mut *mut c_void,
        md: *const c_void,
        e: *mut c_void,
        pkey: *mut c_void,
    ) -> c_int;
    fn EVP_DigestVerify(
        ctx: *mut c_void,
        sig: *const u8,
        siglen: usize,
        tbs: *const u8,
        len: usize,
    ) -> c_int;

    fn EC_KEY_new_by_curve_name(nid: c_int) -> *mut c_void;
    fn EC_KEY_free(key: *mut c_void);
    fn EC_KEY_oct2key(key: *mut c_void, buf: *const u8, len: usize, ctx: *mut c_void) -> c_int;
    fn EC_KEY_get0_group(key: *const c_void) -> *const c_void;
    fn EC_KEY_get0_public_key(key: *const c_void) -> *const c_void;
    fn EC_KEY_get0_private_key(key: *const c_void) -> *const c_void;
    fn EC_KEY_set_private_key(key: *mut c_void, prv: *const c_void) -> c_int;
    fn EC_KEY_set_public_key(key: *mut c_void, public: *const c_void) -> c_int;
    fn EC_KEY_set_conv_form(key: *mut c_void, form: c_int);
    fn EC_KEY_generate_key(key: *mut c_void) -> c_int;
    fn EC_GROUP_get0_order(group: *const c_void) -> *const c_void;
    fn EC_POINT_new(group: *const c_void) -> *mut c_void;
    fn EC_POINT_free(point: *mut c_void);
    fn EC_POINT_mul(
        group: *const c_void,
        r: *mut c_void,
        n: *const c_void,
        q: *const c_void,
        m: *const c_void,
        ctx: *mut c_void,
    ) -> c_int;
    fn EC_POINT_point2oct(
        group: *const c_void,
        p: *const c_void,
        form: c_int,
        buf: *mut u8,
        len: usize,
        ctx: *mut c_void,
    ) -> usize;
    fn ECDSA_sign(
        ty: c_int,
        dgst: *const u8,
        dlen: c_int,
        sig: *mut u8,
        siglen: *mut c_uint,
        key: *mut c_void,
    ) -> c_int;
    fn ECDSA_verify(
        ty: c_int,
        dgst: *const u8,
        dlen: c_int,
        sig: *const u8,
        siglen: c_int,
        key: *mut c_void,
    ) -> c_int;
    fn ECDSA_size(key: *const c_void) -> c_int;

    fn BN_bin2bn(s: *const u8, len: c_int, ret: *mut c_void) -> *mut c_void;
    fn BN_bn2binpad(a: *const c_void, to: *mut u8, tolen: c_int) -> c_int;
    fn BN_clear_free(a: *mut c_void);
    fn BN_cmp(a: *const c_void, b: *const c_void) -> c_int;
    fn BN_is_zero(a: *const c_void) -> c_int;
    fn BN_new() -> *mut c_void;
    fn BN_free(a: *mut c_void);
    fn BN_lebin2bn(s: *const u8, len: c_int, ret: *mut c_void) -> *mut c_void;
    fn BN_value_one() -> *const c_void;
    fn BN_CTX_new() -> *mut c_void;
    fn BN_CTX_free(ctx: *mut c_void);
    fn BN_mod_sqr(r: *mut c_void, a: *const c_void, m: *const c_void, ctx: *mut c_void) -> c_int;
    fn BN_mod_mul(
        r: *mut c_void,
        a: *const c_void,
        b: *const c_void,
        m: *const c_void,
        ctx: *mut c_void,
    ) -> c_int;
    fn BN_mod_add(
        r: *mut c_void,
        a: *const c_void,
        b: *const c_void,
        m: *const c_void,
        ctx: *mut c_void,
    ) -> c_int;
    fn BN_mod_sub(
        r: *mut c_void,
        a: *const c_void,
        b: *const c_void,
        m: *const c_void,
        ctx: *mut c_void,
    ) -> c_int;
    fn BN_kronecker(a: *const c_void, b: *const c_void, ctx: *mut c_void) -> c_int;

    fn d2i_PUBKEY(a: *mut *mut c_void, pp: *mut *const u8, len: c_long) -> *mut c_void;
    fn i2d_PUBKEY(a: *const c_void, pp: *mut *mut u8) -> c_int;
    fn d2i_AutoPrivateKey(a: *mut *mut c_void, pp: *mut *const u8, len: c_long) -> *mut c_void;
    fn EVP_PKEY2PKCS8(pkey: *const c_void) -> *mut c_void;
    fn i2d_PKCS8_PRIV_KEY_INFO(a: *const c_void, pp: *mut *mut u8) -> c_int;
    fn PKCS8_PRIV_KEY_INFO_free(a: *mut c_void);
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// Drains this thread's OpenSSL error queue, returning the oldest entry's text.
fn take_error_text() -> String {
    // SAFETY: ERR_get_error only reads and pops this thread's error queue.
    let first = unsafe { ERR_get_error() };
    let mut text = String::new();
    if first != 0 {
        let mut buf = [0 as c_char; 256];
        // SAFETY: buf is writable for its full length, which we pass; the
        // function always NUL-terminates within that length.
        unsafe { ERR_error_string_n(first, buf.as_mut_ptr(), buf.len()) };
        // SAFETY: buf is NUL-terminated (see above) and outlives the borrow.
        text = unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned();
    }
    clear_errors();
    text
}

/// Empties this thread's OpenSSL error queue.
fn clear_errors() {
    // SAFETY: no arguments; only touches the thread-local error queue.
    unsafe { ERR_clear_error() };
}

/// Whether this thread's OpenSSL error queue is empty (tests check that no
/// failure leaves errors behind).
#[cfg(test)]
pub(super) fn error_queue_is_empty() -> bool {
    // SAFETY: ERR_peek_error only reads this thread's error queue.
    unsafe { ERR_peek_error() == 0 }
}

/// An internal OpenSSL failure of `call` (allocation, provider problems).
fn failure(call: &'static str) -> CryptoError {
    CryptoError::OpenSsl {
        call,
        detail: take_error_text(),
    }
}

// ---------------------------------------------------------------------------
// Hashing, randomness, cleansing
// ---------------------------------------------------------------------------

/// Overwrites `buf` with zeros in a way the compiler cannot elide.
pub(super) fn cleanse(buf: &mut [u8]) {
    if buf.is_empty() {
        return;
    }
    // SAFETY: buf is a valid, writable region of exactly buf.len() bytes.
    unsafe { OPENSSL_cleanse(buf.as_mut_ptr().cast(), buf.len()) };
}

/// Fills `buf` from OpenSSL's CSPRNG.
pub(super) fn rand_bytes(buf: &mut [u8]) -> Result<(), CryptoError> {
    for chunk in buf.chunks_mut(1 << 30) {
        // SAFETY: chunk is writable for chunk.len() bytes, which fits a c_int.
        let rc = unsafe { RAND_bytes(chunk.as_mut_ptr(), chunk.len() as c_int) };
        if rc != 1 {
            return Err(failure("RAND_bytes"));
        }
    }
    Ok(())
}

/// Incremental SHA-256 (OpenSSL's low-level implementation: no algorithm
/// fetch per call, which matters on the verification path).
pub(super) struct Sha256Ctx {
    /// Storage for `SHA256_CTX` (112 bytes on every platform OpenSSL 3
    /// supports); oversized and 8-aligned so layout changes cannot overflow it.
    state: [u64; 32],
    ok: bool,
}

impl Sha256Ctx {
    pub(super) fn new() -> Sha256Ctx {
        let mut ctx = Sha256Ctx {
            state: [0; 32],
            ok: true,
        };
        // SAFETY: state is a writable, suitably aligned buffer larger than SHA256_CTX.
        ctx.ok = unsafe { SHA256_Init(ctx.state.as_mut_ptr().cast()) } == 1;
        ctx
    }

    pub(super) fn update(&mut self, data: &[u8]) {
        if self.ok && !data.is_empty() {
            // SAFETY: state was initialised by SHA256_Init; data is readable for data.len() bytes.
            self.ok = unsafe {
                SHA256_Update(
                    self.state.as_mut_ptr().cast(),
                    data.as_ptr().cast(),
                    data.len(),
                )
            } == 1;
        }
    }

    pub(super) fn finish(mut self) -> Result<[u8; 32], CryptoError> {
        let mut out = [0u8; 32];
        if self.ok {
            // SAFETY: out holds the 32 bytes SHA256_Final writes; state is initialised.
            self.ok =
                unsafe { SHA256_Final(out.as_mut_ptr(), self.state.as_mut_ptr().cast()) } == 1;
        }
        if self.ok {
            Ok(out)
        } else {
            Err(failure("SHA256"))
        }
    }
}

// ---------------------------------------------------------------------------
// Owned OpenSSL objects
// ---------------------------------------------------------------------------

/// An owned `EVP_PKEY`.
pub(super) struct Pkey(*mut c_void);

// SAFETY: an EVP_PKEY that is no longer modified may be used from several
// threads at once (OpenSSL guards its internal caches with the key's lock);
// after construction this wrapper only reads it.
unsafe impl Send for Pkey {}
// SAFETY: see Send; every method takes &self and performs read-only operations.
unsafe impl Sync for Pkey {}

impl Drop for Pkey {
    fn drop(&mut self) {
        // SAFETY: self.0 is a non-null EVP_PKEY we own; OpenSSL cleanses private material.
        unsafe { EVP_PKEY_free(self.0) };
    }
}

/// An owned `EC_KEY` on P-256.
pub(super) struct EcKey(*mut c_void);

// SAFETY: after construction the EC_KEY is only read (ECDSA_verify/sign and the
// accessors do not modify it), which OpenSSL supports from several threads.
unsafe impl Send for EcKey {}
// SAFETY: see Send.
unsafe impl Sync for EcKey {}

impl Drop for EcKey {
    fn drop(&mut self) {
        // SAFETY: self.0 is a non-null EC_KEY we own; EC_KEY_free clears the private scalar.
        unsafe { EC_KEY_free(self.0) };
    }
}

/// An owned `EVP_MD_CTX`.
struct MdCtx(*mut c_void);

impl MdCtx {
    fn new() -> Result<MdCtx, CryptoError> {
        // SAFETY: no arguments; a null result is handled.
        let p = unsafe { EVP_MD_CTX_new() };
        if p.is_null() {
            Err(failure("EVP_MD_CTX_new"))
        } else {
            Ok(MdCtx(p))
        }
    }
}

impl Drop for MdCtx {
    fn drop(&mut self) {
        // SAFETY: self.0 is a non-null EVP_MD_CTX we own.
        unsafe { EVP_MD_CTX_free(self.0) };
    }
}

/// An owned `BIGNUM` that may hold a secret (freed with `BN_clear_free`).
struct SecretBn(*mut c_void);

impl Drop for SecretBn {
    fn drop(&mut self) {
        // SAFETY: self.0 is a non-null BIGNUM we own.
        unsafe { BN_clear_free(self.0) };
    }
}

/// An owned `EC_POINT`.
struct EcPoint(*mut c_void);

impl Drop for EcPoint {
    fn drop(&mut self) {
        // SAFETY: self.0 is a non-null EC_POINT we own.
        unsafe { EC_POINT_free(self.0) };
    }
}

// ---------------------------------------------------------------------------
// Ed25519
// ---------------------------------------------------------------------------

impl Pkey {
    /// An Ed25519 public key from its 32-byte encoding.
    pub(super) fn ed25519_public(key: &[u8; 32]) -> Result<Pkey, CryptoError> {
        // SAFETY: key is readable for 32 bytes; a null engine selects the default.
        let p = unsafe {
            EVP_PKEY_new_raw_public_key(NID_ED25519, ptr::null_mut(), key.as_ptr(), key.len())
        };
        if p.is_null() {
            Err(failure("EVP_PKEY_new_raw_public_key"))
        } else {
            Ok(Pkey(p))
        }
    }

    /// An Ed25519 private key from its 32-byte seed.
    pub(super) fn ed25519_private(seed: &[u8; 32]) -> Result<Pkey, CryptoError> {
        // SAFETY: seed is readable for 32 bytes; OpenSSL copies it.
        let p = unsafe {
            EVP_PKEY_new_raw_private_key(NID_ED25519, ptr::null_mut(), seed.as_ptr(), seed.len())
        };
        if p.is_null() {
            Err(failure("EVP_PKEY_new_raw_private_key"))
        } else {
            Ok(Pkey(p))
        }
    }

    /// An `EVP_PKEY` wrapping a copy of a P-256 key (for DER export).
    fn from_ec(key: &EcKey) -> Result<Pkey, CryptoError> {
        // SAFETY: no arguments; a null result is handled.
        let p = unsafe { EVP_PKEY_new() };
        if p.is_null() {
            return Err(failure("EVP_PKEY_new"));
        }
        let pkey = Pkey(p);
        // SAFETY: both pointers are valid; set1 takes its own reference to the EC_KEY.
        if unsafe { EVP_PKEY_set1_EC_KEY(pkey.0, key.0) } != 1 {
            return Err(failure("EVP_PKEY_set1_EC_KEY"));
        }
        Ok(pkey)
    }

    /// The raw 32-byte Ed25519 public key.
    pub(super) fn ed25519_raw_public(&self) -> Result<[u8; 32], CryptoError> {
        let mut out = [0u8; 32];
        let mut len = out.len();
        // SAFETY: out is writable for `len` bytes and OpenSSL writes at most that many.
        let rc = unsafe { EVP_PKEY_get_raw_public_key(self.0, out.as_mut_ptr(), &mut len) };
        if rc != 1 || len != 32 {
            return Err(failure("EVP_PKEY_get_raw_public_key"));
        }
        Ok(out)
    }

    /// Writes the raw 32-byte Ed25519 seed into `out`.
    fn ed25519_raw_private(&self, out: &mut [u8; 32]) -> Result<(), CryptoError> {
        let mut len = out.len();
        // SAFETY: out is writable for `len` bytes and OpenSSL writes at most that many.
        let rc = unsafe { EVP_PKEY_get_raw_private_key(self.0, out.as_mut_ptr(), &mut len) };
        if rc != 1 || len != 32 {
            cleanse(out);
            return Err(failure("EVP_PKEY_get_raw_private_key"));
        }
        Ok(())
    }

    /// Pure Ed25519 verification: `Ok(true)` when the signature is valid.
    pub(super) fn ed25519_verify(&self, msg: &[u8], sig: &[u8; 64]) -> Result<bool, CryptoError> {
        let ctx = MdCtx::new()?;
        // SAFETY: ctx and self.0 are valid; a null digest selects pure Ed25519.
        let rc = unsafe {
            EVP_DigestVerifyInit(ctx.0, ptr::null_mut(), ptr::null(), ptr::null_mut(), self.0)
        };
        if rc != 1 {
            return Err(failure("EVP_DigestVerifyInit"));
        }
        // SAFETY: sig is readable for 64 bytes and msg for msg.len() bytes.
        let rc =
            unsafe { EVP_DigestVerify(ctx.0, sig.as_ptr(), sig.len(), msg.as_ptr(), msg.len()) };
        if rc == 1 {
            Ok(true)
        } else {
            clear_errors();
            Ok(false)
        }
    }

    /// Pure Ed25519 signature (64 bytes).
    pub(super) fn ed25519_sign(&self, msg: &[u8]) -> Result<[u8; 64], CryptoError> {
        let ctx = MdCtx::new()?;
        // SAFETY: ctx and self.0 are valid; a null digest selects pure Ed25519.
        let rc = unsafe {
            EVP_DigestSignInit(ctx.0, ptr::null_mut(), ptr::null(), ptr::null_mut(), self.0)
        };
        if rc != 1 {
            return Err(failure("EVP_DigestSignInit"));
        }
        let mut sig = [0u8; 64];
        let mut len = sig.len();
        // SAFETY: sig is writable for `len` bytes; msg readable for msg.len() bytes.
        let rc =
            unsafe { EVP_DigestSign(ctx.0, sig.as_mut_ptr(), &mut len, msg.as_ptr(), msg.len()) };
        if rc != 1 || len != 64 {
            return Err(failure("EVP_DigestSign"));
        }
        Ok(sig)
    }

    /// DER SubjectPublicKeyInfo.
    pub(super) fn spki_der(&self) -> Result<Vec<u8>, CryptoError> {
        // SAFETY: a null output pointer asks only for the length.
        let len = unsafe { i2d_PUBKEY(self.0, ptr::null_mut()) };
        if len <= 0 {
            return Err(failure("i2d_PUBKEY"));
        }
        let mut out = vec![0u8; len as usize];
        let mut p = out.as_mut_ptr();
        // SAFETY: out has exactly the `len` bytes OpenSSL said it would write.
        let written = unsafe { i2d_PUBKEY(self.0, &mut p) };
        if written != len {
            return Err(failure("i2d_PUBKEY"));
        }
        Ok(out)
    }

    /// DER PKCS#8 PrivateKeyInfo (unencrypted). The caller owns the secret.
    fn pkcs8_der(&self) -> Result<Vec<u8>, CryptoError> {
        // SAFETY: self.0 is valid; a null result is handled.
        let p8 = unsafe { EVP_PKEY2PKCS8(self.0) };
        if p8.is_null() {
            return Err(failure("EVP_PKEY2PKCS8"));
        }
        // SAFETY: p8 is valid; a null output pointer asks only for the length.
        let len = unsafe { i2d_PKCS8_PRIV_KEY_INFO(p8, ptr::null_mut()) };
        let mut out = vec![0u8; len.max(0) as usize];
        let written = if len > 0 {
            let mut p = out.as_mut_ptr();
            // SAFETY: out has exactly the `len` bytes OpenSSL said it would write.
            unsafe { i2d_PKCS8_PRIV_KEY_INFO(p8, &mut p) }
        } else {
            0
        };
        // SAFETY: p8 is ours and freed exactly once (the free clears its key material).
        unsafe { PKCS8_PRIV_KEY_INFO_free(p8) };
        if len <= 0 || written != len {
            cleanse(&mut out);
            return Err(failure("i2d_PKCS8_PRIV_KEY_INFO"));
        }
        Ok(out)
    }

    fn id(&self) -> c_int {
        // SAFETY: self.0 is a valid EVP_PKEY.
        unsafe { EVP_PKEY_get_id(self.0) }
    }

    /// Whether an EC key's group is P-256.
    fn ec_group_is_p256(&self) -> bool {
        let mut buf = [0 as c_char; 64];
        let mut len = 0usize;
        // SAFETY: the name is a NUL-terminated literal; buf is writable for its length.
        let rc = unsafe {
            EVP_PKEY_get_utf8_string_param(
                self.0,
                c"group".as_ptr(),
                buf.as_mut_ptr(),
                buf.len(),
                &mut len,
            )
        };
        if rc != 1 {
            clear_errors();
            return false;
        }
        // SAFETY: on success OpenSSL NUL-terminates within buf.
        let name = unsafe { CStr::from_ptr(buf.as_ptr()) };
        matches!(name.to_bytes(), b"prime256v1" | b"P-256" | b"secp256r1")
    }
}

// ---------------------------------------------------------------------------
// Ed25519 point decoding (RFC 8032 section 5.1.3), with OpenSSL's BIGNUMs
// ---------------------------------------------------------------------------

/// p = 2^255 - 19, big-endian.
const ED25519_P: [u8; 32] = {
    let mut a = [0xffu8; 32];
    a[0] = 0x7f;
    a[31] = 0xed;
    a
};

/// d = -121665 / 121666 mod p, big-endian (RFC 8032 section 5.1; the
/// relation is checked by a unit test).
const ED25519_D: [u8; 32] = [
    0x52, 0x03, 0x6c, 0xee, 0x2b, 0x6f, 0xfe, 0x73, 0x8c, 0xc7, 0x40, 0x79, 0x77, 0x79, 0xe8, 0x98,
    0x00, 0x70, 0x0a, 0x4d, 0x41, 0x41, 0xd8, 0xab, 0x75, 0xeb, 0x4d, 0xca, 0x13, 0x59, 0x78, 0xa3,
];

/// An owned, non-secret `BIGNUM`.
struct Bn(*mut c_void);

impl Drop for Bn {
    fn drop(&mut self) {
        // SAFETY: self.0 is a non-null BIGNUM we own.
        unsafe { BN_free(self.0) };
    }
}

impl Bn {
    /// Takes ownership of a BIGNUM returned by `call`; NULL means it failed.
    fn owned(b: *mut c_void, call: &'static str) -> Result<Bn, CryptoError> {
        if b.is_null() {
            Err(failure(call))
        } else {
            Ok(Bn(b))
        }
    }

    fn new() -> Result<Bn, CryptoError> {
        // SAFETY: no arguments; a null result is handled.
        Bn::owned(unsafe { BN_new() }, "BN_new")
    }

    fn from_be(bytes: &[u8; 32]) -> Result<Bn, CryptoError> {
        // SAFETY: bytes is readable for 32 bytes; a null `ret` allocates.
        Bn::owned(
            unsafe { BN_bin2bn(bytes.as_ptr(), 32, ptr::null_mut()) },
            "BN_bin2bn",
        )
    }

    fn from_le(bytes: &[u8; 32]) -> Result<Bn, CryptoError> {
        // SAFETY: bytes is readable for 32 bytes; a null `ret` allocates.
        Bn::owned(
            unsafe { BN_lebin2bn(bytes.as_ptr(), 32, ptr::null_mut()) },
            "BN_lebin2bn",
        )
    }

    fn is_zero(&self) -> bool {
        // SAFETY: self.0 is a valid BIGNUM.
        unsafe { BN_is_zero(self.0) != 0 }
    }
}

/// An owned `BN_CTX`.
struct BnCtx(*mut c_void);

impl Drop for BnCtx {
    fn drop(&mut self) {
        // SAFETY: self.0 is a non-null BN_CTX we own.
        unsafe { BN_CTX_free(self.0) };
    }
}

/// Checks an OpenSSL BIGNUM return code (1 = success).
fn bn_ok(rc: c_int, call: &'static str) -> Result<(), CryptoError> {
    if rc == 1 {
        Ok(())
    } else {
        Err(failure(call))
    }
}

/// Whether 32 bytes are a valid Ed25519 point encoding (RFC 8032 §5.1.3):
/// y (little-endian, bit 255 cleared) below p, x² = (y² - 1) / (d·y² + 1)
/// mod p a square (so x exists), and not x = 0 with the sign bit set. Only the decoding
/// is checked here (no scalar multiplication): small-order points decode.
/// `Err` only for an internal OpenSSL failure (allocation).
pub(super) fn ed25519_point_decodes(encoding: &[u8; 32]) -> Result<bool, CryptoError> {
    let sign = encoding[31] >> 7;
    let mut y_le = *encoding;
    y_le[31] &= 0x7f;
    let y = Bn::from_le(&y_le)?;
    let p = Bn::from_be(&ED25519_P)?;
    // SAFETY: y and p are valid BIGNUMs.
    if unsafe { BN_cmp(y.0, p.0) } >= 0 {
        return Ok(false); // non-canonical: y >= p
    }
    let d = Bn::from_be(&ED25519_D)?;
    // SAFETY: no arguments; a null result is handled.
    let ctx = unsafe { BN_CTX_new() };
    if ctx.is_null() {
        return Err(failure("BN_CTX_new"));
    }
    let ctx = BnCtx(ctx);
    // SAFETY: BN_value_one returns a static, read-only BIGNUM.
    let one = unsafe { BN_value_one() };
    let (y2, u, v) = (Bn::new()?, Bn::new()?, Bn::new()?);
    // SAFETY (this block): every pointer is a valid BIGNUM or BN_CTX owned by
    // this function (or OpenSSL's static one); results never alias inputs
    // except v in BN_mod_add, which OpenSSL allows; p is non-zero.
    unsafe {
        bn_ok(BN_mod_sqr(y2.0, y.0, p.0, ctx.0), "BN_mod_sqr")?;
        bn_ok(BN_mod_sub(u.0, y2.0, one, p.0, ctx.0), "BN_mod_sub")?;
        bn_ok(BN_mod_mul(v.0, d.0, y2.0, p.0, ctx.0), "BN_mod_mul")?;
        bn_ok(BN_mod_add(v.0, v.0, one, p.0, ctx.0), "BN_mod_add")?;
    }
    if u.is_zero() {
        // y = ±1: x = 0, which has no negative, so the sign bit must be clear.
        return Ok(sign == 0);
    }
    // d is not a square mod p, so d·y² + 1 is never 0; refuse it anyway.
    if v.is_zero() {
        return Ok(false);
    }
    // x² = u / v has a square root iff u·v = (u / v)·v² does: its Legendre
    // symbol (BN_kronecker, a binary Jacobi algorithm, far cheaper than
    // BN_mod_inverse + BN_mod_sqrt) is 1. It is never 0 here (u, v ≠ 0).
    let w = Bn::new()?;
    // SAFETY: all valid, as above.
    bn_ok(
        unsafe { BN_mod_mul(w.0, u.0, v.0, p.0, ctx.0) },
        "BN_mod_mul",
    )?;
    // SAFETY: w, p, ctx valid; p is odd, as BN_kronecker requires.
    match unsafe { BN_kronecker(w.0, p.0, ctx.0) } {
        1 => Ok(true),
        -1 | 0 => Ok(false),
        _ => Err(failure("BN_kronecker")),
    }
}

// ---------------------------------------------------------------------------
// P-256
// ---------------------------------------------------------------------------

impl EcKey {
    fn new_p256() -> Result<EcKey, CryptoError> {
        // SAFETY: plain constructor; a null result is handled.
        let p = unsafe { EC_KEY_new_by_curve_name(NID_P256) };
        if p.is_null() {
            return Err(failure("EC_KEY_new_by_curve_name"));
        }
        let key = EcKey(p);
        if key.group().is_null() {
            return Err(failure("EC_KEY_get0_group"));
        }
        Ok(key)
    }

    fn group(&self) -> *const c_void {
        // SAFETY: self.0 is a valid EC_KEY created with a group.
        unsafe { EC_KEY_get0_group(self.0) }
    }

    /// A public key from a SEC1 point (the caller checks the length and prefix).
    /// OpenSSL rejects points that are not on the curve.
    pub(super) fn p256_public(point: &[u8]) -> Result<EcKey, CryptoError> {
        let key = EcKey::new_p256()?;
        // SAFETY: key.0 is valid; point is readable for point.len() bytes; null BN_CTX is allowed.
        if unsafe { EC_KEY_oct2key(key.0, point.as_ptr(), point.len(), ptr::null_mut()) } != 1 {
            let detail = take_error_text();
            return Err(CryptoError::InvalidKey(format!(
                "not a valid P-256 point ({detail})"
            )));
        }
        Ok(key)
    }

    /// A key pair from a 32-byte big-endian scalar in `[1, n-1]`.
    pub(super) fn p256_private(scalar: &[u8; 32]) -> Result<EcKey, CryptoError> {
        let key = EcKey::new_p256()?;
        let group = key.group();
        // SAFETY: scalar is readable for 32 bytes; a null `ret` allocates a new BIGNUM.
        let bn = unsafe { BN_bin2bn(scalar.as_ptr(), 32, ptr::null_mut()) };
        if bn.is_null() {
            return Err(failure("BN_bin2bn"));
        }
        let bn = SecretBn(bn);
        // SAFETY: group is valid for the lifetime of key; the order is owned by the group.
        let order = unsafe { EC_GROUP_get0_order(group) };
        if order.is_null() {
            return Err(failure("EC_GROUP_get0_order"));
        }
        // SAFETY: bn is a valid BIGNUM.
        let is_zero = unsafe { BN_is_zero(bn.0) } != 0;
        // SAFETY: bn and order are valid BIGNUMs (order checked above).
        let below_order = unsafe { BN_cmp(bn.0, order) } < 0;
        if is_zero || !below_order {
            clear_errors();
            return Err(CryptoError::InvalidKey(
                "P-256 private scalar is out of range".into(),
            ));
        }
        // SAFETY: key and bn are valid; the key copies the scalar.
        if unsafe { EC_KEY_set_private_key(key.0, bn.0) } != 1 {
            return Err(failure("EC_KEY_set_private_key"));
        }
        // SAFETY: group is valid; a null result is handled.
        let point = unsafe { EC_POINT_new(group) };
        if point.is_null() {
            return Err(failure("EC_POINT_new"));
        }
        let point = EcPoint(point);
        // SAFETY: all pointers valid; computes point = scalar * G.
        if unsafe {
            EC_POINT_mul(
                group,
                point.0,
                bn.0,
                ptr::null(),
                ptr::null(),
                ptr::null_mut(),
            )
        } != 1
        {
            return Err(failure("EC_POINT_mul"));
        }
        // SAFETY: key and point are valid; the key copies the point.
        if unsafe { EC_KEY_set_public_key(key.0, point.0) } != 1 {
            return Err(failure("EC_KEY_set_public_key"));
        }
        Ok(key)
    }

    /// A fresh random key pair.
    pub(super) fn p256_generate() -> Result<EcKey, CryptoError> {
        let key = EcKey::new_p256()?;
        // SAFETY: key.0 is a valid EC_KEY with its group set.
        if unsafe { EC_KEY_generate_key(key.0) } != 1 {
            return Err(failure("EC_KEY_generate_key"));
        }
        Ok(key)
    }

    /// The public point, SEC1 compressed (33 bytes).
    pub(super) fn public_compressed(&self) -> Result<[u8; 33], CryptoError> {
        let mut out = [0u8; 33];
        // SAFETY: self.0 is valid; a null result is handled below.
        let point = unsafe { EC_KEY_get0_public_key(self.0) };
        if point.is_null() {
            return Err(failure("EC_KEY_get0_public_key"));
        }
        // SAFETY: group and point are valid; out is writable for 33 bytes.
        let n = unsafe {
            EC_POINT_point2oct(
                self.group(),
                point,
                POINT_COMPRESSED,
                out.as_mut_ptr(),
                out.len(),
                ptr::null_mut(),
            )
        };
        if n != 33 {
            return Err(failure("EC_POINT_point2oct"));
        }
        Ok(out)
    }

    /// Writes the private scalar (32 bytes, big-endian) into `out`.
    pub(super) fn private_scalar(&self, out: &mut [u8; 32]) -> Result<(), CryptoError> {
        // SAFETY: self.0 is valid; a null result is handled.
        let bn = unsafe { EC_KEY_get0_private_key(self.0) };
        if bn.is_null() {
            return Err(CryptoError::InvalidKey(
                "the P-256 key has no private part".into(),
            ));
        }
        // SAFETY: bn is valid; out is writable for 32 bytes.
        if unsafe { BN_bn2binpad(bn, out.as_mut_ptr(), 32) } != 32 {
            cleanse(out);
            return Err(failure("BN_bn2binpad"));
        }
        Ok(())
    }

    /// ECDSA verification of a DER signature over a SHA-256 digest.
    /// `Ok(false)` for a wrong signature, `Err(MalformedSignature)` for bad DER.
    pub(super) fn verify_digest(&self, digest: &[u8; 32], der: &[u8]) -> Result<bool, CryptoError> {
        let Ok(len) = c_int::try_from(der.len()) else {
            return Err(CryptoError::MalformedSignature("signature too long".into()));
        };
        // SAFETY: digest is readable for 32 bytes, der for `len` bytes; the key is only read.
        let rc = unsafe { ECDSA_verify(0, digest.as_ptr(), 32, der.as_ptr(), len, self.0) };
        match rc {
            1 => Ok(true),
            0 => {
                clear_errors();
                Ok(false)
            }
            _ => {
                let detail = take_error_text();
                Err(CryptoError::MalformedSignature(format!(
                    "not a valid DER ECDSA signature ({detail})"
                )))
            }
        }
    }

    /// ECDSA signature (DER) over a SHA-256 digest.
    pub(super) fn sign_digest(&self, digest: &[u8; 32]) -> Result<Vec<u8>, CryptoError> {
        // SAFETY: self.0 is valid.
        let max = unsafe { ECDSA_size(self.0) };
        if max <= 0 {
            return Err(failure("ECDSA_size"));
        }
        let mut sig = vec![0u8; max as usize];
        let mut len: c_uint = 0;
        // SAFETY: sig is writable for ECDSA_size bytes, the documented maximum.
        let rc = unsafe { ECDSA_sign(0, digest.as_ptr(), 32, sig.as_mut_ptr(), &mut len, self.0) };
        if rc != 1 || len as usize > sig.len() {
            return Err(failure("ECDSA_sign"));
        }
        sig.truncate(len as usize);
        Ok(sig)
    }

    /// DER SubjectPublicKeyInfo (uncompressed point, named curve).
    pub(super) fn spki_der(&self) -> Result<Vec<u8>, CryptoError> {
        // Export from a private copy so the shared key is never modified.
        let copy = EcKey::p256_public(&self.public_compressed()?)?;
        // SAFETY: copy.0 is a valid EC_KEY that only we hold.
        unsafe { EC_KEY_set_conv_form(copy.0, POINT_UNCOMPRESSED) };
        Pkey::from_ec(&copy)?.spki_der()
    }

    /// DER PKCS#8 PrivateKeyInfo (unencrypted). The caller owns the secret.
    pub(super) fn pkcs8_der(&self) -> Result<Vec<u8>, CryptoError> {
        Pkey::from_ec(self)?.pkcs8_der()
    }
}

/// Builds the PKCS#8 DER of an Ed25519 seed.
pub(super) fn ed25519_pkcs8_der(key: &Pkey) -> Result<Vec<u8>, CryptoError> {
    key.pkcs8_der()
}

// ---------------------------------------------------------------------------
// DER parsing
// ---------------------------------------------------------------------------

/// A public key found in a SubjectPublicKeyInfo.
pub(super) enum ParsedPublic {
    Ed25519([u8; 32]),
    /// SEC1 encoding as stored in the DER (usually uncompressed).
    P256(Vec<u8>),
}

/// A private key found in PKCS#8 or SEC1 DER.
pub(super) enum ParsedPrivate {
    Ed25519,
    P256,
}

fn der_len(der: &[u8]) -> Result<c_long, CryptoError> {
    c_long::try_from(der.len()).map_err(|_| CryptoError::InvalidKey("DER too long".into()))
}

/// Parses a DER SubjectPublicKeyInfo holding an Ed25519 or P-256 key.
pub(super) fn parse_spki(der: &[u8]) -> Result<ParsedPublic, CryptoError> {
    let len = der_len(der)?;
    let mut p = der.as_ptr();
    // SAFETY: p points to `len` readable bytes; OpenSSL advances p past what it parsed.
    let raw = unsafe { d2i_PUBKEY(ptr::null_mut(), &mut p, len) };
    if raw.is_null() {
        let detail = take_error_text();
        return Err(CryptoError::InvalidKey(format!(
            "not a valid SubjectPublicKeyInfo ({detail})"
        )));
    }
    let pkey = Pkey(raw);
    if p as usize != der.as_ptr() as usize + der.len() {
        return Err(CryptoError::InvalidKey(
            "trailing bytes after SubjectPublicKeyInfo".into(),
        ));
    }
    match pkey.id() {
        NID_ED25519 => Ok(ParsedPublic::Ed25519(pkey.ed25519_raw_public()?)),
        EVP_PKEY_EC => {
            if !pkey.ec_group_is_p256() {
                return Err(CryptoError::UnsupportedAlgorithm(
                    "EC key on a curve other than P-256".into(),
                ));
            }
            let mut buf = [0u8; 133];
            let mut n = 0usize;
            // SAFETY: the name is a NUL-terminated literal; buf is writable for its length.
            let rc = unsafe {
                EVP_PKEY_get_octet_string_param(
                    pkey.0,
                    c"encoded-pub-key".as_ptr(),
                    buf.as_mut_ptr(),
                    buf.len(),
                    &mut n,
                )
            };
            if rc != 1 || n > buf.len() {
                return Err(failure("EVP_PKEY_get_octet_string_param"));
            }
            Ok(ParsedPublic::P256(buf[..n].to_vec()))
        }
        other => Err(CryptoError::UnsupportedAlgorithm(format!(
            "public key type {other} (only Ed25519 and P-256 are supported)"
        ))),
    }
}

/// Parses PKCS#8 (or SEC1 `EC PRIVATE KEY`) DER, writing the 32-byte seed or
/// scalar into `out`.
pub(super) fn parse_private_der(
    der: &[u8],
    out: &mut [u8; 32],
) -> Result<ParsedPrivate, CryptoError> {
    let len = der_len(der)?;
    let mut p = der.as_ptr();
    // SAFETY: p points to `len` readable bytes; OpenSSL advances p past what it parsed.
    let raw = unsafe { d2i_AutoPrivateKey(ptr::null_mut(), &mut p, len) };
    if raw.is_null() {
        let detail = take_error_text();
        return Err(CryptoError::InvalidKey(format!(
            "not a valid unencrypted private key ({detail})"
        )));
    }
    let pkey = Pkey(raw);
    match pkey.id() {
        NID_ED25519 => {
            pkey.ed25519_raw_private(out)?;
            Ok(ParsedPrivate::Ed25519)
        }
        EVP_PKEY_EC => {
            if !pkey.ec_group_is_p256() {
                return Err(CryptoError::UnsupportedAlgorithm(
                    "EC key on a curve other than P-256".into(),
                ));
            }
            let mut bn: *mut c_void = ptr::null_mut();
            // SAFETY: the name is a NUL-terminated literal; on success bn receives a new BIGNUM we own.
            let rc = unsafe { EVP_PKEY_get_bn_param(pkey.0, c"priv".as_ptr(), &mut bn) };
            if rc != 1 || bn.is_null() {
                return Err(failure("EVP_PKEY_get_bn_param"));
            }
            let bn = SecretBn(bn);
            // SAFETY: bn is valid; out is writable for 32 bytes. Fails if the scalar exceeds 32 bytes.
            if unsafe { BN_bn2binpad(bn.0, out.as_mut_ptr(), 32) } != 32 {
                cleanse(out);
                clear_errors();
                return Err(CryptoError::InvalidKey(
                    "P-256 private scalar is out of range".into(),
                ));
            }
            Ok(ParsedPrivate::P256)
        }
        other => Err(CryptoError::UnsupportedAlgorithm(format!(
            "private key type {other} (only Ed25519 and P-256 are supported)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 121666 · d + 121665 ≡ 0 (mod p), i.e. d = -121665/121666.
    #[test]
    fn ed25519_d_constant() {
        let mut c = [0u8; 32];
        c[29..].copy_from_slice(&[0x01, 0xdb, 0x42]); // 121666
        let c = Bn::from_be(&c).unwrap();
        let mut a = [0u8; 32];
        a[29..].copy_from_slice(&[0x01, 0xdb, 0x41]); // 121665
        let a = Bn::from_be(&a).unwrap();
        let (p, d) = (
            Bn::from_be(&ED25519_P).unwrap(),
            Bn::from_be(&ED25519_D).unwrap(),
        );
        let r = Bn::new().unwrap();
        // SAFETY: all valid BIGNUMs; BN_CTX_new's result is checked and freed.
        unsafe {
            let ctx = BnCtx(BN_CTX_new());
            assert!(!ctx.0.is_null());
            assert_eq!(BN_mod_mul(r.0, c.0, d.0, p.0, ctx.0), 1);
            assert_eq!(BN_mod_add(r.0, r.0, a.0, p.0, ctx.0), 1);
        }
        assert!(r.is_zero());
        // p = 2^255 - 19.
        let mut p_le = [0xffu8; 32];
        p_le[0] = 0xed;
        p_le[31] = 0x7f;
        let p2 = Bn::from_le(&p_le).unwrap();
        // SAFETY: valid BIGNUMs.
        assert_eq!(unsafe { BN_cmp(p.0, p2.0) }, 0);
    }

    /// Small y against a table computed independently (Euler's criterion in
    /// Python): y = 0..11, then the 19 non-canonical values p..p+18, which are
    /// all refused.
    #[test]
    fn ed25519_small_y_table() {
        let decodes = [
            true, true, false, true, true, true, true, false, false, true, true, false,
        ];
        for (y, &expected) in decodes.iter().enumerate() {
            let mut enc = [0u8; 32];
            enc[0] = y as u8;
            assert_eq!(ed25519_point_decodes(&enc).unwrap(), expected, "y = {y}");
            enc[31] = 0x80;
            // x = 0 only for y = 1: its sign bit must be clear.
            assert_eq!(
                ed25519_point_decodes(&enc).unwrap(),
                expected && y != 1,
                "y = {y}, sign"
            );
        }
        for k in 0..19u8 {
            let mut enc = [0xffu8; 32];
            enc[0] = 0xed + k;
            enc[31] = 0x7f;
            assert!(!ed25519_point_decodes(&enc).unwrap(), "y = p + {k}");
        }
    }

    /// The cost of decoding a point (it runs for every key parsed, including
    /// the next key of every block of every token parsed).
    #[test]
    fn ed25519_point_decode_cost() {
        let enc: [u8; 32] = *b"\xd7\x5a\x98\x01\x82\xb1\x0a\xb7\xd5\x4b\xfe\xd3\xc9\x64\x07\x3a\x0e\xe1\x72\xf3\xda\xa6\x23\x25\xaf\x02\x1a\x68\xf7\x07\x51\x1a";
        let n = 2000;
        let t = std::time::Instant::now();
        for _ in 0..n {
            assert!(ed25519_point_decodes(&enc).unwrap());
        }
        eprintln!(
            "ed25519_point_decodes: {:.2} us",
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        );
    }
}
