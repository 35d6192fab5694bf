//! Choosing and writing the value section of a sealed chunk (`docs/format/chunks.md`, "Value encodings").
//!
//! The smallest of `Xor`, `Constant` and `DecimalDelta` / `DecimalDoubleDelta` at each candidate scale is
//! kept, by exact size, but only the winner is written: the XOR and exceptions sizes are counted without
//! writing them, every value's minimal scale and scaled integer are found once, the scaled column is
//! built once per candidate scale and serves both difference orders, and residual blocks are sized by
//! [`residuals::plan_below`]. A candidate whose fixed part (exceptions and header fields) already reaches
//! the best size so far is dropped before its residuals are computed, and one whose residuals' lower
//! bound reaches it before they are costed. Ties go to the earlier candidate in
//! the order `Xor`, `Constant`, then the scales best first with `DecimalDelta` before
//! `DecimalDoubleDelta`, so the section is byte for byte what trial-encoding every candidate and keeping
//! the first smallest gives (the tests keep that exhaustive chooser as an oracle). Buffers live in a
//! [`Scratch`] that the caller reuses across chunks.

use super::Encoding;
use super::bits::{put_uvarint, put_varint, zigzag};
use super::constant;
use super::decimal::{self, Order};
use super::exceptions::{self, Exception};
use super::residuals::{self, Form, uvarint_len};
use super::xor;

/// Buffers reused from chunk to chunk; their contents mean nothing between calls.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// Each value's minimal decimal scale and its scaled integer there.
    min: Vec<Option<(u8, i64)>>,
    /// Candidate scales, best first.
    scales: Vec<u8>,
    /// Exceptions at the scale being tried.
    exc: Vec<Exception>,
    /// Scaled regular values at the scale being tried.
    ms: Vec<i64>,
    /// Signed residuals.
    rs: Vec<i64>,
    /// Zig-zagged residuals of the candidate being sized.
    zs: Vec<u64>,
    /// Exceptions of the best decimal candidate.
    best_exc: Vec<Exception>,
    /// Residuals of the best decimal candidate.
    best_zs: Vec<u64>,
    /// The `Constant` section, when there is one.
    constant: Vec<u8>,
}

impl Scratch {
    /// Releases buffers that a very long chunk grew, so that one out-of-order seal of 65 535 samples does
    /// not pin megabytes per thread.
    pub(crate) fn trim(&mut self) {
        /// Capacity (elements) kept between chunks: a few default-sized chunks.
        const KEEP: usize = 1024;
        fn trim<T>(v: &mut Vec<T>) {
            if v.capacity() > KEEP {
                *v = Vec::new();
            }
        }
        trim(&mut self.min);
        trim(&mut self.exc);
        trim(&mut self.ms);
        trim(&mut self.rs);
        trim(&mut self.zs);
        trim(&mut self.best_exc);
        trim(&mut self.best_zs);
        trim(&mut self.constant);
    }
}

/// The best decimal candidate so far (its exceptions and residuals are in [`Scratch`]).
#[derive(Debug, Clone, Copy)]
struct DecimalChoice {
    order: Order,
    scale: u8,
    /// First regular value, scaled; `None` when every value is an exception.
    m0: Option<i64>,
    mult: u64,
    bias: i64,
    form: Form,
}

/// Length of `v` as a signed varint.
fn varint_len(v: i64) -> usize {
    uvarint_len(zigzag(v))
}

/// Encodes the value column `vs` (not empty) with the smallest encoding into `out`.
pub(crate) fn encode(vs: &[f64], sc: &mut Scratch, out: &mut Vec<u8>) -> Encoding {
    sc.constant.clear();
    let constant = constant::encode(vs, &mut sc.constant);
    // XOR of a constant column: the first value's 8 bytes and one bit per further sample.
    let xor_of_constant = 8 + vs.len().saturating_sub(1).div_ceil(8);
    if constant == Some(0) && sc.constant.len() <= xor_of_constant {
        // Nothing beats this: a decimal encoding needs the same scaled value plus at least its
        // multiplier and residual-block bytes, so only XOR could, and it does not.
        out.extend_from_slice(&sc.constant);
        return Encoding::Constant;
    }
    let mut best_len = xor::encoded_len(vs);
    let mut best = Encoding::Xor;
    if constant.is_some() && sc.constant.len() < best_len {
        best_len = sc.constant.len();
        best = Encoding::Constant;
    }
    let mut decimal: Option<DecimalChoice> = None;
    sc.min.clear();
    sc.min.extend(vs.iter().map(|&v| decimal::min_scaled(v)));
    decimal::candidate_scales(sc.min.iter().map(|m| m.map(|(s, _)| s)), &mut sc.scales);
    for i in 0..sc.scales.len() {
        let Some(&scale) = sc.scales.get(i) else {
            break;
        };
        // Exceptions and the fixed fields (scale, m_0, mult, a residual block of at least one byte).
        let Some(exc_len) = scaled_column(vs, scale, sc, best_len) else {
            continue;
        };
        let Some(&m0) = sc.ms.first() else {
            // No regular value: both orders are the exceptions block alone; `DecimalDelta` comes first.
            if exc_len < best_len {
                best_len = exc_len;
                best = Encoding::DecimalDelta;
                sc.best_exc.clone_from(&sc.exc);
                decimal = Some(DecimalChoice {
                    order: Order::Delta,
                    scale,
                    m0: None,
                    mult: 1,
                    bias: 0,
                    form: Form::Sparse,
                });
            }
            continue;
        };
        let fixed = exc_len + 1 + varint_len(m0);
        for (encoding, order) in [
            (Encoding::DecimalDelta, Order::Delta),
            (Encoding::DecimalDoubleDelta, Order::DoubleDelta),
        ] {
            let bias_min = usize::from(order == Order::Delta);
            if fixed + 2 + bias_min >= best_len {
                continue;
            }
            let (bias, mult) = decimal::residuals_into(order, &sc.ms, &mut sc.rs, &mut sc.zs);
            let head = fixed + uvarint_len(mult) + if order == Order::Delta { varint_len(bias) } else { 0 };
            // Sized only if it can beat the best so far.
            if let Some(plan) = residuals::plan_below(&sc.zs, best_len.saturating_sub(head)) {
                best_len = head + plan.len;
                best = encoding;
                sc.best_exc.clone_from(&sc.exc);
                std::mem::swap(&mut sc.best_zs, &mut sc.zs);
                decimal = Some(DecimalChoice {
                    order,
                    scale,
                    m0: Some(m0),
                    mult,
                    bias,
                    form: plan.form,
                });
            }
        }
    }
    match (best, decimal) {
        (Encoding::Xor, _) => xor::encode(vs, out),
        (Encoding::Constant, _) => out.extend_from_slice(&sc.constant),
        (_, Some(d)) => write_decimal(&d, &sc.best_exc, &sc.best_zs, out),
        (_, None) => {
            debug_assert!(false, "decimal encoding chosen without a candidate");
            xor::encode(vs, out);
            return Encoding::Xor;
        }
    }
    best
}

/// Fills `sc.exc` and `sc.ms` with the exceptions and scaled regular values of `vs` at `scale`, and
/// returns the exceptions block's size; gives up (`None`) as soon as the exceptions alone reach
/// `limit` bytes, since such a candidate cannot win.
fn scaled_column(vs: &[f64], scale: u8, sc: &mut Scratch, limit: usize) -> Option<usize> {
    sc.exc.clear();
    sc.ms.clear();
    // The count's varint is at least one byte; the rest is (gap, 8 bytes) per exception.
    let mut len = 1usize;
    let mut next = 0usize;
    for (i, (&v, &min)) in vs.iter().zip(&sc.min).enumerate() {
        let m = match min {
            Some((s, m)) if s == scale => Some(m),
            Some((s, _)) if s < scale => decimal::scaled(v, scale),
            _ => None,
        };
        match m {
            Some(m) => sc.ms.push(m),
            None => {
                sc.exc.push((i, v.to_bits()));
                len += uvarint_len((i - next) as u64) + 8;
                next = i + 1;
                if len >= limit {
                    return None;
                }
            }
        }
    }
    Some(len - 1 + uvarint_len(sc.exc.len() as u64))
}

/// Writes the chosen decimal section.
fn write_decimal(d: &DecimalChoice, exc: &[Exception], zs: &[u64], out: &mut Vec<u8>) {
    exceptions::encode(exc, out);
    let Some(m0) = d.m0 else {
        return;
    };
    out.push(d.scale);
    put_varint(out, m0);
    put_uvarint(out, d.mult);
    if d.order == Order::Delta {
        put_varint(out, d.bias);
    }
    residuals::encode_planned(zs, d.form, out);
}
