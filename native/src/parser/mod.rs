//! Datalog source text to the data model (`datalog::ast`).
//!
//! A hand-written backtracking recursive-descent parser that accepts what the
//! reference parser accepts (spec §6.1–6.3). Each grammar function returns a
//! [`Fail`]: a *soft* failure lets the caller try another alternative from
//! the same position, a *hard* one (after a point of no return, the
//! reference's `cut`) ends the parse. Errors report the furthest position the
//! parser reached, which is usually where the text goes wrong.
//!
//! Input is bounded to [`MAX_INPUT`] bytes and nesting (parentheses, `!`,
//! method arguments, closures, arrays, maps, sets) to [`MAX_DEPTH`] levels, so
//! hostile input ends in an error and never in a stack overflow.

mod date;
mod expr;
mod term;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::crypto::{Algorithm, PublicKey};
use crate::datalog::{
    AuthorizerCode, BlockCode, Check, CheckKind, Expression, Op, Policy, PolicyKind, Predicate,
    Rule, Scope, Term, QUERY_HEAD,
};

pub use date::parse_rfc3339;

/// Values for `{name}` placeholders in term position.
pub type Params = BTreeMap<String, Term>;

/// Largest accepted source text, in bytes.
pub const MAX_INPUT: usize = 1 << 20;
/// Deepest accepted nesting of expressions and collection terms.
pub const MAX_DEPTH: usize = 64;

/// A parse failure at a 1-based line and column (columns count characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Parses authorizer source: facts, rules, checks and policies.
pub fn parse_authorizer(src: &str) -> Result<AuthorizerCode, ParseError> {
    parse_authorizer_with_params(src, &Params::new())
}

/// [`parse_authorizer`] with `{name}` placeholders (each parameter must be used).
pub fn parse_authorizer_with_params(
    src: &str,
    params: &Params,
) -> Result<AuthorizerCode, ParseError> {
    run(src, Some(params), |p| {
        let mut code = AuthorizerCode::default();
        p.statements(true, |stmt| match stmt {
            Statement::Fact(f) => code.facts.push(f),
            Statement::Rule(r) => code.rules.push(r),
            Statement::Check(c) => code.checks.push(c),
            Statement::Policy(pol) => code.policies.push(pol),
        })?;
        Ok(code)
    })
}

/// Parses block source: an optional leading `trusting <scopes>;`, then facts,
/// rules and checks.
pub fn parse_block(src: &str) -> Result<BlockCode, ParseError> {
    parse_block_with_params(src, &Params::new())
}

/// [`parse_block`] with `{name}` placeholders; a missing or an unused
/// parameter is an error.
pub fn parse_block_with_params(src: &str, params: &Params) -> Result<BlockCode, ParseError> {
    run(src, Some(params), |p| {
        let mut code = BlockCode {
            scopes: p.block_scopes()?,
            ..BlockCode::default()
        };
        p.statements(false, |stmt| match stmt {
            Statement::Fact(f) => code.facts.push(f),
            Statement::Rule(r) => code.rules.push(r),
            Statement::Check(c) => code.checks.push(c),
            Statement::Policy(_) => {}
        })?;
        Ok(code)
    })
}

/// Parses one check (`check if …`, `check all …`, `reject if …`).
pub fn parse_check(src: &str) -> Result<Check, ParseError> {
    single(src, Parser::check)
}

/// Parses one policy (`allow if …`, `deny if …`).
pub fn parse_policy(src: &str) -> Result<Policy, ParseError> {
    single(src, Parser::policy)
}

/// Parses one rule (`head(…) <- body`).
pub fn parse_rule(src: &str) -> Result<Rule, ParseError> {
    single(src, Parser::rule)
}

/// Parses one fact (a predicate without variables).
pub fn parse_fact(src: &str) -> Result<Predicate, ParseError> {
    single(src, Parser::fact)
}

/// Parses one term (variables allowed).
pub fn parse_term(src: &str) -> Result<Term, ParseError> {
    single(src, |p| p.term(term::Ctx::Any))
}

/// A grammar failure at a byte offset.
#[derive(Debug)]
struct Fail {
    pos: usize,
    message: String,
    /// A hard failure ends the parse; a soft one allows backtracking.
    hard: bool,
}

impl Fail {
    fn harden(mut self) -> Fail {
        self.hard = true;
        self
    }
}

type PResult<T> = Result<T, Fail>;

enum Statement {
    Fact(Predicate),
    Rule(Rule),
    Check(Check),
    Policy(Policy),
}

/// An element of a rule body.
enum Element {
    Predicate(Predicate),
    Expression(Vec<Op>),
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
    /// `None`: placeholders are an error.
    params: Option<&'a Params>,
    used: BTreeSet<String>,
    /// The furthest soft failure seen in the current statement.
    furthest: Option<(usize, String)>,
}

fn run<'s, T>(
    src: &'s str,
    params: Option<&'s Params>,
    f: impl FnOnce(&mut Parser<'s>) -> PResult<T>,
) -> Result<T, ParseError> {
    if src.len() > MAX_INPUT {
        return Err(ParseError {
            line: 1,
            column: 1,
            message: format!("input larger than {} bytes", MAX_INPUT),
        });
    }
    let mut p = Parser {
        src,
        pos: 0,
        depth: 0,
        params,
        used: BTreeSet::new(),
        furthest: None,
    };
    let value = f(&mut p).map_err(|fail| p.report(fail))?;
    if let Some(params) = params {
        if let Some(unused) = params.keys().find(|k| !p.used.contains(*k)) {
            return Err(p.error_at(src.len(), format!("unused parameter `{}`", unused)));
        }
    }
    Ok(value)
}

/// Parses one item, then allows trailing whitespace and one optional `;`.
fn single<'s, T>(
    src: &'s str,
    f: impl FnOnce(&mut Parser<'s>) -> PResult<T>,
) -> Result<T, ParseError> {
    run(src, None, |p| {
        let value = f(p)?;
        p.skip_ws();
        if p.peek() == Some(b';') {
            p.pos += 1;
            p.skip_ws();
        }
        if p.pos < p.src.len() {
            return Err(p.soft(
                p.pos,
                format!("unexpected trailing input: {}", p.excerpt(p.pos)),
            ));
        }
        Ok(value)
    })
}

impl<'a> Parser<'a> {
    // ---- low-level scanning -------------------------------------------------

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos += 1;
        }
    }

    /// Consumes `word` if the input continues with it (exact case).
    fn eat(&mut self, word: &str) -> bool {
        if self.rest().starts_with(word) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    /// Consumes `word` if the input continues with it, ignoring ASCII case.
    fn eat_ci(&mut self, word: &str) -> bool {
        let rest = self.rest().as_bytes();
        if rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word.as_bytes()) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    /// `[A-Za-z0-9_:]*` from the current position.
    fn name_chars(&mut self) -> &'a str {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_' || c == b':')
        {
            self.pos += 1;
        }
        &self.src[start..self.pos]
    }

    /// A non-empty name (predicates, variables, extern functions).
    fn name(&mut self) -> PResult<String> {
        let start = self.pos;
        let name = self.name_chars();
        if name.is_empty() {
            return Err(self.soft(
                start,
                format!("expected a name, found {}", self.excerpt(start)),
            ));
        }
        Ok(name.to_string())
    }

    /// Runs `f` one nesting level deeper, refusing to go past [`MAX_DEPTH`].
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_DEPTH {
            return Err(self.hard(
                self.pos,
                format!("nesting deeper than {} levels", MAX_DEPTH),
            ));
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    // ---- errors -------------------------------------------------------------

    fn soft(&mut self, pos: usize, message: String) -> Fail {
        if self.furthest.as_ref().is_none_or(|(p, _)| pos >= *p) {
            self.furthest = Some((pos, message.clone()));
        }
        Fail {
            pos,
            message,
            hard: false,
        }
    }

    fn hard(&self, pos: usize, message: String) -> Fail {
        Fail {
            pos,
            message,
            hard: true,
        }
    }

    /// `pos` clamped to the input and moved back to a character boundary.
    fn boundary(&self, pos: usize) -> usize {
        let mut pos = pos.min(self.src.len());
        while !self.src.is_char_boundary(pos) {
            pos -= 1;
        }
        pos
    }

    /// A short quote of the input at `pos`, for messages.
    fn excerpt(&self, pos: usize) -> String {
        let rest = &self.src[self.boundary(pos)..];
        if rest.is_empty() {
            return "end of input".to_string();
        }
        let line = rest.split(['\n', '\r']).next().unwrap_or("");
        let mut text: String = line.chars().take(24).collect();
        if text.len() < line.len() {
            text.push('…');
        }
        format!("'{}'", text)
    }

    fn error_at(&self, pos: usize, message: String) -> ParseError {
        let pos = self.boundary(pos);
        let before = &self.src[..pos];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        ParseError {
            line,
            column,
            message,
        }
    }

    fn report(&self, fail: Fail) -> ParseError {
        if !fail.hard {
            if let Some((pos, message)) = &self.furthest {
                if *pos >= fail.pos {
                    return self.error_at(*pos, message.clone());
                }
            }
        }
        self.error_at(fail.pos, fail.message)
    }

    // ---- source files -------------------------------------------------------

    /// The optional leading `trusting <scopes>;` of a block.
    fn block_scopes(&mut self) -> PResult<Vec<Scope>> {
        let start = self.pos;
        self.skip_ws();
        if !self.eat("trusting") {
            self.pos = start;
            return Ok(Vec::new());
        }
        let scopes = self.scope_list()?;
        self.skip_ws();
        if !(self.eat(";") || self.at_end()) {
            return Err(self.hard(
                self.pos,
                format!(
                    "expected ';' after the block scopes, found {}",
                    self.excerpt(self.pos)
                ),
            ));
        }
        Ok(scopes)
    }

    /// Statements and comments up to the end of input.
    fn statements(&mut self, allow_policy: bool, mut sink: impl FnMut(Statement)) -> PResult<()> {
        loop {
            self.skip_ws();
            if self.at_end() {
                return Ok(());
            }
            if self.eat("//") {
                while !matches!(self.peek(), None | Some(b'\n' | b'\r')) {
                    self.pos += 1;
                }
                continue;
            }
            if self.rest().starts_with("/*") {
                let start = self.pos;
                match self.rest()[2..].find("*/") {
                    Some(i) => self.pos += 2 + i + 2,
                    None => return Err(self.hard(start, "unterminated comment".to_string())),
                }
                continue;
            }
            self.furthest = None;
            let stmt = self.statement(allow_policy)?;
            sink(stmt);
        }
    }

    /// One statement and its terminating `;` (or the end of input), trying a
    /// rule, a fact, a check and a policy in that order.
    fn statement(&mut self, allow_policy: bool) -> PResult<Statement> {
        let start = self.pos;
        let mut attempts: Vec<fn(&mut Parser<'a>) -> PResult<Statement>> = vec![
            |p| p.rule().map(Statement::Rule),
            |p| p.fact().map(Statement::Fact),
            |p| p.check().map(Statement::Check),
        ];
        if allow_policy {
            attempts.push(|p| p.policy().map(Statement::Policy));
        }
        let mut last = None;
        for attempt in attempts {
            self.pos = start;
            let result = attempt(self).and_then(|stmt| {
                self.skip_ws();
                if self.eat(";") || self.at_end() {
                    Ok(stmt)
                } else {
                    let pos = self.pos;
                    Err(self.soft(
                        pos,
                        format!(
                            "expected ';' or the end of the statement, found {}",
                            self.excerpt(pos)
                        ),
                    ))
                }
            });
            match result {
                Ok(stmt) => return Ok(stmt),
                Err(fail) if fail.hard => return Err(fail),
                Err(fail) => last = Some(fail),
            }
        }
        self.pos = start;
        // A keyword written with the wrong spacing deserves its own message.
        let rest = self.rest();
        let word_len = rest.bytes().take_while(|c| c.is_ascii_alphabetic()).count();
        let word = rest[..word_len].to_ascii_lowercase();
        let after = &rest[word_len..];
        let gap = after
            .bytes()
            .take_while(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
            .count();
        let next = after[gap..].to_ascii_lowercase();
        if matches!(word.as_str(), "check" | "reject" | "allow" | "deny")
            && gap > 0
            && !(gap == 1 && after.starts_with(' '))
            && (next.starts_with("if") || next.starts_with("all"))
        {
            let expected = if allow_policy {
                "`check if`, `check all`, `reject if`, `allow if` or `deny if`"
            } else {
                "`check if`, `check all` or `reject if`"
            };
            return Err(self.hard(
                start,
                format!("expected {} with exactly one space", expected),
            ));
        }
        if let Some((pos, message)) = &self.furthest {
            if *pos > start {
                return Err(self.hard(*pos, message.clone()));
            }
        }
        let reason = last.map(|f| f.message).unwrap_or_default();
        let what = if allow_policy {
            "a fact, rule, check or policy"
        } else {
            "a fact, rule or check"
        };
        Err(self.hard(
            start,
            format!(
                "expected {}, found {} ({})",
                what,
                self.excerpt(start),
                reason
            ),
        ))
    }

    // ---- statements ---------------------------------------------------------

    fn rule(&mut self) -> PResult<Rule> {
        self.skip_ws();
        let start = self.pos;
        let head = self.predicate(term::Ctx::Any)?;
        self.skip_ws();
        if !self.eat("<-") {
            let pos = self.pos;
            return Err(self.soft(pos, format!("expected '<-', found {}", self.excerpt(pos))));
        }
        let (body, expressions, scopes) = self.rule_body().map_err(Fail::harden)?;
        let rule = Rule {
            head,
            body,
            expressions,
            scopes,
        };
        if let Err(message) = check_rule_variables(&rule) {
            return Err(self.hard(start, message));
        }
        Ok(rule)
    }

    fn fact(&mut self) -> PResult<Predicate> {
        self.skip_ws();
        self.predicate(term::Ctx::Fact)
    }

    fn check(&mut self) -> PResult<Check> {
        self.skip_ws();
        let kind = if self.eat_ci("check if") {
            CheckKind::One
        } else if self.eat_ci("check all") {
            CheckKind::All
        } else if self.eat_ci("reject if") {
            CheckKind::Reject
        } else {
            let pos = self.pos;
            return Err(self.soft(
                pos,
                "expected `check if`, `check all` or `reject if`".to_string(),
            ));
        };
        let queries = self.queries().map_err(Fail::harden)?;
        Ok(Check { queries, kind })
    }

    fn policy(&mut self) -> PResult<Policy> {
        self.skip_ws();
        let kind = if self.eat_ci("allow if") {
            PolicyKind::Allow
        } else if self.eat_ci("deny if") {
            PolicyKind::Deny
        } else {
            let pos = self.pos;
            return Err(self.soft(pos, "expected `allow if` or `deny if`".to_string()));
        };
        let queries = self.queries().map_err(Fail::harden)?;
        Ok(Policy { queries, kind })
    }

    /// Rule bodies separated by `or`, each as a query with a `query()` head.
    fn queries(&mut self) -> PResult<Vec<Rule>> {
        let mut queries = Vec::new();
        loop {
            self.skip_ws();
            let (body, expressions, scopes) = self.rule_body().map_err(Fail::harden)?;
            queries.push(Rule {
                head: Predicate {
                    name: QUERY_HEAD.to_string(),
                    terms: Vec::new(),
                },
                body,
                expressions,
                scopes,
            });
            let save = self.pos;
            self.skip_ws();
            if !self.eat_ci("or") {
                self.pos = save;
                return Ok(queries);
            }
        }
    }

    /// `name(t, …)` with at least one term (rule heads too, like the
    /// reference). Once the `(` is read, a bad term is a hard failure.
    fn predicate(&mut self, ctx: term::Ctx) -> PResult<Predicate> {
        let name = self.name()?;
        self.skip_ws();
        if !self.eat("(") {
            let pos = self.pos;
            return Err(self.soft(
                pos,
                format!("expected '(' after `{}`, found {}", name, self.excerpt(pos)),
            ));
        }
        let mut terms = vec![self.term(ctx).map_err(Fail::harden)?];
        self.comma_tail(&mut terms, |p| p.term(ctx).map_err(Fail::harden))?;
        self.skip_ws();
        if !self.eat(")") {
            let pos = self.pos;
            return Err(self.soft(
                pos,
                format!("expected ',' or ')', found {}", self.excerpt(pos)),
            ));
        }
        Ok(Predicate { name, terms })
    }

    /// Predicates and expressions separated by `,`, then optional scopes.
    fn rule_body(&mut self) -> PResult<(Vec<Predicate>, Vec<Expression>, Vec<Scope>)> {
        let mut body = Vec::new();
        let mut expressions = Vec::new();
        loop {
            self.skip_ws();
            match self.element().map_err(Fail::harden)? {
                Element::Predicate(p) => body.push(p),
                Element::Expression(ops) => expressions.push(Expression { ops }),
            }
            let save = self.pos;
            self.skip_ws();
            if !self.eat(",") {
                self.pos = save;
                break;
            }
        }
        let save = self.pos;
        self.skip_ws();
        let scopes = if self.eat("trusting") {
            self.scope_list()?
        } else {
            self.pos = save;
            Vec::new()
        };
        Ok((body, expressions, scopes))
    }

    /// A predicate if one parses, else an expression.
    fn element(&mut self) -> PResult<Element> {
        let start = self.pos;
        match self.predicate(term::Ctx::Any) {
            Ok(p) => return Ok(Element::Predicate(p)),
            Err(fail) if fail.hard => return Err(fail),
            Err(_) => self.pos = start,
        }
        self.expr().map(Element::Expression)
    }

    /// `scope ("," scope)*` after `trusting`; every scope is mandatory.
    fn scope_list(&mut self) -> PResult<Vec<Scope>> {
        let mut scopes = Vec::new();
        loop {
            self.skip_ws();
            scopes.push(self.scope().map_err(Fail::harden)?);
            let save = self.pos;
            self.skip_ws();
            if !self.eat(",") {
                self.pos = save;
                return Ok(scopes);
            }
        }
    }

    fn scope(&mut self) -> PResult<Scope> {
        let start = self.pos;
        if self.eat("authority") {
            return Ok(Scope::Authority);
        }
        if self.eat("previous") {
            return Ok(Scope::Previous);
        }
        let algorithm = if self.eat("ed25519/") {
            Algorithm::Ed25519
        } else if self.eat("secp256r1/") {
            Algorithm::Secp256r1
        } else {
            if self.peek() == Some(b'{') {
                return Err(self.hard(start, "parameters are not supported in scopes".to_string()));
            }
            return Err(self.soft(
                start,
                format!(
                    "expected `authority`, `previous` or a public key, found {}",
                    self.excerpt(start)
                ),
            ));
        };
        let bytes = self.hex_digits()?;
        match PublicKey::from_bytes(algorithm, &bytes) {
            Ok(key) => Ok(Scope::PublicKey(key)),
            Err(e) => Err(self.hard(start, format!("invalid public key: {}", e))),
        }
    }

    /// One or more hex digits, an even number of them, decoded.
    fn hex_digits(&mut self) -> PResult<Vec<u8>> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
            self.pos += 1;
        }
        let digits = &self.src.as_bytes()[start..self.pos];
        if digits.is_empty() {
            return Err(self.hard(start, "expected hexadecimal digits".to_string()));
        }
        if !digits.len().is_multiple_of(2) {
            return Err(self.hard(start, "odd number of hexadecimal digits".to_string()));
        }
        let value = |c: u8| match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => c - b'A' + 10,
        };
        Ok(digits
            .chunks(2)
            .map(|pair| value(pair[0]) << 4 | value(pair[1]))
            .collect())
    }
}

/// The reference's rule validation: every variable of the head and of the
/// expressions (outside closures) must occur in a body predicate.
fn check_rule_variables(rule: &Rule) -> Result<(), String> {
    let head_variables = rule.head.terms.iter();
    let expression_values = rule
        .expressions
        .iter()
        .flat_map(|e| e.ops.iter())
        .filter_map(|op| match op {
            Op::Value(t) => Some(t),
            _ => None,
        });
    let bound: BTreeSet<&str> = rule
        .body
        .iter()
        .flat_map(|p| p.terms.iter())
        .filter_map(|t| match t {
            Term::Variable(v) => Some(v.as_str()),
            _ => None,
        })
        .collect();
    let mut seen = BTreeSet::new();
    let mut free: Vec<&str> = Vec::new();
    for term in head_variables.chain(expression_values) {
        if let Term::Variable(name) = term {
            if !bound.contains(name.as_str()) && seen.insert(name.as_str()) {
                free.push(name);
            }
        }
    }
    if free.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = free.iter().map(|n| format!("${}", n)).collect();
    Err(format!(
        "rule `{}`: variables not bound by a body predicate: {}",
        rule,
        list.join(", ")
    ))
}
