use super::*;
use crate::datalog::print::block_source;
use crate::datalog::{Binary, MapKey, Op, Unary};
use crate::json::Value;

fn samples() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/biscuit-samples/samples.json"
    );
    let text = std::fs::read_to_string(path).expect("read samples.json");
    Value::parse(&text).expect("samples.json is valid JSON")
}

fn testcases(samples: &Value) -> &[Value] {
    samples
        .get("testcases")
        .and_then(Value::as_array)
        .expect("testcases")
}

fn validations(case: &Value) -> Vec<&Value> {
    case.get("validations")
        .and_then(Value::as_object)
        .expect("validations")
        .iter()
        .map(|(_, v)| v)
        .collect()
}

fn strings<'v>(group: &'v Value, key: &str) -> Vec<&'v str> {
    group
        .get(key)
        .and_then(Value::as_array)
        .expect(key)
        .iter()
        .map(|s| s.as_str().expect("string"))
        .collect()
}

/// The one printed rule of the samples that the reference parser refuses
/// (test018 builds it without the text parser).
const UNBOUND_RULE: &str = "operation($unbound, \"read\") <- operation($any1, $any2)";

#[test]
fn samples_block_code_round_trips() {
    let samples = samples();
    let mut blocks = 0;
    for case in testcases(&samples) {
        let file = case.get("filename").and_then(Value::as_str).unwrap_or("?");
        for (i, block) in case
            .get("token")
            .and_then(Value::as_array)
            .expect("token")
            .iter()
            .enumerate()
        {
            let code = block.get("code").and_then(Value::as_str).expect("code");
            match parse_block(code) {
                Ok(parsed) => assert_eq!(block_source(&parsed), code, "{file} block {i}"),
                Err(e) => {
                    assert!(code.contains(UNBOUND_RULE), "{file} block {i}: {e}\n{code}");
                    assert!(
                        e.message.contains("$unbound") && e.message.contains(UNBOUND_RULE),
                        "{e}"
                    );
                    assert_eq!((e.line, e.column), (1, 1));
                }
            }
            blocks += 1;
        }
    }
    assert!(blocks > 60, "only {blocks} blocks");
}

#[test]
fn samples_authorizer_code_parses() {
    let samples = samples();
    let mut count = 0;
    for case in testcases(&samples) {
        for v in validations(case) {
            let code = v
                .get("authorizer_code")
                .and_then(Value::as_str)
                .expect("authorizer_code");
            let parsed = parse_authorizer(code).unwrap_or_else(|e| panic!("{e}\n{code}"));
            // Every statement of the samples ends with ";\n": re-print them.
            let mut printed = String::new();
            for f in &parsed.facts {
                printed.push_str(&format!("{f};\n"));
            }
            for r in &parsed.rules {
                printed.push_str(&format!("{r};\n"));
            }
            for c in &parsed.checks {
                printed.push_str(&format!("{c};\n"));
            }
            for p in &parsed.policies {
                printed.push_str(&format!("{p};\n"));
            }
            let squeeze = |s: &str| {
                s.lines()
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            assert_eq!(squeeze(&printed), squeeze(code));
            count += 1;
        }
    }
    assert!(count > 40, "only {count} authorizers");
}

#[test]
fn samples_world_reprints() {
    let samples = samples();
    let (mut facts, mut rules, mut checks, mut policies) = (0, 0, 0, 0);
    for case in testcases(&samples) {
        for v in validations(case) {
            let Some(world) = v.get("world").filter(|w| !w.is_null()) else {
                continue;
            };
            for group in world.get("facts").and_then(Value::as_array).expect("facts") {
                for text in strings(group, "facts") {
                    let fact = parse_fact(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
                    assert_eq!(fact.to_string(), text);
                    facts += 1;
                }
            }
            for group in world.get("rules").and_then(Value::as_array).expect("rules") {
                for text in strings(group, "rules") {
                    match parse_rule(text) {
                        Ok(rule) => assert_eq!(rule.to_string(), text),
                        Err(e) => assert!(
                            text == UNBOUND_RULE && e.message.contains("$unbound"),
                            "{e}\n{text}"
                        ),
                    }
                    rules += 1;
                }
            }
            for group in world
                .get("checks")
                .and_then(Value::as_array)
                .expect("checks")
            {
                for text in strings(group, "checks") {
                    let check = parse_check(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
                    assert_eq!(check.to_string(), text);
                    checks += 1;
                }
            }
            for text in world
                .get("policies")
                .and_then(Value::as_array)
                .expect("policies")
            {
                let text = text.as_str().expect("policy");
                let policy = parse_policy(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
                assert_eq!(policy.to_string(), text);
                policies += 1;
            }
        }
    }
    assert!(
        facts > 100 && rules > 5 && checks > 100 && policies > 40,
        "{facts} {rules} {checks} {policies}"
    );
}

fn ops(check: &str) -> Vec<Op> {
    let c = parse_check(check).unwrap_or_else(|e| panic!("{e}"));
    c.queries[0].expressions[0].ops.clone()
}

fn v(t: Term) -> Op {
    Op::Value(t)
}

fn int(i: i64) -> Op {
    v(Term::Integer(i))
}

fn var(name: &str) -> Op {
    v(Term::Variable(name.to_string()))
}

#[test]
fn compiles_to_postfix() {
    assert_eq!(
        ops("check if !(false && true)"),
        vec![
            v(Term::Bool(false)),
            Op::Closure(vec![], vec![v(Term::Bool(true))]),
            Op::Binary(Binary::LazyAnd),
            Op::Unary(Unary::Parens),
            Op::Unary(Unary::Negate),
        ]
    );
    assert_eq!(
        ops("check if 1 | 2 ^ 3 === 0"),
        vec![
            int(1),
            int(2),
            Op::Binary(Binary::BitwiseOr),
            int(3),
            Op::Binary(Binary::BitwiseXor),
            int(0),
            Op::Binary(Binary::Equal)
        ]
    );
    assert_eq!(
        ops("check if !1 + 2"),
        vec![
            int(1),
            int(2),
            Op::Binary(Binary::Add),
            Op::Unary(Unary::Negate)
        ]
    );
    assert_eq!(
        ops("check if 1 + 2 * 3 - 4"),
        vec![
            int(1),
            int(2),
            int(3),
            Op::Binary(Binary::Mul),
            Op::Binary(Binary::Add),
            int(4),
            Op::Binary(Binary::Sub)
        ]
    );
    assert_eq!(
        ops("check if true || false || true"),
        vec![
            v(Term::Bool(true)),
            Op::Closure(vec![], vec![v(Term::Bool(false))]),
            Op::Binary(Binary::LazyOr),
            Op::Closure(vec![], vec![v(Term::Bool(true))]),
            Op::Binary(Binary::LazyOr),
        ]
    );
    assert_eq!(
        ops("check if {1, 2}.all($p -> $p > 0)"),
        vec![
            v(Term::Set(vec![Term::Integer(1), Term::Integer(2)])),
            Op::Closure(
                vec!["p".into()],
                vec![var("p"), int(0), Op::Binary(Binary::GreaterThan)]
            ),
            Op::Binary(Binary::All),
        ]
    );
    let c =
        parse_check("check if true.extern::test(), \"a\".extern::test(\"a\") == \"equal strings\"")
            .unwrap();
    assert_eq!(
        c.queries[0].expressions[0].ops,
        vec![v(Term::Bool(true)), Op::Unary(Unary::Ffi("test".into()))]
    );
    assert_eq!(
        c.queries[0].expressions[1].ops,
        vec![
            v(Term::Str("a".into())),
            v(Term::Str("a".into())),
            Op::Binary(Binary::Ffi("test".into())),
            v(Term::Str("equal strings".into())),
            Op::Binary(Binary::HeterogeneousEqual),
        ]
    );
    assert_eq!(
        ops("check if $a.get(1).length() != $b"),
        vec![
            var("a"),
            int(1),
            Op::Binary(Binary::Get),
            Op::Unary(Unary::Length),
            var("b"),
            Op::Binary(Binary::HeterogeneousNotEqual)
        ]
    );
    assert_eq!(
        ops("check if 1 -1 === 0")[..3],
        [int(1), int(1), Op::Binary(Binary::Sub)]
    );
    assert_eq!(
        ops("check if (2023-12-28T00:00:00Z).type() == \"date\"")[0],
        v(Term::Date(1_703_721_600))
    );
}

#[test]
fn bodies_checks_and_policies() {
    let c =
        parse_check("CHECK ALL a($x), $x > 1, b($x) or c(1) trusting authority, previous").unwrap();
    assert_eq!(c.kind, CheckKind::All);
    assert_eq!(c.queries.len(), 2);
    assert_eq!(
        c.queries[0].head,
        Predicate {
            name: "query".into(),
            terms: vec![]
        }
    );
    assert_eq!(c.queries[0].body.len(), 2);
    assert_eq!(c.queries[0].expressions.len(), 1);
    assert!(c.queries[0].scopes.is_empty());
    assert_eq!(c.queries[1].scopes, vec![Scope::Authority, Scope::Previous]);
    assert_eq!(
        c.to_string(),
        "check all a($x), b($x), $x > 1 or c(1) trusting authority, previous"
    );
    assert_eq!(
        parse_check("reject if a(1)").unwrap().kind,
        CheckKind::Reject
    );
    assert_eq!(
        parse_policy("deny if a(1);").unwrap().kind,
        PolicyKind::Deny
    );

    let a = parse_authorizer(
        "// comment\nfact(1); /* multi\nline ; */ r($x) <- fact($x);\ncheck if r(1);\nallow if true;\ndeny if false",
    )
    .unwrap();
    assert_eq!(
        (
            a.facts.len(),
            a.rules.len(),
            a.checks.len(),
            a.policies.len()
        ),
        (1, 1, 1, 2)
    );
    assert!(parse_block("allow if true;").is_err());
}

#[test]
fn terms() {
    assert_eq!(
        parse_term("\"a\\\"b\\\\c\\nd\"").unwrap(),
        Term::Str("a\"b\\c\nd".into())
    );
    assert_eq!(parse_term("\"\"").unwrap(), Term::Str(String::new()));
    assert_eq!(
        parse_term("hex:12AB").unwrap(),
        Term::Bytes(vec![0x12, 0xab])
    );
    assert_eq!(
        parse_term("-9223372036854775808").unwrap(),
        Term::Integer(i64::MIN)
    );
    assert_eq!(parse_term("$x").unwrap(), Term::Variable("x".into()));
    assert_eq!(parse_term("{}").unwrap(), Term::Map(vec![]));
    assert_eq!(parse_term("{,}").unwrap(), Term::Set(vec![]));
    assert_eq!(parse_term("[]").unwrap(), Term::Array(vec![]));
    assert_eq!(
        parse_term("{\"b\", \"a\", \"b\"}").unwrap(),
        Term::Set(vec![Term::Str("a".into()), Term::Str("b".into())])
    );
    assert_eq!(
        parse_term("{\"b\": 1, 2: null, \"a\": 3, \"b\": 4}").unwrap(),
        Term::Map(vec![
            (MapKey::Integer(2), Term::Null),
            (MapKey::Str("a".into()), Term::Integer(3)),
            (MapKey::Str("b".into()), Term::Integer(4)),
        ])
    );
    assert_eq!(
        parse_term("{{}, {\"a\": 1}}").unwrap().to_string(),
        "{{}, {\"a\": 1}}"
    );
    assert_eq!(
        parse_term("2018-12-20T00:00:00Z").unwrap(),
        Term::Date(1_545_264_000)
    );
    for bad in [
        "{1, \"a\"}",
        "{$x}",
        "{{1}}",
        "{[1]}",
        "[$x]",
        "{\"a\": $x}",
        "hex:abc",
        "\"abc",
        "\"\\t\"",
        "tru",
    ] {
        assert!(parse_term(bad).is_err(), "{bad}");
    }
}

#[test]
fn parameters() {
    let mut params = Params::new();
    params.insert("res".into(), Term::Str("file1".into()));
    params.insert("exp".into(), Term::Date(1_545_264_000));
    params.insert("k".into(), Term::Integer(7));
    let src = "right({res}, \"read\");\ncheck if time($t), $t < {exp}, {{k}: 1}.length() == 1;\n";
    let b = parse_block_with_params(src, &params).unwrap();
    assert_eq!(
        block_source(&b),
        "right(\"file1\", \"read\");\ncheck if time($t), $t < 2018-12-20T00:00:00Z, {7: 1}.length() == 1;\n"
    );
    params.insert("unused".into(), Term::Null);
    let e = parse_block_with_params(src, &params).unwrap_err();
    assert!(e.message.contains("unused parameter `unused`"), "{e}");
    let e = parse_block("right({res});").unwrap_err();
    assert!(e.message.contains("missing parameter `res`"), "{e}");
    assert_eq!((e.line, e.column), (1, 7));
    let mut vars = Params::new();
    vars.insert("v".into(), Term::Variable("x".into()));
    assert!(parse_block_with_params("f({v});", &vars).is_err());
    assert!(parse_block_with_params("check if f({v});", &vars).is_ok());
}

fn err(src: &str) -> ParseError {
    match parse_authorizer(src) {
        Ok(code) => panic!("parsed: {src} -> {code:?}"),
        Err(e) => e,
    }
}

#[test]
fn errors_have_positions() {
    let e = err("check if (1 < 2;");
    assert_eq!((e.line, e.column), (1, 16), "{e}");
    let e = err("fact(1);\ncheck if 1 < 2);");
    assert_eq!((e.line, e.column), (2, 15), "{e}");
    let e = err("f(1);\n\ncheck if time($t), $t < 2020-13-01T00:00:00Z;");
    assert_eq!((e.line, e.column), (3, 25), "{e}");
    assert!(e.message.contains("date"), "{e}");
    assert!(err("d(1969-12-31T23:59:59Z);").message.contains("1970"));
    let e = err("allow if true;\ncheck  if true;");
    assert_eq!((e.line, e.column), (2, 1), "{e}");
    assert!(e.message.contains("exactly one space"), "{e}");
    assert!(err("allow\tif true;").message.contains("exactly one space"));
    let e = err("fact(1);\n  right($x) <- resource($y);");
    assert_eq!((e.line, e.column), (2, 3), "{e}");
    assert!(
        e.message.contains("right($x) <- resource($y)") && e.message.contains("$x"),
        "{e}"
    );
    assert!(parse_block("r($x) <- f($y), $z > 1;")
        .unwrap_err()
        .message
        .contains("$x, $z"));
    assert!(parse_rule("r($x) <- f($y)").is_err());
    let e = err("fact(99999999999999999999);");
    assert_eq!((e.line, e.column), (1, 6), "{e}");
    assert!(e.message.contains("out of range"), "{e}");
    assert!(err("check if 1 < 2 < 3;").message.contains("';'"));
    assert!(err("fact($x);").message.contains("variables"));
    assert!(err("fact();").to_string().starts_with("1:6: "));
    assert!(err("check if a(1) trusting nobody;")
        .message
        .contains("authority"));
    assert!(err("check if \"é\" == 1 é;").column == 19);
    assert!(err("/* open").message.contains("comment"));
    assert_eq!(err("fact(1)\nfact(2);").line, 2);
    let e = err("check if true.foo();");
    assert!(e.message.contains("method"), "{e}");
}

#[test]
fn bounded_nesting_and_size() {
    let nest = |n: usize, open: &str, close: &str| {
        format!("check if {}true{};", open.repeat(n), close.repeat(n))
    };
    assert!(parse_authorizer(&nest(MAX_DEPTH, "(", ")")).is_ok());
    let e = parse_authorizer(&nest(MAX_DEPTH + 1, "(", ")")).unwrap_err();
    assert!(e.message.contains("nesting"), "{e}");
    for (open, close) in [
        ("(", ")"),
        ("!", ""),
        ("[", "]"),
        ("{\"a\": ", "}"),
        ("[].contains(", ")"),
        ("{1}.any($p -> ", ")"),
    ] {
        let e = parse_authorizer(&nest(20_000, open, close)).unwrap_err();
        assert!(e.message.contains("nesting"), "{open}: {e}");
    }
    let sets = parse_authorizer(&nest(100_000, "{", "}")).unwrap_err();
    assert!(
        sets.message.contains("sets cannot contain other sets"),
        "{sets}"
    );
    let arrays = format!("f({}1{});", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(parse_authorizer(&arrays).is_ok());
    let big = "f(1);".repeat(MAX_INPUT / 5 + 1);
    assert!(parse_authorizer(&big)
        .unwrap_err()
        .message
        .contains("larger"));
}

#[test]
fn block_scopes() {
    let key = "ed25519/acdd6d5b53bfee478bf689f8e012fe7988bf755e3d7c5152947abc149bc20189";
    let src = format!("trusting authority, {key};\nf(1);\ncheck if g(1) trusting {key};\n");
    match parse_block(&src) {
        Ok(b) => {
            assert_eq!(b.scopes.len(), 2);
            assert_eq!(b.scopes[1].to_string(), key);
            assert_eq!(
                block_source(&b),
                format!("f(1);\ncheck if g(1) trusting {key};\n")
            );
        }
        Err(e) => panic!("{e}"),
    }
    assert!(parse_block("trusting authority\nf(1);").is_err());
    assert!(parse_block("trusting ed25519/abcd;").is_err());
    assert!(parse_authorizer("trusting authority;").is_err());
}

#[test]
fn large_inputs_stay_fast() {
    let started = std::time::Instant::now();
    let entries: Vec<String> = (0..60_000).rev().map(|i| format!("{i}: {i}")).collect();
    let map = format!("f({{{}}});", entries.join(","));
    let parsed = parse_block(&map).unwrap();
    let Term::Map(m) = &parsed.facts[0].terms[0] else {
        panic!("not a map")
    };
    assert_eq!(m.len(), 60_000);
    assert_eq!(m[0].0, MapKey::Integer(0));
    let items: Vec<String> = (0..60_000).rev().map(|i| i.to_string()).collect();
    let set = format!("f({{{}}});", items.join(","));
    assert!(parse_block(&set).is_ok());
    let vars: Vec<String> = (0..40_000).map(|i| format!("$v{i}")).collect();
    let rule = format!("h({}) <- b({});", vars.join(","), vars.join(","));
    assert!(parse_block(&rule).is_ok());
    let unbound = format!("h({}) <- b(1);", vars.join(","));
    assert!(parse_block(&unbound).is_err());
    let sum = format!("check if 1{};", " + 1".repeat(100_000));
    assert!(parse_block(&sum).is_ok());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn damaged_sources_never_panic() {
    let samples = samples();
    let mut sources = Vec::new();
    for case in testcases(&samples) {
        for block in case.get("token").and_then(Value::as_array).expect("token") {
            sources.push(
                block
                    .get("code")
                    .and_then(Value::as_str)
                    .expect("code")
                    .to_string(),
            );
        }
    }
    sources.sort();
    sources.dedup();
    for src in &sources {
        for (i, _) in src.char_indices() {
            let _ = parse_block(&src[..i]);
            for replacement in ["(", ")", "\"", "{", "$", ".", "é"] {
                let mut damaged = src[..i].to_string();
                damaged.push_str(replacement);
                damaged.push_str(&src[i..]);
                let _ = parse_authorizer(&damaged);
            }
        }
    }
}
