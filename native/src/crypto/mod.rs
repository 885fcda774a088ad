//! Public and private keys, signatures, hashing and randomness, all through
//! OpenSSL libcrypto (see `openssl.rs`, the only file of this module with `unsafe`).
//!
//! - Ed25519: pure Ed25519 (RFC 8032), 32-byte keys and seeds, 64-byte signatures.
//! - P-256: ECDSA over SHA-256 with DER signatures; public keys are stored
//!   compressed (33 bytes), private keys are 32-byte big-endian scalars.
//!
//! Text forms: `ed25519/<hex>`, `secp256r1/<hex>` (public),
//! `ed25519-private/<hex>`, `secp256r1-private/<hex>` (private).
//! PEM: SubjectPublicKeyInfo (`PUBLIC KEY`) and PKCS#8 (`PRIVATE KEY`; SEC1
//! `EC PRIVATE KEY` is also read).

mod openssl;

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use crate::encoding::{self, EncodingError};

/// Signature algorithm, with the wire enum values of `PublicKey.algorithm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    Ed25519 = 0,
    Secp256r1 = 1,
}

impl Algorithm {
    /// From the protobuf enum value.
    pub fn from_i32(v: i32) -> Option<Algorithm> {
        match v {
            0 => Some(Algorithm::Ed25519),
            1 => Some(Algorithm::Secp256r1),
            _ => None,
        }
    }

    /// The name used in text forms: `ed25519` or `secp256r1`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::Secp256r1 => "secp256r1",
        }
    }

    /// From a text-form name (`ed25519`, `secp256r1`; `p256`/`p-256`/`prime256v1` too), any case.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        match name.to_ascii_lowercase().as_str() {
            "ed25519" => Some(Algorithm::Ed25519),
            "secp256r1" | "p256" | "p-256" | "prime256v1" => Some(Algorithm::Secp256r1),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a key or signature operation failed. Never contains secret material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CryptoError {
    /// The key bytes, text or DER are not a valid key.
    InvalidKey(String),
    /// A key of an algorithm or curve this engine does not support.
    UnsupportedAlgorithm(String),
    /// The signature is well-formed but does not match the message and key.
    InvalidSignature,
    /// The signature cannot be a signature of this algorithm (length, DER).
    MalformedSignature(String),
    /// Bad hex, base64 or PEM armour.
    Encoding(EncodingError),
    /// An unexpected OpenSSL failure (allocation, provider problems).
    OpenSsl { call: &'static str, detail: String },
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CryptoError::InvalidKey(m) => write!(f, "invalid key: {m}"),
            CryptoError::UnsupportedAlgorithm(m) => write!(f, "unsupported key algorithm: {m}"),
            CryptoError::InvalidSignature => f.write_str("invalid signature"),
            CryptoError::MalformedSignature(m) => write!(f, "malformed signature: {m}"),
            CryptoError::Encoding(e) => write!(f, "invalid key encoding: {e}"),
            CryptoError::OpenSsl { call, detail } if detail.is_empty() => {
                write!(f, "OpenSSL error in {call}")
            }
            CryptoError::OpenSsl { call, detail } => write!(f, "OpenSSL error in {call}: {detail}"),
        }
    }
}

impl std::error::Error for CryptoError {}

impl From<EncodingError> for CryptoError {
    fn from(e: EncodingError) -> CryptoError {
        CryptoError::Encoding(e)
    }
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(data);
    h.finish()
}

/// Incremental SHA-256.
pub struct Sha256(openssl::Sha256Ctx);

impl Sha256 {
    pub fn new() -> Sha256 {
        Sha256(openssl::Sha256Ctx::new())
    }

    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The digest. OpenSSL's software SHA-256 cannot fail once initialised;
    /// should it ever, this panics (callers at the C ABI catch panics).
    pub fn finish(self) -> [u8; 32] {
        match self.0.finish() {
            Ok(d) => d,
            Err(e) => panic!("SHA-256 failed: {e}"),
        }
    }
}

impl Default for Sha256 {
    fn default() -> Self {
        Sha256::new()
    }
}

/// Fills `buf` with cryptographically secure random bytes. Panics only if
/// OpenSSL's generator is unusable (callers at the C ABI catch panics); use
/// [`try_random_bytes`] to handle that case.
pub fn random_bytes(buf: &mut [u8]) {
    if let Err(e) = try_random_bytes(buf) {
        panic!("random number generator failed: {e}");
    }
}

/// Fills `buf` with cryptographically secure random bytes.
pub fn try_random_bytes(buf: &mut [u8]) -> Result<(), CryptoError> {
    openssl::rand_bytes(buf)
}

/// Overwrites `buf` with zeros (not optimised away). For secrets held
/// elsewhere, such as a decoded `Proof.nextSecret`.
pub fn zeroize(buf: &mut [u8]) {
    openssl::cleanse(buf);
}

/// A byte buffer that is zeroed when dropped (for temporary secrets).
struct SecretBuf(Vec<u8>);

impl Drop for SecretBuf {
    fn drop(&mut self) {
        zeroize(&mut self.0);
    }
}

// ---------------------------------------------------------------------------
// Public keys
// ---------------------------------------------------------------------------

/// The OpenSSL object that verifies with a key, built once and shared.
enum VerifyKey {
    Ed25519(openssl::Pkey),
    P256(openssl::EcKey),
}

/// Encodings of the Ed25519 points of small order (orders 1, 2, 4 and 8),
/// with the sign bit (bit 255) cleared; the last three are y = p - 1, p and
/// p + 1. OpenSSL's verifier accepts forgeries under such keys (any message
/// verifies with R = identity, s = 0 for the identity key), so, like the
/// reference implementation's strict verification, signatures are refused
/// when the public key or R is one of these points.
const ED25519_SMALL_ORDER: [[u8; 32]; 7] = [
    [0; 32],
    ed25519_low_y(0x01),
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
    ed25519_high_y(0xec),
    ed25519_high_y(0xed),
    ed25519_high_y(0xee),
];

/// Little-endian y = `low` (a single low byte).
const fn ed25519_low_y(low: u8) -> [u8; 32] {
    let mut a = [0u8; 32];
    a[0] = low;
    a
}

/// Little-endian `low`, then 0xff bytes, then 0x7f: y = 2^255 - 256 + low.
const fn ed25519_high_y(low: u8) -> [u8; 32] {
    let mut a = [0xffu8; 32];
    a[0] = low;
    a[31] = 0x7f;
    a
}

/// Whether a 32-byte Ed25519 point encoding is a point of small order.
fn ed25519_is_small_order(encoding: &[u8]) -> bool {
    encoding.len() == 32
        && ED25519_SMALL_ORDER
            .iter()
            .any(|bad| encoding[..31] == bad[..31] && encoding[31] & 0x7f == bad[31])
}

/// A validated public key: 32 bytes for Ed25519, 33 bytes (compressed SEC1)
/// for P-256. Equality, ordering and hashing use the algorithm and bytes.
#[derive(Clone)]
pub struct PublicKey {
    algorithm: Algorithm,
    bytes: Vec<u8>,
    /// The OpenSSL key, built on first use (P-256: at construction).
    handle: OnceLock<Arc<VerifyKey>>,
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.algorithm == other.algorithm && self.bytes == other.bytes
    }
}
impl Eq for PublicKey {}
impl Hash for PublicKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.algorithm.hash(state);
        self.bytes.hash(state);
    }
}
impl PartialOrd for PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for PublicKey {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.algorithm, &self.bytes).cmp(&(other.algorithm, &other.bytes))
    }
}
impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_text())
    }
}
impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl PublicKey {
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The stored encoding: 32 bytes (Ed25519) or 33 compressed bytes (P-256).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Validates and stores a key. Ed25519: 32 bytes that decode to a point
    /// of the curve (RFC 8032 §5.1.3: canonical y, x exists, no "negative
    /// zero" x), not of small order. P-256: SEC1 compressed (33 bytes,
    /// `02`/`03`) or uncompressed (65 bytes, `04`), on the curve; stored
    /// compressed.
    pub fn from_bytes(algorithm: Algorithm, bytes: &[u8]) -> Result<PublicKey, CryptoError> {
        let key = PublicKey::from_token_bytes(algorithm, bytes)?;
        if algorithm == Algorithm::Ed25519 {
            let mut encoding = [0u8; 32];
            encoding.copy_from_slice(bytes);
            if !openssl::ed25519_point_decodes(&encoding)? {
                return Err(CryptoError::InvalidKey(
                    "not a valid Ed25519 public key: not a point of the curve".into(),
                ));
            }
            if ed25519_is_small_order(bytes) {
                return Err(CryptoError::InvalidKey(
                    "not a valid Ed25519 public key: a point of small order".into(),
                ));
            }
        }
        Ok(key)
    }

    /// A key read from a token container or block (next keys, external
    /// keys, key tables), or computed by OpenSSL from a private key. As
    /// [`PublicKey::from_bytes`], except that an Ed25519 key is only
    /// length-checked: decoding the point costs about as much as 15 % of a
    /// signature check, and is redundant there, because such a key is only
    /// ever used to check a signature (OpenSSL's Ed25519 verification
    /// decodes the point and fails when it does not decode; [`verify`]
    /// refuses small-order keys) or compared with keys that passed one.
    ///
    /// [`verify`]: PublicKey::verify
    pub(crate) fn from_token_bytes(
        algorithm: Algorithm,
        bytes: &[u8],
    ) -> Result<PublicKey, CryptoError> {
        match algorithm {
            Algorithm::Ed25519 => {
                if bytes.len() != 32 {
                    return Err(CryptoError::InvalidKey(format!(
                        "an Ed25519 public key is 32 bytes, got {}",
                        bytes.len()
                    )));
                }
                Ok(PublicKey {
                    algorithm,
                    bytes: bytes.to_vec(),
                    handle: OnceLock::new(),
                })
            }
            Algorithm::Secp256r1 => {
                let shape_ok = matches!(
                    (bytes.len(), bytes.first()),
                    (33, Some(2 | 3)) | (65, Some(4))
                );
                if !shape_ok {
                    return Err(CryptoError::InvalidKey(format!(
                        "a P-256 public key is 33 bytes (compressed, 02/03) or 65 bytes (uncompressed, 04), got {} bytes",
                        bytes.len()
                    )));
                }
                let key = openssl::EcKey::p256_public(bytes)?;
                let stored = if bytes.len() == 33 {
                    bytes.to_vec()
                } else {
                    key.public_compressed()?.to_vec()
                };
                let handle = OnceLock::new();
                let _ = handle.set(Arc::new(VerifyKey::P256(key)));
                Ok(PublicKey {
                    algorithm,
                    bytes: stored,
                    handle,
                })
            }
        }
    }

    fn handle(&self) -> Result<&VerifyKey, CryptoError> {
        if let Some(h) = self.handle.get() {
            return Ok(h);
        }
        let built = match self.algorithm {
            Algorithm::Ed25519 => {
                VerifyKey::Ed25519(openssl::Pkey::ed25519_public(&self.ed25519_array())?)
            }
            Algorithm::Secp256r1 => VerifyKey::P256(openssl::EcKey::p256_public(&self.bytes)?),
        };
        // Another thread may have won the race; either value is equivalent.
        Ok(self.handle.get_or_init(|| Arc::new(built)))
    }

    fn ed25519_array(&self) -> [u8; 32] {
        let mut a = [0u8; 32];
        a.copy_from_slice(&self.bytes);
        a
    }

    /// Verifies `signature` over `message`: pure Ed25519 (64-byte signature),
    /// or ECDSA P-256 over SHA-256(message) with a DER signature.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        let valid = match self.handle()? {
            VerifyKey::Ed25519(pkey) => {
                let sig: &[u8; 64] = signature.try_into().map_err(|_| {
                    CryptoError::MalformedSignature(format!(
                        "an Ed25519 signature is 64 bytes, got {}",
                        signature.len()
                    ))
                })?;
                if ed25519_is_small_order(&self.bytes) || ed25519_is_small_order(&sig[..32]) {
                    return Err(CryptoError::InvalidSignature);
                }
                pkey.ed25519_verify(message, sig)?
            }
            VerifyKey::P256(key) => {
                // DER SEQUENCE of two INTEGERs of at most 33 bytes each.
                if signature.len() < 8 || signature.len() > 72 {
                    return Err(CryptoError::MalformedSignature(format!(
                        "a DER P-256 signature is 8 to 72 bytes, got {}",
                        signature.len()
                    )));
                }
                key.verify_digest(&sha256(message), signature)?
            }
        };
        if valid {
            Ok(())
        } else {
            Err(CryptoError::InvalidSignature)
        }
    }

    /// `ed25519/<hex>` or `secp256r1/<hex>` (lowercase hex).
    pub fn to_text(&self) -> String {
        format!(
            "{}/{}",
            self.algorithm.name(),
            encoding::hex_encode(&self.bytes)
        )
    }

    /// Parses `ed25519/<hex>` or `secp256r1/<hex>` (hex in either case;
    /// P-256 also accepts the uncompressed point).
    pub fn from_text(text: &str) -> Result<PublicKey, CryptoError> {
        let text = text.trim();
        let Some((alg, hex)) = text.split_once('/') else {
            return Err(CryptoError::InvalidKey(
                "expected `ed25519/<hex>` or `secp256r1/<hex>`".into(),
            ));
        };
        let algorithm = match alg {
            "ed25519" => Algorithm::Ed25519,
            "secp256r1" => Algorithm::Secp256r1,
            _ if alg.ends_with("-private") => {
                return Err(CryptoError::InvalidKey(
                    "this is a private key; a public key is expected".into(),
                ))
            }
            // Quote the name only when it looks like one: the text may be
            // anything a user pasted into a configuration.
            _ if alg.len() <= 24
                && alg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
            {
                return Err(CryptoError::UnsupportedAlgorithm(format!(
                    "`{alg}` (expected `ed25519` or `secp256r1`)"
                )))
            }
            _ => {
                return Err(CryptoError::UnsupportedAlgorithm(
                    "unknown algorithm name before `/` (expected `ed25519` or `secp256r1`)".into(),
                ))
            }
        };
        PublicKey::from_bytes(algorithm, &encoding::hex_decode(hex)?)
    }

    /// DER SubjectPublicKeyInfo (P-256 with the uncompressed point, as most tools write it).
    pub fn to_der(&self) -> Result<Vec<u8>, CryptoError> {
        match self.handle()? {
            VerifyKey::Ed25519(pkey) => pkey.spki_der(),
            VerifyKey::P256(key) => key.spki_der(),
        }
    }

    /// Parses a DER SubjectPublicKeyInfo (Ed25519 or P-256 named curve).
    pub fn from_der(der: &[u8]) -> Result<PublicKey, CryptoError> {
        match openssl::parse_spki(der)? {
            openssl::ParsedPublic::Ed25519(raw) => PublicKey::from_bytes(Algorithm::Ed25519, &raw),
            openssl::ParsedPublic::P256(point) => {
                PublicKey::from_bytes(Algorithm::Secp256r1, &point)
            }
        }
    }

    /// PEM `PUBLIC KEY` (SubjectPublicKeyInfo).
    pub fn to_pem(&self) -> Result<String, CryptoError> {
        Ok(encoding::pem_encode("PUBLIC KEY", &self.to_der()?))
    }

    /// Reads the first `PUBLIC KEY` block of a PEM text.
    pub fn from_pem(pem: &str) -> Result<PublicKey, CryptoError> {
        let blocks = encoding::pem_decode_all(pem)?;
        for (label, der) in &blocks {
            if label == "PUBLIC KEY" {
                return PublicKey::from_der(der);
            }
        }
        let labels: Vec<&str> = blocks.iter().map(|(l, _)| l.as_str()).collect();
        if labels.iter().any(|l| l.contains("PRIVATE KEY")) {
            return Err(CryptoError::InvalidKey(
                "this PEM holds a private key; a public key (`PUBLIC KEY`) is expected".into(),
            ));
        }
        Err(CryptoError::InvalidKey(format!(
            "no `PUBLIC KEY` PEM block (found {})",
            labels.join(", ")
        )))
    }

    /// Any accepted public key text: PEM, `ed25519/<hex>`, `secp256r1/<hex>`,
    /// or bare 64-character hex (Ed25519). Surrounding whitespace is ignored.
    pub fn parse_any(text: &str) -> Result<PublicKey, CryptoError> {
        let text = text.trim();
        if text.contains("-----BEGIN") {
            PublicKey::from_pem(text)
        } else if text.contains('/') {
            PublicKey::from_text(text)
        } else if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            PublicKey::from_bytes(Algorithm::Ed25519, &encoding::hex_decode(text)?)
        } else {
            Err(CryptoError::InvalidKey(
                "expected a PEM public key, `ed25519/<hex>`, `secp256r1/<hex>` or 64 hex digits"
                    .into(),
            ))
        }
    }
}

// ---------------------------------------------------------------------------
// Private keys
// ---------------------------------------------------------------------------

/// The OpenSSL object that signs with a key.
enum SignKey {
    Ed25519(openssl::Pkey),
    P256(openssl::EcKey),
}

/// A private key. The secret is zeroed when the key is dropped (OpenSSL
/// clears its own copy when freed) and never appears in `Debug`.
#[derive(Clone)]
pub struct PrivateKey {
    algorithm: Algorithm,
    /// Boxed so that moving the key never copies the secret.
    secret: Box<[u8; 32]>,
    public: PublicKey,
    signer: Arc<SignKey>,
}

impl Drop for PrivateKey {
    fn drop(&mut self) {
        zeroize(&mut self.secret[..]);
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PrivateKey({}, public {})",
            self.algorithm.name(),
            self.public.to_text()
        )
    }
}

impl PartialEq for PrivateKey {
    fn eq(&self, other: &Self) -> bool {
        // Public keys determine the private ones; avoids comparing secrets.
        self.public == other.public
    }
}
impl Eq for PrivateKey {}

impl PrivateKey {
    /// A fresh random key.
    pub fn generate(algorithm: Algorithm) -> Result<PrivateKey, CryptoError> {
        let mut secret = Box::new([0u8; 32]);
        match algorithm {
            Algorithm::Ed25519 => {
                try_random_bytes(&mut secret[..])?;
            }
            Algorithm::Secp256r1 => {
                let key = openssl::EcKey::p256_generate()?;
                key.private_scalar(&mut secret)?;
                let public = PublicKey::from_bytes(algorithm, &key.public_compressed()?)?;
                return Ok(PrivateKey {
                    algorithm,
                    secret,
                    public,
                    signer: Arc::new(SignKey::P256(key)),
                });
            }
        }
        PrivateKey::from_secret(algorithm, secret)
    }

    /// Ed25519: the 32-byte seed. P-256: the 32-byte big-endian scalar (1 ≤ d < n).
    pub fn from_bytes(algorithm: Algorithm, bytes: &[u8]) -> Result<PrivateKey, CryptoError> {
        let arr: &[u8; 32] = bytes.try_into().map_err(|_| {
            CryptoError::InvalidKey(format!(
                "a {} private key is 32 bytes, got {}",
                algorithm.name(),
                bytes.len()
            ))
        })?;
        let mut secret = Box::new([0u8; 32]);
        secret.copy_from_slice(arr);
        PrivateKey::from_secret(algorithm, secret)
    }

    /// Builds a key from its secret, zeroing the secret on failure.
    fn from_secret(
        algorithm: Algorithm,
        mut secret: Box<[u8; 32]>,
    ) -> Result<PrivateKey, CryptoError> {
        match PrivateKey::build(algorithm, &secret) {
            Ok((public, signer)) => Ok(PrivateKey {
                algorithm,
                secret,
                public,
                signer: Arc::new(signer),
            }),
            Err(e) => {
                zeroize(&mut secret[..]);
                Err(e)
            }
        }
    }

    fn build(algorithm: Algorithm, secret: &[u8; 32]) -> Result<(PublicKey, SignKey), CryptoError> {
        Ok(match algorithm {
            Algorithm::Ed25519 => {
                let pkey = openssl::Pkey::ed25519_private(secret)?;
                // Computed by OpenSSL from the secret: a valid point.
                let public = PublicKey::from_token_bytes(algorithm, &pkey.ed25519_raw_public()?)?;
                (public, SignKey::Ed25519(pkey))
            }
            Algorithm::Secp256r1 => {
                let key = openssl::EcKey::p256_private(secret)?;
                let public = PublicKey::from_bytes(algorithm, &key.public_compressed()?)?;
                (public, SignKey::P256(key))
            }
        })
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// A copy of the 32 secret bytes (the caller should [`zeroize`] it).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.secret.to_vec()
    }

    /// The secret bytes, without copying.
    pub fn secret_bytes(&self) -> &[u8; 32] {
        &self.secret
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        self.public.clone()
    }

    /// Ed25519: 64-byte pure signature. P-256: DER ECDSA over SHA-256(message).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match &*self.signer {
            SignKey::Ed25519(pkey) => Ok(pkey.ed25519_sign(message)?.to_vec()),
            SignKey::P256(key) => key.sign_digest(&sha256(message)),
        }
    }

    /// `ed25519-private/<hex>` or `secp256r1-private/<hex>` (contains the secret).
    pub fn to_text(&self) -> String {
        format!(
            "{}-private/{}",
            self.algorithm.name(),
            encoding::hex_encode(&self.secret[..])
        )
    }

    /// Parses `ed25519-private/<hex>` or `secp256r1-private/<hex>`.
    pub fn from_text(text: &str) -> Result<PrivateKey, CryptoError> {
        let text = text.trim();
        let Some((alg, hex)) = text.split_once('/') else {
            return Err(CryptoError::InvalidKey(
                "expected `ed25519-private/<hex>` or `secp256r1-private/<hex>`".into(),
            ));
        };
        let algorithm = match alg {
            "ed25519-private" => Algorithm::Ed25519,
            "secp256r1-private" => Algorithm::Secp256r1,
            "ed25519" | "secp256r1" => {
                return Err(CryptoError::InvalidKey(
                    "this is a public key; a private key is expected".into(),
                ))
            }
            _ => {
                return Err(CryptoError::UnsupportedAlgorithm(format!(
                    "`{alg}` (expected `ed25519-private` or `secp256r1-private`)"
                )))
            }
        };
        let bytes = SecretBuf(encoding::hex_decode(hex)?);
        PrivateKey::from_bytes(algorithm, &bytes.0)
    }

    /// DER PKCS#8 PrivateKeyInfo, unencrypted (contains the secret).
    pub fn to_der(&self) -> Result<Vec<u8>, CryptoError> {
        match &*self.signer {
            SignKey::Ed25519(pkey) => openssl::ed25519_pkcs8_der(pkey),
            SignKey::P256(key) => key.pkcs8_der(),
        }
    }

    /// Parses unencrypted PKCS#8 DER (or SEC1 `ECPrivateKey` for P-256).
    pub fn from_der(der: &[u8]) -> Result<PrivateKey, CryptoError> {
        let mut secret = Box::new([0u8; 32]);
        let algorithm = match openssl::parse_private_der(der, &mut secret)? {
            openssl::ParsedPrivate::Ed25519 => Algorithm::Ed25519,
            openssl::ParsedPrivate::P256 => Algorithm::Secp256r1,
        };
        PrivateKey::from_secret(algorithm, secret)
    }

    /// PEM `PRIVATE KEY` (PKCS#8, unencrypted; contains the secret).
    pub fn to_pem(&self) -> Result<String, CryptoError> {
        let der = SecretBuf(self.to_der()?);
        Ok(encoding::pem_encode("PRIVATE KEY", &der.0))
    }

    /// Reads the first `PRIVATE KEY` (PKCS#8) or `EC PRIVATE KEY` (SEC1)
    /// block; other blocks such as `EC PARAMETERS` are skipped.
    pub fn from_pem(pem: &str) -> Result<PrivateKey, CryptoError> {
        let blocks = encoding::pem_decode_all(pem)?;
        let blocks: Vec<(String, SecretBuf)> =
            blocks.into_iter().map(|(l, d)| (l, SecretBuf(d))).collect();
        for (label, der) in &blocks {
            match label.as_str() {
                "PRIVATE KEY" | "EC PRIVATE KEY" => return PrivateKey::from_der(&der.0),
                "ENCRYPTED PRIVATE KEY" => {
                    return Err(CryptoError::InvalidKey(
                        "encrypted private keys are not supported; decrypt it first (openssl pkcs8 -nocrypt)".into(),
                    ))
                }
                _ => {}
            }
        }
        if blocks.iter().any(|(l, _)| l == "PUBLIC KEY") {
            return Err(CryptoError::InvalidKey(
                "this PEM holds a public key; a private key is expected".into(),
            ));
        }
        let labels: Vec<&str> = blocks.iter().map(|(l, _)| l.as_str()).collect();
        Err(CryptoError::InvalidKey(format!(
            "no `PRIVATE KEY` PEM block (found {})",
            labels.join(", ")
        )))
    }

    /// Any accepted private key text: PEM (PKCS#8 or SEC1),
    /// `ed25519-private/<hex>` or `secp256r1-private/<hex>`.
    pub fn parse_any(text: &str) -> Result<PrivateKey, CryptoError> {
        let text = text.trim();
        if text.contains("-----BEGIN") {
            PrivateKey::from_pem(text)
        } else {
            PrivateKey::from_text(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::{hex_decode, hex_encode};

    fn h(s: &str) -> Vec<u8> {
        hex_decode(s).unwrap()
    }

    const SAMPLE_ROOT_PRIVATE: &str =
        "99e87b0e9158531eeeb503ff15266e2b23c2a2507b138c9d1b1f2ab458df2d61";
    const SAMPLE_ROOT_PUBLIC: &str =
        "1055c750b1a1505937af1537c626ba3263995c33a64758aaafb1275b0312e284";

    // Generated with `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout`.
    const OPENSSL_ED_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIHDytNRzlQyaxO2T9LpAPXG9uCNuXSGmw6pvUug9zmrc
-----END PRIVATE KEY-----
";
    const OPENSSL_ED_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAZ2ZlGVlPlzzmSBUjFNI+WZvMSUx7yReLenqqfgw1wW8=
-----END PUBLIC KEY-----
";
    const OPENSSL_ED_PUB_HEX: &str =
        "6766651959 4f973ce648152314d23e599bcc494c7bc9178b7a7aaa7e0c35c16f";

    // Generated with `openssl ecparam -name prime256v1 -genkey` (SEC1, with
    // parameters), then `openssl pkcs8 -topk8 -nocrypt` and `openssl ec -pubout`.
    const OPENSSL_EC_SEC1: &str = "-----BEGIN EC PARAMETERS-----
BggqhkjOPQMBBw==
-----END EC PARAMETERS-----
-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIIxuXmxAjwm3VfFTlF43GowuclNIJNzizwnEcnTMb16loAoGCCqGSM49
AwEHoUQDQgAEiFDjEQwjH8DSv2UpSclApNP+CWUVsF6WBfSSYgUQwVf+mi1k1qvN
CiUu8lnIbMkxIhDVOKZdUuwfLTI25hAtyQ==
-----END EC PRIVATE KEY-----
";
    const OPENSSL_EC_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjG5ebECPCbdV8VOU
XjcajC5yU0gk3OLPCcRydMxvXqWhRANCAASIUOMRDCMfwNK/ZSlJyUCk0/4JZRWw
XpYF9JJiBRDBV/6aLWTWq80KJS7yWchsyTEiENU4pl1S7B8tMjbmEC3J
-----END PRIVATE KEY-----
";
    const OPENSSL_EC_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEiFDjEQwjH8DSv2UpSclApNP+CWUV
sF6WBfSSYgUQwVf+mi1k1qvNCiUu8lnIbMkxIhDVOKZdUuwfLTI25hAtyQ==
-----END PUBLIC KEY-----
";
    const OPENSSL_EC_PUBLIC_COMPRESSED: &str = "-----BEGIN PUBLIC KEY-----
MDkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDIgADiFDjEQwjH8DSv2UpSclApNP+CWUV
sF6WBfSSYgUQwVc=
-----END PUBLIC KEY-----
";
    const OPENSSL_EC_SCALAR: &str =
        "8c6e5e6c408f09b755f153945e371a8c2e72534824dce2cf09c47274cc6f5ea5";
    const OPENSSL_EC_PUB: &str =
        "038850e3110c231fc0d2bf652949c940a4d3fe096515b05e9605f492620510c157";

    #[test]
    fn sha256_vectors() {
        assert_eq!(
            hex_encode(&sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex_encode(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut s = Sha256::new();
        s.update(b"a");
        s.update(b"");
        s.update(b"bc");
        assert_eq!(s.finish(), sha256(b"abc"));
    }

    #[test]
    fn random() {
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        random_bytes(&mut a);
        try_random_bytes(&mut b).unwrap();
        assert_ne!(a, b);
        random_bytes(&mut []);
        let mut z = [1u8; 5];
        zeroize(&mut z);
        assert_eq!(z, [0; 5]);
    }

    #[test]
    fn ed25519_rfc8032_vector() {
        let sk = PrivateKey::from_bytes(
            Algorithm::Ed25519,
            &h("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"),
        )
        .unwrap();
        assert_eq!(
            hex_encode(sk.public().bytes()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        let sig = sk.sign(b"").unwrap();
        assert_eq!(
            hex_encode(&sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
        sk.public().verify(b"", &sig).unwrap();
    }

    #[test]
    fn biscuit_sample_root_key() {
        let sk = PrivateKey::from_bytes(Algorithm::Ed25519, &h(SAMPLE_ROOT_PRIVATE)).unwrap();
        assert_eq!(hex_encode(sk.public().bytes()), SAMPLE_ROOT_PUBLIC);
        assert_eq!(
            sk.public().to_text(),
            format!("ed25519/{SAMPLE_ROOT_PUBLIC}")
        );
        assert_eq!(
            sk.to_text(),
            format!("ed25519-private/{SAMPLE_ROOT_PRIVATE}")
        );
        assert_eq!(PrivateKey::parse_any(&sk.to_text()).unwrap(), sk);
        assert_eq!(
            PublicKey::parse_any(SAMPLE_ROOT_PUBLIC).unwrap(),
            sk.public()
        );
        assert_eq!(sk.to_bytes(), h(SAMPLE_ROOT_PRIVATE));
    }

    #[test]
    fn round_trips_and_tampering() {
        for alg in [Algorithm::Ed25519, Algorithm::Secp256r1] {
            let sk = PrivateKey::generate(alg).unwrap();
            assert_eq!(sk.algorithm(), alg);
            let pk = sk.public();
            assert_eq!(
                pk.bytes().len(),
                if alg == Algorithm::Ed25519 { 32 } else { 33 }
            );
            let msg = b"hello biscuit";
            let sig = sk.sign(msg).unwrap();
            pk.verify(msg, &sig).unwrap();
            assert_eq!(
                pk.verify(b"hello biscuiT", &sig),
                Err(CryptoError::InvalidSignature)
            );
            let mut bad = sig.clone();
            let last = bad.len() - 1;
            bad[last] ^= 1;
            assert!(pk.verify(msg, &bad).is_err());
            let other = PrivateKey::generate(alg).unwrap().public();
            assert_eq!(other.verify(msg, &sig), Err(CryptoError::InvalidSignature));
            assert!(pk.verify(msg, &[]).is_err());
            assert!(pk.verify(msg, &sig[..sig.len() - 1]).is_err());
            // Same key from its bytes and text forms.
            let again = PrivateKey::from_bytes(alg, &sk.to_bytes()).unwrap();
            assert_eq!(again.public(), pk);
            assert_eq!(PrivateKey::from_text(&sk.to_text()).unwrap(), sk);
            assert_eq!(PublicKey::from_text(&pk.to_text()).unwrap(), pk);
            assert_eq!(PublicKey::from_bytes(alg, pk.bytes()).unwrap(), pk);
            // PEM round trips.
            let pem = pk.to_pem().unwrap();
            assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
            assert_eq!(PublicKey::from_pem(&pem).unwrap(), pk);
            assert_eq!(PublicKey::parse_any(&pem).unwrap(), pk);
            let spem = sk.to_pem().unwrap();
            assert!(spem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
            let back = PrivateKey::from_pem(&spem).unwrap();
            assert_eq!(back.to_bytes(), sk.to_bytes());
            assert_eq!(PrivateKey::parse_any(&spem).unwrap().public(), pk);
            // The secret never shows in Debug.
            let dbg = format!("{sk:?}");
            assert!(!dbg.contains(&hex_encode(&sk.to_bytes())), "{dbg}");
            assert!(dbg.contains(&pk.to_text()));
            // Clones share the signer and still work.
            let c = sk.clone();
            drop(sk);
            pk.verify(b"x", &c.sign(b"x").unwrap()).unwrap();
        }
    }

    #[test]
    fn p256_rfc6979_vector() {
        // RFC 6979 A.2.5, P-256 with SHA-256, message "sample".
        let sk = PrivateKey::from_bytes(
            Algorithm::Secp256r1,
            &h("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721"),
        )
        .unwrap();
        let uncompressed = h(
            "0460fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6\
             7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299",
        );
        let pk = PublicKey::from_bytes(Algorithm::Secp256r1, &uncompressed).unwrap();
        assert_eq!(sk.public(), pk);
        assert_eq!(
            hex_encode(pk.bytes()),
            "0360fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
        );
        let der = h(
            "3046022100efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716\
             022100f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8",
        );
        pk.verify(b"sample", &der).unwrap();
        assert_eq!(
            pk.verify(b"sample!", &der),
            Err(CryptoError::InvalidSignature)
        );
        // Trailing garbage, truncation and non-DER encodings are malformed, not a crash.
        let mut trailing = der.clone();
        trailing.push(0);
        assert!(pk.verify(b"sample", &trailing).is_err());
        assert!(matches!(
            pk.verify(b"sample", &der[..40]),
            Err(CryptoError::MalformedSignature(_))
        ));
        let mut bad_tag = der.clone();
        bad_tag[0] = 0x31;
        assert!(matches!(
            pk.verify(b"sample", &bad_tag),
            Err(CryptoError::MalformedSignature(_))
        ));
        assert!(pk
            .verify(b"sample", &[0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00])
            .is_err());
        assert!(pk.verify(b"sample", &[0xff; 72]).is_err());
        assert!(pk.verify(b"sample", &[0u8; 64]).is_err());
        assert!(openssl::error_queue_is_empty());
    }

    #[test]
    fn openssl_cli_keys() {
        let sk = PrivateKey::from_pem(OPENSSL_ED_PRIVATE).unwrap();
        let pk = PublicKey::from_pem(OPENSSL_ED_PUBLIC).unwrap();
        assert_eq!(sk.public(), pk);
        assert_eq!(hex_encode(pk.bytes()), OPENSSL_ED_PUB_HEX.replace(' ', ""));
        assert_eq!(sk.to_pem().unwrap(), OPENSSL_ED_PRIVATE);
        assert_eq!(pk.to_pem().unwrap(), OPENSSL_ED_PUBLIC);

        let sec1 = PrivateKey::from_pem(OPENSSL_EC_SEC1).unwrap();
        let p8 = PrivateKey::parse_any(OPENSSL_EC_PKCS8).unwrap();
        assert_eq!(hex_encode(&sec1.to_bytes()), OPENSSL_EC_SCALAR);
        assert_eq!(sec1.to_bytes(), p8.to_bytes());
        let pk = PublicKey::parse_any(OPENSSL_EC_PUBLIC).unwrap();
        assert_eq!(hex_encode(pk.bytes()), OPENSSL_EC_PUB);
        assert_eq!(
            PublicKey::from_pem(OPENSSL_EC_PUBLIC_COMPRESSED).unwrap(),
            pk
        );
        assert_eq!(sec1.public(), pk);
        assert_eq!(pk.to_pem().unwrap(), OPENSSL_EC_PUBLIC);
        assert_eq!(p8.to_pem().unwrap(), OPENSSL_EC_PKCS8);
        assert_eq!(
            PublicKey::parse_any(&format!("secp256r1/{OPENSSL_EC_PUB}")).unwrap(),
            pk
        );
    }

    #[test]
    fn bad_inputs() {
        use Algorithm::*;
        assert!(PublicKey::from_bytes(Ed25519, &[0; 31]).is_err());
        assert!(PublicKey::from_bytes(Ed25519, &[0; 33]).is_err());
        assert!(PublicKey::from_bytes(Secp256r1, &[2; 32]).is_err());
        assert!(PublicKey::from_bytes(Secp256r1, &[4; 33]).is_err());
        assert!(PublicKey::from_bytes(Secp256r1, &[0; 33]).is_err());
        // An x coordinate >= p.
        assert!(
            PublicKey::from_bytes(Secp256r1, &[[2u8].as_slice(), &[0xff; 32]].concat()).is_err()
        );
        // Uncompressed point that is not on the curve.
        let mut off = h(&format!("04{}", "11".repeat(64)));
        assert!(PublicKey::from_bytes(Secp256r1, &off).is_err());
        off[0] = 6; // hybrid encoding is refused
        assert!(PublicKey::from_bytes(Secp256r1, &off).is_err());

        assert!(PrivateKey::from_bytes(Ed25519, &[1; 31]).is_err());
        assert!(PrivateKey::from_bytes(Secp256r1, &[0; 32]).is_err());
        assert!(PrivateKey::from_bytes(Secp256r1, &[0xff; 32]).is_err());
        // n itself is out of range, n - 1 is fine.
        let n = h("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
        assert!(PrivateKey::from_bytes(Secp256r1, &n).is_err());
        let mut n1 = n.clone();
        n1[31] -= 1;
        let k = PrivateKey::from_bytes(Secp256r1, &n1).unwrap();
        k.public().verify(b"m", &k.sign(b"m").unwrap()).unwrap();

        for s in [
            "",
            "ed25519/",
            "ed25519/zz",
            "ed25519/1055c750",
            "rsa/1055c750b1a1505937af1537c626ba3263995c33a64758aaafb1275b0312e284",
            "1055c750b1a1505937af1537c626ba3263995c33a64758aaafb1275b0312e28",
            "ed25519-private/99e87b0e9158531eeeb503ff15266e2b23c2a2507b138c9d1b1f2ab458df2d61",
            "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            OPENSSL_ED_PRIVATE,
            "secp256r1/0011",
        ] {
            assert!(PublicKey::parse_any(s).is_err(), "{s:?}");
        }
        assert!(PublicKey::parse_any(OPENSSL_EC_PKCS8)
            .unwrap_err()
            .to_string()
            .contains("private key"));
        for s in [
            "",
            SAMPLE_ROOT_PRIVATE,
            "ed25519/99e87b0e9158531eeeb503ff15266e2b23c2a2507b138c9d1b1f2ab458df2d61",
            "ed25519-private/99e8",
            "secp256r1-private/00",
            OPENSSL_ED_PUBLIC,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        ] {
            assert!(PrivateKey::parse_any(s).is_err(), "{s:?}");
        }
        // SPKI DER with trailing bytes.
        let mut der = PublicKey::parse_any(SAMPLE_ROOT_PUBLIC)
            .unwrap()
            .to_der()
            .unwrap();
        der.push(0);
        assert!(PublicKey::from_der(&der).is_err());
        assert!(PublicKey::from_der(&[]).is_err());
        assert!(PrivateKey::from_der(&[0x30, 0x00]).is_err());
        // No failure leaves errors in OpenSSL's per-thread queue.
        assert!(openssl::error_queue_is_empty());
    }

    /// A key that skips construction-time validation (as keys read from
    /// tokens do), to exercise the verify-time defences.
    fn unchecked_ed25519(bytes: [u8; 32]) -> PublicKey {
        PublicKey::from_token_bytes(Algorithm::Ed25519, &bytes).unwrap()
    }

    #[test]
    fn ed25519_small_order_keys_are_refused() {
        // Refused at construction...
        for bad in ED25519_SMALL_ORDER {
            for sign in [0u8, 0x80] {
                let mut k = bad;
                k[31] |= sign;
                assert!(
                    matches!(
                        PublicKey::from_bytes(Algorithm::Ed25519, &k),
                        Err(CryptoError::InvalidKey(_))
                    ),
                    "{}",
                    hex_encode(&k)
                );
                assert!(PublicKey::parse_any(&format!("ed25519/{}", hex_encode(&k))).is_err());
            }
        }
        assert!(openssl::error_queue_is_empty());
        // ... and at verification. With R = identity and s = 0, OpenSSL alone
        // would accept some (for the identity key: every) message under each
        // of these keys.
        let mut sig = [0u8; 64];
        sig[0] = 1;
        for bad in ED25519_SMALL_ORDER {
            for sign in [0u8, 0x80] {
                let mut k = bad;
                k[31] |= sign;
                let pk = unchecked_ed25519(k);
                for m in 0..16u8 {
                    assert_eq!(pk.verify(&[m], &sig), Err(CryptoError::InvalidSignature));
                    let mut sig2 = [0u8; 64];
                    sig2[..32].copy_from_slice(&k);
                    assert_eq!(pk.verify(&[m], &sig2), Err(CryptoError::InvalidSignature));
                }
            }
        }
        // A small-order R under a normal key is refused too.
        let sk = PrivateKey::from_bytes(Algorithm::Ed25519, &h(SAMPLE_ROOT_PRIVATE)).unwrap();
        let mut forged = sk.sign(b"m").unwrap();
        forged[..32].copy_from_slice(&ED25519_SMALL_ORDER[1]);
        assert_eq!(
            sk.public().verify(b"m", &forged),
            Err(CryptoError::InvalidSignature)
        );
        assert!(!ed25519_is_small_order(sk.public().bytes()));
    }

    /// Little-endian 32-byte encoding of a small y (sign bit clear).
    fn le_y(y: u8) -> [u8; 32] {
        let mut a = [0u8; 32];
        a[0] = y;
        a
    }

    #[test]
    fn ed25519_point_validation() {
        // RFC 8032 section 7.1 public keys, and the base point.
        let valid = [
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
            "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
            "5866666666666666666666666666666666666666666666666666666666666666",
            SAMPLE_ROOT_PUBLIC,
        ];
        for k in valid {
            let pk = PublicKey::from_bytes(Algorithm::Ed25519, &h(k)).unwrap();
            assert_eq!(hex_encode(pk.bytes()), k);
            // The negated point (sign bit flipped) is on the curve too.
            let mut neg = h(k);
            neg[31] ^= 0x80;
            PublicKey::from_bytes(Algorithm::Ed25519, &neg).unwrap();
        }
        // y = 3 is a point (of large order), with either sign.
        for sign in [0u8, 0x80] {
            let mut k = le_y(3);
            k[31] |= sign;
            PublicKey::from_bytes(Algorithm::Ed25519, &k).unwrap();
        }
        // Every freshly generated key passes (a wrong d would fail about half).
        for _ in 0..64 {
            let sk = PrivateKey::generate(Algorithm::Ed25519).unwrap();
            PublicKey::from_bytes(Algorithm::Ed25519, sk.public().bytes()).unwrap();
        }

        let mut invalid: Vec<(&str, [u8; 32])> = vec![
            ("y = 2: no x", le_y(2)),
            ("y = 7: no x", le_y(7)),
            ("y = 11: no x", le_y(11)),
        ];
        // y = p + 3 (non-canonical; y = 3 would decode), y = 2^255 - 1.
        let mut p_plus_3 = [0xffu8; 32];
        p_plus_3[0] = 0xf0;
        p_plus_3[31] = 0x7f;
        invalid.push(("y = p + 3: non-canonical", p_plus_3));
        let mut max = [0xffu8; 32];
        max[31] = 0x7f;
        invalid.push(("y = 2^255 - 1: non-canonical", max));
        // x = 0 (y = 1, y = p - 1) with the sign bit set.
        let mut one_neg = le_y(1);
        one_neg[31] = 0x80;
        invalid.push(("y = 1, x = 0 with sign bit", one_neg));
        let mut minus_one_neg = [0xffu8; 32];
        minus_one_neg[0] = 0xec;
        invalid.push(("y = p - 1, x = 0 with sign bit", minus_one_neg));
        for (what, k) in &invalid {
            assert!(!openssl::ed25519_point_decodes(k).unwrap(), "{what}");
            assert!(
                matches!(
                    PublicKey::from_bytes(Algorithm::Ed25519, k),
                    Err(CryptoError::InvalidKey(_))
                ),
                "{what}"
            );
            assert!(
                PublicKey::parse_any(&format!("ed25519/{}", hex_encode(k))).is_err(),
                "{what}"
            );
            assert!(PublicKey::parse_any(&hex_encode(k)).is_err(), "{what}");
        }
        // The corpus case key-ed25519-not-on-curve, and the same y in a PEM.
        let mut y2 = le_y(2);
        assert!(PublicKey::parse_any(
            "ed25519/0200000000000000000000000000000000000000000000000000000000000000"
        )
        .is_err());
        let good = PublicKey::from_bytes(Algorithm::Ed25519, &h(valid[0])).unwrap();
        let mut der = good.to_der().unwrap();
        let n = der.len();
        der[n - 32..].copy_from_slice(&y2);
        assert!(PublicKey::from_der(&der).is_err());
        y2[31] |= 0x80;
        assert!(PublicKey::from_bytes(Algorithm::Ed25519, &y2).is_err());
        // Small-order points decode; from_bytes refuses them separately.
        assert!(openssl::ed25519_point_decodes(&le_y(1)).unwrap());
        assert!(openssl::ed25519_point_decodes(&ED25519_SMALL_ORDER[2]).unwrap());
        assert!(openssl::error_queue_is_empty());
    }

    #[test]
    fn shared_across_threads() {
        let sk = PrivateKey::generate(Algorithm::Secp256r1).unwrap();
        let ed = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let keys = Arc::new([
            (sk.public(), sk.sign(b"m").unwrap()),
            (ed.public(), ed.sign(b"m").unwrap()),
        ]);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let keys = Arc::clone(&keys);
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        for (pk, sig) in keys.iter() {
                            pk.verify(b"m", sig).unwrap();
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }
}
