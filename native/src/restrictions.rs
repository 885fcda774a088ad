//! Multi-party and prefix restrictions of Hessra authorization tokens
//! (Hessra's SDK: `hessra-token-authz`, `multi_party` and
//! `prefix_restricted`). Both are checks of the authority block that only a
//! third-party block signed by a named key can satisfy:
//!
//! ```text
//! check if namespace("approvals.example.com") trusting ed25519/<party key>;  // one per party
//! check if prefix_added(true) trusting ed25519/<prefix key>;                 // prefix-restricted
//! ```
//!
//! A party attests with the third-party block `namespace(NS);` signed by its
//! key; the prefix attenuator appends the third-party block
//! `check if prefix(P); prefix_added(true);` signed by the prefix key. The
//! verifier needs nothing new: a missing attestation fails the authority's
//! check (a denial naming it), and `prefix(P)` is the request's prefix, so a
//! prefix-restricted token verifies only for a request whose prefix equals P
//! (exactly: it is a string fact, not a string prefix test).
//!
//! The authorizer (`hessra::build_authorizer`) never adds `namespace` or
//! `prefix_added` facts, so only the trusted third-party blocks can.

use crate::config::{parse_public_key, ConfigError};
use crate::crypto::PublicKey;
use crate::datalog::{
    Block, BlockCode, Check, CheckKind, Predicate, Rule, Scope, Term, QUERY_HEAD,
};
use crate::json::Value;
use std::fmt;

/// A party whose attestation a multi-party token requires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Party {
    pub namespace: String,
    pub public_key: PublicKey,
}

/// What a token's authority block requires besides its rights.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Restrictions {
    /// `check if namespace(NS) trusting KEY`, one per party.
    pub parties: Vec<Party>,
    /// `check if prefix_added(true) trusting KEY`.
    pub prefix_key: Option<PublicKey>,
}

/// `check if NAME(TERM) trusting KEY`
fn check_trusting(name: &str, term: Term, key: &PublicKey) -> Check {
    Check {
        queries: vec![Rule {
            head: Predicate {
                name: QUERY_HEAD.to_string(),
                terms: vec![],
            },
            body: vec![Predicate {
                name: name.to_string(),
                terms: vec![term],
            }],
            expressions: vec![],
            scopes: vec![Scope::PublicKey(key.clone())],
        }],
        kind: CheckKind::One,
    }
}

/// The term of a check shaped `check if NAME(TERM) trusting KEY`, and KEY.
fn trusting_check<'a>(check: &'a Check, name: &str) -> Option<(&'a Term, &'a PublicKey)> {
    if check.kind != CheckKind::One {
        return None;
    }
    let [q] = check.queries.as_slice() else {
        return None;
    };
    let ([p], [Scope::PublicKey(key)]) = (q.body.as_slice(), q.scopes.as_slice()) else {
        return None;
    };
    if p.name != name || !q.expressions.is_empty() {
        return None;
    }
    let [term] = p.terms.as_slice() else {
        return None;
    };
    Some((term, key))
}

impl Restrictions {
    /// Adds the checks to an authority block.
    pub fn apply(&self, code: &mut BlockCode) {
        if let Some(key) = &self.prefix_key {
            code.checks
                .push(check_trusting("prefix_added", Term::Bool(true), key));
        }
        for p in &self.parties {
            code.checks.push(check_trusting(
                "namespace",
                Term::Str(p.namespace.clone()),
                &p.public_key,
            ));
        }
    }

    /// The restrictions the authority block of `blocks` holds.
    pub fn of(blocks: &[Block]) -> Restrictions {
        let mut r = Restrictions::default();
        let Some(authority) = blocks.first() else {
            return r;
        };
        for check in &authority.code.checks {
            if let Some((Term::Str(ns), key)) = trusting_check(check, "namespace") {
                r.parties.push(Party {
                    namespace: ns.clone(),
                    public_key: key.clone(),
                });
            } else if let Some((Term::Bool(true), key)) = trusting_check(check, "prefix_added") {
                // the first one: a token with several can only be narrowed by a key they all name
                r.prefix_key.get_or_insert_with(|| key.clone());
            }
        }
        r
    }

    /// Whether `key` may attest `namespace` for this token: the token must
    /// require that namespace, and name `key` for it.
    pub fn check_attester(&self, namespace: &str, key: &PublicKey) -> Result<(), SignerRefused> {
        match self.parties.iter().find(|p| p.namespace == namespace) {
            None => Err(SignerRefused::NoSuchNamespace {
                namespace: namespace.to_string(),
                required: self.parties.iter().map(|p| p.namespace.clone()).collect(),
            }),
            Some(p) if p.public_key != *key => Err(SignerRefused::WrongPartyKey {
                namespace: namespace.to_string(),
                expected: p.public_key.clone(),
            }),
            Some(_) => Ok(()),
        }
    }

    /// Whether `key` may append the prefix block: the token must be
    /// prefix-restricted to that key.
    pub fn check_prefix_signer(&self, key: &PublicKey) -> Result<(), SignerRefused> {
        match &self.prefix_key {
            None => Err(SignerRefused::NotPrefixRestricted),
            Some(k) if k != key => Err(SignerRefused::WrongPrefixKey {
                expected: k.clone(),
            }),
            Some(_) => Ok(()),
        }
    }

    /// Parses `{"multi_party":[{"namespace":..,"public_key":..}],"prefix_key":".."|null}`
    /// (every field optional; the C ABI's `restrictions_json`).
    pub fn from_json(text: &str) -> Result<Restrictions, ConfigError> {
        let field = "restrictions";
        let invalid = |f: &str, m: String| ConfigError {
            kind: crate::config::ConfigErrorKind::Invalid,
            field: f.to_string(),
            message: m,
        };
        let doc = Value::parse(text).map_err(|e| invalid(field, format!("invalid JSON: {}", e)))?;
        let obj = doc
            .as_object()
            .ok_or_else(|| invalid(field, "expected a JSON object".into()))?;
        let mut r = Restrictions::default();
        for (name, v) in obj {
            match name.as_str() {
                "multi_party" if v.is_null() => {}
                "multi_party" => {
                    let items = v.as_array().ok_or_else(|| {
                        invalid(
                            "multi_party",
                            "expected an array of {\"namespace\", \"public_key\"}".into(),
                        )
                    })?;
                    for (i, item) in items.iter().enumerate() {
                        let at = format!("multi_party[{}]", i);
                        let text = |k: &str| {
                            item.get(k)
                                .and_then(Value::as_str)
                                .filter(|s| !s.is_empty())
                                .ok_or_else(|| {
                                    invalid(
                                        &format!("{}.{}", at, k),
                                        "a non-empty string is required".into(),
                                    )
                                })
                        };
                        if let Some(extra) = item.as_object().and_then(|o| {
                            o.iter()
                                .find(|(k, _)| k != "namespace" && k != "public_key")
                        }) {
                            return Err(invalid(
                                &format!("{}.{}", at, extra.0),
                                "unknown field (expected namespace, public_key)".into(),
                            ));
                        }
                        let namespace = text("namespace")?.to_string();
                        let public_key = parse_public_key(text("public_key")?)
                            .map_err(|m| invalid(&format!("{}.public_key", at), m))?;
                        if r.parties.iter().any(|p| p.namespace == namespace) {
                            return Err(invalid(
                                &format!("{}.namespace", at),
                                format!("duplicate namespace {:?}", namespace),
                            ));
                        }
                        r.parties.push(Party {
                            namespace,
                            public_key,
                        });
                    }
                }
                "prefix_key" if v.is_null() => {}
                "prefix_key" => {
                    let t = v.as_str().ok_or_else(|| {
                        invalid("prefix_key", "expected a public key string".into())
                    })?;
                    r.prefix_key = Some(parse_public_key(t).map_err(|m| invalid("prefix_key", m))?);
                }
                other => {
                    return Err(invalid(
                        other,
                        "unknown field (expected multi_party, prefix_key)".into(),
                    ))
                }
            }
        }
        Ok(r)
    }
}

/// Why a key may not sign a restriction block for a token: a block nobody
/// could use (the authority's checks trust another key, or none) is refused
/// before it is signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignerRefused {
    /// The token requires no attestation for `namespace`; it requires `required`.
    NoSuchNamespace {
        namespace: String,
        required: Vec<String>,
    },
    /// The token names another key (`expected`) for `namespace`.
    WrongPartyKey {
        namespace: String,
        expected: PublicKey,
    },
    /// The token has no `check if prefix_added(true) trusting KEY`.
    NotPrefixRestricted,
    /// The token names another prefix key (`expected`).
    WrongPrefixKey { expected: PublicKey },
}

impl fmt::Display for SignerRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignerRefused::NoSuchNamespace {
                namespace,
                required,
            } if required.is_empty() => write!(
                f,
                "the token requires no attestation for namespace {:?} (it requires none)",
                namespace
            ),
            SignerRefused::NoSuchNamespace {
                namespace,
                required,
            } => write!(
                f,
                "the token requires no attestation for namespace {:?} (it requires: {})",
                namespace,
                required.join(", ")
            ),
            SignerRefused::WrongPartyKey {
                namespace,
                expected,
            } => write!(
                f,
                "the party key is not the key the token names for namespace {:?} ({})",
                namespace,
                expected.to_text()
            ),
            SignerRefused::NotPrefixRestricted => write!(
                f,
                "the token is not prefix-restricted (no check if prefix_added(true) trusting KEY)"
            ),
            SignerRefused::WrongPrefixKey { expected } => write!(
                f,
                "the prefix key is not the key the token names ({})",
                expected.to_text()
            ),
        }
    }
}

/// The block a party signs (as a third party) to attest a multi-party
/// token: `namespace(NS);`.
pub fn namespace_block(namespace: &str) -> BlockCode {
    BlockCode {
        facts: vec![Predicate {
            name: "namespace".to_string(),
            terms: vec![Term::Str(namespace.to_string())],
        }],
        ..BlockCode::default()
    }
}

/// The block the prefix attenuator signs (as a third party):
/// `check if prefix(P); prefix_added(true);`.
pub fn prefix_block(prefix: &str) -> BlockCode {
    BlockCode {
        facts: vec![Predicate {
            name: "prefix_added".to_string(),
            terms: vec![Term::Bool(true)],
        }],
        checks: vec![Check {
            queries: vec![Rule {
                head: Predicate {
                    name: QUERY_HEAD.to_string(),
                    terms: vec![],
                },
                body: vec![Predicate {
                    name: "prefix".to_string(),
                    terms: vec![Term::Str(prefix.to_string())],
                }],
                expressions: vec![],
                scopes: vec![],
            }],
            kind: CheckKind::One,
        }],
        ..BlockCode::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Algorithm, PrivateKey};
    use crate::datalog::FailedCheck;
    use crate::hessra::{authority_block, verify, HessraFailure, MintRequest, VerifyRequest};
    use crate::token::{create_third_party_block, Token};

    const NOW: i64 = 1_764_151_200;

    fn key() -> PrivateKey {
        PrivateKey::generate(Algorithm::Ed25519).unwrap()
    }

    fn mint(root: &PrivateKey, r: &Restrictions) -> Token {
        let mut code = authority_block(&MintRequest {
            subject: "alice".into(),
            resource: "orders".into(),
            operations: vec!["read".into()],
            expires_at: Some(NOW + 60),
            ..MintRequest::default()
        });
        r.apply(&mut code);
        Token::mint(root, &code, None).unwrap()
    }

    fn third_party(t: &Token, root: &PrivateKey, signer: &PrivateKey, code: &BlockCode) -> Token {
        let req = t.third_party_request().unwrap();
        let block = create_third_party_block(&req, signer, code).unwrap();
        t.append_third_party(&root.public(), &block).unwrap()
    }

    fn check(t: &Token, root: &PrivateKey, prefix: Option<&str>) -> Result<(), HessraFailure> {
        let v = t.verify(&root.public()).unwrap();
        verify(
            &v,
            &VerifyRequest {
                subject: Some("alice".into()),
                resource: "orders".into(),
                operation: Some("read".into()),
                prefix: prefix.map(String::from),
                now: NOW,
                ..VerifyRequest::default()
            },
            &Default::default(),
        )
    }

    fn failed_rules(r: Result<(), HessraFailure>) -> Vec<String> {
        match r {
            Err(HessraFailure::Denied { failed }) => failed
                .into_iter()
                .map(|c| match c {
                    FailedCheck::Block { rule, .. } | FailedCheck::Authorizer { rule, .. } => {
                        rule.text
                    }
                })
                .collect(),
            other => panic!("expected a denial, got {:?}", other),
        }
    }

    #[test]
    fn only_the_named_keys_may_sign_restriction_blocks() {
        let (a, p, mallory) = (key(), key(), key());
        let r = Restrictions {
            parties: vec![Party {
                namespace: "a.example".into(),
                public_key: a.public(),
            }],
            prefix_key: Some(p.public()),
        };
        assert_eq!(r.check_attester("a.example", &a.public()), Ok(()));
        assert_eq!(
            r.check_attester("a.example", &mallory.public()),
            Err(SignerRefused::WrongPartyKey {
                namespace: "a.example".into(),
                expected: a.public()
            })
        );
        let other = r.check_attester("b.example", &a.public()).unwrap_err();
        assert_eq!(
            other.to_string(),
            "the token requires no attestation for namespace \"b.example\" (it requires: a.example)"
        );
        assert_eq!(r.check_prefix_signer(&p.public()), Ok(()));
        assert!(matches!(
            r.check_prefix_signer(&a.public()),
            Err(SignerRefused::WrongPrefixKey { .. })
        ));
        let none = Restrictions::default();
        assert_eq!(
            none.check_prefix_signer(&p.public()),
            Err(SignerRefused::NotPrefixRestricted)
        );
        assert!(none
            .check_attester("a.example", &a.public())
            .unwrap_err()
            .to_string()
            .ends_with("(it requires none)"));
    }

    #[test]
    fn multi_party_needs_every_party_with_its_key() {
        let (root, a, b, mallory) = (key(), key(), key(), key());
        let r = Restrictions {
            parties: vec![
                Party {
                    namespace: "a.example".into(),
                    public_key: a.public(),
                },
                Party {
                    namespace: "b.example".into(),
                    public_key: b.public(),
                },
            ],
            prefix_key: None,
        };
        let t = mint(&root, &r);
        assert_eq!(
            Restrictions::of(&t.verify(&root.public()).unwrap().blocks),
            r
        );
        let failed = failed_rules(check(&t, &root, None));
        assert_eq!(failed.len(), 2, "{failed:?}");
        assert!(
            failed[0].starts_with("check if namespace(\"a.example\") trusting ed25519/"),
            "{failed:?}"
        );

        let ta = third_party(&t, &root, &a, &namespace_block("a.example"));
        let failed = failed_rules(check(&ta, &root, None));
        assert_eq!(failed.len(), 1);
        assert!(
            failed[0].contains("b.example"),
            "a missing party is named: {failed:?}"
        );
        // b's namespace signed by the wrong key, or a's key claiming b's namespace: refused
        for wrong in [&mallory, &a] {
            let tw = third_party(&ta, &root, wrong, &namespace_block("b.example"));
            assert!(check(&tw, &root, None).is_err());
        }
        let tab = third_party(&ta, &root, &b, &namespace_block("b.example"));
        assert_eq!(check(&tab, &root, None), Ok(()));
    }

    #[test]
    fn prefix_restriction() {
        let (root, pk, mallory) = (key(), key(), key());
        let r = Restrictions {
            parties: vec![],
            prefix_key: Some(pk.public()),
        };
        let t = mint(&root, &r);
        assert_eq!(
            Restrictions::of(&t.verify(&root.public()).unwrap().blocks),
            r
        );
        // not narrowed yet: the authority's check fails, whatever the request
        assert!(check(&t, &root, Some("tenant/1/")).is_err());
        let narrowed = third_party(&t, &root, &pk, &prefix_block("tenant/1/"));
        assert_eq!(check(&narrowed, &root, Some("tenant/1/")), Ok(()));
        let failed = failed_rules(check(&narrowed, &root, Some("tenant/2/")));
        assert_eq!(failed, vec!["check if prefix(\"tenant/1/\")".to_string()]);
        assert!(
            check(&narrowed, &root, Some("tenant/1/x")).is_err(),
            "equality, not a string prefix"
        );
        assert!(check(&narrowed, &root, None).is_err(), "no prefix given");
        let forged = third_party(&t, &root, &mallory, &prefix_block("tenant/1/"));
        assert!(
            check(&forged, &root, Some("tenant/1/")).is_err(),
            "wrong prefix key"
        );
    }

    #[test]
    fn restrictions_json() {
        let k = key().public().to_text();
        let r = Restrictions::from_json(&format!(
            r#"{{"multi_party":[{{"namespace":"a","public_key":"{k}"}}],"prefix_key":"{k}"}}"#
        ))
        .unwrap();
        assert_eq!((r.parties.len(), r.prefix_key.is_some()), (1, true));
        assert_eq!(
            Restrictions::from_json("{}").unwrap(),
            Restrictions::default()
        );
        for (bad, field) in [
            (r#"{"colour":1}"#.to_string(), "colour"),
            (
                r#"{"multi_party":[{"namespace":"a"}]}"#.to_string(),
                "multi_party[0].public_key",
            ),
            (
                format!(r#"{{"multi_party":[{{"namespace":"","public_key":"{k}"}}]}}"#),
                "multi_party[0].namespace",
            ),
            (
                format!(
                    r#"{{"multi_party":[{{"namespace":"a","public_key":"{k}"}},{{"namespace":"a","public_key":"{k}"}}]}}"#
                ),
                "multi_party[1].namespace",
            ),
            (r#"{"prefix_key":"nope"}"#.to_string(), "prefix_key"),
        ] {
            assert_eq!(
                Restrictions::from_json(&bad).unwrap_err().field,
                field,
                "{bad}"
            );
        }
    }
}
