//! The expression parser: precedence climbing over the lexer's tokens, mirroring the precedences and
//! semantic actions of Prometheus' `generated_parser.y`. Selector-level syntax (matchers, ranges,
//! subqueries, `offset`, `@`) lives in `parse_selector.rs`.

use super::ParseError;
use super::ast::{
    AggregateExpr, AggregateOp, BinaryExpr, BinaryOp, Call, Cardinality, Expr, Grouping, Matching, UnaryOp,
};
use super::functions;
use super::lex::{Lexer, Tok, Token};
use super::literals::{go_quote, parse_duration, parse_number, unquote};

/// Byte spans of an expression and its children, in the order the checker visits them: binary
/// `[lhs, rhs]`, call `args`, aggregation `[expr, param]`, paren/unary/subquery/matrix `[inner]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    /// Start byte offset.
    pub start: usize,
    /// End byte offset (exclusive).
    pub end: usize,
    /// Children spans.
    pub kids: Vec<Node>,
    /// Height of the expression tree below and including this node.
    pub depth: usize,
}

/// The deepest expression tree accepted (long operator chains such as `a + b + c + ...` build deep
/// trees). Prometheus has no limit, but every recursive walk over the AST (checker, printer, evaluator,
/// drop) needs stack in proportion to the depth; this keeps them well inside a 2 MiB thread stack even
/// in debug builds, and real queries stay far below it.
pub(crate) const MAX_DEPTH: usize = 500;

/// The deepest recursion of the parser itself (nested parentheses, calls, aggregations, unary operators,
/// `^` chains), sized like `MAX_DEPTH` for a 2 MiB stack in debug builds.
const MAX_NESTING: usize = 100;

impl Node {
    pub(crate) fn leaf(start: usize, end: usize) -> Self {
        Node {
            start,
            end,
            kids: Vec::new(),
            depth: 1,
        }
    }

    pub(crate) fn new(start: usize, end: usize, kids: Vec<Node>) -> Self {
        let depth = 1 + kids.iter().map(|k| k.depth).max().unwrap_or(0);
        Node {
            start,
            end,
            kids,
            depth,
        }
    }
}

/// Parse result with spans.
pub(crate) type PResult<T> = Result<T, ParseError>;

/// The parser state.
pub(crate) struct Parser<'a> {
    pub(crate) input: &'a str,
    pub(crate) lex: Lexer<'a>,
    peeked: Option<Token>,
    /// End of the last consumed token.
    pub(crate) prev_end: usize,
    /// How many aggregation bodies enclose the current position (for "in aggregation" messages).
    pub(crate) agg_depth: usize,
    /// Current recursion depth of `parse_expr`.
    nesting: usize,
}

/// Binary operator and its precedence (1 = `or` ... 6 = `^`).
fn binop(kind: Tok) -> Option<(Option<BinaryOp>, u8)> {
    use BinaryOp as B;
    Some(match kind {
        Tok::Lor => (Some(B::Or), 1),
        Tok::Land => (Some(B::And), 2),
        Tok::Lunless => (Some(B::Unless), 2),
        Tok::Eqlc => (Some(B::Eql), 3),
        Tok::Neq => (Some(B::Neq), 3),
        Tok::Lss => (Some(B::Lss), 3),
        Tok::Lte => (Some(B::Lte), 3),
        Tok::Gtr => (Some(B::Gtr), 3),
        Tok::Gte => (Some(B::Gte), 3),
        Tok::TrimUpper | Tok::TrimLower => (None, 3),
        Tok::Add => (Some(B::Add), 4),
        Tok::Sub => (Some(B::Sub), 4),
        Tok::Mul => (Some(B::Mul), 5),
        Tok::Div => (Some(B::Div), 5),
        Tok::Mod => (Some(B::Mod), 5),
        Tok::Atan2 => (Some(B::Atan2), 5),
        Tok::Pow => (Some(B::Pow), 6),
        _ => return None,
    })
}

/// Normalizes vector matching as Prometheus' checker does, so that equal queries give equal ASTs:
/// set operators match many-to-many; `ignoring()` without grouping is the default; with a scalar
/// operand there is no vector matching at all (non-empty label lists are left for the checker to reject).
fn normalize_matching(
    op: BinaryOp,
    lhs: &Expr,
    rhs: &Expr,
    matching: Option<Matching>,
    card: Cardinality,
) -> (Option<Matching>, Cardinality) {
    use super::ast::ValueType;
    let labels_empty = match &matching {
        Some(Matching::On(l) | Matching::Ignoring(l)) => l.is_empty(),
        None => true,
    };
    if labels_empty && (lhs.value_type() != ValueType::Vector || rhs.value_type() != ValueType::Vector) {
        return (None, Cardinality::OneToOne);
    }
    let card = if op.is_set() && card == Cardinality::OneToOne {
        Cardinality::ManyToMany
    } else {
        card
    };
    let matching = match matching {
        Some(Matching::Ignoring(l))
            if l.is_empty() && matches!(card, Cardinality::OneToOne | Cardinality::ManyToMany) =>
        {
            None
        }
        m => m,
    };
    (matching, card)
}

/// Tokens that may name a metric (`metric_identifier` in the grammar).
pub(crate) fn is_metric_identifier(kind: Tok) -> bool {
    matches!(
        kind,
        Tok::Agg(_)
            | Tok::By
            | Tok::Fill
            | Tok::FillLeft
            | Tok::FillRight
            | Tok::Identifier
            | Tok::Land
            | Tok::Lor
            | Tok::Lunless
            | Tok::MetricIdentifier
            | Tok::Offset
            | Tok::Without
            | Tok::Start
            | Tok::End
            | Tok::Step
            | Tok::Range
            | Tok::Anchored
            | Tok::Smoothed
            | Tok::MaxOf
            | Tok::MinOf
    )
}

/// Tokens that may name a label in grouping lists (`maybe_label` in the grammar).
pub(crate) fn is_maybe_label(kind: Tok) -> bool {
    matches!(
        kind,
        Tok::Agg(_)
            | Tok::Bool
            | Tok::By
            | Tok::GroupLeft
            | Tok::GroupRight
            | Tok::Fill
            | Tok::FillLeft
            | Tok::FillRight
            | Tok::Identifier
            | Tok::Ignoring
            | Tok::Land
            | Tok::Lor
            | Tok::Lunless
            | Tok::MetricIdentifier
            | Tok::Offset
            | Tok::On
            | Tok::Start
            | Tok::End
            | Tok::Atan2
            | Tok::Step
            | Tok::Range
            | Tok::Anchored
            | Tok::Smoothed
            | Tok::MaxOf
            | Tok::MinOf
    )
}

impl<'a> Parser<'a> {
    /// A parser over `input`.
    pub(crate) fn new(input: &'a str) -> Self {
        Parser {
            input,
            lex: Lexer::new(input),
            peeked: None,
            prev_end: 0,
            agg_depth: 0,
            nesting: 0,
        }
    }

    /// An error over `start..end`.
    pub(crate) fn err<T>(&self, message: impl Into<String>, start: usize, end: usize) -> PResult<T> {
        Err(ParseError::new(message, start, end, self.input))
    }

    /// Peeks at the next token; lexer errors become parse errors spanning to the end of input.
    pub(crate) fn peek(&mut self) -> PResult<Token> {
        if let Some(t) = self.peeked {
            return Ok(t);
        }
        match self.lex.next_token() {
            Ok(t) => {
                self.peeked = Some(t);
                Ok(t)
            }
            Err(e) => Err(ParseError::new(e.message, e.start, self.input.len(), self.input)),
        }
    }

    /// Consumes and returns the next token.
    pub(crate) fn advance(&mut self) -> PResult<Token> {
        let t = self.peek()?;
        self.peeked = None;
        self.prev_end = t.end;
        Ok(t)
    }

    /// The text of a token.
    pub(crate) fn text(&self, t: &Token) -> &'a str {
        self.lex.text(t)
    }

    /// Prometheus' `unexpected(context, expected)`; without a context, the innermost enclosing
    /// aggregation supplies "aggregation" as yacc's error recovery would.
    pub(crate) fn unexpected<T>(&self, t: &Token, context: &str, expected: &str) -> PResult<T> {
        let mut msg = format!("unexpected {}", self.lex.describe(t));
        let context = if context.is_empty() && self.agg_depth > 0 {
            "aggregation"
        } else {
            context
        };
        if !context.is_empty() {
            msg.push_str(" in ");
            msg.push_str(context);
        }
        if !expected.is_empty() {
            msg.push_str(", expected ");
            msg.push_str(expected);
        }
        self.err(msg, t.start, t.end)
    }

    /// Consumes a token of `kind` or fails with `unexpected`.
    pub(crate) fn expect(&mut self, kind: Tok, context: &str, expected: &str) -> PResult<Token> {
        let t = self.peek()?;
        if t.kind != kind {
            return self.unexpected(&t, context, expected);
        }
        self.advance()
    }

    /// Parses a whole query.
    pub(crate) fn parse_top(&mut self) -> PResult<(Expr, Node)> {
        if self.peek()?.kind == Tok::Eof {
            return self.err("no expression found in input", 0, 0);
        }
        let (expr, node) = self.parse_expr(0)?;
        let t = self.peek()?;
        if t.kind != Tok::Eof {
            return self.unexpected(&t, "", "");
        }
        Ok((expr, node))
    }

    /// Parses an expression whose binary operators all bind at least as tightly as `min_prec`.
    pub(crate) fn parse_expr(&mut self, min_prec: u8) -> PResult<(Expr, Node)> {
        if self.nesting >= MAX_NESTING {
            let t = self.peek()?;
            return self.err(
                format!("expression nesting too deep (more than {MAX_NESTING} levels)"),
                t.start,
                t.end,
            );
        }
        self.nesting += 1;
        let result = self.parse_expr_inner(min_prec);
        self.nesting -= 1;
        result
    }

    fn parse_expr_inner(&mut self, min_prec: u8) -> PResult<(Expr, Node)> {
        let (mut lhs, mut lnode) = self.parse_unary()?;
        loop {
            let t = self.peek()?;
            let Some((op, prec)) = binop(t.kind) else { break };
            if prec < min_prec {
                break;
            }
            self.advance()?;
            let Some(op) = op else {
                return self.err(
                    format!("binary operator {} is not supported", go_quote(self.text(&t))),
                    t.start,
                    t.end,
                );
            };
            let (return_bool, matching, card, fill) = self.parse_bin_modifiers()?;
            let next_min = if op == BinaryOp::Pow { prec } else { prec + 1 };
            let (rhs, rnode) = self.parse_expr(next_min)?;
            let node = Node::new(lnode.start, rnode.end, vec![lnode, rnode]);
            if node.depth > MAX_DEPTH {
                return self.err(
                    format!("expression nesting too deep (more than {MAX_DEPTH} levels)"),
                    node.start,
                    node.end,
                );
            }
            if fill {
                return self.err(
                    "binop fill modifiers are experimental and not enabled",
                    node.start,
                    node.end,
                );
            }
            let (matching, card) = normalize_matching(op, &lhs, &rhs, matching, card);
            lhs = Expr::Binary(BinaryExpr {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                return_bool,
                matching,
                card,
            });
            lnode = node;
        }
        Ok((lhs, lnode))
    }

    /// `bool`, `on(...)`/`ignoring(...)`, `group_left(...)`/`group_right(...)`, `fill(...)`.
    fn parse_bin_modifiers(&mut self) -> PResult<(bool, Option<Matching>, Cardinality, bool)> {
        let mut return_bool = false;
        if self.peek()?.kind == Tok::Bool {
            self.advance()?;
            return_bool = true;
        }
        let mut matching = None;
        let mut card = Cardinality::OneToOne;
        let t = self.peek()?;
        if matches!(t.kind, Tok::On | Tok::Ignoring) {
            self.advance()?;
            let labels = self.parse_grouping_labels()?;
            matching = Some(if t.kind == Tok::On {
                Matching::On(labels)
            } else {
                Matching::Ignoring(labels)
            });
            let g = self.peek()?;
            if matches!(g.kind, Tok::GroupLeft | Tok::GroupRight) {
                self.advance()?;
                let include = if self.peek()?.kind == Tok::LParen {
                    self.parse_grouping_labels()?
                } else {
                    Vec::new()
                };
                card = if g.kind == Tok::GroupLeft {
                    Cardinality::ManyToOne(include)
                } else {
                    Cardinality::OneToMany(include)
                };
            }
        }
        let mut fill = false;
        let mut seen_fill = 0;
        while seen_fill < 2 && matches!(self.peek()?.kind, Tok::Fill | Tok::FillLeft | Tok::FillRight) {
            self.advance()?;
            self.skip_fill_value()?;
            fill = true;
            seen_fill += 1;
        }
        Ok((return_bool, matching, card, fill))
    }

    /// `( [+-] number )` after a fill modifier.
    fn skip_fill_value(&mut self) -> PResult<()> {
        self.expect(Tok::LParen, "", "")?;
        if matches!(self.peek()?.kind, Tok::Add | Tok::Sub) {
            self.advance()?;
        }
        let t = self.peek()?;
        if !matches!(t.kind, Tok::Number | Tok::Duration) {
            return self.unexpected(&t, "", "");
        }
        self.advance()?;
        self.expect(Tok::RParen, "", "")?;
        Ok(())
    }

    /// `( label, ... )` for `by`, `without`, `on`, `ignoring`, `group_x`.
    pub(crate) fn parse_grouping_labels(&mut self) -> PResult<Vec<String>> {
        const CTX: &str = "grouping opts";
        let open = self.peek()?;
        if open.kind != Tok::LParen {
            return self.unexpected(&open, CTX, "\"(\"");
        }
        self.advance()?;
        let mut labels = Vec::new();
        loop {
            let t = self.peek()?;
            if t.kind == Tok::RParen {
                self.advance()?;
                return Ok(labels);
            }
            let label = if is_maybe_label(t.kind) {
                self.text(&t).to_owned()
            } else if t.kind == Tok::String {
                unquote(self.text(&t))
            } else {
                return self.unexpected(&t, CTX, "label");
            };
            self.advance()?;
            if label.is_empty() {
                return self.err(
                    format!("invalid label name for grouping: {}", go_quote(&label)),
                    t.start + usize::from(t.kind == Tok::String),
                    t.end,
                );
            }
            labels.push(label);
            let sep = self.peek()?;
            match sep.kind {
                Tok::Comma => {
                    self.advance()?;
                }
                Tok::RParen => {}
                _ => return self.unexpected(&sep, CTX, "\",\" or \")\""),
            }
        }
    }

    /// Unary `+`/`-` (binding like `*`, looser than `^`), folding into number literals.
    fn parse_unary(&mut self) -> PResult<(Expr, Node)> {
        let t = self.peek()?;
        if !matches!(t.kind, Tok::Add | Tok::Sub) {
            return self.parse_postfix();
        }
        self.advance()?;
        let (inner, inode) = self.parse_expr(6)?;
        let node = Node::new(t.start, inode.end, vec![inode]);
        let neg = t.kind == Tok::Sub;
        Ok(match inner {
            Expr::Number(v) => (Expr::Number(if neg { -v } else { v }), Node::leaf(t.start, node.end)),
            other => (
                Expr::Unary(if neg { UnaryOp::Neg } else { UnaryOp::Pos }, Box::new(other)),
                node,
            ),
        })
    }

    /// A primary expression followed by any `[...]`, `offset`, `@`, `anchored`, `smoothed`.
    fn parse_postfix(&mut self) -> PResult<(Expr, Node)> {
        let (mut expr, mut node) = self.parse_primary()?;
        loop {
            let t = self.peek()?;
            match t.kind {
                Tok::LBracket => (expr, node) = self.parse_range_or_subquery(expr, node)?,
                Tok::Offset => (expr, node) = self.parse_offset(expr, node)?,
                Tok::At => (expr, node) = self.parse_at(expr, node)?,
                Tok::Anchored | Tok::Smoothed => {
                    let what = if t.kind == Tok::Anchored {
                        "anchored"
                    } else {
                        "smoothed"
                    };
                    return self.err(
                        format!("{what} modifier is experimental and not enabled"),
                        node.start,
                        node.end,
                    );
                }
                _ => return Ok((expr, node)),
            }
        }
    }

    fn parse_primary(&mut self) -> PResult<(Expr, Node)> {
        let t = self.peek()?;
        match t.kind {
            Tok::Number | Tok::Duration | Tok::String => self.parse_literal(t),
            Tok::LParen => self.parse_paren(t),
            Tok::LBrace => self.parse_vector_selector(None),
            Tok::Agg(op) => {
                self.advance()?;
                let next = self.peek()?;
                if matches!(next.kind, Tok::LParen | Tok::By | Tok::Without) {
                    self.parse_aggregation(op, t)
                } else {
                    self.parse_vector_selector(Some(t))
                }
            }
            Tok::Identifier | Tok::Start | Tok::End | Tok::Step | Tok::Range | Tok::MaxOf | Tok::MinOf => {
                self.advance()?;
                if self.peek()?.kind == Tok::LParen {
                    self.parse_call(t)
                } else {
                    self.parse_vector_selector(Some(t))
                }
            }
            k if is_metric_identifier(k) => {
                self.advance()?;
                self.parse_vector_selector(Some(t))
            }
            _ => self.unexpected(&t, "", ""),
        }
    }

    /// A number, duration or string literal.
    fn parse_literal(&mut self, t: Token) -> PResult<(Expr, Node)> {
        self.advance()?;
        let text = self.text(&t);
        let value = match t.kind {
            Tok::Number => parse_number(text).map(Expr::Number),
            Tok::Duration => parse_duration(text).map(|ns| Expr::Number(ns as f64 / 1e9)),
            _ => Ok(Expr::String(unquote(text))),
        };
        match value {
            Ok(e) => Ok((e, Node::leaf(t.start, t.end))),
            Err(m) => self.err(m, t.start, t.end),
        }
    }

    /// `( expr )`.
    fn parse_paren(&mut self, open: Token) -> PResult<(Expr, Node)> {
        self.advance()?;
        let (inner, inode) = self.parse_expr(0)?;
        let close = self.peek()?;
        if close.kind != Tok::RParen {
            return self.unexpected(&close, "", "");
        }
        self.advance()?;
        Ok((
            Expr::Paren(Box::new(inner)),
            Node::new(open.start, close.end, vec![inode]),
        ))
    }

    /// `( args )` after a function name; checks that the function exists once the call is complete.
    fn parse_call(&mut self, name: Token) -> PResult<(Expr, Node)> {
        let (args, kids, end) = self.parse_call_body()?;
        let func = self.text(&name);
        if functions::lookup(func).is_none() {
            return self.err(
                format!("unknown function with name {}", go_quote(func)),
                name.start,
                name.end,
            );
        }
        Ok((
            Expr::Call(Call {
                func: func.to_owned(),
                args,
            }),
            Node::new(name.start, end, kids),
        ))
    }

    /// `( expr, expr, ... )`; returns the arguments, their spans and the end of the closing paren.
    fn parse_call_body(&mut self) -> PResult<(Vec<Expr>, Vec<Node>, usize)> {
        self.expect(Tok::LParen, "", "")?;
        let mut args = Vec::new();
        let mut kids = Vec::new();
        if self.peek()?.kind == Tok::RParen {
            let close = self.advance()?;
            return Ok((args, kids, close.end));
        }
        loop {
            let (e, n) = self.parse_expr(0)?;
            args.push(e);
            kids.push(n);
            let t = self.peek()?;
            match t.kind {
                Tok::RParen => {
                    self.advance()?;
                    return Ok((args, kids, t.end));
                }
                Tok::Comma => {
                    self.advance()?;
                    if self.peek()?.kind == Tok::RParen {
                        return self.err("trailing commas not allowed in function call args", t.start, t.end);
                    }
                }
                _ => return self.unexpected(&t, "", ""),
            }
        }
    }

    /// `op [by|without (...)] ( [param,] expr ) [by|without (...)]`.
    fn parse_aggregation(&mut self, op: AggregateOp, op_tok: Token) -> PResult<(Expr, Node)> {
        self.agg_depth += 1;
        let result = self.parse_aggregation_inner(op, op_tok);
        self.agg_depth -= 1;
        result
    }

    fn parse_aggregation_inner(&mut self, op: AggregateOp, op_tok: Token) -> PResult<(Expr, Node)> {
        let (had_modifier, mut grouping) = self.parse_aggregate_modifier()?;
        let next = self.peek()?;
        if next.kind != Tok::LParen {
            return self.unexpected(&next, "", "");
        }
        let (mut args, mut kids, mut end) = self.parse_call_body()?;
        if !had_modifier {
            // The modifier may also follow the arguments; after that the aggregation is complete.
            self.agg_depth -= 1;
            let after = self.parse_aggregate_modifier();
            self.agg_depth += 1;
            let (present, g) = after?;
            grouping = g;
            if present {
                end = self.prev_end;
            }
        }
        if args.is_empty() {
            return self.err("no arguments for aggregate expression provided", op_tok.start, end);
        }
        let desired = if op.takes_param() { 2 } else { 1 };
        if args.len() != desired {
            return self.err(
                format!(
                    "wrong number of arguments for aggregate expression provided, expected {desired}, got {}",
                    args.len()
                ),
                op_tok.start,
                end,
            );
        }
        let (expr, enode) = (args.pop(), kids.pop());
        let (Some(expr), Some(enode)) = (expr, enode) else {
            return self.err("no arguments for aggregate expression provided", op_tok.start, end);
        };
        let param = args.pop().map(Box::new);
        let mut node_kids = vec![enode];
        node_kids.extend(kids.pop());
        let agg = AggregateExpr {
            op,
            expr: Box::new(expr),
            param,
            grouping,
        };
        Ok((Expr::Aggregate(agg), Node::new(op_tok.start, end, node_kids)))
    }

    /// An optional `by (...)` / `without (...)`: whether one was written, and the grouping it means.
    fn parse_aggregate_modifier(&mut self) -> PResult<(bool, Option<Grouping>)> {
        let t = self.peek()?;
        match t.kind {
            Tok::By => {
                self.advance()?;
                // `by ()` aggregates everything, exactly like no grouping (and prints as such).
                let labels = self.parse_grouping_labels()?;
                Ok((
                    true,
                    if labels.is_empty() {
                        None
                    } else {
                        Some(Grouping::By(labels))
                    },
                ))
            }
            Tok::Without => {
                self.advance()?;
                Ok((true, Some(Grouping::Without(self.parse_grouping_labels()?))))
            }
            _ => Ok((false, None)),
        }
    }
}
