//! Tokens: parse, verify (Hessra rules), authorize (general Datalog),
//! inspect.

use std::ffi::c_char;
use std::sync::{Arc, OnceLock};

use super::keys::HessraPublicKeyHandle;
use super::*;
use crate::cache::{cache_key, CacheKey, TokenCache};
use crate::crypto::sha256;
use crate::config::{node_json, parse_service_chain_json};
use crate::crypto::PublicKey;
use crate::datalog::{
    self, AuthError, AuthorizeInput, Block, FailedCheck, MatchedPolicy, RunLimit, RunLimits,
};
use crate::encoding::{base64url_decode, base64url_encode, hex_encode, EncodingError};
use crate::hessra::{self, HessraFailure, VerifyRequest};
use crate::json::Value;
use crate::token::{Token, TokenError, VerifiedToken};

/// Largest token accepted by the parser (the token module's own bound).
pub const MAX_TOKEN_BYTES: usize = crate::token::MAX_TOKEN_BYTES;
/// Largest token text: base64 of [`MAX_TOKEN_BYTES`] plus room for
/// whitespace and a prefix.
const MAX_TOKEN_TEXT: usize = MAX_TOKEN_BYTES / 3 * 4 + 1024;

/// Behind `HessraToken`: the decoded container and its raw bytes (the cache
/// key is a hash of them).
pub struct HessraTokenHandle {
    pub token: Token,
    pub raw: Vec<u8>,
    /// SHA-256 of `raw`, computed on first use with a cache (a held handle
    /// verified again and again hashes its bytes once).
    digest: OnceLock<[u8; 32]>,
}

impl HessraTokenHandle {
    pub fn new(token: Token, raw: Vec<u8>) -> HessraTokenHandle {
        HessraTokenHandle { token, raw, digest: OnceLock::new() }
    }

    /// The verification cache key for this token under `key`.
    fn cache_key(&self, key: &PublicKey) -> CacheKey {
        let digest = self.digest.get_or_init(|| sha256(&self.raw));
        cache_key(b"token-sha256", digest, Some(key))
    }
}

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
    Failure::new(code, e.to_string())
}

fn token_error_code(e: &TokenError) -> HessraResult {
    use TokenError::*;
    match e {
        // Both container bounds (size and block count) are limits, as the
        // header documents for hessra_token_parse.
        TooLarge { .. } | Format { error: crate::format::FormatError::TooManyBlocks { .. }, .. } => {
            HESSRA_ERROR_LIMIT_EXCEEDED
        }
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

pub(crate) fn hessra_failure(f: HessraFailure) -> Failure {
    let code = match &f {
        HessraFailure::InvalidRequest(_) => HESSRA_ERROR_INVALID_PARAMETER,
        HessraFailure::Expired { .. } => HESSRA_ERROR_EXPIRED,
        HessraFailure::Denied { .. } | HessraFailure::Execution(_) => {
            HESSRA_ERROR_VERIFICATION_FAILED
        }
        HessraFailure::Limit(RunLimit::Interrupted) => HESSRA_ERROR_INTERRUPTED,
        HessraFailure::Limit(_) => HESSRA_ERROR_LIMIT_EXCEEDED,
        HessraFailure::InvalidBlockRule(..) => HESSRA_ERROR_INVALID_TOKEN,
    };
    Failure::new(code, f.to_string())
}

/// Strips whitespace, a `Bearer ` prefix and a `biscuit:` prefix, then
/// decodes base64url (padding optional).
pub(crate) fn decode_token_text(text: &str) -> FfiResult<Vec<u8>> {
    if text.len() > MAX_TOKEN_TEXT {
        return Err(Failure::new(
            HESSRA_ERROR_LIMIT_EXCEEDED,
            format!("token text is larger than {} bytes", MAX_TOKEN_TEXT),
        ));
    }
    let mut t = text.trim();
    if t.len() >= 7 && t.is_char_boundary(7) && t[..7].eq_ignore_ascii_case("bearer ") {
        t = t[7..].trim_start();
    }
    if let Some(rest) = t.strip_prefix("biscuit:") {
        t = rest;
    }
    if t.is_empty() {
        return Err(Failure::new(HESSRA_ERROR_INVALID_TOKEN, "empty token"));
    }
    // Positions in messages count from the start of the text as given.
    let offset = t.as_ptr() as usize - text.as_ptr() as usize;
    base64url_decode(t).map_err(|e| {
        Failure::new(
            HESSRA_ERROR_INVALID_TOKEN,
            format!("token is not valid base64url: {}", base64_problem(&e, offset)),
        )
    })
}

/// Describes a base64 error without quoting the input (beyond the one
/// offending character, which is not part of any token).
fn base64_problem(e: &EncodingError, offset: usize) -> String {
    match e {
        EncodingError::InvalidCharacter { position, found, .. } => {
            let c = if found.is_ascii_graphic() {
                format!("'{}'", found)
            } else {
                format!("U+{:04X}", *found as u32)
            };
            format!("invalid character {} at position {}", c, position + offset)
        }
        EncodingError::InvalidLength { length, .. } => format!(
            "impossible length: {} base64 characters (a length of 4n+1 cannot be decoded; is the token truncated?)",
            length
        ),
        EncodingError::InvalidPadding { position } => {
            format!("misplaced '=' padding at position {}", position + offset)
        }
        EncodingError::NonCanonical { position } => format!(
            "non-canonical encoding: unused bits set in the character at position {} (is the token truncated?)",
            position + offset
        ),
        EncodingError::Pem(_) => "not base64".to_string(),
    }
}

/// Decodes the token container from raw bytes.
pub(crate) fn token_from_bytes(raw: Vec<u8>) -> FfiResult<HessraTokenHandle> {
    if raw.len() > MAX_TOKEN_BYTES {
        return Err(Failure::new(
            HESSRA_ERROR_LIMIT_EXCEEDED,
            format!("token is larger than {} bytes", MAX_TOKEN_BYTES),
        ));
    }
    if raw.is_empty() {
        return Err(Failure::new(HESSRA_ERROR_INVALID_TOKEN, "empty token"));
    }
    let token = Token::from_bytes(&raw).map_err(token_failure)?;
    Ok(HessraTokenHandle::new(token, raw))
}

/// Whether bytes look like base64 text rather than protobuf: printable
/// ASCII and whitespace only. (A Biscuit protobuf starts with 0x08 or 0x12.)
fn looks_like_text(data: &[u8]) -> bool {
    data.iter()
        .all(|&b| (0x20..0x7f).contains(&b) || matches!(b, b'\t' | b'\n' | b'\r'))
}

pub(crate) fn token_from_any_bytes(data: &[u8]) -> FfiResult<HessraTokenHandle> {
    if !data.is_empty() && looks_like_text(data) {
        // Printable ASCII is UTF-8.
        let text =
            std::str::from_utf8(data).map_err(|_| Failure::param("token text is not UTF-8"))?;
        token_from_bytes(decode_token_text(text)?)
    } else {
        token_from_bytes(data.to_vec())
    }
}

/// Checks every signature, through the cache when one is given.
pub(crate) fn verified_token(
    handle: &HessraTokenHandle,
    key: &PublicKey,
    cache: Option<&TokenCache>,
) -> FfiResult<Arc<VerifiedToken>> {
    match cache {
        Some(c) => c
            .get_or_insert_with(handle.cache_key(key), || {
                handle.token.verify(key).map(VerifiedToken::for_cache)
            })
            .map_err(token_failure),
        None => handle
            .token
            .verify(key)
            .map(Arc::new)
            .map_err(token_failure),
    }
}

/// A request read from C, before configuration defaults are applied.
pub(crate) struct RequestIn {
    pub request: VerifyRequest,
    /// Whether `service_chain_json` was given.
    pub has_chain: bool,
}

pub(crate) fn read_request(req: &HessraVerifyRequest) -> FfiResult<RequestIn> {
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
    if req.leeway_seconds < 0 {
        return Err(Failure::param(
            "request.leeway_seconds must not be negative",
        ));
    }
    let service_chain = match chain {
        Some(text) => {
            parse_service_chain_json(text).map_err(|e| Failure::param(format!("request.{}", e)))?
        }
        None => Vec::new(),
    };
    Ok(RequestIn {
        request: VerifyRequest {
            subject: subject.map(String::from),
            resource: resource.to_string(),
            operation: operation.map(String::from),
            domain: domain.map(String::from),
            prefix: prefix.map(String::from),
            now: if req.now == 0 { unix_now() } else { req.now },
            leeway_seconds: req.leeway_seconds,
            service_chain,
            component: component.map(String::from),
        },
        has_chain: chain.is_some(),
    })
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
        let request = VerifyRequest {
            subject: Some(str_arg(subject, "subject")?.to_string()),
            resource: str_arg(resource, "resource")?.to_string(),
            operation: opt_str_arg(operation, "operation")?.map(String::from),
            now: unix_now(),
            ..VerifyRequest::default()
        };
        let vt = verified_token(token, &key.key, None)?;
        hessra::verify(&vt, &request, &default_run_limits()).map_err(hessra_failure)
    })
}

fn token_parse_body(
    token_string: *const c_char,
    out_token: *mut *mut HessraTokenHandle,
) -> FfiResult<()> {
    require_out(out_token, "out_token")?;
    let text = str_arg(token_string, "token_string")?;
    let handle = token_from_bytes(decode_token_text(text)?)?;
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
        let handle = token_from_any_bytes(bytes)?;
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
        let req = read_request(struct_arg(request, "request")?)?;
        // Unknown component: fail before any signature work.
        hessra::required_nodes(&req.request.service_chain, req.request.component.as_deref())
            .map_err(hessra_failure)?;
        let vt = verified_token(token, &key.key, None)?;
        hessra::verify(&vt, &req.request, &default_run_limits()).map_err(hessra_failure)
    })
}

// ---- authorize --------------------------------------------------------------

fn failed_checks_json(checks: &[FailedCheck]) -> Value {
    Value::Array(
        checks
            .iter()
            .map(|c| match c {
                FailedCheck::Block {
                    block_id,
                    check_id,
                    rule,
                } => Value::object([
                    ("block", Value::from(*block_id)),
                    ("check", Value::from(*check_id)),
                    ("rule", Value::from(rule.as_str())),
                ]),
                FailedCheck::Authorizer { check_id, rule } => Value::object([
                    ("block", Value::Null),
                    ("check", Value::from(*check_id)),
                    ("rule", Value::from(rule.as_str())),
                ]),
            })
            .collect(),
    )
}

fn describe_checks(checks: &[FailedCheck]) -> String {
    checks.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// The JSON of `hessra_token_authorize` and the result code that goes with
/// it.
pub(crate) fn authorization_json(result: &Result<usize, AuthError>) -> (Value, Failure) {
    let ok = Failure::new(HESSRA_SUCCESS, "");
    // "policy_kind" says which kind of policy "policy" indexes: an
    // unauthorized result has either an allow policy that matched with failed
    // checks, or a deny policy that matched.
    let (policy, policy_kind, error, failure) = match result {
        Ok(i) => (Value::from(*i), Value::from("allow"), Value::Null, ok),
        Err(e) => {
            let mut policy_kind = Value::Null;
            let (kind, message, checks, policy, code) = match e {
                AuthError::Unauthorized { policy, checks } => {
                    let (idx, what) = match policy {
                        MatchedPolicy::Allow(i) => {
                            policy_kind = Value::from("allow");
                            (*i, format!("allow policy {} matched but checks failed", i))
                        }
                        MatchedPolicy::Deny(i) => {
                            policy_kind = Value::from("deny");
                            (*i, format!("deny policy {} matched", i))
                        }
                    };
                    let mut m = what;
                    if !checks.is_empty() {
                        m = format!("{}: {}", m, describe_checks(checks));
                    }
                    (
                        "unauthorized",
                        m,
                        checks.as_slice(),
                        Value::from(idx),
                        HESSRA_ERROR_VERIFICATION_FAILED,
                    )
                }
                AuthError::NoMatchingPolicy { checks } => {
                    let mut m = "no policy matched".to_string();
                    if !checks.is_empty() {
                        m = format!("{}: {}", m, describe_checks(checks));
                    }
                    (
                        "no_matching_policy",
                        m,
                        checks.as_slice(),
                        Value::Null,
                        HESSRA_ERROR_VERIFICATION_FAILED,
                    )
                }
                AuthError::RunLimit(RunLimit::Interrupted) => (
                    "interrupted",
                    "Datalog evaluation interrupted by the host".to_string(),
                    &[][..],
                    Value::Null,
                    HESSRA_ERROR_INTERRUPTED,
                ),
                AuthError::RunLimit(l) => {
                    let m = match l {
                        RunLimit::TooManyFacts => "Datalog limit exceeded: too many facts",
                        RunLimit::TooManyIterations => {
                            "Datalog limit exceeded: too many iterations"
                        }
                        RunLimit::Timeout | RunLimit::Interrupted => {
                            "Datalog limit exceeded: time limit"
                        }
                    };
                    (
                        "run_limit",
                        m.to_string(),
                        &[][..],
                        Value::Null,
                        HESSRA_ERROR_LIMIT_EXCEEDED,
                    )
                }
                AuthError::Execution(x) => (
                    "execution",
                    format!("expression error: {:?}", x),
                    &[][..],
                    Value::Null,
                    HESSRA_ERROR_VERIFICATION_FAILED,
                ),
                AuthError::InvalidBlockRule(b, r) => (
                    "invalid_block_rule",
                    format!("invalid rule in block {}: {}", b, r),
                    &[][..],
                    Value::Null,
                    HESSRA_ERROR_VERIFICATION_FAILED,
                ),
            };
            let error = Value::object([
                ("kind", Value::from(kind)),
                ("message", Value::from(message.as_str())),
                ("failed_checks", failed_checks_json(checks)),
            ]);
            (policy, policy_kind, error, Failure::new(code, message))
        }
    };
    let json = Value::object([
        ("authorized", Value::from(result.is_ok())),
        ("policy", policy),
        ("policy_kind", policy_kind),
        ("error", error),
    ]);
    (json, failure)
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
        let vt = verified_token(token, &key.key, None)?;
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

/// The inspection JSON (see the header).
pub(crate) fn inspect_json(token: &Token, blocks: &[Block], verified: bool) -> Value {
    let block_values = blocks.iter().enumerate().map(|(i, b)| {
        Value::object([
            ("index", Value::from(i)),
            ("code", Value::from(datalog::print::block_source(&b.code))),
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
        ])
    });
    let rights = hessra::rights(blocks).into_iter().map(|r| {
        Value::object([
            ("subject", Value::from(r.subject)),
            ("resource", Value::from(r.resource)),
            ("operation", Value::from(r.operation)),
        ])
    });
    let expires_at = hessra::expiry(blocks);
    Value::object([
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
        ("rights", Value::Array(rights.collect())),
        ("expires_at", Value::from(expires_at)),
        (
            "expires_at_rfc3339",
            Value::from(expires_at.map(hessra::rfc3339)),
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
    ])
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
            inspect_json(&token.token, &blocks, false).to_string(),
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
    guard(|| {
        require_out(out_json, "out_json")?;
        let token = handle_arg(token, "token")?;
        let key = handle_arg(root_key, "root_key")?;
        let vt = verified_token(token, &key.key, None)?;
        write_out_string(
            out_json,
            inspect_json(&token.token, &vt.blocks, true).to_string(),
        )
    })
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
            assert_eq!(parse_bytes(&over), HESSRA_ERROR_LIMIT_EXCEEDED, "{} blocks (bytes)", total);
            assert_eq!(parse_text(&base64url_encode(&over)), HESSRA_ERROR_LIMIT_EXCEEDED, "{} blocks (text)", total);
        }
    }

    #[test]
    fn authorization_json_says_the_policy_kind() {
        let json = |r: Result<usize, AuthError>| authorization_json(&r).0.to_string();
        assert_eq!(
            json(Ok(1)),
            r#"{"authorized":true,"policy":1,"policy_kind":"allow","error":null}"#
        );
        let failed = vec![FailedCheck::Authorizer { check_id: 0, rule: "check if a".into() }];
        let allow = json(Err(AuthError::Unauthorized { policy: MatchedPolicy::Allow(2), checks: failed.clone() }));
        assert!(allow.starts_with(r#"{"authorized":false,"policy":2,"policy_kind":"allow","error":{"kind":"unauthorized""#), "{allow}");
        let deny = json(Err(AuthError::Unauthorized { policy: MatchedPolicy::Deny(2), checks: vec![] }));
        assert!(deny.starts_with(r#"{"authorized":false,"policy":2,"policy_kind":"deny","error":{"kind":"unauthorized""#), "{deny}");
        let none = json(Err(AuthError::NoMatchingPolicy { checks: failed }));
        assert!(none.starts_with(r#"{"authorized":false,"policy":null,"policy_kind":null,"error":{"kind":"no_matching_policy""#), "{none}");
        let limit = json(Err(AuthError::RunLimit(RunLimit::Timeout)));
        assert!(limit.contains(r#""policy":null,"policy_kind":null"#), "{limit}");
        // a host interrupt is its own kind and result code, not a limit
        let interrupted = Err(AuthError::RunLimit(RunLimit::Interrupted));
        assert!(json(interrupted.clone()).contains(r#""kind":"interrupted""#));
        assert_eq!(authorization_json(&interrupted).1.code, HESSRA_ERROR_INTERRUPTED);
    }

    #[test]
    fn too_large_is_a_limit() {
        let big = vec![0x12u8; MAX_TOKEN_BYTES + 1];
        assert_eq!(parse_bytes(&big), HESSRA_ERROR_LIMIT_EXCEEDED);
        assert_eq!(parse_text(&"A".repeat(MAX_TOKEN_TEXT + 1)), HESSRA_ERROR_LIMIT_EXCEEDED);
        // Just over the byte bound, as text that fits the text bound.
        assert_eq!(parse_text(&base64url_encode(&big)), HESSRA_ERROR_LIMIT_EXCEEDED);
    }
}
