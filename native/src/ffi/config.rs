//! Configurations and their verification cache.

use std::ffi::c_char;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::keys::HessraPublicKeyHandle;
use super::token::{
    failure_result, outcome_result, read_request, seed_outcome_result, token_from_text,
    verifier_failure, HessraTokenHandle, HessraVerifyRequest, LeewayField,
};
use super::*;
use crate::cache::{TokenCache, DEFAULT_CAPACITY};
use crate::config::{Config, ConfigError, ConfigErrorKind, FileTrust};
use crate::verifier::{
    Failure as VerifyFailure, KeyChoice, Outcome, ParsedToken, Request, TokenInput, Verifier,
    VerifierError,
};

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

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Config> {
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

pub(crate) fn config_failure(e: ConfigError) -> Failure {
    let code = match e.kind {
        // A file refused for its type, owner or mode cannot be used, like
        // one that cannot be read; the message says which and why.
        ConfigErrorKind::Io | ConfigErrorKind::Untrusted => HESSRA_ERROR_IO,
        ConfigErrorKind::Invalid => HESSRA_ERROR_CONFIG_INVALID,
    };
    Failure::new(code, e.to_string())
}

pub(crate) fn new_config_out(out_config: *mut *mut HessraConfigHandle, config: Config) {
    write_out(out_config, into_handle(HessraConfigHandle::new(config)));
}

/// One verification through a configuration (its keys, defaults, limits
/// and cache), counted in the statistics.
fn verify_through(
    cfg: &HessraConfigHandle,
    token: TokenInput<'_>,
    key: KeyChoice<'_>,
    request: &Request,
) -> FfiResult<Outcome> {
    with_verifier(cfg, |v| v.verify(token, key, request))
}

/// Runs one verification with the configuration's verifier (its keys,
/// defaults, limits and cache), counted in the statistics.
pub(crate) fn with_verifier<T>(
    cfg: &HessraConfigHandle,
    verify: impl FnOnce(&Verifier<'_>) -> Result<T, VerifierError>,
) -> FfiResult<T> {
    cfg.verifications.fetch_add(1, Ordering::Relaxed);
    let config = cfg.read();
    verify(&Verifier::new(Some(&config), Some(&cfg.cache))).map_err(verifier_failure)
}

/// The key choice of `hessra_verify` and its kin: a given key, a key id,
/// or (neither) the configured key for the token.
pub(crate) fn key_choice<'a>(
    public_key: *const HessraPublicKeyHandle,
    key_id: *const c_char,
) -> FfiResult<KeyChoice<'a>> {
    let key_id = opt_str_arg(key_id, "key_id")?;
    let key = if public_key.is_null() {
        None
    } else {
        Some(handle_arg(public_key, "public_key")?)
    };
    match (key, key_id) {
        (Some(_), Some(_)) => Err(Failure::param("give public_key or key_id, not both")),
        (Some(k), None) => Ok(KeyChoice::Given(&k.key)),
        (None, Some(id)) => Ok(KeyChoice::Id(id)),
        (None, None) => Ok(KeyChoice::Configured),
    }
}

/// The token bytes of `hessra_verify` and its kin.
pub(crate) fn token_bytes<'a>(token: *const u8, token_len: usize) -> FfiResult<&'a [u8]> {
    if token.is_null() {
        return Err(Failure::param("token must not be NULL"));
    }
    // SAFETY: token is non-NULL and the caller guarantees token_len
    // readable bytes for the duration of the call (header contract).
    Ok(unsafe { std::slice::from_raw_parts(token, token_len.min(isize::MAX as usize)) })
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

/// `hessra_config_check`: a configuration's first problem as data.
#[no_mangle]
pub unsafe extern "C" fn hessra_config_check(
    json: *const c_char,
    out_problem_json: *mut *mut c_char,
) -> HessraResult {
    clear_out(out_problem_json);
    guard(|| {
        require_out(out_problem_json, "out_problem_json")?;
        let text = str_arg(json, "json")?;
        match Config::from_json(text) {
            Ok(_) => Ok(()),
            Err(e) => {
                let problem = crate::json::Value::object([
                    ("field", crate::json::Value::from(e.field.as_str())),
                    ("message", crate::json::Value::from(e.message.as_str())),
                ]);
                write_out_string(out_problem_json, problem.to_string())?;
                Err(config_failure(e))
            }
        }
    })
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

/// `hessra_config_key_count`: how many keys the configuration holds (-1
/// for NULL).
#[no_mangle]
pub unsafe extern "C" fn hessra_config_key_count(config: *const HessraConfigHandle) -> i64 {
    let mut count = -1;
    let _ = guard(|| {
        count = handle_arg(config, "config")?.read().keys.len() as i64;
        Ok(())
    });
    count
}

/// `hessra_config_select_key`: the verifier's key choice, for the tools
/// that need the key itself (inspect, attenuate, seal).
#[no_mangle]
pub unsafe extern "C" fn hessra_config_select_key(
    config: *const HessraConfigHandle,
    root_key_id: i64,
    key_id: *const c_char,
    out_key: *mut *mut HessraPublicKeyHandle,
    out_key_id: *mut *mut c_char,
    out_error: *mut HessraError,
) -> HessraResult {
    clear_out(out_key);
    clear_out(out_key_id);
    guard_with_error(out_error, || {
        require_out(out_key, "out_key")?;
        let cfg = handle_arg(config, "config")?;
        let choice = match opt_str_arg(key_id, "key_id")? {
            Some(id) => KeyChoice::Id(id),
            None => KeyChoice::Configured,
        };
        let root_key_id = u32::try_from(root_key_id).ok();
        let config = cfg.read();
        let verifier = Verifier::new(Some(&config), None);
        let (key, used) = verifier
            .select_key(choice, root_key_id)
            .map_err(verifier_failure)?;
        if !out_key_id.is_null() {
            if let Some(id) = used.id {
                write_out_string(out_key_id, id)?;
            }
        }
        write_out(
            out_key,
            into_handle(HessraPublicKeyHandle { key: key.clone() }),
        );
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
        let request = read_request(struct_arg(request, "request")?, LeewayField::ZeroIsUnset)?;
        let outcome = verify_through(
            cfg,
            TokenInput::Parsed(token),
            KeyChoice::Configured,
            &request,
        )?;
        seed_outcome_result(&outcome)
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
        let request = read_request(struct_arg(request, "request")?, LeewayField::ZeroIsUnset)?;
        let outcome = verify_through(
            cfg,
            TokenInput::Any(text.as_bytes()),
            KeyChoice::Configured,
            &request,
        )?;
        outcome_result(&outcome)
    })
}

/// `hessra_verify`: the verifier's whole answer, as JSON.
#[no_mangle]
pub unsafe extern "C" fn hessra_verify(
    config: *const HessraConfigHandle,
    public_key: *const HessraPublicKeyHandle,
    key_id: *const c_char,
    token: *const u8,
    token_len: usize,
    request: *const HessraVerifyRequest,
    out_outcome_json: *mut *mut c_char,
    out_error: *mut HessraError,
) -> HessraResult {
    clear_out(out_outcome_json);
    guard_with_error(out_error, || {
        let choice = key_choice(public_key, key_id)?;
        let bytes = token_bytes(token, token_len)?;
        let request = read_request(
            struct_arg(request, "request")?,
            LeewayField::NegativeIsUnset,
        )?;
        outcome_json_result(config, out_outcome_json, |v| {
            v.verify(TokenInput::Any(bytes), choice, &request)
        })
    })
}

/// The end of `hessra_verify` and `hessra_identity_verify`: verifies through
/// the configuration when there is one (else a default verifier), writes
/// the outcome's JSON when asked, and returns the outcome's code.
pub(crate) fn outcome_json_result(
    config: *const HessraConfigHandle,
    out_outcome_json: *mut *mut c_char,
    verify: impl FnOnce(&Verifier<'_>) -> Result<Outcome, VerifierError>,
) -> FfiResult<()> {
    let outcome = if config.is_null() {
        verify(&Verifier::default()).map_err(verifier_failure)?
    } else {
        with_verifier(handle_arg(config, "config")?, verify)?
    };
    if !out_outcome_json.is_null() {
        write_out_string(out_outcome_json, outcome.to_json().to_string())?;
    }
    outcome_result(&outcome)
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
    string_result(out_subject, "out_subject", out_error, || {
        let cfg = handle_arg(config, "config")?;
        let text = str_arg(token_string, "token_string")?;
        let req = struct_arg(request, "request")?;
        // resource and operation filter the rights (NULL: any); the subject
        // is ignored; the rest is read as for any verification.
        let resource = opt_str_arg(req.resource, "request.resource")?;
        let mut request = read_request(
            &HessraVerifyRequest {
                subject: std::ptr::null(),
                resource: c"".as_ptr(),
                ..*req
            },
            LeewayField::NegativeIsUnset,
        )?;
        request.resource = resource.unwrap_or_default().to_string();
        let config = cfg.read();
        let verifier = Verifier::new(Some(&config), Some(&cfg.cache));
        if let Some(max) = verifier.text_bound(text.len()) {
            return Err(failure_result(&VerifyFailure::TooLarge { max }));
        }
        let token: ParsedToken = token_from_text(text)?;
        let found = verifier
            .verified_subject(&token, &request, || {
                cfg.verifications.fetch_add(1, Ordering::Relaxed);
            })
            .map_err(verifier_failure)?;
        found.map_err(|failure| failure_result(&failure))
    })
}

// Handles shared read-only across threads must be Send + Sync.
const _: fn() = || {
    fn is<T: Send + Sync>() {}
    is::<HessraConfigHandle>();
    is::<HessraPublicKeyHandle>();
    is::<super::keys::HessraKeyPairHandle>();
};
