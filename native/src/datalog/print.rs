//! Text rendering of the data model, byte-for-byte the reference printer's
//! output (the `code` strings of the conformance samples).
//!
//! Printing never adds parentheses: a `Parens` op is the only source of
//! them. Strings are printed without any escaping. Set and map elements are
//! printed in stored order.

use std::fmt::{self, Write as _};

use super::ast::{
    Binary, BlockCode, Check, CheckKind, Expression, MapKey, Op, Policy, PolicyKind, Predicate,
    Rule, Scope, Term, Unary,
};
use crate::crypto::Algorithm;

/// First second printable by the reference (`0000-01-01T00:00:00Z`).
const MIN_PRINTABLE: i64 = -62_167_219_200;
/// Last second printable by the reference (`9999-12-31T23:59:59Z`).
const MAX_PRINTABLE: i64 = 253_402_300_799;

/// Formats Unix seconds as RFC 3339 in UTC (`2018-12-20T00:00:00Z`), or
/// `<invalid date>` outside the years 0000–9999.
///
/// The stored value is reinterpreted as a signed number first, like the
/// reference does, so huge values wrap to dates before 1970.
pub fn format_date(secs: u64) -> String {
    let t = secs as i64;
    if !(MIN_PRINTABLE..=MAX_PRINTABLE).contains(&t) {
        return "<invalid date>".to_string();
    }
    let days = t.div_euclid(86_400);
    let rem = t.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        year,
        month,
        day,
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn write_joined<T: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    items: &[T],
    sep: &str,
) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{}", item)?;
    }
    Ok(())
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Variable(name) => write!(f, "${}", name),
            Term::Integer(i) => write!(f, "{}", i),
            Term::Str(s) => write!(f, "\"{}\"", s),
            Term::Date(d) => f.write_str(&format_date(*d)),
            Term::Bytes(b) => {
                f.write_str("hex:")?;
                for byte in b {
                    write!(f, "{:02x}", byte)?;
                }
                Ok(())
            }
            Term::Bool(b) => f.write_str(if *b { "true" } else { "false" }),
            Term::Set(elements) => {
                if elements.is_empty() {
                    f.write_str("{,}")
                } else {
                    f.write_str("{")?;
                    write_joined(f, elements, ", ")?;
                    f.write_str("}")
                }
            }
            Term::Null => f.write_str("null"),
            Term::Array(elements) => {
                f.write_str("[")?;
                write_joined(f, elements, ", ")?;
                f.write_str("]")
            }
            Term::Map(entries) => {
                f.write_str("{")?;
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}: {}", key, value)?;
                }
                f.write_str("}")
            }
        }
    }
}

impl fmt::Display for MapKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapKey::Integer(i) => write!(f, "{}", i),
            MapKey::Str(s) => write!(f, "\"{}\"", s),
        }
    }
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name)?;
        write_joined(f, &self.terms, ", ")?;
        f.write_str(")")
    }
}

fn print_unary(op: &Unary, value: String) -> String {
    match op {
        Unary::Negate => format!("!{}", value),
        Unary::Parens => format!("({})", value),
        Unary::Length => format!("{}.length()", value),
        Unary::TypeOf => format!("{}.type()", value),
        Unary::Ffi(name) => format!("{}.extern::{}()", value, name),
    }
}

fn print_binary(op: &Binary, left: String, right: String) -> String {
    let infix = |symbol: &str| format!("{} {} {}", left, symbol, right);
    let method = |name: &str| format!("{}.{}({})", left, name, right);
    match op {
        Binary::LessThan => infix("<"),
        Binary::GreaterThan => infix(">"),
        Binary::LessOrEqual => infix("<="),
        Binary::GreaterOrEqual => infix(">="),
        Binary::Equal => infix("==="),
        Binary::NotEqual => infix("!=="),
        Binary::HeterogeneousEqual => infix("=="),
        Binary::HeterogeneousNotEqual => infix("!="),
        Binary::Add => infix("+"),
        Binary::Sub => infix("-"),
        Binary::Mul => infix("*"),
        Binary::Div => infix("/"),
        Binary::And => infix("&&!"),
        Binary::Or => infix("||!"),
        Binary::BitwiseAnd => infix("&"),
        Binary::BitwiseOr => infix("|"),
        Binary::BitwiseXor => infix("^"),
        Binary::LazyAnd => infix("&&"),
        Binary::LazyOr => infix("||"),
        Binary::Contains => method("contains"),
        Binary::Prefix => method("starts_with"),
        Binary::Suffix => method("ends_with"),
        Binary::Regex => method("matches"),
        Binary::Intersection => method("intersection"),
        Binary::Union => method("union"),
        Binary::All => method("all"),
        Binary::Any => method("any"),
        Binary::Get => method("get"),
        Binary::Ffi(name) => format!("{}.extern::{}({})", left, name, right),
    }
}

/// Rebuilds the infix text of a postfix program; `None` when the stack does
/// not end with exactly one value.
fn print_ops(ops: &[Op]) -> Option<String> {
    let mut stack: Vec<String> = Vec::new();
    for op in ops {
        match op {
            Op::Value(term) => stack.push(term.to_string()),
            Op::Unary(unary) => {
                let value = stack.pop()?;
                stack.push(print_unary(unary, value));
            }
            Op::Binary(binary) => {
                let right = stack.pop()?;
                let left = stack.pop()?;
                stack.push(print_binary(binary, left, right));
            }
            Op::Closure(params, body) => {
                let body = print_ops(body)?;
                if params.is_empty() {
                    stack.push(body);
                } else {
                    let mut text = String::new();
                    for (i, p) in params.iter().enumerate() {
                        if i > 0 {
                            text.push_str(", ");
                        }
                        let _ = write!(text, "${}", p);
                    }
                    let _ = write!(text, " -> {}", body);
                    stack.push(text);
                }
            }
        }
    }
    if stack.len() == 1 {
        stack.pop()
    } else {
        None
    }
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match print_ops(&self.ops) {
            Some(text) => f.write_str(&text),
            None => write!(f, "<invalid expression: {:?}>", self.ops),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Authority => f.write_str("authority"),
            Scope::Previous => f.write_str("previous"),
            Scope::PublicKey(key) => {
                f.write_str(match key.algorithm() {
                    Algorithm::Ed25519 => "ed25519/",
                    Algorithm::Secp256r1 => "secp256r1/",
                })?;
                for byte in key.bytes() {
                    write!(f, "{:02x}", byte)?;
                }
                Ok(())
            }
        }
    }
}

/// The body of a rule or query: predicates, then expressions, then
/// ` trusting <scopes>` when it has scopes.
pub fn rule_body(rule: &Rule) -> String {
    let mut out = String::new();
    let mut first = true;
    for p in &rule.body {
        if !first {
            out.push_str(", ");
        }
        first = false;
        let _ = write!(out, "{}", p);
    }
    for e in &rule.expressions {
        if !first {
            out.push_str(", ");
        }
        first = false;
        let _ = write!(out, "{}", e);
    }
    if !rule.scopes.is_empty() {
        out.push_str(" trusting ");
        for (i, s) in rule.scopes.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "{}", s);
        }
    }
    out
}

fn write_queries(f: &mut fmt::Formatter<'_>, keyword: &str, queries: &[Rule]) -> fmt::Result {
    f.write_str(keyword)?;
    for (i, q) in queries.iter().enumerate() {
        if i > 0 {
            f.write_str(" or ")?;
        }
        f.write_str(&rule_body(q))?;
    }
    Ok(())
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} <- {}", self.head, rule_body(self))
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keyword = match self.kind {
            CheckKind::One => "check if ",
            CheckKind::All => "check all ",
            CheckKind::Reject => "reject if ",
        };
        write_queries(f, keyword, &self.queries)
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keyword = match self.kind {
            PolicyKind::Allow => "allow if ",
            PolicyKind::Deny => "deny if ",
        };
        write_queries(f, keyword, &self.queries)
    }
}

/// The reference `print_source` of a block: every fact, then every rule,
/// then every check, each followed by `;\n`. Block-level scopes are not
/// printed.
pub fn block_source(code: &BlockCode) -> String {
    let mut out = String::new();
    for fact in &code.facts {
        let _ = writeln!(out, "{};", fact);
    }
    for rule in &code.rules {
        let _ = writeln!(out, "{};", rule);
    }
    for check in &code.checks {
        let _ = writeln!(out, "{};", check);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(format_date(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_date(1_545_264_000), "2018-12-20T00:00:00Z");
        assert_eq!(format_date(1_608_542_592), "2020-12-21T09:23:12Z");
        assert_eq!(format_date(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_date(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(format_date(253_402_300_800), "<invalid date>");
        assert_eq!(format_date(u64::MAX), "1969-12-31T23:59:59Z");
        assert_eq!(format_date(1u64 << 63), "<invalid date>");
    }

    #[test]
    fn terms() {
        let map = Term::Map(vec![
            (MapKey::Integer(1), Term::Str("a".into())),
            (
                MapKey::Str("k".into()),
                Term::Array(vec![Term::Bool(true), Term::Null]),
            ),
        ]);
        assert_eq!(map.to_string(), "{1: \"a\", \"k\": [true, null]}");
        assert_eq!(Term::Map(vec![]).to_string(), "{}");
        assert_eq!(Term::Set(vec![]).to_string(), "{,}");
        assert_eq!(
            Term::Set(vec![Term::Integer(1), Term::Integer(-2)]).to_string(),
            "{1, -2}"
        );
        assert_eq!(Term::Bytes(vec![0x12, 0xab]).to_string(), "hex:12ab");
        assert_eq!(Term::Str("a\"b".into()).to_string(), "\"a\"b\"");
        assert_eq!(Term::Variable("x".into()).to_string(), "$x");
    }

    #[test]
    fn eager_operators_and_closures() {
        let e = Expression {
            ops: vec![
                Op::Value(Term::Bool(true)),
                Op::Value(Term::Bool(false)),
                Op::Binary(Binary::And),
                Op::Value(Term::Bool(false)),
                Op::Binary(Binary::Or),
                Op::Unary(Unary::Parens),
                Op::Unary(Unary::Negate),
            ],
        };
        assert_eq!(e.to_string(), "!(true &&! false ||! false)");
        let e = Expression {
            ops: vec![
                Op::Value(Term::Set(vec![Term::Integer(1)])),
                Op::Closure(
                    vec!["p".into()],
                    vec![
                        Op::Value(Term::Variable("p".into())),
                        Op::Value(Term::Integer(0)),
                        Op::Binary(Binary::GreaterThan),
                    ],
                ),
                Op::Binary(Binary::All),
            ],
        };
        assert_eq!(e.to_string(), "{1}.all($p -> $p > 0)");
        let bad = Expression {
            ops: vec![Op::Binary(Binary::Add)],
        };
        assert!(bad.to_string().starts_with("<invalid expression"));
    }
}
