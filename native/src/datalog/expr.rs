//! The expression stack machine (datalog versions 3 to 6).
//!
//! An expression is a postfix program: values push a term (a variable pushes
//! its binding), unary operators pop one value, binary operators pop the
//! right operand then the left one, closures push a closure value that a
//! following `&&`, `||`, `.all()` or `.any()` consumes. The program must end
//! with exactly one term.
//!
//! Work is bounded: the value stack holds at most [`MAX_STACK`] entries,
//! closures nest at most [`MAX_CLOSURE_DEPTH`] deep, and every step charges
//! the authorization's [`Meter`] with the work it is about to do (string
//! and collection sizes, comparisons, regex matches, clones; see
//! [`super::cost`]), which stops the evaluation at the deadline or on a host
//! interrupt. Set operations sort (O(n log n)) instead of comparing every
//! pair of elements.

use std::borrow::Cow;
use std::fmt;
use std::time::Instant;

use super::ast::{value_cmp, Binary, Expression, MapKey, Op, Term, Unary};
use super::cost::{self, Meter};
use super::regex::RegexCache;

/// Maximum number of values on the stack of one (closure) program.
pub const MAX_STACK: usize = 1024;
/// Maximum nesting of running closures.
pub const MAX_CLOSURE_DEPTH: usize = 64;

/// Why an expression could not be evaluated. Any of these aborts the whole
/// authorization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExprError {
    /// A variable without a binding (name without `$`).
    UnknownVariable(String),
    /// An operator applied to operand types it does not accept, or a rule or
    /// check expression that did not produce a boolean.
    InvalidType,
    Overflow,
    DivideByZero,
    /// Malformed program: stack underflow, leftover values, a misplaced
    /// closure; also a stack or closure nesting over the engine's bounds.
    InvalidStack,
    /// A closure parameter that is already bound.
    ShadowedVariable,
    /// `extern::name` without a host function of that name.
    UndefinedExtern(String),
    /// The host function failed: (name, message).
    ExternEvalError(String, String),
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExprError::UnknownVariable(v) => write!(f, "unknown variable ${}", v),
            ExprError::InvalidType => write!(f, "invalid operand type"),
            ExprError::Overflow => write!(f, "integer overflow"),
            ExprError::DivideByZero => write!(f, "division by zero"),
            ExprError::InvalidStack => write!(f, "invalid expression stack"),
            ExprError::ShadowedVariable => write!(f, "closure parameter shadows a bound variable"),
            ExprError::UndefinedExtern(n) => write!(f, "undefined extern function {}", n),
            ExprError::ExternEvalError(n, m) => write!(f, "extern function {} failed: {}", n, m),
        }
    }
}

impl std::error::Error for ExprError {}

/// Host functions reachable as `.extern::name()` / `.extern::name(arg)`.
pub trait ExternFunctions {
    /// Calls `name` with the receiver and, for the binary form, the argument.
    /// An `Err` becomes [`ExprError::ExternEvalError`].
    fn call(&self, name: &str, left: &Term, right: Option<&Term>) -> Result<Term, String>;

    /// Whether `name` exists; when `false` a call is
    /// [`ExprError::UndefinedExtern`]. Defaults to `true`.
    fn is_defined(&self, _name: &str) -> bool {
        true
    }
}

/// The host functions the official conformance samples are validated with
/// (test035): `test` returns its receiver when called without argument;
/// with two strings it returns `"equal strings"` or `"different strings"`;
/// anything else is an evaluation error.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConformanceExterns;

impl ExternFunctions for ConformanceExterns {
    fn call(&self, _name: &str, left: &Term, right: Option<&Term>) -> Result<Term, String> {
        match (left, right) {
            (t, None) => Ok(t.clone()),
            (Term::Str(a), Some(Term::Str(b))) => Ok(Term::Str(
                if a == b {
                    "equal strings"
                } else {
                    "different strings"
                }
                .to_string(),
            )),
            _ => Err("unsupported operands".to_string()),
        }
    }

    fn is_defined(&self, name: &str) -> bool {
        name == "test"
    }
}

/// Shared state of the evaluations of one authorization.
pub struct EvalContext<'c> {
    pub externs: Option<&'c dyn ExternFunctions>,
    pub regex: &'c RegexCache,
    /// The authorization's work budget, also charged by the fixpoint.
    pub meter: Meter,
}

impl<'c> EvalContext<'c> {
    /// A context whose meter stops at `deadline` (never when `None`).
    pub fn new(
        externs: Option<&'c dyn ExternFunctions>,
        regex: &'c RegexCache,
        deadline: Option<Instant>,
    ) -> Self {
        EvalContext {
            externs,
            regex,
            meter: Meter::new(deadline),
        }
    }

    /// Charges the meter. When it stops, evaluation returns
    /// [`ExprError::InvalidStack`] and callers report
    /// [`Meter::stopped`] instead (a time-out or an interrupt).
    fn charge(&self, units: u64) -> Result<(), ExprError> {
        self.meter
            .charge(units)
            .map_err(|_| ExprError::InvalidStack)
    }
}

/// Variable bindings visible to an expression: the rule's variables, then
/// one frame per running closure parameter (innermost first).
pub enum Vars<'s> {
    Root {
        names: &'s [&'s str],
        values: &'s [Option<&'s Term>],
    },
    Frame {
        name: &'s str,
        value: &'s Term,
        parent: &'s Vars<'s>,
    },
}

impl<'s> Vars<'s> {
    /// Names compared by a lookup that finds nothing: what [`Vars::get`]
    /// may cost.
    fn lookup_cost(&self) -> u64 {
        let mut cur = self;
        let mut n = 0u64;
        loop {
            match cur {
                Vars::Root { names, .. } => return n + names.len() as u64 + 1,
                Vars::Frame { parent, .. } => {
                    n += 1;
                    cur = parent;
                }
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&'s Term> {
        let mut cur = self;
        loop {
            match cur {
                Vars::Root { names, values } => {
                    return names
                        .iter()
                        .position(|n| *n == name)
                        .and_then(|i| values.get(i).copied().flatten())
                }
                Vars::Frame {
                    name: n,
                    value,
                    parent,
                } => {
                    if *n == name {
                        return Some(value);
                    }
                    cur = parent;
                }
            }
        }
    }
}

/// Evaluates `expr` with `bindings` (name without `$`, value), no host
/// functions and no deadline. Convenience for callers outside the engine.
pub fn evaluate(
    expr: &Expression,
    bindings: &[(&str, &Term)],
    externs: Option<&dyn ExternFunctions>,
) -> Result<Term, ExprError> {
    let names: Vec<&str> = bindings.iter().map(|(n, _)| *n).collect();
    let values: Vec<Option<&Term>> = bindings.iter().map(|(_, v)| Some(*v)).collect();
    let cache = RegexCache::new();
    let ctx = EvalContext::new(externs, &cache, None);
    eval_ops(
        &expr.ops,
        &Vars::Root {
            names: &names,
            values: &values,
        },
        &ctx,
        0,
    )
}

enum Val<'a> {
    T(Cow<'a, Term>),
    Closure(&'a [String], &'a [Op]),
}

/// Runs a program and returns its single resulting term.
pub fn eval_ops<'a>(
    ops: &'a [Op],
    vars: &Vars<'a>,
    ctx: &EvalContext<'_>,
    depth: usize,
) -> Result<Term, ExprError> {
    let mut stack: Vec<Val<'a>> = Vec::with_capacity(4);
    let lookup = vars.lookup_cost();
    for op in ops {
        ctx.charge(1)?;
        match op {
            Op::Value(Term::Variable(name)) => match ctx.charge(lookup).map(|()| vars.get(name))? {
                Some(t) => stack.push(Val::T(Cow::Borrowed(t))),
                None => return Err(ExprError::UnknownVariable(name.clone())),
            },
            Op::Value(t) => stack.push(Val::T(Cow::Borrowed(t))),
            Op::Closure(params, body) => stack.push(Val::Closure(params, body)),
            Op::Unary(u) => {
                let v = match stack.pop() {
                    Some(Val::T(t)) => t,
                    _ => return Err(ExprError::InvalidStack),
                };
                let r = match u {
                    Unary::Parens => v,
                    _ => Cow::Owned(unary(u, &v, ctx)?),
                };
                stack.push(Val::T(r));
            }
            Op::Binary(b) => {
                let right = stack.pop();
                let left = stack.pop();
                let r = match (left, right) {
                    (Some(Val::T(l)), Some(Val::T(r))) => binary(b, &l, &r, ctx)?,
                    (Some(Val::T(l)), Some(Val::Closure(params, body))) => {
                        with_closure(b, &l, params, body, vars, ctx, depth)?
                    }
                    _ => return Err(ExprError::InvalidStack),
                };
                stack.push(Val::T(Cow::Owned(r)));
            }
        }
        if stack.len() > MAX_STACK {
            return Err(ExprError::InvalidStack);
        }
    }
    if stack.len() != 1 {
        return Err(ExprError::InvalidStack);
    }
    match stack.pop() {
        Some(Val::T(Cow::Owned(t))) => Ok(t),
        Some(Val::T(Cow::Borrowed(t))) => {
            ctx.charge(cost::weight(t))?;
            Ok(t.clone())
        }
        _ => Err(ExprError::InvalidStack),
    }
}

fn call_extern(
    ctx: &EvalContext<'_>,
    name: &str,
    left: &Term,
    right: Option<&Term>,
) -> Result<Term, ExprError> {
    let ext = match ctx.externs {
        Some(e) if e.is_defined(name) => e,
        _ => return Err(ExprError::UndefinedExtern(name.to_string())),
    };
    match ext.call(name, left, right) {
        Ok(Term::Variable(_)) => Err(ExprError::ExternEvalError(
            name.to_string(),
            "returned a variable".to_string(),
        )),
        Ok(t) => Ok(t),
        Err(msg) => Err(ExprError::ExternEvalError(name.to_string(), msg)),
    }
}

fn unary(u: &Unary, v: &Term, ctx: &EvalContext<'_>) -> Result<Term, ExprError> {
    match (u, v) {
        (Unary::Negate, Term::Bool(b)) => Ok(Term::Bool(!b)),
        (Unary::Parens, t) => Ok(t.clone()),
        (Unary::Length, Term::Str(s)) => Ok(Term::Integer(s.len() as i64)),
        (Unary::Length, Term::Bytes(b)) => Ok(Term::Integer(b.len() as i64)),
        (Unary::Length, Term::Set(s)) => Ok(Term::Integer(s.len() as i64)),
        (Unary::Length, Term::Array(a)) => Ok(Term::Integer(a.len() as i64)),
        (Unary::Length, Term::Map(m)) => Ok(Term::Integer(m.len() as i64)),
        (Unary::TypeOf, Term::Variable(_)) => Err(ExprError::InvalidType),
        (Unary::TypeOf, t) => Ok(Term::Str(t.type_name().to_string())),
        (Unary::Ffi(name), t) => call_extern(ctx, name, t, None),
        _ => Err(ExprError::InvalidType),
    }
}

/// Set membership accepts only scalar elements (not null, arrays, maps).
fn is_set_element(t: &Term) -> bool {
    matches!(
        t,
        Term::Integer(_) | Term::Date(_) | Term::Bool(_) | Term::Str(_) | Term::Bytes(_)
    )
}

fn map_key_matches(k: &MapKey, t: &Term) -> bool {
    match (k, t) {
        (MapKey::Integer(a), Term::Integer(b)) => a == b,
        (MapKey::Str(a), Term::Str(b)) => a == b,
        _ => false,
    }
}

/// The work [`binary`] is about to do on these operands (an upper bound,
/// itself computed in time proportional to what it returns).
fn binary_cost(b: &Binary, l: &Term, r: &Term) -> u64 {
    use Binary as B;
    use Term as T;
    match (b, l, r) {
        (B::Equal | B::NotEqual | B::HeterogeneousEqual | B::HeterogeneousNotEqual, _, _) => {
            cost::compare(l, r)
        }
        (B::Regex, T::Str(x), T::Str(y)) => {
            cost::REGEX_MATCH_UNITS + cost::bytes(x.len() + y.len())
        }
        (_, T::Str(x), T::Str(y)) => cost::bytes(x.len() + y.len()),
        (
            B::Contains | B::Intersection | B::Union | B::Prefix | B::Suffix | B::Get,
            T::Set(_) | T::Array(_) | T::Map(_),
            _,
        ) => cost::sorted(cost::weight(l) + cost::weight(r)),
        _ => 1,
    }
}

/// A set's elements in value order, for binary search.
fn by_value(items: &[Term]) -> Vec<&Term> {
    let mut v: Vec<&Term> = items.iter().collect();
    v.sort_unstable_by(|a, b| value_cmp(a, b));
    v
}

/// Whether `e` is in `sorted` (from [`by_value`]). Set elements are
/// scalars, arrays or maps, for which value order's `Equal` is equality.
fn holds(sorted: &[&Term], e: &Term) -> bool {
    sorted.binary_search_by(|x| value_cmp(x, e)).is_ok()
}

fn binary(b: &Binary, l: &Term, r: &Term, ctx: &EvalContext<'_>) -> Result<Term, ExprError> {
    use Binary as B;
    use Term as T;
    ctx.charge(binary_cost(b, l, r))?;
    let out = match (b, l, r) {
        // comparisons
        (B::LessThan, T::Integer(x), T::Integer(y)) => T::Bool(x < y),
        (B::GreaterThan, T::Integer(x), T::Integer(y)) => T::Bool(x > y),
        (B::LessOrEqual, T::Integer(x), T::Integer(y)) => T::Bool(x <= y),
        (B::GreaterOrEqual, T::Integer(x), T::Integer(y)) => T::Bool(x >= y),
        (B::LessThan, T::Date(x), T::Date(y)) => T::Bool(x < y),
        (B::GreaterThan, T::Date(x), T::Date(y)) => T::Bool(x > y),
        (B::LessOrEqual, T::Date(x), T::Date(y)) => T::Bool(x <= y),
        (B::GreaterOrEqual, T::Date(x), T::Date(y)) => T::Bool(x >= y),

        // equality
        (B::Equal | B::HeterogeneousEqual, _, _)
            if l.same_variant(r) && !matches!(l, T::Variable(_)) =>
        {
            T::Bool(l == r)
        }
        (B::NotEqual | B::HeterogeneousNotEqual, _, _)
            if l.same_variant(r) && !matches!(l, T::Variable(_)) =>
        {
            T::Bool(l != r)
        }
        (B::HeterogeneousEqual, _, _) => T::Bool(false),
        (B::HeterogeneousNotEqual, _, _) => T::Bool(true),

        // arithmetic
        (B::Add, T::Integer(x), T::Integer(y)) => {
            T::Integer(x.checked_add(*y).ok_or(ExprError::Overflow)?)
        }
        (B::Sub, T::Integer(x), T::Integer(y)) => {
            T::Integer(x.checked_sub(*y).ok_or(ExprError::Overflow)?)
        }
        (B::Mul, T::Integer(x), T::Integer(y)) => {
            T::Integer(x.checked_mul(*y).ok_or(ExprError::Overflow)?)
        }
        (B::Div, T::Integer(x), T::Integer(y)) => {
            T::Integer(x.checked_div(*y).ok_or(ExprError::DivideByZero)?)
        }
        (B::BitwiseAnd, T::Integer(x), T::Integer(y)) => T::Integer(x & y),
        (B::BitwiseOr, T::Integer(x), T::Integer(y)) => T::Integer(x | y),
        (B::BitwiseXor, T::Integer(x), T::Integer(y)) => T::Integer(x ^ y),

        // strings
        (B::Add, T::Str(x), T::Str(y)) => {
            let mut out = String::with_capacity(x.len() + y.len());
            out.push_str(x);
            out.push_str(y);
            T::Str(out)
        }
        (B::Contains, T::Str(x), T::Str(y)) => T::Bool(x.contains(y.as_str())),
        (B::Prefix, T::Str(x), T::Str(y)) => T::Bool(x.starts_with(y.as_str())),
        (B::Suffix, T::Str(x), T::Str(y)) => T::Bool(x.ends_with(y.as_str())),
        (B::Regex, T::Str(x), T::Str(y)) => T::Bool(ctx.regex.is_match(y, x)),

        // booleans (eager)
        (B::And, T::Bool(x), T::Bool(y)) => T::Bool(*x && *y),
        (B::Or, T::Bool(x), T::Bool(y)) => T::Bool(*x || *y),

        // sets (results keep the left operand's order, then the right's)
        (B::Contains, T::Set(s), T::Set(sub)) => {
            let s = by_value(s);
            T::Bool(sub.iter().all(|e| holds(&s, e)))
        }
        (B::Contains, T::Set(s), e) if is_set_element(e) => T::Bool(s.contains(e)),
        (B::Intersection, T::Set(x), T::Set(y)) => {
            let y = by_value(y);
            T::Set(x.iter().filter(|e| holds(&y, e)).cloned().collect())
        }
        (B::Union, T::Set(x), T::Set(y)) => {
            let sorted_x = by_value(x);
            let mut out = x.clone();
            out.extend(y.iter().filter(|e| !holds(&sorted_x, e)).cloned());
            T::Set(out)
        }

        // arrays
        (B::Contains, T::Array(a), e) => T::Bool(a.iter().any(|x| x == e)),
        (B::Prefix, T::Array(a), T::Array(p)) => T::Bool(a.starts_with(p)),
        (B::Suffix, T::Array(a), T::Array(p)) => T::Bool(a.ends_with(p)),
        (B::Get, T::Array(a), T::Integer(i)) => usize::try_from(*i)
            .ok()
            .and_then(|i| a.get(i))
            .cloned()
            .unwrap_or(T::Null),

        // maps
        (B::Contains, T::Map(m), k) => T::Bool(m.iter().any(|(mk, _)| map_key_matches(mk, k))),
        (B::Get, T::Map(m), k @ (T::Integer(_) | T::Str(_))) => m
            .iter()
            .find(|(mk, _)| map_key_matches(mk, k))
            .map(|(_, v)| v.clone())
            .unwrap_or(T::Null),

        (B::Ffi(name), _, _) => call_extern(ctx, name, l, Some(r))?,

        _ => return Err(ExprError::InvalidType),
    };
    Ok(out)
}

/// A binary operator whose right operand is a closure.
fn with_closure<'a>(
    b: &Binary,
    left: &Term,
    params: &'a [String],
    body: &'a [Op],
    vars: &Vars<'a>,
    ctx: &EvalContext<'_>,
    depth: usize,
) -> Result<Term, ExprError> {
    if params.iter().any(|p| vars.get(p).is_some()) {
        return Err(ExprError::ShadowedVariable);
    }
    if depth + 1 > MAX_CLOSURE_DEPTH {
        return Err(ExprError::InvalidStack);
    }
    match (b, left, params) {
        (Binary::LazyAnd, Term::Bool(false), []) => Ok(Term::Bool(false)),
        (Binary::LazyAnd, Term::Bool(true), []) => eval_ops(body, vars, ctx, depth + 1),
        (Binary::LazyOr, Term::Bool(true), []) => Ok(Term::Bool(true)),
        (Binary::LazyOr, Term::Bool(false), []) => eval_ops(body, vars, ctx, depth + 1),
        (Binary::All | Binary::Any, Term::Set(items) | Term::Array(items), [param]) => {
            let want = matches!(b, Binary::Any);
            for item in items {
                let frame = Vars::Frame {
                    name: param,
                    value: item,
                    parent: vars,
                };
                if closure_bool(body, &frame, ctx, depth)? == want {
                    return Ok(Term::Bool(want));
                }
            }
            Ok(Term::Bool(!want))
        }
        (Binary::All | Binary::Any, Term::Map(entries), [param]) => {
            let want = matches!(b, Binary::Any);
            for (k, v) in entries {
                let key = match k {
                    MapKey::Integer(i) => Term::Integer(*i),
                    MapKey::Str(s) => Term::Str(s.clone()),
                };
                ctx.charge(cost::weight(&key) + cost::weight(v))?;
                let pair = Term::Array(vec![key, v.clone()]);
                let frame = Vars::Frame {
                    name: param,
                    value: &pair,
                    parent: vars,
                };
                if closure_bool(body, &frame, ctx, depth)? == want {
                    return Ok(Term::Bool(want));
                }
            }
            Ok(Term::Bool(!want))
        }
        _ => Err(ExprError::InvalidType),
    }
}

fn closure_bool(
    body: &[Op],
    vars: &Vars<'_>,
    ctx: &EvalContext<'_>,
    depth: usize,
) -> Result<bool, ExprError> {
    match eval_ops(body, vars, ctx, depth + 1)? {
        Term::Bool(b) => Ok(b),
        _ => Err(ExprError::InvalidType),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datalog::ast::{Binary as B, Op, Term as T, Unary as U};

    fn v(t: T) -> Op {
        Op::Value(t)
    }
    fn var(n: &str) -> Op {
        Op::Value(T::Variable(n.to_string()))
    }
    fn s(x: &str) -> T {
        T::Str(x.to_string())
    }
    fn bin(b: B) -> Op {
        Op::Binary(b)
    }
    fn un(u: U) -> Op {
        Op::Unary(u)
    }
    fn run(ops: Vec<Op>) -> Result<T, ExprError> {
        evaluate(&Expression { ops }, &[], None)
    }
    fn run2(l: T, r: T, b: B) -> Result<T, ExprError> {
        run(vec![v(l), v(r), bin(b)])
    }
    fn ok(b: bool) -> Result<T, ExprError> {
        Ok(T::Bool(b))
    }
    fn closure(params: &[&str], body: Vec<Op>) -> Op {
        Op::Closure(params.iter().map(|p| p.to_string()).collect(), body)
    }

    #[test]
    fn unary_ops() {
        assert_eq!(run(vec![v(T::Bool(true)), un(U::Negate)]), ok(false));
        assert_eq!(
            run(vec![v(T::Integer(1)), un(U::Negate)]),
            Err(ExprError::InvalidType)
        );
        assert_eq!(
            run(vec![v(T::Integer(7)), un(U::Parens)]),
            Ok(T::Integer(7))
        );
        assert_eq!(run(vec![v(s("é")), un(U::Length)]), Ok(T::Integer(2)));
        assert_eq!(
            run(vec![v(T::Bytes(vec![1, 2, 3])), un(U::Length)]),
            Ok(T::Integer(3))
        );
        assert_eq!(
            run(vec![
                v(T::Set(vec![T::Integer(1), T::Integer(2)])),
                un(U::Length)
            ]),
            Ok(T::Integer(2))
        );
        assert_eq!(
            run(vec![v(T::Array(vec![T::Null])), un(U::Length)]),
            Ok(T::Integer(1))
        );
        assert_eq!(
            run(vec![
                v(T::Map(vec![(MapKey::Integer(1), T::Null)])),
                un(U::Length)
            ]),
            Ok(T::Integer(1))
        );
        assert_eq!(
            run(vec![v(T::Integer(1)), un(U::Length)]),
            Err(ExprError::InvalidType)
        );
        assert_eq!(
            run(vec![v(T::Null), un(U::Length)]),
            Err(ExprError::InvalidType)
        );
        let types = [
            (T::Integer(1), "integer"),
            (s("a"), "string"),
            (T::Date(1), "date"),
            (T::Bytes(vec![]), "bytes"),
            (T::Bool(true), "bool"),
            (T::Set(vec![]), "set"),
            (T::Null, "null"),
            (T::Array(vec![]), "array"),
            (T::Map(vec![]), "map"),
        ];
        for (t, name) in types {
            assert_eq!(run(vec![v(t), un(U::TypeOf)]), Ok(s(name)));
        }
    }

    #[test]
    fn comparisons() {
        assert_eq!(run2(T::Integer(1), T::Integer(2), B::LessThan), ok(true));
        assert_eq!(
            run2(T::Integer(1), T::Integer(2), B::GreaterThan),
            ok(false)
        );
        assert_eq!(run2(T::Integer(2), T::Integer(2), B::LessOrEqual), ok(true));
        assert_eq!(
            run2(T::Integer(1), T::Integer(2), B::GreaterOrEqual),
            ok(false)
        );
        assert_eq!(run2(T::Date(1), T::Date(2), B::LessThan), ok(true));
        assert_eq!(run2(T::Date(3), T::Date(2), B::GreaterThan), ok(true));
        assert_eq!(run2(T::Date(2), T::Date(2), B::GreaterOrEqual), ok(true));
        assert_eq!(run2(T::Date(3), T::Date(2), B::LessOrEqual), ok(false));
        assert_eq!(
            run2(T::Integer(1), T::Date(2), B::LessThan),
            Err(ExprError::InvalidType)
        );
        assert_eq!(
            run2(s("a"), s("b"), B::LessThan),
            Err(ExprError::InvalidType)
        );
    }

    #[test]
    fn equality() {
        assert_eq!(run2(T::Integer(1), T::Integer(1), B::Equal), ok(true));
        assert_eq!(run2(s("a"), s("b"), B::Equal), ok(false));
        assert_eq!(run2(T::Null, T::Null, B::Equal), ok(true));
        assert_eq!(run2(T::Null, T::Null, B::NotEqual), ok(false));
        assert_eq!(
            run2(T::Integer(1), T::Date(1), B::Equal),
            Err(ExprError::InvalidType)
        );
        assert_eq!(
            run2(T::Null, T::Integer(1), B::Equal),
            Err(ExprError::InvalidType)
        );
        assert_eq!(
            run2(T::Integer(1), T::Date(1), B::NotEqual),
            Err(ExprError::InvalidType)
        );
        assert_eq!(
            run2(T::Integer(1), T::Date(1), B::HeterogeneousEqual),
            ok(false)
        );
        assert_eq!(
            run2(T::Integer(1), T::Date(1), B::HeterogeneousNotEqual),
            ok(true)
        );
        assert_eq!(run2(T::Null, s("x"), B::HeterogeneousEqual), ok(false));
        assert_eq!(
            run2(T::Bytes(vec![1]), T::Bytes(vec![1]), B::HeterogeneousEqual),
            ok(true)
        );
        assert_eq!(
            run2(T::Bool(true), T::Bool(false), B::HeterogeneousNotEqual),
            ok(true)
        );
        let a = T::Set(vec![T::Integer(1), T::Integer(2)]);
        let b = T::Set(vec![T::Integer(2), T::Integer(1)]);
        assert_eq!(run2(a.clone(), b.clone(), B::Equal), ok(true));
        assert_eq!(run2(a, b, B::NotEqual), ok(false));
        assert_eq!(
            run2(
                T::Array(vec![T::Integer(1)]),
                T::Array(vec![T::Integer(1)]),
                B::Equal
            ),
            ok(true)
        );
        let m1 = T::Map(vec![
            (MapKey::Str("a".into()), T::Integer(1)),
            (MapKey::Integer(2), T::Null),
        ]);
        let m2 = T::Map(vec![
            (MapKey::Integer(2), T::Null),
            (MapKey::Str("a".into()), T::Integer(1)),
        ]);
        assert_eq!(run2(m1.clone(), m2.clone(), B::Equal), ok(true));
        assert_eq!(run2(m1, m2, B::HeterogeneousNotEqual), ok(false));
    }

    #[test]
    fn arithmetic() {
        assert_eq!(
            run2(T::Integer(1), T::Integer(2), B::Add),
            Ok(T::Integer(3))
        );
        assert_eq!(
            run2(T::Integer(i64::MAX), T::Integer(1), B::Add),
            Err(ExprError::Overflow)
        );
        assert_eq!(
            run2(T::Integer(1), T::Integer(2), B::Sub),
            Ok(T::Integer(-1))
        );
        assert_eq!(
            run2(T::Integer(i64::MIN), T::Integer(1), B::Sub),
            Err(ExprError::Overflow)
        );
        assert_eq!(
            run2(T::Integer(3), T::Integer(4), B::Mul),
            Ok(T::Integer(12))
        );
        assert_eq!(
            run2(T::Integer(i64::MAX), T::Integer(2), B::Mul),
            Err(ExprError::Overflow)
        );
        assert_eq!(
            run2(T::Integer(7), T::Integer(2), B::Div),
            Ok(T::Integer(3))
        );
        assert_eq!(
            run2(T::Integer(7), T::Integer(0), B::Div),
            Err(ExprError::DivideByZero)
        );
        assert_eq!(
            run2(T::Integer(i64::MIN), T::Integer(-1), B::Div),
            Err(ExprError::DivideByZero)
        );
        assert_eq!(
            run2(T::Integer(6), T::Integer(3), B::BitwiseAnd),
            Ok(T::Integer(2))
        );
        assert_eq!(
            run2(T::Integer(6), T::Integer(3), B::BitwiseOr),
            Ok(T::Integer(7))
        );
        assert_eq!(
            run2(T::Integer(6), T::Integer(3), B::BitwiseXor),
            Ok(T::Integer(5))
        );
        assert_eq!(
            run2(T::Integer(1), s("a"), B::Add),
            Err(ExprError::InvalidType)
        );
        assert_eq!(
            run2(T::Date(1), T::Date(1), B::Add),
            Err(ExprError::InvalidType)
        );
        assert_eq!(run2(s("a"), s("b"), B::Sub), Err(ExprError::InvalidType));
        assert_eq!(
            run2(T::Bool(true), T::Bool(true), B::BitwiseAnd),
            Err(ExprError::InvalidType)
        );
    }

    #[test]
    fn strings() {
        assert_eq!(run2(s("ab"), s("cd"), B::Add), Ok(s("abcd")));
        assert_eq!(run2(s("abcd"), s("bc"), B::Contains), ok(true));
        assert_eq!(run2(s("abcd"), s("ab"), B::Prefix), ok(true));
        assert_eq!(run2(s("abcd"), s("bc"), B::Prefix), ok(false));
        assert_eq!(run2(s("abcd"), s("cd"), B::Suffix), ok(true));
        assert_eq!(run2(s("file123"), s("file[0-9]+"), B::Regex), ok(true));
        assert_eq!(run2(s("file"), s("file[0-9]+"), B::Regex), ok(false));
        assert_eq!(run2(s("x"), s("("), B::Regex), ok(false));
        assert_eq!(run2(s("ab"), s("a(?=b)"), B::Regex), ok(false));
        assert_eq!(
            run2(s("a"), T::Integer(1), B::Contains),
            Err(ExprError::InvalidType)
        );
        assert_eq!(
            run2(s("a"), T::Integer(1), B::Regex),
            Err(ExprError::InvalidType)
        );
        assert_eq!(
            run2(T::Bytes(vec![1]), T::Bytes(vec![1]), B::Prefix),
            Err(ExprError::InvalidType)
        );
        // concatenation of a variable's value (borrowed) works too
        let e = Expression {
            ops: vec![var("x"), v(s("!")), bin(B::Add)],
        };
        assert_eq!(evaluate(&e, &[("x", &s("hi"))], None), Ok(s("hi!")));
    }

    #[test]
    fn booleans_eager() {
        assert_eq!(run2(T::Bool(true), T::Bool(false), B::And), ok(false));
        assert_eq!(run2(T::Bool(true), T::Bool(false), B::Or), ok(true));
        assert_eq!(
            run2(T::Bool(true), T::Integer(1), B::Or),
            Err(ExprError::InvalidType)
        );
        // eager `true ||! overflow` still overflows
        let ops = vec![
            v(T::Bool(true)),
            v(T::Integer(i64::MAX)),
            v(T::Integer(1)),
            bin(B::Add),
            v(T::Integer(0)),
            bin(B::Equal),
            bin(B::Or),
        ];
        assert_eq!(run(ops), Err(ExprError::Overflow));
    }

    #[test]
    fn sets() {
        let set = |v: &[i64]| T::Set(v.iter().map(|i| T::Integer(*i)).collect());
        assert_eq!(run2(set(&[1, 2, 3]), set(&[1, 3]), B::Contains), ok(true));
        assert_eq!(run2(set(&[1, 2, 3]), set(&[1, 4]), B::Contains), ok(false));
        assert_eq!(run2(set(&[1, 2]), T::Integer(2), B::Contains), ok(true));
        assert_eq!(run2(T::Set(vec![s("a")]), s("a"), B::Contains), ok(true));
        assert_eq!(
            run2(T::Set(vec![T::Date(1)]), T::Integer(1), B::Contains),
            ok(false)
        );
        assert_eq!(
            run2(T::Set(vec![T::Bool(true)]), T::Bool(true), B::Contains),
            ok(true)
        );
        assert_eq!(
            run2(
                T::Set(vec![T::Bytes(vec![1])]),
                T::Bytes(vec![1]),
                B::Contains
            ),
            ok(true)
        );
        assert_eq!(
            run2(set(&[1]), T::Null, B::Contains),
            Err(ExprError::InvalidType)
        );
        assert_eq!(
            run2(set(&[1]), T::Array(vec![]), B::Contains),
            Err(ExprError::InvalidType)
        );
        assert_eq!(
            run2(set(&[1]), T::Map(vec![]), B::Contains),
            Err(ExprError::InvalidType)
        );
        assert_eq!(
            run2(set(&[1, 2, 3]), set(&[2, 3, 4]), B::Intersection),
            Ok(set(&[2, 3]))
        );
        assert_eq!(
            run2(set(&[1, 2]), set(&[2, 3]), B::Union),
            Ok(set(&[1, 2, 3]))
        );
        assert_eq!(
            run2(set(&[1]), T::Integer(1), B::Union),
            Err(ExprError::InvalidType)
        );
        assert_eq!(
            run2(s("x"), s("x"), B::Intersection),
            Err(ExprError::InvalidType)
        );
    }

    #[test]
    fn arrays_and_maps() {
        let arr = T::Array(vec![T::Integer(1), s("two"), T::Null]);
        assert_eq!(run2(arr.clone(), s("two"), B::Contains), ok(true));
        assert_eq!(run2(arr.clone(), T::Integer(2), B::Contains), ok(false));
        assert_eq!(run2(arr.clone(), T::Null, B::Contains), ok(true));
        assert_eq!(
            run2(arr.clone(), T::Array(vec![T::Integer(1)]), B::Prefix),
            ok(true)
        );
        assert_eq!(
            run2(arr.clone(), T::Array(vec![T::Null]), B::Suffix),
            ok(true)
        );
        assert_eq!(run2(arr.clone(), T::Integer(1), B::Get), Ok(s("two")));
        assert_eq!(run2(arr.clone(), T::Integer(3), B::Get), Ok(T::Null));
        assert_eq!(run2(arr.clone(), T::Integer(-1), B::Get), Ok(T::Null));
        assert_eq!(run2(arr, s("x"), B::Get), Err(ExprError::InvalidType));
        let map = T::Map(vec![
            (MapKey::Str("a".into()), T::Integer(1)),
            (MapKey::Integer(2), s("b")),
        ]);
        assert_eq!(run2(map.clone(), s("a"), B::Contains), ok(true));
        assert_eq!(run2(map.clone(), T::Integer(2), B::Contains), ok(true));
        assert_eq!(run2(map.clone(), T::Integer(1), B::Contains), ok(false));
        assert_eq!(run2(map.clone(), T::Bool(true), B::Contains), ok(false));
        assert_eq!(run2(map.clone(), s("a"), B::Get), Ok(T::Integer(1)));
        assert_eq!(run2(map.clone(), T::Integer(2), B::Get), Ok(s("b")));
        assert_eq!(run2(map.clone(), s("zz"), B::Get), Ok(T::Null));
        assert_eq!(
            run2(map, T::Bool(true), B::Get),
            Err(ExprError::InvalidType)
        );
        assert_eq!(
            run2(T::Integer(1), T::Integer(1), B::Get),
            Err(ExprError::InvalidType)
        );
    }

    #[test]
    fn lazy_boolean_closures() {
        // false && <bad> never evaluates the bad operand
        let bad = vec![v(s("x")), v(s("x")), bin(B::Intersection)];
        assert_eq!(
            run(vec![
                v(T::Bool(false)),
                closure(&[], bad.clone()),
                bin(B::LazyAnd)
            ]),
            ok(false)
        );
        assert_eq!(
            run(vec![
                v(T::Bool(true)),
                closure(&[], bad.clone()),
                bin(B::LazyOr)
            ]),
            ok(true)
        );
        assert_eq!(
            run(vec![v(T::Bool(true)), closure(&[], bad), bin(B::LazyAnd)]),
            Err(ExprError::InvalidType)
        );
        // the closure value is returned unchecked
        assert_eq!(
            run(vec![
                v(T::Bool(false)),
                closure(&[], vec![v(T::Integer(3))]),
                bin(B::LazyOr)
            ]),
            Ok(T::Integer(3))
        );
        assert_eq!(
            run(vec![
                v(T::Integer(1)),
                closure(&[], vec![v(T::Bool(true))]),
                bin(B::LazyOr)
            ]),
            Err(ExprError::InvalidType)
        );
        // closure as left operand, or consumed by a unary op
        assert_eq!(
            run(vec![
                closure(&[], vec![v(T::Bool(true))]),
                v(T::Bool(true)),
                bin(B::LazyOr)
            ]),
            Err(ExprError::InvalidStack)
        );
        assert_eq!(
            run(vec![closure(&[], vec![v(T::Bool(true))]), un(U::Negate)]),
            Err(ExprError::InvalidStack)
        );
        assert_eq!(
            run(vec![closure(&[], vec![v(T::Bool(true))])]),
            Err(ExprError::InvalidStack)
        );
        // a closure with a parameter used with && is a type error
        assert_eq!(
            run(vec![
                v(T::Bool(true)),
                closure(&["p"], vec![v(T::Bool(true))]),
                bin(B::LazyAnd)
            ]),
            Err(ExprError::InvalidType)
        );
        // closure over a term operator
        assert_eq!(
            run(vec![
                v(T::Integer(1)),
                closure(&[], vec![v(T::Integer(1))]),
                bin(B::Add)
            ]),
            Err(ExprError::InvalidType)
        );
    }

    #[test]
    fn all_any() {
        let gt1 = || {
            closure(
                &["x"],
                vec![var("x"), v(T::Integer(1)), bin(B::GreaterThan)],
            )
        };
        let ints = |v: &[i64]| v.iter().map(|i| T::Integer(*i)).collect::<Vec<_>>();
        assert_eq!(
            run(vec![v(T::Set(ints(&[2, 3]))), gt1(), bin(B::All)]),
            ok(true)
        );
        assert_eq!(
            run(vec![v(T::Set(ints(&[1, 3]))), gt1(), bin(B::All)]),
            ok(false)
        );
        assert_eq!(
            run(vec![v(T::Array(ints(&[1, 3]))), gt1(), bin(B::Any)]),
            ok(true)
        );
        assert_eq!(
            run(vec![v(T::Array(ints(&[0, 1]))), gt1(), bin(B::Any)]),
            ok(false)
        );
        assert_eq!(run(vec![v(T::Array(vec![])), gt1(), bin(B::All)]), ok(true));
        assert_eq!(run(vec![v(T::Set(vec![])), gt1(), bin(B::Any)]), ok(false));
        // stops at the first decisive element: the second would be a type error
        assert_eq!(
            run(vec![
                v(T::Array(vec![T::Integer(5), s("x")])),
                gt1(),
                bin(B::Any)
            ]),
            ok(true)
        );
        assert_eq!(
            run(vec![
                v(T::Array(vec![s("x"), T::Integer(5)])),
                gt1(),
                bin(B::Any)
            ]),
            Err(ExprError::InvalidType)
        );
        // non-bool closure result
        let ident = closure(&["x"], vec![var("x")]);
        assert_eq!(
            run(vec![v(T::Array(ints(&[1]))), ident, bin(B::All)]),
            Err(ExprError::InvalidType)
        );
        // maps yield [key, value]
        let map = T::Map(vec![
            (MapKey::Str("a".into()), T::Integer(1)),
            (MapKey::Integer(2), T::Integer(5)),
        ]);
        let value_gt0 = closure(
            &["e"],
            vec![
                var("e"),
                v(T::Integer(1)),
                bin(B::Get),
                v(T::Integer(0)),
                bin(B::GreaterThan),
            ],
        );
        assert_eq!(run(vec![v(map.clone()), value_gt0, bin(B::All)]), ok(true));
        let key_is_a = closure(
            &["e"],
            vec![
                var("e"),
                v(T::Integer(0)),
                bin(B::Get),
                v(s("a")),
                bin(B::HeterogeneousEqual),
            ],
        );
        assert_eq!(run(vec![v(map), key_is_a, bin(B::Any)]), ok(true));
        // all/any on a scalar, or with two params
        assert_eq!(
            run(vec![v(T::Integer(1)), gt1(), bin(B::All)]),
            Err(ExprError::InvalidType)
        );
        assert_eq!(
            run(vec![
                v(T::Array(vec![])),
                closure(&["a", "b"], vec![v(T::Bool(true))]),
                bin(B::All)
            ]),
            Err(ExprError::InvalidType)
        );
    }

    #[test]
    fn shadowing_and_variables() {
        // [true].any($p -> [true].all($p -> $p))
        let inner = closure(&["p"], vec![var("p")]);
        let outer = closure(
            &["p"],
            vec![v(T::Array(vec![T::Bool(true)])), inner, bin(B::All)],
        );
        let ops = vec![v(T::Array(vec![T::Bool(true)])), outer.clone(), bin(B::Any)];
        assert_eq!(run(ops), Err(ExprError::ShadowedVariable));
        // never reached on an empty collection
        let ops = vec![v(T::Array(vec![])), outer, bin(B::Any)];
        assert_eq!(run(ops), ok(false));
        // a rule variable shadowed by a parameter
        let e = Expression {
            ops: vec![
                v(T::Array(vec![T::Integer(1)])),
                closure(&["x"], vec![v(T::Bool(true))]),
                bin(B::All),
            ],
        };
        assert_eq!(
            evaluate(&e, &[("x", &T::Integer(1))], None),
            Err(ExprError::ShadowedVariable)
        );
        // outer parameter visible inside inner closure
        let inner = closure(&["q"], vec![var("q"), var("p"), bin(B::Equal)]);
        let outer = closure(
            &["p"],
            vec![
                v(T::Array(vec![T::Integer(1), T::Integer(2)])),
                inner,
                bin(B::Any),
            ],
        );
        assert_eq!(
            run(vec![v(T::Array(vec![T::Integer(2)])), outer, bin(B::All)]),
            ok(true)
        );
        // unknown variable
        assert_eq!(
            run(vec![var("nope")]),
            Err(ExprError::UnknownVariable("nope".into()))
        );
        // parameters do not leak after the closure
        let ops = vec![
            v(T::Array(vec![T::Bool(true)])),
            closure(&["p"], vec![var("p")]),
            bin(B::All),
            var("p"),
            bin(B::And),
        ];
        assert_eq!(run(ops), Err(ExprError::UnknownVariable("p".into())));
    }

    #[test]
    fn stack_errors_and_bounds() {
        assert_eq!(run(vec![]), Err(ExprError::InvalidStack));
        assert_eq!(
            run(vec![v(T::Integer(1)), v(T::Integer(1))]),
            Err(ExprError::InvalidStack)
        );
        assert_eq!(
            run(vec![v(T::Integer(1)), bin(B::Add)]),
            Err(ExprError::InvalidStack)
        );
        assert_eq!(run(vec![un(U::Negate)]), Err(ExprError::InvalidStack));
        let many: Vec<Op> = (0..2000).map(|_| v(T::Integer(1))).collect();
        assert_eq!(run(many), Err(ExprError::InvalidStack));
        // closure nesting deeper than the bound
        let mut body = vec![v(T::Bool(true))];
        for _ in 0..100 {
            body = vec![v(T::Bool(true)), closure(&[], body), bin(B::LazyAnd)];
        }
        assert_eq!(run(body), Err(ExprError::InvalidStack));
        let mut body = vec![v(T::Bool(true))];
        for _ in 0..60 {
            body = vec![v(T::Bool(true)), closure(&[], body), bin(B::LazyAnd)];
        }
        assert_eq!(run(body), ok(true));
    }

    struct Host;
    impl ExternFunctions for Host {
        fn call(&self, name: &str, left: &Term, right: Option<&Term>) -> Result<Term, String> {
            match (name, left, right) {
                ("double", Term::Integer(i), None) => Ok(Term::Integer(i * 2)),
                ("concat", Term::Str(a), Some(Term::Str(b))) => Ok(Term::Str(format!("{a}{b}"))),
                _ => Err("bad arguments".into()),
            }
        }
        fn is_defined(&self, name: &str) -> bool {
            name == "double" || name == "concat"
        }
    }

    #[test]
    fn externs() {
        let e = Expression {
            ops: vec![v(T::Integer(4)), un(U::Ffi("double".into()))],
        };
        assert_eq!(evaluate(&e, &[], Some(&Host)), Ok(T::Integer(8)));
        assert_eq!(
            evaluate(&e, &[], None),
            Err(ExprError::UndefinedExtern("double".into()))
        );
        let e = Expression {
            ops: vec![v(s("a")), v(s("b")), bin(B::Ffi("concat".into()))],
        };
        assert_eq!(evaluate(&e, &[], Some(&Host)), Ok(s("ab")));
        let e = Expression {
            ops: vec![v(s("a")), un(U::Ffi("double".into()))],
        };
        assert_eq!(
            evaluate(&e, &[], Some(&Host)),
            Err(ExprError::ExternEvalError(
                "double".into(),
                "bad arguments".into()
            ))
        );
        let e = Expression {
            ops: vec![v(s("a")), un(U::Ffi("nope".into()))],
        };
        assert_eq!(
            evaluate(&e, &[], Some(&Host)),
            Err(ExprError::UndefinedExtern("nope".into()))
        );
    }

    #[test]
    fn deadline_stops_runaway_closures() {
        let items: Vec<T> = (0..200).map(T::Integer).collect();
        // 200^4 evaluations without a deadline would take far too long
        let mut body = vec![v(T::Bool(false))];
        for name in ["a", "b", "c", "d"] {
            body = vec![
                v(T::Array(items.clone())),
                closure(&[name], body),
                bin(B::Any),
            ];
        }
        let cache = RegexCache::new();
        let ctx = EvalContext::new(
            None,
            &cache,
            Some(Instant::now() + std::time::Duration::from_millis(20)),
        );
        let r = eval_ops(
            &body,
            &Vars::Root {
                names: &[],
                values: &[],
            },
            &ctx,
            0,
        );
        assert_eq!(r, Err(ExprError::InvalidStack));
        assert_eq!(ctx.meter.stopped(), Some(cost::Stop::Timeout));
    }

    /// The expression of the set bomb of issue 18 (`$x.all($a ->
    /// $x.contains($x))` on a large set): one step of it used to compare
    /// every pair of elements, and the deadline was looked at only every
    /// 4096 steps, so it ran for minutes. It must now stop within a few
    /// milliseconds of its deadline.
    #[test]
    fn set_bomb_stops_at_the_deadline() {
        let big = T::Set((0..8000).map(T::Integer).collect());
        let body = vec![var("x"), var("x"), bin(B::Contains)];
        let ops = vec![var("x"), closure(&["a"], body), bin(B::All)];
        let cache = RegexCache::new();
        let limit = std::time::Duration::from_millis(50);
        let start = Instant::now();
        let ctx = EvalContext::new(None, &cache, Some(start + limit));
        let r = eval_ops(
            &ops,
            &Vars::Root {
                names: &["x"],
                values: &[Some(&big)],
            },
            &ctx,
            0,
        );
        let elapsed = start.elapsed();
        assert_eq!(r, Err(ExprError::InvalidStack));
        assert_eq!(ctx.meter.stopped(), Some(cost::Stop::Timeout));
        // generous for a loaded machine; before the fix: about two minutes
        assert!(
            elapsed < limit + std::time::Duration::from_millis(1000),
            "{elapsed:?}"
        );
    }

    #[test]
    fn large_set_operations_agree_with_the_pairwise_definition() {
        let set = |v: &mut dyn Iterator<Item = i64>| T::Set(v.map(T::Integer).collect());
        let evens = set(&mut (0..400).rev().map(|i| i * 2));
        let threes = set(&mut (0..300).map(|i| i * 3));
        assert_eq!(
            run2(
                evens.clone(),
                set(&mut (0..100).map(|i| i * 4)),
                B::Contains
            ),
            ok(true)
        );
        assert_eq!(
            run2(
                evens.clone(),
                set(&mut (0..100).map(|i| i * 4 + 1)),
                B::Contains
            ),
            ok(false)
        );
        // left operand's order, then the right's
        let inter = set(&mut (0..400)
            .rev()
            .map(|i| i * 2)
            .filter(|i| i % 3 == 0 && *i < 900));
        assert_eq!(
            run2(evens.clone(), threes.clone(), B::Intersection),
            Ok(inter)
        );
        let union = set(&mut (0..400)
            .rev()
            .map(|i| i * 2)
            .chain((0..300).map(|i| i * 3).filter(|i| i % 2 == 1 || *i >= 800)));
        match run2(evens.clone(), threes, B::Union) {
            Ok(T::Set(u)) => assert_eq!(T::Set(u.clone()), union, "{}", u.len()),
            other => panic!("{other:?}"),
        }
        // equality is order-insensitive, also past the pairwise size
        let reversed = set(&mut (0..400).map(|i| i * 2));
        assert_eq!(run2(evens.clone(), reversed, B::Equal), ok(true));
        assert_eq!(
            run2(evens, set(&mut (0..400).map(|i| i * 2 + 2)), B::Equal),
            ok(false)
        );
    }
}
