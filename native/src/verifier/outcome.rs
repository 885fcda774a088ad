//! The answer to one verification ([`Outcome`]): its [`Status`], why it is
//! not valid ([`Failure`]) and its JSON (documented in `include/hessra_ffi.h`).

use crate::classify::TokenKind;
use crate::config::{node_json, ServiceNode};
use crate::datalog::FailedCheck;
use crate::format::FormatError;
use crate::hessra::{HessraFailure, Right};
use crate::json::Value;
use crate::token::TokenError;

use super::{KeyUsed, TokenInputError};

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
    pub(super) fn refuse(&mut self, failure: HessraFailure) {
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
