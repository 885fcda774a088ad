//! The token dev kit: mint, attenuate, third-party blocks, attest, seal.

use std::collections::BTreeMap;
use std::ffi::c_char;

use super::keys::{HessraKeyPairHandle, HessraPublicKeyHandle};
use super::token::{token_failure, HessraTokenHandle};
use super::*;
use crate::config::parse_service_chain_json;
use crate::crypto::PublicKey;
use crate::datalog::{BlockCode, Term};
use crate::encoding::{base64url_decode, base64url_encode, hex_decode};
use crate::hessra::{self, MintRequest};
use crate::json::Value;
use crate::restrictions::{self, Restrictions, SignerRefused};
use crate::token::{create_third_party_block, Token, TokenError};

/// `HessraMintRequest`.
#[repr(C)]
pub struct HessraMintRequest {
    pub subject: *const c_char,
    pub resource: *const c_char,
    pub operation: *const c_char,
    pub expires_at: i64,
    pub domain: *const c_char,
    pub service_nodes_json: *const c_char,
    pub root_key_id: i64,
    pub operations_json: *const c_char,
}

/// The operations a mint request grants: `operation`, or the JSON array of
/// strings `operations_json` (not both, and not none).
fn mint_operations(req: &HessraMintRequest) -> FfiResult<Vec<String>> {
    let single = opt_str_arg(req.operation, "request.operation")?;
    let list = opt_str_arg(req.operations_json, "request.operations_json")?;
    match (single, list) {
        (Some(op), None) => Ok(vec![op.to_string()]),
        (None, Some(text)) => {
            let bad = |what: String| Failure::param(format!("request.operations_json: {}", what));
            let v = Value::parse(text).map_err(|e| bad(format!("invalid JSON: {}", e)))?;
            let Value::Array(items) = v else {
                return Err(bad(format!("expected an array, found {}", v.type_name())));
            };
            if items.is_empty() {
                return Err(bad("must name at least one operation".into()));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(op) => Ok(op.clone()),
                    other => Err(bad(format!(
                        "[{}]: expected a string, found {}",
                        i,
                        other.type_name()
                    ))),
                })
                .collect()
        }
        (Some(_), Some(_)) => Err(Failure::param(
            "request: give operation or operations_json, not both",
        )),
        (None, None) => Err(Failure::param(
            "request.operation: required (or request.operations_json)",
        )),
    }
}

/// Converts `params_json` (a JSON object) to Datalog parameters: strings,
/// integers, booleans, null, `{"$bytes":"hex"}` and `{"$date":unix|"RFC 3339"}`.
pub(crate) fn parse_params(text: &str) -> FfiResult<BTreeMap<String, Term>> {
    let v = Value::parse(text)
        .map_err(|e| Failure::param(format!("params_json: invalid JSON: {}", e)))?;
    let obj = v.as_object().ok_or_else(|| {
        Failure::param(format!(
            "params_json: expected an object, found {}",
            v.type_name()
        ))
    })?;
    let mut params = BTreeMap::new();
    for (name, value) in obj {
        let bad = |what: &str| Failure::param(format!("params_json.{}: {}", name, what));
        let term = match value {
            Value::Null => Term::Null,
            Value::Bool(b) => Term::Bool(*b),
            Value::String(s) => Term::Str(s.clone()),
            Value::Number(_) => Term::Integer(
                value
                    .as_i64()
                    .ok_or_else(|| bad("expected a 64-bit integer"))?,
            ),
            Value::Object(members) => match members.as_slice() {
                [(k, Value::String(hex))] if k == "$bytes" => {
                    Term::Bytes(hex_decode(hex).map_err(|_| bad("$bytes is not hex"))?)
                }
                [(k, d)] if k == "$date" => {
                    let secs = match d {
                        Value::String(s) => crate::parser::parse_rfc3339(s),
                        other => other.as_u64(),
                    };
                    Term::Date(
                        secs.ok_or_else(|| bad("$date is not unix seconds or an RFC 3339 date"))?,
                    )
                }
                _ => {
                    return Err(bad(
                        "objects must be {\"$bytes\":\"hex\"} or {\"$date\":..}",
                    ))
                }
            },
            Value::Array(_) => return Err(bad("arrays are not supported")),
        };
        params.insert(name.clone(), term);
    }
    Ok(params)
}

/// Parses block Datalog, with parameters when `params_json` is given.
pub(crate) fn parse_block_arg(datalog: &str, params_json: Option<&str>) -> FfiResult<BlockCode> {
    let parsed = match params_json {
        None => crate::parser::parse_block(datalog),
        Some(p) => crate::parser::parse_block_with_params(datalog, &parse_params(p)?),
    };
    parsed.map_err(|e| Failure::param(format!("Datalog does not parse: {}", e)))
}

/// A root key id argument: negative for none, else at most `u32::MAX`.
pub(crate) fn root_key_id_arg(id: i64, name: &str) -> FfiResult<Option<u32>> {
    if id < 0 {
        Ok(None)
    } else {
        u32::try_from(id)
            .map(Some)
            .map_err(|_| Failure::param(format!("{} must be at most 4294967295", name)))
    }
}

/// `hessra_token_mint`
#[no_mangle]
pub unsafe extern "C" fn hessra_token_mint(
    root_keypair: *const HessraKeyPairHandle,
    authority_datalog: *const c_char,
    params_json: *const c_char,
    root_key_id: i64,
    out_token: *mut *mut c_char,
    out_error: *mut HessraError,
) -> HessraResult {
    token_result(out_token, out_error, || {
        let kp = handle_arg(root_keypair, "root_keypair")?;
        let text = str_arg(authority_datalog, "authority_datalog")?;
        let params = opt_str_arg(params_json, "params_json")?;
        let root_key_id = root_key_id_arg(root_key_id, "root_key_id")?;
        let code = parse_block_arg(text, params)?;
        Token::mint(&kp.key, &code, root_key_id).map_err(token_failure)
    })
}

/// The authority block of a `HessraMintRequest`, and its root key id.
fn mint_request_arg(req: &HessraMintRequest) -> FfiResult<(BlockCode, Option<u32>)> {
    let nodes = match opt_str_arg(req.service_nodes_json, "request.service_nodes_json")? {
        Some(t) => {
            parse_service_chain_json(t).map_err(|e| Failure::param(format!("request.{}", e)))?
        }
        None => Vec::new(),
    };
    if req.expires_at < 0 {
        return Err(Failure::param("request.expires_at must not be negative"));
    }
    let mint = MintRequest {
        subject: str_arg(req.subject, "request.subject")?.to_string(),
        resource: str_arg(req.resource, "request.resource")?.to_string(),
        operations: mint_operations(req)?,
        expires_at: if req.expires_at == 0 {
            None
        } else {
            Some(req.expires_at)
        },
        domain: opt_str_arg(req.domain, "request.domain")?.map(String::from),
        service_nodes: nodes,
    };
    Ok((
        hessra::authority_block(&mint),
        root_key_id_arg(req.root_key_id, "request.root_key_id")?,
    ))
}

/// `hessra_token_mint_hessra`
#[no_mangle]
pub unsafe extern "C" fn hessra_token_mint_hessra(
    root_keypair: *const HessraKeyPairHandle,
    request: *const HessraMintRequest,
    out_token: *mut *mut c_char,
    out_error: *mut HessraError,
) -> HessraResult {
    token_result(out_token, out_error, || {
        let kp = handle_arg(root_keypair, "root_keypair")?;
        let (code, root_key_id) = mint_request_arg(struct_arg(request, "request")?)?;
        Token::mint(&kp.key, &code, root_key_id).map_err(token_failure)
    })
}

// ---- multi-party and prefix restrictions (crate::restrictions) --------------

/// `hessra_token_mint_hessra_restricted`: the Hessra shape plus the
/// multi-party and prefix checks of `restrictions_json`.
#[no_mangle]
pub unsafe extern "C" fn hessra_token_mint_hessra_restricted(
    root_keypair: *const HessraKeyPairHandle,
    request: *const HessraMintRequest,
    restrictions_json: *const c_char,
    out_token: *mut *mut c_char,
    out_error: *mut HessraError,
) -> HessraResult {
    token_result(out_token, out_error, || {
        let kp = handle_arg(root_keypair, "root_keypair")?;
        let (mut code, root_key_id) = mint_request_arg(struct_arg(request, "request")?)?;
        let restrictions =
            Restrictions::from_json(str_arg(restrictions_json, "restrictions_json")?)
                .map_err(|e| Failure::param(format!("restrictions_json: {}", e)))?;
        restrictions.apply(&mut code);
        Token::mint(&kp.key, &code, root_key_id).map_err(token_failure)
    })
}

/// Verifies the token with `root`, then appends `code` as a third-party
/// block signed by `signer`, refused unless `allowed` (the token's
/// restrictions, the signer's public key) accepts the signer.
fn append_restriction_block(
    token: &HessraTokenHandle,
    root: &HessraPublicKeyHandle,
    signer: &HessraKeyPairHandle,
    code: &BlockCode,
    allowed: impl FnOnce(&Restrictions, &PublicKey) -> Result<(), SignerRefused>,
) -> FfiResult<Token> {
    let verified = token.token.verify(&root.key).map_err(token_failure)?;
    allowed(&Restrictions::of(&verified.blocks), &signer.key.public())
        .map_err(|e| Failure::param(e.to_string()))?;
    append_signed_block(token, root, signer, code)
}

/// Appends `code` as a third-party block signed by `signer`.
fn append_signed_block(
    token: &HessraTokenHandle,
    root: &HessraPublicKeyHandle,
    signer: &HessraKeyPairHandle,
    code: &BlockCode,
) -> FfiResult<Token> {
    let request = token.token.third_party_request().map_err(token_failure)?;
    let contents = create_third_party_block(&request, &signer.key, code).map_err(token_failure)?;
    token
        .token
        .append_third_party(&root.key, &contents)
        .map_err(token_failure)
}

/// `hessra_token_attest_namespace`: a party's attestation `namespace(NS)`.
#[no_mangle]
pub unsafe extern "C" fn hessra_token_attest_namespace(
    token: *const HessraTokenHandle,
    root_key: *const HessraPublicKeyHandle,
    party_keypair: *const HessraKeyPairHandle,
    namespace: *const c_char,
    out_token: *mut *mut c_char,
    out_error: *mut HessraError,
) -> HessraResult {
    token_result(out_token, out_error, || {
        let token = handle_arg(token, "token")?;
        let root = handle_arg(root_key, "root_key")?;
        let kp = handle_arg(party_keypair, "party_keypair")?;
        let ns = str_arg(namespace, "namespace")?;
        append_restriction_block(
            token,
            root,
            kp,
            &restrictions::namespace_block(ns),
            |r, key| r.check_attester(ns, key),
        )
    })
}

/// `hessra_token_restrict_prefix`: the prefix attenuator's block
/// `check if prefix(P); prefix_added(true);`.
#[no_mangle]
pub unsafe extern "C" fn hessra_token_restrict_prefix(
    token: *const HessraTokenHandle,
    root_key: *const HessraPublicKeyHandle,
    prefix_keypair: *const HessraKeyPairHandle,
    prefix: *const c_char,
    out_token: *mut *mut c_char,
    out_error: *mut HessraError,
) -> HessraResult {
    token_result(out_token, out_error, || {
        let token = handle_arg(token, "token")?;
        let root = handle_arg(root_key, "root_key")?;
        let kp = handle_arg(prefix_keypair, "prefix_keypair")?;
        let prefix = str_arg(prefix, "prefix")?;
        append_restriction_block(
            token,
            root,
            kp,
            &restrictions::prefix_block(prefix),
            Restrictions::check_prefix_signer,
        )
    })
}

/// `hessra_token_attenuate`
#[no_mangle]
pub unsafe extern "C" fn hessra_token_attenuate(
    token: *const HessraTokenHandle,
    root_key: *const HessraPublicKeyHandle,
    block_datalog: *const c_char,
    params_json: *const c_char,
    out_token: *mut *mut c_char,
    out_error: *mut HessraError,
) -> HessraResult {
    token_result(out_token, out_error, || {
        let token = handle_arg(token, "token")?;
        let root = handle_arg(root_key, "root_key")?;
        let text = str_arg(block_datalog, "block_datalog")?;
        let params = opt_str_arg(params_json, "params_json")?;
        let code = parse_block_arg(text, params)?;
        token.token.append(&root.key, &code).map_err(token_failure)
    })
}

/// `hessra_token_third_party_request`
#[no_mangle]
pub unsafe extern "C" fn hessra_token_third_party_request(
    token: *const HessraTokenHandle,
    out_request: *mut *mut c_char,
) -> HessraResult {
    clear_out(out_request);
    guard(|| {
        require_out(out_request, "out_request")?;
        let token = handle_arg(token, "token")?;
        let request = token.token.third_party_request().map_err(token_failure)?;
        write_out_string(out_request, base64url_encode(&request))
    })
}

/// Errors about third-party block contents (the token itself has been
/// verified): malformed contents or a bad external signature.
fn contents_failure(e: TokenError) -> Failure {
    match e {
        TokenError::Format { .. } | TokenError::Encoding(_) | TokenError::ThirdParty(_) => {
            Failure::param(format!("block: {}", e))
        }
        TokenError::SignatureFormat { .. } | TokenError::InvalidSignature { .. } => {
            Failure::new(HESSRA_ERROR_VERIFICATION_FAILED, format!("block: {}", e))
        }
        other => token_failure(other),
    }
}

fn decode_b64_arg(text: &str, name: &str) -> FfiResult<Vec<u8>> {
    base64url_decode(text.trim())
        .map_err(|_| Failure::param(format!("{} is not valid base64url", name)))
}

/// `hessra_third_party_block_create`
#[no_mangle]
pub unsafe extern "C" fn hessra_third_party_block_create(
    request: *const c_char,
    node_keypair: *const HessraKeyPairHandle,
    block_datalog: *const c_char,
    params_json: *const c_char,
    out_block: *mut *mut c_char,
    out_error: *mut HessraError,
) -> HessraResult {
    clear_out(out_block);
    guard_with_error(out_error, || {
        require_out(out_block, "out_block")?;
        let request = decode_b64_arg(str_arg(request, "request")?, "request")?;
        let kp = handle_arg(node_keypair, "node_keypair")?;
        let text = str_arg(block_datalog, "block_datalog")?;
        let params = opt_str_arg(params_json, "params_json")?;
        let code = parse_block_arg(text, params)?;
        let contents = create_third_party_block(&request, &kp.key, &code).map_err(token_failure)?;
        write_out_string(out_block, base64url_encode(&contents))
    })
}

/// `hessra_token_append_third_party`
#[no_mangle]
pub unsafe extern "C" fn hessra_token_append_third_party(
    token: *const HessraTokenHandle,
    root_key: *const HessraPublicKeyHandle,
    block: *const c_char,
    out_token: *mut *mut c_char,
    out_error: *mut HessraError,
) -> HessraResult {
    token_result(out_token, out_error, || {
        let token = handle_arg(token, "token")?;
        let root = handle_arg(root_key, "root_key")?;
        let contents = decode_b64_arg(str_arg(block, "block")?, "block")?;
        // Verify first, so that what append_third_party reports next is
        // about the block contents, not the token.
        token.token.verify(&root.key).map_err(token_failure)?;
        token
            .token
            .append_third_party(&root.key, &contents)
            .map_err(contents_failure)
    })
}

/// `hessra_token_attest`
#[no_mangle]
pub unsafe extern "C" fn hessra_token_attest(
    token: *const HessraTokenHandle,
    root_key: *const HessraPublicKeyHandle,
    node_keypair: *const HessraKeyPairHandle,
    resource: *const c_char,
    out_token: *mut *mut c_char,
    out_error: *mut HessraError,
) -> HessraResult {
    token_result(out_token, out_error, || {
        let token = handle_arg(token, "token")?;
        let root = handle_arg(root_key, "root_key")?;
        let kp = handle_arg(node_keypair, "node_keypair")?;
        let resource = match opt_str_arg(resource, "resource")? {
            Some(r) => r.to_string(),
            None => {
                let vt = token.token.verify(&root.key).map_err(token_failure)?;
                hessra::rights(&vt.blocks)
                    .into_iter()
                    .next()
                    .map(|r| r.resource)
                    .ok_or_else(|| {
                        Failure::param("resource is NULL and the token grants no right")
                    })?
            }
        };
        append_signed_block(token, root, kp, &hessra::attestation_block(&resource))
    })
}

/// `hessra_token_seal`
#[no_mangle]
pub unsafe extern "C" fn hessra_token_seal(
    token: *const HessraTokenHandle,
    root_key: *const HessraPublicKeyHandle,
    out_token: *mut *mut c_char,
    out_error: *mut HessraError,
) -> HessraResult {
    token_result(out_token, out_error, || {
        let token = handle_arg(token, "token")?;
        let root = handle_arg(root_key, "root_key")?;
        token.token.seal(&root.key).map_err(token_failure)
    })
}
