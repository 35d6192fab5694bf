//! Unit tests for the parser: ASTs, precedence, modifiers, and Prometheus' error messages and positions.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use strata_storage::{LabelMatcher, MatchOp};

use super::ast::*;
use super::parse;

fn sel(name: &str) -> VectorSelector {
    VectorSelector {
        name: Some(name.to_owned()),
        matchers: vec![LabelMatcher::equal("__name__", name)],
        offset: 0,
        at: None,
    }
}

fn vs(name: &str) -> Expr {
    Expr::VectorSelector(sel(name))
}

fn num(v: f64) -> Expr {
    Expr::Number(v)
}

fn bin(op: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
    let card = if op.is_set() {
        Cardinality::ManyToMany
    } else {
        Cardinality::OneToOne
    };
    Expr::Binary(BinaryExpr {
        op,
        lhs: Box::new(lhs),
        rhs: Box::new(rhs),
        return_bool: false,
        matching: None,
        card,
    })
}

fn p(s: &str) -> Expr {
    match parse(s) {
        Ok(e) => e,
        Err(e) => panic!("{s:?}: {e}"),
    }
}

#[test]
fn number_literals() {
    assert_eq!(p("1"), num(1.0));
    assert_eq!(p("-1"), num(-1.0));
    assert_eq!(p("+5"), num(5.0));
    assert_eq!(p("- - 3"), num(3.0));
    assert_eq!(p("0x1F"), num(31.0));
    assert_eq!(p("0755"), num(493.0));
    assert_eq!(p("1e-3"), num(0.001));
    assert_eq!(p(".5"), num(0.5));
    assert_eq!(p("Inf"), num(f64::INFINITY));
    assert_eq!(p("-inF"), num(f64::NEG_INFINITY));
    assert!(matches!(p("NaN"), Expr::Number(v) if v.is_nan()));
    assert_eq!(p("1m"), num(60.0));
    assert_eq!(p("1h30m"), num(5400.0));
    assert_eq!(p("5ms"), num(0.005));
    assert_eq!(p("1_000"), num(1000.0));
    assert_eq!(
        p("-(1)"),
        Expr::Unary(UnaryOp::Neg, Box::new(Expr::Paren(Box::new(num(1.0)))))
    );
}

#[test]
fn strings() {
    assert_eq!(p(r#""a\tb\"""#), Expr::String("a\tb\"".into()));
    assert_eq!(p(r"'it\'s'"), Expr::String("it's".into()));
    assert_eq!(p("`raw\\n`"), Expr::String("raw\\n".into()));
    assert_eq!(p(r#""\u00e4\x41""#), Expr::String("äA".into()));
}

#[test]
fn precedence() {
    use BinaryOp::*;
    assert_eq!(p("1 + 2 * 3"), bin(Add, num(1.0), bin(Mul, num(2.0), num(3.0))));
    assert_eq!(p("1 - 2 - 3"), bin(Sub, bin(Sub, num(1.0), num(2.0)), num(3.0)));
    assert_eq!(p("2 ^ 3 ^ 2"), bin(Pow, num(2.0), bin(Pow, num(3.0), num(2.0))));
    assert_eq!(
        p("-2 ^ 2"),
        Expr::Unary(UnaryOp::Neg, Box::new(bin(Pow, num(2.0), num(2.0))))
    );
    assert_eq!(p("-1 * 2"), bin(Mul, num(-1.0), num(2.0)));
    assert_eq!(p("a or b and c"), bin(Or, vs("a"), bin(And, vs("b"), vs("c"))));
    assert_eq!(p("a and b unless c"), bin(Unless, bin(And, vs("a"), vs("b")), vs("c")));
    assert_eq!(p("a > b + c"), bin(Gtr, vs("a"), bin(Add, vs("b"), vs("c"))));
    assert_eq!(p("a atan2 b * c"), bin(Mul, bin(Atan2, vs("a"), vs("b")), vs("c")));
    assert_eq!(p("a + b offset 5m"), {
        let mut b = sel("b");
        b.offset = 300_000;
        bin(Add, vs("a"), Expr::VectorSelector(b))
    });
    assert_eq!(p("2 ^ -1 * 3"), bin(Mul, bin(Pow, num(2.0), num(-1.0)), num(3.0)));
    assert_eq!(p("1 + -2 * 3"), bin(Add, num(1.0), bin(Mul, num(-2.0), num(3.0))));
}

#[test]
fn selectors() {
    let e = p(r#"foo{a="b", c!~"d.*",}"#);
    let Expr::VectorSelector(v) = e else { panic!() };
    assert_eq!(v.name.as_deref(), Some("foo"));
    assert_eq!(
        v.matchers,
        vec![
            LabelMatcher::new("a", MatchOp::Equal, "b").unwrap(),
            LabelMatcher::new("c", MatchOp::RegexNoMatch, "d.*").unwrap(),
            LabelMatcher::equal("__name__", "foo"),
        ]
    );
    let Expr::VectorSelector(v) = p(r#"{"my.metric", "a.b"="c"}"#) else {
        panic!()
    };
    assert_eq!(v.name, None);
    assert_eq!(
        v.matchers,
        vec![
            LabelMatcher::equal("__name__", "my.metric"),
            LabelMatcher::equal("a.b", "c")
        ]
    );
    // Keywords work as metric names and label names.
    assert!(matches!(p("sum"), Expr::VectorSelector(_)));
    assert!(matches!(p("by{on=\"x\"}"), Expr::VectorSelector(_)));
    assert!(matches!(p("start + end"), Expr::Binary(_)));
    assert!(matches!(p("foo:bar:rate5m"), Expr::VectorSelector(_)));
    assert!(matches!(p("fill + fill"), Expr::Binary(_)));
    let Expr::VectorSelector(v) = p("foo offset -5m @ 1.5") else {
        panic!()
    };
    assert_eq!((v.offset, v.at), (-300_000, Some(AtModifier::Timestamp(1500))));
    let Expr::VectorSelector(v) = p("foo @ end() offset 1h") else {
        panic!()
    };
    assert_eq!((v.offset, v.at), (3_600_000, Some(AtModifier::End)));
    let Expr::MatrixSelector(m) = p("foo[1h30m] @ start() offset 5") else {
        panic!()
    };
    assert_eq!(
        (m.range, m.selector.offset, m.selector.at),
        (5_400_000, 5000, Some(AtModifier::Start))
    );
    let Expr::MatrixSelector(m) = p("foo[90]") else {
        panic!()
    };
    assert_eq!(m.range, 90_000);
    assert!(p(r#"{__name__=~"foo|bar"}"#).value_type() == ValueType::Vector);
}

#[test]
fn subqueries() {
    let Expr::Subquery(s) = p("rate(foo[5m])[30m:1m] offset 1m @ 100") else {
        panic!()
    };
    assert_eq!(
        (s.range, s.step, s.offset, s.at),
        (1_800_000, Some(60_000), 60_000, Some(AtModifier::Timestamp(100_000)))
    );
    let Expr::Subquery(s) = p("foo[1h:]") else { panic!() };
    assert_eq!((s.range, s.step), (3_600_000, None));
    let Expr::Subquery(s) = p("(foo + bar)[5m:10s]") else {
        panic!()
    };
    assert!(matches!(*s.expr, Expr::Paren(_)));
    assert_eq!(p("foo offset 1m [10m:5s]").value_type(), ValueType::Matrix);
}

#[test]
fn binary_modifiers() {
    let Expr::Binary(b) = p("a * on(x, y) group_left(z) b") else {
        panic!()
    };
    assert_eq!(b.matching, Some(Matching::On(vec!["x".into(), "y".into()])));
    assert_eq!(b.card, Cardinality::ManyToOne(vec!["z".into()]));
    let Expr::Binary(b) = p("a / ignoring(x) group_right b") else {
        panic!()
    };
    assert_eq!(b.matching, Some(Matching::Ignoring(vec!["x".into()])));
    assert_eq!(b.card, Cardinality::OneToMany(vec![]));
    let Expr::Binary(b) = p("a == bool b") else { panic!() };
    assert!(b.return_bool);
    let Expr::Binary(b) = p("a and on() b") else { panic!() };
    assert_eq!(
        (b.matching, b.card),
        (Some(Matching::On(vec![])), Cardinality::ManyToMany)
    );
    let Expr::Binary(b) = p("a + ignoring() b") else {
        panic!()
    };
    assert_eq!(b.matching, None);
    let Expr::Binary(b) = p("1 == bool 2") else { panic!() };
    assert_eq!((b.return_bool, b.matching), (true, None));
    assert_eq!(p("1 == bool 2").value_type(), ValueType::Scalar);
    let Expr::Binary(b) = p(r#"a - on("a.b", bool) b"#) else {
        panic!()
    };
    assert_eq!(b.matching, Some(Matching::On(vec!["a.b".into(), "bool".into()])));
}

#[test]
fn aggregations_and_calls() {
    let Expr::Aggregate(a) = p("sum by (job, instance) (rate(x[5m]))") else {
        panic!()
    };
    assert_eq!(a.grouping, Some(Grouping::By(vec!["job".into(), "instance".into()])));
    let Expr::Aggregate(b) = p("sum(rate(x[5m])) by (job, instance,)") else {
        panic!()
    };
    assert_eq!(a, b);
    let Expr::Aggregate(a) = p("topk without (a) (5, x)") else {
        panic!()
    };
    assert_eq!((a.op, a.param.as_deref()), (AggregateOp::Topk, Some(&num(5.0))));
    assert_eq!(a.grouping, Some(Grouping::Without(vec!["a".into()])));
    let Expr::Aggregate(a) = p("count_values(\"v\", x)") else {
        panic!()
    };
    assert_eq!(a.param.as_deref(), Some(&Expr::String("v".into())));
    let Expr::Aggregate(a) = p("sum by () (x)") else {
        panic!()
    };
    assert_eq!(a.grouping, None);
    assert!(matches!(
        p("limitk(2, x)"),
        Expr::Aggregate(AggregateExpr {
            op: AggregateOp::Limitk,
            ..
        })
    ));
    assert!(matches!(
        p("limit_ratio(0.5, x)"),
        Expr::Aggregate(AggregateExpr {
            op: AggregateOp::LimitRatio,
            ..
        })
    ));
    let Expr::Call(c) = p("label_join(x, \"a\", \",\", \"b\", \"c\", \"d\")") else {
        panic!()
    };
    assert_eq!(c.args.len(), 6);
    assert_eq!(p("time()").value_type(), ValueType::Scalar);
    assert_eq!(p("vector(1)").value_type(), ValueType::Vector);
    assert_eq!(p("step()").value_type(), ValueType::Scalar);
    assert_eq!(p("start() + end()").value_type(), ValueType::Scalar);
    assert_eq!(p("max_of(1, 2)").value_type(), ValueType::Scalar);
    assert!(matches!(p("round(x)"), Expr::Call(_)));
    assert!(matches!(p("round(x, 5)"), Expr::Call(_)));
    assert!(matches!(p("sort_by_label(x, \"a\", \"b\")"), Expr::Call(_)));
    assert!(matches!(p("info(x, {k=~\".+\"})"), Expr::Call(_)));
    assert!(matches!(p("info(x, {__name__=\"target_info\"})"), Expr::Call(_)));
    assert!(matches!(p("info(x)"), Expr::Call(_)));
    assert!(matches!(p("# comment\nsum( # inner\n x)"), Expr::Aggregate(_)));
}

#[test]
fn printer_canonical_forms() {
    let cases = [
        (
            "sum by() (task:errors:rate10s{job=\"s\"})",
            "sum(task:errors:rate10s{job=\"s\"})",
        ),
        (
            "sum by(code) (task:errors:rate10s{job=\"s\"})",
            "sum by (code) (task:errors:rate10s{job=\"s\"})",
        ),
        ("sum without() (x)", "sum without () (x)"),
        ("sum(x) by (\"foo.bar\")", "sum by (\"foo.bar\") (x)"),
        ("topk(5, x)", "topk(5, x)"),
        ("a - on() c", "a - on () c"),
        ("a - on(b) group_left(x, y) c", "a - on (b) group_left (x, y) c"),
        ("a - on(b) group_left c", "a - on (b) group_left () c"),
        ("a - ignoring() c", "a - c"),
        (
            "a - ignoring() group_left(__metric__) c",
            "a - ignoring () group_left (__metric__) c",
        ),
        ("up > bool 0", "up > bool 0"),
        ("a offset 1m", "a offset 1m"),
        ("a offset -7m", "a offset -7m"),
        ("a{c=\"d\"}[5m] offset 1m", "a{c=\"d\"}[5m] offset 1m"),
        ("a[1h:5m] offset 1m", "a[1h:5m] offset 1m"),
        ("a[1h:] @ end()", "a[1h:] @ end()"),
        ("a @ 10", "a @ 10.000"),
        ("a[1m] @ 10", "a[1m] @ 10.000"),
        ("a offset 1m @ start()", "a @ start() offset 1m"),
        ("{__name__=\"a\"}", "{__name__=\"a\"}"),
        ("{__name__=\"\",a=\"x\"}", "{__name__=\"\",a=\"x\"}"),
        ("{\"a.b\"=\"c\"}", "{\"a.b\"=\"c\"}"),
        ("{\"_0\"=\"1\"}", "{_0=\"1\"}"),
        ("{``=\"0\"}", "{\"\"=\"0\"}"),
        ("{\"my.metric\"}", "{__name__=\"my.metric\"}"),
        ("foo{b=\"2\",a=\"1\"}", "foo{a=\"1\",b=\"2\"}"),
        ("1048576", "1048576"),
        ("1e21", "1000000000000000000000"),
        ("-Inf", "-Inf"),
        ("1m", "60"),
        ("'a\"b'", "\"a\\\"b\""),
        ("predict_linear(foo[1h], 3000)", "predict_linear(foo[1h], 3000)"),
        ("-(foo)", "-(foo)"),
        ("foo[90d]", "foo[90d]"),
        ("foo[1d1h]", "foo[1d1h]"),
        ("count by (\"ööö\", job) (foo)", "count by (\"ööö\", job) (foo)"),
        ("foo and on (a) bar", "foo and on (a) bar"),
        ("1 + on() foo", "1 + foo"),
    ];
    for (input, want) in cases {
        assert_eq!(p(input).to_string(), want, "printing {input}");
    }
}
