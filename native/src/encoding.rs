//! Text encodings: base64 (URL-safe and standard), hex and PEM armour.
//!
//! Decoders are strict about content (every bad character is reported with
//! its byte position) and lenient only where the formats differ in practice:
//! base64 accepts both alphabets and optional `=` padding, hex accepts both
//! letter cases, PEM accepts text around the armour and CRLF line ends.

use std::fmt;

/// What went wrong while decoding, with where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EncodingError {
    /// A character that does not belong to the encoding, at byte `position`.
    InvalidCharacter {
        encoding: &'static str,
        position: usize,
        found: char,
    },
    /// The input length is impossible for the encoding (after trimming).
    InvalidLength {
        encoding: &'static str,
        length: usize,
    },
    /// Misplaced or wrong `=` padding at byte `position`.
    InvalidPadding { position: usize },
    /// The last character carries non-zero unused bits (a non-canonical encoding).
    NonCanonical { position: usize },
    /// A PEM armour problem.
    Pem(String),
}

impl fmt::Display for EncodingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodingError::InvalidCharacter {
                encoding,
                position,
                found,
            } => {
                write!(
                    f,
                    "invalid {encoding} character {found:?} at position {position}"
                )
            }
            EncodingError::InvalidLength { encoding, length } => {
                write!(f, "invalid {encoding} length {length}")
            }
            EncodingError::InvalidPadding { position } => {
                write!(f, "invalid base64 padding at position {position}")
            }
            EncodingError::NonCanonical { position } => {
                write!(
                    f,
                    "non-canonical base64: unused bits set at position {position}"
                )
            }
            EncodingError::Pem(msg) => write!(f, "invalid PEM: {msg}"),
        }
    }
}

impl std::error::Error for EncodingError {}

const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

const INVALID: u8 = 0xff;

/// Decoding table accepting both alphabets (`-`/`+` = 62, `_`/`/` = 63).
const DECODE: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        t[URL_SAFE[i] as usize] = i as u8;
        t[STANDARD[i] as usize] = i as u8;
        i += 1;
    }
    t
};

fn char_at(s: &str, pos: usize) -> char {
    s.get(pos..)
        .and_then(|r| r.chars().next())
        .unwrap_or('\u{fffd}')
}

fn encode_with(data: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    let mut chunks = data.chunks_exact(3);
    for c in &mut chunks {
        let n = (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]);
        for shift in [18, 12, 6, 0] {
            out.push(alphabet[((n >> shift) & 63) as usize] as char);
        }
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let b1 = rest.get(1).copied().unwrap_or(0);
        let n = (u32::from(rest[0]) << 16) | (u32::from(b1) << 8);
        out.push(alphabet[((n >> 18) & 63) as usize] as char);
        out.push(alphabet[((n >> 12) & 63) as usize] as char);
        if rest.len() == 2 {
            out.push(alphabet[((n >> 6) & 63) as usize] as char);
        }
        if pad {
            for _ in rest.len()..3 {
                out.push('=');
            }
        }
    }
    out
}

/// URL-safe base64 (`-`, `_`) with `=` padding, as Biscuit tokens are written.
pub fn base64url_encode(data: &[u8]) -> String {
    encode_with(data, URL_SAFE, true)
}

/// URL-safe base64 without padding.
pub fn base64url_encode_unpadded(data: &[u8]) -> String {
    encode_with(data, URL_SAFE, false)
}

/// Standard base64 (`+`, `/`) with padding (PEM bodies).
pub fn base64_encode(data: &[u8]) -> String {
    encode_with(data, STANDARD, true)
}

/// Decodes base64 in either alphabet, with or without `=` padding.
/// Leading and trailing ASCII whitespace is ignored; positions in errors are
/// byte offsets into `input`.
pub fn base64url_decode(input: &str) -> Result<Vec<u8>, EncodingError> {
    let start = input.len()
        - input
            .trim_start_matches(|c: char| c.is_ascii_whitespace())
            .len();
    let trimmed = input.trim_matches(|c: char| c.is_ascii_whitespace());
    decode_base64_at(trimmed.as_bytes(), input, start)
}

/// The first invalid byte of a base64 body (the padding split off), as an error.
fn first_invalid(body: &[u8], full: &str, offset: usize) -> Option<EncodingError> {
    for (i, &b) in body.iter().enumerate() {
        if b == b'=' {
            return Some(EncodingError::InvalidPadding {
                position: offset + i,
            });
        }
        if DECODE[b as usize] == INVALID {
            return Some(EncodingError::InvalidCharacter {
                encoding: "base64",
                position: offset + i,
                found: char_at(full, offset + i),
            });
        }
    }
    None
}

/// Decodes `data` (a trimmed slice of `full` starting at byte `offset`).
fn decode_base64_at(data: &[u8], full: &str, offset: usize) -> Result<Vec<u8>, EncodingError> {
    // Split off the padding: at most two '=' at the very end.
    let body_len = data.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    let body = &data[..body_len];
    // Fast path: four characters at a time; any invalid byte (INVALID has
    // the high bits set, valid values are below 64) sends us to the slow
    // scan, which reports the first bad byte of the body, whatever it is.
    let mut out = Vec::with_capacity(body.len() / 4 * 3 + 2);
    let mut chunks = body.chunks_exact(4);
    for c in &mut chunks {
        let a = u32::from(DECODE[c[0] as usize]);
        let b = u32::from(DECODE[c[1] as usize]);
        let x = u32::from(DECODE[c[2] as usize]);
        let d = u32::from(DECODE[c[3] as usize]);
        if (a | b | x | d) >= 64 {
            return Err(first_invalid(body, full, offset).unwrap_or(
                EncodingError::InvalidCharacter {
                    encoding: "base64",
                    position: offset,
                    found: '\u{fffd}',
                },
            ));
        }
        let n = (a << 18) | (b << 12) | (x << 6) | d;
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    let rest = chunks.remainder();
    if let Some(e) = first_invalid(rest, full, offset + body.len() - rest.len()) {
        return Err(e);
    }
    let pad = data.len() - body_len;
    if pad > 0 && (pad > 2 || !data.len().is_multiple_of(4)) {
        return Err(EncodingError::InvalidPadding {
            position: offset + body_len,
        });
    }
    let v = |i: usize| u32::from(DECODE[rest[i] as usize]);
    match rest.len() {
        0 => {}
        1 => {
            return Err(EncodingError::InvalidLength {
                encoding: "base64",
                length: data.len(),
            })
        }
        2 => {
            if v(1) & 0x0f != 0 {
                return Err(EncodingError::NonCanonical {
                    position: offset + body.len() - 1,
                });
            }
            out.push(((v(0) << 2) | (v(1) >> 4)) as u8);
        }
        _ => {
            if v(2) & 0x03 != 0 {
                return Err(EncodingError::NonCanonical {
                    position: offset + body.len() - 1,
                });
            }
            let n = (v(0) << 12) | (v(1) << 6) | v(2);
            out.extend_from_slice(&[(n >> 10) as u8, (n >> 2) as u8]);
        }
    }
    Ok(out)
}

/// Lowercase hex.
pub fn hex_encode(data: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(data.len() * 2);
    for &b in data {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
    out
}

/// Hex in either case; no prefix, separators or whitespace.
pub fn hex_decode(input: &str) -> Result<Vec<u8>, EncodingError> {
    fn nibble(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / 2);
    for (i, pair) in bytes.chunks(2).enumerate() {
        let pos = 2 * i;
        let hi = nibble(pair[0]).ok_or_else(|| EncodingError::InvalidCharacter {
            encoding: "hex",
            position: pos,
            found: char_at(input, pos),
        })?;
        let Some(&lo_b) = pair.get(1) else {
            return Err(EncodingError::InvalidLength {
                encoding: "hex",
                length: bytes.len(),
            });
        };
        let lo = nibble(lo_b).ok_or_else(|| EncodingError::InvalidCharacter {
            encoding: "hex",
            position: pos + 1,
            found: char_at(input, pos + 1),
        })?;
        out.push((hi << 4) | lo);
    }
    Ok(out)
}

/// PEM armour: `-----BEGIN label-----`, base64 lines, `-----END label-----`.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = base64_encode(der);
    let mut out = String::with_capacity(body.len() + body.len() / 64 + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for line in body.as_bytes().chunks(64) {
        // Base64 output is ASCII.
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// The first PEM block in `input`: `(label, DER)`. Text before and after the
/// block is ignored (as OpenSSL does); encrypted PEM (with headers) is refused.
pub fn pem_decode(input: &str) -> Result<(String, Vec<u8>), EncodingError> {
    let mut blocks = PemBlocks { rest: input };
    match blocks.next() {
        Some(r) => r,
        None => Err(EncodingError::Pem("no \"-----BEGIN\" line found".into())),
    }
}

/// Every PEM block in `input`, in order (for files that hold, for example,
/// `EC PARAMETERS` before `EC PRIVATE KEY`).
pub fn pem_decode_all(input: &str) -> Result<Vec<(String, Vec<u8>)>, EncodingError> {
    let all: Vec<_> = PemBlocks { rest: input }.collect::<Result<_, _>>()?;
    if all.is_empty() {
        return Err(EncodingError::Pem("no \"-----BEGIN\" line found".into()));
    }
    Ok(all)
}

struct PemBlocks<'a> {
    rest: &'a str,
}

impl Iterator for PemBlocks<'_> {
    type Item = Result<(String, Vec<u8>), EncodingError>;

    fn next(&mut self) -> Option<Self::Item> {
        const BEGIN: &str = "-----BEGIN ";
        let at = self.rest.find(BEGIN)?;
        let after = &self.rest[at + BEGIN.len()..];
        let (first_line, mut remaining) = match after.find('\n') {
            Some(i) => (&after[..i], &after[i + 1..]),
            None => (after, ""),
        };
        self.rest = "";
        let first_line = first_line.trim_end();
        let Some(label) = first_line.strip_suffix("-----") else {
            return Some(Err(EncodingError::Pem("malformed BEGIN line".into())));
        };
        if label.is_empty() || label.contains('-') {
            return Some(Err(EncodingError::Pem("malformed BEGIN line".into())));
        }
        let end_line = format!("-----END {label}-----");
        let mut body = String::new();
        loop {
            if remaining.is_empty() {
                return Some(Err(EncodingError::Pem(format!("missing \"{end_line}\""))));
            }
            let (line, next) = match remaining.find('\n') {
                Some(i) => (&remaining[..i], &remaining[i + 1..]),
                None => (remaining, ""),
            };
            remaining = next;
            let line = line.trim();
            if line.starts_with("-----END") {
                if line != end_line {
                    return Some(Err(EncodingError::Pem(format!(
                        "END line does not match, expected \"{end_line}\""
                    ))));
                }
                break;
            }
            if line.contains(':') {
                return Some(Err(EncodingError::Pem(
                    "PEM headers (encrypted keys) are not supported".into(),
                )));
            }
            body.push_str(line);
        }
        self.rest = remaining;
        if body.is_empty() {
            return Some(Err(EncodingError::Pem(format!("empty {label} block"))));
        }
        Some(match base64url_decode(&body) {
            Ok(der) => Ok((label.to_owned(), der)),
            Err(e) => Err(EncodingError::Pem(format!(
                "bad base64 in {label} block: {e}"
            ))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip_every_length_and_tail() {
        let data: Vec<u8> = (0..64u32).map(|i| (i * 37 + 11) as u8).collect();
        for n in 0..data.len() {
            let enc = base64url_encode(&data[..n]);
            assert_eq!(base64url_decode(&enc).unwrap(), &data[..n]);
            let unpadded = enc.trim_end_matches('=');
            assert_eq!(base64url_decode(unpadded).unwrap(), &data[..n]);
            // an invalid byte anywhere is reported at its position
            for pos in 0..unpadded.len() {
                let mut bad = unpadded.as_bytes().to_vec();
                bad[pos] = b'!';
                let bad = String::from_utf8(bad).unwrap();
                assert_eq!(
                    base64url_decode(&bad),
                    Err(EncodingError::InvalidCharacter {
                        encoding: "base64",
                        position: pos,
                        found: '!'
                    })
                );
            }
        }
        // non-canonical tails
        assert_eq!(
            base64url_decode("AB"),
            Err(EncodingError::NonCanonical { position: 1 })
        );
        assert_eq!(
            base64url_decode("AAB"),
            Err(EncodingError::NonCanonical { position: 2 })
        );
        assert_eq!(
            base64url_decode("AAAAA").unwrap_err(),
            EncodingError::InvalidLength {
                encoding: "base64",
                length: 5
            }
        );
    }

    #[test]
    fn base64_vectors() {
        // RFC 4648 test vectors.
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, enc) in cases {
            assert_eq!(base64url_encode(plain.as_bytes()), enc);
            assert_eq!(base64_encode(plain.as_bytes()), enc);
            assert_eq!(base64url_decode(enc).unwrap(), plain.as_bytes());
            let unpadded = enc.trim_end_matches('=');
            assert_eq!(base64url_encode_unpadded(plain.as_bytes()), unpadded);
            assert_eq!(base64url_decode(unpadded).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn base64_alphabets() {
        let data = [0xfbu8, 0xff, 0xbf, 0xfe];
        assert_eq!(base64url_encode(&data), "-_-__g==");
        assert_eq!(base64_encode(&data), "+/+//g==");
        assert_eq!(base64url_decode("-_-__g==").unwrap(), data);
        assert_eq!(base64url_decode("+/+//g").unwrap(), data);
        assert_eq!(base64url_decode("  -_-__g==\n").unwrap(), data);
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(base64url_decode(&base64url_encode(&all)).unwrap(), all);
        assert_eq!(base64url_decode(&base64_encode(&all)).unwrap(), all);
    }

    #[test]
    fn base64_errors() {
        assert_eq!(
            base64url_decode("Zm9v!mFy").unwrap_err(),
            EncodingError::InvalidCharacter {
                encoding: "base64",
                position: 4,
                found: '!'
            }
        );
        assert_eq!(
            base64url_decode("  Zm é").unwrap_err(),
            EncodingError::InvalidCharacter {
                encoding: "base64",
                position: 4,
                found: ' '
            }
        );
        assert_eq!(
            base64url_decode("Zmé=").unwrap_err(),
            EncodingError::InvalidCharacter {
                encoding: "base64",
                position: 2,
                found: 'é'
            }
        );
        assert!(matches!(
            base64url_decode("Zm9vY").unwrap_err(),
            EncodingError::InvalidLength { .. }
        ));
        assert_eq!(
            base64url_decode("Zg=").unwrap_err(),
            EncodingError::InvalidPadding { position: 2 }
        );
        assert_eq!(
            base64url_decode("Zg===").unwrap_err(),
            EncodingError::InvalidPadding { position: 2 }
        );
        assert_eq!(
            base64url_decode("Zg==Zg==").unwrap_err(),
            EncodingError::InvalidPadding { position: 2 }
        );
        assert_eq!(
            base64url_decode("Zm9v=").unwrap_err(),
            EncodingError::InvalidPadding { position: 4 }
        );
        assert_eq!(
            base64url_decode("Zh==").unwrap_err(),
            EncodingError::NonCanonical { position: 1 }
        );
        assert_eq!(
            base64url_decode("Zm9=").unwrap_err(),
            EncodingError::NonCanonical { position: 2 }
        );
        assert!(base64url_decode("Zm9v YmFy").is_err());
        assert!(base64url_decode("====").is_err());
        let e = base64url_decode("Zm9v!mFy").unwrap_err().to_string();
        assert_eq!(e, "invalid base64 character '!' at position 4");
    }

    #[test]
    fn hex() {
        assert_eq!(hex_encode(&[0x00, 0x1f, 0xab, 0xff]), "001fabff");
        assert_eq!(
            hex_decode("001FabfF").unwrap(),
            vec![0x00, 0x1f, 0xab, 0xff]
        );
        assert_eq!(hex_decode("").unwrap(), Vec::<u8>::new());
        assert_eq!(
            hex_decode("0g").unwrap_err(),
            EncodingError::InvalidCharacter {
                encoding: "hex",
                position: 1,
                found: 'g'
            }
        );
        assert_eq!(
            hex_decode("abc").unwrap_err(),
            EncodingError::InvalidLength {
                encoding: "hex",
                length: 3
            }
        );
        assert_eq!(
            hex_decode("aé").unwrap_err(),
            EncodingError::InvalidCharacter {
                encoding: "hex",
                position: 1,
                found: 'é'
            }
        );
        assert!(hex_decode(" 00").is_err());
    }

    #[test]
    fn pem_round_trip() {
        let der: Vec<u8> = (0..100u8).collect();
        let pem = pem_encode("PUBLIC KEY", &der);
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(pem.ends_with("\n-----END PUBLIC KEY-----\n"));
        assert!(pem.lines().all(|l| l.len() <= 64));
        assert_eq!(
            pem_decode(&pem).unwrap(),
            ("PUBLIC KEY".to_string(), der.clone())
        );
        let crlf = format!("comment line\r\n{}\r\ntrailer", pem.replace('\n', "\r\n"));
        assert_eq!(
            pem_decode(&crlf).unwrap(),
            ("PUBLIC KEY".to_string(), der.clone())
        );
        let two = format!(
            "{}{}",
            pem_encode("EC PARAMETERS", &[6, 1]),
            pem_encode("EC PRIVATE KEY", &der)
        );
        let all = pem_decode_all(&two).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0], ("EC PARAMETERS".to_string(), vec![6, 1]));
        assert_eq!(all[1].0, "EC PRIVATE KEY");
    }

    #[test]
    fn pem_errors() {
        assert!(pem_decode("").is_err());
        assert!(pem_decode("MCowBQYDK2VwAyEA").is_err());
        assert!(pem_decode("-----BEGIN PUBLIC KEY-----\nMCowBQ==\n").is_err());
        assert!(
            pem_decode("-----BEGIN PUBLIC KEY-----\nMCowBQ==\n-----END PRIVATE KEY-----\n")
                .is_err()
        );
        assert!(pem_decode("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n").is_err());
        assert!(
            pem_decode("-----BEGIN PUBLIC KEY-----\nMC!wBQ==\n-----END PUBLIC KEY-----\n").is_err()
        );
        assert!(pem_decode("-----BEGIN PUBLIC KEY\nMCowBQ==\n-----END PUBLIC KEY-----\n").is_err());
        let enc = "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nMCowBQ==\n-----END EC PRIVATE KEY-----\n";
        assert!(pem_decode(enc)
            .unwrap_err()
            .to_string()
            .contains("encrypted"));
        assert!(pem_decode_all("nothing").is_err());
    }
}
