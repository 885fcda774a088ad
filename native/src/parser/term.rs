//! Terms: strings, integers, dates, bytes, booleans, null, variables,
//! arrays, maps, sets and `{name}` placeholders.

use std::cmp::Ordering;

use super::date::parse_rfc3339_signed;
use super::{PResult, Parser};
use crate::datalog::ast::value_cmp;
use crate::datalog::{MapKey, Term};

/// Where a term appears, which decides what it may contain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ctx {
    /// Predicates of rules, checks and expressions: variables allowed.
    Any,
    /// Facts and the elements of arrays and maps: no variables.
    Fact,
    /// Elements of a set: no variables, sets or arrays.
    Set,
}

/// Characters that end a date literal.
const DATE_END: &[u8] = b", )];}";

impl<'a> Parser<'a> {
    pub(super) fn term(&mut self, ctx: Ctx) -> PResult<Term> {
        self.skip_ws();
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Err(self.soft(start, "expected a term, found end of input".to_string()));
        };
        match c {
            b'{' => {
                if let Some(name) = self.parameter_name() {
                    let value = self.parameter(&name, start)?;
                    self.check_parameter_value(&name, &value, ctx, start)?;
                    return Ok(value);
                }
                self.nested(|p| p.brace(ctx, start))
            }
            b'"' => self.string().map(Term::Str),
            b'$' => {
                if ctx != Ctx::Any {
                    let place = if ctx == Ctx::Set { "sets" } else { "facts" };
                    return Err(self.soft(start, format!("variables are not allowed in {}", place)));
                }
                self.pos += 1;
                Ok(Term::Variable(self.name()?))
            }
            b'0'..=b'9' | b'-' => self.date_or_integer(),
            b'[' => {
                if ctx == Ctx::Set {
                    return Err(self.soft(start, "arrays are not allowed in sets".to_string()));
                }
                self.nested(|p| p.array())
            }
            _ => {
                if self.eat("hex:") {
                    Ok(Term::Bytes(self.hex_digits()?))
                } else if self.eat("true") {
                    Ok(Term::Bool(true))
                } else if self.eat("false") {
                    Ok(Term::Bool(false))
                } else if self.eat("null") {
                    Ok(Term::Null)
                } else {
                    Err(self.soft(
                        start,
                        format!("expected a term, found {}", self.excerpt(start)),
                    ))
                }
            }
        }
    }

    /// `{name}` where name starts with a letter; consumes it when present.
    fn parameter_name(&mut self) -> Option<String> {
        let rest = self.rest().as_bytes();
        if rest.len() < 3 || rest[0] != b'{' || !rest[1].is_ascii_alphabetic() {
            return None;
        }
        let len = 1 + rest[1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b':')
            .count();
        if rest.get(len) != Some(&b'}') {
            return None;
        }
        let name = self.rest()[1..len].to_string();
        self.pos += len + 1;
        Some(name)
    }

    fn parameter(&mut self, name: &str, start: usize) -> PResult<Term> {
        match self.params.and_then(|params| params.get(name)) {
            Some(value) => {
                self.used.insert(name.to_string());
                Ok(value.clone())
            }
            None => Err(self.hard(start, format!("missing parameter `{}`", name))),
        }
    }

    fn check_parameter_value(
        &self,
        name: &str,
        value: &Term,
        ctx: Ctx,
        start: usize,
    ) -> PResult<()> {
        let nested_variable = match value {
            Term::Set(items) | Term::Array(items) => items.iter().any(has_variable),
            Term::Map(entries) => entries.iter().any(|(_, v)| has_variable(v)),
            _ => false,
        };
        let problem = if nested_variable {
            Some("variables cannot be nested in collections")
        } else {
            match (ctx, value) {
                (Ctx::Fact, Term::Variable(_)) => Some("variables are not allowed in facts"),
                (Ctx::Set, Term::Variable(_)) => Some("variables are not allowed in sets"),
                (Ctx::Set, Term::Set(_)) => Some("sets cannot contain other sets"),
                (Ctx::Set, Term::Array(_)) => Some("arrays are not allowed in sets"),
                _ => None,
            }
        };
        match problem {
            Some(problem) => Err(self.hard(start, format!("parameter `{}`: {}", name, problem))),
            None => Ok(()),
        }
    }

    /// `{,}`, a map or a set.
    fn brace(&mut self, ctx: Ctx, start: usize) -> PResult<Term> {
        if self.rest().starts_with("{,}") {
            if ctx == Ctx::Set {
                return Err(self.soft(start, "sets cannot contain other sets".to_string()));
            }
            self.pos += 3;
            return Ok(Term::Set(Vec::new()));
        }
        match self.map() {
            Ok(term) => return Ok(term),
            Err(fail) if fail.hard => return Err(fail),
            Err(fail) => {
                self.pos = start;
                if ctx == Ctx::Set {
                    return Err(self.soft(fail.pos, "sets cannot contain other sets".to_string()));
                }
            }
        }
        self.set()
    }

    /// After a list's first item: `(, item)*`. A soft failure after a comma
    /// ends the list there, leaving the comma for the caller to report; a
    /// hard failure is returned.
    pub(super) fn comma_tail<T>(
        &mut self,
        items: &mut Vec<T>,
        mut item: impl FnMut(&mut Self) -> PResult<T>,
    ) -> PResult<()> {
        loop {
            let save = self.pos;
            self.skip_ws();
            if !self.eat(",") {
                self.pos = save;
                return Ok(());
            }
            match item(self) {
                Ok(x) => items.push(x),
                Err(fail) if fail.hard => return Err(fail),
                Err(_) => {
                    self.pos = save;
                    return Ok(());
                }
            }
        }
    }

    /// `{}` or `{key: term, …}`; a repeated key keeps its last value.
    fn map(&mut self) -> PResult<Term> {
        self.pos += 1; // '{'
        let mut entries: Vec<(MapKey, Term)> = Vec::new();
        let first = self.pos;
        match self.map_entry() {
            Ok(entry) => {
                entries.push(entry);
                self.comma_tail(&mut entries, Self::map_entry)?;
            }
            Err(fail) if fail.hard => return Err(fail),
            Err(_) => self.pos = first,
        }
        self.skip_ws();
        if !self.eat("}") {
            let pos = self.pos;
            return Err(self.soft(
                pos,
                format!("expected ',' or '}}' in map, found {}", self.excerpt(pos)),
            ));
        }
        // Sort by key (stable, so the last of equal keys ends up last) and
        // keep the last value of each key.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut sorted: Vec<(MapKey, Term)> = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            match sorted.last_mut() {
                Some(last) if last.0 == key => last.1 = value,
                _ => sorted.push((key, value)),
            }
        }
        Ok(Term::Map(sorted))
    }

    fn map_entry(&mut self) -> PResult<(MapKey, Term)> {
        self.skip_ws();
        let start = self.pos;
        let key = if let Some(name) = self.parameter_name() {
            match self.parameter(&name, start)? {
                Term::Integer(i) => MapKey::Integer(i),
                Term::Str(s) => MapKey::Str(s),
                _ => {
                    return Err(self.hard(
                        start,
                        format!("parameter `{}` must be an integer or a string", name),
                    ));
                }
            }
        } else {
            match self.peek() {
                Some(b'"') => MapKey::Str(self.string()?),
                Some(b'0'..=b'9' | b'-') => MapKey::Integer(self.integer()?),
                _ => {
                    return Err(self.soft(
                        start,
                        format!("expected a map key, found {}", self.excerpt(start)),
                    ))
                }
            }
        };
        self.skip_ws();
        if !self.eat(":") {
            let pos = self.pos;
            return Err(self.soft(
                pos,
                format!(
                    "expected ':' after the map key, found {}",
                    self.excerpt(pos)
                ),
            ));
        }
        let value = self.term(Ctx::Fact)?;
        Ok((key, value))
    }

    /// `{t, …}`: at least one element, all of one type; duplicates removed.
    fn set(&mut self) -> PResult<Term> {
        let start = self.pos;
        self.pos += 1; // '{'
        let mut items = vec![self.term(Ctx::Set).map_err(|f| f.harden())?];
        self.comma_tail(&mut items, |p| p.term(Ctx::Set))?;
        self.skip_ws();
        if !self.eat("}") {
            let pos = self.pos;
            return Err(self.soft(
                pos,
                format!("expected ',' or '}}' in set, found {}", self.excerpt(pos)),
            ));
        }
        if items.iter().any(|t| !t.same_variant(&items[0])) {
            return Err(self.hard(start, "set elements must have the same type".to_string()));
        }
        items.sort_by(value_cmp);
        items.dedup_by(|a, b| value_cmp(a, b) == Ordering::Equal);
        Ok(Term::Set(items))
    }

    /// `[t, …]`, possibly empty.
    fn array(&mut self) -> PResult<Term> {
        self.pos += 1; // '['
        let mut items = Vec::new();
        let first = self.pos;
        match self.term(Ctx::Fact) {
            Ok(item) => {
                items.push(item);
                self.comma_tail(&mut items, |p| p.term(Ctx::Fact))?;
            }
            Err(fail) if fail.hard => return Err(fail),
            Err(_) => self.pos = first,
        }
        self.skip_ws();
        if !self.eat("]") {
            let pos = self.pos;
            return Err(self.soft(
                pos,
                format!("expected ',' or ']' in array, found {}", self.excerpt(pos)),
            ));
        }
        Ok(Term::Array(items))
    }

    /// `"…"` with the escapes `\"`, `\\` and `\n`.
    pub(super) fn string(&mut self) -> PResult<String> {
        let start = self.pos;
        self.pos += 1; // '"'
        let mut out = String::new();
        loop {
            let rest = self.rest();
            let Some(i) = rest.find(['"', '\\']) else {
                return Err(self.hard(start, "unterminated string".to_string()));
            };
            out.push_str(&rest[..i]);
            self.pos += i + 1;
            if rest.as_bytes()[i] == b'"' {
                return Ok(out);
            }
            match self.peek() {
                Some(b'"') => out.push('"'),
                Some(b'\\') => out.push('\\'),
                Some(b'n') => out.push('\n'),
                _ => {
                    return Err(self.hard(
                        self.pos - 1,
                        "invalid escape sequence (only \\\", \\\\ and \\n are allowed)".to_string(),
                    ))
                }
            }
            self.pos += 1;
        }
    }

    /// A date when the text up to the next delimiter is an RFC 3339
    /// date-time, else an integer.
    fn date_or_integer(&mut self) -> PResult<Term> {
        let start = self.pos;
        let rest = self.rest();
        let len = rest
            .bytes()
            .position(|c| DATE_END.contains(&c))
            .unwrap_or(rest.len());
        let token = &rest[..len];
        if token.as_bytes().first().is_some_and(|c| c.is_ascii_digit()) {
            match parse_rfc3339_signed(token) {
                Some(t) if t >= 0 => {
                    self.pos += len;
                    return Ok(Term::Date(t as u64));
                }
                Some(_) => {
                    return Err(self.hard(
                        start,
                        format!("dates before 1970 are not supported: {}", token),
                    ))
                }
                None if looks_like_date(token) => {
                    let hint = if token.get(20..).is_some_and(|t| t.contains('.')) {
                        " (a date followed by a method needs parentheses: `(date).method()`)"
                    } else {
                        ""
                    };
                    return Err(
                        self.hard(start, format!("invalid RFC 3339 date: {}{}", token, hint))
                    );
                }
                None => {}
            }
        }
        Ok(Term::Integer(self.integer()?))
    }

    /// `-?[0-9]+` fitting in an i64.
    fn integer(&mut self) -> PResult<i64> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let digits_start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == digits_start {
            self.pos = start;
            return Err(self.soft(
                start,
                format!("expected a term, found {}", self.excerpt(start)),
            ));
        }
        let text = &self.src[start..self.pos];
        text.parse::<i64>()
            .map_err(|_| self.hard(start, format!("integer out of range: {}", text)))
    }
}

/// `YYYY-MM-DDTh…`: a date literal, even if an invalid one.
fn looks_like_date(token: &str) -> bool {
    let b = token.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(|c| c.is_ascii_digit());
    b.len() > 11
        && (0..4).all(digit)
        && b[4] == b'-'
        && digit(5)
        && digit(6)
        && b[7] == b'-'
        && digit(8)
        && digit(9)
        && matches!(b[10], b'T' | b't')
        && digit(11)
}

fn has_variable(term: &Term) -> bool {
    match term {
        Term::Variable(_) => true,
        Term::Set(items) | Term::Array(items) => items.iter().any(has_variable),
        Term::Map(entries) => entries.iter().any(|(_, v)| has_variable(v)),
        _ => false,
    }
}
