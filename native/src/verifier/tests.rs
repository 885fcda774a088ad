//! The verifier's tests: statuses, key choice, revocation, identity tokens,
//! the rendering of failures and the token-text normalisation.

use super::*;
use crate::crypto::{Algorithm, PrivateKey};
use crate::datalog::{AuthError, FailedCheck, MatchedPolicy};
use crate::encoding::base64url_encode;
use crate::hessra::{authority_block, MintRequest};
use crate::token::Token;

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
