//! Memory held by the verification cache, measured with a counting global
//! allocator: 1024 distinct Hessra tokens (about 300 bytes, as
//! `hessra_token_mint_hessra` mints them), then 1024 tokens of about 6 KB,
//! verified through a configuration with the default cache, as the
//! PostgreSQL extension does. The budget: at most 2 MB, counting every live
//! allocation as the chunk glibc (64-bit) gives it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::{CStr, CString};
use std::ptr;
use std::sync::atomic::{AtomicIsize, Ordering};

use hessra_ffi::ffi::config::*;
use hessra_ffi::ffi::keys::*;
use hessra_ffi::ffi::mint::*;
use hessra_ffi::ffi::token::HessraVerifyRequest;
use hessra_ffi::ffi::{hessra_string_free, HESSRA_SUCCESS};

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

/// Verifies `tokens` (text, subject) through a fresh configuration with the
/// default cache and returns (bytes held as glibc chunks, live allocations,
/// cached entries).
unsafe fn cache_footprint(key_text: &str, tokens: &[(CString, CString)], resource: &CStr, operation: &CStr) -> (isize, isize, u64) {
    let json = CString::new(format!(
        r#"{{"version":1,"keys":[{{"id":"k","public_key":"{}"}}],"limits":{{"max_token_bytes":1048576,"max_time_ms":60000}}}}"#,
        key_text
    ))
    .unwrap();
    let mut cfg = ptr::null_mut();
    assert_eq!(hessra_config_from_string(json.as_ptr(), &mut cfg), HESSRA_SUCCESS);
    let before = snapshot();
    for (subject, t) in tokens {
        let req = HessraVerifyRequest {
            subject: subject.as_ptr(),
            resource: resource.as_ptr(),
            operation: operation.as_ptr(),
            domain: ptr::null(),
            prefix: ptr::null(),
            now: 0,
            leeway_seconds: 0,
            service_chain_json: ptr::null(),
            component: ptr::null(),
        };
        assert_eq!(hessra_config_verify_token_string(cfg, t.as_ptr(), &req, ptr::null_mut()), HESSRA_SUCCESS);
    }
    let after = snapshot();
    let mut st = std::mem::zeroed::<HessraCacheStats>();
    assert_eq!(hessra_config_cache_stats(cfg, &mut st), HESSRA_SUCCESS);
    hessra_config_free(cfg);
    let (bytes, blocks) = (after.0 - before.0, after.1 - before.1);
    (bytes, blocks, st.cache_entries)
}

#[test]
fn cache_entry_memory() {
    const N: usize = 1024;
    const BUDGET: isize = 2_000_000;
    // SAFETY (whole test): every pointer handed to the C ABI is valid for
    // the call (CStrings kept alive, out pointers on the stack), and every
    // returned handle or string is freed exactly once with its function.
    unsafe {
        let mut kp = ptr::null_mut();
        assert_eq!(hessra_keypair_generate(0, &mut kp), HESSRA_SUCCESS);
        let mut pk = ptr::null_mut();
        assert_eq!(hessra_keypair_public_key(kp, &mut pk), HESSRA_SUCCESS);
        let mut key_text = ptr::null_mut();
        assert_eq!(hessra_public_key_to_string(pk, &mut key_text), HESSRA_SUCCESS);
        let key = CStr::from_ptr(key_text).to_str().unwrap().to_string();
        hessra_string_free(key_text);
        let resource = CString::new("orders").unwrap();
        let operation = CString::new("read").unwrap();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;

        // Hessra tokens as the issuer mints them (about 300 bytes, 408 as text).
        let mut hessra = Vec::with_capacity(N);
        for i in 0..N {
            let subject = CString::new(format!("user-{i:05}")).unwrap();
            let m = HessraMintRequest {
                subject: subject.as_ptr(),
                resource: resource.as_ptr(),
                operation: operation.as_ptr(),
                expires_at: now + 3600,
                domain: ptr::null(),
                service_nodes_json: ptr::null(),
                root_key_id: -1,
                operations_json: ptr::null(),
            };
            let mut out = ptr::null_mut();
            assert_eq!(hessra_token_mint_hessra(kp, &m, &mut out, ptr::null_mut()), HESSRA_SUCCESS);
            hessra.push((subject, CStr::from_ptr(out).to_owned()));
            hessra_string_free(out);
        }
        let text_len = hessra.iter().map(|(_, t)| t.as_bytes().len()).sum::<usize>() / N;
        let (bytes, blocks, entries) = cache_footprint(&key, &hessra, &resource, &operation);
        eprintln!(
            "cache, {N} Hessra tokens of {text_len} characters: {entries} cached, {bytes} bytes as glibc chunks \
             ({:.0} B/entry, {:.1} allocations/entry, {:.2} MB)",
            bytes as f64 / entries as f64,
            blocks as f64 / entries as f64,
            bytes as f64 / 1e6
        );
        assert!(bytes <= BUDGET, "the default cache holds more than 2 MB");
        assert!(entries >= 700, "typical tokens: most of the {N} are cached ({entries})");

        // Large tokens (200 facts each, about 6 KB): the memory budget, not
        // the entry count, bounds the cache.
        let mut large = Vec::with_capacity(N);
        for i in 0..N {
            let subject = CString::new(format!("user-{i:05}")).unwrap();
            let mut code = format!("right(\"user-{i:05}\", \"orders\", \"read\");");
            for j in 0..200 {
                code.push_str(&format!("fact{j}(\"value-{i}-{j}\", {j});"));
            }
            let code = CString::new(code).unwrap();
            let mut out = ptr::null_mut();
            assert_eq!(hessra_token_mint(kp, code.as_ptr(), ptr::null(), -1, &mut out, ptr::null_mut()), HESSRA_SUCCESS);
            large.push((subject, CStr::from_ptr(out).to_owned()));
            hessra_string_free(out);
        }
        let text_len = large.iter().map(|(_, t)| t.as_bytes().len()).sum::<usize>() / N;
        let (bytes, _, entries) = cache_footprint(&key, &large, &resource, &operation);
        eprintln!(
            "cache, {N} tokens of {text_len} characters: {entries} cached, {bytes} bytes as glibc chunks ({:.2} MB)",
            bytes as f64 / 1e6
        );
        assert!(bytes <= BUDGET, "large tokens: the default cache holds more than 2 MB");
        assert!(entries < N as u64 / 4, "large tokens: the memory budget bounds the entries ({entries})");

        hessra_public_key_free(pk);
        hessra_keypair_free(kp);
    }
}
