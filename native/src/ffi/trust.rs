//! What a host adds to a configuration's trust (see [`crate::trust`]): a
//! revocation lookup, database keys, and whether the files changed.

use std::ffi::{c_char, c_int, c_void};

use super::config::{config_failure, HessraConfigHandle};
use super::*;
use crate::trust::RevocationLookup;

/// `HessraRevocationLookup`: answers 0 and writes `*out_revoked`, or answers
/// non-zero when it cannot tell.
pub type RevocationLookupFn = unsafe extern "C" fn(
    context: *mut c_void,
    revocation_id: *const u8,
    revocation_id_len: usize,
    out_revoked: *mut c_int,
) -> c_int;

/// A host's lookup and its context, as given to
/// `hessra_config_set_revocation_lookup`.
#[derive(Clone, Copy)]
pub struct HostRevocationLookup {
    lookup: RevocationLookupFn,
    context: *mut c_void,
}

// SAFETY: the pointer is only handed back to the host's function; the
// header makes the host responsible for calling from several threads (the
// PostgreSQL extension verifies on one thread).
unsafe impl Send for HostRevocationLookup {}
// SAFETY: as above.
unsafe impl Sync for HostRevocationLookup {}

impl RevocationLookup for HostRevocationLookup {
    fn is_revoked(&self, revocation_id: &[u8]) -> Result<bool, String> {
        let mut revoked: c_int = 0;
        // SAFETY: the host's function with its own context (header
        // contract); the id is borrowed for the call only, and `revoked` is
        // a writable int on our stack.
        let rc = unsafe {
            (self.lookup)(
                self.context,
                revocation_id.as_ptr(),
                revocation_id.len(),
                &mut revoked,
            )
        };
        match rc {
            0 => Ok(revoked != 0),
            code => Err(format!(
                "the host's revocation lookup failed (code {})",
                code
            )),
        }
    }
}

/// `hessra_config_set_revocation_lookup`: sets (NULL: removes) the lookup
/// and clears the cache, whose verdicts were made without it.
#[no_mangle]
pub unsafe extern "C" fn hessra_config_set_revocation_lookup(
    config: *const HessraConfigHandle,
    lookup: Option<RevocationLookupFn>,
    context: *mut c_void,
) -> HessraResult {
    guard(|| {
        let cfg = handle_arg(config, "config")?;
        *cfg.revocation_lookup
            .write()
            .unwrap_or_else(|p| p.into_inner()) =
            lookup.map(|lookup| HostRevocationLookup { lookup, context });
        cfg.cache.clear();
        Ok(())
    })
}

/// `hessra_config_add_key`: a key from a database's table of trusted keys.
#[no_mangle]
pub unsafe extern "C" fn hessra_config_add_key(
    config: *const HessraConfigHandle,
    key_id: *const c_char,
    public_key: *const c_char,
    root_key_id: i64,
    is_default: c_int,
    out_error: *mut HessraError,
) -> HessraResult {
    guard_with_error(out_error, || {
        let cfg = handle_arg(config, "config")?;
        let id = str_arg(key_id, "key_id")?;
        let key = str_arg(public_key, "public_key")?;
        let root_key_id = match root_key_id {
            r if r < 0 => None,
            r => Some(u32::try_from(r).map_err(|_| {
                Failure::param("root_key_id must be below 2^32 (or negative: none)")
            })?),
        };
        cfg.write()
            .add_database_key(id, key, root_key_id, is_default != 0)
            .map_err(config_failure)?;
        cfg.cache.clear();
        Ok(())
    })
}

/// `hessra_config_files_changed`
#[no_mangle]
pub unsafe extern "C" fn hessra_config_files_changed(
    config: *const HessraConfigHandle,
    out_changed: *mut c_int,
) -> HessraResult {
    guard(|| {
        let cfg = handle_arg(config, "config")?;
        if out_changed.is_null() {
            return Err(Failure::param("out_changed must not be NULL"));
        }
        let changed = cfg.read().files_changed();
        // SAFETY: out_changed is non-NULL and points to a writable int
        // (header contract).
        unsafe { out_changed.write(c_int::from(changed)) };
        Ok(())
    })
}
