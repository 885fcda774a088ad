//! Runs every official Biscuit conformance sample (tests/data/biscuit-samples)
//! through the engine: decoding, signature checks, the printed blocks, the
//! authorization result, the world's facts and the revocation ids.

use std::collections::BTreeSet;
use std::path::PathBuf;

use hessra_ffi::crypto::{Algorithm, PublicKey};
use hessra_ffi::datalog::{
    print::block_source, AuthError, Authorization, ConformanceExterns, FailedCheck, MatchedPolicy,
    RunLimits, AUTHORIZER_ID,
};
use hessra_ffi::encoding::{hex_decode, hex_encode};
use hessra_ffi::json::Value;
use hessra_ffi::parser::parse_authorizer;
use hessra_ffi::token::Token;

fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/biscuit-samples")
}

/// The result in the shape of samples.json (`{"Ok": n}` or `{"Err": ...}`),
/// reduced to what a test can compare: Ok(policy) or the error's path and details.
fn describe_result(result: &Result<usize, AuthError>) -> String {
    match result {
        Ok(i) => format!("Ok({i})"),
        Err(e) => describe_auth_error(e),
    }
}

fn describe_checks(checks: &[FailedCheck]) -> String {
    let parts: Vec<String> = checks
        .iter()
        .map(|c| match c {
            FailedCheck::Block {
                block_id,
                check_id,
                rule,
            } => format!("Block({block_id},{check_id},{rule})"),
            FailedCheck::Authorizer { check_id, rule } => format!("Authorizer({check_id},{rule})"),
        })
        .collect();
    parts.join(";")
}

fn describe_auth_error(e: &AuthError) -> String {
    match e {
        AuthError::InvalidBlockRule(id, rule) => format!("InvalidBlockRule({id},{rule})"),
        AuthError::Unauthorized { policy, checks } => {
            let p = match policy {
                MatchedPolicy::Allow(i) => format!("Allow({i})"),
                MatchedPolicy::Deny(i) => format!("Deny({i})"),
            };
            format!("Unauthorized({p},[{}])", describe_checks(checks))
        }
        AuthError::NoMatchingPolicy { checks } => {
            format!("NoMatchingPolicy([{}])", describe_checks(checks))
        }
        AuthError::RunLimit(l) => format!("RunLimit({l:?})"),
        AuthError::Execution(x) => format!("Execution({})", execution_name(&format!("{x:?}"))),
    }
}

/// `Overflow`, `ShadowedVariable`, ...: the variant name without payload.
fn execution_name(debug: &str) -> String {
    debug
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or(debug)
        .to_string()
}

fn describe_expected(v: &Value) -> String {
    if let Some(ok) = v.get("Ok") {
        return format!("Ok({})", ok.as_i64().expect("Ok index"));
    }
    let err = v.get("Err").expect("Err");
    if let Some(logic) = err.get("FailedLogic") {
        if let Some(u) = logic.get("Unauthorized") {
            let policy = u.get("policy").unwrap();
            let p = if let Some(i) = policy.get("Allow") {
                format!("Allow({})", i.as_i64().unwrap())
            } else {
                format!("Deny({})", policy.get("Deny").unwrap().as_i64().unwrap())
            };
            return format!(
                "Unauthorized({p},[{}])",
                expected_checks(u.get("checks").unwrap())
            );
        }
        if let Some(n) = logic.get("NoMatchingPolicy") {
            return format!(
                "NoMatchingPolicy([{}])",
                expected_checks(n.get("checks").unwrap())
            );
        }
        if let Some(r) = logic.get("InvalidBlockRule") {
            let a = r.as_array().unwrap();
            return format!(
                "InvalidBlockRule({},{})",
                a[0].as_i64().unwrap(),
                a[1].as_str().unwrap()
            );
        }
        panic!("unexpected FailedLogic shape {logic}");
    }
    if let Some(x) = err.get("Execution") {
        let name = x
            .as_str()
            .map(|s| s.to_string())
            .unwrap_or_else(|| match x.as_object() {
                Some(o) => o[0].0.clone(),
                None => x.to_string(),
            });
        return format!("Execution({name})");
    }
    if let Some(r) = err.get("RunLimit") {
        return format!("RunLimit({})", r.as_str().unwrap_or("?"));
    }
    if err.get("Format").is_some() {
        return "Format".to_string();
    }
    panic!("unexpected result shape {v}");
}

fn expected_checks(v: &Value) -> String {
    let parts: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            if let Some(b) = c.get("Block") {
                format!(
                    "Block({},{},{})",
                    b.get("block_id").unwrap().as_i64().unwrap(),
                    b.get("check_id").unwrap().as_i64().unwrap(),
                    b.get("rule").unwrap().as_str().unwrap()
                )
            } else {
                let a = c.get("Authorizer").unwrap();
                format!(
                    "Authorizer({},{})",
                    a.get("check_id").unwrap().as_i64().unwrap(),
                    a.get("rule").unwrap().as_str().unwrap()
                )
            }
        })
        .collect();
    parts.join(";")
}

fn origin_text(origin: &BTreeSet<usize>) -> Vec<String> {
    origin
        .iter()
        .map(|&o| {
            if o == AUTHORIZER_ID {
                "null".to_string()
            } else {
                o.to_string()
            }
        })
        .collect()
}

/// Origins compared as sets: samples.json lists the authorizer (`null`) first.
fn sorted_origin(mut ids: Vec<String>) -> String {
    ids.sort();
    ids.join(",")
}

/// The world's facts as a sorted list of "origins|fact" lines.
fn world_facts(auth: &Authorization) -> Vec<String> {
    let mut out: Vec<String> = auth
        .facts
        .iter()
        .map(|(o, f)| format!("{}|{}", sorted_origin(origin_text(o)), f))
        .collect();
    out.sort();
    out
}

fn expected_world_facts(world: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for group in world.get("facts").unwrap().as_array().unwrap() {
        let origin: Vec<String> = group
            .get("origin")
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                if o.is_null() {
                    "null".to_string()
                } else {
                    o.as_i64().unwrap().to_string()
                }
            })
            .collect();
        for f in group.get("facts").unwrap().as_array().unwrap() {
            out.push(format!(
                "{}|{}",
                sorted_origin(origin.clone()),
                f.as_str().unwrap()
            ));
        }
    }
    out.sort();
    out
}

fn key_text(k: &PublicKey) -> String {
    let alg = match k.algorithm() {
        Algorithm::Ed25519 => "ed25519",
        Algorithm::Secp256r1 => "secp256r1",
    };
    format!("{alg}/{}", hex_encode(k.bytes()))
}

/// Checks one sample; returns the list of mismatches (empty = pass).
fn run_sample(case: &Value, root: &PublicKey) -> Vec<String> {
    let mut problems = Vec::new();
    let file = case.get("filename").unwrap().as_str().unwrap();
    let bytes = std::fs::read(samples_dir().join(file)).expect("sample file");
    let limits = RunLimits::default();

    let verified = Token::from_bytes(&bytes).and_then(|t| t.verify(root));
    let validations = case.get("validations").unwrap().as_object().unwrap();

    let token = match verified {
        Ok(t) => t,
        Err(e) => {
            for (name, v) in validations {
                let expected = describe_expected(v.get("result").unwrap());
                if expected != "Format" {
                    problems.push(format!(
                        "[{name}] token rejected ({e}), expected {expected}"
                    ));
                }
            }
            return problems;
        }
    };

    // Blocks as samples.json prints them.
    let expected_blocks = case.get("token").unwrap().as_array().unwrap();
    if expected_blocks.len() != token.blocks.len() {
        problems.push(format!(
            "{} blocks, expected {}",
            token.blocks.len(),
            expected_blocks.len()
        ));
    }
    for (i, (block, exp)) in token.blocks.iter().zip(expected_blocks).enumerate() {
        let code = block_source(&block.code);
        if code != exp.get("code").unwrap().as_str().unwrap() {
            problems.push(format!(
                "block {i} code:\n{code}\nexpected:\n{}",
                exp.get("code").unwrap().as_str().unwrap()
            ));
        }
        let syms: Vec<&str> = exp
            .get("symbols")
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        if block.symbols.iter().map(|s| s.as_str()).collect::<Vec<_>>() != syms {
            problems.push(format!(
                "block {i} symbols {:?}, expected {syms:?}",
                block.symbols
            ));
        }
        let keys: Vec<&str> = exp
            .get("public_keys")
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        if block.public_keys.iter().map(key_text).collect::<Vec<_>>() != keys {
            problems.push(format!("block {i} public keys differ"));
        }
        let ext = exp
            .get("external_key")
            .unwrap()
            .as_str()
            .map(|s| s.to_string());
        if block.external_key.as_ref().map(key_text) != ext {
            problems.push(format!("block {i} external key differs"));
        }
        if i64::from(block.version) != exp.get("version").unwrap().as_i64().unwrap() {
            problems.push(format!("block {i} version {}", block.version));
        }
    }

    for (name, v) in validations {
        let expected = describe_expected(v.get("result").unwrap());
        let code = v
            .get("authorizer_code")
            .and_then(|c| c.as_str())
            .unwrap_or("");
        let authorizer = match parse_authorizer(code) {
            Ok(a) => a,
            Err(e) => {
                problems.push(format!("[{name}] authorizer does not parse: {e}"));
                continue;
            }
        };
        let auth = token.authorize(&authorizer, &limits, Some(&ConformanceExterns));
        let got = describe_result(&auth.result);
        if got != expected {
            problems.push(format!("[{name}] result {got}\n   expected {expected}"));
        }
        if let Some(world) = v.get("world").filter(|w| !w.is_null()) {
            if auth.result.is_ok() || matches!(auth.result, Err(AuthError::Unauthorized { .. })) {
                let (got, want) = (world_facts(&auth), expected_world_facts(world));
                if got != want {
                    problems.push(format!(
                        "[{name}] world facts {got:?}\n   expected {want:?}"
                    ));
                }
            }
        }
        let ids: Vec<String> = token
            .revocation_ids()
            .iter()
            .map(|r| hex_encode(r))
            .collect();
        let want: Vec<String> = v
            .get("revocation_ids")
            .and_then(|r| r.as_array())
            .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
            .unwrap_or_default();
        if ids != want {
            problems.push(format!("[{name}] revocation ids differ"));
        }
    }
    problems
}

#[test]
fn all_conformance_samples() {
    let text = std::fs::read_to_string(samples_dir().join("samples.json")).expect("samples.json");
    let doc = Value::parse(&text).expect("samples.json parses");
    let root_hex = doc.get("root_public_key").unwrap().as_str().unwrap();
    let root_hex = root_hex.strip_prefix("ed25519/").unwrap_or(root_hex);
    let root = PublicKey::from_bytes(Algorithm::Ed25519, &hex_decode(root_hex).unwrap()).unwrap();

    let cases = doc.get("testcases").unwrap().as_array().unwrap();
    let mut passed = 0;
    let mut failures = Vec::new();
    for case in cases {
        let file = case.get("filename").unwrap().as_str().unwrap();
        let problems = run_sample(case, &root);
        if problems.is_empty() {
            passed += 1;
        } else {
            failures.push(format!("{file}:\n  {}", problems.join("\n  ")));
        }
    }
    for f in &failures {
        eprintln!("FAIL {f}");
    }
    println!("conformance: {passed}/{} samples pass", cases.len());
    eprintln!("conformance: {passed}/{} samples pass", cases.len());
    assert_eq!(cases.len(), 37, "expected the 37 official samples");
    assert!(
        failures.is_empty(),
        "{} conformance samples fail",
        failures.len()
    );
}
