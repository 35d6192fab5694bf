//! Post-parse type checking, as Prometheus' `checkAST`: argument counts and types, operand types,
//! vector-matching rules and selector sanity. Runs over the AST together with its span tree so that
//! errors carry Prometheus' positions; the first error (in Prometheus' visiting order) is returned.

use strata_storage::METRIC_NAME;

use super::ParseError;
use super::ast::{AggregateOp, BinaryExpr, Call, Cardinality, Expr, Matching, ValueType};
use super::functions;
use super::literals::go_quote;
use super::parse::Node;

/// Prometheus' `DocumentedType`.
fn documented(t: ValueType) -> &'static str {
    match t {
        ValueType::Vector => "instant vector",
        ValueType::Matrix => "range vector",
        ValueType::Scalar => "scalar",
        ValueType::String => "string",
    }
}

/// Binary operator spelling for messages.
pub(crate) fn op_name(op: super::ast::BinaryOp) -> &'static str {
    use super::ast::BinaryOp as B;
    match op {
        B::Add => "+",
        B::Sub => "-",
        B::Mul => "*",
        B::Div => "/",
        B::Mod => "%",
        B::Pow => "^",
        B::Atan2 => "atan2",
        B::Eql => "==",
        B::Neq => "!=",
        B::Gtr => ">",
        B::Lss => "<",
        B::Gte => ">=",
        B::Lte => "<=",
        B::And => "and",
        B::Or => "or",
        B::Unless => "unless",
    }
}

/// The checker.
pub(crate) struct Checker<'a> {
    input: &'a str,
}

type CResult<T> = Result<T, ParseError>;

static EMPTY: Node = Node {
    start: 0,
    end: 0,
    kids: Vec::new(),
    depth: 0,
};

fn kid(node: &Node, i: usize) -> &Node {
    node.kids.get(i).unwrap_or(&EMPTY)
}

impl<'a> Checker<'a> {
    /// A checker for expressions parsed from `input`.
    pub(crate) fn new(input: &'a str) -> Self {
        Checker { input }
    }

    fn err<T>(&self, msg: impl Into<String>, start: usize, end: usize) -> CResult<T> {
        Err(ParseError::new(msg, start, end, self.input))
    }

    /// Checks the whole expression.
    pub(crate) fn check_root(&self, expr: &Expr, node: &Node) -> CResult<()> {
        self.check(expr, node, false).map(|_| ())
    }

    fn expect_type(&self, expr: &Expr, node: &Node, want: ValueType, context: &str) -> CResult<()> {
        let t = self.check(expr, node, false)?;
        if t != want {
            return self.err(
                format!("expected type {} in {context}, got {}", documented(want), documented(t)),
                node.start,
                node.end,
            );
        }
        Ok(())
    }

    /// Prometheus' `opRange`: from the end of the left operand (skipping spaces) to the last non-space
    /// byte before the right operand (inclusive, as Prometheus computes it).
    fn op_range(&self, node: &Node) -> (usize, usize) {
        let bytes = self.input.as_bytes();
        let is_space = |i: usize| bytes.get(i).is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
        let mut start = kid(node, 0).end;
        while is_space(start) {
            start += 1;
        }
        let mut end = kid(node, 1).start.saturating_sub(1);
        while end > start && is_space(end) {
            end -= 1;
        }
        (start, end)
    }

    fn check(&self, expr: &Expr, node: &Node, bypass_empty_check: bool) -> CResult<ValueType> {
        let typ = expr.value_type();
        match expr {
            Expr::Aggregate(a) => {
                self.expect_type(&a.expr, kid(node, 0), ValueType::Vector, "aggregation expression")?;
                if let Some(p) = &a.param {
                    let want = if a.op == AggregateOp::CountValues {
                        ValueType::String
                    } else {
                        ValueType::Scalar
                    };
                    self.expect_type(p, kid(node, 1), want, "aggregation parameter")?;
                }
            }
            Expr::Binary(b) => self.check_binary(b, node)?,
            Expr::Call(c) => self.check_call(c, node)?,
            Expr::Paren(e) => {
                self.check(e, kid(node, 0), false)?;
            }
            Expr::Unary(_, e) => {
                let t = self.check(e, kid(node, 0), false)?;
                if t != ValueType::Scalar && t != ValueType::Vector {
                    return self.err(
                        format!(
                            "unary expression only allowed on expressions of type scalar or instant vector, got {}",
                            go_quote(documented(t))
                        ),
                        node.start,
                        node.end,
                    );
                }
            }
            Expr::Subquery(s) => {
                let t = self.check(&s.expr, kid(node, 0), false)?;
                if t != ValueType::Vector {
                    return self.err(
                        format!("subquery is only allowed on instant vector, got {} instead", t.name()),
                        node.start,
                        node.end,
                    );
                }
            }
            Expr::MatrixSelector(m) => {
                let inner = Expr::VectorSelector(m.selector.clone());
                self.check(&inner, kid(node, 0), false)?;
            }
            Expr::VectorSelector(vs) => {
                if let Some(name) = &vs.name {
                    let others = vs.matchers.len().saturating_sub(1);
                    if let Some(m) = vs.matchers.iter().take(others).find(|m| m.name == METRIC_NAME) {
                        return self.err(
                            format!(
                                "metric name must not be set twice: {} or {}",
                                go_quote(name),
                                go_quote(&m.value)
                            ),
                            node.start,
                            node.end,
                        );
                    }
                } else if !bypass_empty_check && vs.matchers.iter().all(|m| m.matches_empty()) {
                    return self.err(
                        "vector selector must contain at least one non-empty matcher",
                        node.start,
                        node.end,
                    );
                }
            }
            Expr::Number(_) | Expr::String(_) => {}
        }
        Ok(typ)
    }

    fn check_binary(&self, b: &BinaryExpr, node: &Node) -> CResult<()> {
        let lt = self.check(&b.lhs, kid(node, 0), false)?;
        let rt = self.check(&b.rhs, kid(node, 1), false)?;
        if b.return_bool && !b.op.is_comparison() {
            let (s, e) = self.op_range(node);
            return self.err("bool modifier can only be used on comparison operators", s, e);
        }
        if b.op.is_comparison() && !b.return_bool && lt == ValueType::Scalar && rt == ValueType::Scalar {
            let (s, e) = self.op_range(node);
            return self.err("comparisons between scalars must use BOOL modifier", s, e);
        }
        if let (Some(Matching::On(on)), Cardinality::ManyToOne(include) | Cardinality::OneToMany(include)) =
            (&b.matching, &b.card)
            && let Some(l) = on.iter().find(|l| include.contains(l))
        {
            let (s, e) = self.op_range(node);
            return self.err(
                format!("label {} must not occur in ON and GROUP clause at once", go_quote(l)),
                s,
                e,
            );
        }
        for (t, n) in [(lt, kid(node, 0)), (rt, kid(node, 1))] {
            if t != ValueType::Scalar && t != ValueType::Vector {
                return self.err(
                    "binary expression must contain only scalar and instant vector types",
                    n.start,
                    n.end,
                );
            }
        }
        if lt != ValueType::Vector || rt != ValueType::Vector {
            let has_labels = match &b.matching {
                Some(Matching::On(l) | Matching::Ignoring(l)) => !l.is_empty(),
                None => false,
            };
            if has_labels {
                return self.err(
                    "vector matching only allowed between instant vectors",
                    node.start,
                    node.end,
                );
            }
        } else if b.op.is_set() {
            if matches!(b.card, Cardinality::ManyToOne(_) | Cardinality::OneToMany(_)) {
                return self.err(
                    format!("no grouping allowed for {} operation", go_quote(op_name(b.op))),
                    node.start,
                    node.end,
                );
            }
            if b.card != Cardinality::ManyToMany {
                return self.err("set operations must always be many-to-many", node.start, node.end);
            }
        }
        if (lt == ValueType::Scalar || rt == ValueType::Scalar) && b.op.is_set() {
            return self.err(
                format!(
                    "set operator {} not allowed in binary scalar expression",
                    go_quote(op_name(b.op))
                ),
                node.start,
                node.end,
            );
        }
        Ok(())
    }

    fn check_call(&self, c: &Call, node: &Node) -> CResult<()> {
        let Some(f) = functions::lookup(&c.func) else {
            return self.err(
                format!("unknown function with name {}", go_quote(&c.func)),
                node.start,
                node.end,
            );
        };
        let nargs = f.arg_types.len();
        let got = c.args.len();
        if f.variadic == 0 {
            if nargs != got {
                return self.err(
                    format!(
                        "expected {nargs} argument(s) in call to {}, got {got}",
                        go_quote(f.name)
                    ),
                    node.start,
                    node.end,
                );
            }
        } else {
            let na = nargs.saturating_sub(1);
            if na > got {
                return self.err(
                    format!(
                        "expected at least {na} argument(s) in call to {}, got {got}",
                        go_quote(f.name)
                    ),
                    node.start,
                    node.end,
                );
            }
            if let Some(max) = f.max_args().filter(|_| f.variadic > 0)
                && max < got
            {
                return self.err(
                    format!(
                        "expected at most {max} argument(s) in call to {}, got {got}",
                        go_quote(f.name)
                    ),
                    node.start,
                    node.end,
                );
            }
        }
        let mut bypass_second = false;
        if f.name == "info"
            && got > 1
            && let (Some(arg), Some(n)) = (c.args.get(1), node.kids.get(1))
        {
            if arg.value_type() != ValueType::Vector {
                return self.err(
                    format!(
                        "expected type {} in call to function {}, got {}",
                        documented(ValueType::Vector),
                        go_quote(f.name),
                        documented(arg.value_type())
                    ),
                    node.start,
                    node.end,
                );
            }
            match arg {
                Expr::VectorSelector(vs) if vs.name.is_some() => {
                    return self.err(
                        "expected label selectors only, got vector selector instead",
                        n.start,
                        n.end,
                    );
                }
                Expr::VectorSelector(_) => bypass_second = true,
                _ => return self.err("expected label selectors only", n.start, n.end),
            }
        }
        for (i, arg) in c.args.iter().enumerate() {
            let Some(want) = f.arg_type(i) else { break };
            let n = kid(node, i);
            let t = self.check(arg, n, bypass_second && i == 1)?;
            if t != want {
                return self.err(
                    format!(
                        "expected type {} in call to function {}, got {}",
                        documented(want),
                        go_quote(f.name),
                        documented(t)
                    ),
                    n.start,
                    n.end,
                );
            }
        }
        Ok(())
    }
}
