//! The multi-line formatter behind Prometheus' `/api/v1/format_query` (`Prettify` in
//! `promql/parser/prettier.go`): expressions longer than 100 characters are split over indented lines;
//! shorter ones print exactly as `Display` does.

use std::fmt::Write;

use super::ast::{Expr, Grouping};

/// Prometheus' `maxCharactersPerLine`.
const MAX_CHARACTERS_PER_LINE: usize = 100;

fn indent(level: usize) -> String {
    "  ".repeat(level)
}

/// Whether Prometheus would split this expression over several lines.
fn needs_split(e: &Expr, width: usize) -> bool {
    e.to_string().len() > width
}

/// The binary operator's modifiers as `Display` prints them: ` bool on (a) group_left (b)`.
fn binary_modifiers(printed: &str, lhs: &str, rhs: &str) -> String {
    // `lhs <op><modifiers> rhs`: cut the two operands off the single-line form.
    printed
        .get(lhs.len() + 1..printed.len().saturating_sub(rhs.len() + 1))
        .unwrap_or("")
        .to_owned()
}

impl Expr {
    /// Formats the expression as Prometheus' `/api/v1/format_query` does.
    pub fn pretty(&self) -> String {
        self.pretty_at(0, MAX_CHARACTERS_PER_LINE)
    }

    fn pretty_at(&self, level: usize, width: usize) -> String {
        let ind = indent(level);
        match self {
            Expr::Aggregate(a) => {
                if !needs_split(self, width) {
                    return format!("{ind}{self}");
                }
                let mut s = format!("{ind}{}", a.op.name());
                match &a.grouping {
                    Some(Grouping::Without(l)) => {
                        let _ = write!(s, " without ({}) ", labels(l));
                    }
                    Some(Grouping::By(l)) if !l.is_empty() => {
                        let _ = write!(s, " by ({}) ", labels(l));
                    }
                    _ => {}
                }
                s.push_str("(\n");
                if let Some(p) = &a.param {
                    let _ = writeln!(s, "{},", p.pretty_at(level + 1, width));
                }
                let _ = write!(s, "{}\n{ind})", a.expr.pretty_at(level + 1, width));
                s
            }
            Expr::Binary(b) => {
                if !needs_split(self, width) {
                    return format!("{ind}{self}");
                }
                let printed = self.to_string();
                let op = binary_modifiers(&printed, &b.lhs.to_string(), &b.rhs.to_string());
                format!(
                    "{}\n{ind}{op}\n{}",
                    b.lhs.pretty_at(level + 1, width),
                    b.rhs.pretty_at(level + 1, width)
                )
            }
            Expr::Call(c) => {
                if !needs_split(self, width) {
                    return format!("{ind}{self}");
                }
                let args: Vec<String> = c.args.iter().map(|a| a.pretty_at(level + 1, width)).collect();
                format!("{ind}{}(\n{}\n{ind})", c.func, args.join(",\n"))
            }
            Expr::Paren(e) => {
                if !needs_split(self, width) {
                    return format!("{ind}{self}");
                }
                format!("{ind}(\n{}\n{ind})", e.pretty_at(level + 1, width))
            }
            Expr::Subquery(sq) => {
                if !needs_split(self, width) {
                    // Prometheus does not indent a subquery that fits on one line.
                    return self.to_string();
                }
                let inner = sq.expr.to_string();
                let printed = self.to_string();
                let suffix = printed.get(inner.len()..).unwrap_or("");
                format!("{}{suffix}", sq.expr.pretty_at(level, width))
            }
            Expr::Unary(op, e) => {
                let sign = if *op == super::ast::UnaryOp::Neg { "-" } else { "+" };
                format!("{ind}{sign}{}", e.pretty_at(level, width).trim())
            }
            Expr::Number(_) | Expr::String(_) | Expr::VectorSelector(_) | Expr::MatrixSelector(_) => {
                format!("{ind}{self}")
            }
        }
    }
}

/// Grouping labels as the printer writes them.
fn labels(l: &[String]) -> String {
    l.iter()
        .map(|n| {
            let legacy = n.chars().next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
                && n.chars().all(|c| c == '_' || c.is_ascii_alphanumeric());
            if legacy {
                n.clone()
            } else {
                super::literals::go_quote(n)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::parse;

    /// Prometheus' `prettier_test.go` cases (run there with a line width of 10).
    const CASES: &[(&str, &str)] = &[
        (r#"sum(foo)"#, r#"sum(foo)"#),
        (
            r#"sum by() (task:errors:rate10s{job="s"})"#,
            r#"sum(
  task:errors:rate10s{job="s"}
)"#,
        ),
        (
            r#"sum without(job,foo) (task:errors:rate10s{job="s"})"#,
            r#"sum without (job, foo) (
  task:errors:rate10s{job="s"}
)"#,
        ),
        (
            r#"sum(task:errors:rate10s{job="s"}) without(job,foo)"#,
            r#"sum without (job, foo) (
  task:errors:rate10s{job="s"}
)"#,
        ),
        (
            r#"sum by(job,foo) (task:errors:rate10s{job="s"})"#,
            r#"sum by (job, foo) (
  task:errors:rate10s{job="s"}
)"#,
        ),
        (
            r#"sum (task:errors:rate10s{job="s"}) by(job,foo)"#,
            r#"sum by (job, foo) (
  task:errors:rate10s{job="s"}
)"#,
        ),
        (
            r#"topk(10, ask:errors:rate10s{job="s"})"#,
            r#"topk(
  10,
  ask:errors:rate10s{job="s"}
)"#,
        ),
        (
            r#"sum by(job,foo) (sum by(job,foo) (task:errors:rate10s{job="s"}))"#,
            r#"sum by (job, foo) (
  sum by (job, foo) (
    task:errors:rate10s{job="s"}
  )
)"#,
        ),
        (
            r#"sum by(job,foo) (sum by(job,foo) (sum by(job,foo) (task:errors:rate10s{job="s"})))"#,
            r#"sum by (job, foo) (
  sum by (job, foo) (
    sum by (job, foo) (
      task:errors:rate10s{job="s"}
    )
  )
)"#,
        ),
        (
            r#"sum by(job,foo)
(sum by(job,foo) (task:errors:rate10s{job="s"}))"#,
            r#"sum by (job, foo) (
  sum by (job, foo) (
    task:errors:rate10s{job="s"}
  )
)"#,
        ),
        (
            r#"sum by(job,foo)
(sum(task:errors:rate10s{job="s"}) without(job,foo))"#,
            r#"sum by (job, foo) (
  sum without (job, foo) (
    task:errors:rate10s{job="s"}
  )
)"#,
        ),
        (
            r#"sum by(job,foo) # Comment 1.
(sum by(job,foo) ( # Comment 2.
task:errors:rate10s{job="s"}))"#,
            r#"sum by (job, foo) (
  sum by (job, foo) (
    task:errors:rate10s{job="s"}
  )
)"#,
        ),
        (r#"a+b"#, r#"a + b"#),
        (
            r#"a == bool 1"#,
            r#"  a
== bool
  1"#,
        ),
        (
            r#"a + ignoring(job) b"#,
            r#"  a
+ ignoring (job)
  b"#,
        ),
        (
            r#"foo_1 + foo_2"#,
            r#"  foo_1
+
  foo_2"#,
        ),
        (
            r#"foo_1 + foo_2 + foo_3"#,
            r#"    foo_1
  +
    foo_2
+
  foo_3"#,
        ),
        (
            r#"foo + baar + foo_3"#,
            r#"  foo + baar
+
  foo_3"#,
        ),
        (
            r#"foo_1 + foo_2 + foo_3 + foo_4"#,
            r#"      foo_1
    +
      foo_2
  +
    foo_3
+
  foo_4"#,
        ),
        (
            r#"foo_1 + ignoring(foo) foo_2 + ignoring(job) group_left foo_3 + on(instance) group_right foo_4"#,
            r#"      foo_1
    + ignoring (foo)
      foo_2
  + ignoring (job) group_left ()
    foo_3
+ on (instance) group_right ()
  foo_4"#,
        ),
        (
            r#"rate(foo[1m])"#,
            r#"rate(
  foo[1m]
)"#,
        ),
        (
            r#"sum_over_time(foo[1m])"#,
            r#"sum_over_time(
  foo[1m]
)"#,
        ),
        (
            r#"rate(long_vector_selector[10m:1m] @ start() offset 1m)"#,
            r#"rate(
  long_vector_selector[10m:1m] @ start() offset 1m
)"#,
        ),
        (
            r#"histogram_quantile(0.9, rate(foo[1m]))"#,
            r#"histogram_quantile(
  0.9,
  rate(
    foo[1m]
  )
)"#,
        ),
        (
            r#"max_over_time(rate(demo_api_request_duration_seconds_count[1m])[1m:] @ start() offset 1m)"#,
            r#"max_over_time(
  rate(
    demo_api_request_duration_seconds_count[1m]
  )[1m:] @ start() offset 1m
)"#,
        ),
        (
            r#"label_replace(up{job="api-server",service="a:c"}, "foo", "$1", "service", "(.*):.*")"#,
            r#"label_replace(
  up{job="api-server",service="a:c"},
  "foo",
  "$1",
  "service",
  "(.*):.*"
)"#,
        ),
        (
            r#"label_replace(label_replace(up{job="api-server",service="a:c"}, "foo", "$1", "service", "(.*):.*"), "foo", "$1", "service", "(.*):.*")"#,
            r#"label_replace(
  label_replace(
    up{job="api-server",service="a:c"},
    "foo",
    "$1",
    "service",
    "(.*):.*"
  ),
  "foo",
  "$1",
  "service",
  "(.*):.*"
)"#,
        ),
        (r#"(foo)"#, r#"(foo)"#),
        (
            r#"(_foo_long_)"#,
            r#"(
  _foo_long_
)"#,
        ),
        (
            r#"((foo_long))"#,
            r#"(
  (foo_long)
)"#,
        ),
        (
            r#"((_foo_long_))"#,
            r#"(
  (
    _foo_long_
  )
)"#,
        ),
        (
            r#"(((foo_long)))"#,
            r#"(
  (
    (foo_long)
  )
)"#,
        ),
        (r#"a @ 1"#, r#"a @ 1.000"#),
        (r#"a @ start()"#, r#"a @ start()"#),
        (r#"vector_selector @ start()"#, r#"vector_selector @ start()"#),
        (r#"(1 + 2)"#, r#"(1 + 2)"#),
        (
            r#"(foo + bar)"#,
            r#"(
  foo + bar
)"#,
        ),
        (
            r#"(foo_long + bar_long)"#,
            r#"(
    foo_long
  +
    bar_long
)"#,
        ),
        (
            r#"(foo_long + bar_long + bar_2_long)"#,
            r#"(
      foo_long
    +
      bar_long
  +
    bar_2_long
)"#,
        ),
        (
            r#"((foo_long + bar_long) + bar_2_long)"#,
            r#"(
    (
        foo_long
      +
        bar_long
    )
  +
    bar_2_long
)"#,
        ),
        (
            r#"(1111 + 2222)"#,
            r#"(
    1111
  +
    2222
)"#,
        ),
        (
            r#"(sum_over_time(foo[1m]))"#,
            r#"(
  sum_over_time(
    foo[1m]
  )
)"#,
        ),
        (
            r#"histogram_quantile(0.9, rate(foo[1m] @ start()))"#,
            r#"histogram_quantile(
  0.9,
  rate(
    foo[1m] @ start()
  )
)"#,
        ),
        (
            r#"(label_replace(up{job="api-server",service="a:c"}, "foo", "$1", "service", "(.*):.*"))"#,
            r#"(
  label_replace(
    up{job="api-server",service="a:c"},
    "foo",
    "$1",
    "service",
    "(.*):.*"
  )
)"#,
        ),
        (
            r#"(label_replace(label_replace(up{job="api-server",service="a:c"}, "foo", "$1", "service", "(.*):.*"), "foo", "$1", "service", "(.*):.*"))"#,
            r#"(
  label_replace(
    label_replace(
      up{job="api-server",service="a:c"},
      "foo",
      "$1",
      "service",
      "(.*):.*"
    ),
    "foo",
    "$1",
    "service",
    "(.*):.*"
  )
)"#,
        ),
        (
            r#"(label_replace(label_replace((up{job="api-server",service="a:c"}), "foo", "$1", "service", "(.*):.*"), "foo", "$1", "service", "(.*):.*"))"#,
            r#"(
  label_replace(
    label_replace(
      (
        up{job="api-server",service="a:c"}
      ),
      "foo",
      "$1",
      "service",
      "(.*):.*"
    ),
    "foo",
    "$1",
    "service",
    "(.*):.*"
  )
)"#,
        ),
        (
            r#"(node_filesystem_avail_bytes{job="node",fstype!=""} / node_filesystem_size_bytes{job="node",fstype!=""} * 100 < 40 and predict_linear(node_filesystem_avail_bytes{job="node",fstype!=""}[6h], 24*60*60) < 0 and node_filesystem_readonly{job="node",fstype!=""} == 0)"#,
            r#"(
            node_filesystem_avail_bytes{fstype!="",job="node"}
          /
            node_filesystem_size_bytes{fstype!="",job="node"}
        *
          100
      <
        40
    and
        predict_linear(
          node_filesystem_avail_bytes{fstype!="",job="node"}[6h],
            24 * 60
          *
            60
        )
      <
        0
  and
      node_filesystem_readonly{fstype!="",job="node"}
    ==
      0
)"#,
        ),
        (
            r#"(node_filesystem_avail_bytes{job="node",fstype!=""} / node_filesystem_size_bytes{job="node",fstype!=""} * 100 < 20 and predict_linear(node_filesystem_avail_bytes{job="node",fstype!=""}[6h], 4*60*60) < 0 and node_filesystem_readonly{job="node",fstype!=""} == 0)"#,
            r#"(
            node_filesystem_avail_bytes{fstype!="",job="node"}
          /
            node_filesystem_size_bytes{fstype!="",job="node"}
        *
          100
      <
        20
    and
        predict_linear(
          node_filesystem_avail_bytes{fstype!="",job="node"}[6h],
            4 * 60
          *
            60
        )
      <
        0
  and
      node_filesystem_readonly{fstype!="",job="node"}
    ==
      0
)"#,
        ),
        (
            r#"(node_timex_offset_seconds > 0.05 and deriv(node_timex_offset_seconds[5m]) >= 0) or (node_timex_offset_seconds < -0.05 and deriv(node_timex_offset_seconds[5m]) <= 0)"#,
            r#"  (
        node_timex_offset_seconds
      >
        0.05
    and
        deriv(
          node_timex_offset_seconds[5m]
        )
      >=
        0
  )
or
  (
        node_timex_offset_seconds
      <
        -0.05
    and
        deriv(
          node_timex_offset_seconds[5m]
        )
      <=
        0
  )"#,
        ),
        (
            r#"1 - ((node_memory_MemAvailable_bytes{job="node"} or (node_memory_Buffers_bytes{job="node"} + node_memory_Cached_bytes{job="node"} + node_memory_MemFree_bytes{job="node"} + node_memory_Slab_bytes{job="node"}) ) / node_memory_MemTotal_bytes{job="node"})"#,
            r#"  1
-
  (
      (
          node_memory_MemAvailable_bytes{job="node"}
        or
          (
                  node_memory_Buffers_bytes{job="node"}
                +
                  node_memory_Cached_bytes{job="node"}
              +
                node_memory_MemFree_bytes{job="node"}
            +
              node_memory_Slab_bytes{job="node"}
          )
      )
    /
      node_memory_MemTotal_bytes{job="node"}
  )"#,
        ),
        (
            r#"min by (job, integration) (rate(alertmanager_notifications_failed_total{job="alertmanager", integration=~".*"}[5m]) / rate(alertmanager_notifications_total{job="alertmanager", integration="~.*"}[5m])) > 0.01"#,
            r#"  min by (job, integration) (
      rate(
        alertmanager_notifications_failed_total{integration=~".*",job="alertmanager"}[5m]
      )
    /
      rate(
        alertmanager_notifications_total{integration="~.*",job="alertmanager"}[5m]
      )
  )
>
  0.01"#,
        ),
        (
            r#"(count by (job) (changes(process_start_time_seconds{job="alertmanager"}[10m]) > 4) / count by (job) (up{job="alertmanager"})) >= 0.5"#,
            r#"  (
      count by (job) (
          changes(
            process_start_time_seconds{job="alertmanager"}[10m]
          )
        >
          4
      )
    /
      count by (job) (
        up{job="alertmanager"}
      )
  )
>=
  0.5"#,
        ),
        (r#"-1"#, r#"-1"#),
        (r#"-vector_selector"#, r#"-vector_selector"#),
        (
            r#"(-vector_selector)"#,
            r#"(
  -vector_selector
)"#,
        ),
        (
            r#"-histogram_quantile(0.9,rate(foo[1m]))"#,
            r#"-histogram_quantile(
  0.9,
  rate(
    foo[1m]
  )
)"#,
        ),
        (
            r#"-histogram_quantile(0.99, sum by (le) (rate(foo[1m])))"#,
            r#"-histogram_quantile(
  0.99,
  sum by (le) (
    rate(
      foo[1m]
    )
  )
)"#,
        ),
        (
            r#"-histogram_quantile(0.9, -rate(foo[1m] @ start()))"#,
            r#"-histogram_quantile(
  0.9,
  -rate(
    foo[1m] @ start()
  )
)"#,
        ),
        (
            r#"(-histogram_quantile(0.9, -rate(foo[1m] @ start())))"#,
            r#"(
  -histogram_quantile(
    0.9,
    -rate(
      foo[1m] @ start()
    )
  )
)"#,
        ),
    ];

    #[test]
    fn prometheus_prettier_cases() {
        let mut wrong = Vec::new();
        for (input, want) in CASES {
            let got = parse(input).unwrap().pretty_at(0, 10);
            if got != *want {
                wrong.push(format!("{input}\n--- got:\n{got}\n--- want:\n{want}"));
            }
        }
        assert!(
            wrong.is_empty(),
            "{} of {} wrong:\n{}",
            wrong.len(),
            CASES.len(),
            wrong.join("\n\n")
        );
    }

    #[test]
    fn default_width_is_100() {
        let q = format!("max by (a) ({})", "x".repeat(90));
        assert_eq!(
            parse(&q).unwrap().pretty(),
            format!("max by (a) (\n  {}\n)", "x".repeat(90))
        );
        let q = format!("max by (a) ({})", "x".repeat(80));
        assert_eq!(parse(&q).unwrap().pretty(), q);
    }
}
