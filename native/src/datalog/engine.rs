//! The fact store, rule matching and the fixpoint.
//!
//! Facts are (origin set, predicate) pairs kept in insertion order, indexed
//! by predicate name and deduplicated through a hash of the whole pair. Rules
//! are compiled once (variables become slots, body constants stay borrowed)
//! and applied semi-naively: in every iteration a rule only looks at
//! combinations that use at least one fact added by the previous iteration,
//! which derives exactly the facts the naive loop of the reference derives,
//! in the same number of iterations.
//!
//! Internal block ids: token block `i` is `i`, the authorizer is the number
//! of blocks (the caller maps it to `AUTHORIZER_ID` on output).

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::time::Duration;

use super::ast::{Expression, MapKey, Predicate, Rule, Term};
use super::cost::{self, Meter, Stop};
use super::expr::{eval_ops, EvalContext, ExprError, Vars};

/// Resource limits of one authorization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunLimits {
    /// Maximum number of (origin, fact) pairs after an iteration that added facts.
    pub max_facts: u64,
    /// Maximum number of fixpoint iterations that added facts.
    pub max_iterations: u64,
    /// Wall-clock cap of the whole authorization (world, fixpoint, checks
    /// and policies), enforced through the work [`Meter`].
    pub max_time: Duration,
}

/// Facts and iterations decide deterministically; the wall-clock cap is only a
/// last resort, generous so that a busy machine gives the same answer
/// (Biscuit's own 1 ms default fails under load).
impl Default for RunLimits {
    fn default() -> Self {
        RunLimits {
            max_facts: 1000,
            max_iterations: 100,
            max_time: Duration::from_millis(1000),
        }
    }
}

/// Which limit stopped the evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunLimit {
    TooManyFacts,
    TooManyIterations,
    Timeout,
    /// The host's interrupt hook asked to stop (see
    /// [`super::cost::set_interrupt_check`]).
    Interrupted,
}

impl fmt::Display for RunLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RunLimit::TooManyFacts => "too many facts generated",
            RunLimit::TooManyIterations => "too many iterations",
            RunLimit::Timeout => "authorization timed out",
            RunLimit::Interrupted => "authorization interrupted",
        })
    }
}

/// Why evaluation stopped early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Halt {
    Expr(ExprError),
    Limit(RunLimit),
}

impl From<Stop> for Halt {
    fn from(s: Stop) -> Halt {
        Halt::Limit(match s {
            Stop::Timeout => RunLimit::Timeout,
            Stop::Interrupted => RunLimit::Interrupted,
        })
    }
}

/// A set of internal block ids, as a bit set (one inline word, more words
/// only for tokens with more than 64 blocks). Normalised: `high` has no
/// trailing zero word, so derived equality is set equality.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Origin {
    low: u64,
    high: Vec<u64>,
}

impl Origin {
    pub(crate) fn single(id: usize) -> Origin {
        let mut o = Origin::default();
        o.insert(id);
        o
    }

    pub(crate) fn insert(&mut self, id: usize) {
        if id < 64 {
            self.low |= 1 << id;
        } else {
            let w = id / 64 - 1;
            if self.high.len() <= w {
                self.high.resize(w + 1, 0);
            }
            self.high[w] |= 1 << (id % 64);
        }
    }

    pub(crate) fn union_with(&mut self, other: &Origin) {
        self.low |= other.low;
        if self.high.len() < other.high.len() {
            self.high.resize(other.high.len(), 0);
        }
        for (a, b) in self.high.iter_mut().zip(&other.high) {
            *a |= *b;
        }
    }

    pub(crate) fn is_subset_of(&self, other: &Origin) -> bool {
        self.low & !other.low == 0
            && self
                .high
                .iter()
                .enumerate()
                .all(|(i, w)| w & !other.high.get(i).copied().unwrap_or(0) == 0)
    }

    pub(crate) fn ids(&self) -> impl Iterator<Item = usize> + '_ {
        std::iter::once(self.low)
            .chain(self.high.iter().copied())
            .enumerate()
            .flat_map(|(w, bits)| {
                (0..64)
                    .filter(move |b| bits & (1u64 << b) != 0)
                    .map(move |b| w * 64 + b)
            })
    }

    fn hash(&self) -> u64 {
        let mut h = mix(0x243f_6a88_85a3_08d3, self.low);
        for w in &self.high {
            h = mix(h, *w);
        }
        h
    }
}

// ---------------------------------------------------------------------------
// Hashing (order-insensitive for sets and maps, matching `Term`'s equality).

const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

fn mix(h: u64, x: u64) -> u64 {
    (h.rotate_left(5) ^ x).wrapping_mul(0x517c_c1b7_2722_0a95)
}

fn hash_bytes(mut h: u64, b: &[u8]) -> u64 {
    h = mix(h, b.len() as u64);
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = mix(h, u64::from_le_bytes(w));
    }
    let mut last = 0u64;
    for (i, x) in chunks.remainder().iter().enumerate() {
        last |= (*x as u64) << (8 * i);
    }
    mix(h, last)
}

fn hash_term(h: u64, t: &Term) -> u64 {
    match t {
        Term::Variable(v) => hash_bytes(mix(h, 1), v.as_bytes()),
        Term::Integer(i) => mix(mix(h, 2), *i as u64),
        Term::Str(s) => hash_bytes(mix(h, 3), s.as_bytes()),
        Term::Date(d) => mix(mix(h, 4), *d),
        Term::Bytes(b) => hash_bytes(mix(h, 5), b),
        Term::Bool(b) => mix(mix(h, 6), *b as u64),
        Term::Set(items) => {
            let sum = items
                .iter()
                .fold(0u64, |acc, e| acc.wrapping_add(hash_term(SEED, e)));
            mix(mix(h, 7), sum)
        }
        Term::Null => mix(h, 8),
        Term::Array(items) => items
            .iter()
            .fold(mix(mix(h, 9), items.len() as u64), hash_term),
        Term::Map(entries) => {
            let sum = entries.iter().fold(0u64, |acc, (k, v)| {
                let kh = match k {
                    MapKey::Integer(i) => mix(mix(SEED, 2), *i as u64),
                    MapKey::Str(s) => hash_bytes(mix(SEED, 3), s.as_bytes()),
                };
                acc.wrapping_add(hash_term(kh, v))
            });
            mix(mix(h, 10), sum)
        }
    }
}

fn fact_hash(origin: &Origin, name: u32, terms: &[Term]) -> u64 {
    terms
        .iter()
        .fold(mix(origin.hash(), name as u64), hash_term)
}

/// The keys of the dedup maps are already hashes.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = mix(self.0, *b as u64);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type IdBuild = BuildHasherDefault<IdHasher>;

const NONE: u32 = u32::MAX;

/// Most body predicates a rule or query may have: matching recurses once
/// per predicate, so this bounds the native stack. Longer bodies fail with
/// [`ExprError::InvalidStack`].
pub const MAX_BODY_PREDICATES: usize = 256;

// ---------------------------------------------------------------------------
// Fact lists.

pub(crate) struct Fact {
    pub(crate) origin: Origin,
    pub(crate) pred: Predicate,
    name: u32,
    hash: u64,
}

/// Facts in insertion order with a hash index for deduplication.
#[derive(Default)]
struct FactList {
    facts: Vec<Fact>,
    heads: HashMap<u64, u32, IdBuild>,
    next: Vec<u32>,
}

impl FactList {
    /// Walks the facts of the same hash (a chain a token can lengthen with
    /// crafted collisions: every step is charged).
    fn contains(
        &self,
        hash: u64,
        origin: &Origin,
        name: u32,
        terms: &[Term],
        meter: &Meter,
    ) -> Result<bool, Halt> {
        let mut i = self.heads.get(&hash).copied().unwrap_or(NONE);
        while i != NONE {
            let f = &self.facts[i as usize];
            meter.charge(1 + terms_cost(&f.pred.terms, terms))?;
            if f.name == name && f.origin == *origin && f.pred.terms == terms {
                return Ok(true);
            }
            i = self.next[i as usize];
        }
        Ok(false)
    }

    fn push(&mut self, fact: Fact) -> u32 {
        let idx = self.facts.len() as u32;
        let prev = self.heads.insert(fact.hash, idx).unwrap_or(NONE);
        self.next.push(prev);
        self.facts.push(fact);
        idx
    }
}

/// Interned predicate names. A handful of names is the common case: they
/// are scanned linearly; past [`NAMES_LINEAR`] a (DoS-resistant) hash index
/// takes over.
#[derive(Default)]
pub(crate) struct Names<'r> {
    list: Vec<&'r str>,
    index: HashMap<&'r str, u32>,
}

const NAMES_LINEAR: usize = 16;

impl<'r> Names<'r> {
    pub(crate) fn intern(&mut self, name: &'r str) -> u32 {
        let found = self.lookup(name);
        if found != NONE {
            return found;
        }
        let id = self.list.len() as u32;
        self.list.push(name);
        if self.list.len() > NAMES_LINEAR {
            if self.index.is_empty() {
                self.index = self
                    .list
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (*n, i as u32))
                    .collect();
            } else {
                self.index.insert(name, id);
            }
        }
        id
    }
    pub(crate) fn lookup(&self, name: &str) -> u32 {
        if self.list.len() > NAMES_LINEAR {
            self.index.get(name).copied().unwrap_or(NONE)
        } else {
            self.list
                .iter()
                .position(|n| *n == name)
                .map_or(NONE, |i| i as u32)
        }
    }
}

// ---------------------------------------------------------------------------
// Compiled rules.

enum Pat<'r> {
    Var(usize),
    Const(&'r Term),
}

struct BodyPred<'r> {
    name: u32,
    terms: Vec<Pat<'r>>,
}

/// A rule or query ready for matching.
pub(crate) struct CompiledRule<'r> {
    /// Internal id of the block the rule belongs to.
    origin: usize,
    trusted: Origin,
    vars: Vec<&'r str>,
    body: Vec<BodyPred<'r>>,
    exprs: &'r [Expression],
    head_name: u32,
    head_src: &'r str,
    head: Vec<Pat<'r>>,
    /// Every head variable occurs in the body.
    head_ok: bool,
}

impl<'r> CompiledRule<'r> {
    /// `name_of` resolves predicate names (interning for rules, lookup for
    /// queries: a name never seen can never match).
    pub(crate) fn new(
        rule: &'r Rule,
        origin: usize,
        trusted: Origin,
        name_of: &mut dyn FnMut(&'r str) -> u32,
    ) -> CompiledRule<'r> {
        let mut vars: Vec<&'r str> = Vec::new();
        // slots by name: a token controls how many variables a rule has
        let mut slots: HashMap<&'r str, usize> = HashMap::new();
        let body = rule
            .body
            .iter()
            .map(|p| BodyPred {
                name: name_of(&p.name),
                terms: p
                    .terms
                    .iter()
                    .map(|t| match t {
                        Term::Variable(v) => {
                            Pat::Var(*slots.entry(v.as_str()).or_insert_with(|| {
                                vars.push(v);
                                vars.len() - 1
                            }))
                        }
                        other => Pat::Const(other),
                    })
                    .collect(),
            })
            .collect();
        let mut head_ok = true;
        let head = rule
            .head
            .terms
            .iter()
            .map(|t| match t {
                Term::Variable(v) => match slots.get(v.as_str()) {
                    Some(&i) => Pat::Var(i),
                    None => {
                        head_ok = false;
                        Pat::Const(t)
                    }
                },
                other => Pat::Const(other),
            })
            .collect();
        CompiledRule {
            origin,
            trusted,
            vars,
            body,
            exprs: &rule.expressions,
            head_name: name_of(&rule.head.name),
            head_src: &rule.head.name,
            head,
            head_ok,
        }
    }
}

impl CompiledRule<'_> {
    fn check_size(&self) -> Result<(), Halt> {
        if self.body.len() > MAX_BODY_PREDICATES {
            Err(Halt::Expr(ExprError::InvalidStack))
        } else {
            Ok(())
        }
    }
}

/// Units to compare two term lists position by position.
fn terms_cost(a: &[Term], b: &[Term]) -> u64 {
    if a.len() != b.len() {
        return 1;
    }
    a.iter().zip(b).map(|(x, y)| cost::compare(x, y)).sum()
}

/// Evaluates the rule's expressions for one complete combination.
fn expressions_hold(
    rule: &CompiledRule<'_>,
    bindings: &[Option<&Term>],
    ctx: &EvalContext<'_>,
) -> Result<bool, Halt> {
    let vars = Vars::Root {
        names: &rule.vars,
        values: bindings,
    };
    for e in rule.exprs {
        match eval_ops(&e.ops, &vars, ctx, 0) {
            Ok(Term::Bool(true)) => {}
            Ok(Term::Bool(false)) => return Ok(false),
            Ok(_) => return Err(Halt::Expr(ExprError::InvalidType)),
            Err(e) => return Err(ctx.meter.stopped().map_or(Halt::Expr(e), Halt::from)),
        }
    }
    Ok(true)
}

// ---------------------------------------------------------------------------
// The world.

/// The fact store (insertion order) with its per-name index.
#[derive(Default)]
pub(crate) struct World {
    store: FactList,
    by_name: Vec<Vec<u32>>,
}

impl World {
    pub(crate) fn len(&self) -> usize {
        self.store.facts.len()
    }

    /// Adds a fact unless the same (origin, fact) pair is present.
    pub(crate) fn add_fact(
        &mut self,
        origin: Origin,
        name: u32,
        pred: Predicate,
        meter: &Meter,
    ) -> Result<(), Halt> {
        meter.charge(pred.terms.iter().map(cost::weight).sum())?;
        let hash = fact_hash(&origin, name, &pred.terms);
        if !self
            .store
            .contains(hash, &origin, name, &pred.terms, meter)?
        {
            self.insert_new(Fact {
                origin,
                pred,
                name,
                hash,
            });
        }
        Ok(())
    }

    fn insert_new(&mut self, fact: Fact) {
        let name = fact.name as usize;
        let idx = self.store.push(fact);
        if self.by_name.len() <= name {
            self.by_name.resize_with(name + 1, Vec::new);
        }
        self.by_name[name].push(idx);
    }

    /// Consumes the world, giving the facts in insertion order.
    pub(crate) fn into_facts(self) -> Vec<Fact> {
        self.store.facts
    }

    /// Enumerates the combinations of `rule`'s body, body predicate `i`
    /// matching facts with indices in `ranges[i]`. The callback gets the
    /// union of the matched facts' origins and the bindings; it returns
    /// `true` to stop the search.
    #[allow(clippy::too_many_arguments)]
    fn search<'s, F>(
        &'s self,
        rule: &CompiledRule<'_>,
        ranges: &[(u32, u32)],
        i: usize,
        origin: &Origin,
        bindings: &mut Vec<Option<&'s Term>>,
        trail: &mut Vec<usize>,
        meter: &Meter,
        cb: &mut F,
    ) -> Result<bool, Halt>
    where
        F: FnMut(&Origin, &[Option<&'s Term>]) -> Result<bool, Halt>,
    {
        let Some(pred) = rule.body.get(i) else {
            return cb(origin, bindings);
        };
        let Some(list) = self.by_name.get(pred.name as usize) else {
            return Ok(false);
        };
        let (lo, hi) = ranges[i];
        let start = list.partition_point(|&x| x < lo);
        for &fi in &list[start..] {
            if fi >= hi {
                break;
            }
            meter.charge(1)?;
            let fact = &self.store.facts[fi as usize];
            if fact.pred.terms.len() != pred.terms.len() || !fact.origin.is_subset_of(&rule.trusted)
            {
                continue;
            }
            let mark = trail.len();
            let mut ok = true;
            for (pat, term) in pred.terms.iter().zip(&fact.pred.terms) {
                if matches!(term, Term::Variable(_)) {
                    ok = false;
                    break;
                }
                match pat {
                    Pat::Const(c) => {
                        meter.charge(cost::compare(c, term))?;
                        if !c.same_variant(term) || *c != term {
                            ok = false;
                            break;
                        }
                    }
                    Pat::Var(slot) => match bindings[*slot] {
                        Some(bound) => {
                            meter.charge(cost::compare(bound, term))?;
                            if bound != term {
                                ok = false;
                                break;
                            }
                        }
                        None => {
                            bindings[*slot] = Some(term);
                            trail.push(*slot);
                        }
                    },
                }
            }
            let result = if ok {
                let mut o = origin.clone();
                o.union_with(&fact.origin);
                self.search(rule, ranges, i + 1, &o, bindings, trail, meter, cb)
            } else {
                Ok(false)
            };
            while trail.len() > mark {
                if let Some(slot) = trail.pop() {
                    bindings[slot] = None;
                }
            }
            if result? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn full_ranges(&self, rule: &CompiledRule<'_>) -> Vec<(u32, u32)> {
        vec![(0, self.len() as u32); rule.body.len()]
    }

    /// `check if` / policy semantics: some combination satisfies every
    /// expression. Expression errors met before that abort.
    pub(crate) fn query_any(
        &self,
        rule: &CompiledRule<'_>,
        ctx: &EvalContext<'_>,
    ) -> Result<bool, Halt> {
        rule.check_size()?;
        if !rule.head_ok {
            return Ok(false);
        }
        let ranges = self.full_ranges(rule);
        let mut bindings = vec![None; rule.vars.len()];
        let mut trail = Vec::new();
        let mut cb = |_: &Origin, b: &[Option<&Term>]| expressions_hold(rule, b, ctx);
        self.search(
            rule,
            &ranges,
            0,
            &Origin::default(),
            &mut bindings,
            &mut trail,
            &ctx.meter,
            &mut cb,
        )
    }

    /// `check all` semantics: at least one combination, and every one
    /// satisfies every expression.
    pub(crate) fn query_all(
        &self,
        rule: &CompiledRule<'_>,
        ctx: &EvalContext<'_>,
    ) -> Result<bool, Halt> {
        rule.check_size()?;
        let ranges = self.full_ranges(rule);
        let mut bindings = vec![None; rule.vars.len()];
        let mut trail = Vec::new();
        let mut found = false;
        let mut failed = false;
        let mut cb = |_: &Origin, b: &[Option<&Term>]| {
            found = true;
            if expressions_hold(rule, b, ctx)? {
                Ok(false)
            } else {
                failed = true;
                Ok(true)
            }
        };
        self.search(
            rule,
            &ranges,
            0,
            &Origin::default(),
            &mut bindings,
            &mut trail,
            &ctx.meter,
            &mut cb,
        )?;
        Ok(found && !failed)
    }

    /// Runs every rule to saturation (see the module documentation),
    /// within `ctx`'s work budget; facts derived before a limit or an error
    /// stay in the world.
    pub(crate) fn run(
        &mut self,
        rules: &[CompiledRule<'_>],
        limits: &RunLimits,
        ctx: &EvalContext<'_>,
    ) -> Result<(), Halt> {
        let mut delta_start: u32 = 0;
        let mut iterations: u64 = 0;
        loop {
            let delta_end = self.len() as u32;
            let mut pending = FactList::default();
            let outcome = self.apply_rules(
                rules,
                delta_start,
                delta_end,
                iterations == 0,
                limits,
                ctx,
                &mut pending,
            );
            let grew = !pending.facts.is_empty();
            for f in pending.facts {
                self.insert_new(f);
            }
            match outcome {
                Ok(()) => {}
                Err(Halt::Limit(RunLimit::TooManyFacts)) => {
                    // stopped early: report what the end of this iteration would
                    return Err(Halt::Limit(if iterations + 1 == limits.max_iterations {
                        RunLimit::TooManyIterations
                    } else {
                        RunLimit::TooManyFacts
                    }));
                }
                Err(e) => return Err(e),
            }
            if !grew {
                return Ok(());
            }
            iterations += 1;
            if iterations == limits.max_iterations {
                return Err(Halt::Limit(RunLimit::TooManyIterations));
            }
            if self.len() as u64 >= limits.max_facts {
                return Err(Halt::Limit(RunLimit::TooManyFacts));
            }
            ctx.meter.check()?;
            delta_start = delta_end;
        }
    }

    /// One iteration: every combination using at least one fact of
    /// `[delta_start, delta_end)` and otherwise facts before `delta_end`.
    #[allow(clippy::too_many_arguments)]
    fn apply_rules(
        &self,
        rules: &[CompiledRule<'_>],
        delta_start: u32,
        delta_end: u32,
        first: bool,
        limits: &RunLimits,
        ctx: &EvalContext<'_>,
        pending: &mut FactList,
    ) -> Result<(), Halt> {
        let max_facts = limits.max_facts;
        for rule in rules {
            rule.check_size()?;
            if rule.body.is_empty() {
                if first && expressions_hold(rule, &[], ctx)? && rule.head_ok {
                    self.produce(
                        rule,
                        &Origin::default(),
                        &[],
                        pending,
                        max_facts,
                        &ctx.meter,
                    )?;
                }
                continue;
            }
            let mut bindings = vec![None; rule.vars.len()];
            let mut trail = Vec::new();
            let mut ranges = vec![(0u32, 0u32); rule.body.len()];
            for p in 0..rule.body.len() {
                // skip quickly when no new fact has this predicate's name
                let has_delta = self
                    .by_name
                    .get(rule.body[p].name as usize)
                    .and_then(|l| l.last())
                    .is_some_and(|&last| last >= delta_start);
                if !has_delta {
                    continue;
                }
                ctx.meter.charge(rule.body.len() as u64)?;
                for (j, r) in ranges.iter_mut().enumerate() {
                    *r = match j.cmp(&p) {
                        std::cmp::Ordering::Less => (0, delta_start),
                        std::cmp::Ordering::Equal => (delta_start, delta_end),
                        std::cmp::Ordering::Greater => (0, delta_end),
                    };
                }
                let mut cb = |origin: &Origin, b: &[Option<&Term>]| {
                    if expressions_hold(rule, b, ctx)? && rule.head_ok {
                        self.produce(rule, origin, b, pending, max_facts, &ctx.meter)?;
                    }
                    Ok(false)
                };
                self.search(
                    rule,
                    &ranges,
                    0,
                    &Origin::default(),
                    &mut bindings,
                    &mut trail,
                    &ctx.meter,
                    &mut cb,
                )?;
            }
        }
        Ok(())
    }

    /// Instantiates the head and records it unless already known.
    fn produce(
        &self,
        rule: &CompiledRule<'_>,
        origin: &Origin,
        bindings: &[Option<&Term>],
        pending: &mut FactList,
        max_facts: u64,
        meter: &Meter,
    ) -> Result<(), Halt> {
        let mut terms = Vec::with_capacity(rule.head.len());
        for pat in &rule.head {
            let t = match pat {
                Pat::Const(c) => *c,
                Pat::Var(slot) => match bindings.get(*slot).copied().flatten() {
                    Some(t) => t,
                    None => return Ok(()),
                },
            };
            // cloned, then hashed
            meter.charge(2 * cost::weight(t))?;
            terms.push(t.clone());
        }
        let mut origin = origin.clone();
        origin.insert(rule.origin);
        let hash = fact_hash(&origin, rule.head_name, &terms);
        if self
            .store
            .contains(hash, &origin, rule.head_name, &terms, meter)?
            || pending.contains(hash, &origin, rule.head_name, &terms, meter)?
        {
            return Ok(());
        }
        let pred = Predicate {
            name: rule.head_src.to_string(),
            terms,
        };
        pending.push(Fact {
            origin,
            pred,
            name: rule.head_name,
            hash,
        });
        if (self.len() + pending.facts.len()) as u64 >= max_facts {
            return Err(Halt::Limit(RunLimit::TooManyFacts));
        }
        Ok(())
    }
}
