//! The configuration trust rule for callers that read configurations
//! themselves (the CLI, issue 23): a file is read only when it is a regular
//! file owned by one of the given users and not writable by group or
//! others — the rule the extension applies to its configuration and key
//! files ([`FileTrust::OwnedBy`]), in one place.

use std::ffi::c_char;
use std::path::Path;

use super::config::{config_failure, new_config_out, HessraConfigHandle};
use super::*;
use crate::config::{read_trusted_text_file, Config, FileTrust};

/// `owner_uids[..owner_count]` as a trust rule.
fn owners_trust(owner_uids: *const u32, owner_count: usize) -> FfiResult<FileTrust> {
    if owner_uids.is_null() || owner_count == 0 {
        return Err(Failure::param("owner_uids must name at least one owner"));
    }
    // SAFETY: owner_uids points to owner_count readable uids (header
    // contract); checked non-NULL above and copied before returning.
    let owners = unsafe { std::slice::from_raw_parts(owner_uids, owner_count) };
    Ok(FileTrust::OwnedBy(owners.to_vec()))
}

/// `hessra_trusted_file_read`
#[no_mangle]
pub unsafe extern "C" fn hessra_trusted_file_read(
    file_path: *const c_char,
    owner_uids: *const u32,
    owner_count: usize,
    max_bytes: u64,
    out_text: *mut *mut c_char,
    out_error: *mut HessraError,
) -> HessraResult {
    string_result(out_text, "out_text", out_error, || {
        let path = str_arg(file_path, "file_path")?;
        let trust = owners_trust(owner_uids, owner_count)?;
        read_trusted_text_file(Path::new(path), max_bytes, "", &trust)
            .map(Some)
            .map_err(config_failure)
    })
}

/// `hessra_config_from_string_trusted`
#[no_mangle]
pub unsafe extern "C" fn hessra_config_from_string_trusted(
    json: *const c_char,
    owner_uids: *const u32,
    owner_count: usize,
    out_config: *mut *mut HessraConfigHandle,
    out_problem_json: *mut *mut c_char,
) -> HessraResult {
    clear_out(out_config);
    clear_out(out_problem_json);
    guard(|| {
        require_out(out_config, "out_config")?;
        let text = str_arg(json, "json")?;
        let trust = owners_trust(owner_uids, owner_count)?;
        match Config::from_json_trusted(text, &trust) {
            Ok(config) => {
                new_config_out(out_config, config);
                Ok(())
            }
            Err(e) => {
                if !out_problem_json.is_null() {
                    let problem = crate::json::Value::object([
                        ("field", crate::json::Value::from(e.field.as_str())),
                        ("message", crate::json::Value::from(e.message.as_str())),
                    ]);
                    write_out_string(out_problem_json, problem.to_string())?;
                }
                Err(config_failure(e))
            }
        }
    })
}
