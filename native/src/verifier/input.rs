//! Token input: the one normalisation of token text ([`normalize_token_text`])
//! and the decoded container ([`ParsedToken`]).

use std::sync::{Arc, OnceLock};

use crate::cache::{cache_key, CacheKey, CheckedToken, TokenCache};
use crate::crypto::{sha256, PublicKey};
use crate::encoding::{base64url_decode, EncodingError};
use crate::token::{Token, TokenError, MAX_TOKEN_BYTES};

/// Largest token text: base64 of [`MAX_TOKEN_BYTES`] plus room for
/// whitespace and a prefix.
pub const MAX_TOKEN_TEXT: usize = MAX_TOKEN_BYTES / 3 * 4 + 1024;

/// Why token input is not a token container.
#[derive(Clone, Debug, PartialEq)]
pub enum TokenInputError {
    /// Longer than the text or byte bound (`what` says which).
    TooLarge {
        what: &'static str,
        max: usize,
    },
    Empty,
    /// Not base64url; the message never quotes the input.
    Base64(String),
    /// Decoded, but not a valid container.
    Token(TokenError),
}

/// A decoded token container and its raw bytes (the cache key is a hash of
/// them). Signatures are not checked yet.
pub struct ParsedToken {
    pub token: Token,
    pub raw: Vec<u8>,
    /// SHA-256 of `raw`, computed on first use with a cache (a token
    /// verified again and again hashes its bytes once).
    digest: OnceLock<[u8; 32]>,
}

impl ParsedToken {
    /// Decodes raw container bytes.
    pub fn from_bytes(raw: Vec<u8>) -> Result<ParsedToken, TokenInputError> {
        if raw.len() > MAX_TOKEN_BYTES {
            return Err(TokenInputError::TooLarge {
                what: "token",
                max: MAX_TOKEN_BYTES,
            });
        }
        if raw.is_empty() {
            return Err(TokenInputError::Empty);
        }
        let token = Token::from_bytes(&raw).map_err(TokenInputError::Token)?;
        Ok(ParsedToken {
            token,
            raw,
            digest: OnceLock::new(),
        })
    }

    /// Decodes token text (see [`normalize_token_text`]).
    pub fn from_text(text: &str) -> Result<ParsedToken, TokenInputError> {
        ParsedToken::from_bytes(normalize_token_text(text)?)
    }

    /// Decodes bytes that are either token text or a raw container: text
    /// when they are printable ASCII and whitespace only (a container starts
    /// with 0x08 or 0x12).
    pub fn from_any(data: &[u8]) -> Result<ParsedToken, TokenInputError> {
        let looks_like_text = data
            .iter()
            .all(|&b| (0x20..0x7f).contains(&b) || matches!(b, b'\t' | b'\n' | b'\r'));
        if data.is_empty() || !looks_like_text {
            return ParsedToken::from_bytes(data.to_vec());
        }
        match std::str::from_utf8(data) {
            Ok(text) => ParsedToken::from_text(text),
            Err(_) => ParsedToken::from_bytes(data.to_vec()),
        }
    }

    /// The verification cache key for this token under `key`.
    fn cache_key(&self, key: &PublicKey) -> CacheKey {
        let digest = self.digest.get_or_init(|| sha256(&self.raw));
        cache_key(b"token-sha256", digest, Some(key))
    }

    /// Checks every signature with `key`, through the cache when one is
    /// given.
    pub fn verify(
        &self,
        key: &PublicKey,
        cache: Option<&TokenCache>,
    ) -> Result<Arc<CheckedToken>, TokenError> {
        match cache {
            Some(c) => c.get_or_insert_with(self.cache_key(key), || {
                self.token
                    .verify(key)
                    .map(|v| CheckedToken::new(v.for_cache()))
            }),
            None => self
                .token
                .verify(key)
                .map(|v| Arc::new(CheckedToken::new(v))),
        }
    }
}

/// The one normalisation of token text: surrounding and embedded ASCII
/// whitespace (tokens get wrapped in terminals and YAML), a `Bearer `
/// prefix (any case), a `biscuit:` prefix; then base64url (or the standard
/// alphabet), padding optional. Error positions count in the text as given.
pub fn normalize_token_text(text: &str) -> Result<Vec<u8>, TokenInputError> {
    if text.len() > MAX_TOKEN_TEXT {
        return Err(TokenInputError::TooLarge {
            what: "token text",
            max: MAX_TOKEN_TEXT,
        });
    }
    let mut t = text.trim_start();
    if t.len() >= 7 && t.is_char_boundary(7) && t[..7].eq_ignore_ascii_case("bearer ") {
        t = t[7..].trim_start();
    }
    if let Some(rest) = t.strip_prefix("biscuit:") {
        t = rest;
    }
    let start = t.as_ptr() as usize - text.as_ptr() as usize;
    // The compact text and, for messages, where each byte was in `text`.
    let mut compact = String::with_capacity(t.len());
    let mut positions = Vec::new();
    for (i, c) in t.char_indices() {
        if !c.is_ascii_whitespace() {
            compact.push(c);
            positions.push(start + i);
        }
    }
    if compact.is_empty() {
        return Err(TokenInputError::Empty);
    }
    base64url_decode(&compact).map_err(|e| TokenInputError::Base64(base64_problem(&e, &positions)))
}

/// Describes a base64 error without quoting the input (beyond the one
/// offending character, which is not part of any token).
fn base64_problem(e: &EncodingError, positions: &[usize]) -> String {
    let at = |p: usize| positions.get(p).copied().unwrap_or(p);
    match e {
        EncodingError::InvalidCharacter { position, found, .. } => {
            let c = if found.is_ascii_graphic() {
                format!("'{}'", found)
            } else {
                format!("U+{:04X}", *found as u32)
            };
            format!("invalid character {} at position {}", c, at(*position))
        }
        EncodingError::InvalidLength { length, .. } => format!(
            "impossible length: {} base64 characters (a length of 4n+1 cannot be decoded; is the token truncated?)",
            length
        ),
        EncodingError::InvalidPadding { position } => {
            format!("misplaced '=' padding at position {}", at(*position))
        }
        EncodingError::NonCanonical { position } => format!(
            "non-canonical encoding: unused bits set in the character at position {} (is the token truncated?)",
            at(*position)
        ),
        EncodingError::Pem(_) => "not base64".to_string(),
    }
}
