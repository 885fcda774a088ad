//! Public keys and key pairs.

use std::ffi::{c_char, c_int};
use std::path::Path;

use super::*;
use crate::config::{read_text_file, ConfigError, ConfigErrorKind, MAX_KEY_FILE_BYTES};
use crate::crypto::{Algorithm, PrivateKey, PublicKey};

/// Behind `HessraPublicKey` (immutable, shareable across threads).
pub struct HessraPublicKeyHandle {
    pub key: PublicKey,
}

/// Behind `HessraKeyPair` (the secret is zeroed when the key drops).
pub struct HessraKeyPairHandle {
    pub key: PrivateKey,
}

pub(crate) fn key_failure(message: impl std::fmt::Display) -> Failure {
    Failure::new(HESSRA_ERROR_INVALID_KEY, message.to_string())
}

/// Maps a file-reading error: unreadable or refused by the trust policy →
/// IO, too large or not text → INVALID_KEY.
pub(crate) fn file_failure(e: ConfigError, invalid_code: HessraResult) -> Failure {
    let code = match e.kind {
        ConfigErrorKind::Io | ConfigErrorKind::Untrusted => HESSRA_ERROR_IO,
        ConfigErrorKind::Invalid => invalid_code,
    };
    Failure::new(code, e.message)
}

pub(crate) fn parse_public_key(text: &str) -> FfiResult<PublicKey> {
    crate::config::parse_public_key(text)
        .map_err(|m| key_failure(format!("public key not understood: {}", m)))
}

fn read_key_file(path: &str) -> FfiResult<String> {
    read_text_file(Path::new(path), MAX_KEY_FILE_BYTES, "")
        .map_err(|e| file_failure(e, HESSRA_ERROR_INVALID_KEY))
}

fn parse_private_key(text: &str) -> FfiResult<PrivateKey> {
    PrivateKey::parse_any(text.trim())
        .map_err(|e| key_failure(format!("private key not understood: {}", e)))
}

pub(crate) fn algorithm_from_c(a: c_int) -> FfiResult<Algorithm> {
    match a {
        0 => Ok(Algorithm::Ed25519),
        1 => Ok(Algorithm::Secp256r1),
        _ => Err(Failure::param(format!("unknown algorithm {}", a))),
    }
}

/// `hessra_public_key_from_string`
#[no_mangle]
pub unsafe extern "C" fn hessra_public_key_from_string(
    key_string: *const c_char,
    out_key: *mut *mut HessraPublicKeyHandle,
) -> HessraResult {
    clear_out(out_key);
    guard(|| {
        require_out(out_key, "out_key")?;
        let text = str_arg(key_string, "key_string")?;
        let key = parse_public_key(text)?;
        write_out(out_key, into_handle(HessraPublicKeyHandle { key }));
        Ok(())
    })
}

/// `hessra_public_key_from_file`
#[no_mangle]
pub unsafe extern "C" fn hessra_public_key_from_file(
    file_path: *const c_char,
    out_key: *mut *mut HessraPublicKeyHandle,
) -> HessraResult {
    clear_out(out_key);
    guard(|| {
        require_out(out_key, "out_key")?;
        let path = str_arg(file_path, "file_path")?;
        let text = read_key_file(path)?;
        let key = parse_public_key(&text)?;
        write_out(out_key, into_handle(HessraPublicKeyHandle { key }));
        Ok(())
    })
}

/// `hessra_public_key_free`
#[no_mangle]
pub unsafe extern "C" fn hessra_public_key_free(key: *mut HessraPublicKeyHandle) {
    free_handle(key)
}

/// `hessra_public_key_to_string`: `ed25519/<hex>` or `secp256r1/<hex>`.
#[no_mangle]
pub unsafe extern "C" fn hessra_public_key_to_string(
    key: *const HessraPublicKeyHandle,
    out_string: *mut *mut c_char,
) -> HessraResult {
    clear_out(out_string);
    guard(|| {
        require_out(out_string, "out_string")?;
        let key = handle_arg(key, "key")?;
        write_out_string(out_string, key.key.to_text())
    })
}

/// `hessra_public_key_to_pem`: SubjectPublicKeyInfo PEM.
#[no_mangle]
pub unsafe extern "C" fn hessra_public_key_to_pem(
    key: *const HessraPublicKeyHandle,
    out_pem: *mut *mut c_char,
) -> HessraResult {
    clear_out(out_pem);
    guard(|| {
        require_out(out_pem, "out_pem")?;
        let key = handle_arg(key, "key")?;
        let pem = key
            .key
            .to_pem()
            .map_err(|e| Failure::new(HESSRA_ERROR_INTERNAL, e.to_string()))?;
        write_out_string(out_pem, pem)
    })
}

/// `hessra_public_key_algorithm`: the algorithm, or -1 for a NULL key.
#[no_mangle]
pub unsafe extern "C" fn hessra_public_key_algorithm(key: *const HessraPublicKeyHandle) -> c_int {
    let mut alg = -1;
    let _ = guard(|| {
        alg = handle_arg(key, "key")?.key.algorithm() as c_int;
        Ok(())
    });
    alg
}

/// `hessra_keypair_generate`
#[no_mangle]
pub unsafe extern "C" fn hessra_keypair_generate(
    algorithm: c_int,
    out_keypair: *mut *mut HessraKeyPairHandle,
) -> HessraResult {
    clear_out(out_keypair);
    guard(|| {
        require_out(out_keypair, "out_keypair")?;
        let alg = algorithm_from_c(algorithm)?;
        let key = PrivateKey::generate(alg)
            .map_err(|e| Failure::new(HESSRA_ERROR_INTERNAL, e.to_string()))?;
        write_out(out_keypair, into_handle(HessraKeyPairHandle { key }));
        Ok(())
    })
}

/// `hessra_keypair_from_string`
#[no_mangle]
pub unsafe extern "C" fn hessra_keypair_from_string(
    private_key: *const c_char,
    out_keypair: *mut *mut HessraKeyPairHandle,
) -> HessraResult {
    clear_out(out_keypair);
    guard(|| {
        require_out(out_keypair, "out_keypair")?;
        let text = str_arg(private_key, "private_key")?;
        let key = parse_private_key(text)?;
        write_out(out_keypair, into_handle(HessraKeyPairHandle { key }));
        Ok(())
    })
}

/// `hessra_keypair_from_file`
#[no_mangle]
pub unsafe extern "C" fn hessra_keypair_from_file(
    file_path: *const c_char,
    out_keypair: *mut *mut HessraKeyPairHandle,
) -> HessraResult {
    clear_out(out_keypair);
    guard(|| {
        require_out(out_keypair, "out_keypair")?;
        let path = str_arg(file_path, "file_path")?;
        let text = read_key_file(path)?;
        let parsed = parse_private_key(&text);
        let mut bytes = text.into_bytes();
        crate::crypto::zeroize(&mut bytes);
        let key = parsed?;
        write_out(out_keypair, into_handle(HessraKeyPairHandle { key }));
        Ok(())
    })
}

/// `hessra_keypair_to_pem`: PKCS#8 PEM (a secret).
#[no_mangle]
pub unsafe extern "C" fn hessra_keypair_to_pem(
    keypair: *const HessraKeyPairHandle,
    out_pem: *mut *mut c_char,
) -> HessraResult {
    clear_out(out_pem);
    guard(|| {
        require_out(out_pem, "out_pem")?;
        let kp = handle_arg(keypair, "keypair")?;
        let pem = kp
            .key
            .to_pem()
            .map_err(|e| Failure::new(HESSRA_ERROR_INTERNAL, e.to_string()))?;
        write_out_string(out_pem, pem)
    })
}

/// `hessra_keypair_public_key`
#[no_mangle]
pub unsafe extern "C" fn hessra_keypair_public_key(
    keypair: *const HessraKeyPairHandle,
    out_key: *mut *mut HessraPublicKeyHandle,
) -> HessraResult {
    clear_out(out_key);
    guard(|| {
        require_out(out_key, "out_key")?;
        let kp = handle_arg(keypair, "keypair")?;
        write_out(
            out_key,
            into_handle(HessraPublicKeyHandle {
                key: kp.key.public(),
            }),
        );
        Ok(())
    })
}

/// `hessra_keypair_free`
#[no_mangle]
pub unsafe extern "C" fn hessra_keypair_free(keypair: *mut HessraKeyPairHandle) {
    free_handle(keypair)
}
