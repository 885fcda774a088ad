//! Regular expressions for `.matches()`, through PCRE2 (`libpcre2-8`).
//!
//! The reference implementation uses a regex engine without look-around or
//! back-references; patterns using those (and PCRE-only constructs such as
//! verbs, recursion, conditionals or atomic groups) are refused here and
//! simply do not match, as an invalid pattern does not. Matching runs with a
//! match limit, a depth limit and a heap limit, so a hostile pattern in a
//! token cannot stall the caller: hitting a limit counts as "no match".
//!
//! This file is one of the few places of the crate with `unsafe` code; every
//! block states why it is sound.

use std::cell::RefCell;
use std::os::raw::{c_int, c_void};
use std::ptr::{self, NonNull};

// Opaque PCRE2 types.
#[repr(C)]
struct Pcre2Code {
    _private: [u8; 0],
}
#[repr(C)]
struct Pcre2MatchData {
    _private: [u8; 0],
}
#[repr(C)]
struct Pcre2MatchContext {
    _private: [u8; 0],
}

const PCRE2_DOLLAR_ENDONLY: u32 = 0x0000_0010;
const PCRE2_UCP: u32 = 0x0002_0000;
const PCRE2_UTF: u32 = 0x0008_0000;
const PCRE2_NEVER_BACKSLASH_C: u32 = 0x0010_0000;
const PCRE2_NO_UTF_CHECK: u32 = 0x4000_0000;

/// Backtracking steps allowed per match.
const MATCH_LIMIT: u32 = 100_000;
/// Nested backtracking depth allowed per match.
const DEPTH_LIMIT: u32 = 2_000;
/// Heap memory allowed per match, in KiB.
const HEAP_LIMIT_KIB: u32 = 4_096;
/// Compiled patterns kept per authorization.
const CACHE_CAPACITY: usize = 64;

#[link(name = "pcre2-8")]
extern "C" {
    fn pcre2_compile_8(
        pattern: *const u8,
        length: usize,
        options: u32,
        errorcode: *mut c_int,
        erroroffset: *mut usize,
        ccontext: *mut c_void,
    ) -> *mut Pcre2Code;
    fn pcre2_code_free_8(code: *mut Pcre2Code);
    fn pcre2_match_data_create_8(ovecsize: u32, gcontext: *mut c_void) -> *mut Pcre2MatchData;
    fn pcre2_match_data_free_8(match_data: *mut Pcre2MatchData);
    fn pcre2_match_context_create_8(gcontext: *mut c_void) -> *mut Pcre2MatchContext;
    fn pcre2_match_context_free_8(mcontext: *mut Pcre2MatchContext);
    fn pcre2_set_match_limit_8(mcontext: *mut Pcre2MatchContext, value: u32) -> c_int;
    fn pcre2_set_depth_limit_8(mcontext: *mut Pcre2MatchContext, value: u32) -> c_int;
    fn pcre2_set_heap_limit_8(mcontext: *mut Pcre2MatchContext, value: u32) -> c_int;
    fn pcre2_match_8(
        code: *const Pcre2Code,
        subject: *const u8,
        length: usize,
        startoffset: usize,
        options: u32,
        match_data: *mut Pcre2MatchData,
        mcontext: *mut Pcre2MatchContext,
    ) -> c_int;
}

/// A compiled pattern with its own match data and limited match context.
/// Not `Send`/`Sync` (raw pointers): it lives inside one authorization.
pub struct Regex {
    code: NonNull<Pcre2Code>,
    data: NonNull<Pcre2MatchData>,
    context: NonNull<Pcre2MatchContext>,
}

impl Regex {
    /// Compiles `pattern`; `None` when it is invalid or uses a refused
    /// construct (look-around, back-references, PCRE-only syntax).
    pub fn new(pattern: &str) -> Option<Regex> {
        if refused(pattern) {
            return None;
        }
        let mut errorcode: c_int = 0;
        let mut erroroffset: usize = 0;
        // SAFETY: `pattern` is a valid buffer of `pattern.len()` bytes for the
        // duration of the call (PCRE2 copies what it needs into the compiled
        // code); the error out-pointers point to live locals; a null compile
        // context selects the defaults.
        let code = unsafe {
            pcre2_compile_8(
                pattern.as_ptr(),
                pattern.len(),
                PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_BACKSLASH_C,
                &mut errorcode,
                &mut erroroffset,
                ptr::null_mut(),
            )
        };
        let code = NonNull::new(code)?;
        // SAFETY: a null general context selects the default allocator; one
        // ovector pair is enough since only "matched or not" is used.
        let data = unsafe { pcre2_match_data_create_8(1, ptr::null_mut()) };
        // SAFETY: as above, default allocator.
        let context = unsafe { pcre2_match_context_create_8(ptr::null_mut()) };
        let (data, context) = match (NonNull::new(data), NonNull::new(context)) {
            (Some(d), Some(c)) => (d, c),
            (d, c) => {
                // SAFETY: each pointer was returned by the matching create
                // function above and is freed exactly once here.
                unsafe {
                    if let Some(d) = d {
                        pcre2_match_data_free_8(d.as_ptr());
                    }
                    if let Some(c) = c {
                        pcre2_match_context_free_8(c.as_ptr());
                    }
                    pcre2_code_free_8(code.as_ptr());
                }
                return None;
            }
        };
        // SAFETY: `context` is a live match context owned by us; the setters
        // only store the values.
        unsafe {
            pcre2_set_match_limit_8(context.as_ptr(), MATCH_LIMIT);
            pcre2_set_depth_limit_8(context.as_ptr(), DEPTH_LIMIT);
            pcre2_set_heap_limit_8(context.as_ptr(), HEAP_LIMIT_KIB);
        }
        Some(Regex {
            code,
            data,
            context,
        })
    }

    /// Unanchored search; a limit hit or any matching error is "no match".
    pub fn is_match(&self, subject: &str) -> bool {
        // SAFETY: `code`, `data` and `context` are live objects owned by
        // `self`; `data` is only used by this call (a `Regex` is neither
        // `Send` nor `Sync`, and the call does not re-enter); the subject is a
        // valid buffer of `subject.len()` bytes of valid UTF-8 (a `&str`), so
        // skipping PCRE2's UTF check is sound.
        let rc = unsafe {
            pcre2_match_8(
                self.code.as_ptr(),
                subject.as_ptr(),
                subject.len(),
                0,
                PCRE2_NO_UTF_CHECK,
                self.data.as_ptr(),
                self.context.as_ptr(),
            )
        };
        rc >= 0
    }
}

impl Drop for Regex {
    fn drop(&mut self) {
        // SAFETY: the three pointers were created in `Regex::new`, are owned
        // exclusively by `self` and are freed exactly once, here.
        unsafe {
            pcre2_match_data_free_8(self.data.as_ptr());
            pcre2_match_context_free_8(self.context.as_ptr());
            pcre2_code_free_8(self.code.as_ptr());
        }
    }
}

/// One-shot match: compiles, searches, frees. Invalid or refused patterns
/// give `false`.
pub fn is_match(pattern: &str, subject: &str) -> bool {
    Regex::new(pattern)
        .map(|r| r.is_match(subject))
        .unwrap_or(false)
}

/// Compiled patterns of one authorization (bounded; the oldest entry is
/// evicted when full). Refused and invalid patterns are cached too.
#[derive(Default)]
pub struct RegexCache {
    entries: RefCell<Vec<(String, Option<Regex>)>>,
}

impl RegexCache {
    pub fn new() -> RegexCache {
        RegexCache::default()
    }

    pub fn is_match(&self, pattern: &str, subject: &str) -> bool {
        let mut entries = self.entries.borrow_mut();
        if let Some((_, re)) = entries.iter().find(|(p, _)| p == pattern) {
            return re.as_ref().map(|r| r.is_match(subject)).unwrap_or(false);
        }
        let re = Regex::new(pattern);
        let result = re.as_ref().map(|r| r.is_match(subject)).unwrap_or(false);
        if entries.len() >= CACHE_CAPACITY {
            entries.remove(0);
        }
        entries.push((pattern.to_string(), re));
        result
    }
}

impl std::fmt::Debug for RegexCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RegexCache({} patterns)", self.entries.borrow().len())
    }
}

/// Whether the pattern uses syntax the reference regex engine rejects and
/// PCRE2 would accept with a different meaning: look-around, back-references,
/// recursion, conditionals, atomic groups, branch reset, callouts, comments,
/// verbs and `\K`. Character classes are skipped (their `(` is literal).
fn refused(pattern: &str) -> bool {
    let b = pattern.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                match b.get(i + 1) {
                    Some(c) if c.is_ascii_digit() && *c != b'0' => return true,
                    Some(b'g') | Some(b'k') | Some(b'K') => return true,
                    _ => {}
                }
                i += 2;
            }
            b'[' => {
                i = skip_class(b, i);
            }
            b'(' => {
                match b.get(i + 1) {
                    Some(b'*') => return true,
                    Some(b'?') => {
                        let rest = &b[i + 2..];
                        let first = rest.first().copied();
                        match first {
                            Some(b'=') | Some(b'!') | Some(b'>') | Some(b'|') | Some(b'(')
                            | Some(b'R') | Some(b'&') | Some(b'C') | Some(b'#') | Some(b'+')
                            | Some(b'0'..=b'9') => return true,
                            Some(b'<') => {
                                if matches!(rest.get(1), Some(b'=') | Some(b'!')) {
                                    return true;
                                }
                            }
                            Some(b'P') => {
                                if matches!(rest.get(1), Some(b'=') | Some(b'>')) {
                                    return true;
                                }
                            }
                            Some(b'-') => {
                                if matches!(rest.get(1), Some(b'0'..=b'9')) {
                                    return true;
                                }
                            }
                            _ => {}
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    false
}

/// Index just past the character class opening at `start` (`b[start] == '['`).
fn skip_class(b: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    if b.get(i) == Some(&b'^') {
        i += 1;
    }
    if b.get(i) == Some(&b']') {
        i += 1;
    }
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'[' if b.get(i + 1) == Some(&b':') => {
                // POSIX class `[:name:]`
                match b[i + 2..].windows(2).position(|w| w == b":]") {
                    Some(p) => i = i + 2 + p + 2,
                    None => i += 1,
                }
            }
            b']' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_matching() {
        assert!(is_match("file[0-9]+", "/dir/file123"));
        assert!(!is_match("^file[0-9]+$", "/dir/file123"));
        assert!(is_match("", "anything"));
        assert!(is_match("^$", ""));
        assert!(!is_match("abc$", "abc\n"));
        assert!(is_match("^\\w+$", "héllo"));
        assert!(is_match("^.$", "é"));
        assert!(is_match("(?i)ABC", "xabcx"));
        assert!(is_match("(?P<name>a)b", "ab"));
        assert!(is_match("(?:a|b)+c", "ababc"));
        assert!(is_match("[(?=]", "("));
        assert!(is_match("\\p{Greek}", "α"));
    }

    #[test]
    fn invalid_and_refused_patterns() {
        assert!(!is_match("(", "("));
        assert!(!is_match("[a-", "a"));
        assert!(!is_match("a(?=b)", "ab"));
        assert!(!is_match("a(?!c)", "ab"));
        assert!(!is_match("(?<=a)b", "ab"));
        assert!(!is_match("(?<!c)b", "ab"));
        assert!(!is_match("(a)\\1", "aa"));
        assert!(!is_match("(?<n>a)\\k<n>", "aa"));
        assert!(!is_match("(*UTF)a", "a"));
        assert!(!is_match("(?>a)", "a"));
        assert!(!is_match("(a)(?1)", "aa"));
        assert!(!is_match("a\\Kb", "ab"));
        assert!(!is_match("\\C", "a"));
    }

    #[test]
    fn catastrophic_pattern_is_bounded() {
        let subject = "a".repeat(40) + "!";
        // Exponential backtracking: the match limit stops it, giving false.
        assert!(!is_match("^(a+)+$", &subject));
        assert!(!is_match("^(a|a|aa)*$", &subject));
    }

    #[test]
    fn cache() {
        let cache = RegexCache::new();
        for i in 0..200 {
            assert!(cache.is_match("b", "abc"));
            assert!(!cache.is_match("(", "("));
            assert!(cache.is_match(&format!("x{}", i % 70), &format!("x{}", i % 70)));
        }
        assert!(cache.entries.borrow().len() <= CACHE_CAPACITY);
    }
}
