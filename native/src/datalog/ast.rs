//! The Datalog data model shared by every layer of the engine.
//!
//! Blocks are decoded from the wire into these types with every symbol and
//! public-key index already resolved, so the evaluator works on values and
//! never needs a symbol table. The text parser produces the same types, and
//! the minting encoder interns them back into symbol indices.

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
            (Set(a), Set(b)) => a.len() == b.len() && a.iter().all(|x| b.contains(x)),
            (Map(a), Map(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.iter().any(|(k2, v2)| k == k2 && v == v2))
            }
            _ => false,
        }
    }
}
impl Eq for Term {}

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
