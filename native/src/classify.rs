//! Classification of a Hessra token for inspection: its kind (identity or
//! authorization), the role of each block, the structure they make, and
//! for identity tokens the base and the narrowest delegated identity. Read
//! from the blocks' Datalog structure, never from printed text (Hessra's
//! own classifier searches the printed token; a symbol that merely looks
//! like an identity cannot fool this one).

use crate::datalog::{Block, Predicate, Term};
use crate::hessra::{self, time_bound};
use crate::identity::{actor_rules, IdentityShape};
use crate::json::Value;

/// What a token is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// `subject(S)` and an actor check in the authority block.
    Identity,
    /// `right(S, R, O)` facts in the authority block.
    Authorization,
    /// Neither (a general Biscuit token).
    Other,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Identity => "identity",
            TokenKind::Authorization => "authorization",
            TokenKind::Other => "other",
        }
    }

    /// The kind of a token from its authority block.
    pub fn of(blocks: &[Block]) -> TokenKind {
        if IdentityShape::read(blocks).is_some() {
            TokenKind::Identity
        } else if !hessra::rights(blocks).is_empty() {
            TokenKind::Authorization
        } else {
            TokenKind::Other
        }
    }
}

/// What a block after the authority block does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockRole {
    Authority,
    /// Restricts the actor to `identity` (and below).
    Delegation {
        identity: String,
    },
    /// `service(R)`: a service-chain node attests the token.
    ServiceAttestation {
        service: String,
    },
    /// `namespace(NS)`: a party of a multi-party token attests it.
    MultiPartyAttestation {
        namespace: String,
    },
    /// `prefix_added(true)` with `check if prefix(P)`.
    PrefixRestriction {
        prefix: Option<String>,
    },
    /// Only time bounds (a just-in-time block, a shorter TTL).
    TimeAttenuation,
    /// Anything else (e.g. a general attenuation).
    Other,
}

impl BlockRole {
    pub fn as_str(&self) -> &'static str {
        match self {
            BlockRole::Authority => "authority",
            BlockRole::Delegation { .. } => "delegation",
            BlockRole::ServiceAttestation { .. } => "service_attestation",
            BlockRole::MultiPartyAttestation { .. } => "multi_party_attestation",
            BlockRole::PrefixRestriction { .. } => "prefix_restriction",
            BlockRole::TimeAttenuation => "time_attenuation",
            BlockRole::Other => "other",
        }
    }

    /// The role of a block after the authority block.
    pub fn of(block: &Block) -> BlockRole {
        let code = &block.code;
        if let Some(rule) = actor_rules(code).pop() {
            return BlockRole::Delegation {
                identity: rule.identity,
            };
        }
        let third_party = block.external_key.is_some();
        let fact_string = |name: &str| {
            code.facts.iter().find_map(|f| match one_string(f) {
                Some(s) if f.name == name => Some(s.to_string()),
                _ => None,
            })
        };
        if third_party {
            if let Some(service) = fact_string("service") {
                return BlockRole::ServiceAttestation { service };
            }
            if let Some(namespace) = fact_string("namespace") {
                return BlockRole::MultiPartyAttestation { namespace };
            }
        }
        let prefix_added = code
            .facts
            .iter()
            .any(|f| f.name == "prefix_added" && f.terms == [Term::Bool(true)]);
        if prefix_added {
            let prefix = code.checks.iter().find_map(|c| match c.queries.as_slice() {
                [q] if q.expressions.is_empty() => match q.body.as_slice() {
                    [p] if p.name == "prefix" => one_string(p).map(String::from),
                    _ => None,
                },
                _ => None,
            });
            return BlockRole::PrefixRestriction { prefix };
        }
        if code.facts.is_empty()
            && code.rules.is_empty()
            && !code.checks.is_empty()
            && code.checks.iter().all(|c| time_bound(c).is_some())
        {
            return BlockRole::TimeAttenuation;
        }
        BlockRole::Other
    }
}

fn one_string(p: &Predicate) -> Option<&str> {
    match p.terms.as_slice() {
        [Term::Str(s)] => Some(s),
        _ => None,
    }
}

/// How the blocks after the authority block combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Structure {
    /// The authority block alone.
    Base,
    Delegated {
        depth: usize,
    },
    ServiceChain {
        nodes: usize,
    },
    MultiParty {
        parties: usize,
    },
    TimeAttenuated,
    PrefixRestricted,
    /// Only blocks of no known role.
    Attenuated,
    /// Blocks of more than one role.
    Mixed,
}

impl Structure {
    pub fn as_str(self) -> &'static str {
        match self {
            Structure::Base => "base",
            Structure::Delegated { .. } => "delegated",
            Structure::ServiceChain { .. } => "service_chain",
            Structure::MultiParty { .. } => "multi_party",
            Structure::TimeAttenuated => "time_attenuated",
            Structure::PrefixRestricted => "prefix_restricted",
            Structure::Attenuated => "attenuated",
            Structure::Mixed => "mixed",
        }
    }

    fn of(roles: &[BlockRole]) -> Structure {
        let later = roles.iter().skip(1);
        let mut kinds: Vec<&'static str> = later.clone().map(BlockRole::as_str).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let count = roles.len().saturating_sub(1);
        match (kinds.as_slice(), roles.get(1)) {
            ([], _) => Structure::Base,
            ([_], Some(BlockRole::Delegation { .. })) => Structure::Delegated { depth: count },
            ([_], Some(BlockRole::ServiceAttestation { .. })) => {
                Structure::ServiceChain { nodes: count }
            }
            ([_], Some(BlockRole::MultiPartyAttestation { .. })) => {
                Structure::MultiParty { parties: count }
            }
            ([_], Some(BlockRole::TimeAttenuation)) => Structure::TimeAttenuated,
            ([_], Some(BlockRole::PrefixRestriction { .. })) => Structure::PrefixRestricted,
            ([_], _) => Structure::Attenuated,
            _ => Structure::Mixed,
        }
    }
}

/// The whole classification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classification {
    pub kind: TokenKind,
    pub structure: Structure,
    /// One role per block, authority first.
    pub roles: Vec<BlockRole>,
    /// Identity tokens: their shape.
    pub identity: Option<IdentityShape>,
}

impl Classification {
    pub fn of(blocks: &[Block]) -> Classification {
        let roles: Vec<BlockRole> = blocks
            .iter()
            .enumerate()
            .map(|(i, b)| {
                if i == 0 {
                    BlockRole::Authority
                } else {
                    BlockRole::of(b)
                }
            })
            .collect();
        Classification {
            kind: TokenKind::of(blocks),
            structure: Structure::of(&roles),
            identity: IdentityShape::read(blocks),
            roles,
        }
    }

    /// `{"kind","structure":{"type",depth|nodes|parties},"blocks":[{"index","role",..}],
    /// "base_identity","identity","delegatable","domain"}` (docs/cli-json.md).
    pub fn to_json(&self) -> Value {
        let mut structure = vec![("type", Value::from(self.structure.as_str()))];
        match self.structure {
            Structure::Delegated { depth } => structure.push(("depth", Value::from(depth))),
            Structure::ServiceChain { nodes } => structure.push(("nodes", Value::from(nodes))),
            Structure::MultiParty { parties } => structure.push(("parties", Value::from(parties))),
            _ => {}
        }
        let blocks = self.roles.iter().enumerate().map(|(i, role)| {
            let mut fields = vec![
                ("index", Value::from(i)),
                ("role", Value::from(role.as_str())),
            ];
            match role {
                BlockRole::Delegation { identity } => {
                    fields.push(("identity", Value::from(identity.as_str())))
                }
                BlockRole::ServiceAttestation { service } => {
                    fields.push(("service", Value::from(service.as_str())))
                }
                BlockRole::MultiPartyAttestation { namespace } => {
                    fields.push(("namespace", Value::from(namespace.as_str())))
                }
                BlockRole::PrefixRestriction { prefix } => {
                    fields.push(("prefix", Value::from(prefix.clone())))
                }
                _ => {}
            }
            Value::object(fields)
        });
        let shape = self.identity.as_ref();
        Value::object([
            ("kind", Value::from(self.kind.as_str())),
            ("structure", Value::object(structure)),
            ("blocks", Value::Array(blocks.collect())),
            (
                "base_identity",
                Value::from(shape.map(|s| s.subject.clone())),
            ),
            (
                "identity",
                Value::from(shape.map(|s| s.narrowest().to_string())),
            ),
            ("delegatable", Value::from(shape.map(|s| s.delegatable))),
            ("domain", Value::from(shape.and_then(|s| s.domain.clone()))),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Algorithm, PrivateKey};
    use crate::datalog::BlockCode;
    use crate::identity::{self, IdentityMint};
    use crate::parser::parse_block;
    use crate::token::{create_third_party_block, Token};

    fn key() -> PrivateKey {
        PrivateKey::generate(Algorithm::Ed25519).unwrap()
    }

    fn third_party(token: &Token, root: &PrivateKey, code: &BlockCode) -> Token {
        let request = token.third_party_request().unwrap();
        let contents = create_third_party_block(&request, &key(), code).unwrap();
        token.append_third_party(&root.public(), &contents).unwrap()
    }

    fn classify(t: &Token) -> Classification {
        Classification::of(&t.decode_unverified().unwrap())
    }

    fn identity_token(root: &PrivateKey) -> Token {
        let m = IdentityMint {
            subject: "urn:hessra:alice".into(),
            delegatable: true,
            domain: Some("example.com".into()),
            expires_at: 2_000_000_000,
        };
        Token::mint(root, &identity::authority_block(&m), None).unwrap()
    }

    #[test]
    fn identity_structures() {
        let root = key();
        let base = identity_token(&root);
        let c = classify(&base);
        assert_eq!(
            (c.kind, c.structure),
            (TokenKind::Identity, Structure::Base)
        );
        assert_eq!(
            c.to_json().to_string(),
            r#"{"kind":"identity","structure":{"type":"base"},"blocks":[{"index":0,"role":"authority"}],"base_identity":"urn:hessra:alice","identity":"urn:hessra:alice","delegatable":true,"domain":"example.com"}"#
        );
        let one = third_party(
            &base,
            &root,
            &identity::delegation_block("urn:hessra:alice:laptop", 2_000_000_000),
        );
        let two = third_party(
            &one,
            &root,
            &identity::delegation_block("urn:hessra:alice:laptop:chrome", 2_000_000_000),
        );
        let c = classify(&two);
        assert_eq!(c.structure, Structure::Delegated { depth: 2 });
        let json = c.to_json().to_string();
        assert!(
            json.contains(r#""structure":{"type":"delegated","depth":2}"#),
            "{json}"
        );
        assert!(
            json.contains(
                r#"{"index":2,"role":"delegation","identity":"urn:hessra:alice:laptop:chrome"}"#
            ),
            "{json}"
        );
        assert!(
            json.contains(
                r#""base_identity":"urn:hessra:alice","identity":"urn:hessra:alice:laptop:chrome""#
            ),
            "{json}"
        );
        let jit = third_party(&base, &root, &identity::jit_block(2_000_000_000));
        assert_eq!(classify(&jit).structure, Structure::TimeAttenuated);
        let mixed = third_party(&one, &root, &identity::jit_block(2_000_000_000));
        let c = classify(&mixed);
        assert_eq!(c.structure, Structure::Mixed);
        assert_eq!(c.identity.unwrap().narrowest(), "urn:hessra:alice:laptop");
    }

    #[test]
    fn a_symbol_that_looks_like_an_identity_is_not_one() {
        // Hessra's inspector would take "urn:hessra:mallory" from the symbols.
        let root = key();
        let base = identity_token(&root);
        let t = base
            .append(
                &root.public(),
                &parse_block(r#"note("urn:hessra:mallory"); check if time($t), $t < 5;"#).unwrap(),
            )
            .unwrap();
        let c = classify(&t);
        assert_eq!(c.roles[1], BlockRole::Other);
        assert_eq!(c.structure, Structure::Attenuated);
        assert_eq!(c.identity.unwrap().narrowest(), "urn:hessra:alice");
    }

    #[test]
    fn authorization_structures() {
        let root = key();
        let authz = crate::hessra::authority_block(&crate::hessra::MintRequest {
            subject: "alice".into(),
            resource: "orders".into(),
            operations: vec!["read".into()],
            ..Default::default()
        });
        let base = Token::mint(&root, &authz, None).unwrap();
        let c = classify(&base);
        assert_eq!(
            (c.kind, c.structure),
            (TokenKind::Authorization, Structure::Base)
        );
        assert_eq!(c.identity, None);
        let n1 = third_party(&base, &root, &crate::hessra::attestation_block("orders"));
        let n2 = third_party(&n1, &root, &crate::hessra::attestation_block("orders"));
        assert_eq!(
            classify(&n2).structure,
            Structure::ServiceChain { nodes: 2 }
        );
        let p1 = third_party(&base, &root, &parse_block(r#"namespace("acme");"#).unwrap());
        let c = classify(&p1);
        assert_eq!(c.structure, Structure::MultiParty { parties: 1 });
        assert_eq!(
            c.roles[1],
            BlockRole::MultiPartyAttestation {
                namespace: "acme".into()
            }
        );
        let prefixed = third_party(
            &base,
            &root,
            &parse_block(r#"check if prefix("tenant/"); prefix_added(true);"#).unwrap(),
        );
        let c = classify(&prefixed);
        assert_eq!(c.structure, Structure::PrefixRestricted);
        assert_eq!(
            c.roles[1],
            BlockRole::PrefixRestriction {
                prefix: Some("tenant/".into())
            }
        );
        // A first-party block claiming to be an attestation is not one.
        let fake = base
            .append(
                &root.public(),
                &parse_block(r#"service("orders");"#).unwrap(),
            )
            .unwrap();
        assert_eq!(classify(&fake).roles[1], BlockRole::Other);
        let general = Token::mint(&root, &parse_block("a(1);").unwrap(), None).unwrap();
        assert_eq!(classify(&general).kind, TokenKind::Other);
    }
}
