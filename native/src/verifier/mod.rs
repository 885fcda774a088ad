//! The verifier: "verify this token for this request, with this
//! configuration" from end to end, answered with one [`Outcome`].
//!
//! Every front end (the C ABI and through it the CLI, the Node library and
//! the PostgreSQL extension) asks this module and nothing else, so these
//! rules exist once:
//! - token text normalisation ([`input`]: [`normalize_token_text`]:
//!   whitespace, a `Bearer ` prefix, a `biscuit:` prefix, base64url with
//!   optional padding);
//! - key selection ([`KeyChoice`], [`Verifier::select_key`]): a given key, a
//!   configured key by id, or the configured key for the token's root key
//!   id, else the default key;
//! - request defaults ([`request`], [`Verifier::effective_request`]): an
//!   explicit leeway always wins, and only a leeway that was not given
//!   (`None`, distinct from `Some(0)`) takes the configuration's; the
//!   configuration's domain when none is given; its service chain for the
//!   resource when none is given;
//! - classification into a [`Status`] ([`outcome`]) and the rendering of the
//!   verifier's failures ([`render`], [`Outcome::reason`]).

use std::sync::Arc;
use std::time::Instant;

use crate::cache::{CheckedToken, TokenCache};
use crate::classify::TokenKind;
use crate::config::{Config, KeyEntry, ServiceNode};
use crate::crypto::PublicKey;
use crate::datalog::{RunLimit, RunLimits};
use crate::encoding::hex_encode;
use crate::hessra::{self, HessraFailure, Right, VerifyRequest};
use crate::token::TokenError;
use crate::trust::RevocationLookup;

mod identity;
mod input;
mod outcome;
mod render;
mod request;
#[cfg(test)]
mod tests;

pub use input::{normalize_token_text, ParsedToken, TokenInputError, MAX_TOKEN_TEXT};
pub use outcome::{failed_checks_json, rights_json, service_chain_json, Failure, Outcome, Status};
pub use request::{
    IdentityActor, IdentityRequest, KeyChoice, KeyOrigin, KeyUsed, Request, VerifierError,
};

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
