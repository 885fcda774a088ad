//! Rust-side timing helper for `npm run bench` (not a test, not part of the library). Times are
//! thread CPU time unless BENCH_CLOCK=wall.
//!
//! Reads lines `KEY_TEXT TOKEN` from stdin and prints one JSON object per line with medians (µs per
//! operation, over several calibrated batches) of, in the same process:
//!   - `engine`:  the verifier from token text to outcome (what hessra_verify does behind the C ABI);
//!   - `chain`:   Token::from_base64 + Token::verify (signature chain + block decoding, no Datalog);
//!   - `crypto`:  the primitives such a token needs, through the engine's own OpenSSL wrappers:
//!     one signature check per block (root algorithm for block 0, Ed25519 for the ephemeral keys
//!     of later blocks) on messages of the same size, plus the proof (Ed25519 private key from its
//!     seed, then its public key);
//!   - `ratio`:   engine / crypto.
//!
//! Build: cargo build --release --offline --example bench_verify --manifest-path native/Cargo.toml

use std::io::{self, BufRead, Write};
use std::time::Instant;

use hessra_ffi::crypto::{Algorithm, PrivateKey, PublicKey};
use hessra_ffi::token::Token;
use hessra_ffi::verifier::{KeyChoice, Request, Status, TokenInput, Verifier};

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}
extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
}
/// Linux CLOCK_THREAD_CPUTIME_ID: this thread's CPU time, which other processes competing for the
/// cores do not inflate (BENCH_CLOCK=wall uses the wall clock instead).
const CLOCK_THREAD_CPUTIME_ID: i32 = 3;

fn now_us(wall: bool, origin: Instant) -> f64 {
    if wall {
        return origin.elapsed().as_secs_f64() * 1e6;
    }
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid out pointer; the clock id exists on Linux.
    unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e6 + ts.tv_nsec as f64 / 1e3
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// Median over `reps` batches of ~`batch_ms`, in µs per call; the variants are interleaved.
fn side_by_side(fs: &mut [&mut dyn FnMut()], reps: usize, batch_ms: f64) -> Vec<f64> {
    let wall = std::env::var("BENCH_CLOCK")
        .map(|v| v == "wall")
        .unwrap_or(false);
    let origin = Instant::now();
    let mut iters = Vec::new();
    for f in fs.iter_mut() {
        let t = Instant::now();
        let mut n = 0u64;
        while t.elapsed().as_secs_f64() * 1000.0 < batch_ms {
            f();
            n += 1;
        }
        iters.push(n.max(1));
    }
    let mut samples = vec![Vec::new(); fs.len()];
    for r in 0..reps {
        for k in 0..fs.len() {
            let i = (k + r) % fs.len();
            let t = now_us(wall, origin);
            for _ in 0..iters[i] {
                (fs[i])();
            }
            samples[i].push((now_us(wall, origin) - t) / iters[i] as f64);
        }
    }
    samples.into_iter().map(median).collect()
}

fn main() {
    let reps: usize = std::env::var("BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(9);
    let batch_ms: f64 = std::env::var("BENCH_BATCH_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60.0);
    let stdin = io::stdin();
    let mut out = io::stdout();
    for line in stdin.lock().lines() {
        let line = line.expect("stdin");
        let mut parts = line.split_whitespace();
        let (Some(key_text), Some(token_text)) = (parts.next(), parts.next()) else {
            continue;
        };

        // --- the verifier, from token text to outcome
        let root = PublicKey::parse_any(key_text).expect("root key");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let req = Request {
            subject: Some("alice".into()),
            resource: "res1".into(),
            operation: Some("read".into()),
            now,
            ..Request::default()
        };
        let verify = || {
            Verifier::default()
                .verify(
                    TokenInput::Any(token_text.as_bytes()),
                    KeyChoice::Given(&root),
                    &req,
                )
                .unwrap()
        };
        assert_eq!(verify().status, Status::Valid, "the token does not verify");

        // --- signature chain only
        let token = Token::from_base64(token_text).expect("token");
        let blocks = token.block_count();
        let mut chain = || {
            let t = Token::from_base64(token_text).unwrap();
            let v = t.verify(&root).unwrap();
            std::hint::black_box(v);
        };

        // --- primitives on same-size messages
        let msg_len = (token_text.len() * 3 / 4) / blocks + 96;
        let msg = vec![0x5au8; msg_len];
        let mut checks: Vec<(PublicKey, Vec<u8>)> = Vec::new();
        for i in 0..blocks {
            let alg = if i == 0 {
                root.algorithm()
            } else {
                Algorithm::Ed25519
            };
            let sk = PrivateKey::generate(alg).unwrap();
            let sig = sk.sign(&msg).unwrap();
            let pk = sk.public();
            pk.verify(&msg, &sig).unwrap(); // imports the key once, like the long-lived root key
            checks.push((pk, sig));
        }
        let seed = PrivateKey::generate(Algorithm::Ed25519).unwrap().to_bytes();
        let mut crypto = || {
            for (pk, sig) in &checks {
                pk.verify(&msg, sig).unwrap();
            }
            let sk = PrivateKey::from_bytes(Algorithm::Ed25519, &seed).unwrap();
            std::hint::black_box(sk.public());
        };

        let mut engine = || {
            std::hint::black_box(verify());
        };
        let r = side_by_side(&mut [&mut engine, &mut chain, &mut crypto], reps, batch_ms);
        writeln!(
            out,
            "{{\"algorithm\":\"{}\",\"blocks\":{},\"engine_us\":{:.3},\"chain_us\":{:.3},\"crypto_us\":{:.3},\"ratio\":{:.4}}}",
            root.algorithm().name(),
            blocks,
            r[0],
            r[1],
            r[2],
            r[0] / r[2]
        )
        .unwrap();
        out.flush().unwrap();
    }
}
