//! A small, bounded JSON reader and writer (RFC 8259).
//!
//! Reading: input ≤ [`MAX_INPUT_BYTES`], nesting ≤ [`MAX_DEPTH`], duplicate
//! object keys are an error, and every error carries a 1-based line and
//! column. Integral literals keep their exact value ([`Number::Int`] or
//! [`Number::UInt`]), so 64-bit ids and timestamps round-trip unchanged.
//!
//! Writing: `Display` (hence `to_string()`) gives compact JSON; control
//! characters are escaped (`\n`, `\t`, … or `\u00XX`), non-ASCII text is
//! written as UTF-8. [`Value::to_pretty_string`] indents with two spaces.

use std::collections::HashSet;
use std::fmt;

/// Largest accepted input, in bytes.
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;
/// Deepest accepted nesting of arrays and objects.
pub const MAX_DEPTH: usize = 64;

/// A JSON number. Integral literals are kept exactly: `Int` for values that
/// fit an `i64`, `UInt` for larger non-negative values up to `u64::MAX`;
/// everything else (fractions, exponents, huge integers) is a finite `Float`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    Int(i64),
    UInt(u64),
    Float(f64),
}

impl Number {
    /// The exact value as an `i64`, when it is integral and in range.
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Number::Int(n) => Some(n),
            Number::UInt(n) => i64::try_from(n).ok(),
            Number::Float(f) => {
                // 2^63 is exactly representable; the range is [-2^63, 2^63).
                if f.fract() == 0.0
                    && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f)
                {
                    Some(f as i64)
                } else {
                    None
                }
            }
        }
    }

    /// The exact value as a `u64`, when it is integral, non-negative and in range.
    pub fn as_u64(self) -> Option<u64> {
        match self {
            Number::Int(n) => u64::try_from(n).ok(),
            Number::UInt(n) => Some(n),
            Number::Float(f) => {
                if f.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&f) {
                    Some(f as u64)
                } else {
                    None
                }
            }
        }
    }

    /// The value as an `f64` (may round for integers above 2^53).
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(n) => n as f64,
            Number::UInt(n) => n as f64,
            Number::Float(f) => f,
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Number::Int(n) => write!(f, "{n}"),
            Number::UInt(n) => write!(f, "{n}"),
            // JSON has no NaN or infinity.
            Number::Float(x) if !x.is_finite() => f.write_str("null"),
            // Rust's shortest round-trip formatting never uses exponents and
            // is valid JSON ("1", "0.1", "-2.5").
            Number::Float(x) => write!(f, "{x}"),
        }
    }
}

/// A JSON value. Objects keep their members in document order.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

/// A parse error with its 1-based position (column counts characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "JSON error at line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for JsonError {}

impl Value {
    /// Parses one JSON document (surrounding whitespace allowed; a leading
    /// UTF-8 byte-order mark is skipped).
    pub fn parse(input: &str) -> Result<Value, JsonError> {
        if input.len() > MAX_INPUT_BYTES {
            return Err(JsonError {
                line: 1,
                column: 1,
                message: format!(
                    "input is {} bytes, more than the limit of {MAX_INPUT_BYTES}",
                    input.len()
                ),
            });
        }
        let mut p = Parser {
            src: input,
            bytes: input.as_bytes(),
            pos: 0,
        };
        if input.starts_with('\u{feff}') {
            p.pos = 3;
        }
        p.skip_ws();
        let value = p.value(0)?;
        p.skip_ws();
        if p.pos < p.bytes.len() {
            return Err(p.error_at(p.pos, "unexpected content after the JSON value"));
        }
        Ok(value)
    }

    /// Like [`Value::parse`], for bytes that must be UTF-8.
    pub fn parse_bytes(input: &[u8]) -> Result<Value, JsonError> {
        match std::str::from_utf8(input) {
            Ok(s) => Value::parse(s),
            Err(e) => {
                let valid = &input[..e.valid_up_to()];
                // The prefix is valid UTF-8 by construction.
                let prefix = std::str::from_utf8(valid).unwrap_or("");
                let (line, column) = line_col(prefix, prefix.len());
                Err(JsonError {
                    line,
                    column,
                    message: "input is not valid UTF-8".into(),
                })
            }
        }
    }

    /// Builds an object from `(key, value)` pairs, in order.
    pub fn object<K: Into<String>, I: IntoIterator<Item = (K, Value)>>(members: I) -> Value {
        Value::Object(members.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// Builds an array.
    pub fn array<T: Into<Value>, I: IntoIterator<Item = T>>(items: I) -> Value {
        Value::Array(items.into_iter().map(Into::into).collect())
    }

    /// The member `key` of an object (`None` for other values or a missing key).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<Number> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// Exact integer value (see [`Number::as_i64`]).
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }

    /// Exact non-negative integer value (see [`Number::as_u64`]).
    pub fn as_u64(&self) -> Option<u64> {
        self.as_number().and_then(Number::as_u64)
    }

    pub fn as_f64(&self) -> Option<f64> {
        self.as_number().map(Number::as_f64)
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Object(members) => Some(members),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A short name of the value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    /// Indented JSON (two spaces), ending without a newline.
    pub fn to_pretty_string(&self) -> String {
        let mut out = String::new();
        write_value(&mut out, self, Some(0));
        out
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        write_value(&mut out, self, None);
        f.write_str(&out)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Number(Number::Int(n))
    }
}
impl From<i32> for Value {
    fn from(n: i32) -> Value {
        Value::Number(Number::Int(n.into()))
    }
}
impl From<u32> for Value {
    fn from(n: u32) -> Value {
        Value::Number(Number::Int(n.into()))
    }
}
impl From<u64> for Value {
    fn from(n: u64) -> Value {
        match i64::try_from(n) {
            Ok(i) => Value::Number(Number::Int(i)),
            Err(_) => Value::Number(Number::UInt(n)),
        }
    }
}
impl From<usize> for Value {
    fn from(n: usize) -> Value {
        Value::from(n as u64)
    }
}
impl From<f64> for Value {
    fn from(x: f64) -> Value {
        Value::Number(Number::Float(x))
    }
}
impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Value {
        Value::Array(items)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// Appends `s` as a quoted, escaped JSON string.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0x00..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// `s` as a quoted, escaped JSON string.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_string(&mut out, s);
    out
}

fn newline(out: &mut String, indent: usize) {
    out.push('\n');
    for _ in 0..indent {
        out.push_str("  ");
    }
}

fn write_value(out: &mut String, v: &Value, indent: Option<usize>) {
    use std::fmt::Write as _;
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if let Some(d) = indent {
                    newline(out, d + 1);
                }
                write_value(out, item, indent.map(|d| d + 1));
            }
            if let (Some(d), false) = (indent, items.is_empty()) {
                newline(out, d);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (k, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if let Some(d) = indent {
                    newline(out, d + 1);
                }
                write_string(out, k);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_value(out, item, indent.map(|d| d + 1));
            }
            if let (Some(d), false) = (indent, members.is_empty()) {
                newline(out, d);
            }
            out.push('}');
        }
    }
}

/// 1-based (line, column) of byte offset `pos` in `src`; columns count characters.
fn line_col(src: &str, pos: usize) -> (usize, usize) {
    let mut pos = pos.min(src.len());
    while !src.is_char_boundary(pos) {
        pos -= 1;
    }
    let before = &src[..pos];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn error_at(&self, pos: usize, message: impl Into<String>) -> JsonError {
        let (line, column) = line_col(self.src, pos);
        JsonError {
            line,
            column,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn unexpected(&self, expected: &str) -> JsonError {
        match self.src[self.pos..].chars().next() {
            None => self.error_at(
                self.pos,
                format!("unexpected end of input, expected {expected}"),
            ),
            Some(c) => self.error_at(
                self.pos,
                format!("unexpected character {c:?}, expected {expected}"),
            ),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            _ => Err(self.unexpected("a JSON value")),
        }
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, JsonError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err(self.error_at(self.pos, format!("invalid literal, expected `{word}`")))
        }
    }

    fn check_depth(&self, depth: usize) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            Err(self.error_at(self.pos, format!("nesting deeper than {MAX_DEPTH}")))
        } else {
            Ok(())
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.check_depth(depth)?;
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.unexpected("`,` or `]`")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, JsonError> {
        const LINEAR_LIMIT: usize = 8;
        self.check_depth(depth)?;
        self.pos += 1; // '{'
        let mut members: Vec<(String, Value)> = Vec::new();
        // Only built for large objects, so that duplicate detection stays linear.
        let mut seen: Option<HashSet<String>> = None;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.unexpected("a string key"));
            }
            let key_pos = self.pos;
            let key = self.string()?;
            let duplicate = match &mut seen {
                Some(set) => !set.insert(key.clone()),
                None => {
                    let dup = members.iter().any(|(k, _)| *k == key);
                    if !dup && members.len() >= LINEAR_LIMIT {
                        let mut set: HashSet<String> =
                            members.iter().map(|(k, _)| k.clone()).collect();
                        set.insert(key.clone());
                        seen = Some(set);
                    }
                    dup
                }
            };
            if duplicate {
                return Err(self.error_at(key_pos, format!("duplicate key {}", quote(&key))));
            }
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.unexpected("`:`"));
            }
            self.pos += 1;
            self.skip_ws();
            let v = self.value(depth)?;
            members.push((key, v));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.unexpected("`,` or `}`")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.unexpected("a hexadecimal digit")),
            };
            v = v * 16 + u32::from(d);
            self.pos += 1;
        }
        Ok(v)
    }

    fn string(&mut self) -> Result<String, JsonError> {
        let open = self.pos;
        self.pos += 1; // '"'
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            let Some(b) = self.peek() else {
                return Err(self.error_at(open, "unterminated string"));
            };
            match b {
                b'"' => {
                    out.push_str(&self.src[run..self.pos]);
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    out.push_str(&self.src[run..self.pos]);
                    let esc_pos = self.pos;
                    self.pos += 1;
                    let Some(e) = self.peek() else {
                        return Err(self.error_at(open, "unterminated string"));
                    };
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if !self.bytes[self.pos..].starts_with(b"\\u") {
                                    return Err(
                                        self.error_at(esc_pos, "unpaired surrogate in \\u escape")
                                    );
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.error_at(
                                        esc_pos,
                                        "invalid surrogate pair in \\u escape",
                                    ));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else if (0xDC00..0xE000).contains(&hi) {
                                return Err(
                                    self.error_at(esc_pos, "unpaired surrogate in \\u escape")
                                );
                            } else {
                                hi
                            };
                            match char::from_u32(code) {
                                Some(c) => out.push(c),
                                None => return Err(self.error_at(esc_pos, "invalid \\u escape")),
                            }
                        }
                        _ => return Err(self.error_at(esc_pos, "invalid escape sequence")),
                    }
                    run = self.pos;
                }
                0x00..=0x1f => {
                    return Err(
                        self.error_at(self.pos, "control character in string (must be escaped)")
                    );
                }
                _ => self.pos += 1,
            }
        }
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.error_at(start, "leading zeros are not allowed in numbers"));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.unexpected("a digit")),
        }
        let mut integral = true;
        if self.peek() == Some(b'.') {
            integral = false;
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.unexpected("a digit after `.`"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            integral = false;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.unexpected("a digit in the exponent"));
            }
            self.digits();
        }
        let text = &self.src[start..self.pos];
        if integral {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(Value::Number(Number::Int(i)));
            }
            if let Ok(u) = text.parse::<u64>() {
                return Ok(Value::Number(Number::UInt(u)));
            }
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Number(Number::Float(f))),
            _ => Err(self.error_at(start, "number out of range")),
        }
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> JsonError {
        Value::parse(s).expect_err(s)
    }

    #[test]
    fn parses_scalars() {
        assert_eq!(Value::parse("null").unwrap(), Value::Null);
        assert_eq!(Value::parse(" true ").unwrap(), Value::Bool(true));
        assert_eq!(Value::parse("false").unwrap().as_bool(), Some(false));
        assert_eq!(Value::parse("\"hi\"").unwrap().as_str(), Some("hi"));
        assert_eq!(Value::parse("0").unwrap().as_i64(), Some(0));
        assert_eq!(Value::parse("-0").unwrap().as_i64(), Some(0));
        assert_eq!(Value::parse("1.5").unwrap().as_f64(), Some(1.5));
        assert_eq!(Value::parse("1.5").unwrap().as_i64(), None);
        assert_eq!(Value::parse("2.0").unwrap().as_i64(), Some(2));
        assert_eq!(Value::parse("1e3").unwrap().as_u64(), Some(1000));
        assert_eq!(Value::parse("-1E-2").unwrap().as_f64(), Some(-0.01));
        assert_eq!(Value::parse("\u{feff}1").unwrap().as_i64(), Some(1));
    }

    #[test]
    fn integers_are_exact() {
        let v = Value::parse(
            "[9223372036854775807,-9223372036854775808,18446744073709551615,9007199254740993]",
        )
        .unwrap();
        let a = v.as_array().unwrap();
        assert_eq!(a[0].as_i64(), Some(i64::MAX));
        assert_eq!(a[1].as_i64(), Some(i64::MIN));
        assert_eq!(a[1].as_u64(), None);
        assert_eq!(a[2].as_u64(), Some(u64::MAX));
        assert_eq!(a[2].as_i64(), None);
        assert_eq!(a[3].as_i64(), Some(9_007_199_254_740_993));
        assert_eq!(
            v.to_string(),
            "[9223372036854775807,-9223372036854775808,18446744073709551615,9007199254740993]"
        );
        // Beyond u64: a float.
        assert_eq!(Value::parse("18446744073709551616").unwrap().as_u64(), None);
        assert!(Value::parse("18446744073709551616")
            .unwrap()
            .as_f64()
            .is_some());
        assert_eq!(Value::parse("-1").unwrap().as_u64(), None);
        assert_eq!(Value::from(u64::MAX).as_u64(), Some(u64::MAX));
        assert_eq!(Value::from(7u64), Value::Number(Number::Int(7)));
    }

    #[test]
    fn objects_and_get() {
        let v = Value::parse(r#"{"a": 1, "b": [true, null, "x"], "c": {"d": "e"}}"#).unwrap();
        assert_eq!(v.get("a").and_then(Value::as_i64), Some(1));
        assert!(v.get("b").unwrap().as_array().unwrap()[1].is_null());
        assert_eq!(
            v.get("c").and_then(|c| c.get("d")).and_then(Value::as_str),
            Some("e")
        );
        assert_eq!(v.get("zz"), None);
        assert_eq!(v.as_object().unwrap()[1].0, "b");
        assert_eq!(Value::Null.get("a"), None);
        assert_eq!(
            v.to_string(),
            r#"{"a":1,"b":[true,null,"x"],"c":{"d":"e"}}"#
        );
    }

    #[test]
    fn string_escapes() {
        let v = Value::parse(r#""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00\u0001""#).unwrap();
        assert_eq!(v.as_str(), Some("a\"b\\c/d\u{8}\u{c}\n\r\té😀\u{1}"));
        assert_eq!(v.to_string(), "\"a\\\"b\\\\c/d\\b\\f\\n\\r\\té😀\\u0001\"");
        assert_eq!(quote("\u{1f}\u{7f}ü"), "\"\\u001f\u{7f}ü\"");
        assert_eq!(
            Value::parse(&quote("x\u{0}y")).unwrap().as_str(),
            Some("x\u{0}y")
        );
    }

    #[test]
    fn rejects_bad_input() {
        for s in [
            "",
            " ",
            "nul",
            "tru",
            "[1,]",
            "{\"a\":1,}",
            "[1 2]",
            "{\"a\" 1}",
            "{a:1}",
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "+1",
            "\"abc",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud800\\u0041\"",
            "\"a\nb\"",
            "1 2",
            "NaN",
            "[",
            "{",
            "'a'",
            "1e400",
            "\"\\u12g4\"",
        ] {
            let _ = err(s);
        }
    }

    #[test]
    fn duplicate_keys() {
        let e = err("{\"a\":1,\n  \"a\":2}");
        assert_eq!((e.line, e.column), (2, 3));
        assert!(e.message.contains("duplicate"), "{e}");
        // Large objects use the hash-set path.
        let mut s = String::from("{");
        for i in 0..20 {
            s.push_str(&format!("\"k{i}\":{i},"));
        }
        s.push_str("\"k3\":0}");
        assert!(err(&s).message.contains("duplicate key \"k3\""));
        // Escaped forms of the same key are the same key.
        let _ = err(r#"{"a":1,"\u0061":2}"#);
    }

    #[test]
    fn error_positions() {
        let e = err("{\n  \"a\": tru\n}");
        assert_eq!((e.line, e.column), (2, 8));
        let e = err("[\"é\", x]");
        assert_eq!((e.line, e.column), (1, 7));
        assert_eq!(
            e.to_string(),
            "JSON error at line 1, column 7: unexpected character 'x', expected a JSON value"
        );
        let e = err("[1,2");
        assert!(e.message.contains("end of input"));
    }

    #[test]
    fn depth_limit() {
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(Value::parse(&ok).is_ok());
        let bad = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(err(&bad).message.contains("nesting"));
        let bad = "{\"a\":".repeat(MAX_DEPTH + 1) + "1" + &"}".repeat(MAX_DEPTH + 1);
        assert!(err(&bad).message.contains("nesting"));
        // Very deep input fails cleanly, without exhausting the stack.
        let huge = "[".repeat(1_000_000);
        assert!(err(&huge).message.contains("nesting"));
    }

    #[test]
    fn size_limit() {
        let big = " ".repeat(MAX_INPUT_BYTES) + "1";
        assert!(err(&big).message.contains("limit"));
    }

    #[test]
    fn utf8_bytes() {
        assert_eq!(Value::parse_bytes(b"[1]").unwrap(), Value::array([1i64]));
        let e = Value::parse_bytes(b"[\"a\xff\"]").unwrap_err();
        assert_eq!((e.line, e.column), (1, 4));
    }

    #[test]
    fn builder_and_round_trip() {
        let v = Value::object([
            ("name", Value::from("hessra")),
            ("n", Value::from(-5i64)),
            ("f", Value::from(0.25)),
            ("none", Value::from(None::<String>)),
            ("list", Value::array(["a", "b"])),
            ("empty", Value::object(Vec::<(String, Value)>::new())),
        ]);
        let s = v.to_string();
        assert_eq!(
            s,
            r#"{"name":"hessra","n":-5,"f":0.25,"none":null,"list":["a","b"],"empty":{}}"#
        );
        assert_eq!(Value::parse(&s).unwrap(), v);
        let pretty = v.to_pretty_string();
        assert!(
            pretty.contains("\n  \"list\": [\n    \"a\",\n    \"b\"\n  ],"),
            "{pretty}"
        );
        assert_eq!(Value::parse(&pretty).unwrap(), v);
        assert_eq!(Value::from(f64::NAN).to_string(), "null");
        assert_eq!(Value::Array(vec![]).to_pretty_string(), "[]");
    }
}
