//! Identity tokens: verify, mint, delegate, just-in-time
//! (`include/hessra_ffi.h`, "identity tokens").

use std::ffi::c_char;

use super::config::{
    key_choice, outcome_json_result, token_bytes, with_verifier, HessraConfigHandle,
};
use super::keys::{HessraKeyPairHandle, HessraPublicKeyHandle};
use super::mint::root_key_id_arg;
use super::token::{outcome_result, token_failure, HessraTokenHandle};
use super::*;
use crate::identity::{self, IdentityError, IdentityMint};
use crate::verifier::{IdentityActor, IdentityRequest, KeyChoice, TokenInput};

/// `HessraIdentityRequest.actor`.
pub const HESSRA_IDENTITY_GIVEN: c_int = 0;
pub const HESSRA_IDENTITY_BEARER: c_int = 1;
pub const HESSRA_IDENTITY_DELEGATED: c_int = 2;

/// `HessraIdentityRequest`.
#[repr(C)]
pub struct HessraIdentityRequest {
    pub actor: c_int,
    pub identity: *const c_char,
    pub domain: *const c_char,
    pub subject_in_domain: c_int,
    pub now: i64,
    pub leeway_seconds: i64,
}

/// `HessraIdentityMintRequest`.
#[repr(C)]
pub struct HessraIdentityMintRequest {
    pub subject: *const c_char,
    pub delegatable: c_int,
    pub domain: *const c_char,
    pub expires_at: i64,
    pub root_key_id: i64,
}

fn read_identity_request(req: &HessraIdentityRequest) -> FfiResult<IdentityRequest> {
    let identity = opt_str_arg(req.identity, "request.identity")?;
    let actor = match (req.actor, identity) {
        (HESSRA_IDENTITY_GIVEN, Some(id)) => IdentityActor::Given(id.to_string()),
        (HESSRA_IDENTITY_GIVEN, None) => {
            return Err(Failure::param(
                "request.identity: required with HESSRA_IDENTITY_GIVEN",
            ))
        }
        (HESSRA_IDENTITY_BEARER | HESSRA_IDENTITY_DELEGATED, Some(_)) => {
            return Err(Failure::param(
                "request.identity: must be NULL unless actor is HESSRA_IDENTITY_GIVEN",
            ))
        }
        (HESSRA_IDENTITY_BEARER, None) => IdentityActor::Bearer,
        (HESSRA_IDENTITY_DELEGATED, None) => IdentityActor::Delegated,
        (other, _) => {
            return Err(Failure::param(format!(
                "request.actor: {} is not a HessraIdentityActor",
                other
            )))
        }
    };
    if req.now < 0 {
        return Err(Failure::param("request.now must not be negative"));
    }
    Ok(IdentityRequest {
        actor,
        domain: opt_str_arg(req.domain, "request.domain")?.map(String::from),
        subject_in_domain: req.subject_in_domain != 0,
        now: if req.now == 0 { unix_now() } else { req.now },
        leeway_seconds: (req.leeway_seconds >= 0).then_some(req.leeway_seconds),
    })
}

/// `hessra_identity_verify`: as `hessra_verify`, for identity tokens.
#[no_mangle]
pub unsafe extern "C" fn hessra_identity_verify(
    config: *const HessraConfigHandle,
    public_key: *const HessraPublicKeyHandle,
    key_id: *const c_char,
    token: *const u8,
    token_len: usize,
    request: *const HessraIdentityRequest,
    out_outcome_json: *mut *mut c_char,
    out_error: *mut HessraError,
) -> HessraResult {
    clear_out(out_outcome_json);
    guard_with_error(out_error, || {
        let choice = key_choice(public_key, key_id)?;
        let bytes = token_bytes(token, token_len)?;
        let request = read_identity_request(struct_arg(request, "request")?)?;
        outcome_json_result(config, out_outcome_json, |v| {
            v.verify_identity(TokenInput::Any(bytes), choice, &request)
        })
    })
}

/// `hessra_config_verified_identity`: the identity the token proves now
/// (its narrowest delegated identity, else its subject), through the
/// configuration's cache.
#[no_mangle]
pub unsafe extern "C" fn hessra_config_verified_identity(
    config: *const HessraConfigHandle,
    token_string: *const c_char,
    request: *const HessraIdentityRequest,
    out_identity: *mut *mut c_char,
    out_error: *mut HessraError,
) -> HessraResult {
    string_result(out_identity, "out_identity", out_error, || {
        let cfg = handle_arg(config, "config")?;
        let text = str_arg(token_string, "token_string")?;
        let mut request = read_identity_request(&HessraIdentityRequest {
            actor: HESSRA_IDENTITY_DELEGATED,
            identity: std::ptr::null(),
            ..*struct_arg(request, "request")?
        })?;
        request.actor = IdentityActor::Delegated;
        let outcome = with_verifier(cfg, |v| {
            v.verify_identity(
                TokenInput::Any(text.as_bytes()),
                KeyChoice::Configured,
                &request,
            )
        })?;
        outcome_result(&outcome)?;
        let identity = outcome.subject.ok_or_else(|| {
            Failure::new(HESSRA_ERROR_INTERNAL, "a valid outcome without an identity")
        })?;
        Ok(Some(identity))
    })
}

fn identity_failure(e: IdentityError) -> Failure {
    match e {
        IdentityError::Token(t) => token_failure(t),
        IdentityError::NotIdentity | IdentityError::Refused { .. } => Failure::param(e.to_string()),
    }
}

fn expires_at_arg(expires_at: i64, name: &str) -> FfiResult<i64> {
    if expires_at <= 0 {
        return Err(Failure::param(format!(
            "{} must be a positive unix time",
            name
        )));
    }
    Ok(expires_at)
}

/// `hessra_identity_mint`
#[no_mangle]
pub unsafe extern "C" fn hessra_identity_mint(
    root_keypair: *const HessraKeyPairHandle,
    request: *const HessraIdentityMintRequest,
    out_token: *mut *mut c_char,
    out_error: *mut HessraError,
) -> HessraResult {
    token_result(out_token, out_error, || {
        let kp = handle_arg(root_keypair, "root_keypair")?;
        let req = struct_arg(request, "request")?;
        let root_key_id = root_key_id_arg(req.root_key_id, "request.root_key_id")?;
        let mint = IdentityMint {
            subject: str_arg(req.subject, "request.subject")?.to_string(),
            delegatable: req.delegatable != 0,
            domain: opt_str_arg(req.domain, "request.domain")?.map(String::from),
            expires_at: expires_at_arg(req.expires_at, "request.expires_at")?,
        };
        identity::mint(&kp.key, &mint, root_key_id).map_err(identity_failure)
    })
}

/// `hessra_identity_delegate`
#[no_mangle]
pub unsafe extern "C" fn hessra_identity_delegate(
    token: *const HessraTokenHandle,
    root_key: *const HessraPublicKeyHandle,
    identity: *const c_char,
    expires_at: i64,
    out_token: *mut *mut c_char,
    out_error: *mut HessraError,
) -> HessraResult {
    token_result(out_token, out_error, || {
        let token = handle_arg(token, "token")?;
        let root = handle_arg(root_key, "root_key")?;
        let identity = str_arg(identity, "identity")?;
        let expires_at = expires_at_arg(expires_at, "expires_at")?;
        identity::delegate(&token.token, &root.key, identity, expires_at, unix_now())
            .map_err(identity_failure)
    })
}

/// `hessra_identity_jit`
#[no_mangle]
pub unsafe extern "C" fn hessra_identity_jit(
    token: *const HessraTokenHandle,
    root_key: *const HessraPublicKeyHandle,
    expires_at: i64,
    out_token: *mut *mut c_char,
    out_error: *mut HessraError,
) -> HessraResult {
    token_result(out_token, out_error, || {
        let token = handle_arg(token, "token")?;
        let root = handle_arg(root_key, "root_key")?;
        let expires_at = expires_at_arg(expires_at, "expires_at")?;
        identity::jit(&token.token, &root.key, expires_at).map_err(identity_failure)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::crypto::{Algorithm, PrivateKey};
    use std::ffi::{CStr, CString};

    fn current(cfg: &HessraConfigHandle, token: &str) -> (HessraResult, Option<String>) {
        let text = CString::new(token).unwrap();
        let req = HessraIdentityRequest {
            actor: HESSRA_IDENTITY_GIVEN,
            identity: std::ptr::null(),
            domain: std::ptr::null(),
            subject_in_domain: 0,
            now: 0,
            leeway_seconds: -1,
        };
        let mut out = std::ptr::null_mut();
        // SAFETY: valid handle, NUL-terminated text, request and out pointers.
        let rc = unsafe {
            hessra_config_verified_identity(
                cfg,
                text.as_ptr(),
                &req,
                &mut out,
                std::ptr::null_mut(),
            )
        };
        let identity = (!out.is_null()).then(|| {
            // SAFETY: a string this library returned, freed right after.
            let s = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_string();
            unsafe { crate::ffi::hessra_string_free(out) };
            s
        });
        (rc, identity)
    }

    #[test]
    fn verified_identity_is_the_narrowest() {
        let root = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let config = Config::from_json(&format!(
            r#"{{"version":1,"keys":[{{"id":"dev","public_key":"{}"}}]}}"#,
            root.public().to_text()
        ))
        .unwrap();
        let cfg = HessraConfigHandle::new(config);
        let now = unix_now();
        let m = IdentityMint {
            subject: "urn:hessra:alice".into(),
            delegatable: true,
            domain: None,
            expires_at: now + 600,
        };
        let base = identity::mint(&root, &m, None).unwrap();
        assert_eq!(
            current(&cfg, &base.to_base64()),
            (HESSRA_SUCCESS, Some("urn:hessra:alice".into()))
        );
        let laptop = identity::delegate(
            &base,
            &root.public(),
            "urn:hessra:alice:laptop",
            now + 60,
            now,
        )
        .unwrap();
        assert_eq!(
            current(&cfg, &laptop.to_base64()),
            (HESSRA_SUCCESS, Some("urn:hessra:alice:laptop".into()))
        );
        let expired = identity::jit(&laptop, &root.public(), now - 1).unwrap();
        assert_eq!(
            current(&cfg, &expired.to_base64()),
            (HESSRA_ERROR_EXPIRED, None)
        );
        let other = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let forged = identity::mint(&other, &m, None).unwrap();
        assert_eq!(
            current(&cfg, &forged.to_base64()),
            (HESSRA_ERROR_VERIFICATION_FAILED, None)
        );
        assert_eq!(current(&cfg, "not a token").0, HESSRA_ERROR_INVALID_TOKEN);
    }
}
