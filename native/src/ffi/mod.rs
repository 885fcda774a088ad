//! The C ABI (`include/hessra_ffi.h`): the only place raw pointers cross.
//!
//! Conventions, held by every function here:
//! - every body runs inside [`std::panic::catch_unwind`] (through [`guard`]
//!   or [`guard_with_error`]): a panic becomes `HESSRA_ERROR_INTERNAL`, it
//!   never unwinds into C;
//! - `out_*` parameters are set to NULL first, and written only on success;
//! - NULL for a required pointer, or a string that is not UTF-8, gives
//!   `HESSRA_ERROR_INVALID_PARAMETER`;
//! - handles are `Box`ed Rust structs handed out with `Box::into_raw` and
//!   taken back by their `*_free` function; strings are `CString::into_raw`
//!   and taken back by `hessra_string_free` / `hessra_error_free`;
//! - messages come from the engine's errors, which never carry the token.
//!
//! Submodules: [`keys`] (public keys and key pairs), [`token`] (parse,
//! verify, authorize, inspect), [`config`] (configuration and its cache),
//! [`mint`] (the token dev kit), [`identity`] (identity tokens), [`granted`]
//! (what a token grants, its claims).
//!
//! # Safety
//!
//! Every `extern "C"` function here is `unsafe` to call from Rust: its
//! pointer arguments must satisfy the contract written in
//! `include/hessra_ffi.h` (NULL where allowed, otherwise valid handles from
//! this library or NUL-terminated strings, writable out parameters). That
//! header is the safety documentation of each function, so clippy's
//! per-function `# Safety` section is not repeated.
#![allow(clippy::missing_safety_doc)]

use std::ffi::{c_char, c_int, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

pub mod config;
pub mod granted;
pub mod identity;
pub mod keys;
pub mod mint;
pub mod token;
pub mod trusted;

pub use config::HessraConfigHandle;
pub use keys::{HessraKeyPairHandle, HessraPublicKeyHandle};
pub use token::HessraTokenHandle;

/// `HessraResult` (a C enum: passed and returned as `int`).
pub type HessraResult = c_int;

pub const HESSRA_SUCCESS: HessraResult = 0;
pub const HESSRA_ERROR_INVALID_TOKEN: HessraResult = 1;
pub const HESSRA_ERROR_INVALID_KEY: HessraResult = 2;
pub const HESSRA_ERROR_VERIFICATION_FAILED: HessraResult = 3;
pub const HESSRA_ERROR_CONFIG_INVALID: HessraResult = 4;
pub const HESSRA_ERROR_MEMORY: HessraResult = 5;
pub const HESSRA_ERROR_IO: HessraResult = 6;
pub const HESSRA_ERROR_INVALID_PARAMETER: HessraResult = 7;
pub const HESSRA_ERROR_EXPIRED: HessraResult = 8;
pub const HESSRA_ERROR_LIMIT_EXCEEDED: HessraResult = 9;
pub const HESSRA_ERROR_INTERRUPTED: HessraResult = 10;
/// A block's revocation id is listed by the configuration (`hessra_verify`,
/// `hessra_config_verify_token_string`, `hessra_config_verified_subject`;
/// the seed function `hessra_token_verify_with_config` says
/// `HESSRA_ERROR_VERIFICATION_FAILED` instead).
pub const HESSRA_ERROR_REVOKED: HessraResult = 11;
pub const HESSRA_ERROR_INTERNAL: HessraResult = 99;

/// `HessraError`.
#[repr(C)]
pub struct HessraError {
    pub code: HessraResult,
    pub message: *mut c_char,
}

/// An error on its way to C: a result code and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub code: HessraResult,
    pub message: String,
}

impl Failure {
    pub fn new(code: HessraResult, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
    pub fn param(message: impl Into<String>) -> Failure {
        Failure::new(HESSRA_ERROR_INVALID_PARAMETER, message)
    }
}

pub type FfiResult<T> = Result<T, Failure>;

const PANIC_MESSAGE: &str = "internal error: the engine panicked (this is a bug)";

/// Runs an ABI body, turning a panic into `HESSRA_ERROR_INTERNAL`.
pub(crate) fn guard(body: impl FnOnce() -> FfiResult<()>) -> HessraResult {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => HESSRA_SUCCESS,
        Ok(Err(f)) => f.code,
        Err(_) => HESSRA_ERROR_INTERNAL,
    }
}

/// [`guard`], also reporting into an optional `HessraError`.
pub(crate) fn guard_with_error(
    out_error: *mut HessraError,
    body: impl FnOnce() -> FfiResult<()>,
) -> HessraResult {
    if !out_error.is_null() {
        // SAFETY: the caller passes NULL or a pointer to a writable
        // HessraError (header contract); we overwrite it without reading.
        unsafe {
            out_error.write(HessraError {
                code: HESSRA_SUCCESS,
                message: std::ptr::null_mut(),
            });
        }
    }
    let (code, message) = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return HESSRA_SUCCESS,
        Ok(Err(f)) => (f.code, f.message),
        Err(_) => (HESSRA_ERROR_INTERNAL, PANIC_MESSAGE.to_string()),
    };
    if !out_error.is_null() {
        let message = catch_unwind(AssertUnwindSafe(|| into_c_string(message)))
            .unwrap_or(std::ptr::null_mut());
        // SAFETY: as above; non-NULL and writable.
        unsafe {
            out_error.write(HessraError { code, message });
        }
    }
    code
}

/// Converts to a heap C string (NUL bytes, which never occur in what we
/// return, are replaced by U+FFFD so the conversion cannot fail).
/// The text is copied into an exactly sized buffer and the original is
/// zeroed, so a secret (a private key PEM) leaves no stray copy behind.
pub(crate) fn into_c_string(s: String) -> *mut c_char {
    let s = if s.contains('\0') {
        s.replace('\0', "\u{fffd}")
    } else {
        s
    };
    let mut original = s.into_bytes();
    let mut bytes = Vec::with_capacity(original.len() + 1);
    bytes.extend_from_slice(&original);
    crate::crypto::zeroize(&mut original);
    match CString::new(bytes) {
        Ok(c) => c.into_raw(),
        Err(_) => std::ptr::null_mut(),
    }
}

/// Sets an optional out pointer to NULL.
pub(crate) fn clear_out<T>(out: *mut *mut T) {
    if !out.is_null() {
        // SAFETY: a non-NULL out parameter points to a writable pointer slot
        // (header contract).
        unsafe { out.write(std::ptr::null_mut()) }
    }
}

/// Fails with INVALID_PARAMETER when a required out pointer is NULL.
pub(crate) fn require_out<T>(out: *mut *mut T, name: &str) -> FfiResult<()> {
    if out.is_null() {
        Err(Failure::param(format!("{} must not be NULL", name)))
    } else {
        Ok(())
    }
}

/// Writes a value to an out pointer checked by [`require_out`].
pub(crate) fn write_out<T>(out: *mut *mut T, value: *mut T) {
    // SAFETY: `out` was checked non-NULL by require_out and points to a
    // writable pointer slot (header contract).
    unsafe { out.write(value) }
}

/// Writes a string to an out pointer checked by [`require_out`].
pub(crate) fn write_out_string(out: *mut *mut c_char, s: String) -> FfiResult<()> {
    let p = into_c_string(s);
    if p.is_null() {
        return Err(Failure::new(
            HESSRA_ERROR_MEMORY,
            "could not allocate the result string",
        ));
    }
    write_out(out, p);
    Ok(())
}

/// The frame of a function returning a string in a required out parameter
/// named `name`: clears it, refuses a NULL one, runs `body` under
/// [`guard_with_error`] and writes its string (none: `*out` stays NULL).
pub(crate) fn string_result(
    out: *mut *mut c_char,
    name: &str,
    out_error: *mut HessraError,
    body: impl FnOnce() -> FfiResult<Option<String>>,
) -> HessraResult {
    clear_out(out);
    guard_with_error(out_error, || {
        require_out(out, name)?;
        match body()? {
            Some(s) => write_out_string(out, s),
            None => Ok(()),
        }
    })
}

/// The frame of every function returning a token in `out_token` (mint,
/// attenuate, attest, delegate, ...): [`string_result`] with the token as
/// base64url text.
pub(crate) fn token_result(
    out_token: *mut *mut c_char,
    out_error: *mut HessraError,
    body: impl FnOnce() -> FfiResult<crate::token::Token>,
) -> HessraResult {
    string_result(out_token, "out_token", out_error, || {
        body().map(|token| Some(token.to_base64()))
    })
}

/// Borrows a required C string argument as UTF-8.
pub(crate) fn str_arg<'a>(p: *const c_char, name: &str) -> FfiResult<&'a str> {
    if p.is_null() {
        return Err(Failure::param(format!("{} must not be NULL", name)));
    }
    // SAFETY: non-NULL; the caller passes a NUL-terminated string that stays
    // valid and unmodified for the duration of the call (header contract).
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str()
        .map_err(|_| Failure::param(format!("{} is not valid UTF-8", name)))
}

/// Borrows an optional C string argument (NULL → `None`).
pub(crate) fn opt_str_arg<'a>(p: *const c_char, name: &str) -> FfiResult<Option<&'a str>> {
    if p.is_null() {
        Ok(None)
    } else {
        str_arg(p, name).map(Some)
    }
}

/// Borrows a required handle.
pub(crate) fn handle_arg<'a, T>(p: *const T, name: &str) -> FfiResult<&'a T> {
    if p.is_null() {
        return Err(Failure::param(format!("{} must not be NULL", name)));
    }
    // SAFETY: non-NULL handles come from Box::into_raw in this module and
    // stay alive until their *_free function is called; the caller does not
    // free them during the call (header contract). Only shared references
    // are created.
    Ok(unsafe { &*p })
}

/// Borrows a required struct argument.
pub(crate) fn struct_arg<'a, T>(p: *const T, name: &str) -> FfiResult<&'a T> {
    if p.is_null() {
        return Err(Failure::param(format!("{} must not be NULL", name)));
    }
    // SAFETY: non-NULL; points to a properly initialised #[repr(C)] struct
    // owned by the caller for the duration of the call.
    Ok(unsafe { &*p })
}

/// Hands a value to C as an opaque handle.
pub(crate) fn into_handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Takes a handle back from C and drops it; NULL is ignored.
pub(crate) fn free_handle<T>(p: *mut T) {
    if p.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: non-NULL handles come from Box::into_raw(Box<T>) in this
        // module and are freed exactly once (header contract).
        drop(unsafe { Box::from_raw(p) });
    }));
}

/// Current unix time in seconds.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

// ---- functions without a natural home -------------------------------------

static VERSION: &[u8] = concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes();

/// `const char* hessra_version(void)`
#[no_mangle]
pub extern "C" fn hessra_version() -> *const c_char {
    VERSION.as_ptr() as *const c_char
}

/// `void hessra_set_interrupt_check(int (*check)(void))`: the process-global
/// hook every authorization polls while it works (NULL removes it). The
/// engine stops with `HESSRA_ERROR_INTERRUPTED` when it returns non-zero.
#[no_mangle]
pub extern "C" fn hessra_set_interrupt_check(check: Option<crate::datalog::cost::InterruptCheck>) {
    crate::datalog::cost::set_interrupt_check(check);
}

fn static_message(result: HessraResult) -> &'static [u8] {
    match result {
        HESSRA_SUCCESS => b"success\0",
        HESSRA_ERROR_INVALID_TOKEN => b"invalid token\0",
        HESSRA_ERROR_INVALID_KEY => b"invalid key\0",
        HESSRA_ERROR_VERIFICATION_FAILED => b"verification failed\0",
        HESSRA_ERROR_CONFIG_INVALID => b"invalid configuration\0",
        HESSRA_ERROR_MEMORY => b"out of memory\0",
        HESSRA_ERROR_IO => b"input/output error\0",
        HESSRA_ERROR_INVALID_PARAMETER => b"invalid parameter\0",
        HESSRA_ERROR_EXPIRED => b"token expired\0",
        HESSRA_ERROR_LIMIT_EXCEEDED => b"limit exceeded\0",
        HESSRA_ERROR_INTERRUPTED => b"interrupted by the host\0",
        HESSRA_ERROR_REVOKED => b"token revoked\0",
        HESSRA_ERROR_INTERNAL => b"internal error\0",
        _ => b"unknown error code\0",
    }
}

/// `const char* hessra_error_message(HessraResult result)`: static text.
#[no_mangle]
pub extern "C" fn hessra_error_message(result: HessraResult) -> *const c_char {
    static_message(result).as_ptr() as *const c_char
}

/// Takes back a string made by [`into_c_string`], zeroing it first (some
/// hold secrets, e.g. a private key PEM).
fn free_c_string(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: non-NULL strings returned by this library come from
        // CString::into_raw and are freed exactly once (header contract).
        let c = unsafe { CString::from_raw(s) };
        crate::crypto::zeroize(&mut c.into_bytes());
    }));
}

/// `void hessra_error_free(char* error_message)`
#[no_mangle]
pub unsafe extern "C" fn hessra_error_free(error_message: *mut c_char) {
    free_c_string(error_message)
}

/// `void hessra_string_free(char* s)`
#[no_mangle]
pub unsafe extern "C" fn hessra_string_free(s: *mut c_char) {
    free_c_string(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_strings_are_terminated() {
        for code in [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 99, 42, -1] {
            assert_eq!(static_message(code).last(), Some(&0));
        }
        assert_eq!(VERSION.last(), Some(&0));
    }

    #[test]
    fn guard_catches_panics() {
        let code = guard(|| panic!("boom"));
        assert_eq!(code, HESSRA_ERROR_INTERNAL);
        let mut e = HessraError {
            code: 0,
            message: std::ptr::null_mut(),
        };
        let code = guard_with_error(&mut e, || panic!("boom"));
        assert_eq!(
            (code, e.code),
            (HESSRA_ERROR_INTERNAL, HESSRA_ERROR_INTERNAL)
        );
        assert!(!e.message.is_null());
        // SAFETY: e.message came from into_c_string.
        unsafe { hessra_error_free(e.message) };
    }
}
