//! PromQL parsing: lexer, parser (recursive descent with precedence climbing, nom for the token-level
//! recognizers), type checker and printer.
//!
//! The grammar, the semantic checks and the error messages follow Prometheus 3.x (`promql/parser/`):
//! `parse("1 +")` fails with `1:4: parse error: unexpected end of input`, just as Prometheus does.
//! Experimental functions (`limitk`, `mad_over_time`, `step()`, ...) are always enabled. The features that
//! Prometheus gates behind other flags (duration expressions such as `foo[5m+1m]`, the `fill` binary
//! modifiers, `anchored`/`smoothed`) are rejected with Prometheus' "not enabled" messages, and the trim
//! operators `</` and `>/` are rejected as unsupported.

pub mod ast;
mod check;
pub mod functions;
mod lex;
mod literals;
mod parse;
mod parse_selector;
mod pretty;
mod printer;
mod token;

use std::fmt;

/// A PromQL parse error, with the byte range of the offending input.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    /// The message, as Prometheus words it (without the position prefix).
    pub message: String,
    /// Start byte offset of the offending range.
    pub start: usize,
    /// End byte offset of the offending range (exclusive).
    pub end: usize,
    /// 1-based line and byte column of `start`, for `Display`.
    line_col: (usize, usize),
}

impl ParseError {
    /// An error covering `start..end` of `input`.
    pub fn new(message: impl Into<String>, start: usize, end: usize, input: &str) -> Self {
        let start = start.min(input.len());
        let end = end.clamp(start, input.len());
        let before = input.get(..start).unwrap_or("");
        let line = 1 + before.bytes().filter(|b| *b == b'\n').count();
        let col = match before.rfind('\n') {
            Some(nl) => start - nl,
            None => start + 1,
        };
        ParseError {
            message: message.into(),
            start,
            end,
            line_col: (line, col),
        }
    }

    /// The 1-based line and byte column of the start of the error, as Prometheus prints them.
    pub fn line_col(&self) -> (usize, usize) {
        self.line_col
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: parse error: {}",
            self.line_col.0, self.line_col.1, self.message
        )
    }
}

impl std::error::Error for ParseError {}

/// Parses a PromQL expression and type-checks it as Prometheus does.
pub fn parse(input: &str) -> Result<ast::Expr, ParseError> {
    let (expr, node) = parse::Parser::new(input).parse_top()?;
    check::Checker::new(input).check_root(&expr, &node)?;
    Ok(expr)
}

impl ast::Expr {
    /// The type this expression evaluates to.
    pub fn value_type(&self) -> ast::ValueType {
        use ast::{Expr, ValueType};
        match self {
            Expr::Number(_) => ValueType::Scalar,
            Expr::String(_) => ValueType::String,
            Expr::VectorSelector(_) | Expr::Aggregate(_) => ValueType::Vector,
            Expr::MatrixSelector(_) | Expr::Subquery(_) => ValueType::Matrix,
            Expr::Paren(e) | Expr::Unary(_, e) => e.value_type(),
            Expr::Binary(b) => {
                if b.lhs.value_type() == ValueType::Scalar && b.rhs.value_type() == ValueType::Scalar {
                    ValueType::Scalar
                } else {
                    ValueType::Vector
                }
            }
            Expr::Call(c) => functions::lookup(&c.func).map_or(ValueType::Vector, |f| f.return_type),
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_accept;
#[cfg(test)]
mod tests_errors;
