//! Configurations and their verification cache.

use std::ffi::c_char;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::keys::HessraPublicKeyHandle;
use super::token::{
    decode_token_text, hessra_failure, read_request, token_from_bytes, verified_token,
    HessraTokenHandle, HessraVerifyRequest, RequestIn,
};
use super::*;
use crate::cache::{TokenCache, DEFAULT_CAPACITY};
use crate::config::{Config, ConfigError, ConfigErrorKind, FileTrust, KeyEntry};
use crate::datalog::RunLimit;
use crate::hessra::{self, HessraFailure, VerifyRequest};

/// Behind `HessraConfig`: the configuration (behind a lock so a key can be
/// set while other threads verify), the token cache and a counter.
pub struct HessraConfigHandle {
    pub config: RwLock<Config>,
    pub cache: TokenCache,
    pub verifications: AtomicU64,
}

impl HessraConfigHandle {
    pub fn new(config: Config) -> HessraConfigHandle {
        HessraConfigHandle {
            config: RwLock::new(config),
            cache: TokenCache::new(DEFAULT_CAPACITY),
            verifications: AtomicU64::new(0),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Config> {
        // A panic while holding the write lock leaves a complete Config
        // (set_key only pushes or assigns), so poisoning can be ignored.
        self.config.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Config> {
        self.config.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// `HessraCacheStats`.
#[repr(C)]
pub struct HessraCacheStats {
    pub verifications: u64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub cache_entries: u64,
    pub cache_capacity: u64,
}

fn config_failure(e: ConfigError) -> Failure {
    let code = match e.kind {
        // A file refused for its type, owner or mode cannot be used, like
        // one that cannot be read; the message says which and why.
        ConfigErrorKind::Io | ConfigErrorKind::Untrusted => HESSRA_ERROR_IO,
        ConfigErrorKind::Invalid => HESSRA_ERROR_CONFIG_INVALID,
    };
    Failure::new(code, e.to_string())
}

fn new_config_out(out_config: *mut *mut HessraConfigHandle, config: Config) {
    write_out(out_config, into_handle(HessraConfigHandle::new(config)));
}

/// Verification through a configuration: key by root key id (else the
/// default key), configuration leeway/domain/service chain as defaults,
/// configuration limits, and the cache.
fn verify_with(
    cfg: &HessraConfigHandle,
    token: &HessraTokenHandle,
    input: RequestIn,
) -> FfiResult<()> {
    cfg.verifications.fetch_add(1, Ordering::Relaxed);
    let config = cfg.read();
    let entry = select_entry(&config, token)?;
    let request = effective_request(&config, input)?;
    let vt = verified_token(token, &entry.public_key, Some(&cfg.cache))?;
    hessra::verify(&vt, &request, &config.limits.run_limits()).map_err(hessra_failure)
}

/// The configured key for a token (by root key id, else the default key),
/// after the configuration's size limit.
fn select_entry<'c>(config: &'c Config, token: &HessraTokenHandle) -> FfiResult<&'c KeyEntry> {
    if token.raw.len() as u64 > config.limits.max_token_bytes {
        return Err(Failure::new(
            HESSRA_ERROR_LIMIT_EXCEEDED,
            format!(
                "token is larger than limits.max_token_bytes ({})",
                config.limits.max_token_bytes
            ),
        ));
    }
    let root_key_id = token.token.root_key_id();
    config.select_key(root_key_id).ok_or_else(|| {
        Failure::new(
            HESSRA_ERROR_CONFIG_INVALID,
            if config.keys.is_empty() {
                "the configuration has no public key".to_string()
            } else {
                "the configuration has no default key and no key for the token's root key id"
                    .to_string()
            },
        )
    })
}

/// The request with the configuration's defaults (leeway, domain, service
/// chain of the resource), its component checked against the chain.
fn effective_request(config: &Config, input: RequestIn) -> FfiResult<VerifyRequest> {
    let mut request = input.request;
    if request.leeway_seconds == 0 {
        request.leeway_seconds = config.leeway_seconds;
    }
    if request.domain.is_none() {
        request.domain = config.domain.clone();
    }
    if !input.has_chain {
        if let Some(chain) = config.service_chain(&request.resource) {
            request.service_chain = chain.to_vec();
        }
    }
    hessra::required_nodes(&request.service_chain, request.component.as_deref())
        .map_err(hessra_failure)?;
    Ok(request)
}

/// `hessra_config_new`
#[no_mangle]
pub unsafe extern "C" fn hessra_config_new(
    out_config: *mut *mut HessraConfigHandle,
) -> HessraResult {
    clear_out(out_config);
    guard(|| {
        require_out(out_config, "out_config")?;
        new_config_out(out_config, Config::default());
        Ok(())
    })
}

fn config_from_file_body(
    file_path: *const c_char,
    trust: &FileTrust,
    out_config: *mut *mut HessraConfigHandle,
) -> FfiResult<()> {
    require_out(out_config, "out_config")?;
    let path = str_arg(file_path, "file_path")?;
    let config = Config::from_trusted_file(Path::new(path), trust).map_err(config_failure)?;
    new_config_out(out_config, config);
    Ok(())
}

fn config_from_string_body(
    json: *const c_char,
    out_config: *mut *mut HessraConfigHandle,
) -> FfiResult<()> {
    require_out(out_config, "out_config")?;
    let text = str_arg(json, "json")?;
    let config = Config::from_json(text).map_err(config_failure)?;
    new_config_out(out_config, config);
    Ok(())
}

/// `hessra_config_from_file`
#[no_mangle]
pub unsafe extern "C" fn hessra_config_from_file(
    file_path: *const c_char,
    out_config: *mut *mut HessraConfigHandle,
) -> HessraResult {
    clear_out(out_config);
    guard(|| config_from_file_body(file_path, &FileTrust::Any, out_config))
}

/// `hessra_config_from_file_with_error`: as `hessra_config_from_file`, with
/// the message (naming the offending field) in `out_error`.
#[no_mangle]
pub unsafe extern "C" fn hessra_config_from_file_with_error(
    file_path: *const c_char,
    out_config: *mut *mut HessraConfigHandle,
    out_error: *mut HessraError,
) -> HessraResult {
    clear_out(out_config);
    guard_with_error(out_error, || {
        config_from_file_body(file_path, &FileTrust::Any, out_config)
    })
}

/// `hessra_config_from_trusted_file`: as `hessra_config_from_file_with_error`,
/// refusing a configuration file or key file that is not a regular file
/// owned by one of `owner_uids` and unwritable by group and others.
#[no_mangle]
pub unsafe extern "C" fn hessra_config_from_trusted_file(
    file_path: *const c_char,
    owner_uids: *const u32,
    owner_count: usize,
    out_config: *mut *mut HessraConfigHandle,
    out_error: *mut HessraError,
) -> HessraResult {
    clear_out(out_config);
    guard_with_error(out_error, || {
        if owner_uids.is_null() || owner_count == 0 {
            return Err(Failure::param("owner_uids must name at least one owner"));
        }
        // SAFETY: owner_uids points to owner_count readable uids (header
        // contract); checked non-NULL above and copied before returning.
        let owners = unsafe { std::slice::from_raw_parts(owner_uids, owner_count) };
        config_from_file_body(file_path, &FileTrust::OwnedBy(owners.to_vec()), out_config)
    })
}

/// `hessra_config_from_string`
#[no_mangle]
pub unsafe extern "C" fn hessra_config_from_string(
    json: *const c_char,
    out_config: *mut *mut HessraConfigHandle,
) -> HessraResult {
    clear_out(out_config);
    guard(|| config_from_string_body(json, out_config))
}

/// `hessra_config_from_string_with_error`
#[no_mangle]
pub unsafe extern "C" fn hessra_config_from_string_with_error(
    json: *const c_char,
    out_config: *mut *mut HessraConfigHandle,
    out_error: *mut HessraError,
) -> HessraResult {
    clear_out(out_config);
    guard_with_error(out_error, || config_from_string_body(json, out_config))
}

/// `hessra_config_set_public_key`: adds or replaces a key (copied).
#[no_mangle]
pub unsafe extern "C" fn hessra_config_set_public_key(
    config: *const HessraConfigHandle,
    key_id: *const c_char,
    key: *const HessraPublicKeyHandle,
) -> HessraResult {
    guard(|| {
        let cfg = handle_arg(config, "config")?;
        let id = str_arg(key_id, "key_id")?;
        if id.is_empty() {
            return Err(Failure::param("key_id must not be empty"));
        }
        let key = handle_arg(key, "key")?;
        cfg.write().set_key(id, key.key.clone());
        Ok(())
    })
}

/// `hessra_config_get_public_key`
#[no_mangle]
pub unsafe extern "C" fn hessra_config_get_public_key(
    config: *const HessraConfigHandle,
    key_id: *const c_char,
    out_key: *mut *mut HessraPublicKeyHandle,
) -> HessraResult {
    clear_out(out_key);
    guard(|| {
        require_out(out_key, "out_key")?;
        let cfg = handle_arg(config, "config")?;
        let id = str_arg(key_id, "key_id")?;
        let key = cfg
            .read()
            .key(id)
            .map(|k| k.public_key.clone())
            .ok_or_else(|| {
                Failure::new(
                    HESSRA_ERROR_CONFIG_INVALID,
                    format!("no key with id {:?}", id),
                )
            })?;
        write_out(out_key, into_handle(HessraPublicKeyHandle { key }));
        Ok(())
    })
}

/// `hessra_config_free`
#[no_mangle]
pub unsafe extern "C" fn hessra_config_free(config: *mut HessraConfigHandle) {
    free_handle(config)
}

/// `hessra_config_describe`
#[no_mangle]
pub unsafe extern "C" fn hessra_config_describe(
    config: *const HessraConfigHandle,
    out_json: *mut *mut c_char,
) -> HessraResult {
    clear_out(out_json);
    guard(|| {
        require_out(out_json, "out_json")?;
        let cfg = handle_arg(config, "config")?;
        let json = cfg.read().describe(cfg.cache.capacity()).to_string();
        write_out_string(out_json, json)
    })
}

/// `hessra_config_set_cache_size`
#[no_mangle]
pub unsafe extern "C" fn hessra_config_set_cache_size(
    config: *const HessraConfigHandle,
    capacity: usize,
) -> HessraResult {
    guard(|| {
        let cfg = handle_arg(config, "config")?;
        if capacity > (1 << 24) {
            return Err(Failure::param("cache capacity must be at most 16777216"));
        }
        cfg.cache.set_capacity(capacity);
        Ok(())
    })
}

/// `hessra_config_cache_stats`
#[no_mangle]
pub unsafe extern "C" fn hessra_config_cache_stats(
    config: *const HessraConfigHandle,
    out_stats: *mut HessraCacheStats,
) -> HessraResult {
    guard(|| {
        let cfg = handle_arg(config, "config")?;
        if out_stats.is_null() {
            return Err(Failure::param("out_stats must not be NULL"));
        }
        let s = cfg.cache.stats();
        let stats = HessraCacheStats {
            verifications: cfg.verifications.load(Ordering::Relaxed),
            cache_hits: s.hits,
            cache_misses: s.misses,
            cache_entries: s.entries,
            cache_capacity: s.capacity,
        };
        // SAFETY: out_stats is non-NULL and points to a writable
        // HessraCacheStats (header contract).
        unsafe { out_stats.write(stats) };
        Ok(())
    })
}

/// `hessra_token_verify_with_config`
#[no_mangle]
pub unsafe extern "C" fn hessra_token_verify_with_config(
    token: *const HessraTokenHandle,
    config: *const HessraConfigHandle,
    request: *const HessraVerifyRequest,
    out_error: *mut HessraError,
) -> HessraResult {
    guard_with_error(out_error, || {
        let token = handle_arg(token, "token")?;
        let cfg = handle_arg(config, "config")?;
        let input = read_request(struct_arg(request, "request")?)?;
        verify_with(cfg, token, input)
    })
}

/// `hessra_config_verify_token_string`: parse + verify through the cache.
#[no_mangle]
pub unsafe extern "C" fn hessra_config_verify_token_string(
    config: *const HessraConfigHandle,
    token_string: *const c_char,
    request: *const HessraVerifyRequest,
    out_error: *mut HessraError,
) -> HessraResult {
    guard_with_error(out_error, || {
        let cfg = handle_arg(config, "config")?;
        let text = str_arg(token_string, "token_string")?;
        let input = read_request(struct_arg(request, "request")?)?;
        let token = token_from_text(cfg, text).inspect_err(|_| {
            cfg.verifications.fetch_add(1, Ordering::Relaxed);
        })?;
        verify_with(cfg, &token, input)
    })
}

/// Decodes token text, refusing text too long for the configuration's
/// max_token_bytes before decoding it.
fn token_from_text(cfg: &HessraConfigHandle, text: &str) -> FfiResult<HessraTokenHandle> {
    let max = cfg.read().limits.max_token_bytes;
    if text.len() as u64 > max / 3 * 4 + 1024 {
        return Err(Failure::new(
            HESSRA_ERROR_LIMIT_EXCEEDED,
            format!("token is larger than limits.max_token_bytes ({})", max),
        ));
    }
    decode_token_text(text).and_then(token_from_bytes)
}

/// `hessra_config_verified_subject`: the one subject whose rights verify.
#[no_mangle]
pub unsafe extern "C" fn hessra_config_verified_subject(
    config: *const HessraConfigHandle,
    token_string: *const c_char,
    request: *const HessraVerifyRequest,
    out_subject: *mut *mut c_char,
    out_error: *mut HessraError,
) -> HessraResult {
    clear_out(out_subject);
    guard_with_error(out_error, || {
        require_out(out_subject, "out_subject")?;
        let cfg = handle_arg(config, "config")?;
        let text = str_arg(token_string, "token_string")?;
        let req = struct_arg(request, "request")?;
        // resource and operation filter the rights (NULL: any); the subject
        // is ignored; the rest is read as for any verification.
        let resource = opt_str_arg(req.resource, "request.resource")?;
        let operation = opt_str_arg(req.operation, "request.operation")?;
        let input = read_request(&HessraVerifyRequest {
            subject: std::ptr::null(),
            resource: c"".as_ptr(),
            operation: std::ptr::null(),
            ..*req
        })?;
        let token = token_from_text(cfg, text)?;
        match verified_subject(cfg, &token, input, resource, operation)? {
            Some(subject) => write_out_string(out_subject, subject),
            None => Ok(()),
        }
    })
}

/// Verifies, in identity mode, each `right(s, r, o)` fact of the authority
/// block (those matching the resource/operation filters) for s, r, o, and
/// returns the subject when exactly one distinct subject verifies. The
/// signature check is done once (through the cache); each right counts as
/// one verification. The configured time limit bounds the whole call, not
/// each right (a token holds as many rights as it likes): once it has
/// passed, the call fails with the time limit. A host interrupt fails it
/// too.
fn verified_subject(
    cfg: &HessraConfigHandle,
    token: &HessraTokenHandle,
    input: RequestIn,
    resource: Option<&str>,
    operation: Option<&str>,
) -> FfiResult<Option<String>> {
    let config = cfg.read();
    let entry = select_entry(&config, token)?;
    let vt = verified_token(token, &entry.public_key, Some(&cfg.cache))?;
    let mut limits = config.limits.run_limits();
    let deadline = std::time::Instant::now() + limits.max_time;
    let mut found: Option<String> = None;
    for right in hessra::rights(&vt.blocks) {
        if resource.is_some_and(|r| r != right.resource)
            || operation.is_some_and(|o| o != right.operation)
            || found.as_deref() == Some(right.subject.as_str())
        {
            continue;
        }
        limits.max_time = deadline.saturating_duration_since(std::time::Instant::now());
        if limits.max_time.is_zero() {
            return Err(hessra_failure(HessraFailure::Limit(RunLimit::Timeout)));
        }
        cfg.verifications.fetch_add(1, Ordering::Relaxed);
        let mut request = input.request.clone();
        request.subject = Some(right.subject.clone());
        request.resource = right.resource;
        request.operation = Some(right.operation);
        let request = effective_request(
            &config,
            RequestIn { request, has_chain: input.has_chain },
        )?;
        match hessra::verify(&vt, &request, &limits) {
            Ok(()) if found.is_some() => return Ok(None), // a second subject: ambiguous
            Ok(()) => found = Some(right.subject),
            Err(HessraFailure::InvalidRequest(m)) => {
                return Err(hessra_failure(HessraFailure::InvalidRequest(m)))
            }
            Err(f @ HessraFailure::Limit(RunLimit::Timeout | RunLimit::Interrupted)) => {
                return Err(hessra_failure(f))
            }
            Err(_) => {} // this right does not verify now
        }
    }
    Ok(found)
}

// Handles shared read-only across threads must be Send + Sync.
const _: fn() = || {
    fn is<T: Send + Sync>() {}
    is::<HessraConfigHandle>();
    is::<HessraPublicKeyHandle>();
    is::<super::keys::HessraKeyPairHandle>();
};
