//! What a token grants and what it claims, through a configuration:
//! `hessra_config_granted_resources` and `hessra_config_claims` (the
//! extension's `hessra_granted_resources` and `hessra_current_claims()`).

use std::ffi::c_char;
use std::sync::atomic::Ordering;

use super::config::HessraConfigHandle;
use super::token::{
    failure_result, read_request, token_from_text, verifier_failure, HessraVerifyRequest,
    LeewayField,
};
use super::*;
use crate::granted::Refusal;
use crate::json::Value;
use crate::verifier::{Failure as VerifyFailure, ParsedToken, Request, Verifier, VerifierError};

/// The result code and message of a refusal.
fn refusal_result(refusal: &Refusal) -> Failure {
    match (refusal.failure(), refusal) {
        (Some(failure), _) => failure_result(failure),
        (None, Refusal::TooManyCandidates { .. }) => {
            Failure::new(HESSRA_ERROR_LIMIT_EXCEEDED, refusal.to_string())
        }
        (None, _) => Failure::new(HESSRA_ERROR_VERIFICATION_FAILED, refusal.to_string()),
    }
}

/// The frame of both functions: the request (its resource is not part of
/// these questions), the configuration's verifier and cache, the token text
/// decoded; `ask` answers with its JSON and its refusal, and gets a counter
/// of verification runs for the statistics. The JSON is written unless the
/// host interrupted (then nothing was concluded); the result code is the
/// refusal's.
fn through_config(
    config: *const HessraConfigHandle,
    token_string: *const c_char,
    request: *const HessraVerifyRequest,
    out_json: *mut *mut c_char,
    out_name: &str,
    out_error: *mut HessraError,
    ask: impl FnOnce(
        &Verifier<'_>,
        &ParsedToken,
        &Request,
        &mut dyn FnMut(),
    ) -> Result<(Value, Option<Refusal>), VerifierError>,
) -> HessraResult {
    clear_out(out_json);
    guard_with_error(out_error, || {
        require_out(out_json, out_name)?;
        let cfg = handle_arg(config, "config")?;
        let text = str_arg(token_string, "token_string")?;
        let req = struct_arg(request, "request")?;
        let request = read_request(
            &HessraVerifyRequest {
                resource: c"".as_ptr(),
                ..*req
            },
            LeewayField::NegativeIsUnset,
        )?;
        let config = cfg.read();
        let verifier = Verifier::new(Some(&config), Some(&cfg.cache));
        if let Some(max) = verifier.text_bound(text.len()) {
            return Err(failure_result(&VerifyFailure::TooLarge { max }));
        }
        let token = token_from_text(text)?;
        let mut count = || {
            cfg.verifications.fetch_add(1, Ordering::Relaxed);
        };
        let (json, refusal) =
            ask(&verifier, &token, &request, &mut count).map_err(verifier_failure)?;
        let Some(refusal) = refusal else {
            return write_out_string(out_json, json.to_string());
        };
        let failure = refusal_result(&refusal);
        if failure.code != HESSRA_ERROR_INTERRUPTED {
            write_out_string(out_json, json.to_string())?;
        }
        Err(failure)
    })
}

/// `hessra_config_granted_resources`: the resources the token verifies for
/// an operation, as a JSON array.
#[no_mangle]
pub unsafe extern "C" fn hessra_config_granted_resources(
    config: *const HessraConfigHandle,
    token_string: *const c_char,
    request: *const HessraVerifyRequest,
    out_resources_json: *mut *mut c_char,
    out_error: *mut HessraError,
) -> HessraResult {
    through_config(
        config,
        token_string,
        request,
        out_resources_json,
        "out_resources_json",
        out_error,
        |verifier, token, request, count| {
            let grants = verifier.granted_resources(token, request, count)?;
            Ok((grants.to_json(), grants.refusal))
        },
    )
}

/// `hessra_config_claims`: what the token says once verified, as JSON.
#[no_mangle]
pub unsafe extern "C" fn hessra_config_claims(
    config: *const HessraConfigHandle,
    token_string: *const c_char,
    request: *const HessraVerifyRequest,
    out_claims_json: *mut *mut c_char,
    out_error: *mut HessraError,
) -> HessraResult {
    through_config(
        config,
        token_string,
        request,
        out_claims_json,
        "out_claims_json",
        out_error,
        |verifier, token, request, count| {
            let claims = verifier.claims(token, request, count)?;
            Ok((claims.to_json(), claims.refusal))
        },
    )
}
