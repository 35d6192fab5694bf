//! PromQL tokens: kinds, spans, the keyword table, and Prometheus' token descriptions for messages.

use super::ast::AggregateOp;
use super::literals::{go_quote, go_quote_truncated};

/// Token kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `,`
    Comma,
    /// `:`
    Colon,
    /// `=`
    Eql,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^`
    Pow,
    /// `==`
    Eqlc,
    /// `!=`
    Neq,
    /// `<`
    Lss,
    /// `<=`
    Lte,
    /// `>`
    Gtr,
    /// `>=`
    Gte,
    /// `</` (experimental trim operator)
    TrimUpper,
    /// `>/` (experimental trim operator)
    TrimLower,
    /// `=~`
    EqlRegex,
    /// `!~`
    NeqRegex,
    /// `@`
    At,
    /// `and`
    Land,
    /// `or`
    Lor,
    /// `unless`
    Lunless,
    /// `atan2`
    Atan2,
    /// An aggregation operator keyword.
    Agg(AggregateOp),
    /// `bool`
    Bool,
    /// `by`
    By,
    /// `group_left`
    GroupLeft,
    /// `group_right`
    GroupRight,
    /// `fill`
    Fill,
    /// `fill_left`
    FillLeft,
    /// `fill_right`
    FillRight,
    /// `ignoring`
    Ignoring,
    /// `offset`
    Offset,
    /// `smoothed`
    Smoothed,
    /// `anchored`
    Anchored,
    /// `on`
    On,
    /// `without`
    Without,
    /// `start`
    Start,
    /// `end`
    End,
    /// `step`
    Step,
    /// `range`
    Range,
    /// `max_of`
    MaxOf,
    /// `min_of`
    MinOf,
    /// A plain identifier.
    Identifier,
    /// An identifier containing a colon.
    MetricIdentifier,
    /// A number literal (also `Inf`, `NaN`).
    Number,
    /// A duration literal.
    Duration,
    /// A quoted string (quotes included in the token text).
    String,
    /// End of input.
    Eof,
}

impl Tok {
    /// Operators in Prometheus' `operatorsStart..operatorsEnd` range.
    pub(crate) fn is_operator(self) -> bool {
        use Tok::*;
        matches!(
            self,
            Add | Div
                | Eqlc
                | EqlRegex
                | Gte
                | Gtr
                | TrimUpper
                | TrimLower
                | Land
                | Lor
                | Lss
                | Lte
                | Lunless
                | Mod
                | Mul
                | Neq
                | NeqRegex
                | Pow
                | Sub
                | At
                | Atan2
        )
    }

    /// Keywords in Prometheus' `keywordsStart..keywordsEnd` range.
    pub(crate) fn is_keyword(self) -> bool {
        use Tok::*;
        matches!(
            self,
            Bool | By
                | GroupLeft
                | GroupRight
                | Fill
                | FillLeft
                | FillRight
                | Ignoring
                | Offset
                | Smoothed
                | Anchored
                | On
                | Without
        )
    }

    /// Whether Prometheus has a fixed spelling for this token type (`ItemTypeStr`).
    pub(crate) fn has_fixed_text(self) -> bool {
        !matches!(
            self,
            Tok::Identifier | Tok::MetricIdentifier | Tok::Number | Tok::Duration | Tok::String | Tok::Eof
        )
    }
}

/// A token: its kind and byte span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    /// Kind.
    pub kind: Tok,
    /// Start byte offset.
    pub start: usize,
    /// End byte offset (exclusive).
    pub end: usize,
}

/// A lexer error: message and the start of the offending item (it extends to the end of input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LexError {
    /// Prometheus' message.
    pub message: String,
    /// Start byte offset.
    pub start: usize,
}

/// Looks up a keyword by its lowercased spelling.
pub(crate) fn keyword(word: &str) -> Option<Tok> {
    use AggregateOp as A;
    Some(match word {
        "and" => Tok::Land,
        "or" => Tok::Lor,
        "unless" => Tok::Lunless,
        "atan2" => Tok::Atan2,
        "sum" => Tok::Agg(A::Sum),
        "avg" => Tok::Agg(A::Avg),
        "count" => Tok::Agg(A::Count),
        "min" => Tok::Agg(A::Min),
        "max" => Tok::Agg(A::Max),
        "group" => Tok::Agg(A::Group),
        "stddev" => Tok::Agg(A::Stddev),
        "stdvar" => Tok::Agg(A::Stdvar),
        "topk" => Tok::Agg(A::Topk),
        "bottomk" => Tok::Agg(A::Bottomk),
        "count_values" => Tok::Agg(A::CountValues),
        "quantile" => Tok::Agg(A::Quantile),
        "limitk" => Tok::Agg(A::Limitk),
        "limit_ratio" => Tok::Agg(A::LimitRatio),
        "offset" => Tok::Offset,
        "smoothed" => Tok::Smoothed,
        "anchored" => Tok::Anchored,
        "by" => Tok::By,
        "without" => Tok::Without,
        "on" => Tok::On,
        "ignoring" => Tok::Ignoring,
        "group_left" => Tok::GroupLeft,
        "group_right" => Tok::GroupRight,
        "fill" => Tok::Fill,
        "fill_left" => Tok::FillLeft,
        "fill_right" => Tok::FillRight,
        "bool" => Tok::Bool,
        "start" => Tok::Start,
        "end" => Tok::End,
        "step" => Tok::Step,
        "range" => Tok::Range,
        "max_of" => Tok::MaxOf,
        "min_of" => Tok::MinOf,
        "inf" | "nan" => Tok::Number,
        _ => return None,
    })
}

/// Prometheus' `Item.desc()` for a token of `kind` spelled `text`, used in "unexpected ..." messages.
pub(crate) fn describe(kind: Tok, text: &str) -> String {
    if kind == Tok::Eof {
        return "end of input".into();
    }
    let shown = if kind.is_keyword() {
        format!("<{text}>")
    } else if kind.is_operator() {
        format!("<op:{text}>")
    } else if matches!(kind, Tok::Agg(_)) {
        format!("<aggr:{text}>")
    } else if text.len() > 10 && !matches!(kind, Tok::Identifier | Tok::MetricIdentifier) {
        format!("{}...", go_quote_truncated(text, 10))
    } else {
        go_quote(text)
    };
    if kind.has_fixed_text() {
        return shown;
    }
    let kind = match kind {
        Tok::Identifier => "identifier",
        Tok::MetricIdentifier => "metric identifier",
        Tok::Number => "number",
        Tok::Duration => "duration",
        _ => "string",
    };
    format!("{kind} {shown}")
}
