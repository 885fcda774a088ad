//! Signature payloads (versions 0 and 1, external, seal) and verification of
//! the whole chain over the raw block bytes.

use super::{SignatureKind, Token, TokenError};
use crate::crypto::{Algorithm, PrivateKey, PublicKey};
use crate::format::schema::Proof;

const P_BLOCK: &[u8] = b"\0BLOCK\0\0VERSION\0";
const P_EXTERNAL: &[u8] = b"\0EXTERNAL\0\0VERSION\0";
const P_PAYLOAD: &[u8] = b"\0PAYLOAD\0";
const P_ALGORITHM: &[u8] = b"\0ALGORITHM\0";
const P_NEXTKEY: &[u8] = b"\0NEXTKEY\0";
const P_PREVSIG: &[u8] = b"\0PREVSIG\0";
const P_EXTERNALSIG: &[u8] = b"\0EXTERNALSIG\0";

/// The algorithm as a 4-byte little-endian integer.
fn alg_bytes(key: &PublicKey) -> [u8; 4] {
    (key.algorithm() as i32).to_le_bytes()
}

/// Signature version 0 block payload:
/// `data + [external signature] + alg(next) + key(next)`.
pub fn block_payload_v0(data: &[u8], next_key: &PublicKey, external_sig: Option<&[u8]>) -> Vec<u8> {
    let mut p = Vec::with_capacity(data.len() + 100);
    p.extend_from_slice(data);
    if let Some(e) = external_sig {
        p.extend_from_slice(e);
    }
    p.extend_from_slice(&alg_bytes(next_key));
    p.extend_from_slice(next_key.bytes());
    p
}

/// Signature version 1 block payload (`previous_sig` is `None` for the
/// authority block).
pub fn block_payload_v1(
    data: &[u8],
    next_key: &PublicKey,
    external_sig: Option<&[u8]>,
    previous_sig: Option<&[u8]>,
) -> Vec<u8> {
    let mut p = Vec::with_capacity(data.len() + 300);
    p.extend_from_slice(P_BLOCK);
    p.extend_from_slice(&1u32.to_le_bytes());
    p.extend_from_slice(P_PAYLOAD);
    p.extend_from_slice(data);
    p.extend_from_slice(P_ALGORITHM);
    p.extend_from_slice(&alg_bytes(next_key));
    p.extend_from_slice(P_NEXTKEY);
    p.extend_from_slice(next_key.bytes());
    if let Some(prev) = previous_sig {
        p.extend_from_slice(P_PREVSIG);
        p.extend_from_slice(prev);
    }
    if let Some(e) = external_sig {
        p.extend_from_slice(P_EXTERNALSIG);
        p.extend_from_slice(e);
    }
    p
}

/// The payload a third party signs (external signature version 1).
pub fn external_payload_v1(data: &[u8], previous_sig: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(data.len() + 150);
    p.extend_from_slice(P_EXTERNAL);
    p.extend_from_slice(&1u32.to_le_bytes());
    p.extend_from_slice(P_PAYLOAD);
    p.extend_from_slice(data);
    p.extend_from_slice(P_PREVSIG);
    p.extend_from_slice(previous_sig);
    p
}

/// The seal payload (always the version 0 form):
/// `data + alg(next) + key(next) + signature` of the last block.
pub fn seal_payload(data: &[u8], next_key: &PublicKey, signature: &[u8]) -> Vec<u8> {
    let mut p = block_payload_v0(data, next_key, None);
    p.extend_from_slice(signature);
    p
}

/// Whether `sig` is structurally a signature for `key`'s algorithm: 64 bytes
/// for Ed25519, a DER `SEQUENCE { INTEGER r, INTEGER s }` for P-256.
pub fn signature_well_formed(key: &PublicKey, sig: &[u8]) -> bool {
    match key.algorithm() {
        Algorithm::Ed25519 => sig.len() == 64,
        Algorithm::Secp256r1 => der_ecdsa_well_formed(sig),
    }
}

fn der_ecdsa_well_formed(sig: &[u8]) -> bool {
    // 0x30 len 0x02 rlen r 0x02 slen s, short-form lengths only (≤ 72 bytes).
    fn integer(b: &[u8]) -> Option<usize> {
        if b.len() < 2 || b[0] != 0x02 {
            return None;
        }
        let len = b[1] as usize;
        if len == 0 || len > 33 || b.len() < 2 + len {
            return None;
        }
        let v = &b[2..2 + len];
        // Positive and minimally encoded.
        if v[0] & 0x80 != 0 || (len > 1 && v[0] == 0 && v[1] & 0x80 == 0) {
            return None;
        }
        Some(2 + len)
    }
    if sig.len() < 8 || sig.len() > 72 || sig[0] != 0x30 || sig[1] as usize != sig.len() - 2 {
        return false;
    }
    let body = &sig[2..];
    match integer(body) {
        Some(r) => match integer(&body[r..]) {
            Some(s) => r + s == body.len(),
            None => false,
        },
        None => false,
    }
}

fn check(
    key: &PublicKey,
    payload: &[u8],
    sig: &[u8],
    block: usize,
    kind: SignatureKind,
) -> Result<(), TokenError> {
    if !signature_well_formed(key, sig) {
        return Err(TokenError::SignatureFormat { block, kind });
    }
    key.verify(payload, sig)
        .map_err(|_| TokenError::InvalidSignature { block, kind })
}

/// Verifies the chain from `root`, every external signature, and the proof
/// (next secret or seal). Touches only raw bytes: no block is decoded.
pub(super) fn verify_signatures(token: &Token, root: &PublicKey) -> Result<(), TokenError> {
    let mut current = root;
    let mut previous_sig: Option<&[u8]> = None;
    for (i, (signed, keys)) in token.signed_blocks().zip(token.keys.iter()).enumerate() {
        let external_sig = signed
            .external_signature
            .as_ref()
            .map(|e| e.signature.as_slice());
        let payload = match keys.sig_version {
            0 => block_payload_v0(&signed.block, &keys.next_key, external_sig),
            1 => block_payload_v1(&signed.block, &keys.next_key, external_sig, previous_sig),
            v => {
                return Err(TokenError::UnsupportedSignatureVersion {
                    block: i,
                    version: v,
                })
            }
        };
        check(
            current,
            &payload,
            &signed.signature,
            i,
            SignatureKind::Block,
        )?;
        if let (Some(esig), Some(ekey)) = (external_sig, keys.external_key.as_ref()) {
            // `from_bytes` guarantees i > 0 and signature version 1 here.
            let prev = previous_sig.ok_or(TokenError::ExternalSignatureOnAuthority)?;
            let payload = external_payload_v1(&signed.block, prev);
            check(ekey, &payload, esig, i, SignatureKind::External)?;
        }
        current = &keys.next_key;
        previous_sig = Some(&signed.signature);
    }

    let last = token.last_signed_block();
    let last_index = token.block_count() - 1;
    match &token.container.proof {
        Proof::NextSecret(secret) => {
            let private = PrivateKey::from_bytes(current.algorithm(), secret.as_bytes())
                .map_err(|_| TokenError::InvalidProof)?;
            if private.public() != *current {
                return Err(TokenError::InvalidProof);
            }
            Ok(())
        }
        Proof::FinalSignature(sig) => {
            let payload = seal_payload(&last.block, current, &last.signature);
            check(current, &payload, sig, last_index, SignatureKind::Seal)
        }
        Proof::Empty => Err(TokenError::MissingProof),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_shapes() {
        let mut good = vec![0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01];
        assert!(der_ecdsa_well_formed(&good));
        good[1] = 0x07;
        assert!(!der_ecdsa_well_formed(&good));
        // negative r
        assert!(!der_ecdsa_well_formed(&[
            0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01
        ]));
        // non-minimal r
        assert!(!der_ecdsa_well_formed(&[
            0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01
        ]));
        assert!(der_ecdsa_well_formed(&[
            0x30, 0x07, 0x02, 0x02, 0x00, 0x81, 0x02, 0x01, 0x01
        ]));
        assert!(!der_ecdsa_well_formed(&[0u8; 16]));
    }

    #[test]
    fn prefixes_are_exact() {
        assert_eq!(P_BLOCK.len(), 16);
        assert_eq!(P_EXTERNAL.len(), 19);
        assert_eq!(
            P_EXTERNALSIG,
            &[0x00, 0x45, 0x58, 0x54, 0x45, 0x52, 0x4e, 0x41, 0x4c, 0x53, 0x49, 0x47, 0x00]
        );
    }
}
