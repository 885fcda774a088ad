//! Tokens: parse, verify (Hessra rules), authorize (general Datalog),
//! inspect.

use std::ffi::c_char;
use std::time::Instant;

use super::keys::HessraPublicKeyHandle;
use super::*;
use crate::classify::Classification;
use crate::config::{node_json, parse_service_chain_json};
use crate::datalog::cost::{Meter, Stop};
use crate::datalog::{self, AuthError, AuthorizeInput, Block, RunLimit, RunLimits};
use crate::encoding::{base64url_encode, hex_encode};
use crate::hessra;
use crate::json::Value;
use crate::token::{Token, TokenError};
use crate::verifier::{
    self, failed_checks_json, Failure as VerifyFailure, KeyChoice, Outcome, ParsedToken, Request,
    TokenInput, TokenInputError, Verifier, VerifierError, MAX_TOKEN_TEXT,
};

/// Largest token accepted by the parser (the token module's own bound).
pub const MAX_TOKEN_BYTES: usize = crate::token::MAX_TOKEN_BYTES;

/// Behind `HessraToken`: the decoded container and its raw bytes.
pub type HessraTokenHandle = ParsedToken;

/// `HessraVerifyRequest`.
#[repr(C)]
pub struct HessraVerifyRequest {
    pub subject: *const c_char,
    pub resource: *const c_char,
    pub operation: *const c_char,
    pub domain: *const c_char,
    pub prefix: *const c_char,
    pub now: i64,
    pub leeway_seconds: i64,
    pub service_chain_json: *const c_char,
    pub component: *const c_char,
}

/// The limits of verification without a configuration: the configuration
/// defaults (deterministic facts/iterations, a generous wall-clock cap).
pub(crate) fn default_run_limits() -> RunLimits {
    crate::config::Limits::default().run_limits()
}

/// Maps a token error to a result code. Messages of the token module never
/// contain the token.
pub(crate) fn token_failure(e: TokenError) -> Failure {
    let code = token_error_code(&e);
    if code == HESSRA_ERROR_VERIFICATION_FAILED {
        // A bad signature reads the same whichever function met it: the
        // verifier's reason for status "invalid".
        return Failure::new(code, VerifyFailure::Signature(e).to_string());
    }
    Failure::new(code, e.to_string())
}

fn token_error_code(e: &TokenError) -> HessraResult {
    use TokenError::*;
    match e {
        // The container bounds (size, block count, decoded text) are
        // limits, as the header documents for hessra_token_parse.
        TooLarge { .. }
        | Format {
            error:
                crate::format::FormatError::TooManyBlocks { .. }
                | crate::format::FormatError::TextTooLarge,
            ..
        } => HESSRA_ERROR_LIMIT_EXCEEDED,
        SignatureFormat { .. } | InvalidSignature { .. } | InvalidProof => {
            HESSRA_ERROR_VERIFICATION_FAILED
        }
        Encoding(_)
        | Format { .. }
        | UnsupportedSignatureVersion { .. }
        | UnsupportedThirdPartySignatureVersion { .. }
        | ExternalSignatureOnAuthority
        | MissingProof
        | AppendOnSealed
        | AlreadySealed => HESSRA_ERROR_INVALID_TOKEN,
        ThirdParty(_) => HESSRA_ERROR_INVALID_PARAMETER,
        Crypto(_) => HESSRA_ERROR_INTERNAL,
        Auth(AuthError::RunLimit(RunLimit::Interrupted)) => HESSRA_ERROR_INTERRUPTED,
        Auth(AuthError::RunLimit(_)) => HESSRA_ERROR_LIMIT_EXCEEDED,
        Auth(_) => HESSRA_ERROR_VERIFICATION_FAILED,
    }
}

fn input_error_code(e: &TokenInputError) -> HessraResult {
    match e {
        TokenInputError::TooLarge { .. } => HESSRA_ERROR_LIMIT_EXCEEDED,
        TokenInputError::Empty | TokenInputError::Base64(_) => HESSRA_ERROR_INVALID_TOKEN,
        TokenInputError::Token(t) => token_error_code(t),
    }
}

/// Token input that is not a token, as a result code and message.
pub(crate) fn input_failure(e: TokenInputError) -> Failure {
    Failure::new(input_error_code(&e), e.to_string())
}

/// A problem of the configuration or request (not of the token).
pub(crate) fn verifier_failure(e: VerifierError) -> Failure {
    let code = match e {
        VerifierError::NoKey { .. } | VerifierError::UnknownKeyId { .. } => {
            HESSRA_ERROR_CONFIG_INVALID
        }
        VerifierError::InvalidRequest(_) => HESSRA_ERROR_INVALID_PARAMETER,
        VerifierError::RevocationLookup(_) => HESSRA_ERROR_REVOCATION_LOOKUP,
    };
    Failure::new(code, e.to_string())
}

/// The result code of an outcome (`Ok` when valid) with its reason.
pub(crate) fn outcome_result(outcome: &Outcome) -> FfiResult<()> {
    match &outcome.failure {
        None => Ok(()),
        Some(failure) => Err(failure_result(failure)),
    }
}

/// As [`outcome_result`] for the seed functions, whose result codes predate
/// revocation: a revoked token is not valid for them
/// (`HESSRA_ERROR_VERIFICATION_FAILED`, the reason says why).
pub(crate) fn seed_outcome_result(outcome: &Outcome) -> FfiResult<()> {
    outcome_result(outcome).map_err(|mut f| {
        if f.code == HESSRA_ERROR_REVOKED {
            f.code = HESSRA_ERROR_VERIFICATION_FAILED;
        }
        f
    })
}

/// The result code of a verification failure, with its reason.
pub(crate) fn failure_result(failure: &VerifyFailure) -> Failure {
    use crate::hessra::HessraFailure as H;
    let code = match failure {
        VerifyFailure::Malformed(e) => input_error_code(e),
        VerifyFailure::TooLarge { .. } => HESSRA_ERROR_LIMIT_EXCEEDED,
        VerifyFailure::Signature(e) => token_error_code(e),
        VerifyFailure::Revoked { .. } => HESSRA_ERROR_REVOKED,
        VerifyFailure::Rules(H::Expired { .. }) => HESSRA_ERROR_EXPIRED,
        VerifyFailure::Rules(H::Denied { .. } | H::Execution(_))
        | VerifyFailure::NotIdentity { .. }
        | VerifyFailure::NotAuthorization { .. } => HESSRA_ERROR_VERIFICATION_FAILED,
        VerifyFailure::Rules(H::Limit(RunLimit::Interrupted)) => HESSRA_ERROR_INTERRUPTED,
        VerifyFailure::Rules(H::Limit(_)) => HESSRA_ERROR_LIMIT_EXCEEDED,
        VerifyFailure::Rules(H::InvalidBlockRule(..)) => HESSRA_ERROR_INVALID_TOKEN,
        VerifyFailure::Rules(H::InvalidRequest(_)) => HESSRA_ERROR_INVALID_PARAMETER,
    };
    Failure::new(code, failure.to_string())
}

/// Decodes token text (see `verifier::normalize_token_text`).
pub(crate) fn token_from_text(text: &str) -> FfiResult<HessraTokenHandle> {
    ParsedToken::from_text(text).map_err(input_failure)
}

/// How `HessraVerifyRequest.leeway_seconds` reads.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum LeewayField {
    /// The seed functions: >= 0, and with a configuration 0 means "not
    /// given" (the configuration's).
    ZeroIsUnset,
    /// `hessra_verify`: < 0 means "not given"; 0 is an explicit 0.
    NegativeIsUnset,
}

pub(crate) fn read_request(req: &HessraVerifyRequest, leeway: LeewayField) -> FfiResult<Request> {
    let subject = opt_str_arg(req.subject, "request.subject")?;
    let resource = str_arg(req.resource, "request.resource")?;
    let operation = opt_str_arg(req.operation, "request.operation")?;
    let domain = opt_str_arg(req.domain, "request.domain")?;
    let prefix = opt_str_arg(req.prefix, "request.prefix")?;
    let chain = opt_str_arg(req.service_chain_json, "request.service_chain_json")?;
    let component = opt_str_arg(req.component, "request.component")?;
    if req.now < 0 {
        return Err(Failure::param("request.now must not be negative"));
    }
    let leeway_seconds = match leeway {
        LeewayField::ZeroIsUnset if req.leeway_seconds < 0 => {
            return Err(Failure::param(
                "request.leeway_seconds must not be negative",
            ))
        }
        LeewayField::ZeroIsUnset if req.leeway_seconds == 0 => None,
        LeewayField::NegativeIsUnset if req.leeway_seconds < 0 => None,
        _ => Some(req.leeway_seconds),
    };
    let service_chain = match chain {
        Some(text) => Some(
            parse_service_chain_json(text).map_err(|e| Failure::param(format!("request.{}", e)))?,
        ),
        None => None,
    };
    Ok(Request {
        subject: subject.map(String::from),
        resource: resource.to_string(),
        operation: operation.map(String::from),
        domain: domain.map(String::from),
        prefix: prefix.map(String::from),
        now: if req.now == 0 { unix_now() } else { req.now },
        leeway_seconds,
        service_chain,
        component: component.map(String::from),
    })
}

/// Verification with a given key and no configuration.
fn verify_with_key(
    token: &HessraTokenHandle,
    key: &HessraPublicKeyHandle,
    request: &Request,
) -> FfiResult<()> {
    let outcome = Verifier::default()
        .verify(
            TokenInput::Parsed(token),
            KeyChoice::Given(&key.key),
            request,
        )
        .map_err(verifier_failure)?;
    outcome_result(&outcome)
}

fn verify_simple(
    token: *const HessraTokenHandle,
    public_key: *const HessraPublicKeyHandle,
    subject: *const c_char,
    resource: *const c_char,
    operation: *const c_char,
) -> HessraResult {
    guard(|| {
        let token = handle_arg(token, "token")?;
        let key = handle_arg(public_key, "public_key")?;
        let request = Request {
            subject: Some(str_arg(subject, "subject")?.to_string()),
            resource: str_arg(resource, "resource")?.to_string(),
            operation: opt_str_arg(operation, "operation")?.map(String::from),
            now: unix_now(),
            leeway_seconds: Some(0),
            service_chain: Some(Vec::new()),
            ..Request::default()
        };
        verify_with_key(token, key, &request)
    })
}

fn token_parse_body(
    token_string: *const c_char,
    out_token: *mut *mut HessraTokenHandle,
) -> FfiResult<()> {
    require_out(out_token, "out_token")?;
    let text = str_arg(token_string, "token_string")?;
    let handle = token_from_text(text)?;
    write_out(out_token, into_handle(handle));
    Ok(())
}

/// `hessra_token_parse`
#[no_mangle]
pub unsafe extern "C" fn hessra_token_parse(
    token_string: *const c_char,
    out_token: *mut *mut HessraTokenHandle,
) -> HessraResult {
    clear_out(out_token);
    guard(|| token_parse_body(token_string, out_token))
}

/// `hessra_token_parse_with_error`: as `hessra_token_parse`, saying in
/// `out_error` why the text is not a token (never quoting it).
#[no_mangle]
pub unsafe extern "C" fn hessra_token_parse_with_error(
    token_string: *const c_char,
    out_token: *mut *mut HessraTokenHandle,
    out_error: *mut HessraError,
) -> HessraResult {
    clear_out(out_token);
    guard_with_error(out_error, || token_parse_body(token_string, out_token))
}

/// `hessra_token_parse_bytes`
#[no_mangle]
pub unsafe extern "C" fn hessra_token_parse_bytes(
    data: *const u8,
    len: usize,
    out_token: *mut *mut HessraTokenHandle,
) -> HessraResult {
    clear_out(out_token);
    guard(|| {
        require_out(out_token, "out_token")?;
        if data.is_null() {
            return Err(Failure::param("data must not be NULL"));
        }
        if len > MAX_TOKEN_TEXT {
            return Err(Failure::new(
                HESSRA_ERROR_LIMIT_EXCEEDED,
                format!("token is larger than {} bytes", MAX_TOKEN_TEXT),
            ));
        }
        // SAFETY: data is non-NULL and the caller guarantees `len` readable
        // bytes for the duration of the call (header contract); len is
        // bounded above, so it fits isize.
        let bytes = unsafe { std::slice::from_raw_parts(data, len) };
        let handle = ParsedToken::from_any(bytes).map_err(input_failure)?;
        write_out(out_token, into_handle(handle));
        Ok(())
    })
}

/// `hessra_token_free`
#[no_mangle]
pub unsafe extern "C" fn hessra_token_free(token: *mut HessraTokenHandle) {
    free_handle(token)
}

/// `hessra_token_verify`: identity mode, any granted operation, now.
#[no_mangle]
pub unsafe extern "C" fn hessra_token_verify(
    token: *const HessraTokenHandle,
    public_key: *const HessraPublicKeyHandle,
    subject: *const c_char,
    resource: *const c_char,
) -> HessraResult {
    verify_simple(token, public_key, subject, resource, std::ptr::null())
}

/// `hessra_token_verify_operation`
#[no_mangle]
pub unsafe extern "C" fn hessra_token_verify_operation(
    token: *const HessraTokenHandle,
    public_key: *const HessraPublicKeyHandle,
    subject: *const c_char,
    resource: *const c_char,
    operation: *const c_char,
) -> HessraResult {
    verify_simple(token, public_key, subject, resource, operation)
}

/// `hessra_token_verify_request`
#[no_mangle]
pub unsafe extern "C" fn hessra_token_verify_request(
    token: *const HessraTokenHandle,
    public_key: *const HessraPublicKeyHandle,
    request: *const HessraVerifyRequest,
    out_error: *mut HessraError,
) -> HessraResult {
    guard_with_error(out_error, || {
        let token = handle_arg(token, "token")?;
        let key = handle_arg(public_key, "public_key")?;
        let mut request = read_request(struct_arg(request, "request")?, LeewayField::ZeroIsUnset)?;
        // Without a configuration the request is complete as given.
        request.leeway_seconds.get_or_insert(0);
        request.service_chain.get_or_insert_with(Vec::new);
        verify_with_key(token, key, &request)
    })
}

// ---- authorize --------------------------------------------------------------

/// The JSON of `hessra_token_authorize` and the result code that goes with
/// it.
pub(crate) fn authorization_json(result: &Result<usize, AuthError>) -> (Value, Failure) {
    use crate::datalog::MatchedPolicy;
    let ok = Failure::new(HESSRA_SUCCESS, "");
    // "policy_kind" says which kind of policy "policy" indexes: an
    // unauthorized result has either an allow policy that matched with failed
    // checks, or a deny policy that matched.
    let e = match result {
        Ok(i) => {
            let json = Value::object([
                ("authorized", Value::from(true)),
                ("policy", Value::from(*i)),
                ("policy_kind", Value::from("allow")),
                ("error", Value::Null),
            ]);
            return (json, ok);
        }
        Err(e) => e,
    };
    let (kind, checks, policy, policy_kind, code) = match e {
        AuthError::Unauthorized { policy, checks } => {
            let (i, policy_kind) = match policy {
                MatchedPolicy::Allow(i) => (*i, "allow"),
                MatchedPolicy::Deny(i) => (*i, "deny"),
            };
            let (policy, policy_kind) = (Value::from(i), Value::from(policy_kind));
            (
                "unauthorized",
                &checks[..],
                policy,
                policy_kind,
                HESSRA_ERROR_VERIFICATION_FAILED,
            )
        }
        AuthError::NoMatchingPolicy { checks } => (
            "no_matching_policy",
            &checks[..],
            Value::Null,
            Value::Null,
            HESSRA_ERROR_VERIFICATION_FAILED,
        ),
        AuthError::RunLimit(RunLimit::Interrupted) => (
            "interrupted",
            &[][..],
            Value::Null,
            Value::Null,
            HESSRA_ERROR_INTERRUPTED,
        ),
        AuthError::RunLimit(_) => (
            "run_limit",
            &[][..],
            Value::Null,
            Value::Null,
            HESSRA_ERROR_LIMIT_EXCEEDED,
        ),
        AuthError::Execution(_) => (
            "execution",
            &[][..],
            Value::Null,
            Value::Null,
            HESSRA_ERROR_VERIFICATION_FAILED,
        ),
        AuthError::InvalidBlockRule(..) => (
            "invalid_block_rule",
            &[][..],
            Value::Null,
            Value::Null,
            HESSRA_ERROR_VERIFICATION_FAILED,
        ),
    };
    let message = e.to_string();
    let error = Value::object([
        ("kind", Value::from(kind)),
        ("message", Value::from(message.as_str())),
        ("failed_checks", failed_checks_json(checks)),
    ]);
    let json = Value::object([
        ("authorized", Value::from(false)),
        ("policy", policy),
        ("policy_kind", policy_kind),
        ("error", error),
    ]);
    (json, Failure::new(code, message))
}

/// `hessra_token_authorize`
#[no_mangle]
pub unsafe extern "C" fn hessra_token_authorize(
    token: *const HessraTokenHandle,
    root_key: *const HessraPublicKeyHandle,
    authorizer_datalog: *const c_char,
    out_result_json: *mut *mut c_char,
    out_error: *mut HessraError,
) -> HessraResult {
    clear_out(out_result_json);
    guard_with_error(out_error, || {
        require_out(out_result_json, "out_result_json")?;
        let token = handle_arg(token, "token")?;
        let key = handle_arg(root_key, "root_key")?;
        let text = str_arg(authorizer_datalog, "authorizer_datalog")?;
        let code = crate::parser::parse_authorizer(text)
            .map_err(|e| Failure::param(format!("authorizer does not parse: {}", e)))?;
        let vt = token.verify(&key.key, None).map_err(token_failure)?;
        let limits = default_run_limits();
        let outcome = datalog::authorize_outcome(&AuthorizeInput {
            blocks: &vt.blocks,
            authorizer: &code,
            limits: &limits,
            externs: None,
        });
        let (json, failure) = authorization_json(&outcome);
        write_out_string(out_result_json, json.to_string())?;
        if failure.code == HESSRA_SUCCESS {
            Ok(())
        } else {
            Err(failure)
        }
    })
}

// ---- inspect ----------------------------------------------------------------

/// The inspection JSON (see the header). Rendering the blocks' code is
/// bounded by the print module's budget and charges a meter with the
/// default time limit and the host's interrupt hook.
pub(crate) fn inspect_json(token: &Token, blocks: &[Block], verified: bool) -> FfiResult<Value> {
    let meter = Meter::new(Some(Instant::now() + default_run_limits().max_time));
    let sources = datalog::print::sources_text(blocks.iter().map(|b| &b.code), &meter)
        .map_err(stop_failure)?;
    let block_values = blocks
        .iter()
        .zip(sources)
        .enumerate()
        .map(|(i, (b, code))| {
            Value::object([
                ("index", Value::from(i)),
                ("code", Value::from(code.text)),
                ("code_bytes", Value::from(code.bytes)),
                ("truncated", Value::from(code.truncated)),
                (
                    "symbols",
                    Value::Array(b.symbols.iter().map(|s| Value::from(s.as_str())).collect()),
                ),
                (
                    "public_keys",
                    Value::Array(
                        b.public_keys
                            .iter()
                            .map(|k| Value::from(k.to_text()))
                            .collect(),
                    ),
                ),
                (
                    "external_key",
                    Value::from(b.external_key.as_ref().map(|k| k.to_text())),
                ),
                ("version", Value::from(b.version)),
                ("context", Value::from(b.context.clone())),
                ("expires_at", Value::from(hessra::block_expiry(b))),
            ])
        });
    let expires_at = hessra::expiry(blocks);
    Ok(Value::object([
        ("verified", Value::from(verified)),
        ("root_key_id", Value::from(token.root_key_id())),
        ("sealed", Value::from(token.is_sealed())),
        (
            "revocation_ids",
            Value::Array(
                token
                    .revocation_ids()
                    .iter()
                    .map(|id| Value::from(hex_encode(id)))
                    .collect(),
            ),
        ),
        ("blocks", Value::Array(block_values.collect())),
        ("rights", verifier::rights_json(&hessra::rights(blocks))),
        ("expires_at", Value::from(expires_at)),
        (
            "expires_at_rfc3339",
            Value::from(expires_at.map(datalog::print::rfc3339)),
        ),
        (
            "service_nodes",
            Value::Array(
                hessra::service_nodes(blocks)
                    .iter()
                    .map(node_json)
                    .collect(),
            ),
        ),
        ("classification", Classification::of(blocks).to_json()),
    ]))
}

/// A meter that stopped outside an authorization: the host's interrupt, or
/// the time limit.
fn stop_failure(stop: Stop) -> Failure {
    match stop {
        Stop::Interrupted => Failure::new(HESSRA_ERROR_INTERRUPTED, "interrupted by the host"),
        Stop::Timeout => Failure::new(HESSRA_ERROR_LIMIT_EXCEEDED, "rendering the token timed out"),
    }
}

/// `hessra_token_inspect`: decodes without a key.
#[no_mangle]
pub unsafe extern "C" fn hessra_token_inspect(
    token: *const HessraTokenHandle,
    out_json: *mut *mut c_char,
) -> HessraResult {
    clear_out(out_json);
    guard(|| {
        require_out(out_json, "out_json")?;
        let token = handle_arg(token, "token")?;
        let blocks = token.token.decode_unverified().map_err(token_failure)?;
        write_out_string(
            out_json,
            inspect_json(&token.token, &blocks, false)?.to_string(),
        )
    })
}

/// `hessra_token_inspect_verified`
#[no_mangle]
pub unsafe extern "C" fn hessra_token_inspect_verified(
    token: *const HessraTokenHandle,
    root_key: *const HessraPublicKeyHandle,
    out_json: *mut *mut c_char,
) -> HessraResult {
    clear_out(out_json);
    guard(|| inspect_verified_body(token, root_key, out_json))
}

/// `hessra_token_inspect_verified_with_error`: as
/// `hessra_token_inspect_verified`, saying in `out_error` why the
/// signatures do not verify (the verifier's reason for status "invalid").
#[no_mangle]
pub unsafe extern "C" fn hessra_token_inspect_verified_with_error(
    token: *const HessraTokenHandle,
    root_key: *const HessraPublicKeyHandle,
    out_json: *mut *mut c_char,
    out_error: *mut HessraError,
) -> HessraResult {
    clear_out(out_json);
    guard_with_error(out_error, || {
        inspect_verified_body(token, root_key, out_json)
    })
}

unsafe fn inspect_verified_body(
    token: *const HessraTokenHandle,
    root_key: *const HessraPublicKeyHandle,
    out_json: *mut *mut c_char,
) -> FfiResult<()> {
    require_out(out_json, "out_json")?;
    let token = handle_arg(token, "token")?;
    let key = handle_arg(root_key, "root_key")?;
    let vt = token.verify(&key.key, None).map_err(token_failure)?;
    write_out_string(
        out_json,
        inspect_json(&token.token, &vt.blocks, true)?.to_string(),
    )
}

/// `hessra_token_to_string`: URL-safe base64 with padding.
#[no_mangle]
pub unsafe extern "C" fn hessra_token_to_string(
    token: *const HessraTokenHandle,
    out_token_string: *mut *mut c_char,
) -> HessraResult {
    clear_out(out_token_string);
    guard(|| {
        require_out(out_token_string, "out_token_string")?;
        let token = handle_arg(token, "token")?;
        write_out_string(out_token_string, base64url_encode(&token.raw))
    })
}

/// `hessra_token_root_key_id`: the root key id, or -1 (also for NULL).
#[no_mangle]
pub unsafe extern "C" fn hessra_token_root_key_id(token: *const HessraTokenHandle) -> i64 {
    let mut id = -1;
    let _ = guard(|| {
        if let Some(r) = handle_arg(token, "token")?.token.root_key_id() {
            id = r as i64;
        }
        Ok(())
    });
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Algorithm, PrivateKey};
    use crate::datalog::ast::BlockCode;
    use crate::datalog::{FailedCheck, MatchedPolicy, RunLimit};
    use crate::format::schema::Biscuit;
    use crate::token::MAX_BLOCKS;
    use std::ffi::CString;

    /// A container whose authority block is repeated to `total` blocks.
    fn container_with_blocks(total: usize) -> Vec<u8> {
        let root = PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let token = Token::mint(&root, &BlockCode::default(), None).unwrap();
        let mut c = Biscuit::decode(&token.to_bytes()).unwrap();
        c.blocks = vec![c.authority.clone(); total - 1];
        c.encode()
    }

    fn parse_text(text: &str) -> HessraResult {
        let text = CString::new(text).unwrap();
        let mut out: *mut HessraTokenHandle = std::ptr::null_mut();
        // SAFETY: text is NUL-terminated and outlives the call; out is a
        // valid out pointer; a returned handle is freed below exactly once.
        unsafe {
            let rc = hessra_token_parse(text.as_ptr(), &mut out);
            hessra_token_free(out);
            rc
        }
    }

    fn parse_bytes(bytes: &[u8]) -> HessraResult {
        let mut out: *mut HessraTokenHandle = std::ptr::null_mut();
        // SAFETY: bytes is a live slice of bytes.len() bytes; out as above.
        unsafe {
            let rc = hessra_token_parse_bytes(bytes.as_ptr(), bytes.len(), &mut out);
            hessra_token_free(out);
            rc
        }
    }

    #[test]
    fn too_many_blocks_is_a_limit() {
        let at_limit = container_with_blocks(MAX_BLOCKS);
        assert_eq!(parse_bytes(&at_limit), HESSRA_SUCCESS);
        assert_eq!(parse_text(&base64url_encode(&at_limit)), HESSRA_SUCCESS);
        for total in [MAX_BLOCKS + 1, 5000] {
            let over = container_with_blocks(total);
            assert_eq!(
                parse_bytes(&over),
                HESSRA_ERROR_LIMIT_EXCEEDED,
                "{} blocks (bytes)",
                total
            );
            assert_eq!(
                parse_text(&base64url_encode(&over)),
                HESSRA_ERROR_LIMIT_EXCEEDED,
                "{} blocks (text)",
                total
            );
        }
    }

    #[test]
    fn authorization_json_says_the_policy_kind() {
        let json = |r: Result<usize, AuthError>| authorization_json(&r).0.to_string();
        assert_eq!(
            json(Ok(1)),
            r#"{"authorized":true,"policy":1,"policy_kind":"allow","error":null}"#
        );
        let failed = vec![FailedCheck::Authorizer {
            check_id: 0,
            rule: "check if a".into(),
        }];
        let allow = json(Err(AuthError::Unauthorized {
            policy: MatchedPolicy::Allow(2),
            checks: failed.clone(),
        }));
        assert!(allow.starts_with(r#"{"authorized":false,"policy":2,"policy_kind":"allow","error":{"kind":"unauthorized""#), "{allow}");
        let deny = json(Err(AuthError::Unauthorized {
            policy: MatchedPolicy::Deny(2),
            checks: vec![],
        }));
        assert!(deny.starts_with(r#"{"authorized":false,"policy":2,"policy_kind":"deny","error":{"kind":"unauthorized""#), "{deny}");
        let none = json(Err(AuthError::NoMatchingPolicy { checks: failed }));
        assert!(none.starts_with(r#"{"authorized":false,"policy":null,"policy_kind":null,"error":{"kind":"no_matching_policy""#), "{none}");
        let limit = json(Err(AuthError::RunLimit(RunLimit::Timeout)));
        assert!(
            limit.contains(r#""policy":null,"policy_kind":null"#),
            "{limit}"
        );
        // a host interrupt is its own kind and result code, not a limit
        let interrupted = Err(AuthError::RunLimit(RunLimit::Interrupted));
        assert!(json(interrupted.clone()).contains(r#""kind":"interrupted""#));
        assert_eq!(
            authorization_json(&interrupted).1.code,
            HESSRA_ERROR_INTERRUPTED
        );
    }

    #[test]
    fn too_large_is_a_limit() {
        let big = vec![0x12u8; MAX_TOKEN_BYTES + 1];
        assert_eq!(parse_bytes(&big), HESSRA_ERROR_LIMIT_EXCEEDED);
        assert_eq!(
            parse_text(&"A".repeat(MAX_TOKEN_TEXT + 1)),
            HESSRA_ERROR_LIMIT_EXCEEDED
        );
        // Just over the byte bound, as text that fits the text bound.
        assert_eq!(
            parse_text(&base64url_encode(&big)),
            HESSRA_ERROR_LIMIT_EXCEEDED
        );
    }
}
