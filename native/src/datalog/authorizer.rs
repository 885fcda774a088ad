//! Authorization: building the world from token blocks and authorizer code,
//! running the fixpoint, then evaluating checks and policies in the
//! reference order (authorizer checks, authority checks, policies, checks of
//! blocks 1..n).

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::time::Instant;

use super::ast::{AuthorizerCode, Block, Check, CheckKind, PolicyKind, Predicate, Rule, Scope};
use super::engine::{CompiledRule, Halt, Names, Origin, RunLimit, RunLimits, World};
use super::expr::{EvalContext, ExprError, ExternFunctions};
use super::print::{self, Rendered};
use super::regex::RegexCache;

/// Bytes kept of one failed check's text (and of an invalid rule's): real
/// checks are a few hundred bytes; a longer one is shown cut, with its size.
pub const FAILED_CHECK_BUDGET: usize = 4 * 1024;
/// Bytes kept of all the failed checks of one authorization together: a
/// token holding thousands of long failing checks yields at most this much
/// text, plus a short `... [N bytes, truncated]` per check beyond it.
pub const FAILED_CHECKS_BUDGET: usize = 64 * 1024;

/// The block id of the authorizer in fact origins.
pub const AUTHORIZER_ID: usize = usize::MAX;

/// Everything an authorization needs.
#[derive(Clone, Copy)]
pub struct AuthorizeInput<'a> {
    /// Token blocks, authority first (may be empty: authorizer only).
    pub blocks: &'a [Block],
    pub authorizer: &'a AuthorizerCode,
    pub limits: &'a RunLimits,
    pub externs: Option<&'a dyn ExternFunctions>,
}

/// The outcome and the world after the fixpoint.
#[derive(Clone, Debug)]
pub struct Authorization {
    /// `Ok(index of the allow policy that matched)`.
    pub result: Result<usize, AuthError>,
    /// Every (origins, fact) pair, in insertion order; the authorizer is
    /// [`AUTHORIZER_ID`]. Empty when the world could not be built.
    pub facts: Vec<(BTreeSet<usize>, Predicate)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MatchedPolicy {
    Allow(usize),
    Deny(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailedCheck {
    Block {
        block_id: u32,
        check_id: u32,
        rule: Rendered,
    },
    Authorizer {
        check_id: u32,
        rule: Rendered,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthError {
    /// A block rule whose head uses a variable absent from its body
    /// predicates; the block id is always 0, as in the reference.
    InvalidBlockRule(u32, String),
    Unauthorized {
        policy: MatchedPolicy,
        checks: Vec<FailedCheck>,
    },
    NoMatchingPolicy {
        checks: Vec<FailedCheck>,
    },
    RunLimit(RunLimit),
    Execution(ExprError),
}

// ---- how failures read ------------------------------------------------------

/// Writes `checks` after `sep`, separated by `; ` (nothing when empty).
pub(crate) fn write_check_list(
    f: &mut fmt::Formatter<'_>,
    sep: &str,
    checks: &[FailedCheck],
) -> fmt::Result {
    for (i, c) in checks.iter().enumerate() {
        write!(f, "{}{}", if i == 0 { sep } else { "; " }, c)?;
    }
    Ok(())
}

impl fmt::Display for FailedCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailedCheck::Block {
                block_id,
                check_id,
                rule,
            } => write!(f, "block {} check {} failed: {}", block_id, check_id, rule),
            FailedCheck::Authorizer { check_id, rule } => {
                write!(f, "authorizer check {} failed: {}", check_id, rule)
            }
        }
    }
}

impl fmt::Display for MatchedPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MatchedPolicy::Allow(i) => write!(f, "allow policy {}", i),
            MatchedPolicy::Deny(i) => write!(f, "deny policy {}", i),
        }
    }
}

/// The message of a general authorization (`hessra_token_authorize`), and
/// of a Hessra failure that is one (a limit, an expression error).
impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::Unauthorized {
                policy: MatchedPolicy::Allow(i),
                checks,
            } => {
                write!(f, "allow policy {} matched but checks failed", i)?;
                write_check_list(f, ": ", checks)
            }
            AuthError::Unauthorized {
                policy: MatchedPolicy::Deny(i),
                checks,
            } => {
                write!(f, "deny policy {} matched", i)?;
                write_check_list(f, ": ", checks)
            }
            AuthError::NoMatchingPolicy { checks } => {
                write!(f, "no policy matched")?;
                write_check_list(f, ": ", checks)
            }
            AuthError::RunLimit(l) => write!(f, "Datalog limit exceeded: {}", l),
            AuthError::Execution(e) => write!(f, "expression error: {}", e),
            AuthError::InvalidBlockRule(b, rule) => write!(
                f,
                "invalid rule in block {}: head variables must appear in the body: {}",
                b, rule
            ),
        }
    }
}

impl std::error::Error for AuthError {}

impl From<Halt> for AuthError {
    fn from(h: Halt) -> AuthError {
        match h {
            Halt::Expr(e) => AuthError::Execution(e),
            Halt::Limit(l) => AuthError::RunLimit(l),
        }
    }
}

/// Trusted origins of a rule, check or policy (§4.2): an empty scope list
/// means the default plus the current block and the authorizer; otherwise
/// the current block, the authorizer and what each scope names.
struct Trust<'a> {
    blocks: &'a [Block],
    authorizer: usize,
}

impl Trust<'_> {
    fn origins(&self, scopes: &[Scope], default: &Origin, current: usize) -> Origin {
        let mut o = if scopes.is_empty() {
            default.clone()
        } else {
            Origin::default()
        };
        o.insert(current);
        o.insert(self.authorizer);
        for scope in scopes {
            match scope {
                Scope::Authority => o.insert(0),
                Scope::Previous => {
                    if current != self.authorizer {
                        for i in 0..=current {
                            o.insert(i);
                        }
                    }
                }
                Scope::PublicKey(key) => {
                    for (i, b) in self.blocks.iter().enumerate().skip(1) {
                        if b.external_key.as_ref() == Some(key) {
                            o.insert(i);
                        }
                    }
                }
            }
        }
        o
    }

    /// The default of block-level code: {0, authorizer}.
    fn base(&self) -> Origin {
        let mut o = Origin::single(0);
        o.insert(self.authorizer);
        o
    }
}

/// Runs a complete authorization.
pub fn authorize(input: &AuthorizeInput<'_>) -> Authorization {
    authorize_impl(input, true)
}

/// [`authorize`] without the world: only the outcome (the hot path of
/// verification, which never looks at the facts).
pub fn authorize_outcome(input: &AuthorizeInput<'_>) -> Result<usize, AuthError> {
    authorize_impl(input, false).result
}

fn authorize_impl(input: &AuthorizeInput<'_>, with_facts: bool) -> Authorization {
    let blocks = input.blocks;
    let code = input.authorizer;
    let limits = input.limits;
    let a = blocks.len();
    let trust = Trust {
        blocks,
        authorizer: a,
    };
    let base = trust.base();

    // One work budget and one deadline for everything from here on,
    // rendering included.
    let regex = RegexCache::new();
    let ctx = EvalContext::new(
        input.externs,
        &regex,
        Some(Instant::now() + limits.max_time),
    );

    // Rule safety of every block, before anything is evaluated.
    for block in blocks {
        for rule in &block.code.rules {
            // a set of the body's variables: a token controls both sizes
            let body_vars: HashSet<&str> = rule
                .body
                .iter()
                .flat_map(|p| &p.terms)
                .filter_map(|t| match t {
                    super::ast::Term::Variable(x) => Some(x.as_str()),
                    _ => None,
                })
                .collect();
            let unsafe_head = rule.head.terms.iter().any(
                |t| matches!(t, super::ast::Term::Variable(v) if !body_vars.contains(v.as_str())),
            );
            if unsafe_head {
                let result = match print::rule_text(rule, FAILED_CHECK_BUDGET, &ctx.meter) {
                    Ok(text) => Err(AuthError::InvalidBlockRule(0, text.text)),
                    Err(stop) => Err(AuthError::from(Halt::from(stop))),
                };
                return Authorization {
                    result,
                    facts: Vec::new(),
                };
            }
        }
    }

    let block_trust: Vec<Origin> = blocks
        .iter()
        .enumerate()
        .map(|(i, b)| trust.origins(&b.code.scopes, &base, i))
        .collect();
    let authorizer_trust = trust.origins(&[], &base, a);

    // The world: facts, then rules (blocks in order, then the authorizer).
    let mut names = Names::default();
    let mut world = World::default();
    let mut built = Ok(());
    'facts: for (i, block) in blocks.iter().enumerate() {
        for fact in &block.code.facts {
            let id = names.intern(&fact.name);
            built = world.add_fact(Origin::single(i), id, fact.clone(), &ctx.meter);
            if built.is_err() {
                break 'facts;
            }
        }
    }
    if built.is_ok() {
        for fact in &code.facts {
            let id = names.intern(&fact.name);
            built = world.add_fact(Origin::single(a), id, fact.clone(), &ctx.meter);
            if built.is_err() {
                break;
            }
        }
    }
    let mut rules: Vec<CompiledRule<'_>> = Vec::new();
    {
        let mut intern = |n| names.intern(n);
        for (i, block) in blocks.iter().enumerate() {
            for rule in &block.code.rules {
                let trusted = trust.origins(&rule.scopes, &block_trust[i], i);
                rules.push(CompiledRule::new(rule, i, trusted, &mut intern));
            }
        }
        for rule in &code.rules {
            let trusted = trust.origins(&rule.scopes, &authorizer_trust, a);
            rules.push(CompiledRule::new(rule, a, trusted, &mut intern));
        }
    }

    let run = built.and_then(|()| world.run(&rules, limits, &ctx));
    drop(rules);

    let result = match run {
        Err(h) => Err(AuthError::from(h)),
        Ok(()) => {
            let mut phase = CheckPhase {
                world: &world,
                names: &names,
                ctx: &ctx,
                text_left: FAILED_CHECKS_BUDGET,
            };
            phase
                .evaluate(blocks, code, &trust, &block_trust, &authorizer_trust)
                .map_err(AuthError::from)
                .and_then(|r| r)
        }
    };

    if !with_facts {
        return Authorization {
            result,
            facts: Vec::new(),
        };
    }
    let facts = world
        .into_facts()
        .into_iter()
        .map(|f| {
            let origin = f
                .origin
                .ids()
                .map(|id| if id == a { AUTHORIZER_ID } else { id })
                .collect();
            (origin, f.pred)
        })
        .collect();
    Authorization { result, facts }
}

struct CheckPhase<'w, 'n> {
    world: &'w World,
    names: &'w Names<'n>,
    ctx: &'w EvalContext<'w>,
    /// What is left of [`FAILED_CHECKS_BUDGET`].
    text_left: usize,
}

impl CheckPhase<'_, '_> {
    /// A failed check's text, within its share of the budgets, charging
    /// the authorization's meter.
    fn failed(&mut self, check: &Check) -> Result<Rendered, Halt> {
        let budget = self.text_left.min(FAILED_CHECK_BUDGET);
        let text = print::check_text(check, budget, &self.ctx.meter)?;
        self.text_left -= text.bytes.min(budget);
        Ok(text)
    }

    fn query(
        &mut self,
        rule: &Rule,
        kind: CheckKind,
        current: usize,
        trusted: Origin,
    ) -> Result<bool, Halt> {
        let names = self.names;
        let compiled = CompiledRule::new(rule, current, trusted, &mut |n| names.lookup(n));
        let r = match kind {
            CheckKind::One => self.world.query_any(&compiled, self.ctx)?,
            CheckKind::All => self.world.query_all(&compiled, self.ctx)?,
            CheckKind::Reject => !self.world.query_any(&compiled, self.ctx)?,
        };
        self.ctx.meter.check()?;
        Ok(r)
    }

    /// Whether the check passes: some query succeeds (for `reject if`, a
    /// query succeeds when it has no match).
    fn check(
        &mut self,
        check: &Check,
        current: usize,
        trust: &Trust<'_>,
        default: &Origin,
    ) -> Result<bool, Halt> {
        for q in &check.queries {
            let trusted = trust.origins(&q.scopes, default, current);
            if self.query(q, check.kind, current, trusted)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn evaluate(
        &mut self,
        blocks: &[Block],
        code: &AuthorizerCode,
        trust: &Trust<'_>,
        block_trust: &[Origin],
        authorizer_trust: &Origin,
    ) -> Result<Result<usize, AuthError>, Halt> {
        let a = trust.authorizer;
        let mut failed = Vec::new();
        for (i, check) in code.checks.iter().enumerate() {
            if !self.check(check, a, trust, authorizer_trust)? {
                failed.push(FailedCheck::Authorizer {
                    check_id: i as u32,
                    rule: self.failed(check)?,
                });
            }
        }
        if let Some(authority) = blocks.first() {
            for (j, check) in authority.code.checks.iter().enumerate() {
                if !self.check(check, 0, trust, &block_trust[0])? {
                    failed.push(FailedCheck::Block {
                        block_id: 0,
                        check_id: j as u32,
                        rule: self.failed(check)?,
                    });
                }
            }
        }
        let mut policy = None;
        'policies: for (i, p) in code.policies.iter().enumerate() {
            for q in &p.queries {
                let trusted = trust.origins(&q.scopes, authorizer_trust, a);
                if self.query(q, CheckKind::One, a, trusted)? {
                    policy = Some(match p.kind {
                        PolicyKind::Allow => MatchedPolicy::Allow(i),
                        PolicyKind::Deny => MatchedPolicy::Deny(i),
                    });
                    break 'policies;
                }
            }
        }
        for (i, block) in blocks.iter().enumerate().skip(1) {
            for (j, check) in block.code.checks.iter().enumerate() {
                if !self.check(check, i, trust, &block_trust[i])? {
                    failed.push(FailedCheck::Block {
                        block_id: i as u32,
                        check_id: j as u32,
                        rule: self.failed(check)?,
                    });
                }
            }
        }
        Ok(match policy {
            Some(MatchedPolicy::Allow(i)) if failed.is_empty() => Ok(i),
            None => Err(AuthError::NoMatchingPolicy { checks: failed }),
            Some(p) => Err(AuthError::Unauthorized {
                policy: p,
                checks: failed,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Algorithm, PublicKey};
    use crate::datalog::ast::{Binary, BlockCode, Expression, Op, Policy, Term, QUERY_HEAD};
    use std::time::Duration;

    fn s(x: &str) -> Term {
        Term::Str(x.to_string())
    }
    fn var(x: &str) -> Term {
        Term::Variable(x.to_string())
    }
    fn int(i: i64) -> Term {
        Term::Integer(i)
    }
    fn p(name: &str, terms: Vec<Term>) -> Predicate {
        Predicate {
            name: name.to_string(),
            terms,
        }
    }
    fn rule(head: Predicate, body: Vec<Predicate>) -> Rule {
        Rule {
            head,
            body,
            expressions: vec![],
            scopes: vec![],
        }
    }
    fn q(body: Vec<Predicate>) -> Rule {
        rule(p(QUERY_HEAD, vec![]), body)
    }
    fn with_expr(mut r: Rule, ops: Vec<Op>) -> Rule {
        r.expressions.push(Expression { ops });
        r
    }
    fn scoped(mut r: Rule, scopes: Vec<Scope>) -> Rule {
        r.scopes = scopes;
        r
    }
    fn check(kind: CheckKind, queries: Vec<Rule>) -> Check {
        Check { queries, kind }
    }
    fn check_if(body: Vec<Predicate>) -> Check {
        check(CheckKind::One, vec![q(body)])
    }
    fn block(facts: Vec<Predicate>, rules: Vec<Rule>, checks: Vec<Check>) -> Block {
        Block {
            code: BlockCode {
                facts,
                rules,
                checks,
                scopes: vec![],
            },
            symbols: vec![],
            public_keys: vec![],
            external_key: None,
            version: 6,
            context: None,
        }
    }
    fn allow_if_true() -> Policy {
        Policy {
            queries: vec![with_expr(q(vec![]), vec![Op::Value(Term::Bool(true))])],
            kind: PolicyKind::Allow,
        }
    }
    fn policy(kind: PolicyKind, body: Vec<Predicate>) -> Policy {
        Policy {
            queries: vec![q(body)],
            kind,
        }
    }
    fn authz(
        facts: Vec<Predicate>,
        rules: Vec<Rule>,
        checks: Vec<Check>,
        policies: Vec<Policy>,
    ) -> AuthorizerCode {
        AuthorizerCode {
            facts,
            rules,
            checks,
            policies,
        }
    }
    fn run_with(blocks: &[Block], code: &AuthorizerCode, limits: &RunLimits) -> Authorization {
        authorize(&AuthorizeInput {
            blocks,
            authorizer: code,
            limits,
            externs: None,
        })
    }
    fn run(blocks: &[Block], code: &AuthorizerCode) -> Authorization {
        run_with(blocks, code, &RunLimits::default())
    }
    fn origins(a: &Authorization, fact: &Predicate) -> Vec<Vec<usize>> {
        a.facts
            .iter()
            .filter(|(_, f)| f == fact)
            .map(|(o, _)| o.iter().copied().collect())
            .collect()
    }
    fn key(n: u8) -> PublicKey {
        // distinct valid keys: the public keys of the seeds [n; 32]
        crate::crypto::PrivateKey::from_bytes(Algorithm::Ed25519, &[n; 32])
            .expect("valid seed")
            .public()
    }

    fn basic_blocks() -> Vec<Block> {
        let b0 = block(
            vec![
                p("right", vec![s("file1"), s("read")]),
                p("right", vec![s("file2"), s("read")]),
                p("right", vec![s("file1"), s("write")]),
            ],
            vec![],
            vec![],
        );
        let b1 = block(
            vec![],
            vec![],
            vec![check_if(vec![
                p("resource", vec![var("0")]),
                p("operation", vec![s("read")]),
                p("right", vec![var("0"), s("read")]),
            ])],
        );
        vec![b0, b1]
    }

    #[test]
    fn failed_checks_are_rendered_within_the_budgets() {
        // 40 failing checks of 10 KB each: 4 KiB kept of each of the first
        // 16 (64 KiB), only the size of the others
        let long = s(&"x".repeat(10_000));
        let checks = (0..40)
            .map(|_| check_if(vec![p("nosuch", vec![long.clone()])]))
            .collect();
        let blocks = vec![block(vec![], vec![], checks)];
        let code = authz(vec![], vec![], vec![], vec![allow_if_true()]);
        let Err(AuthError::Unauthorized { checks, .. }) = run(&blocks, &code).result else {
            panic!("expected the checks to fail");
        };
        assert_eq!(checks.len(), 40);
        let full = "check if nosuch(\"".len() + 10_000 + "\")".len();
        let mut kept = 0;
        for (i, c) in checks.iter().enumerate() {
            let FailedCheck::Block { rule, .. } = c else {
                panic!("a block check")
            };
            assert!(
                rule.truncated && rule.bytes == full,
                "check {i}: {:?}",
                rule.bytes
            );
            let marker = format!(" ... [{} bytes, truncated]", full);
            assert!(rule.text.ends_with(&marker));
            let prefix = rule.text.len() - marker.len();
            assert_eq!(
                prefix,
                if i < 16 { FAILED_CHECK_BUDGET } else { 0 },
                "check {i}"
            );
            kept += prefix;
        }
        assert_eq!(kept, FAILED_CHECKS_BUDGET);
    }

    #[test]
    fn a_failed_check_of_62_mb_is_shown_cut() {
        // the issue 23 bomb: one check whose text is 62 MB (that rendering
        // charges the meter: print::tests::rendering_charges_the_meter)
        let big = s(&"A".repeat(24_000));
        let mut ops = vec![Op::Value(big.clone())];
        for _ in 0..2600 {
            ops.extend([Op::Value(big.clone()), Op::Binary(Binary::Add)]);
        }
        let bomb = with_expr(q(vec![p("nosuch", vec![var("x")])]), ops);
        let blocks = vec![block(
            vec![],
            vec![],
            vec![Check {
                queries: vec![bomb],
                kind: CheckKind::One,
            }],
        )];
        let code = authz(vec![], vec![], vec![], vec![allow_if_true()]);
        let Err(AuthError::Unauthorized { checks, .. }) = run(&blocks, &code).result else {
            panic!("expected the check to fail");
        };
        let FailedCheck::Block { rule, .. } = &checks[0] else {
            panic!("a block check")
        };
        assert!(rule.truncated && rule.bytes > 62_000_000);
        assert!(rule.text.len() < FAILED_CHECK_BUDGET + 40);
    }

    #[test]
    fn basic_token_unauthorized_then_allowed() {
        let blocks = basic_blocks();
        let code = authz(
            vec![p("resource", vec![s("file1")])],
            vec![],
            vec![],
            vec![allow_if_true()],
        );
        let a = run(&blocks, &code);
        assert_eq!(
            a.result,
            Err(AuthError::Unauthorized {
                policy: MatchedPolicy::Allow(0),
                checks: vec![FailedCheck::Block {
                    block_id: 1,
                    check_id: 0,
                    rule: "check if resource($0), operation(\"read\"), right($0, \"read\")".into(),
                }],
            })
        );
        assert_eq!(
            origins(&a, &p("resource", vec![s("file1")])),
            vec![vec![AUTHORIZER_ID]]
        );
        assert_eq!(
            origins(&a, &p("right", vec![s("file2"), s("read")])),
            vec![vec![0]]
        );
        assert_eq!(a.facts.len(), 4);

        let code = authz(
            vec![
                p("resource", vec![s("file1")]),
                p("operation", vec![s("read")]),
            ],
            vec![],
            vec![],
            vec![allow_if_true()],
        );
        assert_eq!(run(&blocks, &code).result, Ok(0));
        // and without any token block
        assert_eq!(run(&[], &code).result, Ok(0));
    }

    #[test]
    fn derived_facts_carry_origins() {
        // block 1 derives operation("read") from an authority fact: origin
        // {0, 1}, invisible to the authority's check (test019).
        let mut blocks = basic_blocks();
        blocks[0]
            .code
            .checks
            .push(check_if(vec![p("operation", vec![s("read")])]));
        blocks[1].code.checks.clear();
        blocks[1].code.rules.push(rule(
            p("operation", vec![s("read")]),
            vec![p("right", vec![var("x"), s("read")])],
        ));
        // an authorizer rule using authorizer and authority facts
        let code = authz(
            vec![p("resource", vec![s("file1")])],
            vec![
                rule(
                    p("can", vec![var("r")]),
                    vec![
                        p("resource", vec![var("r")]),
                        p("right", vec![var("r"), s("write")]),
                    ],
                ),
                with_expr(
                    rule(p("constant", vec![int(1)]), vec![]),
                    vec![Op::Value(Term::Bool(true))],
                ),
            ],
            vec![],
            vec![allow_if_true()],
        );
        let a = run(&blocks, &code);
        assert_eq!(
            origins(&a, &p("operation", vec![s("read")])),
            vec![vec![0, 1]]
        );
        assert_eq!(
            origins(&a, &p("can", vec![s("file1")])),
            vec![vec![0, AUTHORIZER_ID]]
        );
        assert_eq!(
            origins(&a, &p("constant", vec![int(1)])),
            vec![vec![AUTHORIZER_ID]]
        );
        match a.result {
            Err(AuthError::Unauthorized {
                policy: MatchedPolicy::Allow(0),
                checks,
            }) => {
                assert_eq!(
                    checks,
                    vec![FailedCheck::Block {
                        block_id: 0,
                        check_id: 0,
                        rule: "check if operation(\"read\")".into()
                    }]
                );
            }
            other => panic!("unexpected {:?}", other),
        }
    }

    #[test]
    fn same_fact_with_two_origins_is_stored_twice() {
        let blocks = vec![block(
            vec![p("a", vec![int(1)]), p("a", vec![int(1)])],
            vec![],
            vec![],
        )];
        let code = authz(
            vec![p("a", vec![int(1)])],
            vec![],
            vec![],
            vec![allow_if_true()],
        );
        let a = run(&blocks, &code);
        assert_eq!(
            origins(&a, &p("a", vec![int(1)])),
            vec![vec![0], vec![AUTHORIZER_ID]]
        );
    }

    #[test]
    fn constants_match_by_variant_and_facts_with_variables_never_match() {
        let blocks = vec![block(
            vec![p("d", vec![Term::Date(1)]), p("v", vec![var("x")])],
            vec![],
            vec![],
        )];
        let code = authz(
            vec![],
            vec![],
            vec![
                check_if(vec![p("d", vec![int(1)])]),
                check_if(vec![p("d", vec![Term::Date(1)])]),
                check_if(vec![p("v", vec![var("y")])]),
                check_if(vec![p("d", vec![var("y"), var("z")])]),
            ],
            vec![allow_if_true()],
        );
        match run(&blocks, &code).result {
            Err(AuthError::Unauthorized { checks, .. }) => {
                let ids: Vec<u32> = checks
                    .iter()
                    .map(|c| match c {
                        FailedCheck::Authorizer { check_id, .. } => *check_id,
                        _ => 99,
                    })
                    .collect();
                assert_eq!(ids, vec![0, 2, 3]);
            }
            other => panic!("unexpected {:?}", other),
        }
    }

    #[test]
    fn scopes_authority_previous_and_keys() {
        let k = key(1);
        let b0 = block(vec![p("f", vec![int(0)])], vec![], vec![]);
        let b1 = block(vec![p("f", vec![int(1)])], vec![], vec![]);
        let mut b2 = block(vec![p("f", vec![int(2)])], vec![], vec![]);
        b2.external_key = Some(k.clone());
        let mut b3 = block(vec![p("f", vec![int(3)])], vec![], vec![]);
        let all = |scopes: Vec<Scope>, expected: Vec<i64>| {
            // check all f($x) ... with $x in the expected set, and every one present
            // the authorizer's f(100) is always visible
            let set = Term::Set(expected.iter().chain(&[100]).map(|i| int(*i)).collect());
            let mut checks = vec![check(
                CheckKind::All,
                vec![scoped(
                    with_expr(
                        q(vec![p("f", vec![var("x")])]),
                        vec![
                            Op::Value(set),
                            Op::Value(var("x")),
                            Op::Binary(Binary::Contains),
                        ],
                    ),
                    scopes.clone(),
                )],
            )];
            for i in &expected {
                checks.push(check(
                    CheckKind::One,
                    vec![scoped(q(vec![p("f", vec![int(*i)])]), scopes.clone())],
                ));
            }
            checks
        };
        b3.code.checks = all(vec![], vec![0, 3]);
        b3.code
            .checks
            .extend(all(vec![Scope::Previous], vec![0, 1, 2, 3]));
        b3.code
            .checks
            .extend(all(vec![Scope::Authority], vec![0, 3]));
        b3.code
            .checks
            .extend(all(vec![Scope::PublicKey(k.clone())], vec![2, 3]));
        b3.code
            .checks
            .extend(all(vec![Scope::PublicKey(key(2))], vec![3]));
        b3.code.checks.extend(all(
            vec![Scope::PublicKey(k.clone()), Scope::Authority],
            vec![0, 2, 3],
        ));
        let mut b1b = b1.clone();
        b1b.code.checks = all(vec![Scope::Previous], vec![0, 1]);
        // block-level trusting replaces the default
        let mut b4 = block(vec![p("f", vec![int(4)])], vec![], vec![]);
        b4.code.scopes = vec![Scope::PublicKey(k.clone())];
        b4.code.checks = all(vec![], vec![2, 4]);
        b4.code
            .checks
            .extend(all(vec![Scope::Authority], vec![0, 4]));
        let blocks = vec![b0, b1b, b2, b3, b4];
        let mut code = authz(
            vec![p("f", vec![int(100)])],
            vec![],
            vec![],
            vec![allow_if_true()],
        );
        // the authorizer: default {0, A}; previous ignored; key scope
        code.checks = vec![
            check(CheckKind::One, vec![q(vec![p("f", vec![int(0)])])]),
            check(CheckKind::One, vec![q(vec![p("f", vec![int(100)])])]),
            check(
                CheckKind::One,
                vec![scoped(
                    q(vec![p("f", vec![int(2)])]),
                    vec![Scope::PublicKey(k.clone())],
                )],
            ),
        ];
        let a = run(&blocks, &code);
        assert_eq!(a.result, Ok(0), "{}", a.result.clone().unwrap_err());

        // failing variants
        code.checks = vec![
            check(CheckKind::One, vec![q(vec![p("f", vec![int(1)])])]),
            check(
                CheckKind::One,
                vec![scoped(q(vec![p("f", vec![int(0)])]), vec![Scope::Previous])],
            ),
            check(
                CheckKind::One,
                vec![scoped(
                    q(vec![p("f", vec![int(0)])]),
                    vec![Scope::PublicKey(k)],
                )],
            ),
        ];
        match run(&blocks, &code).result {
            Err(AuthError::Unauthorized { checks, .. }) => assert_eq!(checks.len(), 3),
            other => panic!("unexpected {:?}", other),
        }
    }

    #[test]
    fn rule_scopes_limit_what_rules_see() {
        // a rule in block 1 trusting only authority does not see block 2 or
        // its own... it does see its own block and the authorizer
        let b0 = block(vec![p("a", vec![int(0)])], vec![], vec![]);
        let b1 = block(
            vec![p("a", vec![int(1)])],
            vec![scoped(
                rule(p("seen", vec![var("x")]), vec![p("a", vec![var("x")])]),
                vec![Scope::Authority],
            )],
            vec![],
        );
        let b2 = block(vec![p("a", vec![int(2)])], vec![], vec![]);
        let code = authz(
            vec![p("a", vec![int(9)])],
            vec![],
            vec![],
            vec![allow_if_true()],
        );
        let a = run(&[b0, b1, b2], &code);
        let mut seen: Vec<(i64, Vec<usize>)> = a
            .facts
            .iter()
            .filter(|(_, f)| f.name == "seen")
            .map(|(o, f)| match f.terms[0] {
                Term::Integer(i) => (i, o.iter().copied().collect()),
                _ => unreachable!(),
            })
            .collect();
        seen.sort();
        assert_eq!(
            seen,
            vec![(0, vec![0, 1]), (1, vec![1]), (9, vec![1, AUTHORIZER_ID])]
        );
    }

    #[test]
    fn check_all_and_reject_if() {
        let blocks = vec![block(
            vec![p("n", vec![int(1)]), p("n", vec![int(2)])],
            vec![],
            vec![],
        )];
        let lt = |bound: i64| {
            vec![
                Op::Value(var("x")),
                Op::Value(int(bound)),
                Op::Binary(Binary::LessThan),
            ]
        };
        let code = authz(
            vec![],
            vec![],
            vec![
                // 0: all n < 3: passes
                check(
                    CheckKind::All,
                    vec![with_expr(q(vec![p("n", vec![var("x")])]), lt(3))],
                ),
                // 1: all n < 2: fails
                check(
                    CheckKind::All,
                    vec![with_expr(q(vec![p("n", vec![var("x")])]), lt(2))],
                ),
                // 2: all over zero matches: fails
                check(
                    CheckKind::All,
                    vec![with_expr(q(vec![p("missing", vec![var("x")])]), lt(2))],
                ),
                // 3: reject if n(2): fails
                check(CheckKind::Reject, vec![q(vec![p("n", vec![int(2)])])]),
                // 4: reject if n(5): passes
                check(CheckKind::Reject, vec![q(vec![p("n", vec![int(5)])])]),
                // 5: reject if n(1) or n(5): one query has no match → passes
                check(
                    CheckKind::Reject,
                    vec![q(vec![p("n", vec![int(1)])]), q(vec![p("n", vec![int(5)])])],
                ),
                // 6: reject if n(1) or n(2): every query matches → fails
                check(
                    CheckKind::Reject,
                    vec![q(vec![p("n", vec![int(1)])]), q(vec![p("n", vec![int(2)])])],
                ),
                // 7: check if n(5) or n(1): passes
                check(
                    CheckKind::One,
                    vec![q(vec![p("n", vec![int(5)])]), q(vec![p("n", vec![int(1)])])],
                ),
                // 8: check if with expression false for every match: fails
                check(
                    CheckKind::One,
                    vec![with_expr(q(vec![p("n", vec![var("x")])]), lt(0))],
                ),
            ],
            vec![allow_if_true()],
        );
        match run(&blocks, &code).result {
            Err(AuthError::Unauthorized {
                policy: MatchedPolicy::Allow(0),
                checks,
            }) => {
                let ids: Vec<u32> = checks
                    .iter()
                    .map(|c| match c {
                        FailedCheck::Authorizer { check_id, .. } => *check_id,
                        _ => 99,
                    })
                    .collect();
                assert_eq!(ids, vec![1, 2, 3, 6, 8]);
                match &checks[2] {
                    FailedCheck::Authorizer { rule, .. } => assert_eq!(rule, "reject if n(2)"),
                    _ => unreachable!(),
                }
            }
            other => panic!("unexpected {:?}", other),
        }
    }

    #[test]
    fn policies_and_check_order() {
        let mut blocks = basic_blocks();
        blocks[0]
            .code
            .checks
            .push(check_if(vec![p("nope", vec![])]));
        blocks[1].code.checks = vec![
            check_if(vec![p("nope1", vec![])]),
            check_if(vec![p("right", vec![s("file1"), s("read")])]),
        ];
        let mut b2 = block(vec![], vec![], vec![check_if(vec![p("nope2", vec![])])]);
        b2.version = 3;
        blocks.push(b2);
        let code = authz(
            vec![p("resource", vec![s("file1")])],
            vec![],
            vec![check_if(vec![p("nopeA", vec![])])],
            vec![
                policy(PolicyKind::Allow, vec![p("nothing", vec![])]),
                policy(PolicyKind::Deny, vec![p("resource", vec![s("file1")])]),
                allow_if_true(),
            ],
        );
        let a = run(&blocks, &code);
        assert_eq!(
            a.result,
            Err(AuthError::Unauthorized {
                policy: MatchedPolicy::Deny(1),
                checks: vec![
                    FailedCheck::Authorizer {
                        check_id: 0,
                        rule: "check if nopeA()".into()
                    },
                    FailedCheck::Block {
                        block_id: 0,
                        check_id: 0,
                        rule: "check if nope()".into()
                    },
                    FailedCheck::Block {
                        block_id: 1,
                        check_id: 0,
                        rule: "check if nope1()".into()
                    },
                    FailedCheck::Block {
                        block_id: 2,
                        check_id: 0,
                        rule: "check if nope2()".into()
                    },
                ],
            })
        );
        // deny without failures is still unauthorized
        let code = authz(
            vec![],
            vec![],
            vec![],
            vec![policy(PolicyKind::Deny, vec![]), allow_if_true()],
        );
        let deny_true = Policy {
            queries: vec![with_expr(q(vec![]), vec![Op::Value(Term::Bool(true))])],
            kind: PolicyKind::Deny,
        };
        let code2 = authz(vec![], vec![], vec![], vec![deny_true, allow_if_true()]);
        assert_eq!(
            run(&[], &code).result,
            Err(AuthError::Unauthorized {
                policy: MatchedPolicy::Deny(0),
                checks: vec![]
            })
        );
        assert_eq!(
            run(&[], &code2).result,
            Err(AuthError::Unauthorized {
                policy: MatchedPolicy::Deny(0),
                checks: vec![]
            })
        );
        // no policy at all
        let code = authz(vec![], vec![], vec![check_if(vec![p("x", vec![])])], vec![]);
        assert_eq!(
            run(&[], &code).result,
            Err(AuthError::NoMatchingPolicy {
                checks: vec![FailedCheck::Authorizer {
                    check_id: 0,
                    rule: "check if x()".into()
                }]
            })
        );
        // second allow policy index
        let code = authz(
            vec![],
            vec![],
            vec![],
            vec![
                policy(PolicyKind::Allow, vec![p("x", vec![])]),
                allow_if_true(),
            ],
        );
        assert_eq!(run(&[], &code).result, Ok(1));
    }

    #[test]
    fn invalid_block_rule_reports_block_zero() {
        let mut blocks = basic_blocks();
        // head variable only used in an expression: still invalid
        blocks[1].code.rules.push(with_expr(
            rule(
                p("operation", vec![var("unbound")]),
                vec![p("right", vec![var("x"), s("read")])],
            ),
            vec![
                Op::Value(var("unbound")),
                Op::Value(s("a")),
                Op::Binary(Binary::Equal),
            ],
        ));
        let code = authz(vec![], vec![], vec![], vec![allow_if_true()]);
        let a = run(&blocks, &code);
        assert_eq!(
            a.result,
            Err(AuthError::InvalidBlockRule(
                0,
                "operation($unbound) <- right($x, \"read\"), $unbound === \"a\"".to_string()
            ))
        );
        assert!(a.facts.is_empty());
    }

    #[test]
    fn expression_errors_abort() {
        let blocks = vec![block(vec![p("n", vec![int(1)])], vec![], vec![])];
        // during the fixpoint
        let code = authz(
            vec![],
            vec![with_expr(
                rule(p("m", vec![var("x")]), vec![p("n", vec![var("x")])]),
                vec![
                    Op::Value(var("x")),
                    Op::Value(int(0)),
                    Op::Binary(Binary::Div),
                    Op::Value(int(1)),
                    Op::Binary(Binary::Equal),
                ],
            )],
            vec![],
            vec![allow_if_true()],
        );
        assert_eq!(
            run(&blocks, &code).result,
            Err(AuthError::Execution(ExprError::DivideByZero))
        );
        // a non-boolean rule expression
        let code = authz(
            vec![],
            vec![with_expr(
                rule(p("m", vec![var("x")]), vec![p("n", vec![var("x")])]),
                vec![Op::Value(int(1))],
            )],
            vec![],
            vec![allow_if_true()],
        );
        assert_eq!(
            run(&blocks, &code).result,
            Err(AuthError::Execution(ExprError::InvalidType))
        );
        // unknown variable in a check, after another failed check: the error wins
        let code = authz(
            vec![],
            vec![],
            vec![
                check_if(vec![p("missing", vec![])]),
                check(
                    CheckKind::One,
                    vec![with_expr(
                        q(vec![p("n", vec![var("x")])]),
                        vec![Op::Value(var("y"))],
                    )],
                ),
            ],
            vec![allow_if_true()],
        );
        assert_eq!(
            run(&blocks, &code).result,
            Err(AuthError::Execution(ExprError::UnknownVariable("y".into())))
        );
        // in a policy
        let code = authz(
            vec![],
            vec![],
            vec![],
            vec![Policy {
                queries: vec![with_expr(
                    q(vec![]),
                    vec![
                        Op::Value(int(i64::MAX)),
                        Op::Value(int(1)),
                        Op::Binary(Binary::Add),
                        Op::Value(int(0)),
                        Op::Binary(Binary::LessThan),
                    ],
                )],
                kind: PolicyKind::Allow,
            }],
        );
        assert_eq!(
            run(&blocks, &code).result,
            Err(AuthError::Execution(ExprError::Overflow))
        );
        // in a block check: false && error is fine (lazy), and never reached
        let lazy = vec![
            Op::Value(Term::Bool(false)),
            Op::Closure(
                vec![],
                vec![
                    Op::Value(s("x")),
                    Op::Value(s("x")),
                    Op::Binary(Binary::Intersection),
                ],
            ),
            Op::Binary(Binary::LazyAnd),
            Op::Unary(crate::datalog::ast::Unary::Negate),
        ];
        let blocks2 = vec![block(
            vec![],
            vec![],
            vec![check(CheckKind::One, vec![with_expr(q(vec![]), lazy)])],
        )];
        let code = authz(vec![], vec![], vec![], vec![allow_if_true()]);
        assert_eq!(run(&blocks2, &code).result, Ok(0));
    }

    #[test]
    fn limits() {
        // cross product: 40 × 40 pairs > 1000 facts
        let facts: Vec<Predicate> = (0..40).map(|i| p("a", vec![int(i)])).collect();
        let blocks = vec![block(facts, vec![], vec![])];
        let code = authz(
            vec![],
            vec![rule(
                p("pair", vec![var("x"), var("y")]),
                vec![p("a", vec![var("x")]), p("a", vec![var("y")])],
            )],
            vec![],
            vec![allow_if_true()],
        );
        let a = run(&blocks, &code);
        assert_eq!(a.result, Err(AuthError::RunLimit(RunLimit::TooManyFacts)));
        assert!(a.facts.len() <= 1000, "stopped early: {}", a.facts.len());
        // a large initial set is not an error
        let facts: Vec<Predicate> = (0..1500).map(|i| p("a", vec![int(i)])).collect();
        let blocks = vec![block(facts, vec![], vec![])];
        let code = authz(vec![], vec![], vec![], vec![allow_if_true()]);
        assert_eq!(run(&blocks, &code).result, Ok(0));

        // a chain needing 150 iterations
        let mut facts: Vec<Predicate> = (0..150)
            .map(|i| p("edge", vec![int(i), int(i + 1)]))
            .collect();
        facts.push(p("reach", vec![int(0)]));
        let blocks = vec![block(facts, vec![], vec![])];
        let code = authz(
            vec![],
            vec![rule(
                p("reach", vec![var("y")]),
                vec![
                    p("reach", vec![var("x")]),
                    p("edge", vec![var("x"), var("y")]),
                ],
            )],
            vec![],
            vec![allow_if_true()],
        );
        let a = run(&blocks, &code);
        assert_eq!(
            a.result,
            Err(AuthError::RunLimit(RunLimit::TooManyIterations))
        );
        // exactly max_iterations growing iterations → error, one fewer → fine
        let limits = RunLimits {
            max_iterations: 150,
            ..RunLimits::default()
        };
        assert_eq!(
            run_with(&blocks, &code, &limits).result,
            Err(AuthError::RunLimit(RunLimit::TooManyIterations))
        );
        let limits = RunLimits {
            max_iterations: 151,
            ..RunLimits::default()
        };
        let a = run_with(&blocks, &code, &limits);
        assert_eq!(a.result, Ok(0));
        assert_eq!(
            a.facts.iter().filter(|(_, f)| f.name == "reach").count(),
            151
        );
        // time
        let limits = RunLimits {
            max_time: Duration::from_nanos(0),
            ..RunLimits::default()
        };
        assert_eq!(
            run_with(&blocks, &code, &limits).result,
            Err(AuthError::RunLimit(RunLimit::Timeout))
        );
        // facts limit applies to pairs
        let limits = RunLimits {
            max_facts: 160,
            max_iterations: 1000,
            ..RunLimits::default()
        };
        assert_eq!(
            run_with(&blocks, &code, &limits).result,
            Err(AuthError::RunLimit(RunLimit::TooManyFacts))
        );
    }

    #[test]
    fn semi_naive_matches_naive_closure() {
        // transitive closure of a graph with cycles, compared with a brute force
        let edges: Vec<(i64, i64)> = vec![
            (0, 1),
            (1, 2),
            (2, 0),
            (2, 3),
            (3, 4),
            (4, 5),
            (5, 3),
            (6, 7),
            (7, 6),
            (1, 6),
        ];
        let facts: Vec<Predicate> = edges
            .iter()
            .map(|(a, b)| p("edge", vec![int(*a), int(*b)]))
            .collect();
        let blocks = vec![block(facts, vec![], vec![])];
        let code = authz(
            vec![],
            vec![
                rule(
                    p("path", vec![var("x"), var("y")]),
                    vec![p("edge", vec![var("x"), var("y")])],
                ),
                rule(
                    p("path", vec![var("x"), var("z")]),
                    vec![
                        p("path", vec![var("x"), var("y")]),
                        p("path", vec![var("y"), var("z")]),
                    ],
                ),
            ],
            vec![],
            vec![allow_if_true()],
        );
        let a = run(&blocks, &code);
        assert_eq!(a.result, Ok(0));
        let mut reach = [[false; 8]; 8];
        for (x, y) in &edges {
            reach[*x as usize][*y as usize] = true;
        }
        for k in 0..8 {
            for i in 0..8 {
                for j in 0..8 {
                    if reach[i][k] && reach[k][j] {
                        reach[i][j] = true;
                    }
                }
            }
        }
        let expected = reach.iter().flatten().filter(|b| **b).count();
        let got = a.facts.iter().filter(|(_, f)| f.name == "path").count();
        assert_eq!(got, expected);
        // deterministic
        let b = run(&blocks, &code);
        assert_eq!(a.facts, b.facts);
    }

    #[test]
    fn huge_rule_bodies_are_refused() {
        let body: Vec<Predicate> = (0..10_000).map(|_| p("a", vec![var("x")])).collect();
        let blocks = vec![block(
            vec![p("a", vec![int(1)])],
            vec![],
            vec![check_if(body.clone())],
        )];
        let code = authz(vec![], vec![], vec![], vec![allow_if_true()]);
        assert_eq!(
            run(&blocks, &code).result,
            Err(AuthError::Execution(ExprError::InvalidStack))
        );
        let blocks = vec![block(
            vec![p("a", vec![int(1)])],
            vec![rule(p("b", vec![var("x")]), body)],
            vec![],
        )];
        assert_eq!(
            run(&blocks, &code).result,
            Err(AuthError::Execution(ExprError::InvalidStack))
        );
    }

    #[test]
    fn conformance_externs() {
        let blocks = vec![block(
            vec![],
            vec![],
            vec![check(
                CheckKind::One,
                vec![with_expr(
                    q(vec![]),
                    vec![
                        Op::Value(Term::Bool(true)),
                        Op::Unary(crate::datalog::ast::Unary::Ffi("test".into())),
                        Op::Value(s("a")),
                        Op::Value(s("a")),
                        Op::Binary(Binary::Ffi("test".into())),
                        Op::Value(s("equal strings")),
                        Op::Binary(Binary::HeterogeneousEqual),
                        Op::Binary(Binary::And),
                    ],
                )],
            )],
        )];
        let code = authz(vec![], vec![], vec![], vec![allow_if_true()]);
        let limits = RunLimits::default();
        let ext = crate::datalog::ConformanceExterns;
        let a = authorize(&AuthorizeInput {
            blocks: &blocks,
            authorizer: &code,
            limits: &limits,
            externs: Some(&ext),
        });
        assert_eq!(a.result, Ok(0));
    }

    struct Host;
    impl ExternFunctions for Host {
        fn call(&self, name: &str, left: &Term, _right: Option<&Term>) -> Result<Term, String> {
            match (name, left) {
                ("is_even", Term::Integer(i)) => Ok(Term::Bool(i % 2 == 0)),
                _ => Err("nope".into()),
            }
        }
    }

    #[test]
    fn externs_are_passed_through() {
        let blocks = vec![block(vec![p("n", vec![int(4)])], vec![], vec![])];
        let code = authz(
            vec![],
            vec![],
            vec![check(
                CheckKind::One,
                vec![with_expr(
                    q(vec![p("n", vec![var("x")])]),
                    vec![
                        Op::Value(var("x")),
                        Op::Unary(crate::datalog::ast::Unary::Ffi("is_even".into())),
                    ],
                )],
            )],
            vec![allow_if_true()],
        );
        let limits = RunLimits::default();
        let a = authorize(&AuthorizeInput {
            blocks: &blocks,
            authorizer: &code,
            limits: &limits,
            externs: Some(&Host),
        });
        assert_eq!(a.result, Ok(0));
        let a = authorize(&AuthorizeInput {
            blocks: &blocks,
            authorizer: &code,
            limits: &limits,
            externs: None,
        });
        assert_eq!(
            a.result,
            Err(AuthError::Execution(ExprError::UndefinedExtern(
                "is_even".into()
            )))
        );
    }

    /// A Hessra-like verification: ~10 facts, one rule, a few checks.
    #[test]
    fn hessra_sized_program_is_fast() {
        let b0 = block(
            vec![
                p("right", vec![s("alice"), s("res1"), s("read")]),
                p("right", vec![s("alice"), s("res1"), s("write")]),
            ],
            vec![],
            vec![
                check_if(vec![
                    p("subject", vec![var("s")]),
                    p("resource", vec![var("r")]),
                    p("operation", vec![var("o")]),
                    p("right", vec![var("s"), var("r"), var("o")]),
                ]),
                check(
                    CheckKind::One,
                    vec![with_expr(
                        q(vec![p("time", vec![var("t")])]),
                        vec![
                            Op::Value(var("t")),
                            Op::Value(int(2_000_000_000)),
                            Op::Binary(Binary::LessThan),
                        ],
                    )],
                ),
            ],
        );
        let blocks = vec![b0];
        let code = authz(
            vec![
                p("time", vec![int(1_700_000_000)]),
                p("resource", vec![s("res1")]),
                p("operation", vec![s("read")]),
            ],
            vec![rule(
                p("subject", vec![var("s")]),
                vec![p("right", vec![var("s"), s("res1"), s("read")])],
            )],
            vec![],
            vec![allow_if_true()],
        );
        assert_eq!(run(&blocks, &code).result, Ok(0));
        let n = 20000;
        let start = Instant::now();
        for _ in 0..n {
            assert_eq!(run(&blocks, &code).result, Ok(0));
        }
        let per = start.elapsed() / n;
        eprintln!("hessra-sized authorization: {:?} each", per);
        assert!(per < Duration::from_millis(1));
    }
}
