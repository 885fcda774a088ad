//! The Hessra verification rules (docs/DESIGN.md, "Hessra verification rules"):
//! what "verify a Hessra token" means, the Hessra token shape for minting,
//! and the extraction of rights, expiry and service nodes for inspection.
//!
//! A Hessra token's authority block holds
//!
//! ```text
//! right("alice", "orders", "read");
//! node($s, "auth_service") <- service($s) trusting ed25519/<node key>;   // one per service node
//! check if subject($s), resource($r), operation($o), right($s, $r, $o);
//! check if time($t), $t < 1764151200;                                      // integer unix seconds
//! check if domain("example.com");                                          // optional
//! ```
//!
//! and verification runs it against an authorizer built here directly as an
//! AST (no text parsing on the hot path):
//!
//! ```text
//! time(NOW - LEEWAY);            // integer unix seconds; leeway moves "now" back
//! resource(R);
//! subject(S);                    // identity mode, or in capability mode:
//!   subject($s) <- right($s, R, O);
//! operation(O);                  // or, when no operation is given:
//!   operation($o) <- right(S, R, $o);
//! domain(D); prefix(P);          // when given
//! check if node(R, C) trusting authority, NODE_KEY;   // each service node before `component`
//! allow if true;
//! ```
//!
//! Leeway: a check `time($t), $t < EXPIRY` passes while `now - leeway < EXPIRY`,
//! i.e. a token is accepted up to `leeway` seconds after it expired. Every
//! time bound in every block is shifted the same way.

use std::fmt;

use crate::config::ServiceNode;
use crate::datalog::{
    self, AuthError, AuthorizeInput, AuthorizerCode, Binary, Block, BlockCode, Check, CheckKind,
    ExprError, Expression, FailedCheck, MatchedPolicy, Op, Policy, PolicyKind, Predicate, Rule,
    RunLimit, RunLimits, Scope, Term, QUERY_HEAD,
};
use crate::token::VerifiedToken;

/// What to verify a token for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyRequest {
    /// `None`: capability mode (the subject is whoever the token grants).
    pub subject: Option<String>,
    pub resource: String,
    /// `None`: accept any operation the token grants on the resource.
    pub operation: Option<String>,
    pub domain: Option<String>,
    pub prefix: Option<String>,
    /// Unix seconds.
    pub now: i64,
    /// Tolerated clock skew: time bounds are checked against `now - leeway`.
    pub leeway_seconds: i64,
    pub service_chain: Vec<ServiceNode>,
    /// The component doing the verification: only the nodes before it in the
    /// chain must have attested. `None`: every node.
    pub component: Option<String>,
}

/// Why a verification failed.
#[derive(Clone, Debug, PartialEq)]
pub enum HessraFailure {
    /// The request itself is unusable (e.g. an unknown component).
    InvalidRequest(String),
    /// Every failed check is a time bound; `bound` is the earliest one.
    Expired {
        bound: i64,
        failed: Vec<FailedCheck>,
    },
    /// Some check failed (or no policy matched).
    Denied { failed: Vec<FailedCheck> },
    /// A Datalog run limit was hit.
    Limit(RunLimit),
    /// An expression failed to evaluate.
    Execution(ExprError),
    /// A block rule is invalid (a head variable is unbound).
    InvalidBlockRule(u32, String),
}

impl fmt::Display for HessraFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HessraFailure::InvalidRequest(m) => write!(f, "invalid request: {}", m),
            HessraFailure::Expired { bound, failed } => {
                write!(
                    f,
                    "expired at {} (unix {})",
                    crate::datalog::print::rfc3339(*bound),
                    bound
                )?;
                crate::datalog::authorizer::write_check_list(f, ": ", failed)
            }
            HessraFailure::Denied { failed } if failed.is_empty() => {
                write!(f, "denied: no policy matched")
            }
            HessraFailure::Denied { failed } => {
                write!(f, "denied")?;
                crate::datalog::authorizer::write_check_list(f, ": ", failed)
            }
            HessraFailure::Limit(l) => write!(f, "{}", AuthError::RunLimit(*l)),
            HessraFailure::Execution(e) => write!(f, "{}", AuthError::Execution(e.clone())),
            HessraFailure::InvalidBlockRule(b, r) => {
                write!(f, "{}", AuthError::InvalidBlockRule(*b, r.clone()))
            }
        }
    }
}

impl std::error::Error for HessraFailure {}

// ---- AST helpers ----------------------------------------------------------

fn s(v: &str) -> Term {
    Term::Str(v.to_string())
}

fn var(v: &str) -> Term {
    Term::Variable(v.to_string())
}

fn pred(name: &str, terms: Vec<Term>) -> Predicate {
    Predicate {
        name: name.to_string(),
        terms,
    }
}

fn query(body: Vec<Predicate>, expressions: Vec<Expression>, scopes: Vec<Scope>) -> Rule {
    Rule {
        head: pred(QUERY_HEAD, vec![]),
        body,
        expressions,
        scopes,
    }
}

fn check_if(body: Vec<Predicate>, expressions: Vec<Expression>, scopes: Vec<Scope>) -> Check {
    Check {
        queries: vec![query(body, expressions, scopes)],
        kind: CheckKind::One,
    }
}

fn rule(head: Predicate, body: Vec<Predicate>, scopes: Vec<Scope>) -> Rule {
    Rule {
        head,
        body,
        expressions: vec![],
        scopes,
    }
}

/// The service nodes whose attestation is required: every node before
/// `component`, or all of them when there is no component.
pub fn required_nodes<'a>(
    chain: &'a [ServiceNode],
    component: Option<&str>,
) -> Result<&'a [ServiceNode], HessraFailure> {
    match component {
        None => Ok(chain),
        Some(c) => match chain.iter().position(|n| n.component == c) {
            Some(i) => Ok(&chain[..i]),
            None => Err(HessraFailure::InvalidRequest(format!(
                "component {:?} is not in the service chain",
                c
            ))),
        },
    }
}

/// Builds the authorizer for a request (see the module documentation).
pub fn build_authorizer(req: &VerifyRequest) -> Result<AuthorizerCode, HessraFailure> {
    let mut code = AuthorizerCode::default();
    code.facts.push(pred(
        "time",
        vec![Term::Integer(
            req.now.saturating_sub(req.leeway_seconds.max(0)),
        )],
    ));
    code.facts.push(pred("resource", vec![s(&req.resource)]));
    let subject_term = match &req.subject {
        Some(subject) => {
            code.facts.push(pred("subject", vec![s(subject)]));
            s(subject)
        }
        None => var("s"),
    };
    let operation_term = match &req.operation {
        Some(op) => {
            code.facts.push(pred("operation", vec![s(op)]));
            s(op)
        }
        None => var("o"),
    };
    if req.subject.is_none() {
        // subject($s) <- right($s, R, O)
        code.rules.push(rule(
            pred("subject", vec![var("s")]),
            vec![pred(
                "right",
                vec![var("s"), s(&req.resource), operation_term.clone()],
            )],
            vec![],
        ));
    }
    if req.operation.is_none() {
        // operation($o) <- right(S, R, $o)
        code.rules.push(rule(
            pred("operation", vec![var("o")]),
            vec![pred(
                "right",
                vec![subject_term, s(&req.resource), var("o")],
            )],
            vec![],
        ));
    }
    if let Some(d) = &req.domain {
        code.facts.push(pred("domain", vec![s(d)]));
    }
    if let Some(p) = &req.prefix {
        code.facts.push(pred("prefix", vec![s(p)]));
    }
    for node in required_nodes(&req.service_chain, req.component.as_deref())? {
        // check if node(R, COMPONENT) trusting authority, NODE_KEY
        code.checks.push(check_if(
            vec![pred("node", vec![s(&req.resource), s(&node.component)])],
            vec![],
            vec![Scope::Authority, Scope::PublicKey(node.public_key.clone())],
        ));
    }
    code.policies.push(Policy {
        queries: vec![query(
            vec![],
            vec![Expression {
                ops: vec![Op::Value(Term::Bool(true))],
            }],
            vec![],
        )],
        kind: PolicyKind::Allow,
    });
    Ok(code)
}

/// Verifies a signature-checked token against a request.
pub fn verify(
    token: &VerifiedToken,
    req: &VerifyRequest,
    limits: &RunLimits,
) -> Result<(), HessraFailure> {
    verify_blocks(&token.blocks, req, limits)
}

/// [`verify`] on decoded blocks (whose signatures the caller has checked).
pub fn verify_blocks(
    blocks: &[Block],
    req: &VerifyRequest,
    limits: &RunLimits,
) -> Result<(), HessraFailure> {
    run_authorizer(blocks, &build_authorizer(req)?, limits)
}

/// Runs decoded blocks against an authorizer and classifies a refusal
/// (expired when only time bounds failed): shared by every kind of Hessra
/// token.
pub fn run_authorizer(
    blocks: &[Block],
    code: &AuthorizerCode,
    limits: &RunLimits,
) -> Result<(), HessraFailure> {
    let outcome = datalog::authorize_outcome(&AuthorizeInput {
        blocks,
        authorizer: code,
        limits,
        externs: None,
    });
    match outcome {
        Ok(_) => Ok(()),
        Err(e) => Err(classify(blocks, e)),
    }
}

fn classify(blocks: &[Block], e: AuthError) -> HessraFailure {
    match e {
        AuthError::Unauthorized {
            policy: MatchedPolicy::Allow(_),
            checks,
        } => {
            let mut bound: Option<i64> = None;
            for c in &checks {
                let b = match c {
                    FailedCheck::Block {
                        block_id, check_id, ..
                    } => blocks
                        .get(*block_id as usize)
                        .and_then(|b| b.code.checks.get(*check_id as usize))
                        .and_then(time_bound),
                    FailedCheck::Authorizer { .. } => None,
                };
                match b {
                    Some(b) => bound = Some(bound.map_or(b, |x: i64| x.min(b))),
                    None => return HessraFailure::Denied { failed: checks },
                }
            }
            match bound {
                Some(bound) => HessraFailure::Expired {
                    bound,
                    failed: checks,
                },
                None => HessraFailure::Denied { failed: checks },
            }
        }
        AuthError::Unauthorized { checks, .. } | AuthError::NoMatchingPolicy { checks } => {
            HessraFailure::Denied { failed: checks }
        }
        AuthError::RunLimit(l) => HessraFailure::Limit(l),
        AuthError::Execution(x) => HessraFailure::Execution(x),
        AuthError::InvalidBlockRule(b, r) => HessraFailure::InvalidBlockRule(b, r),
    }
}

fn bound_value(t: &Term) -> Option<i64> {
    match t {
        Term::Integer(n) => Some(*n),
        Term::Date(d) => i64::try_from(*d).ok(),
        _ => None,
    }
}

/// The upper time bound of a check shaped `check if time($t), $t < N` (also
/// `$t <= N`, `N > $t`, `N >= $t`, several such expressions, or several such
/// queries): the time from which it fails. `None` for any other check.
pub fn time_bound(check: &Check) -> Option<i64> {
    if check.kind == CheckKind::Reject || check.queries.is_empty() {
        return None;
    }
    let mut overall: Option<i64> = None;
    for q in &check.queries {
        let [p] = q.body.as_slice() else { return None };
        if p.name != "time" {
            return None;
        }
        let [Term::Variable(v)] = p.terms.as_slice() else {
            return None;
        };
        if q.expressions.is_empty() {
            return None;
        }
        // The query holds while t < min(bounds).
        let mut query_bound: Option<i64> = None;
        for e in &q.expressions {
            let b = match e.ops.as_slice() {
                [Op::Value(Term::Variable(x)), Op::Value(n), Op::Binary(op)] if x == v => {
                    match op {
                        Binary::LessThan => bound_value(n)?,
                        Binary::LessOrEqual => bound_value(n)?.checked_add(1)?,
                        _ => return None,
                    }
                }
                [Op::Value(n), Op::Value(Term::Variable(x)), Op::Binary(op)] if x == v => {
                    match op {
                        Binary::GreaterThan => bound_value(n)?,
                        Binary::GreaterOrEqual => bound_value(n)?.checked_add(1)?,
                        _ => return None,
                    }
                }
                _ => return None,
            };
            query_bound = Some(query_bound.map_or(b, |x| x.min(b)));
        }
        // Queries are OR-ed: the check holds while any query does.
        let qb = query_bound?;
        overall = Some(overall.map_or(qb, |x| x.max(qb)));
    }
    overall
}

// ---- the Hessra token shape (minting) -------------------------------------

/// What a Hessra authority block grants.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MintRequest {
    pub subject: String,
    pub resource: String,
    /// Each operation is granted by its own `right(S, R, O)` fact.
    pub operations: Vec<String>,
    /// Unix seconds; `None`: no time bound.
    pub expires_at: Option<i64>,
    pub domain: Option<String>,
    pub service_nodes: Vec<ServiceNode>,
}

/// The authority block of a Hessra token (see the module documentation).
pub fn authority_block(req: &MintRequest) -> BlockCode {
    let mut code = BlockCode::default();
    for operation in &req.operations {
        code.facts.push(pred(
            "right",
            vec![s(&req.subject), s(&req.resource), s(operation)],
        ));
    }
    for node in &req.service_nodes {
        // node($s, C) <- service($s) trusting KEY
        code.rules.push(rule(
            pred("node", vec![var("s"), s(&node.component)]),
            vec![pred("service", vec![var("s")])],
            vec![Scope::PublicKey(node.public_key.clone())],
        ));
    }
    code.checks.push(check_if(
        vec![
            pred("subject", vec![var("s")]),
            pred("resource", vec![var("r")]),
            pred("operation", vec![var("o")]),
            pred("right", vec![var("s"), var("r"), var("o")]),
        ],
        vec![],
        vec![],
    ));
    if let Some(exp) = req.expires_at {
        code.checks.push(check_if(
            vec![pred("time", vec![var("t")])],
            vec![Expression {
                ops: vec![
                    Op::Value(var("t")),
                    Op::Value(Term::Integer(exp)),
                    Op::Binary(Binary::LessThan),
                ],
            }],
            vec![],
        ));
    }
    if let Some(d) = &req.domain {
        code.checks
            .push(check_if(vec![pred("domain", vec![s(d)])], vec![], vec![]));
    }
    code
}

/// The block a service node signs (as a third party) to attest a token:
/// `service(RESOURCE)`.
pub fn attestation_block(resource: &str) -> BlockCode {
    BlockCode {
        facts: vec![pred("service", vec![s(resource)])],
        ..BlockCode::default()
    }
}

// ---- inspection -----------------------------------------------------------

/// One `right(subject, resource, operation)` fact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Right {
    pub subject: String,
    pub resource: String,
    pub operation: String,
}

/// The rights granted by the authority block.
pub fn rights(blocks: &[Block]) -> Vec<Right> {
    let Some(authority) = blocks.first() else {
        return vec![];
    };
    authority
        .code
        .facts
        .iter()
        .filter(|f| f.name == "right")
        .filter_map(|f| match f.terms.as_slice() {
            [Term::Str(s), Term::Str(r), Term::Str(o)] => Some(Right {
                subject: s.clone(),
                resource: r.clone(),
                operation: o.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// The earliest time bound of any block (unix seconds): when the token
/// expires.
pub fn expiry(blocks: &[Block]) -> Option<i64> {
    blocks.iter().filter_map(block_expiry).min()
}

/// The earliest time bound of one block's checks (unix seconds), if any.
pub fn block_expiry(block: &Block) -> Option<i64> {
    block.code.checks.iter().filter_map(time_bound).min()
}

/// The service nodes declared by the authority block's
/// `node($s, C) <- service($s) trusting KEY` rules.
pub fn service_nodes(blocks: &[Block]) -> Vec<ServiceNode> {
    let Some(authority) = blocks.first() else {
        return vec![];
    };
    authority
        .code
        .rules
        .iter()
        .filter_map(|r| {
            if r.head.name != "node" || !r.expressions.is_empty() {
                return None;
            }
            let [Term::Variable(v), Term::Str(component)] = r.head.terms.as_slice() else {
                return None;
            };
            let [body] = r.body.as_slice() else {
                return None;
            };
            if body.name != "service" || body.terms.as_slice() != [Term::Variable(v.clone())] {
                return None;
            }
            let [Scope::PublicKey(key)] = r.scopes.as_slice() else {
                return None;
            };
            Some(ServiceNode {
                component: component.clone(),
                public_key: key.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Algorithm, PrivateKey};
    use crate::token::{create_third_party_block, Token};

    const NOW: i64 = 1_764_151_200;

    fn key() -> PrivateKey {
        PrivateKey::generate(Algorithm::Ed25519).unwrap()
    }

    fn mint(root: &PrivateKey, req: &MintRequest) -> Token {
        Token::mint(root, &authority_block(req), None).unwrap()
    }

    fn basic(exp: Option<i64>) -> MintRequest {
        MintRequest {
            subject: "alice".into(),
            resource: "orders".into(),
            operations: vec!["read".into()],
            expires_at: exp,
            ..MintRequest::default()
        }
    }

    fn request(subject: Option<&str>, resource: &str, op: Option<&str>) -> VerifyRequest {
        VerifyRequest {
            subject: subject.map(String::from),
            resource: resource.into(),
            operation: op.map(String::from),
            now: NOW,
            ..VerifyRequest::default()
        }
    }

    fn check(token: &Token, root: &PrivateKey, req: &VerifyRequest) -> Result<(), HessraFailure> {
        let vt = token.verify(&root.public()).unwrap();
        verify(&vt, req, &RunLimits::default())
    }

    #[test]
    fn identity_mode() {
        let root = key();
        let t = mint(&root, &basic(Some(NOW + 3600)));
        assert_eq!(
            check(&t, &root, &request(Some("alice"), "orders", Some("read"))),
            Ok(())
        );
        assert_eq!(
            check(&t, &root, &request(Some("alice"), "orders", None)),
            Ok(())
        );
        for (s, r, o) in [
            ("bob", "orders", Some("read")),
            ("alice", "users", Some("read")),
            ("alice", "orders", Some("write")),
        ] {
            match check(&t, &root, &request(Some(s), r, o)) {
                Err(HessraFailure::Denied { failed }) => {
                    assert_eq!(failed.len(), 1);
                    let msg = HessraFailure::Denied { failed }.to_string();
                    assert!(
                        msg.contains("block 0 check 0 failed: check if subject($s)"),
                        "{}",
                        msg
                    );
                }
                other => panic!("{:?}", other),
            }
        }
        assert!(check(&t, &root, &request(Some("bob"), "orders", None)).is_err());
    }

    #[test]
    fn several_operations_each_granted() {
        let root = key();
        let req = MintRequest {
            operations: vec!["read".into(), "write".into()],
            ..basic(Some(NOW + 3600))
        };
        let t = mint(&root, &req);
        for op in ["read", "write"] {
            assert_eq!(
                check(&t, &root, &request(Some("alice"), "orders", Some(op))),
                Ok(())
            );
        }
        assert!(check(&t, &root, &request(Some("alice"), "orders", Some("delete"))).is_err());
        let granted: Vec<String> = rights(&t.decode_unverified().unwrap())
            .into_iter()
            .map(|r| r.operation)
            .collect();
        assert_eq!(granted, vec!["read", "write"]);
    }

    #[test]
    fn capability_mode() {
        let root = key();
        let t = mint(&root, &basic(Some(NOW + 3600)));
        assert_eq!(
            check(&t, &root, &request(None, "orders", Some("read"))),
            Ok(())
        );
        assert_eq!(check(&t, &root, &request(None, "orders", None)), Ok(()));
        assert!(matches!(
            check(&t, &root, &request(None, "orders", Some("write"))),
            Err(HessraFailure::Denied { .. })
        ));
        assert!(matches!(
            check(&t, &root, &request(None, "users", None)),
            Err(HessraFailure::Denied { .. })
        ));
    }

    #[test]
    fn expiry_reports_the_bound() {
        let root = key();
        let t = mint(&root, &basic(Some(NOW - 10)));
        match check(&t, &root, &request(Some("alice"), "orders", Some("read"))) {
            Err(e @ HessraFailure::Expired { bound, .. }) => {
                assert_eq!(bound, NOW - 10);
                let msg = e.to_string();
                assert!(
                    msg.starts_with(&format!(
                        "expired at {} (unix {})",
                        crate::datalog::print::rfc3339(NOW - 10),
                        NOW - 10
                    )),
                    "{}",
                    msg
                );
                assert!(msg.contains("block 0 check 1"), "{}", msg);
                assert!(msg.contains(&format!("$t < {}", NOW - 10)), "{}", msg);
            }
            other => panic!("{:?}", other),
        }
        // Leeway moves "now" back.
        let mut req = request(Some("alice"), "orders", Some("read"));
        req.leeway_seconds = 11;
        assert_eq!(check(&t, &root, &req), Ok(()));
        req.leeway_seconds = 10;
        assert!(matches!(
            check(&t, &root, &req),
            Err(HessraFailure::Expired { .. })
        ));
        // Expired and denied at once: not an expiry.
        assert!(matches!(
            check(&t, &root, &request(Some("bob"), "orders", Some("read"))),
            Err(HessraFailure::Denied { .. })
        ));
        // No time bound: never expires.
        let t = mint(&root, &basic(None));
        assert_eq!(
            check(&t, &root, &request(Some("alice"), "orders", Some("read"))),
            Ok(())
        );
    }

    #[test]
    fn domain_and_prefix() {
        let root = key();
        let mut m = basic(Some(NOW + 60));
        m.domain = Some("example.com".into());
        let t = mint(&root, &m);
        let mut req = request(Some("alice"), "orders", Some("read"));
        assert!(matches!(
            check(&t, &root, &req),
            Err(HessraFailure::Denied { .. })
        ));
        req.domain = Some("other.com".into());
        assert!(matches!(
            check(&t, &root, &req),
            Err(HessraFailure::Denied { .. })
        ));
        req.domain = Some("example.com".into());
        req.prefix = Some("tenant/".into());
        assert_eq!(check(&t, &root, &req), Ok(()));
    }

    fn attest(token: &Token, root: &PrivateKey, node: &PrivateKey, resource: &str) -> Token {
        let request = token.third_party_request().unwrap();
        let contents =
            create_third_party_block(&request, node, &attestation_block(resource)).unwrap();
        token.append_third_party(&root.public(), &contents).unwrap()
    }

    #[test]
    fn service_chain() {
        let root = key();
        let nodes: Vec<PrivateKey> = (0..3).map(|_| key()).collect();
        let chain: Vec<ServiceNode> = nodes
            .iter()
            .enumerate()
            .map(|(i, k)| ServiceNode {
                component: format!("svc{}", i),
                public_key: k.public(),
            })
            .collect();
        let mut m = basic(Some(NOW + 60));
        m.resource = "orders".into();
        m.service_nodes = chain.clone();
        let t0 = mint(&root, &m);
        let vt = t0.verify(&root.public()).unwrap();
        assert_eq!(service_nodes(&vt.blocks), chain);

        let with = |component: Option<&str>| {
            let mut r = request(Some("alice"), "orders", Some("read"));
            r.service_chain = chain.clone();
            r.component = component.map(String::from);
            r
        };
        // svc0 needs nobody's attestation.
        assert_eq!(check(&t0, &root, &with(Some("svc0"))), Ok(()));
        assert!(matches!(
            check(&t0, &root, &with(Some("svc1"))),
            Err(HessraFailure::Denied { .. })
        ));
        let t1 = attest(&t0, &root, &nodes[0], "orders");
        assert_eq!(check(&t1, &root, &with(Some("svc1"))), Ok(()));
        assert!(check(&t1, &root, &with(Some("svc2"))).is_err());
        let t2 = attest(&t1, &root, &nodes[1], "orders");
        assert_eq!(check(&t2, &root, &with(Some("svc2"))), Ok(()));
        assert!(check(&t2, &root, &with(None)).is_err());
        let t3 = attest(&t2, &root, &nodes[2], "orders");
        assert_eq!(check(&t3, &root, &with(None)), Ok(()));
        match check(&t3, &root, &with(Some("nobody"))) {
            Err(HessraFailure::InvalidRequest(m)) => assert!(m.contains("nobody")),
            other => panic!("{:?}", other),
        }

        // Attested by the wrong key: denied, and the message names the node check.
        let stranger = key();
        let bad = attest(&t0, &root, &stranger, "orders");
        match check(&bad, &root, &with(Some("svc1"))) {
            Err(e @ HessraFailure::Denied { .. }) => {
                assert!(
                    e.to_string()
                        .contains("authorizer check 0 failed: check if node(\"orders\", \"svc0\")"),
                    "{}",
                    e
                )
            }
            other => panic!("{:?}", other),
        }
        // Attested for another resource: denied.
        let other = attest(&t0, &root, &nodes[0], "users");
        assert!(check(&other, &root, &with(Some("svc1"))).is_err());
    }

    #[test]
    fn inspection_helpers() {
        let root = key();
        let t = mint(&root, &basic(Some(NOW)));
        let blocks = t.decode_unverified().unwrap();
        assert_eq!(
            rights(&blocks),
            vec![Right {
                subject: "alice".into(),
                resource: "orders".into(),
                operation: "read".into()
            }]
        );
        assert_eq!(expiry(&blocks), Some(NOW));
        assert!(service_nodes(&blocks).is_empty());
    }

    #[test]
    fn time_bound_shapes() {
        let text_checks = [
            ("check if time($t), $t < 100", Some(100)),
            ("check if time($t), $t <= 100", Some(101)),
            ("check if time($t), 100 > $t", Some(100)),
            ("check if time($t), $t < 100, $t < 50", Some(50)),
            (
                "check if time($t), $t < 100 or time($t), $t < 200",
                Some(200),
            ),
            (
                "check if time($t), $t < 2018-12-20T00:00:00Z",
                Some(1_545_264_000),
            ),
            ("check if time($t), $t > 100", None),
            ("check if time($t)", None),
            ("check if time($t), resource($r), $t < 100", None),
            ("reject if time($t), $t < 100", None),
        ];
        for (text, expected) in text_checks {
            let c = crate::parser::parse_check(text).unwrap();
            assert_eq!(time_bound(&c), expected, "{}", text);
        }
    }
}
