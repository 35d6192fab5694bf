//! Selector-level syntax: vector selectors and their matchers, range selectors, subqueries, and the
//! `offset` / `@` modifiers with their duration and timestamp arguments.

use strata_storage::{LabelMatcher, METRIC_NAME, MatchOp};

use super::ast::{AtModifier, Expr, MatrixSelector, Subquery, VectorSelector};
use super::lex::{Tok, Token};
use super::literals::{parse_duration, parse_number, unquote};
use super::parse::{Node, PResult, Parser};

const LABEL_MATCHING: &str = "label matching";

/// Go's `%f` for a float (six decimals, Go's spelling of the infinities).
fn go_percent_f(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        format!("{v:.6}")
    }
}

/// Seconds (as the grammar computes them) to milliseconds, as Prometheus: round to nanoseconds, then
/// truncate to milliseconds.
fn seconds_to_ms(secs: f64) -> i64 {
    let ns = (secs * 1e9).round() as i64;
    ns / 1_000_000
}

/// `durationLiteralOutOfRange`.
fn out_of_range(secs: f64) -> bool {
    !(-9_223_372_036.854_775..=9_223_372_036.854_775).contains(&secs)
}

/// Which duration slot is being parsed, for error contexts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Range,
    Step,
    Offset,
}

impl Parser<'_> {
    /// `name`, `name{...}` or `{...}`; `name_tok` is the already consumed metric name.
    pub(crate) fn parse_vector_selector(&mut self, name_tok: Option<Token>) -> PResult<(Expr, Node)> {
        let start = name_tok.map_or(self.peek()?.start, |t| t.start);
        let name = name_tok.map(|t| self.text(&t).to_owned());
        let mut matchers = Vec::new();
        let mut end = name_tok.map_or(start, |t| t.end);
        if self.peek()?.kind == Tok::LBrace {
            self.advance()?;
            end = self.parse_matchers(&mut matchers)?;
        }
        if let Some(n) = &name {
            matchers.push(LabelMatcher::equal(METRIC_NAME, n.clone()));
        }
        let vs = VectorSelector {
            name,
            matchers,
            offset: 0,
            at: None,
        };
        Ok((Expr::VectorSelector(vs), Node::leaf(start, end)))
    }

    /// The matchers after `{`, through `}`; returns the end of the closing brace.
    fn parse_matchers(&mut self, out: &mut Vec<LabelMatcher>) -> PResult<usize> {
        let mut first = true;
        loop {
            let t = self.peek()?;
            if t.kind == Tok::RBrace {
                self.advance()?;
                return Ok(t.end);
            }
            if !first {
                // After a matcher: "," or "}".
                if t.kind != Tok::Comma {
                    return self.unexpected(&t, LABEL_MATCHING, "\",\" or \"}\"");
                }
                self.advance()?;
                let t2 = self.peek()?;
                if t2.kind == Tok::RBrace {
                    self.advance()?;
                    return Ok(t2.end);
                }
            }
            first = false;
            out.push(self.parse_matcher()?);
        }
    }

    fn parse_matcher(&mut self) -> PResult<LabelMatcher> {
        let label = self.peek()?;
        let name = match label.kind {
            Tok::Identifier => self.text(&label).to_owned(),
            Tok::String => unquote(self.text(&label)),
            _ => return self.unexpected(&label, LABEL_MATCHING, "identifier or \"}\""),
        };
        self.advance()?;
        let op_tok = self.peek()?;
        let op = match op_tok.kind {
            Tok::Eql => MatchOp::Equal,
            Tok::Neq => MatchOp::NotEqual,
            Tok::EqlRegex => MatchOp::RegexMatch,
            Tok::NeqRegex => MatchOp::RegexNoMatch,
            _ if label.kind == Tok::String => {
                // `{"metric.name"}`: a metric name matcher.
                return Ok(LabelMatcher::equal(METRIC_NAME, name));
            }
            _ => return self.unexpected(&op_tok, LABEL_MATCHING, "label matching operator"),
        };
        self.advance()?;
        let value = self.peek()?;
        if value.kind != Tok::String {
            return self.unexpected(&value, LABEL_MATCHING, "string");
        }
        self.advance()?;
        let value_text = unquote(self.text(&value));
        LabelMatcher::new(name, op, value_text).or_else(|e| {
            let reason = match &e {
                strata_storage::Error::InvalidRegex { reason, .. } => reason
                    .lines()
                    .rev()
                    .find_map(|l| l.trim().strip_prefix("error: "))
                    .unwrap_or(reason.as_str())
                    .to_owned(),
                other => other.to_string(),
            };
            self.err(format!("error parsing regexp: {reason}"), label.start, value.end)
        })
    }

    /// One duration argument: a (signed) number or duration literal, in seconds, with its span.
    /// Duration expressions (`step()`, arithmetic, parentheses) are rejected as Prometheus does when
    /// `--enable-feature=promql-duration-expr` is off.
    fn parse_duration_arg(&mut self, slot: Slot) -> PResult<(f64, usize, usize)> {
        let (context, expected) = match slot {
            Slot::Range => ("subquery or range selector", "number, duration, step(), or range()"),
            Slot::Step => ("subquery selector", "number, duration, step(), range(), or \"]\""),
            Slot::Offset => ("offset", "number, duration, step(), or range()"),
        };
        let first = self.peek()?;
        let mut sign = 1.0;
        let mut start = first.start;
        if matches!(first.kind, Tok::Add | Tok::Sub) {
            self.advance()?;
            if first.kind == Tok::Sub {
                sign = -1.0;
            }
        }
        let t = self.peek()?;
        let value = match t.kind {
            Tok::Number => parse_number(self.text(&t)),
            Tok::Duration => parse_duration(self.text(&t)).map(|ns| ns as f64 / 1e9),
            Tok::Step | Tok::Range | Tok::MaxOf | Tok::MinOf | Tok::LParen => {
                self.advance()?;
                let next = self.peek()?;
                if t.kind != Tok::LParen && next.kind != Tok::LParen {
                    return self.unexpected(&next, context, expected);
                }
                return self.err("experimental duration expression is not enabled", start, next.end);
            }
            _ => return self.unexpected(&t, context, expected),
        };
        self.advance()?;
        let v = match value {
            Ok(v) => v * sign,
            Err(m) => return self.err(m, t.start, t.end),
        };
        if first.kind != Tok::Add && first.kind != Tok::Sub {
            start = t.start;
        }
        if out_of_range(v) {
            // Prometheus points at the sign when there is one.
            let (s, e) = if start < t.start {
                (first.start, first.end)
            } else {
                (t.start, t.end)
            };
            return self.err("duration out of range", s, e);
        }
        if slot != Slot::Offset {
            let next = self.peek()?;
            if matches!(
                next.kind,
                Tok::Add | Tok::Sub | Tok::Mul | Tok::Div | Tok::Mod | Tok::Pow
            ) {
                return self.err("experimental duration expression is not enabled", start, t.end);
            }
            if v <= 0.0 {
                return self.err("duration must be greater than 0", start, t.end);
            }
        }
        Ok((v, start, t.end))
    }

    /// `[range]` or `[range:step]` / `[range:]` after `expr`.
    pub(crate) fn parse_range_or_subquery(&mut self, expr: Expr, node: Node) -> PResult<(Expr, Node)> {
        let open = self.advance()?;
        let (range, _, _) = self.parse_duration_arg(Slot::Range)?;
        let t = self.peek()?;
        match t.kind {
            Tok::RBracket => {
                self.advance()?;
                let msg = match &expr {
                    Expr::VectorSelector(vs) if vs.offset != 0 => Some("no offset modifiers allowed before range"),
                    Expr::VectorSelector(vs) if vs.at.is_some() => Some("no @ modifiers allowed before range"),
                    Expr::VectorSelector(_) => None,
                    _ => Some("ranges only allowed for vector selectors"),
                };
                if let Some(msg) = msg {
                    return self.err(msg, open.start, t.end);
                }
                let Expr::VectorSelector(selector) = expr else {
                    return self.err("ranges only allowed for vector selectors", open.start, t.end);
                };
                let m = MatrixSelector {
                    selector,
                    range: seconds_to_ms(range),
                };
                Ok((Expr::MatrixSelector(m), Node::new(node.start, t.end, vec![node])))
            }
            Tok::Colon => {
                self.advance()?;
                let mut step = None;
                if self.peek()?.kind != Tok::RBracket {
                    let (s, _, _) = self.parse_duration_arg(Slot::Step)?;
                    step = Some(seconds_to_ms(s));
                    let close = self.peek()?;
                    if close.kind != Tok::RBracket {
                        return self.unexpected(&close, "subquery selector", "\"]\"");
                    }
                }
                let close = self.advance()?;
                let sq = Subquery {
                    expr: Box::new(expr),
                    range: seconds_to_ms(range),
                    step,
                    offset: 0,
                    at: None,
                };
                Ok((Expr::Subquery(sq), Node::new(node.start, close.end, vec![node])))
            }
            _ => self.unexpected(&t, "subquery or range", "\":\" or \"]\""),
        }
    }

    /// `offset <duration>` after `expr`.
    pub(crate) fn parse_offset(&mut self, mut expr: Expr, mut node: Node) -> PResult<(Expr, Node)> {
        self.advance()?;
        let (secs, _, end) = self.parse_duration_arg(Slot::Offset)?;
        let offset = seconds_to_ms(secs);
        let slot = match &mut expr {
            Expr::VectorSelector(vs) => &mut vs.offset,
            Expr::MatrixSelector(m) => &mut m.selector.offset,
            Expr::Subquery(s) => &mut s.offset,
            _ => {
                return self.err(
                    "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
                    node.start,
                    node.end,
                );
            }
        };
        if *slot != 0 {
            return self.err("offset may not be set multiple times", node.start, node.end);
        }
        *slot = offset;
        node.end = end;
        Ok((expr, node))
    }

    /// `@ <timestamp>` / `@ start()` / `@ end()` after `expr`.
    pub(crate) fn parse_at(&mut self, mut expr: Expr, mut node: Node) -> PResult<(Expr, Node)> {
        const CTX: &str = "@";
        const EXPECTED: &str = "timestamp";
        self.advance()?;
        let first = self.peek()?;
        let at = match first.kind {
            Tok::Start | Tok::End => {
                self.advance()?;
                self.expect(Tok::LParen, CTX, EXPECTED)?;
                self.expect(Tok::RParen, CTX, EXPECTED)?;
                if first.kind == Tok::Start {
                    AtModifier::Start
                } else {
                    AtModifier::End
                }
            }
            _ => {
                let mut sign = 1.0;
                if matches!(first.kind, Tok::Add | Tok::Sub) {
                    self.advance()?;
                    if first.kind == Tok::Sub {
                        sign = -1.0;
                    }
                }
                let t = self.peek()?;
                let value = match t.kind {
                    Tok::Number => parse_number(self.text(&t)),
                    Tok::Duration => parse_duration(self.text(&t)).map(|ns| ns as f64 / 1e9),
                    _ => return self.unexpected(&t, CTX, EXPECTED),
                };
                self.advance()?;
                let ts = match value {
                    Ok(v) => v * sign,
                    Err(m) => return self.err(m, t.start, t.end),
                };
                if !ts.is_finite() || ts >= 9.223_372_036_854_776e18 || ts <= -9.223_372_036_854_776e18 {
                    return self.err(
                        format!("timestamp out of bounds for @ modifier: {}", go_percent_f(ts)),
                        node.start,
                        node.end,
                    );
                }
                let ms = (ts * 1000.0).round() as i64;
                AtModifier::Timestamp(ms)
            }
        };
        let slot = match &mut expr {
            Expr::VectorSelector(vs) => &mut vs.at,
            Expr::MatrixSelector(m) => &mut m.selector.at,
            Expr::Subquery(s) => &mut s.at,
            _ => {
                return self.err(
                    "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery",
                    node.start,
                    node.end,
                );
            }
        };
        if slot.is_some() {
            return self.err("@ <timestamp> may not be set multiple times", node.start, node.end);
        }
        *slot = Some(at);
        node.end = self.prev_end;
        Ok((expr, node))
    }
}
