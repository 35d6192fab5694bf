//! The printer: `Display` for [`Expr`] in Prometheus' canonical single-line format (`Expr.String()` in
//! `promql/parser/printer.go`), so that `parse(&e.to_string()) == e` up to matcher order (the printer
//! sorts matchers, as Prometheus does).

use std::fmt::{self, Write};

use strata_storage::{LabelMatcher, METRIC_NAME};

use super::ast::{AtModifier, Cardinality, Expr, Grouping, Matching, UnaryOp, VectorSelector};
use super::check::op_name as binary_op_name;
use super::literals::{format_duration, format_float, go_quote};

/// Whether a label name needs quoting (not a legacy `[a-zA-Z_][a-zA-Z0-9_]*` name).
fn needs_quoting(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        None => true,
        Some(c) if c == '_' || c.is_ascii_alphabetic() => !chars.all(|c| c == '_' || c.is_ascii_alphanumeric()),
        Some(_) => true,
    }
}

fn write_label(f: &mut impl Write, name: &str) -> fmt::Result {
    if needs_quoting(name) {
        f.write_str(&go_quote(name))
    } else {
        f.write_str(name)
    }
}

fn write_labels(f: &mut impl Write, labels: &[String]) -> fmt::Result {
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write_label(f, l)?;
    }
    Ok(())
}

/// `labels.Matcher.String()`.
fn matcher_string(m: &LabelMatcher) -> String {
    let mut s = String::new();
    let _ = write_label(&mut s, &m.name);
    s.push_str(m.op.as_str());
    s.push_str(&go_quote(&m.value));
    s
}

/// ` offset 5m` / ` offset -5m` / nothing.
fn write_offset(f: &mut fmt::Formatter<'_>, offset: i64) -> fmt::Result {
    match offset.cmp(&0) {
        std::cmp::Ordering::Greater => write!(f, " offset {}", format_duration(offset)),
        std::cmp::Ordering::Less => write!(f, " offset -{}", format_duration(offset)),
        std::cmp::Ordering::Equal => Ok(()),
    }
}

/// ` @ 10.000` / ` @ start()` / ` @ end()` / nothing.
fn write_at(f: &mut fmt::Formatter<'_>, at: Option<AtModifier>) -> fmt::Result {
    match at {
        Some(AtModifier::Timestamp(ms)) => write!(f, " @ {:.3}", ms as f64 / 1000.0),
        Some(AtModifier::Start) => f.write_str(" @ start()"),
        Some(AtModifier::End) => f.write_str(" @ end()"),
        None => Ok(()),
    }
}

/// The selector without its modifiers: `name{sorted matchers}`.
fn write_selector_body(f: &mut fmt::Formatter<'_>, vs: &VectorSelector) -> fmt::Result {
    let name = vs.name.as_deref().unwrap_or("");
    let mut strs: Vec<String> = vs
        .matchers
        .iter()
        .filter(|m| {
            !(m.name == METRIC_NAME && m.op == strata_storage::MatchOp::Equal && m.value == name && !m.value.is_empty())
        })
        .map(matcher_string)
        .collect();
    f.write_str(name)?;
    if !strs.is_empty() {
        strs.sort();
        write!(f, "{{{}}}", strs.join(","))?;
    }
    Ok(())
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Number(v) => f.write_str(&format_float(*v)),
            Expr::String(s) => f.write_str(&go_quote(s)),
            Expr::VectorSelector(vs) => {
                write_selector_body(f, vs)?;
                write_at(f, vs.at)?;
                write_offset(f, vs.offset)
            }
            Expr::MatrixSelector(m) => {
                write_selector_body(f, &m.selector)?;
                write!(f, "[{}]", format_duration(m.range))?;
                write_at(f, m.selector.at)?;
                write_offset(f, m.selector.offset)
            }
            Expr::Subquery(s) => {
                write!(f, "{}[{}:", s.expr, format_duration(s.range))?;
                if let Some(step) = s.step.filter(|s| *s != 0) {
                    f.write_str(&format_duration(step))?;
                }
                f.write_str("]")?;
                write_at(f, s.at)?;
                write_offset(f, s.offset)
            }
            Expr::Paren(e) => write!(f, "({e})"),
            Expr::Unary(op, e) => {
                let sign = if *op == UnaryOp::Neg { "-" } else { "+" };
                write!(f, "{sign}{e}")
            }
            Expr::Binary(b) => {
                match *b.lhs {
                    // Prometheus prints `+Inf`, which would re-parse as a unary plus around the `^`.
                    Expr::Number(v) if v == f64::INFINITY && b.op == super::ast::BinaryOp::Pow => {
                        write!(f, "Inf {}", binary_op_name(b.op))?;
                    }
                    _ => write!(f, "{} {}", b.lhs, binary_op_name(b.op))?,
                }
                if b.return_bool {
                    f.write_str(" bool")?;
                }
                let grouped = matches!(b.card, Cardinality::ManyToOne(_) | Cardinality::OneToMany(_));
                match &b.matching {
                    Some(Matching::On(l)) => {
                        f.write_str(" on (")?;
                        write_labels(f, l)?;
                        f.write_str(")")?;
                    }
                    Some(Matching::Ignoring(l)) if !l.is_empty() || grouped => {
                        f.write_str(" ignoring (")?;
                        write_labels(f, l)?;
                        f.write_str(")")?;
                    }
                    None if grouped => f.write_str(" ignoring ()")?,
                    _ => {}
                }
                match &b.card {
                    Cardinality::ManyToOne(l) => {
                        f.write_str(" group_left (")?;
                        write_labels(f, l)?;
                        f.write_str(")")?;
                    }
                    Cardinality::OneToMany(l) => {
                        f.write_str(" group_right (")?;
                        write_labels(f, l)?;
                        f.write_str(")")?;
                    }
                    _ => {}
                }
                write!(f, " {}", b.rhs)
            }
            Expr::Aggregate(a) => {
                f.write_str(a.op.name())?;
                match &a.grouping {
                    Some(Grouping::Without(l)) => {
                        f.write_str(" without (")?;
                        write_labels(f, l)?;
                        f.write_str(") ")?;
                    }
                    Some(Grouping::By(l)) if !l.is_empty() => {
                        f.write_str(" by (")?;
                        write_labels(f, l)?;
                        f.write_str(") ")?;
                    }
                    _ => {}
                }
                f.write_str("(")?;
                if let Some(p) = &a.param {
                    write!(f, "{p}, ")?;
                }
                write!(f, "{})", a.expr)
            }
            Expr::Call(c) => {
                write!(f, "{}(", c.func)?;
                for (i, a) in c.args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
        }
    }
}
