//! Hessra identity tokens (docs/DESIGN.md, "Identity tokens"): their shape,
//! the blocks that mint, delegate and time-limit them, and what "verify an
//! identity token for an actor" means. Learned from Hessra's SDK
//! (`hessra-token-identity`); our own code.
//!
//! The authority block of an identity token for `S` holds
//!
//! ```text
//! subject(S);
//! check if actor($a), $a == S;                                  // not delegatable
//! check if actor($a), $a == S || $a.starts_with(S + ":");       // delegatable
//! check if time($time), $time < EXPIRY;
//! check if domain(D);  subject($d, $s) <- domain($d), subject($s);   // domain-restricted
//! ```
//!
//! A delegation to `S:sub` is a third-party block signed by an ephemeral
//! key holding `check if actor($a), $a == S:sub || $a.starts_with(S:sub + ":")`
//! and a time bound; a just-in-time block holds only a (short) time bound.
//! Every check of every block must pass, so a delegation narrows the token
//! to its identity and the identities below it: the colon boundary keeps
//! `urn:hessra:alice2` out of `urn:hessra:alice`, and a token delegated to
//! `alice:laptop` serves neither `alice` nor `alice:phone`.
//!
//! Verification runs the blocks against the authorizer
//!
//! ```text
//! time(NOW - LEEWAY);
//! actor(IDENTITY);               // or, in bearer mode: actor($a) <- subject($a);
//! domain(D);                     // when given
//! allow if true;                 // or, when the subject must belong to the domain:
//!   allow if subject($d, $s), domain($d), subject($s);
//! ```
//!
//! Shapes are recognised from the Datalog structure (predicates and
//! expression trees), never from printed text.

use crate::datalog::{
    AuthorizerCode, Binary, Block, BlockCode, Check, CheckKind, Expression, Op, Policy, PolicyKind,
    Predicate, Rule, RunLimits, Term, Unary, QUERY_HEAD,
};
use std::fmt;

use crate::crypto::{Algorithm, PrivateKey, PublicKey};
use crate::hessra::{self, HessraFailure};
use crate::parser::{self, Params};
use crate::token::{create_third_party_block, Token, TokenError};

/// The separator below which an identity's delegated identities live.
pub const HIERARCHY_SEPARATOR: &str = ":";

// ---- recognising the shapes ---------------------------------------------------

/// What an actor check admits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActorRule {
    pub identity: String,
    /// `true`: also every identity below it (`identity:...`).
    pub hierarchical: bool,
}

impl ActorRule {
    /// Whether `actor` passes this check.
    pub fn admits(&self, actor: &str) -> bool {
        actor == self.identity
            || (self.hierarchical
                && actor
                    .strip_prefix(self.identity.as_str())
                    .is_some_and(|rest| rest.starts_with(HIERARCHY_SEPARATOR)))
    }
}

/// An expression as a tree (its postfix ops folded), for matching shapes.
enum Node<'a> {
    Leaf(&'a Term),
    Unary(&'a Unary, Box<Node<'a>>),
    Binary(&'a Binary, Box<Node<'a>>, Box<Node<'a>>),
}

/// The longest expression worth folding: the shapes recognised here have
/// at most a dozen ops, and a bound keeps a hostile expression (a long
/// chain of unary ops) from building a deep tree whose drop would recurse
/// as deep.
const MAX_SHAPE_OPS: usize = 32;

/// Folds postfix ops into a tree; a parameterless closure (the right side
/// of a lazy `||`/`&&`) becomes its body. `None` for anything else, and for
/// more than [`MAX_SHAPE_OPS`] ops.
fn tree(ops: &[Op]) -> Option<Node<'_>> {
    if ops.len() > MAX_SHAPE_OPS {
        return None;
    }
    let mut stack: Vec<Node<'_>> = Vec::new();
    for op in ops {
        let node = match op {
            Op::Value(t) => Node::Leaf(t),
            Op::Unary(u) => Node::Unary(u, Box::new(stack.pop()?)),
            Op::Binary(b) => {
                let right = stack.pop()?;
                let left = stack.pop()?;
                Node::Binary(b, Box::new(left), Box::new(right))
            }
            Op::Closure(params, body) if params.is_empty() => tree(body)?,
            Op::Closure(..) => return None,
        };
        stack.push(node);
    }
    let root = stack.pop()?;
    stack.is_empty().then_some(root)
}

/// The node without surrounding parentheses.
fn bare<'n, 'a>(mut node: &'n Node<'a>) -> &'n Node<'a> {
    while let Node::Unary(Unary::Parens, inner) = node {
        node = inner;
    }
    node
}

fn is_var(node: &Node<'_>, var: &str) -> bool {
    matches!(bare(node), Node::Leaf(Term::Variable(v)) if v == var)
}

fn string<'a>(node: &Node<'a>) -> Option<&'a str> {
    match bare(node) {
        Node::Leaf(Term::Str(s)) => Some(s),
        _ => None,
    }
}

/// `$var == "X"` (either equality) → `X`.
fn equality(node: &Node<'_>, var: &str) -> Option<String> {
    match bare(node) {
        Node::Binary(Binary::Equal | Binary::HeterogeneousEqual, l, r) if is_var(l, var) => {
            string(r).map(String::from)
        }
        _ => None,
    }
}

/// `$var.starts_with("X" + ":")` → `X`.
fn below(node: &Node<'_>, var: &str) -> Option<String> {
    let Node::Binary(Binary::Prefix, l, r) = bare(node) else {
        return None;
    };
    if !is_var(l, var) {
        return None;
    }
    match bare(r) {
        Node::Binary(Binary::Add, x, sep) if string(sep) == Some(HIERARCHY_SEPARATOR) => {
            string(x).map(String::from)
        }
        _ => None,
    }
}

/// The actor rule of a check shaped `check if actor($a), $a == X` or
/// `check if actor($a), $a == X || $a.starts_with(X + ":")` (lazy or strict
/// `||`); `None` for any other check.
pub fn actor_rule(check: &Check) -> Option<ActorRule> {
    let [query] = check.queries.as_slice() else {
        return None;
    };
    if check.kind != CheckKind::One || !query.scopes.is_empty() {
        return None;
    }
    let [p] = query.body.as_slice() else {
        return None;
    };
    let [Term::Variable(var)] = p.terms.as_slice() else {
        return None;
    };
    let [e] = query.expressions.as_slice() else {
        return None;
    };
    if p.name != "actor" {
        return None;
    }
    let root = tree(&e.ops)?;
    if let Some(identity) = equality(&root, var) {
        return Some(ActorRule {
            identity,
            hierarchical: false,
        });
    }
    match bare(&root) {
        Node::Binary(Binary::LazyOr | Binary::Or, l, r) => {
            let identity = equality(l, var)?;
            (below(r, var)? == identity).then_some(ActorRule {
                identity,
                hierarchical: true,
            })
        }
        _ => None,
    }
}

/// The actor rules of a block's checks.
pub fn actor_rules(code: &BlockCode) -> Vec<ActorRule> {
    code.checks.iter().filter_map(actor_rule).collect()
}

/// `D` of a check `check if domain(D)`.
pub(crate) fn domain_check(check: &Check) -> Option<&str> {
    let [query] = check.queries.as_slice() else {
        return None;
    };
    match (query.body.as_slice(), query.expressions.is_empty()) {
        ([p], true) if p.name == "domain" => match p.terms.as_slice() {
            [Term::Str(d)] => Some(d),
            _ => None,
        },
        _ => None,
    }
}

/// An identity token, as its blocks describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityShape {
    /// The authority block's `subject(S)`.
    pub subject: String,
    /// Its actor check admits identities below the subject.
    pub delegatable: bool,
    /// Its `check if domain(D)`.
    pub domain: Option<String>,
    /// Each later block that restricts the actor: its index and identity,
    /// in block order.
    pub delegations: Vec<(usize, String)>,
}

impl IdentityShape {
    /// Reads the shape; `None` unless the authority block holds exactly one
    /// `subject(S)` fact and an actor check (that is what makes an identity
    /// token: without the actor check any actor would pass).
    pub fn read(blocks: &[Block]) -> Option<IdentityShape> {
        let authority = &blocks.first()?.code;
        let mut subjects = authority
            .facts
            .iter()
            .filter(|f| f.name == "subject" && f.terms.len() == 1);
        let subject = match (subjects.next(), subjects.next()) {
            (Some(Predicate { terms, .. }), None) => match terms.as_slice() {
                [Term::Str(s)] => s.clone(),
                _ => return None,
            },
            _ => return None,
        };
        let rules = actor_rules(authority);
        if rules.is_empty() {
            return None;
        }
        let delegations = blocks
            .iter()
            .enumerate()
            .skip(1)
            .filter_map(|(i, b)| actor_rules(&b.code).pop().map(|r| (i, r.identity)))
            .collect();
        Some(IdentityShape {
            delegatable: rules
                .iter()
                .any(|r| r.hierarchical && r.identity == subject),
            domain: authority
                .checks
                .iter()
                .find_map(domain_check)
                .map(String::from),
            subject,
            delegations,
        })
    }

    /// The identity the token is delegated to: the last delegation's, or
    /// the subject when it is not delegated.
    pub fn narrowest(&self) -> &str {
        self.delegations
            .last()
            .map_or(self.subject.as_str(), |(_, id)| id.as_str())
    }
}

// ---- the blocks (minting) ------------------------------------------------------

/// What an identity token's authority block says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdentityMint {
    pub subject: String,
    pub delegatable: bool,
    pub domain: Option<String>,
    /// Unix seconds.
    pub expires_at: i64,
}

fn block(source: &str, params: Params) -> BlockCode {
    // The sources are constants and every value is a parameter: they parse.
    parser::parse_block_with_params(source, &params).expect("identity block source parses")
}

fn params<const N: usize>(pairs: [(&str, Term); N]) -> Params {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// The authority block of an identity token (see the module documentation).
pub fn authority_block(m: &IdentityMint) -> BlockCode {
    let actor = if m.delegatable {
        r#"check if actor($a), $a == {subject} || $a.starts_with({subject} + ":");"#
    } else {
        "check if actor($a), $a == {subject};"
    };
    let mut source = format!(
        "subject({{subject}});\n{}\ncheck if time($time), $time < {{expiration}};\n",
        actor
    );
    let mut p = params([
        ("subject", Term::Str(m.subject.clone())),
        ("expiration", Term::Integer(m.expires_at)),
    ]);
    if let Some(d) = &m.domain {
        source
            .push_str("check if domain({domain});\nsubject($d, $s) <- domain($d), subject($s);\n");
        p.insert("domain".into(), Term::Str(d.clone()));
    }
    block(&source, p)
}

/// The block delegating a token to `identity` until `expires_at`.
pub fn delegation_block(identity: &str, expires_at: i64) -> BlockCode {
    block(
        r#"check if actor($a), $a == {identity} || $a.starts_with({identity} + ":");
           check if time($time), $time < {expiration};"#,
        params([
            ("identity", Term::Str(identity.to_string())),
            ("expiration", Term::Integer(expires_at)),
        ]),
    )
}

/// The just-in-time block: the token serves until `expires_at` only.
pub fn jit_block(expires_at: i64) -> BlockCode {
    block(
        "check if time($time), $time < {expiration};",
        params([("expiration", Term::Integer(expires_at))]),
    )
}

/// Why an identity token could not be minted, delegated or time-limited.
#[derive(Clone, Debug, PartialEq)]
pub enum IdentityError {
    /// The token (or a key) is unusable.
    Token(TokenError),
    /// Not an identity token.
    NotIdentity,
    /// The delegated token would not verify for its identity now (the
    /// token is not delegatable, the identity is not below the current
    /// one, or the token expired).
    Refused {
        identity: String,
        failure: HessraFailure,
    },
}

impl fmt::Display for IdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdentityError::Token(e) => write!(f, "{}", e),
            IdentityError::NotIdentity => write!(
                f,
                "not an identity token (its authority block has no subject fact with an actor check)"
            ),
            IdentityError::Refused { identity, failure } => write!(
                f,
                "cannot delegate to {:?}: the delegated token would not verify for it ({}); delegate only to an identity below the token's own (its identity, then \":\" and more), from a delegatable token that has not expired",
                identity, failure
            ),
        }
    }
}

impl std::error::Error for IdentityError {}

/// Mints an identity token.
pub fn mint(
    root: &PrivateKey,
    m: &IdentityMint,
    root_key_id: Option<u32>,
) -> Result<Token, IdentityError> {
    Token::mint(root, &authority_block(m), root_key_id).map_err(IdentityError::Token)
}

/// Appends `code` as a third-party block signed by a fresh ephemeral key
/// (thrown away afterwards: nobody can sign for it again).
fn append_ephemeral(
    token: &Token,
    root: &PublicKey,
    code: &BlockCode,
) -> Result<Token, IdentityError> {
    let ephemeral = PrivateKey::generate(Algorithm::Ed25519)
        .map_err(|e| IdentityError::Token(TokenError::Crypto(e.to_string())))?;
    let request = token.third_party_request().map_err(IdentityError::Token)?;
    let contents =
        create_third_party_block(&request, &ephemeral, code).map_err(IdentityError::Token)?;
    token
        .append_third_party(root, &contents)
        .map_err(IdentityError::Token)
}

/// The token's blocks, signatures checked, if it is an identity token.
fn identity_blocks(token: &Token, root: &PublicKey) -> Result<Vec<Block>, IdentityError> {
    let blocks = token.verify(root).map_err(IdentityError::Token)?.blocks;
    match IdentityShape::read(&blocks) {
        Some(_) => Ok(blocks),
        None => Err(IdentityError::NotIdentity),
    }
}

/// Delegates an identity token to `identity` until `expires_at`, and
/// checks (as Hessra's SDK does) that the result verifies for `identity`
/// at `now`, so a delegation nobody could use is refused, not issued.
pub fn delegate(
    token: &Token,
    root: &PublicKey,
    identity: &str,
    expires_at: i64,
    now: i64,
) -> Result<Token, IdentityError> {
    identity_blocks(token, root)?;
    let delegated = append_ephemeral(token, root, &delegation_block(identity, expires_at))?;
    let blocks = delegated.verify(root).map_err(IdentityError::Token)?.blocks;
    let req = IdentityVerifyRequest {
        actor: Actor::Given(identity.to_string()),
        domain: None,
        subject_in_domain: false,
        now,
        leeway_seconds: 0,
    };
    // A domain-restricted token needs its domain to verify: supply it.
    let req = IdentityVerifyRequest {
        domain: IdentityShape::read(&blocks).and_then(|s| s.domain),
        ..req
    };
    match verify_blocks(&blocks, &req, &RunLimits::default()) {
        Ok(()) => Ok(delegated),
        Err(failure) => Err(IdentityError::Refused {
            identity: identity.to_string(),
            failure,
        }),
    }
}

/// Limits an identity token to `expires_at` (a just-in-time token).
pub fn jit(token: &Token, root: &PublicKey, expires_at: i64) -> Result<Token, IdentityError> {
    identity_blocks(token, root)?;
    append_ephemeral(token, root, &jit_block(expires_at))
}

// ---- verification --------------------------------------------------------------

/// Who the token must prove to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// This identity.
    Given(String),
    /// Bearer mode: whoever its subject is (`actor($a) <- subject($a)`).
    /// A delegated token does not verify this way: its subject is not its
    /// delegated identity.
    Bearer,
}

/// What to verify an identity token for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityVerifyRequest {
    pub actor: Actor,
    pub domain: Option<String>,
    /// The token's subject must belong to `domain` (a domain-restricted
    /// token minted for it).
    pub subject_in_domain: bool,
    /// Unix seconds.
    pub now: i64,
    /// Time bounds are checked against `now - leeway`.
    pub leeway_seconds: i64,
}

fn pred(name: &str, terms: Vec<Term>) -> Predicate {
    Predicate {
        name: name.to_string(),
        terms,
    }
}

fn var(v: &str) -> Term {
    Term::Variable(v.to_string())
}

fn allow(body: Vec<Predicate>, expressions: Vec<Expression>) -> Policy {
    Policy {
        queries: vec![Rule {
            head: pred(QUERY_HEAD, vec![]),
            body,
            expressions,
            scopes: vec![],
        }],
        kind: PolicyKind::Allow,
    }
}

/// The authorizer for a request (see the module documentation).
pub fn build_authorizer(req: &IdentityVerifyRequest) -> AuthorizerCode {
    let mut code = AuthorizerCode::default();
    code.facts.push(pred(
        "time",
        vec![Term::Integer(
            req.now.saturating_sub(req.leeway_seconds.max(0)),
        )],
    ));
    match &req.actor {
        Actor::Given(identity) => code
            .facts
            .push(pred("actor", vec![Term::Str(identity.clone())])),
        Actor::Bearer => code.rules.push(Rule {
            head: pred("actor", vec![var("a")]),
            body: vec![pred("subject", vec![var("a")])],
            expressions: vec![],
            scopes: vec![],
        }),
    }
    if let Some(d) = &req.domain {
        code.facts.push(pred("domain", vec![Term::Str(d.clone())]));
    }
    code.policies.push(if req.subject_in_domain {
        allow(
            vec![
                pred("subject", vec![var("d"), var("s")]),
                pred("domain", vec![var("d")]),
                pred("subject", vec![var("s")]),
            ],
            vec![],
        )
    } else {
        allow(
            vec![],
            vec![Expression {
                ops: vec![Op::Value(Term::Bool(true))],
            }],
        )
    });
    code
}

/// Verifies the decoded blocks (whose signatures the caller has checked)
/// of an identity token.
pub fn verify_blocks(
    blocks: &[Block],
    req: &IdentityVerifyRequest,
    limits: &RunLimits,
) -> Result<(), HessraFailure> {
    hessra::run_authorizer(blocks, &build_authorizer(req), limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_151_200;
    const ALICE: &str = "urn:hessra:alice";

    fn key() -> PrivateKey {
        PrivateKey::generate(Algorithm::Ed25519).unwrap()
    }

    fn mint(root: &PrivateKey, delegatable: bool, domain: Option<&str>) -> Token {
        let m = IdentityMint {
            subject: ALICE.into(),
            delegatable,
            domain: domain.map(String::from),
            expires_at: NOW + 3600,
        };
        Token::mint(root, &authority_block(&m), None).unwrap()
    }

    /// Appends `code` as a third-party block signed by a fresh key.
    fn third_party(token: &Token, root: &PrivateKey, code: &BlockCode) -> Token {
        let request = token.third_party_request().unwrap();
        let contents = create_third_party_block(&request, &key(), code).unwrap();
        token.append_third_party(&root.public(), &contents).unwrap()
    }

    fn req(actor: Actor) -> IdentityVerifyRequest {
        IdentityVerifyRequest {
            actor,
            domain: None,
            subject_in_domain: false,
            now: NOW,
            leeway_seconds: 0,
        }
    }

    fn given(id: &str) -> IdentityVerifyRequest {
        req(Actor::Given(id.into()))
    }

    fn check(
        token: &Token,
        root: &PrivateKey,
        r: &IdentityVerifyRequest,
    ) -> Result<(), HessraFailure> {
        let vt = token.verify(&root.public()).unwrap();
        verify_blocks(&vt.blocks, r, &RunLimits::default())
    }

    #[test]
    fn base_tokens_and_the_prefix_attack() {
        let root = key();
        let strict = mint(&root, false, None);
        assert_eq!(check(&strict, &root, &given(ALICE)), Ok(()));
        assert_eq!(check(&strict, &root, &req(Actor::Bearer)), Ok(()));
        for other in [
            "urn:hessra:alice2",
            "urn:hessra:alice:laptop",
            "urn:hessra:bob",
            "",
        ] {
            assert!(
                matches!(
                    check(&strict, &root, &given(other)),
                    Err(HessraFailure::Denied { .. })
                ),
                "{other}"
            );
        }
        let delegatable = mint(&root, true, None);
        assert_eq!(check(&delegatable, &root, &given(ALICE)), Ok(()));
        assert_eq!(
            check(&delegatable, &root, &given("urn:hessra:alice:laptop")),
            Ok(())
        );
        for other in [
            "urn:hessra:alice2",
            "urn:hessra:alic",
            "urn:hessra:bob:alice",
        ] {
            assert!(
                check(&delegatable, &root, &given(other)).is_err(),
                "{other}"
            );
        }
    }

    #[test]
    fn expiry_is_reported_as_such() {
        let root = key();
        let t = mint(&root, false, None);
        let mut r = given(ALICE);
        r.now = NOW + 3600;
        match check(&t, &root, &r) {
            Err(HessraFailure::Expired { bound, .. }) => assert_eq!(bound, NOW + 3600),
            other => panic!("{other:?}"),
        }
        r.leeway_seconds = 1;
        assert_eq!(check(&t, &root, &r), Ok(()));
    }

    #[test]
    fn delegation_narrows_and_refuses_siblings_and_delegators() {
        let root = key();
        let base = mint(&root, true, None);
        let laptop = third_party(
            &base,
            &root,
            &delegation_block("urn:hessra:alice:laptop", NOW + 60),
        );
        assert_eq!(
            check(&laptop, &root, &given("urn:hessra:alice:laptop")),
            Ok(())
        );
        assert_eq!(
            check(&laptop, &root, &given("urn:hessra:alice:laptop:chrome")),
            Ok(())
        );
        for refused in [
            ALICE,
            "urn:hessra:alice:phone",
            "urn:hessra:alice:laptop2",
            "urn:hessra:alice2",
        ] {
            match check(&laptop, &root, &given(refused)) {
                Err(HessraFailure::Denied { failed }) => {
                    assert!(
                        failed.iter().any(|c| matches!(
                            c,
                            crate::datalog::FailedCheck::Block {
                                block_id: 1,
                                check_id: 0,
                                ..
                            }
                        )),
                        "{refused}: {failed:?}"
                    );
                }
                other => panic!("{refused}: {other:?}"),
            }
        }
        // Bearer mode proves the subject, which the delegation refuses.
        assert!(check(&laptop, &root, &req(Actor::Bearer)).is_err());

        // Two levels.
        let chrome = third_party(
            &laptop,
            &root,
            &delegation_block("urn:hessra:alice:laptop:chrome", NOW + 60),
        );
        assert_eq!(
            check(&chrome, &root, &given("urn:hessra:alice:laptop:chrome")),
            Ok(())
        );
        assert!(check(&chrome, &root, &given("urn:hessra:alice:laptop")).is_err());
        let shape = IdentityShape::read(&chrome.verify(&root.public()).unwrap().blocks).unwrap();
        assert_eq!(shape.narrowest(), "urn:hessra:alice:laptop:chrome");
        assert_eq!(shape.delegations.len(), 2);
        assert!(shape.delegatable);

        // An expired delegation block expires the token.
        let mut later = given("urn:hessra:alice:laptop");
        later.now = NOW + 60;
        match check(&laptop, &root, &later) {
            Err(HessraFailure::Expired { bound, failed }) => {
                assert_eq!(bound, NOW + 60);
                assert!(matches!(
                    failed[0],
                    crate::datalog::FailedCheck::Block { block_id: 1, .. }
                ));
            }
            other => panic!("{other:?}"),
        }

        // A non-delegatable token cannot be delegated: nobody passes both.
        let strict = mint(&root, false, None);
        let d = third_party(
            &strict,
            &root,
            &delegation_block("urn:hessra:alice:laptop", NOW + 60),
        );
        assert!(check(&d, &root, &given("urn:hessra:alice:laptop")).is_err());
        assert!(check(&d, &root, &given(ALICE)).is_err());
    }

    #[test]
    fn delegate_refuses_what_nobody_could_use() {
        let root = key();
        let public = root.public();
        let base = mint(&root, true, Some("example.com"));
        let laptop = delegate(&base, &public, "urn:hessra:alice:laptop", NOW + 60, NOW).unwrap();
        let blocks = laptop.verify(&public).unwrap().blocks;
        assert!(blocks[1].external_key.is_some(), "a third-party block");
        assert_eq!(
            IdentityShape::read(&blocks).unwrap().narrowest(),
            "urn:hessra:alice:laptop"
        );
        // sibling, delegator, prefix attack, non-delegatable, expired
        for (from, to, now) in [
            (&laptop, "urn:hessra:alice:phone", NOW),
            (&laptop, ALICE, NOW),
            (&base, "urn:hessra:alice2", NOW),
            (&base, "urn:hessra:alice:laptop", NOW + 3600),
        ] {
            match delegate(from, &public, to, NOW + 7200, now) {
                Err(e @ IdentityError::Refused { .. }) => {
                    assert!(e.to_string().contains(to), "{e}")
                }
                other => panic!("{to}: {other:?}"),
            }
        }
        let strict = mint(&root, false, None);
        assert!(matches!(
            delegate(&strict, &public, "urn:hessra:alice:laptop", NOW + 60, NOW),
            Err(IdentityError::Refused { .. })
        ));
        // Not an identity token; the wrong root key.
        let authz = Token::mint(
            &root,
            &parser::parse_block(r#"right("a","b","c");"#).unwrap(),
            None,
        )
        .unwrap();
        assert_eq!(
            delegate(&authz, &public, "x", NOW + 60, NOW).unwrap_err(),
            IdentityError::NotIdentity
        );
        assert_eq!(
            jit(&authz, &public, NOW + 5).unwrap_err(),
            IdentityError::NotIdentity
        );
        assert!(matches!(
            jit(&base, &key().public(), NOW + 5),
            Err(IdentityError::Token(_))
        ));
    }

    #[test]
    fn jit_blocks_shorten_the_life() {
        let root = key();
        let base = mint(&root, true, None);
        let jit = third_party(&base, &root, &jit_block(NOW + 5));
        assert_eq!(check(&jit, &root, &given(ALICE)), Ok(()));
        let mut later = given(ALICE);
        later.now = NOW + 5;
        assert!(matches!(
            check(&jit, &root, &later),
            Err(HessraFailure::Expired { bound, .. }) if bound == NOW + 5
        ));
        assert_eq!(check(&base, &root, &later), Ok(()));
        let shape = IdentityShape::read(&jit.decode_unverified().unwrap()).unwrap();
        assert!(shape.delegations.is_empty());
        assert_eq!(shape.narrowest(), ALICE);
    }

    #[test]
    fn domain_restriction() {
        let root = key();
        let t = mint(&root, false, Some("example.com"));
        let shape = IdentityShape::read(&t.decode_unverified().unwrap()).unwrap();
        assert_eq!(shape.domain.as_deref(), Some("example.com"));
        // Without the domain fact the check fails; with another one too.
        assert!(check(&t, &root, &given(ALICE)).is_err());
        let mut r = given(ALICE);
        r.domain = Some("other.com".into());
        assert!(check(&t, &root, &r).is_err());
        r.domain = Some("example.com".into());
        assert_eq!(check(&t, &root, &r), Ok(()));
        r.subject_in_domain = true;
        assert_eq!(check(&t, &root, &r), Ok(()));
        // A token without a domain restriction does not belong to any domain.
        let free = mint(&root, false, None);
        assert_eq!(
            check(&free, &root, &{
                let mut r = given(ALICE);
                r.domain = Some("example.com".into());
                r
            }),
            Ok(())
        );
        match check(&free, &root, &r) {
            Err(HessraFailure::Denied { failed }) => assert!(failed.is_empty()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn recognising_actor_checks() {
        let rule = |src: &str| actor_rule(&parser::parse_check(src).unwrap());
        let exact = Some(ActorRule {
            identity: "a".into(),
            hierarchical: false,
        });
        let below = Some(ActorRule {
            identity: "a".into(),
            hierarchical: true,
        });
        assert_eq!(rule(r#"check if actor($a), $a == "a""#), exact);
        assert_eq!(rule(r#"check if actor($x), $x === "a""#), exact);
        assert_eq!(
            rule(r#"check if actor($a), $a == "a" || $a.starts_with("a" + ":")"#),
            below
        );
        assert_eq!(
            rule(r#"check if actor($a), ($a == "a") || ($a.starts_with(("a" + ":")))"#),
            below
        );
        for not_one in [
            r#"check if actor($a), $a == "a" || $a.starts_with("b" + ":")"#,
            r#"check if actor($a), $a == "a" || $a.starts_with("a" + "/")"#,
            r#"check if actor($a), $a == "a" || $a.starts_with("a")"#,
            r#"check if actor($a), $a != "a""#,
            r#"check if actor($a), $b == "a""#,
            r#"check if actor($a), subject($a)"#,
            r#"check if user($a), $a == "a""#,
            r#"check all actor($a), $a == "a""#,
            r#"check if actor($a), $a == "a", $a == "a""#,
        ] {
            assert_eq!(rule(not_one), None, "{not_one}");
        }
        // A long expression is not a shape (and builds no deep tree).
        let mut long = parser::parse_check(r#"check if actor($a), $a == "a""#).unwrap();
        let ops = &mut long.queries[0].expressions[0].ops;
        ops.extend(std::iter::repeat_n(Op::Unary(Unary::Parens), 100_000));
        assert_eq!(actor_rule(&long), None);
        // The strict `||` of older blocks (Datalog 3.0/3.1).
        let mut c = parser::parse_check(r#"check if actor($a), $a == "a""#).unwrap();
        let ops = &mut c.queries[0].expressions[0].ops;
        ops.extend([
            Op::Value(var("a")),
            Op::Value(Term::Str("a".into())),
            Op::Value(Term::Str(":".into())),
            Op::Binary(Binary::Add),
            Op::Binary(Binary::Prefix),
            Op::Binary(Binary::Or),
        ]);
        assert_eq!(actor_rule(&c), below);
        assert!(below.as_ref().unwrap().admits("a:b"));
        assert!(!below.as_ref().unwrap().admits("ab"));
    }

    #[test]
    fn only_identity_tokens_have_an_identity_shape() {
        let root = key();
        let authz = crate::hessra::authority_block(&crate::hessra::MintRequest {
            subject: "alice".into(),
            resource: "r".into(),
            operations: vec!["read".into()],
            ..Default::default()
        });
        let t = Token::mint(&root, &authz, None).unwrap();
        assert_eq!(IdentityShape::read(&t.decode_unverified().unwrap()), None);
        // A subject without an actor check would prove any identity: not one.
        let bare = parser::parse_block(r#"subject("alice");"#).unwrap();
        let t = Token::mint(&root, &bare, None).unwrap();
        assert_eq!(IdentityShape::read(&t.decode_unverified().unwrap()), None);
    }
}
