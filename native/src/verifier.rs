//! The verifier: "verify this token for this request, with this
//! configuration" from end to end, answered with one [`Outcome`].
//!
//! Every front end (the C ABI and through it the CLI, the Node library and
//! the PostgreSQL extension) asks this module and nothing else, so these
//! rules exist once:
//! - token text normalisation ([`normalize_token_text`]: whitespace, a
//!   `Bearer ` prefix, a `biscuit:` prefix, base64url with optional padding);
//! - key selection ([`KeyChoice`]): a given key, a configured key by id, or
//!   the configured key for the token's root key id, else the default key;
//! - request defaults ([`Request`]): an explicit leeway always wins, and only
//!   a leeway that was not given (`None`, distinct from `Some(0)`) takes the
//!   configuration's; the configuration's domain when none is given; its
//!   service chain for the resource when none is given;
//! - classification into a [`Status`] and the one rendering of failures
//!   (the `Display` impls below, and [`Outcome::reason`]).

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crate::cache::{cache_key, CacheKey, CheckedToken, TokenCache};
use crate::classify::TokenKind;
use crate::config::{node_json, Config, KeyEntry, ServiceNode};
use crate::crypto::{sha256, PublicKey};
use crate::datalog::{AuthError, FailedCheck, MatchedPolicy, RunLimit, RunLimits};
use crate::encoding::{base64url_decode, hex_encode, EncodingError};
use crate::format::FormatError;
use crate::hessra::{self, HessraFailure, Right, VerifyRequest};
use crate::identity::{self, Actor, IdentityShape, IdentityVerifyRequest};
use crate::json::Value;
use crate::token::{Token, TokenError, MAX_TOKEN_BYTES};
use crate::trust::RevocationLookup;

/// Largest token text: base64 of [`MAX_TOKEN_BYTES`] plus room for
/// whitespace and a prefix.
pub const MAX_TOKEN_TEXT: usize = MAX_TOKEN_BYTES / 3 * 4 + 1024;

// ---- token input ------------------------------------------------------------

/// Why token input is not a token container.
#[derive(Clone, Debug, PartialEq)]
pub enum TokenInputError {
    /// Longer than the text or byte bound (`what` says which).
    TooLarge {
        what: &'static str,
        max: usize,
    },
    Empty,
    /// Not base64url; the message never quotes the input.
    Base64(String),
    /// Decoded, but not a valid container.
    Token(TokenError),
}

impl fmt::Display for TokenInputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenInputError::TooLarge { what, max } => {
                write!(f, "{} is larger than {} bytes", what, max)
            }
            TokenInputError::Empty => write!(f, "empty token"),
            TokenInputError::Base64(m) => write!(f, "token is not valid base64url: {}", m),
            TokenInputError::Token(e) => write!(f, "{}", e),
        }
    }
}

/// A decoded token container and its raw bytes (the cache key is a hash of
/// them). Signatures are not checked yet.
pub struct ParsedToken {
    pub token: Token,
    pub raw: Vec<u8>,
    /// SHA-256 of `raw`, computed on first use with a cache (a token
    /// verified again and again hashes its bytes once).
    digest: OnceLock<[u8; 32]>,
}

impl ParsedToken {
    /// Decodes raw container bytes.
    pub fn from_bytes(raw: Vec<u8>) -> Result<ParsedToken, TokenInputError> {
        if raw.len() > MAX_TOKEN_BYTES {
            return Err(TokenInputError::TooLarge {
                what: "token",
                max: MAX_TOKEN_BYTES,
            });
        }
        if raw.is_empty() {
            return Err(TokenInputError::Empty);
        }
        let token = Token::from_bytes(&raw).map_err(TokenInputError::Token)?;
        Ok(ParsedToken {
            token,
            raw,
            digest: OnceLock::new(),
        })
    }

    /// Decodes token text (see [`normalize_token_text`]).
    pub fn from_text(text: &str) -> Result<ParsedToken, TokenInputError> {
        ParsedToken::from_bytes(normalize_token_text(text)?)
    }

    /// Decodes bytes that are either token text or a raw container: text
    /// when they are printable ASCII and whitespace only (a container starts
    /// with 0x08 or 0x12).
    pub fn from_any(data: &[u8]) -> Result<ParsedToken, TokenInputError> {
        let looks_like_text = data
            .iter()
            .all(|&b| (0x20..0x7f).contains(&b) || matches!(b, b'\t' | b'\n' | b'\r'));
        if data.is_empty() || !looks_like_text {
            return ParsedToken::from_bytes(data.to_vec());
        }
        match std::str::from_utf8(data) {
            Ok(text) => ParsedToken::from_text(text),
            Err(_) => ParsedToken::from_bytes(data.to_vec()),
        }
    }

    /// The verification cache key for this token under `key`.
    fn cache_key(&self, key: &PublicKey) -> CacheKey {
        let digest = self.digest.get_or_init(|| sha256(&self.raw));
        cache_key(b"token-sha256", digest, Some(key))
    }

    /// Checks every signature with `key`, through the cache when one is
    /// given.
    pub fn verify(
        &self,
        key: &PublicKey,
        cache: Option<&TokenCache>,
    ) -> Result<Arc<CheckedToken>, TokenError> {
        match cache {
            Some(c) => c.get_or_insert_with(self.cache_key(key), || {
                self.token
                    .verify(key)
                    .map(|v| CheckedToken::new(v.for_cache()))
            }),
            None => self
                .token
                .verify(key)
                .map(|v| Arc::new(CheckedToken::new(v))),
        }
    }
}

/// The one normalisation of token text: surrounding and embedded ASCII
/// whitespace (tokens get wrapped in terminals and YAML), a `Bearer `
/// prefix (any case), a `biscuit:` prefix; then base64url (or the standard
/// alphabet), padding optional. Error positions count in the text as given.
pub fn normalize_token_text(text: &str) -> Result<Vec<u8>, TokenInputError> {
    if text.len() > MAX_TOKEN_TEXT {
        return Err(TokenInputError::TooLarge {
            what: "token text",
            max: MAX_TOKEN_TEXT,
        });
    }
    let mut t = text.trim_start();
    if t.len() >= 7 && t.is_char_boundary(7) && t[..7].eq_ignore_ascii_case("bearer ") {
        t = t[7..].trim_start();
    }
    if let Some(rest) = t.strip_prefix("biscuit:") {
        t = rest;
    }
    let start = t.as_ptr() as usize - text.as_ptr() as usize;
    // The compact text and, for messages, where each byte was in `text`.
    let mut compact = String::with_capacity(t.len());
    let mut positions = Vec::new();
    for (i, c) in t.char_indices() {
        if !c.is_ascii_whitespace() {
            compact.push(c);
            positions.push(start + i);
        }
    }
    if compact.is_empty() {
        return Err(TokenInputError::Empty);
    }
    base64url_decode(&compact).map_err(|e| TokenInputError::Base64(base64_problem(&e, &positions)))
}

/// Describes a base64 error without quoting the input (beyond the one
/// offending character, which is not part of any token).
fn base64_problem(e: &EncodingError, positions: &[usize]) -> String {
    let at = |p: usize| positions.get(p).copied().unwrap_or(p);
    match e {
        EncodingError::InvalidCharacter { position, found, .. } => {
            let c = if found.is_ascii_graphic() {
                format!("'{}'", found)
            } else {
                format!("U+{:04X}", *found as u32)
            };
            format!("invalid character {} at position {}", c, at(*position))
        }
        EncodingError::InvalidLength { length, .. } => format!(
            "impossible length: {} base64 characters (a length of 4n+1 cannot be decoded; is the token truncated?)",
            length
        ),
        EncodingError::InvalidPadding { position } => {
            format!("misplaced '=' padding at position {}", at(*position))
        }
        EncodingError::NonCanonical { position } => format!(
            "non-canonical encoding: unused bits set in the character at position {} (is the token truncated?)",
            at(*position)
        ),
        EncodingError::Pem(_) => "not base64".to_string(),
    }
}

// ---- the request --------------------------------------------------------------

/// Which key verifies the signatures.
#[derive(Clone, Copy, Debug)]
pub enum KeyChoice<'a> {
    /// This key (the caller's `--key`).
    Given(&'a PublicKey),
    /// The configured key with this id.
    Id(&'a str),
    /// The configured key for the token's root key id, else the default key.
    Configured,
}

/// Where the key that was used came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    Given,
    KeyId,
    RootKeyId,
    DefaultKey,
}

impl KeyOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyOrigin::Given => "given",
            KeyOrigin::KeyId => "key_id",
            KeyOrigin::RootKeyId => "root_key_id",
            KeyOrigin::DefaultKey => "default_key",
        }
    }
}

/// The key that was used: its configuration id (`None` for a given key) and
/// how it was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyUsed {
    pub id: Option<String>,
    pub origin: KeyOrigin,
}

/// What to verify a token for, before the configuration's defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// `None`: capability mode.
    pub subject: Option<String>,
    pub resource: String,
    /// `None`: any operation the token grants on the resource.
    pub operation: Option<String>,
    /// `None`: the configuration's domain.
    pub domain: Option<String>,
    pub prefix: Option<String>,
    /// Unix seconds.
    pub now: i64,
    /// `None`: the configuration's leeway (0 without one). `Some(0)` is an
    /// explicit "no leeway" and wins over the configuration.
    pub leeway_seconds: Option<i64>,
    /// `None`: the configuration's chain for the resource (none without one).
    pub service_chain: Option<Vec<ServiceNode>>,
    pub component: Option<String>,
}

// ---- identity tokens: the request ---------------------------------------------

/// Who an identity token must prove to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdentityActor {
    /// This identity (`actor(IDENTITY)`).
    Given(String),
    /// Bearer mode: whoever the token's subject is (`actor($a) <- subject($a)`,
    /// Hessra's rule: a delegated token does not verify this way).
    Bearer,
    /// The identity the token is delegated to: its narrowest delegated
    /// identity, else its subject ("who does this token prove I am?").
    Delegated,
}

/// What to verify an identity token for, before the configuration's
/// defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityRequest {
    pub actor: IdentityActor,
    /// `None`: the configuration's domain.
    pub domain: Option<String>,
    /// The token's subject must belong to the domain.
    pub subject_in_domain: bool,
    /// Unix seconds.
    pub now: i64,
    /// As [`Request::leeway_seconds`].
    pub leeway_seconds: Option<i64>,
}

/// Problems that are not about the token: the caller's configuration or
/// request cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifierError {
    /// No key to verify with (no configuration, no key, no default).
    NoKey { has_keys: bool },
    /// `KeyChoice::Id` names no configured key.
    UnknownKeyId { id: String, known: Vec<String> },
    /// The request is unusable (e.g. an unknown component).
    InvalidRequest(String),
    /// The host's revocation list could not be consulted
    /// ([`RevocationLookup`]): whether the token is revoked is unknown.
    RevocationLookup(String),
}

impl fmt::Display for VerifierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifierError::NoKey { has_keys: false } => {
                write!(
                    f,
                    "no public key to verify with: the configuration has no key"
                )
            }
            VerifierError::NoKey { has_keys: true } => write!(
                f,
                "the configuration has no default key and no key for the token's root key id"
            ),
            VerifierError::UnknownKeyId { id, known } if known.is_empty() => {
                write!(f, "no key {:?} in the configuration (it has no keys)", id)
            }
            VerifierError::UnknownKeyId { id, known } => write!(
                f,
                "no key {:?} in the configuration (keys: {})",
                id,
                known.join(", ")
            ),
            VerifierError::InvalidRequest(m) => write!(f, "invalid request: {}", m),
            VerifierError::RevocationLookup(m) => {
                write!(f, "the revocation list could not be consulted: {}", m)
            }
        }
    }
}

impl std::error::Error for VerifierError {}

// ---- the outcome --------------------------------------------------------------

/// The verdict. New statuses (`revoked`) are added as variants; callers
/// match with a fallback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    Valid,
    /// A check or policy said no, or a limit was hit.
    Denied,
    /// Only time bounds failed.
    Expired,
    /// A signature does not verify with the key (forged, or the wrong key).
    Invalid,
    /// Not a token: it does not decode.
    Malformed,
    /// Authentic, but a block's revocation id is listed in the
    /// configuration (`revoked_ids`, `revocation_file`).
    Revoked,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Denied => "denied",
            Status::Expired => "expired",
            Status::Invalid => "invalid",
            Status::Malformed => "malformed",
            Status::Revoked => "revoked",
        }
    }
}

/// Why a token is not valid.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// The token does not decode.
    Malformed(TokenInputError),
    /// Larger than the configuration's `limits.max_token_bytes`.
    TooLarge { max: u64 },
    /// A signature does not verify (or cannot be read) with the key.
    Signature(TokenError),
    /// The Hessra rules said no.
    Rules(HessraFailure),
    /// The revocation id of block `block` is revoked.
    Revoked { block: usize, revocation_id: String },
    /// Identity verification of a token that is not an identity token.
    NotIdentity { kind: TokenKind },
    /// Authorization verification of a token that is not an authorization
    /// token (an identity token's actor check refuses any subject): said
    /// so, rather than quoting the actor check that failed.
    NotAuthorization { kind: TokenKind },
}

/// The answer to one verification.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub status: Status,
    /// `None` exactly when valid.
    pub failure: Option<Failure>,
    /// `None` when the token did not decode (no key was chosen).
    pub key: Option<KeyUsed>,
    /// The time the token was checked at, and the leeway applied.
    pub checked_at: i64,
    pub leeway_seconds: i64,
    /// The subject the token is verified for (the requested one, or in
    /// capability mode the one its rights name); `None` unless valid.
    pub subject: Option<String>,
    pub root_key_id: Option<u32>,
    /// The token's earliest time bound; `None` without one or when its
    /// signatures were not verified (an unverified bound means nothing).
    pub expires_at: Option<i64>,
    /// The rights of the authority block, when its signatures verified.
    pub rights: Vec<Right>,
    /// What the token is for (from its authority block), when its
    /// signatures verified: callers say which verification it needs.
    pub token_kind: Option<TokenKind>,
}

impl Outcome {
    /// Records a refusal by the rules: expired when only time bounds
    /// failed, else denied.
    fn refuse(&mut self, failure: HessraFailure) {
        self.status = match failure {
            HessraFailure::Expired { .. } => Status::Expired,
            _ => Status::Denied,
        };
        self.failure = Some(Failure::Rules(failure));
    }

    pub fn is_valid(&self) -> bool {
        self.status == Status::Valid
    }

    /// The failed checks, as data.
    pub fn failed_checks(&self) -> &[FailedCheck] {
        match &self.failure {
            Some(Failure::Rules(HessraFailure::Denied { failed }))
            | Some(Failure::Rules(HessraFailure::Expired { failed, .. })) => failed,
            _ => &[],
        }
    }

    /// The time bound that failed, for an expired token.
    pub fn expired_at(&self) -> Option<i64> {
        match &self.failure {
            Some(Failure::Rules(HessraFailure::Expired { bound, .. })) => Some(*bound),
            _ => None,
        }
    }

    /// A stable machine name for the failure: `denied`, `expired`,
    /// `limit_exceeded` (a Datalog limit, or a token over a size or block
    /// bound, malformed or not), `invalid_signature`, `invalid_token`.
    pub fn code(&self) -> Option<&'static str> {
        Some(match self.failure.as_ref()? {
            // the container bounds (size, block count, decoded text) are limits
            Failure::Malformed(TokenInputError::TooLarge { .. })
            | Failure::Malformed(TokenInputError::Token(
                TokenError::TooLarge { .. }
                | TokenError::Format {
                    error: FormatError::TooManyBlocks { .. } | FormatError::TextTooLarge,
                    ..
                },
            ))
            | Failure::TooLarge { .. } => "limit_exceeded",
            Failure::Malformed(_) => "invalid_token",
            Failure::Signature(_) => "invalid_signature",
            Failure::Revoked { .. } => "revoked",
            Failure::Rules(HessraFailure::Expired { .. }) => "expired",
            Failure::Rules(HessraFailure::Limit(_)) => "limit_exceeded",
            Failure::Rules(_) | Failure::NotIdentity { .. } | Failure::NotAuthorization { .. } => {
                "denied"
            }
        })
    }

    /// Why it is not valid, in words (never quoting the token).
    pub fn reason(&self) -> Option<String> {
        self.failure.as_ref().map(|f| f.to_string())
    }

    /// The revoked block and its revocation id, for a revoked token.
    pub fn revoked(&self) -> Option<(usize, &str)> {
        match &self.failure {
            Some(Failure::Revoked {
                block,
                revocation_id,
            }) => Some((*block, revocation_id.as_str())),
            _ => None,
        }
    }

    /// The outcome as JSON (documented in `include/hessra_ffi.h`).
    pub fn to_json(&self) -> Value {
        let key = self.key.as_ref().map(|k| {
            Value::object([
                ("id", Value::from(k.id.clone())),
                ("origin", Value::from(k.origin.as_str())),
            ])
        });
        Value::object([
            ("status", Value::from(self.status.as_str())),
            ("code", Value::from(self.code())),
            ("reason", Value::from(self.reason())),
            ("failed_checks", failed_checks_json(self.failed_checks())),
            ("expired_at", Value::from(self.expired_at())),
            ("key", key.unwrap_or(Value::Null)),
            ("checked_at", Value::from(self.checked_at)),
            ("leeway_seconds", Value::from(self.leeway_seconds)),
            ("subject", Value::from(self.subject.clone())),
            ("root_key_id", Value::from(self.root_key_id)),
            ("expires_at", Value::from(self.expires_at)),
            ("rights", rights_json(&self.rights)),
            (
                "token_kind",
                Value::from(self.token_kind.map(TokenKind::as_str)),
            ),
            (
                "revoked",
                self.revoked()
                    .map(|(block, id)| {
                        Value::object([
                            ("block", Value::from(block)),
                            ("revocation_id", Value::from(id)),
                        ])
                    })
                    .unwrap_or(Value::Null),
            ),
        ])
    }
}

/// `[{"block":N|null,"check":N,"rule":"..","rule_bytes":N,"truncated":bool}]`:
/// `rule` is cut to the authorizer's budgets when `truncated`, and
/// `rule_bytes` is the size of the whole rendering.
pub fn failed_checks_json(checks: &[FailedCheck]) -> Value {
    Value::Array(
        checks
            .iter()
            .map(|c| {
                let (block, check_id, rule) = match c {
                    FailedCheck::Block {
                        block_id,
                        check_id,
                        rule,
                    } => (Value::from(*block_id), check_id, rule),
                    FailedCheck::Authorizer { check_id, rule } => (Value::Null, check_id, rule),
                };
                Value::object([
                    ("block", block),
                    ("check", Value::from(*check_id)),
                    ("rule", Value::from(rule.text.as_str())),
                    ("rule_bytes", Value::from(rule.bytes)),
                    ("truncated", Value::from(rule.truncated)),
                ])
            })
            .collect(),
    )
}

/// `[{"subject":..,"resource":..,"operation":..}]`
pub fn rights_json(rights: &[Right]) -> Value {
    Value::Array(
        rights
            .iter()
            .map(|r| {
                Value::object([
                    ("subject", Value::from(r.subject.as_str())),
                    ("resource", Value::from(r.resource.as_str())),
                    ("operation", Value::from(r.operation.as_str())),
                ])
            })
            .collect(),
    )
}

/// `[{"component":..,"public_key":..}]`
pub fn service_chain_json(chain: &[ServiceNode]) -> Value {
    Value::Array(chain.iter().map(node_json).collect())
}

// ---- the one renderer of failures ---------------------------------------------

/// `2026-11-26T10:00:00Z` for a unix time, clamped at the epoch.
pub fn rfc3339(unix: i64) -> String {
    crate::datalog::print::format_date(unix.max(0) as u64)
}

fn write_check_list(f: &mut fmt::Formatter<'_>, sep: &str, checks: &[FailedCheck]) -> fmt::Result {
    for (i, c) in checks.iter().enumerate() {
        write!(f, "{}{}", if i == 0 { sep } else { "; " }, c)?;
    }
    Ok(())
}

impl fmt::Display for FailedCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailedCheck::Block {
                block_id,
                check_id,
                rule,
            } => write!(f, "block {} check {} failed: {}", block_id, check_id, rule),
            FailedCheck::Authorizer { check_id, rule } => {
                write!(f, "authorizer check {} failed: {}", check_id, rule)
            }
        }
    }
}

impl fmt::Display for HessraFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HessraFailure::InvalidRequest(m) => write!(f, "invalid request: {}", m),
            HessraFailure::Expired { bound, failed } => {
                write!(f, "expired at {} (unix {})", rfc3339(*bound), bound)?;
                write_check_list(f, ": ", failed)
            }
            HessraFailure::Denied { failed } if failed.is_empty() => {
                write!(f, "denied: no policy matched")
            }
            HessraFailure::Denied { failed } => {
                write!(f, "denied")?;
                write_check_list(f, ": ", failed)
            }
            HessraFailure::Limit(l) => write!(f, "{}", AuthError::RunLimit(*l)),
            HessraFailure::Execution(e) => write!(f, "{}", AuthError::Execution(e.clone())),
            HessraFailure::InvalidBlockRule(b, r) => {
                write!(f, "{}", AuthError::InvalidBlockRule(*b, r.clone()))
            }
        }
    }
}

impl std::error::Error for HessraFailure {}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Malformed(e) => write!(f, "not a token: {}", e),
            Failure::TooLarge { max } => {
                write!(f, "token is larger than limits.max_token_bytes ({})", max)
            }
            Failure::Signature(e) => write!(
                f,
                "signature verification failed ({}): the token was not signed by this key, or was altered",
                e
            ),
            Failure::Rules(r) => write!(f, "{}", r),
            Failure::Revoked {
                block,
                revocation_id,
            } => write!(
                f,
                "revoked: the revocation id of block {} ({}) is listed in the configuration's revocation list",
                block, revocation_id
            ),
            Failure::NotIdentity { kind } => write!(
                f,
                "denied: not an identity token (its authority block has no subject fact with an actor check; kind: {})",
                kind.as_str()
            ),
            Failure::NotAuthorization { kind } => write!(
                f,
                "denied: not an authorization token (its authority block grants no right; kind: {}): verify it as an {} token",
                kind.as_str(),
                kind.as_str()
            ),
        }
    }
}

impl fmt::Display for MatchedPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MatchedPolicy::Allow(i) => write!(f, "allow policy {}", i),
            MatchedPolicy::Deny(i) => write!(f, "deny policy {}", i),
        }
    }
}

/// Also the message of a general authorization (`hessra_token_authorize`).
impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::Unauthorized {
                policy: MatchedPolicy::Allow(i),
                checks,
            } => {
                write!(f, "allow policy {} matched but checks failed", i)?;
                write_check_list(f, ": ", checks)
            }
            AuthError::Unauthorized {
                policy: MatchedPolicy::Deny(i),
                checks,
            } => {
                write!(f, "deny policy {} matched", i)?;
                write_check_list(f, ": ", checks)
            }
            AuthError::NoMatchingPolicy { checks } => {
                write!(f, "no policy matched")?;
                write_check_list(f, ": ", checks)
            }
            AuthError::RunLimit(l) => write!(f, "Datalog limit exceeded: {}", l),
            AuthError::Execution(e) => write!(f, "expression error: {}", e),
            AuthError::InvalidBlockRule(b, rule) => write!(
                f,
                "invalid rule in block {}: head variables must appear in the body: {}",
                b, rule
            ),
        }
    }
}

impl std::error::Error for AuthError {}

// ---- verification -------------------------------------------------------------

/// A configuration and its cache of signature-checked tokens: what a
/// verification needs besides the token and the request. Both optional: a
/// given key needs no configuration.
#[derive(Clone, Copy, Default)]
pub struct Verifier<'a> {
    pub config: Option<&'a Config>,
    pub cache: Option<&'a TokenCache>,
    /// The host's revocation list, asked after the configuration's.
    pub revocation_lookup: Option<&'a dyn RevocationLookup>,
}

/// Token input for [`Verifier::verify`].
#[derive(Clone, Copy)]
pub enum TokenInput<'a> {
    /// Text or raw bytes (detected).
    Any(&'a [u8]),
    /// Already decoded.
    Parsed(&'a ParsedToken),
}

impl<'a> Verifier<'a> {
    pub fn new(config: Option<&'a Config>, cache: Option<&'a TokenCache>) -> Verifier<'a> {
        Verifier {
            config,
            cache,
            revocation_lookup: None,
        }
    }

    /// The same verifier, also asking `lookup` whether a block is revoked.
    pub fn with_revocation_lookup(self, lookup: Option<&'a dyn RevocationLookup>) -> Verifier<'a> {
        Verifier {
            revocation_lookup: lookup,
            ..self
        }
    }

    pub(crate) fn limits(&self) -> RunLimits {
        self.config
            .map(|c| c.limits)
            .unwrap_or_default()
            .run_limits()
    }

    /// The key for a token, and how it was chosen.
    pub fn select_key<'k>(
        &'k self,
        choice: KeyChoice<'k>,
        root_key_id: Option<u32>,
    ) -> Result<(&'k PublicKey, KeyUsed), VerifierError> {
        let configured = |entry: &'k KeyEntry, origin| {
            (
                &entry.public_key,
                KeyUsed {
                    id: Some(entry.id.clone()),
                    origin,
                },
            )
        };
        match choice {
            KeyChoice::Given(key) => Ok((
                key,
                KeyUsed {
                    id: None,
                    origin: KeyOrigin::Given,
                },
            )),
            KeyChoice::Id(id) => match self.config.and_then(|c| c.key(id)) {
                Some(entry) => Ok(configured(entry, KeyOrigin::KeyId)),
                None => Err(VerifierError::UnknownKeyId {
                    id: id.to_string(),
                    known: self
                        .config
                        .map(|c| c.keys.iter().map(|k| k.id.clone()).collect())
                        .unwrap_or_default(),
                }),
            },
            KeyChoice::Configured => {
                let config = self
                    .config
                    .ok_or(VerifierError::NoKey { has_keys: false })?;
                if let Some(id) = root_key_id {
                    if let Some(k) = config.keys.iter().find(|k| k.root_key_id == Some(id)) {
                        return Ok(configured(k, KeyOrigin::RootKeyId));
                    }
                }
                config
                    .default_entry()
                    .map(|k| configured(k, KeyOrigin::DefaultKey))
                    .ok_or(VerifierError::NoKey {
                        has_keys: !config.keys.is_empty(),
                    })
            }
        }
    }

    /// The leeway applied: a given one wins (an explicit 0 included), else
    /// the configuration's (0 without one); never negative.
    pub(crate) fn leeway(&self, given: Option<i64>) -> i64 {
        given
            .unwrap_or_else(|| self.config.map_or(0, |c| c.leeway_seconds))
            .max(0)
    }

    /// The request with the configuration's defaults applied, its component
    /// checked against the chain.
    pub fn effective_request(&self, req: &Request) -> Result<VerifyRequest, VerifierError> {
        let config = self.config;
        let service_chain = match &req.service_chain {
            Some(chain) => chain.clone(),
            None => config
                .and_then(|c| c.service_chain(&req.resource))
                .map(<[ServiceNode]>::to_vec)
                .unwrap_or_default(),
        };
        let request = VerifyRequest {
            subject: req.subject.clone(),
            resource: req.resource.clone(),
            operation: req.operation.clone(),
            domain: req
                .domain
                .clone()
                .or_else(|| config.and_then(|c| c.domain.clone())),
            prefix: req.prefix.clone(),
            now: req.now,
            leeway_seconds: self.leeway(req.leeway_seconds),
            service_chain,
            component: req.component.clone(),
        };
        hessra::required_nodes(&request.service_chain, request.component.as_deref()).map_err(
            |e| match e {
                HessraFailure::InvalidRequest(m) => VerifierError::InvalidRequest(m),
                other => VerifierError::InvalidRequest(other.to_string()),
            },
        )?;
        Ok(request)
    }

    /// Verifies a token for a request. `Err` only for problems that are not
    /// about the token (see [`VerifierError`]); everything about the token
    /// is in the [`Outcome`].
    pub fn verify(
        &self,
        token: TokenInput<'_>,
        key: KeyChoice<'_>,
        req: &Request,
    ) -> Result<Outcome, VerifierError> {
        let request = self.effective_request(req)?;
        let (mut outcome, verified) = self.open(token, key, request.now, request.leeway_seconds)?;
        let Some(verified) = verified else {
            return Ok(outcome);
        };
        match hessra::verify(&verified, &request, &self.limits()) {
            Ok(()) => {
                outcome.status = Status::Valid;
                outcome.subject = request
                    .subject
                    .clone()
                    .or_else(|| granted_subject(&outcome.rights, &request));
            }
            // An identity token's actor check refuses every subject: say what it is.
            Err(HessraFailure::Denied { .. })
                if outcome.token_kind == Some(TokenKind::Identity) =>
            {
                outcome.status = Status::Denied;
                outcome.failure = Some(Failure::NotAuthorization {
                    kind: TokenKind::Identity,
                });
            }
            Err(failure) => outcome.refuse(failure),
        }
        Ok(outcome)
    }

    /// The first half of every verification: decodes the token, chooses its
    /// key, applies the size limit and checks every signature. The outcome
    /// is final (malformed, too large, invalid, revoked) when no verified token comes
    /// back with it.
    pub(crate) fn open(
        &self,
        token: TokenInput<'_>,
        key: KeyChoice<'_>,
        now: i64,
        leeway_seconds: i64,
    ) -> Result<(Outcome, Option<Arc<CheckedToken>>), VerifierError> {
        let mut outcome = Outcome {
            status: Status::Malformed,
            failure: None,
            key: None,
            checked_at: now,
            leeway_seconds,
            subject: None,
            root_key_id: None,
            expires_at: None,
            rights: Vec::new(),
            token_kind: None,
        };
        let owned;
        let parsed = match token {
            TokenInput::Parsed(p) => p,
            TokenInput::Any(data) => {
                if let Some(max) = self.text_bound(data.len()) {
                    outcome.status = Status::Denied;
                    outcome.failure = Some(Failure::TooLarge { max });
                    return Ok((outcome, None));
                }
                match ParsedToken::from_any(data) {
                    Ok(p) => {
                        owned = p;
                        &owned
                    }
                    Err(e) => {
                        outcome.failure = Some(Failure::Malformed(e));
                        return Ok((outcome, None));
                    }
                }
            }
        };
        outcome.root_key_id = parsed.token.root_key_id();
        let (public_key, used) = self.select_key(key, outcome.root_key_id)?;
        outcome.key = Some(used);
        if let Some(max) = self.config.map(|c| c.limits.max_token_bytes) {
            if parsed.raw.len() as u64 > max {
                outcome.status = Status::Denied;
                outcome.failure = Some(Failure::TooLarge { max });
                return Ok((outcome, None));
            }
        }
        let verified = match parsed.verify(public_key, self.cache) {
            Ok(v) => v,
            Err(e) => {
                outcome.status = match e {
                    TokenError::SignatureFormat { .. }
                    | TokenError::InvalidSignature { .. }
                    | TokenError::InvalidProof => Status::Invalid,
                    _ => Status::Malformed,
                };
                outcome.failure = Some(match outcome.status {
                    Status::Invalid => Failure::Signature(e),
                    _ => Failure::Malformed(TokenInputError::Token(e)),
                });
                return Ok((outcome, None));
            }
        };
        // Time bounds and rights describe the token whatever the request.
        outcome.expires_at = hessra::expiry(&verified.blocks);
        outcome.rights = hessra::rights(&verified.blocks);
        outcome.token_kind = Some(TokenKind::of(&verified.blocks));
        if let Some(revoked) = self.revoked(&verified)? {
            outcome.status = Status::Revoked;
            outcome.failure = Some(revoked);
            return Ok((outcome, None));
        }
        Ok((outcome, Some(verified)))
    }

    /// The revocation failure when a block of the (authentic) token is
    /// revoked: listed by the configuration, or by the host's lookup (asked
    /// block by block, in order, for the ids the configuration does not
    /// list). Checked after the signatures, so that only an authentic token
    /// is ever called revoked. The verdict is kept with the cached token; a
    /// lookup that fails is an error, never "not revoked", and is not kept.
    fn revoked(&self, verified: &CheckedToken) -> Result<Option<Failure>, VerifierError> {
        let ids = verified.revocation_ids();
        let block = match verified.revoked.get() {
            Some(block) => *block,
            None => {
                let block = self.first_revoked_block(ids)?;
                let _ = verified.revoked.set(block);
                block
            }
        };
        Ok(block.map(|block| Failure::Revoked {
            block,
            revocation_id: hex_encode(&ids[block]),
        }))
    }

    fn first_revoked_block(&self, ids: &[Vec<u8>]) -> Result<Option<usize>, VerifierError> {
        let listed = self.config.and_then(|c| c.revocations.revoked_block(ids));
        let Some(lookup) = self.revocation_lookup else {
            return Ok(listed);
        };
        // only the blocks before the first one the configuration lists
        for (block, id) in ids.iter().enumerate().take(listed.unwrap_or(ids.len())) {
            if lookup
                .is_revoked(id)
                .map_err(VerifierError::RevocationLookup)?
            {
                return Ok(Some(block));
            }
        }
        Ok(listed)
    }

    /// `Some(max_token_bytes)` when text of `len` bytes cannot hold a token
    /// within the configuration's size limit (refused before decoding).
    pub fn text_bound(&self, len: usize) -> Option<u64> {
        let max = self.config?.limits.max_token_bytes;
        (len as u64 > max / 3 * 4 + 1024).then_some(max)
    }

    /// The subject the token is verified for now, whatever its rights: for
    /// each `right(s, r, o)` of the authority block (those matching the
    /// request's resource and operation when given), the verification in
    /// identity mode for s, r, o; `Some(s)` when exactly one distinct
    /// subject verifies. `req.subject` is ignored. Signatures are checked
    /// once; `on_verification` is called for each right evaluated.
    pub fn verified_subject(
        &self,
        token: &ParsedToken,
        req: &Request,
        mut on_verification: impl FnMut(),
    ) -> Result<Result<Option<String>, Failure>, VerifierError> {
        let (key, _) = self.select_key(KeyChoice::Configured, token.token.root_key_id())?;
        if let Some(max) = self.config.map(|c| c.limits.max_token_bytes) {
            if token.raw.len() as u64 > max {
                return Ok(Err(Failure::TooLarge { max }));
            }
        }
        let verified = match token.verify(key, self.cache) {
            Ok(v) => v,
            Err(e) => return Ok(Err(Failure::Signature(e))),
        };
        if let Some(revoked) = self.revoked(&verified)? {
            return Ok(Err(revoked));
        }
        // The configured time limit bounds the whole call, not each right (a
        // token holds as many rights as it likes); a host interrupt stops it.
        let mut limits = self.limits();
        let deadline = Instant::now() + limits.max_time;
        let filter_resource = (!req.resource.is_empty()).then_some(req.resource.as_str());
        let mut found: Option<String> = None;
        for right in hessra::rights(&verified.blocks) {
            if filter_resource.is_some_and(|r| r != right.resource)
                || req
                    .operation
                    .as_deref()
                    .is_some_and(|o| o != right.operation)
                || found.as_deref() == Some(right.subject.as_str())
            {
                continue;
            }
            limits.max_time = deadline.saturating_duration_since(Instant::now());
            if limits.max_time.is_zero() {
                return Ok(Err(Failure::Rules(HessraFailure::Limit(RunLimit::Timeout))));
            }
            on_verification();
            let request = self.effective_request(&Request {
                subject: Some(right.subject.clone()),
                resource: right.resource,
                operation: Some(right.operation),
                ..req.clone()
            })?;
            match hessra::verify(&verified, &request, &limits) {
                Ok(()) if found.is_some() => return Ok(Ok(None)), // a second subject: ambiguous
                Ok(()) => found = Some(right.subject),
                Err(f @ HessraFailure::Limit(RunLimit::Timeout | RunLimit::Interrupted)) => {
                    return Ok(Err(Failure::Rules(f)))
                }
                Err(_) => {} // this right does not verify now
            }
        }
        Ok(Ok(found))
    }
}

// ---- identity tokens: verification ----------------------------------------------

impl Verifier<'_> {
    /// Verifies an identity token (see [`crate::identity`]). As
    /// [`Verifier::verify`]: `Err` only for problems that are not about the
    /// token. A token that is not an identity token is denied
    /// ([`Failure::NotIdentity`]): without its actor check any identity
    /// would pass. Valid: `subject` is the identity proven.
    pub fn verify_identity(
        &self,
        token: TokenInput<'_>,
        key: KeyChoice<'_>,
        req: &IdentityRequest,
    ) -> Result<Outcome, VerifierError> {
        let leeway_seconds = self.leeway(req.leeway_seconds);
        let (mut outcome, verified) = self.open(token, key, req.now, leeway_seconds)?;
        let Some(verified) = verified else {
            return Ok(outcome);
        };
        let Some(shape) = IdentityShape::read(&verified.blocks) else {
            outcome.status = Status::Denied;
            outcome.failure = Some(Failure::NotIdentity {
                kind: outcome.token_kind.unwrap_or(TokenKind::Other),
            });
            return Ok(outcome);
        };
        let (actor, proven) = match &req.actor {
            IdentityActor::Given(id) => (Actor::Given(id.clone()), id.clone()),
            IdentityActor::Bearer => (Actor::Bearer, shape.subject.clone()),
            IdentityActor::Delegated => {
                let id = shape.narrowest().to_string();
                (Actor::Given(id.clone()), id)
            }
        };
        let request = IdentityVerifyRequest {
            actor,
            domain: req
                .domain
                .clone()
                .or_else(|| self.config.and_then(|c| c.domain.clone())),
            subject_in_domain: req.subject_in_domain,
            now: req.now,
            leeway_seconds,
        };
        match identity::verify_blocks(&verified.blocks, &request, &self.limits()) {
            Ok(()) => {
                outcome.status = Status::Valid;
                outcome.subject = Some(proven);
            }
            Err(failure) => outcome.refuse(failure),
        }
        Ok(outcome)
    }
}

/// In capability mode: the one subject the token's rights name for the
/// request's resource (and operation, when given).
fn granted_subject(rights: &[Right], req: &VerifyRequest) -> Option<String> {
    let mut subjects = rights
        .iter()
        .filter(|r| r.resource == req.resource)
        .filter(|r| req.operation.as_deref().is_none_or(|o| o == r.operation))
        .map(|r| r.subject.as_str());
    let first = subjects.next()?;
    subjects.all(|s| s == first).then(|| first.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Algorithm, PrivateKey};
    use crate::encoding::base64url_encode;
    use crate::hessra::{authority_block, MintRequest};

    const NOW: i64 = 1_764_151_200;

    fn key() -> PrivateKey {
        PrivateKey::generate(Algorithm::Ed25519).unwrap()
    }

    fn mint(root: &PrivateKey, exp: i64, root_key_id: Option<u32>) -> String {
        let m = MintRequest {
            subject: "alice".into(),
            resource: "documents".into(),
            operations: vec!["read".into()],
            expires_at: Some(exp),
            ..MintRequest::default()
        };
        Token::mint(root, &authority_block(&m), root_key_id)
            .unwrap()
            .to_base64()
    }

    fn config(root: &PrivateKey, leeway: i64) -> Config {
        Config::from_json(&format!(
            r#"{{"version":1,"keys":[{{"id":"dev","public_key":"{}"}}],"leeway_seconds":{}}}"#,
            root.public().to_text(),
            leeway
        ))
        .unwrap()
    }

    /// A token and the same token with one more (first-party) block.
    fn token_and_attenuation(root: &PrivateKey) -> (Token, Token) {
        let token = Token::from_base64(&mint(root, NOW + 60, None)).unwrap();
        let attenuated = token
            .append(
                &root.public(),
                &crate::parser::parse_block("check if operation(\"read\");").unwrap(),
            )
            .unwrap();
        (token, attenuated)
    }

    fn request(leeway: Option<i64>) -> Request {
        Request {
            subject: Some("alice".into()),
            resource: "documents".into(),
            operation: Some("read".into()),
            now: NOW,
            leeway_seconds: leeway,
            ..Request::default()
        }
    }

    #[test]
    fn explicit_leeway_wins_on_every_key_path() {
        let root = key();
        let cfg = config(&root, 60);
        let token = mint(&root, NOW - 3, None);
        let public = root.public();
        let v = Verifier::new(Some(&cfg), None);
        for choice in [
            KeyChoice::Configured,
            KeyChoice::Id("dev"),
            KeyChoice::Given(&public),
        ] {
            let given_zero = v
                .verify(TokenInput::Any(token.as_bytes()), choice, &request(Some(0)))
                .unwrap();
            assert_eq!(given_zero.status, Status::Expired, "{:?}", choice);
            assert_eq!(given_zero.leeway_seconds, 0);
            assert_eq!(given_zero.expired_at(), Some(NOW - 3));
            let not_given = v
                .verify(TokenInput::Any(token.as_bytes()), choice, &request(None))
                .unwrap();
            assert_eq!(not_given.status, Status::Valid, "{:?}", choice);
            assert_eq!(not_given.leeway_seconds, 60);
        }
    }

    #[test]
    fn statuses_and_data() {
        let root = key();
        let cfg = config(&root, 0);
        let v = Verifier::new(Some(&cfg), None);
        let token = mint(&root, NOW + 60, Some(3));
        let ok = v
            .verify(
                TokenInput::Any(token.as_bytes()),
                KeyChoice::Configured,
                &request(None),
            )
            .unwrap();
        assert_eq!(ok.status, Status::Valid);
        assert_eq!(ok.subject.as_deref(), Some("alice"));
        assert_eq!(ok.root_key_id, Some(3));
        assert_eq!(ok.expires_at, Some(NOW + 60));
        assert_eq!(
            ok.key,
            Some(KeyUsed {
                id: Some("dev".into()),
                origin: KeyOrigin::DefaultKey
            })
        );
        assert_eq!(ok.reason(), None);

        // Capability mode names the subject the rights grant.
        let mut cap = request(None);
        cap.subject = None;
        let r = v
            .verify(
                TokenInput::Any(token.as_bytes()),
                KeyChoice::Configured,
                &cap,
            )
            .unwrap();
        assert_eq!(r.subject.as_deref(), Some("alice"));

        // Wrong operation: denied, the failed check as data.
        let mut write = request(None);
        write.operation = Some("write".into());
        let r = v
            .verify(
                TokenInput::Any(token.as_bytes()),
                KeyChoice::Configured,
                &write,
            )
            .unwrap();
        assert_eq!(r.status, Status::Denied);
        assert_eq!(r.failed_checks().len(), 1);
        assert!(matches!(
            r.failed_checks()[0],
            FailedCheck::Block {
                block_id: 0,
                check_id: 0,
                ..
            }
        ));
        let json = r.to_json().to_string();
        assert!(
            json.contains(r#""failed_checks":[{"block":0,"check":0,"rule":"check if subject($s)"#),
            "{json}"
        );
        assert!(
            json.contains(
                r#""rights":[{"subject":"alice","resource":"documents","operation":"read"}]"#
            ),
            "{json}"
        );

        // Another key: invalid, no expiry reported.
        let other = key();
        let forged = mint(&other, NOW + 60, None);
        let r = v
            .verify(
                TokenInput::Any(forged.as_bytes()),
                KeyChoice::Configured,
                &request(None),
            )
            .unwrap();
        assert_eq!(r.status, Status::Invalid);
        assert_eq!((r.expires_at, r.rights.len()), (None, 0));
        assert_eq!(r.code(), Some("invalid_signature"));

        // Garbage: malformed, no key chosen.
        let r = v
            .verify(
                TokenInput::Any(b"not a token!"),
                KeyChoice::Configured,
                &request(None),
            )
            .unwrap();
        assert_eq!((r.status, r.key.clone()), (Status::Malformed, None));
        // Over the container's size bound: malformed, and a limit.
        let big = "A".repeat(MAX_TOKEN_TEXT + 1);
        let public = root.public();
        let too_large = Verifier::default()
            .verify(
                TokenInput::Any(big.as_bytes()),
                KeyChoice::Given(&public),
                &request(None),
            )
            .unwrap();
        assert_eq!(
            (too_large.status, too_large.code()),
            (Status::Malformed, Some("limit_exceeded"))
        );
        assert!(
            r.reason().unwrap().contains("'!' at position 11"),
            "{:?}",
            r.reason()
        );
    }

    /// A listed revocation id of any block makes an authentic token
    /// `revoked` (after its signatures, before its rules), in `verify` and
    /// in `verified_subject`; other tokens are untouched.
    #[test]
    fn revoked_tokens() {
        let root = key();
        let (token, attenuated) = token_and_attenuation(&root);
        let ids = attenuated.revocation_ids();
        assert_eq!(ids.len(), 2);
        let cfg_listing = |id: &[u8]| {
            Config::from_json(&format!(
                r#"{{"version":1,"keys":[{{"id":"dev","public_key":"{}"}}],"revoked_ids":["{}"]}}"#,
                root.public().to_text(),
                hex_encode(id).to_uppercase()
            ))
            .unwrap()
        };
        let status = |cfg: &Config, t: &Token| {
            let text = t.to_base64();
            Verifier::new(Some(cfg), None)
                .verify(
                    TokenInput::Any(text.as_bytes()),
                    KeyChoice::Configured,
                    &request(None),
                )
                .unwrap()
        };
        // The authority block's id revokes the token and its attenuation.
        let by_authority = cfg_listing(&ids[0]);
        for t in [&token, &attenuated] {
            let r = status(&by_authority, t);
            assert_eq!((r.status, r.code()), (Status::Revoked, Some("revoked")));
            assert_eq!(r.revoked(), Some((0, hex_encode(&ids[0]).as_str())));
            assert_eq!(r.rights.len(), 1, "authentic: rights are reported");
            let json = r.to_json().to_string();
            assert!(json.contains(r#""status":"revoked""#), "{json}");
            assert!(
                json.contains(&format!(
                    r#""revoked":{{"block":0,"revocation_id":"{}"}}"#,
                    hex_encode(&ids[0])
                )),
                "{json}"
            );
        }
        // The last block's id revokes only the attenuated token.
        let by_last = cfg_listing(&ids[1]);
        assert_eq!(status(&by_last, &token).status, Status::Valid);
        let r = status(&by_last, &attenuated);
        assert_eq!(r.status, Status::Revoked);
        assert!(r.reason().unwrap().contains("block 1"), "{:?}", r.reason());
        // Forged with another key: invalid, not revoked (only authentic
        // tokens are judged revoked).
        let other = key();
        let forged = Config::from_json(&format!(
            r#"{{"version":1,"keys":[{{"id":"dev","public_key":"{}"}}],"revoked_ids":["{}"]}}"#,
            other.public().to_text(),
            hex_encode(&ids[0])
        ))
        .unwrap();
        assert_eq!(status(&forged, &token).status, Status::Invalid);
        // verified_subject refuses it too.
        let parsed = ParsedToken::from_text(&token.to_base64()).unwrap();
        let found = Verifier::new(Some(&by_authority), None)
            .verified_subject(&parsed, &request(None), || {})
            .unwrap();
        assert!(
            matches!(found, Err(Failure::Revoked { block: 0, .. })),
            "{found:?}"
        );
        let found = Verifier::new(Some(&by_last), None)
            .verified_subject(&parsed, &request(None), || {})
            .unwrap();
        assert_eq!(found, Ok(Some("alice".to_string())));
    }

    /// A host's list ([`RevocationLookup`]) after the configuration's: asked
    /// block by block for the ids the configuration does not list, its
    /// verdict kept with the cached token, a failure an error never cached.
    #[test]
    fn host_revocation_lookup() {
        use std::sync::Mutex;
        struct Host {
            revoked: Vec<Vec<u8>>,
            fail: bool,
            asked: Mutex<Vec<Vec<u8>>>,
        }
        impl RevocationLookup for Host {
            fn is_revoked(&self, id: &[u8]) -> Result<bool, String> {
                self.asked.lock().unwrap().push(id.to_vec());
                if self.fail {
                    return Err("table unreadable".into());
                }
                Ok(self.revoked.iter().any(|r| r == id))
            }
        }
        let root = key();
        let (_, attenuated) = token_and_attenuation(&root);
        let ids = attenuated.revocation_ids();
        let text = attenuated.to_base64();
        let cfg = config(&root, 0);
        let cache = TokenCache::new(8);
        let verify = |host: &Host, cache: Option<&TokenCache>, cfg: &Config| {
            Verifier::new(Some(cfg), cache)
                .with_revocation_lookup(Some(host))
                .verify(
                    TokenInput::Any(text.as_bytes()),
                    KeyChoice::Configured,
                    &request(None),
                )
        };
        let host = |revoked: Vec<Vec<u8>>, fail| Host {
            revoked,
            fail,
            asked: Mutex::new(Vec::new()),
        };

        // Not revoked: every block asked once; then the cached verdict.
        let none = host(vec![], false);
        assert_eq!(
            verify(&none, Some(&cache), &cfg).unwrap().status,
            Status::Valid
        );
        assert_eq!(*none.asked.lock().unwrap(), ids);
        assert_eq!(
            verify(&none, Some(&cache), &cfg).unwrap().status,
            Status::Valid
        );
        assert_eq!(
            none.asked.lock().unwrap().len(),
            2,
            "cached: not asked again"
        );

        // The last block revoked by the host: status revoked, block 1.
        let last = host(vec![ids[1].clone()], false);
        let r = verify(&last, None, &cfg).unwrap();
        assert_eq!(
            (r.status, r.revoked().map(|(b, _)| b)),
            (Status::Revoked, Some(1))
        );
        // The authority block revoked: the host is not asked further.
        let first = host(vec![ids[0].clone()], false);
        assert_eq!(
            verify(&first, None, &cfg)
                .unwrap()
                .revoked()
                .map(|(b, _)| b),
            Some(0)
        );
        assert_eq!(first.asked.lock().unwrap().len(), 1);
        // Listed by the configuration: the host is asked only about the
        // blocks before it (none here).
        let mut listing = cfg.clone();
        listing.revocations.insert(ids[0].clone());
        let unasked = host(vec![], false);
        assert_eq!(
            verify(&unasked, None, &listing).unwrap().status,
            Status::Revoked
        );
        assert!(unasked.asked.lock().unwrap().is_empty());

        // A lookup that fails: an error (never "not revoked"), not cached.
        let fresh = TokenCache::new(8);
        let broken = host(vec![], true);
        for _ in 0..2 {
            let e = verify(&broken, Some(&fresh), &cfg).unwrap_err();
            assert_eq!(
                e,
                VerifierError::RevocationLookup("table unreadable".into())
            );
        }
        assert_eq!(
            broken.asked.lock().unwrap().len(),
            2,
            "asked again: nothing was cached"
        );
        assert_eq!(
            verify(&none, Some(&fresh), &cfg).unwrap().status,
            Status::Valid
        );
        // verified_subject asks the host too.
        let parsed = ParsedToken::from_text(&text).unwrap();
        let found = Verifier::new(Some(&cfg), None)
            .with_revocation_lookup(Some(&last))
            .verified_subject(&parsed, &request(None), || {})
            .unwrap();
        assert!(
            matches!(found, Err(Failure::Revoked { block: 1, .. })),
            "{found:?}"
        );
        let found = Verifier::new(Some(&cfg), None)
            .with_revocation_lookup(Some(&broken))
            .verified_subject(&parsed, &request(None), || {});
        assert!(
            matches!(found, Err(VerifierError::RevocationLookup(_))),
            "{found:?}"
        );
    }

    #[test]
    fn problems_that_are_not_about_the_token() {
        let root = key();
        let cfg = config(&root, 0);
        let token = mint(&root, NOW + 60, None);
        let v = Verifier::new(Some(&cfg), None);
        let e = v
            .verify(
                TokenInput::Any(token.as_bytes()),
                KeyChoice::Id("prod"),
                &request(None),
            )
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"no key "prod" in the configuration (keys: dev)"#
        );
        let none = Verifier::default();
        assert_eq!(
            none.verify(
                TokenInput::Any(token.as_bytes()),
                KeyChoice::Configured,
                &request(None)
            )
            .unwrap_err(),
            VerifierError::NoKey { has_keys: false }
        );
        let mut req = request(None);
        req.component = Some("nobody".into());
        req.service_chain = Some(vec![]);
        assert!(matches!(
            v.verify(
                TokenInput::Any(token.as_bytes()),
                KeyChoice::Configured,
                &req
            ),
            Err(VerifierError::InvalidRequest(_))
        ));
    }

    #[test]
    fn identity_tokens() {
        use crate::identity::{delegate, mint, IdentityMint};
        let root = key();
        let cfg = Config::from_json(&format!(
            r#"{{"version":1,"keys":[{{"id":"dev","public_key":"{}"}}],"domain":"example.com"}}"#,
            root.public().to_text()
        ))
        .unwrap();
        let m = IdentityMint {
            subject: "urn:hessra:alice".into(),
            delegatable: true,
            domain: Some("example.com".into()),
            expires_at: NOW + 60,
        };
        let base = mint(&root, &m, None).unwrap();
        let laptop = delegate(
            &base,
            &root.public(),
            "urn:hessra:alice:laptop",
            NOW + 30,
            NOW,
        )
        .unwrap()
        .to_base64();
        let v = Verifier::new(Some(&cfg), None);
        let run = |actor: IdentityActor, now: i64| {
            let req = IdentityRequest {
                actor,
                domain: None, // the configuration's
                subject_in_domain: true,
                now,
                leeway_seconds: None,
            };
            v.verify_identity(
                TokenInput::Any(laptop.as_bytes()),
                KeyChoice::Configured,
                &req,
            )
            .unwrap()
        };
        let ok = run(IdentityActor::Delegated, NOW);
        assert_eq!(ok.status, Status::Valid, "{:?}", ok.reason());
        assert_eq!(ok.subject.as_deref(), Some("urn:hessra:alice:laptop"));
        assert_eq!(ok.expires_at, Some(NOW + 30));
        let given = run(IdentityActor::Given("urn:hessra:alice:laptop".into()), NOW);
        assert_eq!(given.status, Status::Valid);
        for refused in [
            IdentityActor::Given("urn:hessra:alice:phone".into()),
            IdentityActor::Given("urn:hessra:alice".into()),
            IdentityActor::Bearer,
        ] {
            let r = run(refused.clone(), NOW);
            assert_eq!(
                (r.status, r.subject.clone()),
                (Status::Denied, None),
                "{refused:?}"
            );
            assert!(!r.failed_checks().is_empty());
        }
        let late = run(IdentityActor::Delegated, NOW + 30);
        assert_eq!(
            (late.status, late.expired_at()),
            (Status::Expired, Some(NOW + 30))
        );

        // An authorization token is not an identity token, whatever it says.
        let authz = mint_authz(&root);
        let r = v
            .verify_identity(
                TokenInput::Any(authz.as_bytes()),
                KeyChoice::Configured,
                &IdentityRequest {
                    actor: IdentityActor::Given("alice".into()),
                    domain: None,
                    subject_in_domain: false,
                    now: NOW,
                    leeway_seconds: None,
                },
            )
            .unwrap();
        assert_eq!((r.status, r.code()), (Status::Denied, Some("denied")));
        assert_eq!(
            r.failure,
            Some(Failure::NotIdentity {
                kind: TokenKind::Authorization
            })
        );
        assert!(r.reason().unwrap().contains("not an identity token"));
    }

    fn mint_authz(root: &PrivateKey) -> String {
        mint(root, NOW + 60, None)
    }

    #[test]
    fn one_rendering_of_failures() {
        let failed = vec![FailedCheck::Block {
            block_id: 1,
            check_id: 0,
            rule: "check if a()".into(),
        }];
        let e = AuthError::Unauthorized {
            policy: MatchedPolicy::Allow(0),
            checks: failed.clone(),
        };
        assert_eq!(
            e.to_string(),
            "allow policy 0 matched but checks failed: block 1 check 0 failed: check if a()"
        );
        assert_eq!(
            HessraFailure::Denied {
                failed: failed.clone()
            }
            .to_string(),
            "denied: block 1 check 0 failed: check if a()"
        );
        assert_eq!(
            HessraFailure::Expired { bound: 0, failed }.to_string(),
            "expired at 1970-01-01T00:00:00Z (unix 0): block 1 check 0 failed: check if a()"
        );
        assert_eq!(
            AuthError::NoMatchingPolicy { checks: vec![] }.to_string(),
            "no policy matched"
        );
    }

    #[test]
    fn token_text_normalisation() {
        let raw = vec![0x12u8, 0x34, 0x56, 0x78, 0x9a];
        let text = base64url_encode(&raw);
        for t in [
            text.clone(),
            format!("  Bearer {}\n", text),
            format!("bearer   {}", text),
            format!("biscuit:{}", text),
            format!("{}\n{}", &text[..4], &text[4..]),
            text.trim_end_matches('=').to_string(),
        ] {
            assert_eq!(normalize_token_text(&t).unwrap(), raw, "{:?}", t);
        }
        assert_eq!(normalize_token_text(" \n"), Err(TokenInputError::Empty));
        // Positions count in the text as given.
        match normalize_token_text("Bearer ab\ncd!") {
            Err(TokenInputError::Base64(m)) => assert!(m.contains("'!' at position 12"), "{m}"),
            other => panic!("{:?}", other),
        }
    }
}
