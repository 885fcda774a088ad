//! The Datalog data model shared by every layer of the engine.
//!
//! Blocks are decoded from the wire into these types with every symbol and
//! public-key index already resolved, so the evaluator works on values and
//! never needs a symbol table. The text parser produces the same types, and
//! the minting encoder interns them back into symbol indices.

use std::cmp::Ordering;

use crate::crypto::PublicKey;

/// A Datalog term. Strings, predicate names and variable names are owned
/// values; equality is value equality.
#[derive(Clone, Debug)]
pub enum Term {
    /// A variable, by name without the leading `$`.
    Variable(String),
    Integer(i64),
    Str(String),
    /// Unix seconds, UTC.
    Date(u64),
    Bytes(Vec<u8>),
    Bool(bool),
    /// Deduplicated elements, kept in wire (or source) order so that printing
    /// reproduces the reference output. Compare with [`Term::set_eq`]
    /// semantics: order does not matter.
    Set(Vec<Term>),
    Null,
    Array(Vec<Term>),
    /// Entries in wire (or source) order, keys unique.
    Map(Vec<(MapKey, Term)>),
}

/// A map key: an integer or a string.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MapKey {
    Integer(i64),
    Str(String),
}

impl Term {
    /// Name of the variant as `.type()` reports it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Term::Variable(_) => "variable",
            Term::Integer(_) => "integer",
            Term::Str(_) => "string",
            Term::Date(_) => "date",
            Term::Bytes(_) => "bytes",
            Term::Bool(_) => "bool",
            Term::Set(_) => "set",
            Term::Null => "null",
            Term::Array(_) => "array",
            Term::Map(_) => "map",
        }
    }

    /// Whether both terms are the same variant (the precondition of strict
    /// equality and of every typed operator).
    pub fn same_variant(&self, other: &Term) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

impl PartialEq for Term {
    fn eq(&self, other: &Term) -> bool {
        use Term::*;
        match (self, other) {
            (Variable(a), Variable(b)) => a == b,
            (Integer(a), Integer(b)) => a == b,
            (Str(a), Str(b)) => a == b,
            (Date(a), Date(b)) => a == b,
            (Bytes(a), Bytes(b)) => a == b,
            (Bool(a), Bool(b)) => a == b,
            (Null, Null) => true,
            (Array(a), Array(b)) => a == b,
            // Sets and maps are unordered collections of unique elements.
            (Set(a), Set(b)) => a.len() == b.len() && same_set(a, b),
            (Map(a), Map(b)) => a.len() == b.len() && same_map(a, b),
            _ => false,
        }
    }
}
impl Eq for Term {}

/// Past this many elements, sets and maps are compared by sorting both
/// (O(n log n)) rather than by looking up every element (O(n²)): a token
/// must not be able to make one comparison take seconds.
const PAIRWISE_MAX: usize = 16;

/// Two sets of the same length hold the same (unique) elements.
fn same_set(a: &[Term], b: &[Term]) -> bool {
    if a.len() <= PAIRWISE_MAX {
        return a.iter().all(|x| b.contains(x));
    }
    let (x, y) = (sorted_set(a), sorted_set(b));
    x.len() == y.len()
        && x.iter()
            .zip(&y)
            .all(|(p, q)| value_cmp(p, q) == Ordering::Equal)
}

/// Two maps of the same length hold the same (unique-key) entries.
fn same_map(a: &[(MapKey, Term)], b: &[(MapKey, Term)]) -> bool {
    if a.len() <= PAIRWISE_MAX {
        return a
            .iter()
            .all(|(k, v)| b.iter().any(|(k2, v2)| k == k2 && v == v2));
    }
    let (x, y) = (sorted_map(a), sorted_map(b));
    x.len() == y.len() && x.iter().zip(&y).all(|(p, q)| p.0 == q.0 && p.1 == q.1)
}

/// A predicate (`name(t1, ..., tn)`): a fact when it holds no variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Predicate {
    pub name: String,
    pub terms: Vec<Term>,
}

/// Unary operators (`OpUnary.Kind`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unary {
    Negate,
    Parens,
    Length,
    TypeOf,
    /// `.extern::name()`
    Ffi(String),
}

/// Binary operators (`OpBinary.Kind`), named after the wire enum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Binary {
    LessThan,
    GreaterThan,
    LessOrEqual,
    GreaterOrEqual,
    /// Strict `===`: mixed types are an error.
    Equal,
    Contains,
    Prefix,
    Suffix,
    Regex,
    Add,
    Sub,
    Mul,
    Div,
    /// Eager `&&!` (wire 13).
    And,
    /// Eager `||!` (wire 14).
    Or,
    Intersection,
    Union,
    BitwiseAnd,
    BitwiseOr,
    BitwiseXor,
    /// Strict `!==`.
    NotEqual,
    /// Lenient `==`: mixed types compare unequal.
    HeterogeneousEqual,
    /// Lenient `!=`.
    HeterogeneousNotEqual,
    /// `&&` with a closure as right operand.
    LazyAnd,
    /// `||` with a closure as right operand.
    LazyOr,
    All,
    Any,
    Get,
    /// `.extern::name(arg)`
    Ffi(String),
}

impl Binary {
    /// The wire enum value of this operator.
    pub fn wire_kind(&self) -> u64 {
        use Binary::*;
        match self {
            LessThan => 0,
            GreaterThan => 1,
            LessOrEqual => 2,
            GreaterOrEqual => 3,
            Equal => 4,
            Contains => 5,
            Prefix => 6,
            Suffix => 7,
            Regex => 8,
            Add => 9,
            Sub => 10,
            Mul => 11,
            Div => 12,
            And => 13,
            Or => 14,
            Intersection => 15,
            Union => 16,
            BitwiseAnd => 17,
            BitwiseOr => 18,
            BitwiseXor => 19,
            NotEqual => 20,
            HeterogeneousEqual => 21,
            HeterogeneousNotEqual => 22,
            LazyAnd => 23,
            LazyOr => 24,
            All => 25,
            Any => 26,
            Get => 27,
            Ffi(_) => 28,
        }
    }
}

/// One instruction of an expression, a postfix (RPN) program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Value(Term),
    Unary(Unary),
    Binary(Binary),
    /// Parameter names (without `$`) and the body.
    Closure(Vec<String>, Vec<Op>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expression {
    pub ops: Vec<Op>,
}

/// Which blocks a rule, query or block trusts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    Authority,
    Previous,
    PublicKey(PublicKey),
}

/// A rule, also used for the queries of checks and policies (whose head is
/// `query()` and ignored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub head: Predicate,
    pub body: Vec<Predicate>,
    pub expressions: Vec<Expression>,
    pub scopes: Vec<Scope>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckKind {
    /// `check if`
    One,
    /// `check all`
    All,
    /// `reject if`
    Reject,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub queries: Vec<Rule>,
    pub kind: CheckKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    Allow,
    Deny,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub queries: Vec<Rule>,
    pub kind: PolicyKind,
}

/// Datalog of one token block, as written in source text (`parse_block`) or
/// decoded from the wire.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockCode {
    pub facts: Vec<Predicate>,
    pub rules: Vec<Rule>,
    pub checks: Vec<Check>,
    /// Block-level `trusting ...` annotation.
    pub scopes: Vec<Scope>,
}

/// A decoded, signature-checked token block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub code: BlockCode,
    /// Symbols this block added to the table (the wire `symbols` field).
    pub symbols: Vec<String>,
    /// Public keys this block added to the key table (the wire `publicKeys`).
    pub public_keys: Vec<PublicKey>,
    /// The third-party signer's key, for blocks with an external signature.
    pub external_key: Option<PublicKey>,
    /// `Block.version` (datalog version, 3..=6).
    pub version: u32,
    pub context: Option<String>,
}

/// Datalog of an authorizer, as written in source text (`parse_authorizer`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthorizerCode {
    pub facts: Vec<Predicate>,
    pub rules: Vec<Rule>,
    pub checks: Vec<Check>,
    pub policies: Vec<Policy>,
}

/// The name of the synthetic head of check and policy queries.
pub const QUERY_HEAD: &str = "query";

// ---- releasing spare capacity ------------------------------------------------
//
// Decoded blocks live long in the verification cache; these drop the spare
// capacity that growing vectors leave behind.

impl Term {
    pub fn shrink_to_fit(&mut self) {
        match self {
            Term::Variable(s) | Term::Str(s) => s.shrink_to_fit(),
            Term::Bytes(b) => b.shrink_to_fit(),
            Term::Set(v) | Term::Array(v) => {
                v.iter_mut().for_each(Term::shrink_to_fit);
                v.shrink_to_fit();
            }
            Term::Map(m) => {
                for (k, v) in m.iter_mut() {
                    if let MapKey::Str(s) = k {
                        s.shrink_to_fit();
                    }
                    v.shrink_to_fit();
                }
                m.shrink_to_fit();
            }
            Term::Integer(_) | Term::Date(_) | Term::Bool(_) | Term::Null => {}
        }
    }
}

impl Predicate {
    pub fn shrink_to_fit(&mut self) {
        self.name.shrink_to_fit();
        self.terms.iter_mut().for_each(Term::shrink_to_fit);
        self.terms.shrink_to_fit();
    }
}

impl Op {
    pub fn shrink_to_fit(&mut self) {
        match self {
            Op::Value(t) => t.shrink_to_fit(),
            Op::Unary(Unary::Ffi(s)) | Op::Binary(Binary::Ffi(s)) => s.shrink_to_fit(),
            Op::Closure(params, body) => {
                params.iter_mut().for_each(String::shrink_to_fit);
                params.shrink_to_fit();
                body.iter_mut().for_each(Op::shrink_to_fit);
                body.shrink_to_fit();
            }
            Op::Unary(_) | Op::Binary(_) => {}
        }
    }
}

impl Rule {
    pub fn shrink_to_fit(&mut self) {
        self.head.shrink_to_fit();
        self.body.iter_mut().for_each(Predicate::shrink_to_fit);
        self.body.shrink_to_fit();
        for e in &mut self.expressions {
            e.ops.iter_mut().for_each(Op::shrink_to_fit);
            e.ops.shrink_to_fit();
        }
        self.expressions.shrink_to_fit();
        self.scopes.shrink_to_fit();
    }
}

impl BlockCode {
    pub fn shrink_to_fit(&mut self) {
        self.facts.iter_mut().for_each(Predicate::shrink_to_fit);
        self.facts.shrink_to_fit();
        self.rules.iter_mut().for_each(Rule::shrink_to_fit);
        self.rules.shrink_to_fit();
        for c in &mut self.checks {
            c.queries.iter_mut().for_each(Rule::shrink_to_fit);
            c.queries.shrink_to_fit();
        }
        self.checks.shrink_to_fit();
        self.scopes.shrink_to_fit();
    }
}

impl Block {
    pub fn shrink_to_fit(&mut self) {
        self.code.shrink_to_fit();
        self.symbols.iter_mut().for_each(String::shrink_to_fit);
        self.symbols.shrink_to_fit();
        self.public_keys.shrink_to_fit();
        if let Some(c) = &mut self.context {
            c.shrink_to_fit();
        }
    }
}

// ---- heap size estimates -------------------------------------------------------
//
// What a decoded block holds on the heap, for the verification cache's
// memory bound: every allocation as the allocator sizes it (glibc on 64-bit:
// the request plus an 8-byte header, rounded up to 16, at least 32 bytes).

/// The bytes an allocation of `size` bytes takes (0 for none).
pub fn heap_chunk(size: usize) -> usize {
    if size == 0 {
        0
    } else {
        ((size + 8 + 15) & !15).max(32)
    }
}

fn vec_heap<T>(v: &Vec<T>) -> usize {
    heap_chunk(v.capacity() * std::mem::size_of::<T>())
}

fn string_heap(s: &String) -> usize {
    heap_chunk(s.capacity())
}

/// A public key's heap: its bytes, plus an estimate of the OpenSSL object
/// it may hold once it has verified something.
fn key_heap(k: &PublicKey) -> usize {
    heap_chunk(k.bytes().len()) + 512
}

impl Term {
    pub fn heap_size(&self) -> usize {
        match self {
            Term::Variable(s) | Term::Str(s) => string_heap(s),
            Term::Bytes(b) => vec_heap(b),
            Term::Set(v) | Term::Array(v) => vec_heap(v) + v.iter().map(Term::heap_size).sum::<usize>(),
            Term::Map(m) => {
                vec_heap(m)
                    + m.iter()
                        .map(|(k, v)| if let MapKey::Str(s) = k { string_heap(s) } else { 0 } + v.heap_size())
                        .sum::<usize>()
            }
            Term::Integer(_) | Term::Date(_) | Term::Bool(_) | Term::Null => 0,
        }
    }
}

impl Predicate {
    pub fn heap_size(&self) -> usize {
        string_heap(&self.name)
            + vec_heap(&self.terms)
            + self.terms.iter().map(Term::heap_size).sum::<usize>()
    }
}

impl Op {
    pub fn heap_size(&self) -> usize {
        match self {
            Op::Value(t) => t.heap_size(),
            Op::Unary(Unary::Ffi(s)) | Op::Binary(Binary::Ffi(s)) => string_heap(s),
            Op::Closure(params, body) => {
                vec_heap(params)
                    + params.iter().map(string_heap).sum::<usize>()
                    + vec_heap(body)
                    + body.iter().map(Op::heap_size).sum::<usize>()
            }
            Op::Unary(_) | Op::Binary(_) => 0,
        }
    }
}

fn scopes_heap(scopes: &Vec<Scope>) -> usize {
    vec_heap(scopes)
        + scopes
            .iter()
            .map(|s| {
                if let Scope::PublicKey(k) = s {
                    key_heap(k)
                } else {
                    0
                }
            })
            .sum::<usize>()
}

impl Rule {
    pub fn heap_size(&self) -> usize {
        self.head.heap_size()
            + vec_heap(&self.body)
            + self.body.iter().map(Predicate::heap_size).sum::<usize>()
            + vec_heap(&self.expressions)
            + self
                .expressions
                .iter()
                .map(|e| vec_heap(&e.ops) + e.ops.iter().map(Op::heap_size).sum::<usize>())
                .sum::<usize>()
            + scopes_heap(&self.scopes)
    }
}

impl BlockCode {
    pub fn heap_size(&self) -> usize {
        vec_heap(&self.facts)
            + self.facts.iter().map(Predicate::heap_size).sum::<usize>()
            + vec_heap(&self.rules)
            + self.rules.iter().map(Rule::heap_size).sum::<usize>()
            + vec_heap(&self.checks)
            + self
                .checks
                .iter()
                .map(|c| {
                    vec_heap(&c.queries) + c.queries.iter().map(Rule::heap_size).sum::<usize>()
                })
                .sum::<usize>()
            + scopes_heap(&self.scopes)
    }
}

impl Block {
    pub fn heap_size(&self) -> usize {
        self.code.heap_size()
            + vec_heap(&self.symbols)
            + self.symbols.iter().map(string_heap).sum::<usize>()
            + vec_heap(&self.public_keys)
            + self.public_keys.iter().map(key_heap).sum::<usize>()
            + self.external_key.as_ref().map_or(0, key_heap)
            + self.context.as_ref().map_or(0, string_heap)
    }
}

// ---------------------------------------------------------------------------
// Value ordering (the reference builder's term order: variant, then value;
// strings by content)

fn variant_rank(t: &Term) -> u8 {
    match t {
        Term::Variable(_) => 0,
        Term::Integer(_) => 1,
        Term::Str(_) => 2,
        Term::Date(_) => 3,
        Term::Bytes(_) => 4,
        Term::Bool(_) => 5,
        Term::Set(_) => 6,
        Term::Null => 7,
        Term::Array(_) => 8,
        Term::Map(_) => 9,
    }
}

pub fn sorted_set(items: &[Term]) -> Vec<&Term> {
    let mut v: Vec<&Term> = items.iter().collect();
    v.sort_by(|a, b| value_cmp(a, b));
    v.dedup_by(|a, b| value_cmp(a, b) == Ordering::Equal);
    v
}

/// Map entries by key; a repeated key keeps its last value.
pub fn sorted_map(entries: &[(MapKey, Term)]) -> Vec<(&MapKey, &Term)> {
    let mut v: Vec<(&MapKey, &Term)> = entries.iter().map(|(k, t)| (k, t)).collect();
    // Stable: entries with the same key stay in source order.
    v.sort_by(|a, b| a.0.cmp(b.0));
    let mut out: Vec<(&MapKey, &Term)> = Vec::with_capacity(v.len());
    for entry in v {
        match out.last_mut() {
            Some(last) if last.0 == entry.0 => *last = entry,
            _ => out.push(entry),
        }
    }
    out
}

fn lex<T>(a: &[T], b: &[T], cmp: impl Fn(&T, &T) -> Ordering) -> Ordering {
    for (x, y) in a.iter().zip(b.iter()) {
        match cmp(x, y) {
            Ordering::Equal => continue,
            other => return other,
        }
    }
    a.len().cmp(&b.len())
}

/// Total order on terms by value: the reference builder's order (variant,
/// then value; strings by content), which decides how it stores, interns
/// and prints set elements and map entries.
pub fn value_cmp(a: &Term, b: &Term) -> Ordering {
    match (a, b) {
        (Term::Variable(x), Term::Variable(y)) => x.cmp(y),
        (Term::Integer(x), Term::Integer(y)) => x.cmp(y),
        (Term::Str(x), Term::Str(y)) => x.cmp(y),
        (Term::Date(x), Term::Date(y)) => x.cmp(y),
        (Term::Bytes(x), Term::Bytes(y)) => x.cmp(y),
        (Term::Bool(x), Term::Bool(y)) => x.cmp(y),
        (Term::Null, Term::Null) => Ordering::Equal,
        (Term::Set(x), Term::Set(y)) => lex(&sorted_set(x), &sorted_set(y), |p, q| value_cmp(p, q)),
        (Term::Array(x), Term::Array(y)) => lex(x, y, value_cmp),
        (Term::Map(x), Term::Map(y)) => lex(&sorted_map(x), &sorted_map(y), |p, q| {
            p.0.cmp(q.0).then_with(|| value_cmp(p.1, q.1))
        }),
        _ => variant_rank(a).cmp(&variant_rank(b)),
    }
}
