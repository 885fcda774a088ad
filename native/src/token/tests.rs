//! Token tests: the conformance samples (decode, verify, tables, printed
//! code, byte-identical re-encoding), minting round trips, sealing,
//! third-party blocks, and tampering.

use super::*;
use crate::crypto::{Algorithm, PrivateKey, PublicKey};
use crate::datalog::ast::{
    BlockCode, Check, CheckKind, Expression, Op, Predicate, Rule, Scope, Term,
};
use crate::datalog::print::block_source;
use crate::encoding::{hex_decode, hex_encode};
use crate::format::{encode_block_full, KeyTable, SymbolTable};
use crate::json::Value;

const SAMPLES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/biscuit-samples");

struct SampleBlock {
    symbols: Vec<String>,
    public_keys: Vec<String>,
    external_key: Option<String>,
    code: String,
    version: u32,
}

struct Sample {
    file: String,
    blocks: Vec<SampleBlock>,
    /// Revocation ids (hex) of the first validation that lists them.
    revocation_ids: Option<Vec<String>>,
    bytes: Vec<u8>,
}

struct Samples {
    root_private: PrivateKey,
    root_public: PublicKey,
    cases: Vec<Sample>,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

fn load_samples() -> Samples {
    let text =
        std::fs::read_to_string(format!("{}/samples.json", SAMPLES_DIR)).expect("samples.json");
    let json = Value::parse(&text).unwrap();
    let root_private = PrivateKey::from_bytes(
        Algorithm::Ed25519,
        &hex_decode(json.get("root_private_key").unwrap().as_str().unwrap()).unwrap(),
    )
    .unwrap();
    let root_public = PublicKey::from_bytes(
        Algorithm::Ed25519,
        &hex_decode(json.get("root_public_key").unwrap().as_str().unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(root_private.public(), root_public);
    let mut cases = Vec::new();
    for case in json.get("testcases").unwrap().as_array().unwrap() {
        let file = case.get("filename").unwrap().as_str().unwrap().to_owned();
        let blocks = case
            .get("token")
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|b| SampleBlock {
                symbols: strings(b.get("symbols").unwrap()),
                public_keys: strings(b.get("public_keys").unwrap()),
                external_key: b
                    .get("external_key")
                    .and_then(|k| k.as_str())
                    .map(str::to_owned),
                code: b.get("code").unwrap().as_str().unwrap().to_owned(),
                version: b.get("version").unwrap().as_i64().unwrap() as u32,
            })
            .collect();
        let revocation_ids = case
            .get("validations")
            .unwrap()
            .as_object()
            .unwrap()
            .iter()
            .find_map(|(_, v)| {
                v.get("revocation_ids")
                    .filter(|r| !r.as_array().unwrap().is_empty())
                    .map(strings)
            });
        let bytes = std::fs::read(format!("{}/{}", SAMPLES_DIR, file)).unwrap();
        cases.push(Sample {
            file,
            blocks,
            revocation_ids,
            bytes,
        });
    }
    assert_eq!(cases.len(), 37);
    Samples {
        root_private,
        root_public,
        cases,
    }
}

/// The expected verification failure of the samples that must not verify.
fn expected_failure(file: &str) -> Option<fn(&TokenError) -> bool> {
    if file.starts_with("test002")
        || file.starts_with("test004")
        || file.starts_with("test005")
        || file.starts_with("test006")
    {
        Some(|e| {
            matches!(
                e,
                TokenError::InvalidSignature {
                    kind: SignatureKind::Block,
                    ..
                }
            )
        })
    } else if file.starts_with("test003") {
        Some(|e| {
            matches!(
                e,
                TokenError::SignatureFormat {
                    block: 0,
                    kind: SignatureKind::Block
                }
            )
        })
    } else {
        None
    }
}

fn check_blocks(file: &str, blocks: &[Block], expected: &[SampleBlock]) {
    assert_eq!(blocks.len(), expected.len(), "{}", file);
    for (i, (b, e)) in blocks.iter().zip(expected).enumerate() {
        assert_eq!(b.symbols, e.symbols, "{} block {} symbols", file, i);
        let keys: Vec<String> = b.public_keys.iter().map(PublicKey::to_text).collect();
        assert_eq!(keys, e.public_keys, "{} block {} public keys", file, i);
        assert_eq!(
            b.external_key.as_ref().map(PublicKey::to_text),
            e.external_key,
            "{} block {} external key",
            file,
            i
        );
        assert_eq!(b.version, e.version, "{} block {} version", file, i);
        assert_eq!(block_source(&b.code), e.code, "{} block {} code", file, i);
    }
}

#[test]
fn samples_decode_and_verify() {
    let s = load_samples();
    for case in &s.cases {
        let token =
            Token::from_bytes(&case.bytes).unwrap_or_else(|e| panic!("{}: {}", case.file, e));
        let result = token.verify(&s.root_public);
        match expected_failure(&case.file) {
            Some(matches) => {
                let err = result.expect_err(&case.file);
                assert!(matches(&err), "{}: unexpected error {:?}", case.file, err);
                // Decoding without a key still works, except for the random
                // block of test004.
                if case.file.starts_with("test004") {
                    assert!(matches!(
                        token.decode_unverified(),
                        Err(TokenError::Format { block: Some(1), .. })
                    ));
                } else if case.file.starts_with("test006") {
                    // Blocks 1 and 2 are swapped in the file.
                    let mut blocks = token.decode_unverified().unwrap();
                    blocks.swap(1, 2);
                    check_blocks(&case.file, &blocks, &case.blocks);
                } else {
                    check_blocks(
                        &case.file,
                        &token.decode_unverified().unwrap(),
                        &case.blocks,
                    );
                }
            }
            None => {
                let verified = result.unwrap_or_else(|e| panic!("{}: {}", case.file, e));
                check_blocks(&case.file, &verified.blocks, &case.blocks);
                assert_eq!(verified.blocks, token.decode_unverified().unwrap());
                if let Some(ids) = &case.revocation_ids {
                    let got: Vec<String> = verified
                        .revocation_ids
                        .iter()
                        .map(|r| hex_encode(r))
                        .collect();
                    assert_eq!(&got, ids, "{} revocation ids", case.file);
                }
                assert_eq!(verified.sealed, case.file.starts_with("test020"));
                // The container re-encodes to the same bytes.
                assert_eq!(token.to_bytes(), case.bytes, "{}", case.file);
                assert_eq!(Token::from_base64(&token.to_base64()).unwrap(), token);
            }
        }
    }
}

/// Re-encoding every decoded block from its AST with the interning order
/// gives the original bytes (first-party blocks against the token tables,
/// third-party blocks against fresh tables).
#[test]
fn samples_reencode_byte_identical() {
    let s = load_samples();
    for case in &s.cases {
        if case.file.starts_with("test004") {
            continue;
        }
        let token = Token::from_bytes(&case.bytes).unwrap();
        let blocks = token.decode_unverified().unwrap();
        let mut symbols = SymbolTable::new();
        let mut keys = KeyTable::new();
        for (i, (block, signed)) in blocks.iter().zip(token.signed_blocks()).enumerate() {
            let third_party = block.external_key.is_some();
            let encoded = if third_party {
                encode_block_full(
                    &block.code,
                    &mut SymbolTable::new(),
                    &mut KeyTable::new(),
                    true,
                    block.context.as_deref(),
                )
            } else {
                encode_block_full(
                    &block.code,
                    &mut symbols,
                    &mut keys,
                    false,
                    block.context.as_deref(),
                )
            };
            assert_eq!(encoded.symbols, block.symbols, "{} block {}", case.file, i);
            assert_eq!(
                encoded.public_keys, block.public_keys,
                "{} block {}",
                case.file, i
            );
            assert_eq!(encoded.version, block.version, "{} block {}", case.file, i);
            assert!(
                encoded.bytes == signed.block,
                "{} block {}: bytes differ",
                case.file,
                i
            );
        }
    }
}

/// Rebuilds every verifiable sample by minting: same root key, same next
/// key algorithms, third-party blocks signed by fresh keys. First-party
/// blocks come out byte-identical, signature versions match, and the
/// decoded blocks equal the originals.
#[test]
fn samples_remint() {
    let s = load_samples();
    for case in &s.cases {
        if expected_failure(&case.file).is_some() {
            continue;
        }
        let original = Token::from_bytes(&case.bytes).unwrap();
        let blocks = original.verify(&s.root_public).unwrap().blocks;
        let alg = |i: usize| original.keys[i].next_key.algorithm();
        let mut token = Token::mint_with_algorithm(
            &s.root_private,
            &blocks[0].code,
            original.root_key_id(),
            alg(0),
        )
        .unwrap();
        for (i, block) in blocks.iter().enumerate().skip(1) {
            token = match &block.external_key {
                None => token
                    .append_with_algorithm(&s.root_public, &block.code, alg(i))
                    .unwrap(),
                Some(ext) => {
                    let signer = PrivateKey::generate(ext.algorithm()).unwrap();
                    let request = token.third_party_request().unwrap();
                    let contents =
                        create_third_party_block(&request, &signer, &block.code).unwrap();
                    token
                        .append_third_party_with_algorithm(&s.root_public, &contents, alg(i))
                        .unwrap()
                }
            };
        }
        if original.is_sealed() {
            token = token.seal(&s.root_public).unwrap();
        }
        let reminted = token.verify(&s.root_public).unwrap();
        for (i, (new, old)) in reminted.blocks.iter().zip(blocks.iter()).enumerate() {
            assert_eq!(new.code, old.code, "{} block {}", case.file, i);
            assert_eq!(new.symbols, old.symbols, "{} block {}", case.file, i);
            assert_eq!(
                new.public_keys, old.public_keys,
                "{} block {}",
                case.file, i
            );
            assert_eq!(new.version, old.version, "{} block {}", case.file, i);
            assert_eq!(
                token.keys[i].sig_version, original.keys[i].sig_version,
                "{} block {} sv",
                case.file, i
            );
            if old.external_key.is_none() {
                let (a, b) = (
                    token.signed_blocks().nth(i).unwrap(),
                    original.signed_blocks().nth(i).unwrap(),
                );
                assert!(
                    a.block == b.block,
                    "{} block {}: bytes differ",
                    case.file,
                    i
                );
            }
        }
        assert_eq!(reminted.blocks.len(), blocks.len());
        assert_eq!(token.root_key_id(), original.root_key_id());
    }
}

// ---------------------------------------------------------------------------
// Minting

fn pred(name: &str, terms: Vec<Term>) -> Predicate {
    Predicate {
        name: name.into(),
        terms,
    }
}

fn s(v: &str) -> Term {
    Term::Str(v.into())
}

fn var(v: &str) -> Term {
    Term::Variable(v.into())
}

fn authority_code() -> BlockCode {
    BlockCode {
        facts: vec![pred("right", vec![s("alice"), s("orders"), s("read")])],
        rules: vec![],
        checks: vec![Check {
            kind: CheckKind::One,
            queries: vec![Rule {
                head: pred("query", vec![]),
                body: vec![pred("time", vec![var("t")])],
                expressions: vec![Expression {
                    ops: vec![
                        Op::Value(var("t")),
                        Op::Value(Term::Date(2_000_000_000)),
                        Op::Binary(crate::datalog::Binary::LessThan),
                    ],
                }],
                scopes: vec![],
            }],
        }],
        scopes: vec![],
    }
}

fn attenuation_code() -> BlockCode {
    BlockCode {
        facts: vec![pred(
            "note",
            vec![
                Term::Set(vec![s("b"), s("a"), s("alice")]),
                Term::Integer(-3),
            ],
        )],
        rules: vec![],
        checks: vec![Check {
            kind: CheckKind::One,
            queries: vec![Rule {
                head: pred("query", vec![]),
                body: vec![pred("resource", vec![s("orders")])],
                expressions: vec![],
                scopes: vec![],
            }],
        }],
        scopes: vec![],
    }
}

#[test]
fn mint_verify_append_both_algorithms() {
    for root_alg in [Algorithm::Ed25519, Algorithm::Secp256r1] {
        for next_alg in [Algorithm::Ed25519, Algorithm::Secp256r1] {
            let root = PrivateKey::generate(root_alg).unwrap();
            let token =
                Token::mint_with_algorithm(&root, &authority_code(), Some(7), next_alg).unwrap();
            assert_eq!(token.root_key_id(), Some(7));
            let sv = if root_alg == Algorithm::Ed25519 && next_alg == Algorithm::Ed25519 {
                0
            } else {
                1
            };
            assert_eq!(token.keys[0].sig_version, sv);
            let bytes = token.to_bytes();
            let parsed = Token::from_bytes(&bytes).unwrap();
            let v = parsed.verify(&root.public()).unwrap();
            assert_eq!(v.blocks.len(), 1);
            assert_eq!(v.blocks[0].code, authority_code());
            assert_eq!(
                v.blocks[0].symbols,
                vec!["alice".to_string(), "orders".into(), "t".into()]
            );
            assert_eq!(v.blocks[0].version, 3);
            // Wrong root key.
            let other = PrivateKey::generate(root_alg).unwrap();
            assert!(matches!(
                parsed.verify(&other.public()),
                Err(TokenError::InvalidSignature { block: 0, .. })
            ));

            let appended = parsed
                .append_with_algorithm(&root.public(), &attenuation_code(), next_alg)
                .unwrap();
            let v = Token::from_base64(&appended.to_base64())
                .unwrap()
                .verify(&root.public())
                .unwrap();
            assert_eq!(v.blocks.len(), 2);
            // Sets are serialized in symbol-index order: "alice" (authority)
            // first, then the new "a", "b" interned in value order.
            assert_eq!(
                v.blocks[1].symbols,
                vec!["note".to_string(), "a".into(), "b".into()]
            );
            assert_eq!(
                v.blocks[1].code.facts[0].terms[0],
                Term::Set(vec![s("alice"), s("a"), s("b")])
            );
            assert_eq!(v.revocation_ids.len(), 2);
            assert!(appended
                .append(&other.public(), &attenuation_code())
                .is_err());
        }
    }
}

#[test]
fn seal_and_append_on_sealed() {
    let root = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let token = Token::mint(&root, &authority_code(), None).unwrap();
    let token = token.append(&root.public(), &attenuation_code()).unwrap();
    let sealed = token.seal(&root.public()).unwrap();
    assert!(sealed.is_sealed());
    let parsed = Token::from_bytes(&sealed.to_bytes()).unwrap();
    let v = parsed.verify(&root.public()).unwrap();
    assert!(v.sealed);
    assert_eq!(v.blocks.len(), 2);
    assert_eq!(
        parsed.append(&root.public(), &attenuation_code()),
        Err(TokenError::AppendOnSealed)
    );
    assert_eq!(parsed.seal(&root.public()), Err(TokenError::AlreadySealed));
    assert_eq!(
        parsed.third_party_request(),
        Err(TokenError::AppendOnSealed)
    );
    // A seal over another token's last block does not verify.
    let other = Token::mint(&root, &authority_code(), None)
        .unwrap()
        .seal(&root.public())
        .unwrap();
    let mut forged = parsed.container.clone();
    forged.proof = other.container.proof.clone();
    let forged = Token::from_bytes(&forged.encode()).unwrap();
    assert!(matches!(
        forged.verify(&root.public()),
        Err(TokenError::InvalidSignature {
            block: 1,
            kind: SignatureKind::Seal
        })
    ));
}

#[test]
fn wrong_next_secret_is_rejected() {
    let root = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let a = Token::mint(&root, &authority_code(), None).unwrap();
    let b = Token::mint(&root, &authority_code(), None).unwrap();
    let mut c = a.container.clone();
    c.proof = b.container.proof.clone();
    let t = Token::from_bytes(&c.encode()).unwrap();
    assert_eq!(t.verify(&root.public()), Err(TokenError::InvalidProof));
    c.proof = Proof::Empty;
    assert_eq!(
        Token::from_bytes(&c.encode()),
        Err(TokenError::MissingProof)
    );
}

#[test]
fn third_party_round_trip() {
    let root = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let token = Token::mint(&root, &authority_code(), None).unwrap();
    for signer_alg in [Algorithm::Ed25519, Algorithm::Secp256r1] {
        let signer = PrivateKey::generate(signer_alg).unwrap();
        let code = BlockCode {
            facts: vec![pred("attested", vec![s("orders"), s("alice")])],
            rules: vec![],
            checks: vec![Check {
                kind: CheckKind::One,
                queries: vec![Rule {
                    head: pred("query", vec![]),
                    body: vec![pred("right", vec![s("alice"), s("orders"), s("read")])],
                    expressions: vec![],
                    scopes: vec![Scope::Authority, Scope::PublicKey(root.public())],
                }],
            }],
            scopes: vec![],
        };
        let request = token.third_party_request().unwrap();
        let contents = create_third_party_block(&request, &signer, &code).unwrap();
        let t = token.append_third_party(&root.public(), &contents).unwrap();
        assert_eq!(t.keys[1].sig_version, 1);
        // A later first-party block continues the first-party symbol table.
        let t = t.append(&root.public(), &attenuation_code()).unwrap();
        assert_eq!(t.keys[2].sig_version, 1);
        let v = Token::from_bytes(&t.to_bytes())
            .unwrap()
            .verify(&root.public())
            .unwrap();
        assert_eq!(v.blocks[1].external_key, Some(signer.public()));
        assert_eq!(v.blocks[1].code, code);
        assert_eq!(v.blocks[1].version, 5);
        // Own tables: "alice", "orders" are new symbols in the third-party block.
        assert_eq!(
            v.blocks[1].symbols,
            vec!["attested".to_string(), "orders".into(), "alice".into()]
        );
        assert_eq!(v.blocks[1].public_keys, vec![root.public()]);
        assert_eq!(
            v.blocks[2].symbols,
            vec!["note".to_string(), "a".into(), "b".into()]
        );
        assert_eq!(v.blocks[2].code, attenuation_code());
        assert_eq!(t.external_keys(), vec![None, Some(signer.public()), None]);

        // The contents are bound to the request's token.
        let other = Token::mint(&root, &authority_code(), None).unwrap();
        assert!(matches!(
            other.append_third_party(&root.public(), &contents),
            Err(TokenError::InvalidSignature {
                block: 1,
                kind: SignatureKind::External
            })
        ));
        // A tampered external signature in the container is caught.
        let mut c = t.container.clone();
        let sig = &mut c.blocks[0].external_signature.as_mut().unwrap().signature;
        let last = sig.len() - 1;
        sig[last] ^= 1;
        let tampered = Token::from_bytes(&c.encode()).unwrap();
        assert!(tampered.verify(&root.public()).is_err());
    }
    // Legacy requests are refused.
    let legacy = crate::format::ThirdPartyBlockRequest {
        legacy_previous_key: Some(crate::format::convert::key_to_proto(&root.public())),
        legacy_public_keys: vec![],
        previous_signature: vec![0; 64],
    };
    assert!(matches!(
        create_third_party_block(&legacy.encode(), &root, &authority_code()),
        Err(TokenError::ThirdParty(_))
    ));
}

#[test]
fn third_party_signature_version_rules() {
    // An external signature on a block with signature version 0 is refused
    // before any signature is checked.
    let root = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let token = Token::mint(&root, &authority_code(), None).unwrap();
    let signer = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let contents = create_third_party_block(
        &token.third_party_request().unwrap(),
        &signer,
        &attenuation_code(),
    )
    .unwrap();
    let t = token.append_third_party(&root.public(), &contents).unwrap();
    let mut c = t.container.clone();
    c.blocks[0].version = None;
    assert_eq!(
        Token::from_bytes(&c.encode()),
        Err(TokenError::UnsupportedThirdPartySignatureVersion { block: 1 })
    );
    c.blocks[0].version = Some(2);
    assert_eq!(
        Token::from_bytes(&c.encode()),
        Err(TokenError::UnsupportedSignatureVersion {
            block: 1,
            version: 2
        })
    );
    let mut c = t.container.clone();
    c.authority.external_signature = c.blocks[0].external_signature.clone();
    c.authority.version = Some(1);
    assert_eq!(
        Token::from_bytes(&c.encode()),
        Err(TokenError::ExternalSignatureOnAuthority)
    );
}

#[test]
fn minted_versions() {
    let root = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    // `reject if` forces version 6 and signature version 1.
    let mut code = authority_code();
    code.checks[0].kind = CheckKind::Reject;
    let t = Token::mint(&root, &code, None).unwrap();
    let v = t.verify(&root.public()).unwrap();
    assert_eq!(v.blocks[0].version, 6);
    assert_eq!(t.keys[0].sig_version, 1);
    // Later Ed25519 blocks keep signature version 1.
    let t = t.append(&root.public(), &attenuation_code()).unwrap();
    assert_eq!(t.keys[1].sig_version, 1);
    assert_eq!(t.verify(&root.public()).unwrap().blocks[1].version, 3);
    // Arrays make a block version 6.
    let code = BlockCode {
        facts: vec![pred("a", vec![Term::Array(vec![])])],
        ..BlockCode::default()
    };
    let t = Token::mint(&root, &code, None).unwrap();
    assert_eq!(t.verify(&root.public()).unwrap().blocks[0].version, 6);
    // Check all makes it 4.
    let mut code = authority_code();
    code.checks[0].kind = CheckKind::All;
    let t = Token::mint(&root, &code, None).unwrap();
    assert_eq!(t.verify(&root.public()).unwrap().blocks[0].version, 4);
    assert_eq!(t.keys[0].sig_version, 0);
    // A set holding a variable cannot be loaded, so it is not minted.
    let code = BlockCode {
        facts: vec![pred("a", vec![Term::Set(vec![var("x")])])],
        ..BlockCode::default()
    };
    assert!(matches!(
        Token::mint(&root, &code, None),
        Err(TokenError::Format { block: Some(0), .. })
    ));
}

// ---------------------------------------------------------------------------
// Tampering

fn assert_rejects_all_mutations(bytes: &[u8], root: &PublicKey, name: &str) {
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut m = bytes.to_vec();
            m[i] ^= mask;
            let result = Token::from_bytes(&m).and_then(|t| t.verify(root));
            match result {
                Ok(_) => panic!(
                    "{}: flipping byte {} with {:#x} still verifies",
                    name, i, mask
                ),
                Err(e) => {
                    let msg = e.to_string();
                    assert!(msg.len() < 200, "{}", msg);
                }
            }
        }
    }
    for len in 0..bytes.len() {
        assert!(
            Token::from_bytes(&bytes[..len])
                .and_then(|t| t.verify(root))
                .is_err(),
            "{}: truncated at {}",
            name,
            len
        );
    }
}

#[test]
fn tampering_minted_tokens() {
    let root = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let token = Token::mint(&root, &authority_code(), None).unwrap();
    let signer = PrivateKey::generate(Algorithm::Secp256r1).unwrap();
    let contents = create_third_party_block(
        &token.third_party_request().unwrap(),
        &signer,
        &attenuation_code(),
    )
    .unwrap();
    let token = token.append_third_party(&root.public(), &contents).unwrap();
    let token = token
        .append_with_algorithm(&root.public(), &attenuation_code(), Algorithm::Secp256r1)
        .unwrap();
    assert_rejects_all_mutations(&token.to_bytes(), &root.public(), "minted");
    let sealed = token.seal(&root.public()).unwrap();
    assert_rejects_all_mutations(&sealed.to_bytes(), &root.public(), "sealed");
}

#[test]
fn tampering_samples() {
    let s = load_samples();
    for name in [
        "test020_sealed",
        "test024_third_party",
        "test036_secp256r1",
        "test037_secp256r1_third_party",
    ] {
        let case = s.cases.iter().find(|c| c.file.starts_with(name)).unwrap();
        let token = Token::from_bytes(&case.bytes).unwrap();
        assert_eq!(
            token.root_key_id(),
            None,
            "{}: the mutation test assumes no root key id",
            name
        );
        assert_rejects_all_mutations(&case.bytes, &s.root_public, name);
    }
}

#[test]
fn container_bounds() {
    assert!(matches!(
        Token::from_bytes(&vec![0u8; MAX_TOKEN_BYTES + 1]),
        Err(TokenError::TooLarge { .. })
    ));
    assert!(matches!(
        Token::from_base64("!!!"),
        Err(TokenError::Encoding(_))
    ));
    // 1024 blocks are too many.
    let root = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let token = Token::mint(&root, &BlockCode::default(), None).unwrap();
    let mut c = token.container.clone();
    c.blocks = vec![c.authority.clone(); MAX_BLOCKS];
    assert!(matches!(
        Token::from_bytes(&c.encode()),
        Err(TokenError::Format {
            block: None,
            error: FormatError::TooManyBlocks { .. }
        })
    ));
    c.blocks.pop();
    assert!(Token::from_bytes(&c.encode()).is_ok());
}
