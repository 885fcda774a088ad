//! What a token grants, every answer the result of full verifications:
//! - [`Verifier::granted_resources`]: the resources the token verifies for
//!   an operation (the extension's `hessra_granted_resources`, the array an
//!   index-usable row-level security policy compares a column with);
//! - [`Verifier::claims`]: what a verified token says — kind, subject or
//!   identity, the rights that verify now, expiry, key, domain, revocation
//!   ids (the extension's `hessra_current_claims()`, and who the decisions
//!   of its audit log were for).
//!
//! **Candidates** are the `right(subject, resource, operation)` facts of the
//! authority block: what the root key's signature vouches for. Rights
//! written in a later block are never candidates: an attenuation block is
//! signed with a key whoever holds the token has, and a third-party block by
//! a key the Hessra right check does not trust (it trusts the authority
//! block and the authorizer only), so such rights can never satisfy it.
//! Rights derived by rules are not candidates either: a rule can grant
//! resources no list holds (`right($s, $r, "read") <- resource($r)`), so
//! such a token grants nothing here — fail closed — while the per-row
//! `hessra_row_security` still evaluates it row by row.
//!
//! Each candidate is then **verified in full**, exactly as
//! [`Verifier::verify`] verifies that one request: time with leeway,
//! revocation, every check of every block (an attenuated copy narrowed to
//! one resource grants only that one), domain, prefix, the configuration's
//! service chain of that resource and the component. A token that does not
//! verify at all (malformed, forged, revoked, expired) grants nothing.
//!
//! **Bounds**: at most `limits.max_facts` candidates (a token holding more
//! rights than that cannot verify anyway: every run loads them all), and
//! the runs share one deadline, `limits.max_time`, so the configured time
//! limit bounds the whole call, not each run; a host interrupt stops it.
//! A call stopped by its deadline grants nothing (never a partial list).

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use crate::classify::TokenKind;
use crate::datalog::RunLimit;
use crate::encoding::hex_encode;
use crate::hessra::{self, HessraFailure, Right};
use crate::identity::{domain_check, IdentityShape};
use crate::json::Value;
use crate::token::VerifiedToken;
use crate::verifier::{
    rights_json, Failure, IdentityActor, IdentityRequest, KeyChoice, KeyUsed, ParsedToken, Request,
    Status, TokenInput, Verifier, VerifierError,
};

/// Why a token grants nothing, or its claims do not hold.
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    /// The token itself: too large, forged, revoked (with the status
    /// [`Verifier::verify`] gives it).
    Token { status: Status, failure: Failure },
    /// The authority block holds no candidate right (for `operation`, when
    /// one was asked), or the token is of no Hessra kind.
    NoRights { operation: Option<String> },
    /// More candidates than `limits.max_facts`.
    TooManyCandidates { count: usize, max: u64 },
    /// No candidate verifies: the first refusal, candidates in order. Also
    /// the deadline or a host interrupt (a [`HessraFailure::Limit`]), which
    /// stop the call.
    Refused(Failure),
}

impl Refusal {
    pub fn status(&self) -> Status {
        match self {
            Refusal::Token { status, .. } => *status,
            Refusal::Refused(Failure::Rules(HessraFailure::Expired { .. })) => Status::Expired,
            _ => Status::Denied,
        }
    }

    /// The verification failure behind it, when there is one.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Refusal::Token { failure, .. } | Refusal::Refused(failure) => Some(failure),
            _ => None,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Token { failure, .. } | Refusal::Refused(failure) => write!(f, "{}", failure),
            Refusal::NoRights { operation: None } => {
                write!(f, "denied: the authority block grants no right")
            }
            Refusal::NoRights {
                operation: Some(op),
            } => write!(
                f,
                "denied: the authority block grants no right for operation {:?}",
                op
            ),
            Refusal::TooManyCandidates { count, max } => write!(
                f,
                "limit exceeded: the token names {} rights to verify, more than limits.max_facts ({})",
                count, max
            ),
        }
    }
}

/// The answer of [`Verifier::granted_resources`].
#[derive(Clone, Debug, PartialEq)]
pub struct Grants {
    /// The resources that verify, sorted, each once; empty exactly when
    /// `refusal` is set.
    pub resources: Vec<String>,
    pub refusal: Option<Refusal>,
}

impl Grants {
    /// `["resource", ...]`
    pub fn to_json(&self) -> Value {
        Value::Array(
            self.resources
                .iter()
                .map(|r| Value::from(r.as_str()))
                .collect(),
        )
    }
}

/// The answer of [`Verifier::claims`]. `subject`, `identity` and `rights`
/// are only set when the claims hold (`status` valid); `kind`,
/// `expires_at` and `domain` once the signatures verified; the key, the
/// root key id, the revocation ids and the block count describe the
/// container whatever its status.
#[derive(Clone, Debug, PartialEq)]
pub struct Claims {
    pub status: Status,
    pub refusal: Option<Refusal>,
    pub kind: Option<TokenKind>,
    /// Authorization tokens: the one subject the verified rights name
    /// (`None` when they name several); identity tokens: the base subject.
    pub subject: Option<String>,
    /// Identity tokens: the identity proven (the narrowest delegation).
    pub identity: Option<String>,
    /// Authorization tokens: the authority block's rights that verify now,
    /// each for its own subject, resource and operation.
    pub rights: Vec<Right>,
    pub expires_at: Option<i64>,
    pub root_key_id: Option<u32>,
    pub key: Option<KeyUsed>,
    /// The authority block's `check if domain(D)`.
    pub domain: Option<String>,
    /// Each block's revocation id (hex), authority first.
    pub revocation_ids: Vec<String>,
    pub blocks: usize,
}

impl Claims {
    /// The claims as JSON (documented in `include/hessra_ffi.h`).
    pub fn to_json(&self) -> Value {
        Value::object([
            ("status", Value::from(self.status.as_str())),
            ("kind", Value::from(self.kind.map(TokenKind::as_str))),
            ("subject", Value::from(self.subject.clone())),
            ("identity", Value::from(self.identity.clone())),
            ("rights", rights_json(&self.rights)),
            ("expires_at", Value::from(self.expires_at)),
            ("root_key_id", Value::from(self.root_key_id)),
            (
                "key_id",
                Value::from(self.key.as_ref().and_then(|k| k.id.clone())),
            ),
            ("domain", Value::from(self.domain.clone())),
            (
                "revocation_ids",
                Value::Array(
                    self.revocation_ids
                        .iter()
                        .map(|id| Value::from(id.as_str()))
                        .collect(),
                ),
            ),
            ("blocks", Value::from(self.blocks)),
        ])
    }
}

impl Verifier<'_> {
    /// The resources `token` verifies for `req.operation` (`None`: for some
    /// operation it grants), with the configured key. `req.subject` `None`
    /// is capability mode (any subject its rights name, as
    /// `hessra_row_security`), else only that subject's rights count;
    /// `req.resource` is ignored. `on_verification` is called for each
    /// candidate verified. `Err` only for problems that are not about the
    /// token (no key to verify with).
    pub fn granted_resources(
        &self,
        token: &ParsedToken,
        req: &Request,
        on_verification: impl FnMut(),
    ) -> Result<Grants, VerifierError> {
        let refused = |refusal| Grants {
            resources: Vec::new(),
            refusal: Some(refusal),
        };
        let (rights, verified) = match self.open_configured(token, req)? {
            (outcome, Ok(verified)) => (outcome.rights, verified),
            (_, Err(refusal)) => return Ok(refused(refusal)),
        };
        let candidates: BTreeSet<String> = rights
            .into_iter()
            .filter(|r| req.operation.as_deref().is_none_or(|o| o == r.operation))
            .filter(|r| req.subject.as_deref().is_none_or(|s| s == r.subject))
            .map(|r| r.resource)
            .collect();
        let granted = self.verify_candidates(
            &verified,
            candidates.into_iter().collect(),
            req.operation.as_deref(),
            |resource| Request {
                resource: resource.clone(),
                ..req.clone()
            },
            on_verification,
        );
        Ok(match granted {
            Ok(resources) => Grants {
                resources,
                refusal: None,
            },
            Err(refusal) => refused(refusal),
        })
    }

    /// What `token` says once verified with the configured key (see
    /// [`Claims`]). An authorization token holds when some right of its
    /// authority block verifies now (`req`'s domain, prefix, service chain,
    /// component, time and leeway; its subject, resource and operation are
    /// ignored); an identity token when it proves its narrowest delegated
    /// identity (`req.domain` applies). `on_verification` is called for
    /// each verification run.
    pub fn claims(
        &self,
        token: &ParsedToken,
        req: &Request,
        mut on_verification: impl FnMut(),
    ) -> Result<Claims, VerifierError> {
        let (outcome, opened) = self.open_configured(token, req)?;
        let mut claims = Claims {
            status: outcome.status,
            refusal: None,
            kind: None,
            subject: None,
            identity: None,
            rights: Vec::new(),
            expires_at: outcome.expires_at,
            root_key_id: outcome.root_key_id,
            key: outcome.key,
            domain: None,
            revocation_ids: token
                .token
                .revocation_ids()
                .iter()
                .map(|id| hex_encode(id))
                .collect(),
            blocks: token.token.block_count(),
        };
        let verified = match opened {
            Ok(verified) => verified,
            Err(refusal) => {
                claims.refusal = Some(refusal);
                return Ok(claims);
            }
        };
        let kind = TokenKind::of(&verified.blocks);
        claims.kind = Some(kind);
        claims.domain = verified.blocks[0]
            .code
            .checks
            .iter()
            .find_map(domain_check)
            .map(String::from);
        let held = match kind {
            TokenKind::Identity => {
                on_verification();
                let proven = self.verify_identity(
                    TokenInput::Parsed(token),
                    KeyChoice::Configured,
                    &IdentityRequest {
                        actor: IdentityActor::Delegated,
                        domain: req.domain.clone(),
                        subject_in_domain: false,
                        now: req.now,
                        leeway_seconds: req.leeway_seconds,
                    },
                )?;
                match proven.failure {
                    None => {
                        claims.subject = IdentityShape::read(&verified.blocks).map(|s| s.subject);
                        claims.identity = proven.subject;
                        Ok(())
                    }
                    Some(failure) => Err(Refusal::Refused(failure)),
                }
            }
            TokenKind::Authorization => {
                let mut seen = HashSet::new();
                let rights: Vec<Right> = outcome
                    .rights
                    .into_iter()
                    .filter(|r| {
                        seen.insert((r.subject.clone(), r.resource.clone(), r.operation.clone()))
                    })
                    .collect();
                self.verify_candidates(
                    &verified,
                    rights,
                    None,
                    |r| Request {
                        subject: Some(r.subject.clone()),
                        resource: r.resource.clone(),
                        operation: Some(r.operation.clone()),
                        ..req.clone()
                    },
                    on_verification,
                )
                .map(|rights| {
                    let first = rights[0].subject.clone();
                    claims.subject = rights.iter().all(|r| r.subject == first).then_some(first);
                    claims.rights = rights;
                })
            }
            TokenKind::Other => Err(Refusal::NoRights { operation: None }),
        };
        match held {
            Ok(()) => claims.status = Status::Valid,
            Err(refusal) => {
                claims.status = refusal.status();
                claims.refusal = Some(refusal);
            }
        }
        Ok(claims)
    }

    /// Decodes, chooses the configured key, checks size, signatures and
    /// revocation ([`Verifier::verify`]'s first half); the refusal when the
    /// token does not get that far.
    fn open_configured(
        &self,
        token: &ParsedToken,
        req: &Request,
    ) -> Result<
        (
            crate::verifier::Outcome,
            Result<Arc<VerifiedToken>, Refusal>,
        ),
        VerifierError,
    > {
        let (outcome, verified) = self.open(
            TokenInput::Parsed(token),
            KeyChoice::Configured,
            req.now,
            self.leeway(req.leeway_seconds),
        )?;
        let opened = match (verified, &outcome.failure) {
            (Some(v), _) => Ok(v),
            (None, Some(failure)) => Err(Refusal::Token {
                status: outcome.status,
                failure: failure.clone(),
            }),
            (None, None) => unreachable!("open() returns a failure with every final outcome"),
        };
        Ok((outcome, opened))
    }

    /// Verifies each candidate (the request `request_for` makes of it) and
    /// keeps those that verify, in order: at most `limits.max_facts`
    /// candidates, one deadline for all of them. `operation` is only for
    /// the refusal of an empty candidate list.
    fn verify_candidates<C>(
        &self,
        verified: &VerifiedToken,
        candidates: Vec<C>,
        operation: Option<&str>,
        request_for: impl Fn(&C) -> Request,
        mut on_verification: impl FnMut(),
    ) -> Result<Vec<C>, Refusal> {
        let mut limits = self.limits();
        if candidates.is_empty() {
            return Err(Refusal::NoRights {
                operation: operation.map(String::from),
            });
        }
        if candidates.len() as u64 > limits.max_facts {
            return Err(Refusal::TooManyCandidates {
                count: candidates.len(),
                max: limits.max_facts,
            });
        }
        let deadline = Instant::now() + limits.max_time;
        let stop = |limit| Refusal::Refused(Failure::Rules(HessraFailure::Limit(limit)));
        let mut granted = Vec::new();
        let mut first_refusal = None;
        for candidate in candidates {
            limits.max_time = deadline.saturating_duration_since(Instant::now());
            if limits.max_time.is_zero() {
                return Err(stop(RunLimit::Timeout));
            }
            on_verification();
            let verdict = match self.effective_request(&request_for(&candidate)) {
                Ok(request) => hessra::verify(verified, &request, &limits),
                // A component outside this resource's service chain: this
                // candidate does not verify (the request is fine for others).
                Err(VerifierError::InvalidRequest(m)) => Err(HessraFailure::InvalidRequest(m)),
                Err(other) => {
                    return Err(Refusal::Refused(Failure::Rules(
                        HessraFailure::InvalidRequest(other.to_string()),
                    )))
                }
            };
            match verdict {
                Ok(()) => granted.push(candidate),
                Err(HessraFailure::Limit(limit @ (RunLimit::Timeout | RunLimit::Interrupted))) => {
                    return Err(stop(limit))
                }
                Err(failure) => {
                    first_refusal.get_or_insert(Failure::Rules(failure));
                }
            }
        }
        match first_refusal {
            Some(failure) if granted.is_empty() => Err(Refusal::Refused(failure)),
            _ => Ok(granted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::crypto::{Algorithm, PrivateKey};
    use crate::token::Token;

    const NOW: i64 = 1_764_151_200;

    fn key() -> PrivateKey {
        PrivateKey::generate(Algorithm::Ed25519).unwrap()
    }

    fn config(root: &PrivateKey, extra: &str) -> Config {
        Config::from_json(&format!(
            r#"{{"version":1,"keys":[{{"id":"dev","public_key":"{}"}}]{}}}"#,
            root.public().to_text(),
            extra
        ))
        .unwrap()
    }

    /// A token of Hessra's shape granting each (subject, resource, operation).
    fn token(root: &PrivateKey, rights: &[(&str, &str, &str)], exp: i64) -> Token {
        let facts: String = rights
            .iter()
            .map(|(s, r, o)| format!("right({:?}, {:?}, {:?});\n", s, r, o))
            .collect();
        let code = crate::parser::parse_block(&format!(
            "{facts}check if subject($s), resource($r), operation($o), right($s, $r, $o);\ncheck if time($t), $t < {exp};"
        ))
        .unwrap();
        Token::mint(root, &code, None).unwrap()
    }

    fn attenuate(t: &Token, root: &PrivateKey, datalog: &str) -> Token {
        t.append(
            &root.public(),
            &crate::parser::parse_block(datalog).unwrap(),
        )
        .unwrap()
    }

    fn request(operation: Option<&str>) -> Request {
        Request {
            operation: operation.map(String::from),
            now: NOW,
            ..Request::default()
        }
    }

    fn granted(cfg: &Config, t: &Token, req: &Request) -> Grants {
        let parsed = ParsedToken::from_text(&t.to_base64()).unwrap();
        Verifier::new(Some(cfg), None)
            .granted_resources(&parsed, req, || {})
            .unwrap()
    }

    fn names(g: &Grants) -> Vec<&str> {
        g.resources.iter().map(String::as_str).collect()
    }

    const TWO: &[(&str, &str, &str)] = &[
        ("alice", "r2", "read"),
        ("alice", "r1", "read"),
        ("alice", "r1", "write"),
        ("alice", "r1", "read"),
    ];

    #[test]
    fn every_granted_resource_and_only_those() {
        let root = key();
        let cfg = config(&root, "");
        let t = token(&root, TWO, NOW + 60);
        let g = granted(&cfg, &t, &request(Some("read")));
        assert_eq!((names(&g), g.refusal.clone()), (vec!["r1", "r2"], None));
        assert_eq!(g.to_json().to_string(), r#"["r1","r2"]"#);
        assert_eq!(
            names(&granted(&cfg, &t, &request(Some("write")))),
            vec!["r1"]
        );
        // no operation: any the token grants
        assert_eq!(names(&granted(&cfg, &t, &request(None))), vec!["r1", "r2"]);
        // an operation it does not grant: nothing, and why
        let none = granted(&cfg, &t, &request(Some("delete")));
        assert_eq!(
            none.refusal,
            Some(Refusal::NoRights {
                operation: Some("delete".into())
            })
        );
        assert!(none.refusal.unwrap().to_string().contains("\"delete\""));
        // subject mode: only that subject's rights
        let mut bob = request(Some("read"));
        bob.subject = Some("bob".into());
        assert!(granted(&cfg, &t, &bob).resources.is_empty());
    }

    #[test]
    fn attenuation_narrows_and_later_blocks_add_no_candidates() {
        let root = key();
        let cfg = config(&root, "");
        let t = token(&root, TWO, NOW + 60);
        let narrowed = attenuate(&t, &root, r#"check if resource("r2");"#);
        assert_eq!(
            names(&granted(&cfg, &narrowed, &request(Some("read")))),
            vec!["r2"]
        );
        // A right added by an attenuation block is no candidate (and would
        // not verify: the right check trusts the authority block only).
        let widened = attenuate(&t, &root, r#"right("alice", "r9", "read");"#);
        assert_eq!(
            names(&granted(&cfg, &widened, &request(Some("read")))),
            vec!["r1", "r2"]
        );
        // Narrowed to nothing it grants: refused with the first failure.
        let nothing = attenuate(&t, &root, r#"check if resource("r9");"#);
        let g = granted(&cfg, &nothing, &request(Some("read")));
        assert!(g.resources.is_empty());
        assert_eq!(
            g.refusal.as_ref().map(Refusal::status),
            Some(Status::Denied)
        );
    }

    #[test]
    fn tokens_that_do_not_verify_grant_nothing() {
        let root = key();
        let cfg = config(&root, "");
        let expired = granted(&cfg, &token(&root, TWO, NOW - 1), &request(Some("read")));
        assert_eq!(
            (expired.resources.len(), expired.refusal.map(|r| r.status())),
            (0, Some(Status::Expired))
        );
        let forged = granted(&cfg, &token(&key(), TWO, NOW + 60), &request(Some("read")));
        assert_eq!(forged.refusal.map(|r| r.status()), Some(Status::Invalid));
        // leeway, as for every verification
        let mut late = request(Some("read"));
        late.leeway_seconds = Some(5);
        assert_eq!(
            names(&granted(&cfg, &token(&root, TWO, NOW - 1), &late)),
            vec!["r1", "r2"]
        );
        // revoked: the authority block's id revokes every attenuation too
        let t = token(&root, TWO, NOW + 60);
        let id = hex_encode(&t.revocation_ids()[0]);
        let revoking = config(&root, &format!(r#","revoked_ids":["{}"]"#, id));
        let r = granted(
            &revoking,
            &attenuate(&t, &root, "check if true;"),
            &request(Some("read")),
        );
        assert_eq!(r.refusal.map(|r| r.status()), Some(Status::Revoked));
    }

    #[test]
    fn domain_prefix_and_the_resources_service_chain_apply_per_candidate() {
        let root = key();
        let edge = key();
        let cfg = config(
            &root,
            &format!(
                r#","service_chains":{{"r2":[{{"component":"edge","public_key":"{}"}}]}}"#,
                edge.public().to_text()
            ),
        );
        let facts = r#"right("alice", "r1", "read"); right("alice", "r2", "read");
            check if subject($s), resource($r), operation($o), right($s, $r, $o);"#;
        let t = Token::mint(&root, &crate::parser::parse_block(facts).unwrap(), None).unwrap();
        // r2 needs edge's attestation: not given, so only r1
        assert_eq!(
            names(&granted(&cfg, &t, &request(Some("read")))),
            vec!["r1"]
        );
        // verifying as edge itself, no node before it must have attested;
        // r1 has no chain, so "edge" is no component of it: denied there
        let mut as_edge = request(Some("read"));
        as_edge.component = Some("edge".into());
        assert_eq!(names(&granted(&cfg, &t, &as_edge)), vec!["r2"]);

        let scoped = attenuate(
            &t,
            &root,
            r#"check if domain("example.com"); check if prefix("p/");"#,
        );
        assert!(granted(&cfg, &scoped, &request(Some("read")))
            .resources
            .is_empty());
        let mut both = request(Some("read"));
        both.domain = Some("example.com".into());
        both.prefix = Some("p/".into());
        assert_eq!(names(&granted(&cfg, &scoped, &both)), vec!["r1"]);
    }

    #[test]
    fn bounded_by_the_configured_limits() {
        let root = key();
        let cfg = config(&root, r#","limits":{"max_facts":3}"#);
        let g = granted(&cfg, &token(&root, TWO, NOW + 60), &request(None));
        // 2 candidates, within 3; but each run holds the token's 4 facts,
        // more than 3: every run is refused by the Datalog limit
        assert!(g.resources.is_empty());
        assert!(matches!(
            g.refusal,
            Some(Refusal::Refused(Failure::Rules(HessraFailure::Limit(
                RunLimit::TooManyFacts
            ))))
        ));
        let many: Vec<(String, String, String)> = (0..5)
            .map(|i| ("alice".into(), format!("r{i}"), "read".into()))
            .collect();
        let refs: Vec<(&str, &str, &str)> = many
            .iter()
            .map(|(s, r, o)| (s.as_str(), r.as_str(), o.as_str()))
            .collect();
        let g = granted(&cfg, &token(&root, &refs, NOW + 60), &request(Some("read")));
        assert_eq!(
            g.refusal,
            Some(Refusal::TooManyCandidates { count: 5, max: 3 })
        );
    }

    #[test]
    fn claims_of_authorization_and_identity_tokens() {
        let root = key();
        let cfg = config(&root, "");
        let claims = |t: &Token, req: &Request| {
            let parsed = ParsedToken::from_text(&t.to_base64()).unwrap();
            Verifier::new(Some(&cfg), None)
                .claims(&parsed, req, || {})
                .unwrap()
        };
        let t = token(&root, TWO, NOW + 60);
        let narrowed = attenuate(&t, &root, r#"check if resource("r1"), operation("write");"#);
        let c = claims(&narrowed, &request(None));
        assert_eq!(
            (c.status, c.kind, c.subject.as_deref()),
            (Status::Valid, Some(TokenKind::Authorization), Some("alice"))
        );
        assert_eq!(
            c.rights.len(),
            1,
            "only the right that verifies: {:?}",
            c.rights
        );
        assert_eq!(
            (c.blocks, c.revocation_ids.len(), c.expires_at),
            (2, 2, Some(NOW + 60))
        );
        let json = c.to_json().to_string();
        assert!(
            json.starts_with(r#"{"status":"valid","kind":"authorization","subject":"alice","identity":null,"rights":[{"subject":"alice","resource":"r1","operation":"write"}],"expires_at":1764151260,"root_key_id":null,"key_id":"dev","domain":null,"revocation_ids":[""#),
            "{json}"
        );
        // expired: nothing verified is claimed, the container still described
        let old = claims(&token(&root, TWO, NOW - 1), &request(None));
        assert_eq!(
            (
                old.status,
                old.subject.clone(),
                old.rights.len(),
                old.revocation_ids.len()
            ),
            (Status::Expired, None, 0, 1)
        );
        // two subjects: no single subject
        let two = claims(
            &token(
                &root,
                &[("alice", "r", "read"), ("bob", "r", "read")],
                NOW + 60,
            ),
            &request(None),
        );
        assert_eq!(
            (two.status, two.subject, two.rights.len()),
            (Status::Valid, None, 2)
        );

        use crate::identity::{delegate, mint, IdentityMint};
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
        .unwrap();
        let mut in_domain = request(None);
        in_domain.domain = Some("example.com".into());
        let id = claims(&laptop, &in_domain);
        assert_eq!(
            (
                id.status,
                id.kind,
                id.subject.as_deref(),
                id.identity.as_deref(),
                id.domain.as_deref()
            ),
            (
                Status::Valid,
                Some(TokenKind::Identity),
                Some("urn:hessra:alice"),
                Some("urn:hessra:alice:laptop"),
                Some("example.com")
            )
        );
        // without its domain the identity token does not verify
        assert_eq!(claims(&laptop, &request(None)).status, Status::Denied);
    }
}
