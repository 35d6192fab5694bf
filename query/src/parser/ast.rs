//! The PromQL abstract syntax tree: the contract between the parser, the printer and the evaluator.
//!
//! Durations and timestamps are `i64` milliseconds throughout.

use strata_storage::LabelMatcher;

/// A parsed PromQL expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number literal: `1`, `0x1f`, `1e3`, `Inf`, `NaN`; a duration literal used as a number
    /// (`1m` where a number is expected in Prometheus 3) is stored as seconds.
    Number(f64),
    /// A string literal, with escapes already resolved.
    String(String),
    /// An instant vector selector: `foo{job="x"} offset 5m @ 100`.
    VectorSelector(VectorSelector),
    /// A range vector selector: `foo[5m]`.
    MatrixSelector(MatrixSelector),
    /// A subquery: `expr[30m:1m] offset 5m @ end()`.
    Subquery(Subquery),
    /// A parenthesised expression, kept so the printer round-trips.
    Paren(Box<Expr>),
    /// Unary minus or plus: `-foo`.
    Unary(UnaryOp, Box<Expr>),
    /// A binary operation.
    Binary(BinaryExpr),
    /// An aggregation: `sum by (job) (x)`, `topk(3, x)`.
    Aggregate(AggregateExpr),
    /// A function call: `rate(x[5m])`.
    Call(Call),
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-`
    Neg,
    /// `+`
    Pos,
}

/// The `@` modifier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AtModifier {
    /// `@ <timestamp>`, in milliseconds.
    Timestamp(i64),
    /// `@ start()`
    Start,
    /// `@ end()`
    End,
}

/// `metric{matchers} offset d @ t`.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSelector {
    /// The metric name if written outside the braces (`foo{...}` or `{"foo"}` in Prometheus 3 form);
    /// it is also present in `matchers` as a `__name__` equality matcher.
    pub name: Option<String>,
    /// All matchers, including the `__name__` matcher derived from `name`.
    pub matchers: Vec<LabelMatcher>,
    /// `offset`, in milliseconds (negative allowed); 0 when absent.
    pub offset: i64,
    /// `@` modifier.
    pub at: Option<AtModifier>,
}

/// `selector[range]`.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixSelector {
    /// The selector, including its offset and `@` modifiers.
    pub selector: VectorSelector,
    /// The range, in milliseconds (> 0).
    pub range: i64,
}

/// `expr[range:step] offset d @ t`.
#[derive(Debug, Clone, PartialEq)]
pub struct Subquery {
    /// The inner expression (an instant vector).
    pub expr: Box<Expr>,
    /// The range, in milliseconds.
    pub range: i64,
    /// The resolution step in milliseconds; `None` means the engine's default evaluation interval.
    pub step: Option<i64>,
    /// `offset`, in milliseconds; 0 when absent.
    pub offset: i64,
    /// `@` modifier.
    pub at: Option<AtModifier>,
}

/// Binary operators, in PromQL spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
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
    /// `^` (right-associative)
    Pow,
    /// `atan2`
    Atan2,
    /// `==`
    Eql,
    /// `!=`
    Neq,
    /// `>`
    Gtr,
    /// `<`
    Lss,
    /// `>=`
    Gte,
    /// `<=`
    Lte,
    /// `and`
    And,
    /// `or`
    Or,
    /// `unless`
    Unless,
}

impl BinaryOp {
    /// Whether this is a comparison operator (which filters unless `bool` is given).
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            Self::Eql | Self::Neq | Self::Gtr | Self::Lss | Self::Gte | Self::Lte
        )
    }

    /// Whether this is a set operator (`and`, `or`, `unless`).
    pub fn is_set(self) -> bool {
        matches!(self, Self::And | Self::Or | Self::Unless)
    }
}

/// How the two sides of a vector/vector operation are matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matching {
    /// `on(labels)`.
    On(Vec<String>),
    /// `ignoring(labels)`; also the default (ignoring nothing).
    Ignoring(Vec<String>),
}

/// Cardinality of a vector/vector operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cardinality {
    /// One-to-one (the default).
    OneToOne,
    /// `group_left(extra labels)`: many on the left to one on the right.
    ManyToOne(Vec<String>),
    /// `group_right(extra labels)`: one on the left to many on the right.
    OneToMany(Vec<String>),
    /// Set operators match many to many.
    ManyToMany,
}

/// A binary expression with its modifiers.
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryExpr {
    /// The operator.
    pub op: BinaryOp,
    /// Left operand.
    pub lhs: Box<Expr>,
    /// Right operand.
    pub rhs: Box<Expr>,
    /// `bool` modifier on a comparison.
    pub return_bool: bool,
    /// `on` / `ignoring`; `None` when not written.
    pub matching: Option<Matching>,
    /// `group_left` / `group_right`; `OneToOne` when not written (set operators: `ManyToMany`).
    pub card: Cardinality,
}

/// Aggregation operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateOp {
    /// `sum`
    Sum,
    /// `avg`
    Avg,
    /// `count`
    Count,
    /// `min`
    Min,
    /// `max`
    Max,
    /// `group`
    Group,
    /// `stddev`
    Stddev,
    /// `stdvar`
    Stdvar,
    /// `topk` (parameter k)
    Topk,
    /// `bottomk` (parameter k)
    Bottomk,
    /// `quantile` (parameter φ)
    Quantile,
    /// `count_values` (parameter: output label name)
    CountValues,
    /// `limitk` (parameter k)
    Limitk,
    /// `limit_ratio` (parameter ratio)
    LimitRatio,
}

impl AggregateOp {
    /// The operator's PromQL name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sum => "sum",
            Self::Avg => "avg",
            Self::Count => "count",
            Self::Min => "min",
            Self::Max => "max",
            Self::Group => "group",
            Self::Stddev => "stddev",
            Self::Stdvar => "stdvar",
            Self::Topk => "topk",
            Self::Bottomk => "bottomk",
            Self::Quantile => "quantile",
            Self::CountValues => "count_values",
            Self::Limitk => "limitk",
            Self::LimitRatio => "limit_ratio",
        }
    }

    /// Whether the operator takes a parameter before the vector argument.
    pub fn takes_param(self) -> bool {
        matches!(
            self,
            Self::Topk | Self::Bottomk | Self::Quantile | Self::CountValues | Self::Limitk | Self::LimitRatio
        )
    }
}

/// `by (labels)` / `without (labels)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grouping {
    /// `by (labels)`
    By(Vec<String>),
    /// `without (labels)`
    Without(Vec<String>),
}

/// An aggregation expression.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateExpr {
    /// The operator.
    pub op: AggregateOp,
    /// The aggregated expression.
    pub expr: Box<Expr>,
    /// The parameter for `topk`, `quantile`, `count_values`, ...
    pub param: Option<Box<Expr>>,
    /// Grouping; `None` aggregates everything into one series.
    pub grouping: Option<Grouping>,
}

/// A function call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Function name as written (`rate`, `histogram_quantile`, ...).
    pub func: String,
    /// Arguments in order.
    pub args: Vec<Expr>,
}

/// The type a PromQL expression evaluates to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// A single number.
    Scalar,
    /// A string.
    String,
    /// An instant vector.
    Vector,
    /// A range vector.
    Matrix,
}

impl ValueType {
    /// The name Prometheus uses in messages and in the API's `resultType`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Scalar => "scalar",
            Self::String => "string",
            Self::Vector => "vector",
            Self::Matrix => "matrix",
        }
    }
}
