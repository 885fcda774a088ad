//! Text rendering of the data model, byte-for-byte the reference printer's
//! output (the `code` strings of the conformance samples).
//!
//! Printing never adds parentheses: a `Parens` op is the only source of
//! them. Strings are printed without any escaping. Set and map elements are
//! printed in stored order.
//!
//! Rendering is linear in its output: one pass writes every piece straight
//! into one sink, never building a string per sub-expression (which made a
//! left-nested chain of `+` quadratic). The output itself can still be far
//! larger than the token: a symbol is stored once and referenced by a
//! one-byte index, so a 58 KB token whose check repeats a 24 KB string
//! 2,600 times renders to 62 MB. Whatever the engine shows of a token is
//! therefore rendered within a budget ([`check_text`], [`rule_text`],
//! [`source_text`]): the first bytes are kept, the rest is only counted
//! (one unit of work per piece, whatever its length) and every piece
//! charges the authorization's work [`Meter`], which looks at the clock and
//! the host's interrupt hook. The budgets: [`SOURCE_BUDGET`] here for
//! inspection, `FAILED_CHECK_BUDGET` and `FAILED_CHECKS_BUDGET` in the
//! authorizer for failures (docs/DESIGN.md, "Rendering budgets").
//! `Display` stays unbounded, for conformance tests and for text the
//! engine writes itself.

use std::fmt::{self, Write as _};

use super::ast::{
    Binary, BlockCode, Check, CheckKind, Expression, MapKey, Op, Policy, PolicyKind, Predicate,
    Rule, Scope, Term, Unary,
};
use super::cost::{self, Meter, Stop};
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

/// `2026-11-26T10:00:00Z` for a unix time, clamped at the epoch.
pub fn rfc3339(unix: i64) -> String {
    format_date(unix.max(0) as u64)
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

// ---- sinks ------------------------------------------------------------------

/// Rendering stopped before the end: the formatter failed, or the meter
/// stopped (its [`Meter::stopped`] says why).
#[derive(Debug)]
struct Halted;

type Out = Result<(), Halted>;

/// Where rendered text goes, piece by piece.
trait Sink {
    fn put(&mut self, s: &str) -> Out;
    /// Whether further text is only counted, not kept (a bounded sink past
    /// its budget): long hex is then counted without being formatted.
    fn full(&self) -> bool;
    /// Counts `n` bytes of text without producing them; only once `full`.
    fn count(&mut self, n: usize) -> Out;
}

/// The unbounded sink behind `Display`.
struct FmtSink<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl Sink for FmtSink<'_, '_> {
    fn put(&mut self, s: &str) -> Out {
        self.0.write_str(s).map_err(|_| Halted)
    }
    fn full(&self) -> bool {
        false
    }
    fn count(&mut self, _: usize) -> Out {
        Err(Halted)
    }
}

fn display(f: &mut fmt::Formatter<'_>, render: impl FnOnce(&mut FmtSink) -> Out) -> fmt::Result {
    render(&mut FmtSink(f)).map_err(|_| fmt::Error)
}

/// Text rendered within a budget: a prefix of the full rendering, cut at a
/// character boundary and followed by ` ... [N bytes, truncated]` when the
/// full text is longer than the budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    /// Bytes of the full rendering.
    pub bytes: usize,
    pub truncated: bool,
}

/// Text rendered in full (what built-in checks and tests construct).
impl From<String> for Rendered {
    fn from(text: String) -> Rendered {
        Rendered {
            bytes: text.len(),
            text,
            truncated: false,
        }
    }
}

impl From<&str> for Rendered {
    fn from(text: &str) -> Rendered {
        Rendered::from(text.to_string())
    }
}

impl PartialEq<str> for Rendered {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl PartialEq<&str> for Rendered {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Keeps the first `budget` bytes of what is put, counts the rest, and
/// charges the meter for every piece: its bytes while they are kept, one
/// unit once they are only counted. The work is therefore linear in the
/// pieces (the size of the data model), not in the size of the text.
struct Bounded<'m> {
    text: String,
    budget: usize,
    bytes: usize,
    cut: bool,
    meter: &'m Meter,
}

impl Sink for Bounded<'_> {
    fn put(&mut self, s: &str) -> Out {
        self.bytes += s.len();
        if self.cut {
            return self.meter.charge(1).map_err(|_| Halted);
        }
        let room = self.budget - self.text.len();
        let keep = if s.len() <= room {
            s.len()
        } else {
            self.cut = true;
            (0..=room)
                .rev()
                .find(|&i| s.is_char_boundary(i))
                .unwrap_or(0)
        };
        self.text.push_str(&s[..keep]);
        self.meter.charge(cost::bytes(keep)).map_err(|_| Halted)
    }
    fn full(&self) -> bool {
        self.cut || self.text.len() == self.budget
    }
    fn count(&mut self, n: usize) -> Out {
        self.bytes += n;
        self.cut |= n > 0;
        self.meter.charge(1).map_err(|_| Halted)
    }
}

/// Renders into a [`Bounded`] sink of `budget` bytes charging `meter`.
fn bounded(
    budget: usize,
    meter: &Meter,
    render: impl FnOnce(&mut Bounded) -> Out,
) -> Result<Rendered, Stop> {
    let mut sink = Bounded {
        text: String::new(),
        budget,
        bytes: 0,
        cut: false,
        meter,
    };
    // a halted bounded sink means a stopped meter
    render(&mut sink).map_err(|_| meter.stopped().unwrap_or(Stop::Timeout))?;
    let mut text = sink.text;
    let truncated = sink.bytes > text.len();
    if truncated {
        let _ = write!(text, " ... [{} bytes, truncated]", sink.bytes);
    }
    Ok(Rendered {
        text,
        bytes: sink.bytes,
        truncated,
    })
}

/// A check as the engine shows it (a failed check), within `budget` bytes.
pub fn check_text(check: &Check, budget: usize, meter: &Meter) -> Result<Rendered, Stop> {
    bounded(budget, meter, |out| write_check(out, check))
}

/// A rule as the engine shows it (an invalid block rule), within `budget`.
pub fn rule_text(rule: &Rule, budget: usize, meter: &Meter) -> Result<Rendered, Stop> {
    bounded(budget, meter, |out| write_rule(out, rule))
}

/// [`block_source`] within `budget` bytes.
pub fn source_text(code: &BlockCode, budget: usize, meter: &Meter) -> Result<Rendered, Stop> {
    bounded(budget, meter, |out| write_block_source(out, code))
}

/// Bytes kept of the source of all the blocks of one token together (what
/// inspection shows): a token within the default 64 KiB size limit renders
/// to a few hundred KiB at most unless it repeats long symbols on purpose.
pub const SOURCE_BUDGET: usize = 1024 * 1024;

/// The source of every block, within [`SOURCE_BUDGET`] for them all: each
/// block gets what the earlier ones left.
pub fn sources_text<'a>(
    codes: impl IntoIterator<Item = &'a BlockCode>,
    meter: &Meter,
) -> Result<Vec<Rendered>, Stop> {
    let mut left = SOURCE_BUDGET;
    codes
        .into_iter()
        .map(|code| {
            let text = source_text(code, left, meter)?;
            left -= text.bytes.min(left);
            Ok(text)
        })
        .collect()
}

// ---- the data model -----------------------------------------------------------

fn put_display<S: Sink>(out: &mut S, value: impl fmt::Display) -> Out {
    out.put(&value.to_string())
}

/// Lowercase hex, in pieces; only counted once the sink is full.
fn put_hex<S: Sink>(out: &mut S, bytes: &[u8]) -> Out {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut rest = bytes;
    while !rest.is_empty() {
        if out.full() {
            return out.count(2 * rest.len());
        }
        let (chunk, tail) = rest.split_at(rest.len().min(64));
        let mut buf = [0u8; 128];
        for (i, b) in chunk.iter().enumerate() {
            buf[2 * i] = DIGITS[usize::from(b >> 4)];
            buf[2 * i + 1] = DIGITS[usize::from(b & 15)];
        }
        // hex digits are ASCII
        out.put(std::str::from_utf8(&buf[..2 * chunk.len()]).map_err(|_| Halted)?)?;
        rest = tail;
    }
    Ok(())
}

fn write_joined<S: Sink, T>(
    out: &mut S,
    items: &[T],
    sep: &str,
    mut item: impl FnMut(&mut S, &T) -> Out,
) -> Out {
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.put(sep)?;
        }
        item(out, x)?;
    }
    Ok(())
}

/// Terms nest at most as deep as the protobuf decoder and the parser allow
/// (64 levels), which bounds this recursion.
fn write_term<S: Sink>(out: &mut S, term: &Term) -> Out {
    match term {
        Term::Variable(name) => {
            out.put("$")?;
            out.put(name)
        }
        Term::Integer(i) => put_display(out, i),
        Term::Str(s) => {
            out.put("\"")?;
            out.put(s)?;
            out.put("\"")
        }
        Term::Date(d) => out.put(&format_date(*d)),
        Term::Bytes(b) => {
            out.put("hex:")?;
            put_hex(out, b)
        }
        Term::Bool(b) => out.put(if *b { "true" } else { "false" }),
        Term::Set(elements) if elements.is_empty() => out.put("{,}"),
        Term::Set(elements) => {
            out.put("{")?;
            write_joined(out, elements, ", ", write_term)?;
            out.put("}")
        }
        Term::Null => out.put("null"),
        Term::Array(elements) => {
            out.put("[")?;
            write_joined(out, elements, ", ", write_term)?;
            out.put("]")
        }
        Term::Map(entries) => {
            out.put("{")?;
            write_joined(out, entries, ", ", |out, (key, value)| {
                write_map_key(out, key)?;
                out.put(": ")?;
                write_term(out, value)
            })?;
            out.put("}")
        }
    }
}

fn write_map_key<S: Sink>(out: &mut S, key: &MapKey) -> Out {
    match key {
        MapKey::Integer(i) => put_display(out, i),
        MapKey::Str(s) => {
            out.put("\"")?;
            out.put(s)?;
            out.put("\"")
        }
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display(f, |out| write_term(out, self))
    }
}

impl fmt::Display for MapKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display(f, |out| write_map_key(out, self))
    }
}

fn write_predicate<S: Sink>(out: &mut S, p: &Predicate) -> Out {
    out.put(&p.name)?;
    out.put("(")?;
    write_joined(out, &p.terms, ", ", write_term)?;
    out.put(")")
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display(f, |out| write_predicate(out, self))
    }
}

// ---- expressions ----------------------------------------------------------------

/// The operands of each op of a postfix program, as op indices (`[a, b]`:
/// left and right of a binary op, `[a, _]` the operand of a unary one), or
/// `None` when the program does not leave exactly one value; then its value
/// is the last op's.
fn operands(ops: &[Op]) -> Option<Vec<[usize; 2]>> {
    let mut stack: Vec<usize> = Vec::new();
    let mut tree = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        tree.push(match op {
            Op::Value(_) | Op::Closure(..) => [0, 0],
            Op::Unary(_) => [stack.pop()?, 0],
            Op::Binary(_) => {
                let right = stack.pop()?;
                [stack.pop()?, right]
            }
        });
        stack.push(i);
    }
    (stack.len() == 1).then_some(tree)
}

/// Whether a program and every closure body in it leave exactly one value.
/// Closures nest at most 64 deep (the protobuf decoder's and the parser's
/// bound), which bounds this recursion.
fn well_formed(ops: &[Op]) -> bool {
    operands(ops).is_some()
        && ops.iter().all(|op| match op {
            Op::Closure(_, body) => well_formed(body),
            _ => true,
        })
}

fn infix(op: &Binary) -> Option<&'static str> {
    Some(match op {
        Binary::LessThan => " < ",
        Binary::GreaterThan => " > ",
        Binary::LessOrEqual => " <= ",
        Binary::GreaterOrEqual => " >= ",
        Binary::Equal => " === ",
        Binary::NotEqual => " !== ",
        Binary::HeterogeneousEqual => " == ",
        Binary::HeterogeneousNotEqual => " != ",
        Binary::Add => " + ",
        Binary::Sub => " - ",
        Binary::Mul => " * ",
        Binary::Div => " / ",
        Binary::And => " &&! ",
        Binary::Or => " ||! ",
        Binary::BitwiseAnd => " & ",
        Binary::BitwiseOr => " | ",
        Binary::BitwiseXor => " ^ ",
        Binary::LazyAnd => " && ",
        Binary::LazyOr => " || ",
        _ => return None,
    })
}

fn method(op: &Binary) -> &str {
    match op {
        Binary::Contains => "contains",
        Binary::Prefix => "starts_with",
        Binary::Suffix => "ends_with",
        Binary::Regex => "matches",
        Binary::Intersection => "intersection",
        Binary::Union => "union",
        Binary::All => "all",
        Binary::Any => "any",
        Binary::Get => "get",
        Binary::Ffi(name) => name,
        // infix operators never get here
        _ => "",
    }
}

/// One step of the in-order walk over a program's operand tree.
enum Step<'a> {
    Op(usize),
    Text(&'a str),
    Body(&'a [Op]),
}

/// Writes the infix text of a well-formed program in one pass: an explicit
/// stack of steps walks the operand tree (a left-nested chain of thousands
/// of operators is no deeper than one), every piece going straight to the
/// sink, so the work is linear in the ops and the text. Closure bodies
/// recurse, at most 64 levels.
fn write_program<S: Sink>(out: &mut S, ops: &[Op]) -> Out {
    let Some(tree) = operands(ops) else {
        return Err(Halted);
    };
    let mut steps = vec![Step::Op(ops.len() - 1)];
    while let Some(step) = steps.pop() {
        let i = match step {
            Step::Text(t) => {
                out.put(t)?;
                continue;
            }
            Step::Body(body) => {
                write_program(out, body)?;
                continue;
            }
            Step::Op(i) => i,
        };
        let [a, b] = tree[i];
        // pushed in reverse: the first piece is on top
        match &ops[i] {
            Op::Value(t) => write_term(out, t)?,
            Op::Unary(u) => match u {
                Unary::Negate => steps.extend([Step::Op(a), Step::Text("!")]),
                Unary::Parens => steps.extend([Step::Text(")"), Step::Op(a), Step::Text("(")]),
                Unary::Length => steps.extend([Step::Text(".length()"), Step::Op(a)]),
                Unary::TypeOf => steps.extend([Step::Text(".type()"), Step::Op(a)]),
                Unary::Ffi(name) => steps.extend([
                    Step::Text("()"),
                    Step::Text(name),
                    Step::Text(".extern::"),
                    Step::Op(a),
                ]),
            },
            Op::Binary(op) => match infix(op) {
                Some(symbol) => steps.extend([Step::Op(b), Step::Text(symbol), Step::Op(a)]),
                None => steps.extend([
                    Step::Text(")"),
                    Step::Op(b),
                    Step::Text("("),
                    Step::Text(method(op)),
                    Step::Text(if matches!(op, Binary::Ffi(_)) {
                        ".extern::"
                    } else {
                        "."
                    }),
                    Step::Op(a),
                ]),
            },
            Op::Closure(params, body) => {
                steps.push(Step::Body(body));
                if !params.is_empty() {
                    steps.push(Step::Text(" -> "));
                    for (k, p) in params.iter().enumerate().rev() {
                        steps.push(Step::Text(p));
                        steps.push(Step::Text("$"));
                        if k > 0 {
                            steps.push(Step::Text(", "));
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

fn write_expression<S: Sink>(out: &mut S, e: &Expression) -> Out {
    if well_formed(&e.ops) {
        write_program(out, &e.ops)
    } else {
        out.put("<invalid expression: ")?;
        put_display(out, e.ops.len())?;
        out.put(" ops>")
    }
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display(f, |out| write_expression(out, self))
    }
}

// ---- rules, checks, policies, blocks ----------------------------------------------

fn write_scope<S: Sink>(out: &mut S, scope: &Scope) -> Out {
    match scope {
        Scope::Authority => out.put("authority"),
        Scope::Previous => out.put("previous"),
        Scope::PublicKey(key) => {
            out.put(match key.algorithm() {
                Algorithm::Ed25519 => "ed25519/",
                Algorithm::Secp256r1 => "secp256r1/",
            })?;
            put_hex(out, key.bytes())
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display(f, |out| write_scope(out, self))
    }
}

/// The body of a rule or query: predicates, then expressions, then
/// ` trusting <scopes>` when it has scopes.
fn write_rule_body<S: Sink>(out: &mut S, rule: &Rule) -> Out {
    write_joined(out, &rule.body, ", ", write_predicate)?;
    if !rule.body.is_empty() && !rule.expressions.is_empty() {
        out.put(", ")?;
    }
    write_joined(out, &rule.expressions, ", ", write_expression)?;
    if !rule.scopes.is_empty() {
        out.put(" trusting ")?;
        write_joined(out, &rule.scopes, ", ", write_scope)?;
    }
    Ok(())
}

fn write_queries<S: Sink>(out: &mut S, keyword: &str, queries: &[Rule]) -> Out {
    out.put(keyword)?;
    write_joined(out, queries, " or ", write_rule_body)
}

fn write_rule<S: Sink>(out: &mut S, rule: &Rule) -> Out {
    write_predicate(out, &rule.head)?;
    out.put(" <- ")?;
    write_rule_body(out, rule)
}

fn write_check<S: Sink>(out: &mut S, check: &Check) -> Out {
    let keyword = match check.kind {
        CheckKind::One => "check if ",
        CheckKind::All => "check all ",
        CheckKind::Reject => "reject if ",
    };
    write_queries(out, keyword, &check.queries)
}

fn write_policy<S: Sink>(out: &mut S, policy: &Policy) -> Out {
    let keyword = match policy.kind {
        PolicyKind::Allow => "allow if ",
        PolicyKind::Deny => "deny if ",
    };
    write_queries(out, keyword, &policy.queries)
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display(f, |out| write_rule(out, self))
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display(f, |out| write_check(out, self))
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        display(f, |out| write_policy(out, self))
    }
}

fn write_block_source<S: Sink>(out: &mut S, code: &BlockCode) -> Out {
    for fact in &code.facts {
        write_predicate(out, fact)?;
        out.put(";\n")?;
    }
    for rule in &code.rules {
        write_rule(out, rule)?;
        out.put(";\n")?;
    }
    for check in &code.checks {
        write_check(out, check)?;
        out.put(";\n")?;
    }
    Ok(())
}

/// The reference `print_source` of a block: every fact, then every rule,
/// then every check, each followed by `;\n`. Block-level scopes are not
/// printed. Unbounded: what the engine shows of a token goes through
/// [`source_text`].
pub fn block_source(code: &BlockCode) -> String {
    struct Source<'a>(&'a BlockCode);
    impl fmt::Display for Source<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            display(f, |out| write_block_source(out, self.0))
        }
    }
    Source(code).to_string()
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
        assert_eq!(bad.to_string(), "<invalid expression: 1 ops>");
        // a closure body that leaves two values makes the whole expression invalid
        let bad = Expression {
            ops: vec![
                Op::Value(Term::Set(vec![Term::Integer(1)])),
                Op::Closure(
                    vec!["p".into()],
                    vec![Op::Value(Term::Integer(0)), Op::Value(Term::Integer(1))],
                ),
                Op::Binary(Binary::All),
            ],
        };
        assert_eq!(bad.to_string(), "<invalid expression: 3 ops>");
    }

    /// `check if nosuch($x), s + s + ... (n times) == s`: the issue 23 bomb
    /// when `s` is 24 KB and n 2,600 (a 58 KB token).
    fn chain(n: usize, s: &str) -> Check {
        let mut ops = vec![Op::Value(Term::Str(s.to_string()))];
        for _ in 1..n {
            ops.push(Op::Value(Term::Str(s.to_string())));
            ops.push(Op::Binary(Binary::Add));
        }
        ops.push(Op::Value(Term::Str(s.to_string())));
        ops.push(Op::Binary(Binary::HeterogeneousEqual));
        Check {
            kind: CheckKind::One,
            queries: vec![Rule {
                head: Predicate {
                    name: "query".into(),
                    terms: vec![],
                },
                body: vec![Predicate {
                    name: "nosuch".into(),
                    terms: vec![Term::Variable("x".into())],
                }],
                expressions: vec![Expression { ops }],
                scopes: vec![],
            }],
        }
    }

    /// The length of `chain(n, s)`'s text, counted by hand.
    fn chain_bytes(n: usize, s: &str) -> usize {
        let quoted = s.len() + 2;
        "check if nosuch($x), ".len() + n * quoted + (n - 1) * " + ".len() + " == ".len() + quoted
    }

    #[test]
    fn bounded_rendering_keeps_a_prefix_and_counts_the_rest() {
        let check = chain(40, &"é".repeat(500));
        let full = check.to_string();
        assert_eq!(full.len(), chain_bytes(40, &"é".repeat(500)));
        let meter = Meter::new(None);
        // within the budget: the same text as Display
        let whole = check_text(&check, full.len(), &meter).unwrap();
        assert_eq!(whole, Rendered::from(full.as_str()));
        // past it: a prefix cut at a character boundary (é is two bytes), its size
        let cut = check_text(&check, 4097, &meter).unwrap();
        assert!(cut.truncated);
        assert_eq!(cut.bytes, full.len());
        let kept = &full[..4096];
        assert_eq!(
            cut.text,
            format!("{} ... [{} bytes, truncated]", kept, full.len())
        );
        // no budget at all: only the size
        let none = check_text(&check, 0, &meter).unwrap();
        assert_eq!(none.text, format!(" ... [{} bytes, truncated]", full.len()));
        // hex is counted too once the budget is spent
        let code = BlockCode {
            facts: vec![
                Predicate {
                    name: "a".into(),
                    terms: vec![Term::Str("x".repeat(10))],
                },
                Predicate {
                    name: "b".into(),
                    terms: vec![Term::Bytes(vec![0xab; 1000])],
                },
            ],
            ..BlockCode::default()
        };
        let source = source_text(&code, 20, &meter).unwrap();
        assert_eq!(source.bytes, block_source(&code).len());
        assert!(source.text.starts_with("a(\"xxxxxxxxxx\");\nb(h"));
    }

    #[test]
    fn the_issue_23_bomb_is_counted_not_built() {
        // 62 MB of text: counted piece by piece, 4 KiB kept
        let s = "A".repeat(24_000);
        let check = chain(2600, &s);
        let r = check_text(&check, 4096, &Meter::new(None)).unwrap();
        assert_eq!(r.bytes, chain_bytes(2600, &s));
        assert!(r.bytes > 62_000_000);
        assert!(r.truncated);
        assert!(r.text.len() < 4096 + 40, "{}", r.text.len());
        assert!(r.text.starts_with("check if nosuch($x), \"AAAA"));
    }

    #[test]
    fn rendering_charges_the_meter() {
        let check = chain(2000, "abc");
        // a passed deadline stops it at the first look at the clock
        let late = Meter::new(Some(std::time::Instant::now()));
        assert_eq!(check_text(&check, usize::MAX, &late), Err(Stop::Timeout));
        assert_eq!(late.stopped(), Some(Stop::Timeout));
        // and so does the host's interrupt hook, past the budget too
        cost::test_interrupt::install();
        cost::test_interrupt::request(true);
        let result = check_text(&check, 16, &Meter::new(None));
        cost::test_interrupt::request(false);
        assert_eq!(result, Err(Stop::Interrupted));
        assert!(check_text(&check, 16, &Meter::new(None)).is_ok());
    }
}
