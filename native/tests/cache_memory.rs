//! Memory held by the verification cache, measured with a counting global
//! allocator: 1024 distinct Hessra tokens (about 300 bytes, as the issuer
//! mints them), then 1024 tokens of about 6 KB, verified through a
//! configuration with the default cache (the verifier the PostgreSQL
//! extension calls). The budget: at most 2 MB, counting every live
//! allocation as the chunk glibc (64-bit) gives it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use hessra_ffi::cache::{TokenCache, DEFAULT_CAPACITY};
use hessra_ffi::config::Config;
use hessra_ffi::crypto::{Algorithm, PrivateKey};
use hessra_ffi::hessra::{authority_block, MintRequest};
use hessra_ffi::parser::parse_block;
use hessra_ffi::token::Token;
use hessra_ffi::verifier::{KeyChoice, Request, Status, TokenInput, Verifier};

struct Counting;
static BYTES: AtomicIsize = AtomicIsize::new(0);
static BLOCKS: AtomicIsize = AtomicIsize::new(0);

/// glibc's chunk for a request (64-bit): size + 8, rounded up to 16, at least 32.
fn chunk(size: usize) -> isize {
    (((size + 8 + 15) & !15).max(32)) as isize
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        BYTES.fetch_add(chunk(l.size()), Ordering::Relaxed);
        BLOCKS.fetch_add(1, Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        BYTES.fetch_sub(chunk(l.size()), Ordering::Relaxed);
        BLOCKS.fetch_sub(1, Ordering::Relaxed);
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        BYTES.fetch_add(chunk(n) - chunk(l.size()), Ordering::Relaxed);
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static A: Counting = Counting;

fn snapshot() -> (isize, isize) {
    (BYTES.load(Ordering::SeqCst), BLOCKS.load(Ordering::SeqCst))
}

/// Verifies `tokens` (subject, text) through a fresh configuration with the
/// default cache and returns (bytes held as glibc chunks, live allocations,
/// cached entries).
fn cache_footprint(key_text: &str, tokens: &[(String, String)], now: i64) -> (isize, isize, u64) {
    let config = Config::from_json(&format!(
        r#"{{"version":1,"keys":[{{"id":"k","public_key":"{}"}}],"limits":{{"max_token_bytes":1048576,"max_time_ms":60000}}}}"#,
        key_text
    ))
    .unwrap();
    let cache = TokenCache::new(DEFAULT_CAPACITY);
    let verifier = Verifier::new(Some(&config), Some(&cache));
    let before = snapshot();
    for (subject, t) in tokens {
        let req = Request {
            subject: Some(subject.clone()),
            resource: "orders".into(),
            operation: Some("read".into()),
            now,
            ..Request::default()
        };
        let outcome = verifier
            .verify(TokenInput::Any(t.as_bytes()), KeyChoice::Configured, &req)
            .unwrap();
        assert_eq!(outcome.status, Status::Valid);
        drop(outcome);
    }
    let after = snapshot();
    let entries = cache.stats().entries;
    let (bytes, blocks) = (after.0 - before.0, after.1 - before.1);
    (bytes, blocks, entries)
}

#[test]
fn cache_entry_memory() {
    const N: usize = 1024;
    const BUDGET: isize = 2_000_000;
    let root = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let key = root.public().to_text();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;

    // Hessra tokens as the issuer mints them (about 300 bytes, 408 as text).
    let hessra: Vec<(String, String)> = (0..N)
        .map(|i| {
            let subject = format!("user-{i:05}");
            let m = MintRequest {
                subject: subject.clone(),
                resource: "orders".into(),
                operations: vec!["read".into()],
                expires_at: Some(now + 3600),
                ..MintRequest::default()
            };
            (
                subject,
                Token::mint(&root, &authority_block(&m), None)
                    .unwrap()
                    .to_base64(),
            )
        })
        .collect();
    let text_len = hessra.iter().map(|(_, t)| t.len()).sum::<usize>() / N;
    let (bytes, blocks, entries) = cache_footprint(&key, &hessra, now);
    eprintln!(
        "cache, {N} Hessra tokens of {text_len} characters: {entries} cached, {bytes} bytes as glibc chunks \
         ({:.0} B/entry, {:.1} allocations/entry, {:.2} MB)",
        bytes as f64 / entries as f64,
        blocks as f64 / entries as f64,
        bytes as f64 / 1e6
    );
    assert!(bytes <= BUDGET, "the default cache holds more than 2 MB");
    assert!(
        entries >= 700,
        "typical tokens: most of the {N} are cached ({entries})"
    );

    // Large tokens (200 facts each, about 6 KB): the memory budget, not
    // the entry count, bounds the cache.
    let large: Vec<(String, String)> = (0..N)
        .map(|i| {
            let subject = format!("user-{i:05}");
            let mut code = format!("right(\"user-{i:05}\", \"orders\", \"read\");");
            for j in 0..200 {
                code.push_str(&format!("fact{j}(\"value-{i}-{j}\", {j});"));
            }
            let block = parse_block(&code).unwrap();
            (
                subject,
                Token::mint(&root, &block, None).unwrap().to_base64(),
            )
        })
        .collect();
    let text_len = large.iter().map(|(_, t)| t.len()).sum::<usize>() / N;
    let (bytes, _, entries) = cache_footprint(&key, &large, now);
    eprintln!(
        "cache, {N} tokens of {text_len} characters: {entries} cached, {bytes} bytes as glibc chunks ({:.2} MB)",
        bytes as f64 / 1e6
    );
    assert!(
        bytes <= BUDGET,
        "large tokens: the default cache holds more than 2 MB"
    );
    assert!(
        entries < N as u64 / 4,
        "large tokens: the memory budget bounds the entries ({entries})"
    );
}
