//! Per-value math functions (`abs`, `ceil`, `floor`, `exp`, `ln`, `log2`, `log10`, `sqrt`, `sgn`,
//! `round`, `clamp*`, trigonometry, `deg`, `rad`) and the scalar `min_of` / `max_of`.
//!
//! Min/max follow Go's `math.Min`/`math.Max` special cases (an infinity beats NaN, NaN beats numbers,
//! signed zeros ordered); `ln`, `log2` and `log10` are ports of Go's `math.Log`/`Log2`/`Log10`, and
//! `deg`/`rad`/`round` use Go's formulas, so they agree with Prometheus bit for bit. `exp`, `sqrt` and
//! the trigonometric functions use Rust's `std` (the platform libm): `sqrt` is exact everywhere; the
//! others may differ from Go's own implementations (which themselves differ between amd64 and arm64)
//! in the last bit.

use std::f64::consts::{FRAC_1_SQRT_2, LOG2_E, LOG10_E, PI};

/// Go's `math.Max`: `+Inf` if either is `+Inf`, else NaN if either is NaN, `+0` over `-0`.
#[must_use]
pub fn go_max(x: f64, y: f64) -> f64 {
    if x == f64::INFINITY || y == f64::INFINITY {
        return f64::INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && x == y {
        return if x.is_sign_negative() { y } else { x };
    }
    if x > y { x } else { y }
}

/// Go's `math.Min`: `-Inf` if either is `-Inf`, else NaN if either is NaN, `-0` over `+0`.
#[must_use]
pub fn go_min(x: f64, y: f64) -> f64 {
    if x == f64::NEG_INFINITY || y == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && x == y {
        return if x.is_sign_negative() { x } else { y };
    }
    if x < y { x } else { y }
}

/// The scalar function `max_of(a, b)` (Go's `math.Max`).
#[must_use]
pub fn max_of(a: f64, b: f64) -> f64 {
    go_max(a, b)
}

/// The scalar function `min_of(a, b)` (Go's `math.Min`).
#[must_use]
pub fn min_of(a: f64, b: f64) -> f64 {
    go_min(a, b)
}

/// Go's `math.Frexp`: `v = frac · 2^exp` with `frac` in `[0.5, 1)`; zero, NaN and infinities unchanged.
fn frexp(v: f64) -> (f64, i32) {
    if v == 0.0 || !v.is_finite() {
        return (v, 0);
    }
    let (v, mut exp) = if v.abs() < f64::MIN_POSITIVE {
        // Subnormal: normalise first.
        (v * (1u64 << 52) as f64, -52)
    } else {
        (v, 0)
    };
    let bits = v.to_bits();
    exp += ((bits >> 52) & 0x7ff) as i32 - 1022;
    let frac = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (frac, exp)
}

/// Go's `math.Log` (the FreeBSD `e_log.c` algorithm that Go implements both in Go and in amd64
/// assembly), ported so that `ln`, `log2` and `log10` match Prometheus to the last bit. The platform
/// libm's `ln` differs from it in the last bit for some inputs (e.g. 0.625).
#[must_use]
pub fn go_log(x: f64) -> f64 {
    const LN2_HI: f64 = f64::from_bits(0x3FE62E42FEE00000); // 6.93147180369123816490e-01
    const LN2_LO: f64 = f64::from_bits(0x3DEA39EF35793C76); // 1.90821492927058770002e-10
    const L1: f64 = f64::from_bits(0x3FE5555555555593); // 6.666666666666735130e-01
    const L2: f64 = f64::from_bits(0x3FD999999997FA04); // 3.999999999940941908e-01
    const L3: f64 = f64::from_bits(0x3FD2492494229359); // 2.857142874366239149e-01
    const L4: f64 = f64::from_bits(0x3FCC71C51D8E78AF); // 2.222219843214978396e-01
    const L5: f64 = f64::from_bits(0x3FC7466496CB03DE); // 1.818357216161805012e-01
    const L6: f64 = f64::from_bits(0x3FC39A09D078C69F); // 1.531383769920937332e-01
    const L7: f64 = f64::from_bits(0x3FC2F112DF3E5244); // 1.479819860511658591e-01
    if x.is_nan() || x == f64::INFINITY {
        return x;
    }
    if x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    let (mut f1, mut ki) = frexp(x);
    if f1 < FRAC_1_SQRT_2 {
        f1 *= 2.0;
        ki -= 1;
    }
    let f = f1 - 1.0;
    let k = f64::from(ki);
    let s = f / (2.0 + f);
    let s2 = s * s;
    let s4 = s2 * s2;
    let t1 = s2 * (L1 + s4 * (L3 + s4 * (L5 + s4 * L7)));
    let t2 = s4 * (L2 + s4 * (L4 + s4 * L6));
    let r = t1 + t2;
    let hfsq = 0.5 * f * f;
    k * LN2_HI - ((hfsq - (s * (hfsq + r) + k * LN2_LO)) - f)
}

/// Go's `math.Log2`: exact for powers of two, otherwise `ln(frac) · (1/ln 2) + exp`.
#[must_use]
pub fn go_log2(v: f64) -> f64 {
    let (frac, exp) = frexp(v);
    if frac == 0.5 {
        return f64::from(exp - 1);
    }
    go_log(frac) * LOG2_E + f64::from(exp)
}

/// Go's `math.Log10`: `ln(v) · (1/ln 10)`, the constant rounded once (Go folds `1/Ln10` exactly).
#[must_use]
pub fn go_log10(v: f64) -> f64 {
    go_log(v) * LOG10_E
}

/// `round(v, to_nearest)`: rounds half up (towards +Inf) to a multiple of `to_nearest`, computed as
/// Prometheus does it, via the inverse: `floor(v · (1/to_nearest) + 0.5) / (1/to_nearest)`.
#[must_use]
pub fn round(v: f64, to_nearest: f64) -> f64 {
    let inverse = 1.0 / to_nearest;
    (v * inverse + 0.5).floor() / inverse
}

/// `sgn`: −1 for negative, 1 for positive, the value itself for zeros and NaN.
#[must_use]
pub fn sgn(v: f64) -> f64 {
    if v < 0.0 {
        -1.0
    } else if v > 0.0 {
        1.0
    } else {
        v
    }
}

/// `clamp(v, min, max)`: `None` (the sample is dropped) when `max < min`, else `max(min, min(max, v))`
/// with Go's NaN and infinity rules.
#[must_use]
pub fn clamp(v: f64, min: f64, max: f64) -> Option<f64> {
    if max < min {
        return None;
    }
    Some(go_max(min, go_min(max, v)))
}

/// A per-value math function, resolved from its name once so that applying it is a plain `match`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MathFunc {
    /// `abs`.
    Abs,
    /// `ceil`.
    Ceil,
    /// `floor`.
    Floor,
    /// `exp`.
    Exp,
    /// `ln` (Go's `math.Log`).
    Ln,
    /// `log2` (Go's `math.Log2`).
    Log2,
    /// `log10` (Go's `math.Log10`).
    Log10,
    /// `sqrt`.
    Sqrt,
    /// `sgn`.
    Sgn,
    /// `round(v, to_nearest = 1)`.
    Round,
    /// `clamp(v, min, max)`.
    Clamp,
    /// `clamp_min(v, min)`.
    ClampMin,
    /// `clamp_max(v, max)`.
    ClampMax,
    /// `sin`.
    Sin,
    /// `cos`.
    Cos,
    /// `tan`.
    Tan,
    /// `asin`.
    Asin,
    /// `acos`.
    Acos,
    /// `atan`.
    Atan,
    /// `sinh`.
    Sinh,
    /// `cosh`.
    Cosh,
    /// `tanh`.
    Tanh,
    /// `asinh`.
    Asinh,
    /// `acosh`.
    Acosh,
    /// `atanh`.
    Atanh,
    /// `deg`: radians to degrees.
    Deg,
    /// `rad`: degrees to radians.
    Rad,
}

/// Every math function with its PromQL name.
const TABLE: &[(&str, MathFunc)] = &[
    ("abs", MathFunc::Abs),
    ("ceil", MathFunc::Ceil),
    ("floor", MathFunc::Floor),
    ("exp", MathFunc::Exp),
    ("ln", MathFunc::Ln),
    ("log2", MathFunc::Log2),
    ("log10", MathFunc::Log10),
    ("sqrt", MathFunc::Sqrt),
    ("sgn", MathFunc::Sgn),
    ("round", MathFunc::Round),
    ("clamp", MathFunc::Clamp),
    ("clamp_min", MathFunc::ClampMin),
    ("clamp_max", MathFunc::ClampMax),
    ("sin", MathFunc::Sin),
    ("cos", MathFunc::Cos),
    ("tan", MathFunc::Tan),
    ("asin", MathFunc::Asin),
    ("acos", MathFunc::Acos),
    ("atan", MathFunc::Atan),
    ("sinh", MathFunc::Sinh),
    ("cosh", MathFunc::Cosh),
    ("tanh", MathFunc::Tanh),
    ("asinh", MathFunc::Asinh),
    ("acosh", MathFunc::Acosh),
    ("atanh", MathFunc::Atanh),
    ("deg", MathFunc::Deg),
    ("rad", MathFunc::Rad),
];

impl MathFunc {
    /// Resolves a PromQL function name; `None` if it is not a per-value math function.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        TABLE.iter().find(|(n, _)| *n == name).map(|&(_, f)| f)
    }

    /// The PromQL name.
    #[must_use]
    pub fn name(self) -> &'static str {
        TABLE.iter().find(|(_, f)| *f == self).map_or("", |&(n, _)| n)
    }

    /// Applies the function to one value (see [`eval_math`] for the parameters). `None` means the
    /// sample is dropped (`clamp` with max < min) or a required parameter is missing.
    #[must_use]
    pub fn apply(self, v: f64, params: &[f64]) -> Option<f64> {
        let p0 = params.first().copied();
        let out = match self {
            Self::Abs => v.abs(),
            Self::Ceil => v.ceil(),
            Self::Floor => v.floor(),
            Self::Exp => v.exp(),
            Self::Ln => go_log(v),
            Self::Log2 => go_log2(v),
            Self::Log10 => go_log10(v),
            Self::Sqrt => v.sqrt(),
            Self::Sgn => sgn(v),
            Self::Round => round(v, p0.unwrap_or(1.0)),
            Self::Clamp => return clamp(v, p0?, *params.get(1)?),
            Self::ClampMin => return clamp(v, p0?, f64::INFINITY),
            Self::ClampMax => return clamp(v, f64::NEG_INFINITY, p0?),
            Self::Sin => v.sin(),
            Self::Cos => v.cos(),
            Self::Tan => v.tan(),
            Self::Asin => v.asin(),
            Self::Acos => v.acos(),
            Self::Atan => v.atan(),
            Self::Sinh => v.sinh(),
            Self::Cosh => v.cosh(),
            Self::Tanh => v.tanh(),
            Self::Asinh => v.asinh(),
            Self::Acosh => v.acosh(),
            Self::Atanh => v.atanh(),
            Self::Deg => v * 180.0 / PI,
            Self::Rad => v * PI / 180.0,
        };
        Some(out)
    }
}

/// Per-value math: `abs ceil floor exp ln log2 log10 sqrt sgn round` (`params[0]` = to_nearest, default
/// 1), `clamp` (`params` min, max; `None` = drop the sample when min > max, as Prometheus), `clamp_min`
/// (`params[0]`), `clamp_max` (`params[0]`), `sin cos tan asin acos atan sinh cosh tanh asinh acosh
/// atanh`, `deg`, `rad`.
///
/// Returns `None` if `name` is not one of these, a required parameter is missing, or the output sample
/// is dropped. Resolve the name once with [`MathFunc::from_name`] to avoid the lookup per value.
#[must_use]
pub fn eval_math(name: &str, v: f64, params: &[f64]) -> Option<f64> {
    MathFunc::from_name(name)?.apply(v, params)
}

/// The names [`eval_math`] accepts.
pub const MATH_FUNCTIONS: &[&str] = &[
    "abs",
    "ceil",
    "floor",
    "exp",
    "ln",
    "log2",
    "log10",
    "sqrt",
    "sgn",
    "round",
    "clamp",
    "clamp_min",
    "clamp_max",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "tanh",
    "asinh",
    "acosh",
    "atanh",
    "deg",
    "rad",
];

#[cfg(test)]
#[path = "math_tests.rs"]
mod tests;
