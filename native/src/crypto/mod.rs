//! Public and private keys, signatures, hashing and randomness, all through
//! OpenSSL libcrypto (see `openssl.rs`, the only place with `unsafe`).

/// Signature algorithm, with the wire enum values of `PublicKey.algorithm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    Ed25519 = 0,
    Secp256r1 = 1,
}

/// A validated public key: 32 bytes for Ed25519, 33 bytes (compressed SEC1)
/// for P-256.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey {
    algorithm: Algorithm,
    bytes: Vec<u8>,
}

impl PublicKey {
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}
