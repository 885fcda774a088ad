//! A seeded mutation fuzzer (std only) over the engine's inputs: token
//! bytes, token text, key strings, configuration JSON and Datalog. Every
//! input goes through the engine API (panics surface directly) and through
//! the C ABI (where a caught panic shows up as HESSRA_ERROR_INTERNAL); both
//! are failures, and so is a call slower than the time bound.
//!
//! `cargo test --test fuzz` runs a short smoke (HESSRA_FUZZ_SECONDS, default
//! 3) plus every regression input under `tests/fuzz-regressions/<target>/`.
//! `tests/fuzz.sh [SECONDS]` runs a longer campaign in release mode.
//! HESSRA_FUZZ_SEED fixes the random seed (printed at start). Failing inputs
//! are written to `$CARGO_TARGET_DIR/fuzz-crashes/` (default `target/`);
//! copy one into `tests/fuzz-regressions/<target>/` to keep it as a
//! regression test.

use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hessra_ffi::config::{Config, ServiceNode};
use hessra_ffi::crypto::{Algorithm, PrivateKey, PublicKey};
use hessra_ffi::datalog::{self, AuthorizeInput, AuthorizerCode, Block, RunLimits};
use hessra_ffi::encoding::{base64url_decode, base64url_encode};
use hessra_ffi::ffi;
use hessra_ffi::hessra::{self, MintRequest, VerifyRequest};
use hessra_ffi::json::Value;
use hessra_ffi::parser;
use hessra_ffi::token::{create_third_party_block, Token};

/// A call slower than this is a failure (generous: the machine may be busy).
const TIME_BOUND: Duration = Duration::from_secs(5);
/// Inputs are capped at this size.
const MAX_INPUT: usize = 256 * 1024;

// ---- randomness -------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const INTERESTING: &[u8] = &[
    0x00, 0x01, 0x7f, 0x80, 0xff, 0x08, 0x10, 0x12, 0x1a, 0x22, 0x0a, b'"', b'$', b'(', b')', b';',
];

fn mutate(rng: &mut Rng, input: &[u8], seeds: &[Vec<u8>], dict: &[&[u8]]) -> Vec<u8> {
    let mut v = input.to_vec();
    let rounds = 1 + rng.below(6);
    for _ in 0..rounds {
        let len = v.len();
        match rng.below(11) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                v[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 if len > 0 => {
                let i = rng.below(len);
                v[i] = rng.next() as u8;
            }
            3 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(16)).min(len);
                v.drain(a..b);
            }
            4 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                v.splice(at..at, bytes);
            }
            5 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(64)).min(len);
                let chunk = v[a..b].to_vec();
                let at = rng.below(len + 1);
                v.splice(at..at, chunk);
            }
            6 if !seeds.is_empty() => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let b = (a + 1 + rng.below(128)).min(other.len());
                    let at = rng.below(len + 1);
                    let end = (at + rng.below(32)).min(len);
                    v.splice(at..end, other[a..b].iter().copied());
                }
            }
            7 if len > 0 => v.truncate(rng.below(len)),
            8 if !dict.is_empty() => {
                let word = dict[rng.below(dict.len())];
                let at = rng.below(len + 1);
                v.splice(at..at, word.iter().copied());
            }
            9 if len > 1 => {
                // Varint-ish lengths: bump a byte up or down.
                let i = rng.below(len);
                v[i] = if rng.below(2) == 0 {
                    v[i].wrapping_add(1)
                } else {
                    v[i].wrapping_sub(1)
                };
            }
            _ => {
                if len > 0 {
                    let i = rng.below(len);
                    v[i] = 0;
                }
            }
        }
    }
    v.truncate(MAX_INPUT);
    v
}

// ---- context ------------------------------------------------------------------

struct Ctx {
    roots: Vec<PublicKey>,
    authorizer: AuthorizerCode,
    sample_blocks: Vec<Vec<Block>>,
    mint_key: PrivateKey,
    limits: RunLimits,
    /// A C ABI configuration trusting `mint_key` (freed at the end).
    config: *mut ffi::HessraConfigHandle,
}

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/biscuit-samples")
}

fn read_samples() -> (Option<PublicKey>, Vec<Vec<u8>>, Vec<String>) {
    let dir = samples_dir();
    let mut tokens = Vec::new();
    let mut datalog = Vec::new();
    let mut root = None;
    if let Ok(text) = std::fs::read_to_string(dir.join("samples.json")) {
        if let Ok(v) = Value::parse(&text) {
            root = v
                .get("root_public_key")
                .and_then(|k| k.as_str())
                .and_then(|k| PublicKey::parse_any(&format!("ed25519/{}", k)).ok());
            for case in v.get("testcases").and_then(|c| c.as_array()).unwrap_or(&[]) {
                if let Some(f) = case.get("filename").and_then(|f| f.as_str()) {
                    if let Ok(bytes) = std::fs::read(dir.join(f)) {
                        tokens.push(bytes);
                    }
                }
                for block in case.get("token").and_then(|t| t.as_array()).unwrap_or(&[]) {
                    if let Some(code) = block.get("code").and_then(|c| c.as_str()) {
                        datalog.push(code.to_string());
                    }
                }
                for (_, validation) in case
                    .get("validations")
                    .and_then(|v| v.as_object())
                    .unwrap_or(&[])
                {
                    if let Some(code) = validation.get("authorizer_code").and_then(|c| c.as_str()) {
                        datalog.push(code.to_string());
                    }
                }
            }
        }
    }
    // The samples are in the repository: a missing seed corpus is a broken checkout, not a reason to fuzz less.
    assert!(
        root.is_some() && !tokens.is_empty(),
        "conformance samples missing or unreadable in {}",
        dir.display()
    );
    (root, tokens, datalog)
}

/// Minted seeds: the Hessra shape, attenuated, attested, sealed, P-256.
fn minted_tokens(root: &PrivateKey) -> Vec<Token> {
    let node = PrivateKey::generate(Algorithm::Secp256r1).unwrap();
    let mint = MintRequest {
        subject: "alice".into(),
        resource: "orders".into(),
        operations: vec!["read".into()],
        expires_at: Some(4_000_000_000),
        domain: Some("example.com".into()),
        service_nodes: vec![ServiceNode {
            component: "gw".into(),
            public_key: node.public(),
        }],
    };
    let t0 = Token::mint(root, &hessra::authority_block(&mint), Some(3)).unwrap();
    let t1 = t0
        .append(
            &root.public(),
            &parser::parse_block("check if operation(\"read\"), time($t), $t < 5000000000;")
                .unwrap(),
        )
        .unwrap();
    let req = t1.third_party_request().unwrap();
    let contents =
        create_third_party_block(&req, &node, &hessra::attestation_block("orders")).unwrap();
    let t2 = t1.append_third_party(&root.public(), &contents).unwrap();
    let t3 = t2.seal(&root.public()).unwrap();
    let p256 = PrivateKey::generate(Algorithm::Secp256r1).unwrap();
    let t4 = Token::mint(&p256, &hessra::authority_block(&mint), None).unwrap();
    vec![t0, t1, t2, t3, t4]
}

// ---- targets ------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    TokenBytes,
    TokenText,
    KeyText,
    ConfigJson,
    Datalog,
}

const TARGETS: [Target; 5] = [
    Target::TokenBytes,
    Target::TokenText,
    Target::KeyText,
    Target::ConfigJson,
    Target::Datalog,
];

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::TokenBytes => "token-bytes",
            Target::TokenText => "token-text",
            Target::KeyText => "key-text",
            Target::ConfigJson => "config-json",
            Target::Datalog => "datalog",
        }
    }
}

fn ffi_ok(code: ffi::HessraResult, what: &str) {
    assert_ne!(
        code,
        ffi::HESSRA_ERROR_INTERNAL,
        "{} returned HESSRA_ERROR_INTERNAL (caught panic)",
        what
    );
}

fn c_string(data: &[u8]) -> CString {
    let cleaned: Vec<u8> = data
        .iter()
        .map(|&b| if b == 0 { b' ' } else { b })
        .collect();
    CString::new(cleaned).unwrap()
}

fn exercise_blocks(ctx: &Ctx, blocks: &[Block]) {
    for b in blocks {
        let _ = datalog::print::block_source(&b.code);
    }
    let _ = hessra::rights(blocks);
    let _ = hessra::expiry(blocks);
    let _ = hessra::service_nodes(blocks);
    let _ = datalog::authorize(&AuthorizeInput {
        blocks,
        authorizer: &ctx.authorizer,
        limits: &ctx.limits,
        externs: None,
    });
    let req = VerifyRequest {
        subject: None,
        resource: "orders".into(),
        now: 1_700_000_000,
        ..VerifyRequest::default()
    };
    let _ = hessra::verify_blocks(blocks, &req, &ctx.limits);
}

fn run_token_bytes(ctx: &Ctx, data: &[u8]) {
    if let Ok(t) = Token::from_bytes(data) {
        let _ = (
            t.root_key_id(),
            t.block_count(),
            t.is_sealed(),
            t.revocation_ids(),
        );
        let _ = t.to_base64();
        if let Ok(blocks) = t.decode_unverified() {
            exercise_blocks(ctx, &blocks);
        }
        for root in &ctx.roots {
            if let Ok(vt) = t.verify(root) {
                exercise_blocks(ctx, &vt.blocks);
                let _ = t.third_party_request();
                let _ = t.append(root, &parser::parse_block("check if true;").unwrap());
            }
        }
    }
    // Through the C ABI.
    let mut tok: *mut ffi::HessraTokenHandle = std::ptr::null_mut();
    // SAFETY: valid slice and out pointer.
    let rc = unsafe { ffi::token::hessra_token_parse_bytes(data.as_ptr(), data.len(), &mut tok) };
    ffi_ok(rc, "hessra_token_parse_bytes");
    if rc == ffi::HESSRA_SUCCESS {
        let mut json: *mut c_char = std::ptr::null_mut();
        // SAFETY: tok is a live handle; out pointer valid.
        let rc = unsafe { ffi::token::hessra_token_inspect(tok, &mut json) };
        ffi_ok(rc, "hessra_token_inspect");
        // SAFETY: json is NULL or ours; tok is freed once.
        unsafe {
            ffi::hessra_string_free(json);
            ffi::token::hessra_token_free(tok);
        }
    }
}

fn run_token_text(ctx: &Ctx, data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(bytes) = base64url_decode(&text) {
        let _ = base64url_encode(&bytes);
    }
    if let Ok(t) = Token::from_base64(&text) {
        if let Ok(blocks) = t.decode_unverified() {
            exercise_blocks(ctx, &blocks);
        }
    }
    let c = c_string(data);
    let mut tok: *mut ffi::HessraTokenHandle = std::ptr::null_mut();
    // SAFETY: NUL-terminated string and valid out pointer.
    let rc = unsafe { ffi::token::hessra_token_parse(c.as_ptr(), &mut tok) };
    ffi_ok(rc, "hessra_token_parse");
    // SAFETY: tok is NULL or a live handle, freed once.
    unsafe { ffi::token::hessra_token_free(tok) };
    // The extension's hot path: parse + verify through the cache.
    let resource = CString::new("orders").unwrap();
    let request = ffi::token::HessraVerifyRequest {
        subject: std::ptr::null(),
        resource: resource.as_ptr(),
        operation: std::ptr::null(),
        domain: std::ptr::null(),
        prefix: std::ptr::null(),
        now: 0,
        leeway_seconds: 0,
        service_chain_json: std::ptr::null(),
        component: std::ptr::null(),
    };
    let mut err = ffi::HessraError {
        code: 0,
        message: std::ptr::null_mut(),
    };
    // SAFETY: live config handle, NUL-terminated strings, valid request and
    // error pointers.
    let rc = unsafe {
        ffi::config::hessra_config_verify_token_string(ctx.config, c.as_ptr(), &request, &mut err)
    };
    ffi_ok(rc, "hessra_config_verify_token_string");
    // SAFETY: NULL or a message from the library, freed once.
    unsafe { ffi::hessra_error_free(err.message) };
}

fn run_key_text(_ctx: &Ctx, data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(k) = PublicKey::parse_any(&text) {
        let again = PublicKey::parse_any(&k.to_text()).expect("to_text round trip");
        assert_eq!(again, k, "public key text round trip");
        if let Ok(pem) = k.to_pem() {
            assert_eq!(PublicKey::parse_any(&pem).expect("PEM round trip"), k);
        }
    }
    if let Ok(k) = PrivateKey::parse_any(&text) {
        let _ = k.public();
    }
    let c = c_string(data);
    let mut key: *mut ffi::HessraPublicKeyHandle = std::ptr::null_mut();
    // SAFETY: NUL-terminated string and valid out pointer.
    let rc = unsafe { ffi::keys::hessra_public_key_from_string(c.as_ptr(), &mut key) };
    ffi_ok(rc, "hessra_public_key_from_string");
    let mut kp: *mut ffi::HessraKeyPairHandle = std::ptr::null_mut();
    // SAFETY: as above.
    let rc = unsafe { ffi::keys::hessra_keypair_from_string(c.as_ptr(), &mut kp) };
    ffi_ok(rc, "hessra_keypair_from_string");
    // SAFETY: NULL or live handles, freed once.
    unsafe {
        ffi::keys::hessra_public_key_free(key);
        ffi::keys::hessra_keypair_free(kp);
    }
}

fn run_config_json(_ctx: &Ctx, data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(c) = Config::from_json(&text) {
        let _ = c.describe(1).to_string();
        let _ = c.select_key(Some(1));
    }
    let c = c_string(data);
    let mut cfg: *mut ffi::HessraConfigHandle = std::ptr::null_mut();
    // SAFETY: NUL-terminated string and valid out pointer.
    let rc = unsafe { ffi::config::hessra_config_from_string(c.as_ptr(), &mut cfg) };
    ffi_ok(rc, "hessra_config_from_string");
    // SAFETY: NULL or a live handle, freed once.
    unsafe { ffi::config::hessra_config_free(cfg) };
}

fn run_datalog(ctx: &Ctx, data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(code) = parser::parse_authorizer(&text) {
        for blocks in &ctx.sample_blocks {
            let _ = datalog::authorize(&AuthorizeInput {
                blocks,
                authorizer: &code,
                limits: &ctx.limits,
                externs: None,
            });
        }
    }
    if let Ok(code) = parser::parse_block(&text) {
        let _ = datalog::print::block_source(&code);
        // Property: whatever mints must verify and decode.
        if let Ok(t) = Token::mint(&ctx.mint_key, &code, None) {
            let back = Token::from_bytes(&t.to_bytes()).expect("a minted token decodes");
            let vt = back
                .verify(&ctx.mint_key.public())
                .expect("a minted token verifies");
            exercise_blocks(ctx, &vt.blocks);
        }
    }
}

fn run(target: Target, ctx: &Ctx, data: &[u8]) {
    match target {
        Target::TokenBytes => run_token_bytes(ctx, data),
        Target::TokenText => run_token_text(ctx, data),
        Target::KeyText => run_key_text(ctx, data),
        Target::ConfigJson => run_config_json(ctx, data),
        Target::Datalog => run_datalog(ctx, data),
    }
}

// ---- driver -------------------------------------------------------------------

fn crash_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("fuzz-crashes")
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// Runs one input; returns a description of the failure, if any.
fn check_one(target: Target, ctx: &Ctx, data: &[u8]) -> Option<String> {
    let start = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| run(target, ctx, data)));
    let elapsed = start.elapsed();
    match outcome {
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into());
            Some(format!("panic: {}", msg))
        }
        Ok(()) if elapsed > TIME_BOUND => Some(format!("slow: {:?}", elapsed)),
        Ok(()) => None,
    }
}

fn record(target: Target, data: &[u8], why: &str) -> PathBuf {
    let dir = crash_dir().join(target.name());
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{:016x}", fnv(data)));
    let _ = std::fs::write(&path, data);
    eprintln!(
        "FUZZ FAILURE [{}] {} -> {}",
        target.name(),
        why,
        path.display()
    );
    path
}

struct Corpus {
    seeds: Vec<Vec<u8>>,
    dict: Vec<&'static [u8]>,
}

fn corpora(
    ctx_tokens: &[Vec<u8>],
    datalog_seeds: &[String],
    keys: &[String],
    configs: &[String],
) -> Vec<Corpus> {
    let texts: Vec<Vec<u8>> = ctx_tokens
        .iter()
        .map(|t| base64url_encode(t).into_bytes())
        .collect();
    let datalog_dict: Vec<&'static [u8]> = vec![
        b"check if ",
        b"allow if ",
        b"deny if ",
        b"reject if ",
        b"check all ",
        b" trusting ",
        b"authority",
        b"previous",
        b"$x",
        b"<-",
        b".matches(\"(a+)+$\")",
        b".length()",
        b".contains(",
        b"[1, 2]",
        b"{\"a\": 1}",
        b"{,}",
        b"null",
        b"9223372036854775807",
        b"-9223372036854775808",
        b"hex:00ff",
        b"2024-01-01T00:00:00Z",
        b" && ",
        b" || ",
        b"$x -> $x",
        b".all(",
        b".any(",
        b".get(",
        b".type()",
        b"ed25519/",
        b"time($t), $t < 1",
        b"{p}",
    ];
    vec![
        Corpus {
            seeds: ctx_tokens.to_vec(),
            dict: vec![
                b"\x08\x01",
                b"\x12\x00",
                b"\x1a\x40",
                b"\x22\x20",
                b"\xff\xff\xff\xff\x0f",
                b"\x0a\x80\x80\x04",
            ],
        },
        Corpus {
            seeds: texts,
            dict: vec![
                b"=",
                b"==",
                b"Bearer ",
                b"biscuit:",
                b"+",
                b"/",
                b"-",
                b"_",
                b" ",
                b"\n",
            ],
        },
        Corpus {
            seeds: keys.iter().map(|k| k.as_bytes().to_vec()).collect(),
            dict: vec![
                b"ed25519/",
                b"secp256r1/",
                b"ed25519-private/",
                b"-----BEGIN PUBLIC KEY-----\n",
                b"-----END PUBLIC KEY-----\n",
                b"-----BEGIN PRIVATE KEY-----\n",
                b"00",
                b"ff",
                b"02",
                b"04",
            ],
        },
        Corpus {
            seeds: configs.iter().map(|c| c.as_bytes().to_vec()).collect(),
            dict: vec![
                b"\"version\":1",
                b"null",
                b"[]",
                b"{}",
                b"\"keys\":[",
                b"\"root_key_id\":",
                b"1e309",
                b"-0",
                b"\"\\u0000\"",
                b"\"\\ud800\"",
                b"4294967296",
                b"\"limits\":{",
                b",",
            ],
        },
        Corpus {
            seeds: datalog_seeds
                .iter()
                .map(|d| d.as_bytes().to_vec())
                .collect(),
            dict: datalog_dict,
        },
    ]
}

fn replay_regressions(ctx: &Ctx) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut count = 0;
    for target in TARGETS {
        let Ok(entries) = std::fs::read_dir(root.join(target.name())) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let data = std::fs::read(&path).unwrap();
            if let Some(why) = check_one(target, ctx, &data) {
                panic!("regression {} fails again: {}", path.display(), why);
            }
            count += 1;
        }
    }
    count
}

#[test]
fn fuzz() {
    let seconds: u64 = std::env::var("HESSRA_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let seed: u64 = std::env::var("HESSRA_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    eprintln!(
        "fuzz: seed {} (HESSRA_FUZZ_SEED), {} s (HESSRA_FUZZ_SECONDS)",
        seed, seconds
    );

    // Quiet panics: they are caught, recorded and reported below.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));

    let mint_key = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let (sample_root, sample_tokens, mut datalog_seeds) = read_samples();
    let minted = minted_tokens(&mint_key);
    let mut token_seeds: Vec<Vec<u8>> = sample_tokens.clone();
    token_seeds.extend(minted.iter().map(|t| t.to_bytes()));
    let mut roots = vec![mint_key.public()];
    roots.extend(sample_root.clone());
    let sample_blocks: Vec<Vec<Block>> = token_seeds
        .iter()
        .filter_map(|t| Token::from_bytes(t).ok()?.decode_unverified().ok())
        .collect();
    datalog_seeds
        .push("right(\"alice\", \"orders\", \"read\");\ncheck if time($t), $t < 100;\n".into());
    datalog_seeds.push("allow if true;\n".into());

    let p256 = PrivateKey::generate(Algorithm::Secp256r1).unwrap();
    let keys = vec![
        mint_key.public().to_text(),
        p256.public().to_text(),
        mint_key.public().to_pem().unwrap(),
        p256.public().to_pem().unwrap(),
        mint_key.to_pem().unwrap(),
        p256.to_pem().unwrap(),
        mint_key.public().to_text()["ed25519/".len()..].to_string(),
    ];
    let configs = vec![format!(
        r#"{{"version":1,"default_key":"a","keys":[{{"id":"a","public_key":"{}","root_key_id":7}},{{"id":"b","public_key":"{}"}}],"domain":"example.com","service_chains":{{"orders":[{{"component":"gw","public_key":"{}"}}]}},"leeway_seconds":5,"limits":{{"max_token_bytes":65536,"max_facts":1000,"max_iterations":100,"max_time_ms":50}}}}"#,
        keys[0], keys[1], keys[0]
    )];
    let mut config: *mut ffi::HessraConfigHandle = std::ptr::null_mut();
    let config_text = CString::new(format!(
        r#"{{"version":1,"keys":[{{"id":"m","public_key":"{}"}}],"leeway_seconds":1}}"#,
        keys[0]
    ))
    .unwrap();
    // SAFETY: NUL-terminated string and a valid out pointer.
    let rc = unsafe { ffi::config::hessra_config_from_string(config_text.as_ptr(), &mut config) };
    assert_eq!(rc, ffi::HESSRA_SUCCESS);
    let ctx = Ctx {
        config,
        roots,
        authorizer: parser::parse_authorizer(
            "time(1700000000); resource(\"orders\"); operation(\"read\"); subject(\"alice\"); \
             resource(\"file1\"); allow if true;",
        )
        .unwrap(),
        sample_blocks,
        mint_key,
        limits: RunLimits {
            max_facts: 1000,
            max_iterations: 100,
            max_time: Duration::from_millis(500),
        },
    };

    let replayed = replay_regressions(&ctx);
    let corpora = corpora(&token_seeds, &datalog_seeds, &keys, &configs);
    let mut rng = Rng(seed | 1);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut failures: Vec<PathBuf> = Vec::new();
    let mut runs = [0u64; 5];
    // Seeds first, unmutated.
    for (i, target) in TARGETS.iter().enumerate() {
        for s in &corpora[i].seeds {
            if let Some(why) = check_one(*target, &ctx, s) {
                failures.push(record(*target, s, &why));
            }
            runs[i] += 1;
        }
    }
    while Instant::now() < deadline && failures.len() < 20 {
        let i = rng.below(TARGETS.len());
        let corpus = &corpora[i];
        if corpus.seeds.is_empty() {
            continue;
        }
        let base = &corpus.seeds[rng.below(corpus.seeds.len())];
        let input = mutate(&mut rng, base, &corpus.seeds, &corpus.dict);
        if let Some(why) = check_one(TARGETS[i], &ctx, &input) {
            failures.push(record(TARGETS[i], &input, &why));
        }
        runs[i] += 1;
    }
    std::panic::set_hook(default_hook);
    // SAFETY: the handle is live and freed once.
    unsafe { ffi::config::hessra_config_free(ctx.config) };
    let summary: Vec<String> = TARGETS
        .iter()
        .zip(runs)
        .map(|(t, n)| format!("{} {}", t.name(), n))
        .collect();
    eprintln!(
        "fuzz: {} regression inputs replayed; runs: {}",
        replayed,
        summary.join(", ")
    );
    assert!(
        failures.is_empty(),
        "{} failing inputs (seed {}): {:?}",
        failures.len(),
        seed,
        failures
    );
}
