//! Parser error tests: Prometheus' own failing cases with exact messages and positions, gated features,
//! and the `Display` form of errors.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::parse;

/// Prometheus' own failing cases from `promql/parser/parse_test.go` (v3.14), with exact messages and
/// positions. Cases for features behind other flags (duration expressions) and for invalid UTF-8
/// input (impossible in a `&str`) are left out.
const ERROR_CASES: &[(&str, usize, usize, &str)] = &[
    ("", 0, 0, "no expression found in input"),
    ("# just a comment\n\n", 0, 0, "no expression found in input"),
    ("1+", 2, 2, "unexpected end of input"),
    (".", 0, 1, "unexpected character: '.'"),
    ("2.5.", 0, 4, "bad number or duration syntax: \"2.5.\""),
    ("100..4", 0, 6, "bad number or duration syntax: \"100..\""),
    ("0deadbeef", 0, 9, "bad number or duration syntax: \"0de\""),
    ("1 /", 3, 3, "unexpected end of input"),
    ("*1", 0, 1, "unexpected <op:*>"),
    ("(1))", 4, 4, "unexpected right parenthesis ')'"),
    ("((1)", 4, 4, "unclosed left parenthesis"),
    (
        "999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999",
        0,
        309,
        "error parsing number: strconv.ParseFloat: parsing \"999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999\": value out of range",
    ),
    ("(", 1, 1, "unclosed left parenthesis"),
    (
        "1 and 1",
        0,
        7,
        "set operator \"and\" not allowed in binary scalar expression",
    ),
    ("1 == 1", 2, 3, "comparisons between scalars must use BOOL modifier"),
    (
        "1 or 1",
        0,
        6,
        "set operator \"or\" not allowed in binary scalar expression",
    ),
    (
        "1 unless 1",
        0,
        10,
        "set operator \"unless\" not allowed in binary scalar expression",
    ),
    ("1 !~ 1", 2, 6, "unexpected character after '!': '~'"),
    ("1 =~ 1", 2, 6, "unexpected character after '=': '~'"),
    (
        "-\"string\"",
        0,
        9,
        "unary expression only allowed on expressions of type scalar or instant vector, got \"string\"",
    ),
    (
        "-test[5m]",
        0,
        9,
        "unary expression only allowed on expressions of type scalar or instant vector, got \"range vector\"",
    ),
    ("*test", 0, 1, "unexpected <op:*>"),
    ("@@", 0, 1, "unexpected <op:@>"),
    (
        "1 offset 1d",
        0,
        1,
        "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
    ),
    ("foo offset 1s offset 2s", 0, 13, "offset may not be set multiple times"),
    ("a - on(b) ignoring(c) d", 10, 18, "unexpected <ignoring>"),
    (
        "foo and 1",
        0,
        9,
        "set operator \"and\" not allowed in binary scalar expression",
    ),
    (
        "1 and foo",
        0,
        9,
        "set operator \"and\" not allowed in binary scalar expression",
    ),
    (
        "foo or 1",
        0,
        8,
        "set operator \"or\" not allowed in binary scalar expression",
    ),
    (
        "1 or foo",
        0,
        8,
        "set operator \"or\" not allowed in binary scalar expression",
    ),
    (
        "foo unless 1",
        0,
        12,
        "set operator \"unless\" not allowed in binary scalar expression",
    ),
    (
        "1 unless foo",
        0,
        12,
        "set operator \"unless\" not allowed in binary scalar expression",
    ),
    (
        "1 or on(bar) foo",
        0,
        16,
        "vector matching only allowed between instant vectors",
    ),
    (
        "foo == on(bar) 10",
        0,
        17,
        "vector matching only allowed between instant vectors",
    ),
    ("foo + group_left(baz) bar", 6, 16, "unexpected <group_left>"),
    (
        "foo and on(bar) group_left(baz) bar",
        0,
        35,
        "no grouping allowed for \"and\" operation",
    ),
    (
        "foo and on(bar) group_right(baz) bar",
        0,
        36,
        "no grouping allowed for \"and\" operation",
    ),
    (
        "foo or on(bar) group_left(baz) bar",
        0,
        34,
        "no grouping allowed for \"or\" operation",
    ),
    (
        "foo or on(bar) group_right(baz) bar",
        0,
        35,
        "no grouping allowed for \"or\" operation",
    ),
    (
        "foo unless on(bar) group_left(baz) bar",
        0,
        38,
        "no grouping allowed for \"unless\" operation",
    ),
    (
        "foo unless on(bar) group_right(baz) bar",
        0,
        39,
        "no grouping allowed for \"unless\" operation",
    ),
    (
        "http_requests{group=\"production\"} + on(instance) group_left(job,instance) cpu_count{type=\"smp\"}",
        34,
        72,
        "label \"instance\" must not occur in ON and GROUP clause at once",
    ),
    (
        "foo + bool bar",
        4,
        9,
        "bool modifier can only be used on comparison operators",
    ),
    (
        "foo + bool 10",
        4,
        9,
        "bool modifier can only be used on comparison operators",
    ),
    (
        "foo and bool 10",
        4,
        11,
        "bool modifier can only be used on comparison operators",
    ),
    (
        "http_requests{group=\"production\"} + on(instance) group_left(job,instance) cpu_count{type=\"smp\"}",
        34,
        72,
        "label \"instance\" must not occur in ON and GROUP clause at once",
    ),
    ("foo @ +Inf", 0, 3, "timestamp out of bounds for @ modifier: +Inf"),
    ("foo @ -Inf", 0, 3, "timestamp out of bounds for @ modifier: -Inf"),
    ("foo @ NaN", 0, 3, "timestamp out of bounds for @ modifier: NaN"),
    ("{", 1, 1, "unexpected end of input inside braces"),
    ("}", 0, 1, "unexpected character: '}'"),
    ("some{", 5, 5, "unexpected end of input inside braces"),
    ("some}", 4, 5, "unexpected character: '}'"),
    (
        "some_metric{a=b}",
        14,
        15,
        "unexpected identifier \"b\" in label matching, expected string",
    ),
    (
        "some_metric{a:b=\"b\"}",
        13,
        20,
        "unexpected character inside braces: ':'",
    ),
    ("foo{a*\"b\"}", 5, 10, "unexpected character inside braces: '*'"),
    ("foo{a>=\"b\"}", 5, 11, "unexpected character inside braces: '>'"),
    (
        "foo{gibberish}",
        13,
        14,
        "unexpected \"}\" in label matching, expected label matching operator",
    ),
    ("foo{1}", 4, 6, "unexpected character inside braces: '1'"),
    (
        "{}",
        0,
        2,
        "vector selector must contain at least one non-empty matcher",
    ),
    (
        "{x=\"\"}",
        0,
        6,
        "vector selector must contain at least one non-empty matcher",
    ),
    (
        "{x=~\".*\"}",
        0,
        9,
        "vector selector must contain at least one non-empty matcher",
    ),
    (
        "{x!~\".+\"}",
        0,
        9,
        "vector selector must contain at least one non-empty matcher",
    ),
    (
        "{x!=\"a\"}",
        0,
        8,
        "vector selector must contain at least one non-empty matcher",
    ),
    (
        "foo{__name__=\"bar\"}",
        0,
        19,
        "metric name must not be set twice: \"foo\" or \"bar\"",
    ),
    (
        "foo{__name__= =}",
        14,
        15,
        "unexpected \"=\" in label matching, expected string",
    ),
    (
        "foo{,}",
        4,
        5,
        "unexpected \",\" in label matching, expected identifier or \"}\"",
    ),
    (
        "foo{__name__ == \"bar\"}",
        14,
        15,
        "unexpected \"=\" in label matching, expected string",
    ),
    (
        "foo{__name__=\"bar\" lol}",
        19,
        22,
        "unexpected identifier \"lol\" in label matching, expected \",\" or \"}\"",
    ),
    (
        "foo{\"a\"=}",
        8,
        9,
        "unexpected \"}\" in label matching, expected string",
    ),
    ("foo[5mm]", 4, 8, "bad number or duration syntax: \"5mm\""),
    ("foo[5m1]", 4, 8, "bad number or duration syntax: \"5m1\""),
    ("foo[5m:1m1]", 7, 11, "bad number or duration syntax: \"1m1\""),
    ("foo[5y1hs]", 4, 9, "unknown unit \"hs\" in duration \"5y1hs\""),
    ("foo[5m1h]", 4, 8, "not a valid duration string: \"5m1h\""),
    ("foo[5m1m]", 4, 8, "not a valid duration string: \"5m1m\""),
    ("foo[0m]", 4, 6, "duration must be greater than 0"),
    ("foo[\"5m\"]", 4, 9, "unexpected character in duration expression: '\"'"),
    (
        "foo[]",
        4,
        5,
        "unexpected \"]\" in subquery or range selector, expected number, duration, step(), or range()",
    ),
    ("foo[-1]", 4, 6, "duration must be greater than 0"),
    (
        "some_metric[5m] OFFSET 1mm",
        23,
        26,
        "bad number or duration syntax: \"1mm\"",
    ),
    (
        "some_metric[5m] OFFSET",
        22,
        22,
        "unexpected end of input in offset, expected number, duration, step(), or range()",
    ),
    (
        "some_metric OFFSET 1m[5m]",
        21,
        25,
        "no offset modifiers allowed before range",
    ),
    (
        "some_metric[5m] @",
        17,
        17,
        "unexpected end of input in @, expected timestamp",
    ),
    ("some_metric @ 1234 [5m]", 19, 23, "no @ modifiers allowed before range"),
    (
        "some_metric @ start() [5m]",
        22,
        26,
        "no @ modifiers allowed before range",
    ),
    ("some_metric @ end()[5m]", 19, 23, "no @ modifiers allowed before range"),
    ("(foo + bar)[5m]", 11, 15, "ranges only allowed for vector selectors"),
    ("sum by (\"foo)(some_metric{})", 8, 28, "unterminated quoted string"),
    (
        "sum without(==)(some_metric)",
        12,
        14,
        "unexpected <op:==> in grouping opts, expected label",
    ),
    (
        "sum without(,)(some_metric)",
        12,
        13,
        "unexpected \",\" in grouping opts, expected label",
    ),
    (
        "sum without(foo,,)(some_metric)",
        16,
        17,
        "unexpected \",\" in grouping opts, expected label",
    ),
    (
        "sum some_metric by (test)",
        4,
        15,
        "unexpected identifier \"some_metric\"",
    ),
    (
        "sum (some_metric) by test",
        21,
        25,
        "unexpected identifier \"test\" in grouping opts, expected \"(\"",
    ),
    (
        "sum () by (test)",
        0,
        16,
        "no arguments for aggregate expression provided",
    ),
    (
        "MIN keep_common (some_metric)",
        4,
        15,
        "unexpected identifier \"keep_common\"",
    ),
    (
        "MIN (some_metric) keep_common",
        18,
        29,
        "unexpected identifier \"keep_common\"",
    ),
    ("sum (some_metric) without (test) by (test)", 33, 35, "unexpected <by>"),
    ("sum without (test) (some_metric) by (test)", 33, 35, "unexpected <by>"),
    (
        "topk(some_metric)",
        0,
        17,
        "wrong number of arguments for aggregate expression provided, expected 2, got 1",
    ),
    (
        "topk(some_metric,)",
        16,
        17,
        "trailing commas not allowed in function call args",
    ),
    (
        "topk(some_metric, other_metric)",
        5,
        16,
        "expected type scalar in aggregation parameter, got instant vector",
    ),
    (
        "count_values(5, other_metric)",
        13,
        14,
        "expected type string in aggregation parameter, got scalar",
    ),
    (
        "rate(some_metric[5m]) @ 1234",
        0,
        21,
        "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery",
    ),
    ("floor()", 0, 7, "expected 1 argument(s) in call to \"floor\", got 0"),
    (
        "floor(some_metric, other_metric)",
        0,
        32,
        "expected 1 argument(s) in call to \"floor\", got 2",
    ),
    (
        "floor(some_metric, 1)",
        0,
        21,
        "expected 1 argument(s) in call to \"floor\", got 2",
    ),
    (
        "floor(1)",
        6,
        7,
        "expected type instant vector in call to function \"floor\", got scalar",
    ),
    (
        "hour(some_metric, some_metric, some_metric)",
        0,
        43,
        "expected at most 1 argument(s) in call to \"hour\", got 3",
    ),
    (
        "time(some_metric)",
        0,
        17,
        "expected 0 argument(s) in call to \"time\", got 1",
    ),
    (
        "non_existent_function_far_bar()",
        0,
        29,
        "unknown function with name \"non_existent_function_far_bar\"",
    ),
    (
        "rate(some_metric)",
        5,
        16,
        "expected type range vector in call to function \"rate\", got instant vector",
    ),
    ("*1", 0, 1, "unexpected <op:*>"),
    ("-=", 1, 2, "unexpected \"=\""),
    ("++-++-+-+-<", 10, 11, "unexpected <op:<>"),
    ("e-+=/(0)", 3, 4, "unexpected \"=\""),
    ("a>b()", 2, 3, "unknown function with name \"b\""),
    (
        "rate(avg)",
        5,
        8,
        "expected type range vector in call to function \"rate\", got instant vector",
    ),
    ("`\\``", 3, 4, "unterminated raw string"),
    ("\"\\", 0, 2, "escape sequence not terminated"),
    ("\"\\c\"", 0, 4, "unknown escape sequence U+0063 'c'"),
    ("\"\\x.\"", 0, 5, "illegal character U+002E '.' in escape sequence"),
    (
        "foo{bar=\"baz\"}[",
        15,
        15,
        "unexpected end of input in duration expression",
    ),
    (
        "test[5d] OFFSET 10s [10m:5s]",
        0,
        28,
        "subquery is only allowed on instant vector, got matrix instead",
    ),
    (
        "(foo + bar{nm=\"val\"})[5m:][10m:5s]",
        0,
        34,
        "subquery is only allowed on instant vector, got matrix instead",
    ),
    (
        "rate(food[1m])[1h] offset 1h",
        14,
        18,
        "ranges only allowed for vector selectors",
    ),
    (
        "rate(food[1m])[1h] @ 100",
        14,
        18,
        "ranges only allowed for vector selectors",
    ),
    (
        "info(rate(http_request_counter_total{}[5m]), target_info{foo=\"bar\"})",
        45,
        67,
        "expected label selectors only, got vector selector instead",
    ),
    (
        "info(http_request_counter_total{namespace=\"zzz\"}, {foo=\"bar\"} == 1)",
        50,
        66,
        "expected label selectors only",
    ),
    (
        "foo[step]",
        8,
        9,
        "unexpected \"]\" in subquery or range selector, expected number, duration, step(), or range()",
    ),
    ("foo offset 9.5e10", 11, 17, "duration out of range"),
    ("foo[9.5e10]", 4, 10, "duration out of range"),
    ("sum(", 4, 4, "unclosed left parenthesis"),
    ("sum(rate(", 9, 9, "unclosed left parenthesis"),
    ("foo[5s x 5s]", 7, 12, "unexpected character: 'x', expected ':'"),
    ("foo[5s s 5s]", 7, 12, "unexpected character: 's', expected ':'"),
    ("1[5m] smoothed", 1, 5, "ranges only allowed for vector selectors"),
    ("1[5m] anchored", 1, 5, "ranges only allowed for vector selectors"),
];

#[test]
fn prometheus_error_messages() {
    let mut wrong = Vec::new();
    for &(input, start, end, msg) in ERROR_CASES {
        match parse(input) {
            Ok(e) => wrong.push(format!("{input:?}: parsed as {e}, want error {msg:?}")),
            Err(e) if e.message != msg || e.start != start || e.end != end => wrong.push(format!(
                "{input:?}: got {:?} at {}..{}, want {msg:?} at {start}..{end}",
                e.message, e.start, e.end
            )),
            Err(_) => {}
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} wrong:\n{}",
        wrong.len(),
        ERROR_CASES.len(),
        wrong.join("\n")
    );
}

#[test]
fn gated_features_are_rejected_like_prometheus_defaults() {
    let cases = [
        ("foo[5m+1m]", "experimental duration expression is not enabled"),
        ("foo[step()]", "experimental duration expression is not enabled"),
        ("foo offset (5m)", "experimental duration expression is not enabled"),
        ("foo[5m:step()]", "experimental duration expression is not enabled"),
        ("a + fill(0) b", "binop fill modifiers are experimental and not enabled"),
        ("a[5m] anchored", "anchored modifier is experimental and not enabled"),
        ("a smoothed", "smoothed modifier is experimental and not enabled"),
    ];
    for (input, msg) in cases {
        assert_eq!(parse(input).unwrap_err().message, msg, "{input}");
    }
    assert!(parse("a </ b").is_err());
}

#[test]
fn display_has_prometheus_position_prefix() {
    assert_eq!(
        parse("1 +").unwrap_err().to_string(),
        "1:4: parse error: unexpected end of input"
    );
    assert_eq!(
        parse("foo +\n  *").unwrap_err().to_string(),
        "2:3: parse error: unexpected <op:*>"
    );
    let e = parse("rate(foo)").unwrap_err();
    assert_eq!(
        e.to_string(),
        "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector"
    );
    assert_eq!((e.start, e.end), (5, 8));
}

#[test]
fn more_errors() {
    let cases = [
        ("sum(a b)", "unexpected identifier \"b\" in aggregation"),
        ("rate(a b)", "unexpected identifier \"b\""),
        ("sum by (a)", "unexpected end of input in aggregation"),
        ("foo{a=~\"(\"}", "error parsing regexp: unclosed group"),
        (
            "quantile(\"a\", x)",
            "expected type scalar in aggregation parameter, got string",
        ),
        (
            "sum(x[5m])",
            "expected type instant vector in aggregation expression, got range vector",
        ),
        ("abs(1, 2)", "expected 1 argument(s) in call to \"abs\", got 2"),
        (
            "label_join(x, \"a\")",
            "expected at least 3 argument(s) in call to \"label_join\", got 2",
        ),
        (
            "round(x, 1, 2)",
            "expected at most 2 argument(s) in call to \"round\", got 3",
        ),
        (
            "foo[5m] + 1",
            "binary expression must contain only scalar and instant vector types",
        ),
        (
            "\"a\" + 1",
            "binary expression must contain only scalar and instant vector types",
        ),
        ("foo[5m:0s]", "duration must be greater than 0"),
        ("foo @ 1 @ 2", "@ <timestamp> may not be set multiple times"),
        ("foo[1.5m]", "unknown unit \".\" in duration \"1.5m\""),
        ("foo[300y]", "duration out of range"),
        ("sum by (\"\") (x)", "invalid label name for grouping: \"\""),
    ];
    for (input, msg) in cases {
        assert_eq!(parse(input).unwrap_err().message, msg, "{input}");
    }
}
