//! Conversion between serialized blocks and the Datalog AST.
//!
//! Decoding resolves every symbol index to a string and every public-key
//! index to a [`PublicKey`], and applies the load-time validation of the
//! format digest (§1.5): version range, feature gates per version, symbol
//! and public-key table overlaps, unknown indices.
//!
//! Encoding interns strings and keys in the reference order (facts, rules,
//! checks, then block scopes; inside a rule: head name, head terms, body
//! predicates, expressions with closure parameters before closure bodies,
//! then scopes), sorts set elements and map entries the way the reference
//! does, writes only the new symbols and keys, and picks the smallest block
//! version covering the features used.

use std::cell::Cell;
use std::collections::{BTreeSet, HashMap, HashSet};

use super::schema::{
    BlockProto, CheckV2, ExpressionV2, FactV2, MapEntry, MapKeyV2, OpKind, OpV2, PredicateV2,
    PublicKeyProto, RuleV2, ScopeV2, TermV2,
};
use super::FormatError;
use crate::crypto::{Algorithm, PublicKey};
use crate::datalog::ast::{
    Binary, Block, BlockCode, Check, CheckKind, Expression, MapKey, Op, Predicate, Rule, Scope,
    Term, Unary,
};

/// Oldest supported `Block.version` (Datalog 3.0).
pub const MIN_SCHEMA_VERSION: u32 = 3;
/// Datalog 3.1: check all, `!==`, bitwise operators, scopes.
pub const DATALOG_3_1: u32 = 4;
/// Datalog 3.2: third-party blocks.
pub const DATALOG_3_2: u32 = 5;
/// Newest supported `Block.version` (Datalog 3.3).
pub const MAX_SCHEMA_VERSION: u32 = 6;

/// First index of the custom (per-token) symbols.
pub const SYMBOL_OFFSET: u64 = 1024;

/// The default symbol table, indices 0 to 27.
pub const DEFAULT_SYMBOLS: [&str; 28] = [
    "read",
    "write",
    "resource",
    "operation",
    "right",
    "time",
    "role",
    "owner",
    "tenant",
    "namespace",
    "user",
    "team",
    "service",
    "admin",
    "email",
    "group",
    "member",
    "ip_address",
    "client",
    "client_ip",
    "domain",
    "path",
    "version",
    "cluster",
    "node",
    "hostname",
    "nonce",
    "query",
];

fn default_symbol_index(s: &str) -> Option<u64> {
    // Every default symbol is 4 to 10 bytes long: most custom symbols are
    // rejected on their length alone.
    if !(4..=10).contains(&s.len()) {
        return None;
    }
    DEFAULT_SYMBOLS
        .iter()
        .position(|d| *d == s)
        .map(|i| i as u64)
}

// ---------------------------------------------------------------------------
// Tables

/// A symbol table: the default symbols plus custom symbols from index 1024.
/// A few custom symbols (the usual token) are looked up by a linear scan;
/// past [`TABLE_LINEAR`] entries a hash index (SipHash: the strings come
/// from tokens) is built and kept up to date.
#[derive(Clone, Debug, Default)]
pub struct SymbolTable {
    custom: Vec<String>,
    index: HashMap<String, u64>,
}

/// Table size up to which lookups scan linearly.
const TABLE_LINEAR: usize = 16;

impl SymbolTable {
    /// The default symbols only.
    pub fn new() -> SymbolTable {
        SymbolTable::default()
    }

    /// The string of an index, if any.
    pub fn get(&self, index: u64) -> Option<&str> {
        if index < DEFAULT_SYMBOLS.len() as u64 {
            Some(DEFAULT_SYMBOLS[index as usize])
        } else if index >= SYMBOL_OFFSET {
            usize::try_from(index - SYMBOL_OFFSET)
                .ok()
                .and_then(|i| self.custom.get(i))
                .map(String::as_str)
        } else {
            None
        }
    }

    /// The index of a string, if present.
    pub fn lookup(&self, s: &str) -> Option<u64> {
        default_symbol_index(s).or_else(|| self.custom_index(s))
    }

    fn custom_index(&self, s: &str) -> Option<u64> {
        if self.custom.len() > TABLE_LINEAR {
            self.index.get(s).copied()
        } else {
            self.custom
                .iter()
                .position(|c| c == s)
                .map(|i| SYMBOL_OFFSET + i as u64)
        }
    }

    fn push(&mut self, s: String) {
        let i = SYMBOL_OFFSET + self.custom.len() as u64;
        if self.custom.len() >= TABLE_LINEAR {
            if self.index.is_empty() {
                self.index = self
                    .custom
                    .iter()
                    .enumerate()
                    .map(|(j, c)| (c.clone(), SYMBOL_OFFSET + j as u64))
                    .collect();
            }
            self.index.insert(s.clone(), i);
        }
        self.custom.push(s);
    }

    /// The index of a string, adding it when absent.
    pub fn insert(&mut self, s: &str) -> u64 {
        if let Some(i) = self.lookup(s) {
            return i;
        }
        let i = SYMBOL_OFFSET + self.custom.len() as u64;
        self.push(s.to_owned());
        i
    }

    /// Appends a block's symbols; a default symbol or one already present is
    /// [`FormatError::SymbolTableOverlap`].
    pub fn extend(&mut self, symbols: &[String]) -> Result<(), FormatError> {
        if !symbols_are_new(self, symbols) {
            return Err(FormatError::SymbolTableOverlap);
        }
        for s in symbols {
            self.push(s.clone());
        }
        Ok(())
    }

    /// The custom symbols, in index order.
    pub fn custom(&self) -> &[String] {
        &self.custom
    }
}

/// Whether `symbols` are all absent from `table` and distinct from one
/// another (linear for a few, hashed beyond).
fn symbols_are_new(table: &SymbolTable, symbols: &[String]) -> bool {
    if symbols.iter().any(|s| table.lookup(s).is_some()) {
        return false;
    }
    if symbols.len() <= TABLE_LINEAR {
        symbols
            .iter()
            .enumerate()
            .all(|(i, s)| !symbols[..i].contains(s))
    } else {
        let mut seen: HashSet<&str> = HashSet::with_capacity(symbols.len());
        symbols.iter().all(|s| seen.insert(s))
    }
}

/// A public-key table (the target of `Scope.publicKey` indices).
#[derive(Clone, Debug, Default)]
pub struct KeyTable {
    keys: Vec<PublicKey>,
    index: HashMap<(Algorithm, Vec<u8>), usize>,
}

/// A hashable identity of a key (algorithm and bytes).
fn key_id(key: &PublicKey) -> (Algorithm, Vec<u8>) {
    (key.algorithm(), key.bytes().to_vec())
}

impl KeyTable {
    pub fn new() -> KeyTable {
        KeyTable::default()
    }

    pub fn get(&self, index: usize) -> Option<&PublicKey> {
        self.keys.get(index)
    }

    pub fn lookup(&self, key: &PublicKey) -> Option<usize> {
        self.index.get(&key_id(key)).copied()
    }

    /// The index of a key, adding it when absent.
    pub fn insert(&mut self, key: &PublicKey) -> usize {
        if let Some(i) = self.lookup(key) {
            return i;
        }
        self.keys.push(key.clone());
        self.index.insert(key_id(key), self.keys.len() - 1);
        self.keys.len() - 1
    }

    /// Appends a block's keys; a key already present is
    /// [`FormatError::PublicKeyTableOverlap`].
    pub fn extend(&mut self, keys: &[PublicKey]) -> Result<(), FormatError> {
        let mut new: HashSet<(Algorithm, Vec<u8>)> = HashSet::with_capacity(keys.len());
        if keys
            .iter()
            .any(|k| self.lookup(k).is_some() || !new.insert(key_id(k)))
        {
            return Err(FormatError::PublicKeyTableOverlap);
        }
        for k in keys {
            self.insert(k);
        }
        Ok(())
    }

    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Parses a wire public key (algorithm enum + bytes). Ed25519 keys are
/// only length-checked here; see `PublicKey::from_token_bytes`.
pub fn key_from_proto(p: &PublicKeyProto, field: &'static str) -> Result<PublicKey, FormatError> {
    let algorithm = match p.algorithm {
        0 => Algorithm::Ed25519,
        1 => Algorithm::Secp256r1,
        other => {
            return Err(FormatError::InvalidKey {
                field,
                reason: format!("unknown algorithm {}", other),
            })
        }
    };
    PublicKey::from_token_bytes(algorithm, &p.key).map_err(|e| FormatError::InvalidKey {
        field,
        reason: e.to_string(),
    })
}

/// The wire form of a public key.
pub fn key_to_proto(k: &PublicKey) -> PublicKeyProto {
    PublicKeyProto {
        algorithm: k.algorithm() as i32,
        key: k.bytes().to_vec(),
    }
}

// ---------------------------------------------------------------------------
// Decoding

/// Decodes one serialized `Block` into the AST.
///
/// `symbols` and `keys` are the tables in force *before* this block: the
/// token tables for a first-party block, fresh default tables for a
/// third-party block (`external_key` set). The block's own `symbols` and
/// `publicKeys` are checked against them and resolved on top of them; the
/// caller extends the token tables with a first-party block's additions.
pub fn decode_block(
    data: &[u8],
    symbols: &SymbolTable,
    keys: &KeyTable,
    external_key: Option<PublicKey>,
) -> Result<Block, FormatError> {
    let mut text_left = decoded_text_limit(data.len());
    decode_block_within(data, symbols, keys, external_key, &mut text_left)
}

/// The most symbol text decoding may materialise for `encoded_bytes` of
/// blocks: 32 times their size, and at least 16 MiB.
///
/// A symbol is stored once and referenced by a one- or two-byte index, but
/// every reference decodes to its own string: a 58 KB token whose check
/// names a 24 KB string 2,600 times decodes to 62 MB, a 1 MiB one to
/// hundreds of GB (an allocation failure aborts the process: a PostgreSQL
/// backend, and with it the server). Real tokens name short symbols a few
/// times and stay far below either bound.
pub fn decoded_text_limit(encoded_bytes: usize) -> usize {
    encoded_bytes.saturating_mul(32).max(16 << 20)
}

/// As [`decode_block`], charging the symbol text it materialises to
/// `text_left` (what is left of a whole token's [`decoded_text_limit`]).
pub fn decode_block_within(
    data: &[u8],
    symbols: &SymbolTable,
    keys: &KeyTable,
    external_key: Option<PublicKey>,
    text_left: &mut usize,
) -> Result<Block, FormatError> {
    let proto = BlockProto::decode(data)?;
    block_from_proto(&proto, symbols, keys, external_key, text_left)
}

fn unsupported(version: u32, feature: &'static str) -> FormatError {
    FormatError::UnsupportedFeature { version, feature }
}

/// Converts a decoded `Block` message (see [`decode_block`]).
fn block_from_proto(
    proto: &BlockProto,
    symbols: &SymbolTable,
    keys: &KeyTable,
    external_key: Option<PublicKey>,
    text_left: &mut usize,
) -> Result<Block, FormatError> {
    let version = proto.version.unwrap_or(0);
    if !(MIN_SCHEMA_VERSION..=MAX_SCHEMA_VERSION).contains(&version) {
        return Err(FormatError::Version {
            minimum: MIN_SCHEMA_VERSION,
            maximum: MAX_SCHEMA_VERSION,
            actual: version,
        });
    }
    for c in &proto.checks {
        if version < DATALOG_3_1 && c.kind.is_some() {
            return Err(unsupported(version, "a check kind"));
        }
        if version < MAX_SCHEMA_VERSION && c.kind == Some(2) {
            return Err(unsupported(version, "reject if"));
        }
    }
    if version < DATALOG_3_2 && external_key.is_some() {
        return Err(unsupported(version, "a third-party block"));
    }

    // The block's own symbols must be new (and, unlike the reference, are
    // not allowed to repeat one another: no encoder produces that, and it
    // keeps one index per string).
    if !symbols_are_new(symbols, &proto.symbols) {
        return Err(FormatError::SymbolTableOverlap);
    }
    // The block's own keys: no duplicates, nothing already in the table.
    let mut own_keys: Vec<PublicKey> = Vec::with_capacity(proto.public_keys.len());
    let mut own_key_set: HashSet<(Algorithm, Vec<u8>)> =
        HashSet::with_capacity(proto.public_keys.len());
    for p in &proto.public_keys {
        let k = key_from_proto(p, "Block.publicKeys")?;
        if keys.lookup(&k).is_some() || !own_key_set.insert(key_id(&k)) {
            return Err(FormatError::PublicKeyTableOverlap);
        }
        own_keys.push(k);
    }

    let r = Resolver {
        symbols,
        own_symbols: &proto.symbols,
        keys,
        own_keys: &own_keys,
        text_left: Cell::new(*text_left),
    };
    let code = BlockCode {
        facts: proto
            .facts
            .iter()
            .map(|f| r.predicate(&f.predicate))
            .collect::<Result<_, _>>()?,
        rules: proto
            .rules
            .iter()
            .map(|x| r.rule(x))
            .collect::<Result<_, _>>()?,
        checks: proto
            .checks
            .iter()
            .map(|c| r.check(c))
            .collect::<Result<_, _>>()?,
        scopes: proto
            .scopes
            .iter()
            .map(|s| r.scope(s))
            .collect::<Result<_, _>>()?,
    };

    *text_left = r.text_left.get();

    let features = Features::scan(&code);
    if version < DATALOG_3_1 {
        if let Some(feature) = features.v4 {
            return Err(unsupported(version, feature));
        }
    }
    if version < MAX_SCHEMA_VERSION {
        if let Some(feature) = features.v6_lenient {
            return Err(unsupported(version, feature));
        }
    }

    Ok(Block {
        code,
        symbols: proto.symbols.clone(),
        public_keys: own_keys,
        external_key,
        version,
        context: proto.context.clone(),
    })
}

struct Resolver<'a> {
    symbols: &'a SymbolTable,
    own_symbols: &'a [String],
    keys: &'a KeyTable,
    own_keys: &'a [PublicKey],
    /// Bytes of symbol text this decoding may still materialise.
    text_left: Cell<usize>,
}

impl Resolver<'_> {
    fn symbol(&self, index: u64) -> Result<String, FormatError> {
        let s = self.symbol_ref(index)?;
        let left = self
            .text_left
            .get()
            .checked_sub(s.len())
            .ok_or(FormatError::TextTooLarge)?;
        self.text_left.set(left);
        Ok(s.to_owned())
    }

    fn symbol_ref(&self, index: u64) -> Result<&str, FormatError> {
        if let Some(s) = self.symbols.get(index) {
            return Ok(s);
        }
        if index >= SYMBOL_OFFSET {
            let i = index - SYMBOL_OFFSET;
            let base = self.symbols.custom().len() as u64;
            if i >= base {
                if let Some(s) = usize::try_from(i - base)
                    .ok()
                    .and_then(|j| self.own_symbols.get(j))
                {
                    return Ok(s);
                }
            }
        }
        Err(FormatError::UnknownSymbol(index))
    }

    fn key(&self, index: i64) -> Result<PublicKey, FormatError> {
        let found = usize::try_from(index).ok().and_then(|i| {
            if i < self.keys.len() {
                self.keys.get(i)
            } else {
                self.own_keys.get(i - self.keys.len())
            }
        });
        found.cloned().ok_or(FormatError::UnknownPublicKey(index))
    }

    fn term(&self, t: &TermV2) -> Result<Term, FormatError> {
        Ok(match t {
            TermV2::Variable(v) => Term::Variable(self.symbol(u64::from(*v))?),
            TermV2::Integer(i) => Term::Integer(*i),
            TermV2::Str(s) => Term::Str(self.symbol(*s)?),
            TermV2::Date(d) => Term::Date(*d),
            TermV2::Bytes(b) => Term::Bytes(b.clone()),
            TermV2::Bool(b) => Term::Bool(*b),
            TermV2::Null => Term::Null,
            TermV2::Set(items) => {
                let invalid = |reason: &str| FormatError::InvalidValue {
                    message: "TermSet",
                    field: "set",
                    reason: reason.to_owned(),
                };
                let mut out: Vec<Term> = Vec::with_capacity(items.len());
                let mut seen: BTreeSet<TermV2> = BTreeSet::new();
                let mut kind: Option<std::mem::Discriminant<TermV2>> = None;
                for item in items {
                    match item {
                        TermV2::Variable(_) => {
                            return Err(invalid("sets cannot contain variables"))
                        }
                        TermV2::Set(_) => return Err(invalid("sets cannot contain other sets")),
                        _ => {}
                    }
                    let d = std::mem::discriminant(item);
                    if *kind.get_or_insert(d) != d {
                        return Err(invalid("set elements must have the same type"));
                    }
                    let term = self.term(item)?;
                    // Symbol indices are unique per string within a block, so
                    // the canonical wire form identifies the value.
                    if seen.insert(canonical(item)) {
                        out.push(term);
                    }
                }
                Term::Set(out)
            }
            TermV2::Array(items) => Term::Array(
                items
                    .iter()
                    .map(|i| self.term(i))
                    .collect::<Result<_, _>>()?,
            ),
            TermV2::Map(entries) => {
                let mut out: Vec<(MapKey, Term)> = Vec::with_capacity(entries.len());
                let mut positions: HashMap<MapKey, usize> = HashMap::with_capacity(entries.len());
                for e in entries {
                    let key = match &e.key {
                        MapKeyV2::Integer(i) => MapKey::Integer(*i),
                        MapKeyV2::Str(s) => MapKey::Str(self.symbol(*s)?),
                    };
                    let value = self.term(&e.value)?;
                    match positions.get(&key) {
                        Some(&i) => out[i].1 = value,
                        None => {
                            positions.insert(key.clone(), out.len());
                            out.push((key, value));
                        }
                    }
                }
                Term::Map(out)
            }
        })
    }

    fn predicate(&self, p: &PredicateV2) -> Result<Predicate, FormatError> {
        Ok(Predicate {
            name: self.symbol(p.name)?,
            terms: p
                .terms
                .iter()
                .map(|t| self.term(t))
                .collect::<Result<_, _>>()?,
        })
    }

    fn scope(&self, s: &ScopeV2) -> Result<Scope, FormatError> {
        match s {
            ScopeV2::ScopeType(0) => Ok(Scope::Authority),
            ScopeV2::ScopeType(1) => Ok(Scope::Previous),
            ScopeV2::ScopeType(other) => Err(FormatError::InvalidValue {
                message: "Scope",
                field: "scopeType",
                reason: format!("unexpected scope type {}", other),
            }),
            ScopeV2::PublicKey(i) => Ok(Scope::PublicKey(self.key(*i)?)),
        }
    }

    fn rule(&self, r: &RuleV2) -> Result<Rule, FormatError> {
        Ok(Rule {
            head: self.predicate(&r.head)?,
            body: r
                .body
                .iter()
                .map(|p| self.predicate(p))
                .collect::<Result<_, _>>()?,
            expressions: r
                .expressions
                .iter()
                .map(|e| self.expression(e))
                .collect::<Result<_, _>>()?,
            scopes: r
                .scopes
                .iter()
                .map(|s| self.scope(s))
                .collect::<Result<_, _>>()?,
        })
    }

    fn check(&self, c: &CheckV2) -> Result<Check, FormatError> {
        let kind = match c.kind {
            None | Some(0) => CheckKind::One,
            Some(1) => CheckKind::All,
            Some(2) => CheckKind::Reject,
            Some(other) => {
                return Err(FormatError::InvalidValue {
                    message: "CheckV2",
                    field: "kind",
                    reason: format!("unknown check kind {}", other),
                })
            }
        };
        Ok(Check {
            queries: c
                .queries
                .iter()
                .map(|q| self.rule(q))
                .collect::<Result<_, _>>()?,
            kind,
        })
    }

    fn expression(&self, e: &ExpressionV2) -> Result<Expression, FormatError> {
        Ok(Expression {
            ops: e
                .ops
                .iter()
                .map(|op| self.op(op))
                .collect::<Result<_, _>>()?,
        })
    }

    fn op(&self, op: &OpV2) -> Result<Op, FormatError> {
        Ok(match op {
            OpV2::Value(t) => Op::Value(self.term(t)?),
            OpV2::Unary(k) => Op::Unary(self.unary(k)?),
            OpV2::Binary(k) => Op::Binary(self.binary(k)?),
            OpV2::Closure(params, ops) => Op::Closure(
                params
                    .iter()
                    .map(|p| self.symbol(u64::from(*p)))
                    .collect::<Result<_, _>>()?,
                ops.iter().map(|o| self.op(o)).collect::<Result<_, _>>()?,
            ),
        })
    }

    fn unary(&self, k: &OpKind) -> Result<Unary, FormatError> {
        let invalid = |reason: String| FormatError::InvalidValue {
            message: "OpUnary",
            field: "kind",
            reason,
        };
        match (k.kind, k.ffi_name) {
            (0, None) => Ok(Unary::Negate),
            (1, None) => Ok(Unary::Parens),
            (2, None) => Ok(Unary::Length),
            (3, None) => Ok(Unary::TypeOf),
            (4, Some(n)) => Ok(Unary::Ffi(self.symbol(n)?)),
            (4, None) => Err(invalid("missing ffi name".into())),
            (0..=3, Some(_)) => Err(invalid("ffi name set on a regular unary operation".into())),
            (other, _) => Err(invalid(format!("unknown unary operation {}", other))),
        }
    }

    fn binary(&self, k: &OpKind) -> Result<Binary, FormatError> {
        let invalid = |reason: String| FormatError::InvalidValue {
            message: "OpBinary",
            field: "kind",
            reason,
        };
        match (k.kind, k.ffi_name) {
            (28, Some(n)) => Ok(Binary::Ffi(self.symbol(n)?)),
            (28, None) => Err(invalid("missing ffi name".into())),
            (kind, ffi) => match binary_from_wire(kind) {
                Some(b) if ffi.is_none() => Ok(b),
                Some(_) => Err(invalid("ffi name set on a regular binary operation".into())),
                None => Err(invalid(format!("unknown binary operation {}", kind))),
            },
        }
    }
}

/// A wire term with set elements sorted and deduplicated and map entries
/// sorted by key (the last value of a repeated key wins), so that equal
/// values have equal canonical forms.
fn canonical(t: &TermV2) -> TermV2 {
    match t {
        TermV2::Set(items) => {
            let set: BTreeSet<TermV2> = items.iter().map(canonical).collect();
            TermV2::Set(set.into_iter().collect())
        }
        TermV2::Array(items) => TermV2::Array(items.iter().map(canonical).collect()),
        TermV2::Map(entries) => {
            let mut map: std::collections::BTreeMap<MapKeyV2, TermV2> =
                std::collections::BTreeMap::new();
            for e in entries {
                map.insert(e.key.clone(), canonical(&e.value));
            }
            TermV2::Map(
                map.into_iter()
                    .map(|(key, value)| MapEntry { key, value })
                    .collect(),
            )
        }
        other => other.clone(),
    }
}

fn binary_from_wire(kind: i32) -> Option<Binary> {
    use Binary::*;
    Some(match kind {
        0 => LessThan,
        1 => GreaterThan,
        2 => LessOrEqual,
        3 => GreaterOrEqual,
        4 => Equal,
        5 => Contains,
        6 => Prefix,
        7 => Suffix,
        8 => Regex,
        9 => Add,
        10 => Sub,
        11 => Mul,
        12 => Div,
        13 => And,
        14 => Or,
        15 => Intersection,
        16 => Union,
        17 => BitwiseAnd,
        18 => BitwiseOr,
        19 => BitwiseXor,
        20 => NotEqual,
        21 => HeterogeneousEqual,
        22 => HeterogeneousNotEqual,
        23 => LazyAnd,
        24 => LazyOr,
        25 => All,
        26 => Any,
        27 => Get,
        _ => return None,
    })
}

fn unary_wire_kind(u: &Unary) -> i32 {
    match u {
        Unary::Negate => 0,
        Unary::Parens => 1,
        Unary::Length => 2,
        Unary::TypeOf => 3,
        Unary::Ffi(_) => 4,
    }
}

// ---------------------------------------------------------------------------
// Version detection

/// Which version-gated features a block uses (the first one found of each
/// class, for error messages).
#[derive(Default)]
struct Features {
    /// Datalog 3.1 features: scopes, check all, ops 17–20.
    v4: Option<&'static str>,
    /// Datalog 3.3 features the reference detects when loading: reject if,
    /// null (top level or in a set), closures, `.type()`, extern calls and
    /// ops 21–26/28.
    v6_lenient: Option<&'static str>,
    /// Datalog 3.3 features the reference does not detect: arrays, maps,
    /// `.get()`, null nested in arrays or maps.
    v6_strict: Option<&'static str>,
}

impl Features {
    fn scan(code: &BlockCode) -> Features {
        let mut f = Features::default();
        if !code.scopes.is_empty() {
            f.v4.get_or_insert("scopes");
        }
        for fact in &code.facts {
            f.predicate(fact, true);
        }
        for rule in &code.rules {
            f.rule(rule, true);
        }
        for check in &code.checks {
            match check.kind {
                CheckKind::One => {}
                CheckKind::All => {
                    f.v4.get_or_insert("check all");
                }
                CheckKind::Reject => {
                    f.v6_lenient.get_or_insert("reject if");
                }
            }
            for q in &check.queries {
                f.rule(q, false);
            }
        }
        f
    }

    fn rule(&mut self, rule: &Rule, head_counts: bool) {
        if !rule.scopes.is_empty() {
            self.v4.get_or_insert("scopes");
        }
        // The reference ignores the (synthetic) head of check queries.
        self.predicate(&rule.head, head_counts);
        for p in &rule.body {
            self.predicate(p, true);
        }
        for e in &rule.expressions {
            self.ops(&e.ops, true);
        }
    }

    fn predicate(&mut self, p: &Predicate, lenient_counts: bool) {
        for t in &p.terms {
            self.term(t, lenient_counts);
        }
    }

    /// `top`: whether a null here is detected by the reference.
    fn term(&mut self, t: &Term, top: bool) {
        match t {
            Term::Null => {
                if top {
                    self.v6_lenient.get_or_insert("null");
                } else {
                    self.v6_strict.get_or_insert("null");
                }
            }
            Term::Set(items) => {
                for i in items {
                    self.term(i, top);
                }
            }
            Term::Array(items) => {
                self.v6_strict.get_or_insert("arrays");
                for i in items {
                    self.term(i, false);
                }
            }
            Term::Map(entries) => {
                self.v6_strict.get_or_insert("maps");
                for (_, v) in entries {
                    self.term(v, false);
                }
            }
            _ => {}
        }
    }

    fn ops(&mut self, ops: &[Op], top: bool) {
        for op in ops {
            match op {
                Op::Value(t) => self.term(t, top),
                Op::Unary(Unary::TypeOf) => {
                    self.v6_lenient.get_or_insert(".type()");
                }
                Op::Unary(Unary::Ffi(_)) | Op::Binary(Binary::Ffi(_)) => {
                    self.v6_lenient.get_or_insert("extern calls");
                }
                Op::Unary(_) => {}
                Op::Binary(b) => match b.wire_kind() {
                    17..=20 => {
                        if top {
                            self.v4.get_or_insert("bitwise operators and !==");
                        } else {
                            self.v6_strict.get_or_insert("bitwise operators and !==");
                        }
                    }
                    21..=26 => {
                        self.v6_lenient
                            .get_or_insert("==, !=, &&, ||, .all() and .any()");
                    }
                    27 => {
                        self.v6_strict.get_or_insert(".get()");
                    }
                    _ => {}
                },
                Op::Closure(_, body) => {
                    self.v6_lenient.get_or_insert("closures");
                    self.ops(body, false);
                }
            }
        }
    }
}

/// The smallest `Block.version` covering the features of `code` (arrays,
/// maps and `.get()` count as Datalog 3.3, unlike the reference detector).
pub fn detect_version(code: &BlockCode) -> u32 {
    let f = Features::scan(code);
    if f.v6_lenient.is_some() || f.v6_strict.is_some() {
        MAX_SCHEMA_VERSION
    } else if f.v4.is_some() {
        DATALOG_3_1
    } else {
        MIN_SCHEMA_VERSION
    }
}

// ---------------------------------------------------------------------------
// Encoding

/// A serialized block and what it added to the tables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedBlock {
    pub bytes: Vec<u8>,
    /// Symbols this block added (its `symbols` field).
    pub symbols: Vec<String>,
    /// Public keys this block added (its `publicKeys` field).
    pub public_keys: Vec<PublicKey>,
    /// The `Block.version` written.
    pub version: u32,
}

/// Serializes `code`, interning into `symbols` and `keys` (the token tables
/// for a first-party block; fresh tables for a third-party block, whose
/// version is then at least 5).
pub fn encode_block(
    code: &BlockCode,
    symbols: &mut SymbolTable,
    keys: &mut KeyTable,
    third_party: bool,
) -> Vec<u8> {
    encode_block_full(code, symbols, keys, third_party, None).bytes
}

/// [`encode_block`] with a context string, returning the table additions.
pub fn encode_block_full(
    code: &BlockCode,
    symbols: &mut SymbolTable,
    keys: &mut KeyTable,
    third_party: bool,
    context: Option<&str>,
) -> EncodedBlock {
    let symbols_start = symbols.custom().len();
    let keys_start = keys.len();
    let mut i = Interner { symbols, keys };

    let facts: Vec<FactV2> = code
        .facts
        .iter()
        .map(|f| FactV2 {
            predicate: i.predicate(f),
        })
        .collect();
    let rules: Vec<RuleV2> = code.rules.iter().map(|r| i.rule(r)).collect();
    let checks: Vec<CheckV2> = code
        .checks
        .iter()
        .map(|c| CheckV2 {
            queries: c.queries.iter().map(|q| i.rule(q)).collect(),
            kind: match c.kind {
                CheckKind::One => None,
                CheckKind::All => Some(1),
                CheckKind::Reject => Some(2),
            },
        })
        .collect();
    let scopes: Vec<ScopeV2> = code.scopes.iter().map(|s| i.scope(s)).collect();

    let new_symbols = symbols.custom()[symbols_start..].to_vec();
    let new_keys = keys.keys()[keys_start..].to_vec();
    let mut version = detect_version(code);
    if third_party {
        version = version.max(DATALOG_3_2);
    }
    let proto = BlockProto {
        symbols: new_symbols.clone(),
        context: context.map(str::to_owned),
        version: Some(version),
        facts,
        rules,
        checks,
        scopes,
        public_keys: new_keys.iter().map(key_to_proto).collect(),
    };
    EncodedBlock {
        bytes: proto.encode(),
        symbols: new_symbols,
        public_keys: new_keys,
        version,
    }
}

struct Interner<'a> {
    symbols: &'a mut SymbolTable,
    keys: &'a mut KeyTable,
}

impl Interner<'_> {
    fn predicate(&mut self, p: &Predicate) -> PredicateV2 {
        let name = self.symbols.insert(&p.name);
        PredicateV2 {
            name,
            terms: p.terms.iter().map(|t| self.term(t)).collect(),
        }
    }

    fn term(&mut self, t: &Term) -> TermV2 {
        match t {
            Term::Variable(v) => TermV2::Variable(self.symbols.insert(v) as u32),
            Term::Integer(i) => TermV2::Integer(*i),
            Term::Str(s) => TermV2::Str(self.symbols.insert(s)),
            Term::Date(d) => TermV2::Date(*d),
            Term::Bytes(b) => TermV2::Bytes(b.clone()),
            Term::Bool(b) => TermV2::Bool(*b),
            Term::Null => TermV2::Null,
            Term::Set(items) => {
                // Intern in value order (the reference builds a sorted set
                // of values first), then serialize in index order.
                let mut out: Vec<TermV2> = crate::datalog::ast::sorted_set(items)
                    .into_iter()
                    .map(|e| self.term(e))
                    .collect();
                out.sort();
                out.dedup();
                TermV2::Set(out)
            }
            Term::Array(items) => TermV2::Array(items.iter().map(|e| self.term(e)).collect()),
            Term::Map(entries) => {
                let mut out: Vec<MapEntry> = crate::datalog::ast::sorted_map(entries)
                    .into_iter()
                    .map(|(k, v)| {
                        let key = match k {
                            MapKey::Integer(i) => MapKeyV2::Integer(*i),
                            MapKey::Str(s) => MapKeyV2::Str(self.symbols.insert(s)),
                        };
                        MapEntry {
                            key,
                            value: self.term(v),
                        }
                    })
                    .collect();
                out.sort();
                out.dedup_by(|a, b| a.key == b.key);
                TermV2::Map(out)
            }
        }
    }

    fn scope(&mut self, s: &Scope) -> ScopeV2 {
        match s {
            Scope::Authority => ScopeV2::ScopeType(0),
            Scope::Previous => ScopeV2::ScopeType(1),
            Scope::PublicKey(k) => ScopeV2::PublicKey(self.keys.insert(k) as i64),
        }
    }

    fn rule(&mut self, r: &Rule) -> RuleV2 {
        let head = self.predicate(&r.head);
        let body = r.body.iter().map(|p| self.predicate(p)).collect();
        let expressions = r
            .expressions
            .iter()
            .map(|e| ExpressionV2 {
                ops: self.ops(&e.ops),
            })
            .collect();
        let scopes = r.scopes.iter().map(|s| self.scope(s)).collect();
        RuleV2 {
            head,
            body,
            expressions,
            scopes,
        }
    }

    fn ops(&mut self, ops: &[Op]) -> Vec<OpV2> {
        ops.iter()
            .map(|op| match op {
                Op::Value(t) => OpV2::Value(self.term(t)),
                Op::Unary(u) => OpV2::Unary(OpKind {
                    kind: unary_wire_kind(u),
                    ffi_name: match u {
                        Unary::Ffi(name) => Some(self.symbols.insert(name)),
                        _ => None,
                    },
                }),
                Op::Binary(b) => OpV2::Binary(OpKind {
                    kind: b.wire_kind() as i32,
                    ffi_name: match b {
                        Binary::Ffi(name) => Some(self.symbols.insert(name)),
                        _ => None,
                    },
                }),
                Op::Closure(params, body) => {
                    let params = params
                        .iter()
                        .map(|p| self.symbols.insert(p) as u32)
                        .collect();
                    OpV2::Closure(params, self.ops(body))
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::schema::{
        BlockProto, CheckV2, FactV2, OpKind, OpV2, PredicateV2, RuleV2, ScopeV2, TermV2,
    };

    fn key(byte: u8) -> PublicKey {
        crate::crypto::PrivateKey::from_bytes(Algorithm::Ed25519, &[byte; 32])
            .unwrap()
            .public()
    }

    fn fact(name: u64, terms: Vec<TermV2>) -> FactV2 {
        FactV2 {
            predicate: PredicateV2 { name, terms },
        }
    }

    fn block(version: u32) -> BlockProto {
        BlockProto {
            version: Some(version),
            ..BlockProto::default()
        }
    }

    fn decode(b: &BlockProto) -> Result<Block, FormatError> {
        decode_block(&b.encode(), &SymbolTable::new(), &KeyTable::new(), None)
    }

    fn query(expr: Vec<OpV2>) -> RuleV2 {
        RuleV2 {
            head: PredicateV2 {
                name: 27,
                terms: vec![],
            },
            body: vec![],
            expressions: vec![crate::format::schema::ExpressionV2 { ops: expr }],
            scopes: vec![],
        }
    }

    #[test]
    fn decoded_text_is_bounded() {
        // a 100 KB symbol named by 160 facts decodes to 16 MB: within the
        // limit (16 MiB for a block this size); named by 200, past it
        let mut b = block(3);
        b.symbols.push("A".repeat(100_000));
        let f = fact(0, vec![TermV2::Str(SYMBOL_OFFSET)]);
        b.facts = vec![f.clone(); 160];
        assert_eq!(decode(&b).unwrap().code.facts.len(), 160);
        b.facts = vec![f; 200];
        assert_eq!(decode(&b), Err(FormatError::TextTooLarge));
        assert_eq!(decoded_text_limit(1 << 20), 32 << 20);
        // the caller's limit is shared by the blocks of a token
        let mut b = block(3);
        b.symbols.push("B".repeat(600));
        b.facts = vec![fact(0, vec![TermV2::Str(SYMBOL_OFFSET)])];
        let bytes = b.encode();
        let mut left = 1000;
        let decode_within = |left: &mut usize| {
            decode_block_within(&bytes, &SymbolTable::new(), &KeyTable::new(), None, left)
        };
        assert!(decode_within(&mut left).is_ok());
        assert_eq!(left, 1000 - 600 - "read".len(), "every name counts");
        assert_eq!(decode_within(&mut left), Err(FormatError::TextTooLarge));
    }

    #[test]
    fn version_range() {
        for v in [0u32, 2, 7] {
            assert!(
                matches!(decode(&block(v)), Err(FormatError::Version { actual, .. }) if actual == v)
            );
        }
        assert!(matches!(
            decode(&BlockProto::default()),
            Err(FormatError::Version { actual: 0, .. })
        ));
        for v in 3..=6 {
            assert_eq!(decode(&block(v)).unwrap().version, v);
        }
    }

    #[test]
    fn feature_gates() {
        // A check kind, even 0, needs v4.
        let mut b = block(3);
        b.checks.push(CheckV2 {
            queries: vec![],
            kind: Some(0),
        });
        assert!(matches!(
            decode(&b),
            Err(FormatError::UnsupportedFeature { .. })
        ));
        b.version = Some(4);
        assert!(decode(&b).is_ok());
        // Reject needs v6.
        b.checks[0].kind = Some(2);
        assert!(matches!(
            decode(&b),
            Err(FormatError::UnsupportedFeature { .. })
        ));
        b.version = Some(6);
        assert_eq!(decode(&b).unwrap().code.checks[0].kind, CheckKind::Reject);
        b.checks[0].kind = Some(3);
        assert!(matches!(decode(&b), Err(FormatError::InvalidValue { .. })));
        // Block scopes need v4.
        let mut b = block(3);
        b.scopes.push(ScopeV2::ScopeType(1));
        assert!(matches!(
            decode(&b),
            Err(FormatError::UnsupportedFeature { .. })
        ));
        b.version = Some(4);
        assert_eq!(decode(&b).unwrap().code.scopes, vec![Scope::Previous]);
        b.scopes[0] = ScopeV2::ScopeType(2);
        assert!(matches!(decode(&b), Err(FormatError::InvalidValue { .. })));
        // Bitwise ops need v4; null needs v6; closures need v6.
        let bitwise = vec![
            OpV2::Value(TermV2::Integer(1)),
            OpV2::Value(TermV2::Integer(2)),
            OpV2::Binary(OpKind {
                kind: 17,
                ffi_name: None,
            }),
        ];
        let mut b = block(3);
        b.checks.push(CheckV2 {
            queries: vec![query(bitwise)],
            kind: None,
        });
        assert!(matches!(
            decode(&b),
            Err(FormatError::UnsupportedFeature { .. })
        ));
        b.version = Some(4);
        assert!(decode(&b).is_ok());
        let mut b = block(5);
        b.facts.push(fact(0, vec![TermV2::Set(vec![TermV2::Null])]));
        assert!(matches!(
            decode(&b),
            Err(FormatError::UnsupportedFeature { .. })
        ));
        b.version = Some(6);
        assert!(decode(&b).is_ok());
        let mut b = block(5);
        b.checks.push(CheckV2 {
            queries: vec![query(vec![OpV2::Closure(vec![], vec![])])],
            kind: None,
        });
        assert!(matches!(
            decode(&b),
            Err(FormatError::UnsupportedFeature { .. })
        ));
        // Arrays are tolerated before v6 when loading (as the reference does).
        let mut b = block(3);
        b.facts.push(fact(0, vec![TermV2::Array(vec![])]));
        assert!(decode(&b).is_ok());
        // Third-party blocks need v5.
        let b = block(4);
        assert!(matches!(
            decode_block(
                &b.encode(),
                &SymbolTable::new(),
                &KeyTable::new(),
                Some(key(1))
            ),
            Err(FormatError::UnsupportedFeature { .. })
        ));
    }

    #[test]
    fn ffi_names() {
        let mut b = block(6);
        b.symbols = vec!["f".into()];
        let with = |kind, name| {
            vec![
                OpV2::Value(TermV2::Integer(1)),
                OpV2::Unary(OpKind {
                    kind,
                    ffi_name: name,
                }),
            ]
        };
        b.checks.push(CheckV2 {
            queries: vec![query(with(4, Some(1024)))],
            kind: None,
        });
        let d = decode(&b).unwrap();
        assert_eq!(
            d.code.checks[0].queries[0].expressions[0].ops[1],
            Op::Unary(Unary::Ffi("f".into()))
        );
        b.checks[0] = CheckV2 {
            queries: vec![query(with(4, None))],
            kind: None,
        };
        assert!(matches!(decode(&b), Err(FormatError::InvalidValue { .. })));
        b.checks[0] = CheckV2 {
            queries: vec![query(with(0, Some(1024)))],
            kind: None,
        };
        assert!(matches!(decode(&b), Err(FormatError::InvalidValue { .. })));
        b.checks[0] = CheckV2 {
            queries: vec![query(with(9, None))],
            kind: None,
        };
        assert!(matches!(decode(&b), Err(FormatError::InvalidValue { .. })));
    }

    #[test]
    fn symbols_and_keys() {
        // Unknown symbols: the gap 28..1024 and past the table.
        for idx in [28u64, 1023, 1025, u64::MAX] {
            let mut b = block(3);
            b.symbols = vec!["x".into()];
            b.facts.push(fact(idx, vec![]));
            assert_eq!(decode(&b), Err(FormatError::UnknownSymbol(idx)));
        }
        // Own symbols resolve after the table's.
        let mut table = SymbolTable::new();
        table.extend(&["a".into(), "b".into()]).unwrap();
        let mut b = block(3);
        b.symbols = vec!["c".into()];
        b.facts
            .push(fact(1026, vec![TermV2::Str(1024), TermV2::Variable(2)]));
        let d = decode_block(&b.encode(), &table, &KeyTable::new(), None).unwrap();
        assert_eq!(d.code.facts[0].name, "c");
        assert_eq!(
            d.code.facts[0].terms,
            vec![Term::Str("a".into()), Term::Variable("resource".into())]
        );
        // Overlaps: a default symbol, a symbol of the table.
        b.symbols = vec!["read".into()];
        assert_eq!(decode(&b), Err(FormatError::SymbolTableOverlap));
        b.symbols = vec!["a".into()];
        assert_eq!(
            decode_block(&b.encode(), &table, &KeyTable::new(), None),
            Err(FormatError::SymbolTableOverlap)
        );
        assert_eq!(
            table.extend(&["b".into()]),
            Err(FormatError::SymbolTableOverlap)
        );

        // Keys: duplicates in a block, overlap with the table, unknown index.
        let mut b = block(4);
        b.public_keys = vec![key_to_proto(&key(1)), key_to_proto(&key(1))];
        assert_eq!(decode(&b), Err(FormatError::PublicKeyTableOverlap));
        let mut keys = KeyTable::new();
        keys.extend(&[key(1)]).unwrap();
        b.public_keys = vec![key_to_proto(&key(1))];
        assert_eq!(
            decode_block(&b.encode(), &SymbolTable::new(), &keys, None),
            Err(FormatError::PublicKeyTableOverlap)
        );
        b.public_keys = vec![key_to_proto(&key(2))];
        b.scopes = vec![ScopeV2::PublicKey(1), ScopeV2::PublicKey(0)];
        let d = decode_block(&b.encode(), &SymbolTable::new(), &keys, None).unwrap();
        assert_eq!(
            d.code.scopes,
            vec![Scope::PublicKey(key(2)), Scope::PublicKey(key(1))]
        );
        assert_eq!(d.public_keys, vec![key(2)]);
        b.scopes = vec![ScopeV2::PublicKey(2)];
        assert_eq!(
            decode_block(&b.encode(), &SymbolTable::new(), &keys, None),
            Err(FormatError::UnknownPublicKey(2))
        );
        b.scopes = vec![ScopeV2::PublicKey(-1)];
        assert_eq!(
            decode_block(&b.encode(), &SymbolTable::new(), &keys, None),
            Err(FormatError::UnknownPublicKey(-1))
        );
        b.public_keys = vec![PublicKeyProto {
            algorithm: 7,
            key: vec![0; 32],
        }];
        assert!(matches!(decode(&b), Err(FormatError::InvalidKey { .. })));
        b.public_keys = vec![PublicKeyProto {
            algorithm: 0,
            key: vec![0; 31],
        }];
        assert!(matches!(decode(&b), Err(FormatError::InvalidKey { .. })));
    }

    #[test]
    fn sets_and_maps() {
        let mut b = block(6);
        b.facts.push(fact(
            0,
            vec![
                TermV2::Set(vec![
                    TermV2::Integer(3),
                    TermV2::Integer(1),
                    TermV2::Integer(3),
                ]),
                TermV2::Map(vec![
                    MapEntry {
                        key: MapKeyV2::Integer(2),
                        value: TermV2::Bool(true),
                    },
                    MapEntry {
                        key: MapKeyV2::Str(0),
                        value: TermV2::Null,
                    },
                ]),
            ],
        ));
        let d = decode(&b).unwrap();
        // Deduplicated, wire order kept.
        assert!(
            matches!(&d.code.facts[0].terms[0], Term::Set(v) if *v == vec![Term::Integer(3), Term::Integer(1)])
        );
        assert!(
            matches!(&d.code.facts[0].terms[1], Term::Map(v) if v.len() == 2 && v[1].0 == MapKey::Str("read".into()))
        );
        // Maps that differ only in entry order are one element.
        let m1 = TermV2::Map(vec![
            MapEntry {
                key: MapKeyV2::Integer(1),
                value: TermV2::Bool(true),
            },
            MapEntry {
                key: MapKeyV2::Integer(2),
                value: TermV2::Bool(false),
            },
        ]);
        let m2 = TermV2::Map(vec![
            MapEntry {
                key: MapKeyV2::Integer(2),
                value: TermV2::Bool(false),
            },
            MapEntry {
                key: MapKeyV2::Integer(1),
                value: TermV2::Bool(true),
            },
        ]);
        let mut b = block(6);
        b.facts.push(fact(0, vec![TermV2::Set(vec![m1, m2])]));
        assert!(
            matches!(&decode(&b).unwrap().code.facts[0].terms[0], Term::Set(v) if v.len() == 1)
        );
        // Large sets and maps decode in n log n.
        let mut b = block(6);
        let n = 200_000i64;
        b.facts.push(fact(
            0,
            vec![
                TermV2::Set((0..n).map(TermV2::Integer).collect()),
                TermV2::Map(
                    (0..n)
                        .map(|i| MapEntry {
                            key: MapKeyV2::Integer(i % 1000),
                            value: TermV2::Integer(i),
                        })
                        .collect(),
                ),
            ],
        ));
        let start = std::time::Instant::now();
        let d = decode(&b).unwrap();
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        assert!(matches!(&d.code.facts[0].terms[0], Term::Set(v) if v.len() == n as usize));
        assert!(
            matches!(&d.code.facts[0].terms[1], Term::Map(v) if v.len() == 1000 && v[0].1 == Term::Integer(199_000))
        );
        // Repeated symbols inside one block.
        let mut b = block(3);
        b.symbols = vec!["x".into(), "x".into()];
        assert_eq!(decode(&b), Err(FormatError::SymbolTableOverlap));
        assert_eq!(
            SymbolTable::new().extend(&["x".into(), "x".into()]),
            Err(FormatError::SymbolTableOverlap)
        );
        for bad in [
            vec![TermV2::Variable(0)],
            vec![TermV2::Set(vec![])],
            vec![TermV2::Integer(1), TermV2::Str(0)],
        ] {
            let mut b = block(6);
            b.facts.push(fact(0, vec![TermV2::Set(bad)]));
            assert!(matches!(decode(&b), Err(FormatError::InvalidValue { .. })));
        }
    }

    #[test]
    fn encoding_orders_and_versions() {
        // Interning order: facts, rules, checks; inside a rule head, body,
        // expressions (closure params before body), scopes. Sets are interned
        // in value order and written in index order.
        let code = BlockCode {
            facts: vec![Predicate {
                name: "f".into(),
                terms: vec![Term::Set(vec![
                    Term::Str("z".into()),
                    Term::Str("y".into()),
                ])],
            }],
            rules: vec![Rule {
                head: Predicate {
                    name: "h".into(),
                    terms: vec![Term::Variable("x".into())],
                },
                body: vec![Predicate {
                    name: "b".into(),
                    terms: vec![Term::Variable("x".into())],
                }],
                expressions: vec![Expression {
                    ops: vec![
                        Op::Value(Term::Array(vec![])),
                        Op::Closure(vec!["p".into()], vec![Op::Value(Term::Str("in".into()))]),
                        Op::Binary(Binary::Any),
                    ],
                }],
                scopes: vec![Scope::PublicKey(key(3))],
            }],
            checks: vec![],
            scopes: vec![Scope::PublicKey(key(4)), Scope::PublicKey(key(3))],
        };
        let mut symbols = SymbolTable::new();
        symbols.extend(&["z".into()]).unwrap();
        let mut keys = KeyTable::new();
        let e = encode_block_full(&code, &mut symbols, &mut keys, false, None);
        assert_eq!(e.symbols, vec!["f", "y", "h", "x", "b", "p", "in"]);
        assert_eq!(e.public_keys, vec![key(3), key(4)]);
        assert_eq!(e.version, 6);
        let proto = BlockProto::decode(&e.bytes).unwrap();
        // "z" (1024) before "y" (1026).
        assert_eq!(
            proto.facts[0].predicate.terms[0],
            TermV2::Set(vec![TermV2::Str(1024), TermV2::Str(1026)])
        );
        let mut base = SymbolTable::new();
        base.extend(&["z".into()]).unwrap();
        let d = decode_block(&e.bytes, &base, &KeyTable::new(), None).unwrap();
        assert_eq!(d.code.rules, code.rules);
        assert_eq!(d.code.scopes, code.scopes);
        // Third-party blocks are at least version 5.
        let e = encode_block_full(
            &BlockCode::default(),
            &mut SymbolTable::new(),
            &mut KeyTable::new(),
            true,
            None,
        );
        assert_eq!(e.version, 5);
        assert_eq!(detect_version(&BlockCode::default()), 3);
        // Check kinds: One writes nothing.
        let code = BlockCode {
            checks: vec![
                Check {
                    queries: vec![],
                    kind: CheckKind::One,
                },
                Check {
                    queries: vec![],
                    kind: CheckKind::All,
                },
            ],
            ..BlockCode::default()
        };
        let e = encode_block_full(
            &code,
            &mut SymbolTable::new(),
            &mut KeyTable::new(),
            false,
            Some("ctx"),
        );
        let proto = BlockProto::decode(&e.bytes).unwrap();
        assert_eq!(proto.checks[0].kind, None);
        assert_eq!(proto.checks[1].kind, Some(1));
        assert_eq!(proto.context.as_deref(), Some("ctx"));
        assert_eq!(e.version, 4);
    }
}
