//! The scaled-decimal value encodings `DecimalDelta` and `DecimalDoubleDelta` (`docs/format/chunks.md`,
//! "scaled integers"): values that are exact short decimals (`1234.56`, integer gauges) are stored as
//! `m = v × 10^scale` in `i64`, first- or second-differenced and Rice-coded. Every value's round trip is
//! verified bit-exact while encoding; values that fail become exceptions.

use super::bits::{ByteReader, corrupt, unzigzag, zigzag};
use super::exceptions;
use super::residuals::ResidualReader;
#[cfg(test)]
use super::{
    bits::{put_uvarint, put_varint},
    exceptions::Exception,
    residuals,
};
use crate::Result;

/// Largest decimal scale: `10^18` is exact in `f64` and below `i64::MAX`.
pub(crate) const MAX_SCALE: u8 = 18;

/// `10^s` for `s` in `0..=MAX_SCALE`, all exact in `f64`.
const POW10: [f64; MAX_SCALE as usize + 1] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
];

/// Scaled values are kept below this magnitude so that `as i64` never saturates.
const I64_LIMIT: f64 = 9.2e18;

/// Whether the differences are first (`Delta`) or second (`DoubleDelta`) order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// `m_i = m_{i-1} + bias + mult × r_i`.
    Delta,
    /// `d_i = d_{i-1} + mult × r_i`, `m_i = m_{i-1} + d_i`.
    DoubleDelta,
}

/// The decoder's formula: `(m as f64) / 10^scale`.
#[inline]
pub(crate) fn unscale(m: i64, scale: u8) -> f64 {
    (m as f64) / POW10.get(usize::from(scale)).copied().unwrap_or(1.0)
}

/// `v × 10^scale` as an `i64` if decoding it gives back exactly the bits of `v`.
#[inline]
pub(crate) fn scaled(v: f64, scale: u8) -> Option<i64> {
    let x = v * *POW10.get(usize::from(scale))?;
    if !x.is_finite() || x.abs() >= I64_LIMIT {
        return None;
    }
    let m = round_i64(x);
    (unscale(m, scale).to_bits() == v.to_bits()).then_some(m)
}

/// `x.round() as i64` (half away from zero) for finite `|x| < I64_LIMIT`, without the libm call that
/// `f64::round` is on x86-64 without SSE4.1. `x as i64` truncates; `x - trunc(x)` is exact (below 2^52
/// by Sterbenz, above it `x` is already an integer).
#[inline]
fn round_i64(x: f64) -> i64 {
    let i = x as i64;
    let frac = x - i as f64;
    if frac >= 0.5 {
        i + 1
    } else if frac <= -0.5 {
        i - 1
    } else {
        i
    }
}

/// A bound on `|x - round(x)| / |x|` that every exact decimal meets: if `m / 10^s` rounds to `v`, then
/// `|m - v·10^s| <= 2^-53 |v·10^s|`, and `x = fl(v·10^s)` is within `2^-53 |v·10^s|` of `v·10^s`, so
/// `|x - round(x)| <= |x - m| <= 2^-52 |x| (1 + 2^-52)`. Twice that margin again keeps the filter
/// conservative; `x - round(x)` is exact (Sterbenz), so only values that cannot round-trip are rejected.
const NEAR_INTEGER: f64 = 1.0 / (1u64 << 50) as f64;

/// Adding and then subtracting `1.5 × 2^52` rounds an `f64` of magnitude below [`ROUND_LIMIT`] to an
/// integer (ties to even, which a distance to the nearest integer does not care about), in two additions.
const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;

/// `2^51`: where [`ROUND_MAGIC`] stops working; from `2^52` on every `f64` is an integer anyway.
const ROUND_LIMIT: f64 = 2_251_799_813_685_248.0;

/// The smallest scale at which `v` round-trips, if any, and `v` scaled to it. Scales where `v × 10^s` is
/// clearly not near an integer are rejected without the rounding and division of the exact check.
pub(crate) fn min_scaled(v: f64) -> Option<(u8, i64)> {
    if !v.is_finite() {
        return None;
    }
    for (s, &p) in (0..=MAX_SCALE).zip(&POW10) {
        let x = v * p;
        if !x.is_finite() || x.abs() >= I64_LIMIT {
            // |v × 10^s| only grows with s: no larger scale fits either.
            return None;
        }
        if x.abs() < ROUND_LIMIT {
            let nearest = (x + ROUND_MAGIC) - ROUND_MAGIC;
            if (x - nearest).abs() > x.abs() * NEAR_INTEGER {
                continue;
            }
        }
        let m = round_i64(x);
        if unscale(m, s).to_bits() == v.to_bits() {
            return Some((s, m));
        }
    }
    None
}

/// The smallest scale at which `v` round-trips, if any.
pub(crate) fn min_scale(v: f64) -> Option<u8> {
    min_scaled(v).map(|(s, _)| s)
}

/// The candidate scales worth trying for a column whose per-value minimal scales are `scales`, into `out`
/// (cleared first), best first: the largest one (fewest exceptions) and smaller ones that turn at most an
/// eighth of the samples into exceptions; at most four, none when more than half the values are not
/// decimals at all.
pub(crate) fn candidate_scales(scales: impl IntoIterator<Item = Option<u8>>, out: &mut Vec<u8>) {
    out.clear();
    let mut n = 0usize;
    let mut hist = [0usize; MAX_SCALE as usize + 1];
    let mut none = 0usize;
    for s in scales {
        n += 1;
        match s.and_then(|s| hist.get_mut(usize::from(s))) {
            Some(slot) => *slot += 1,
            None => none += 1,
        }
    }
    if none * 2 > n {
        return;
    }
    // Walk from the largest scale down; `above` counts values needing more than `s`.
    let mut above = none;
    for s in (0..=MAX_SCALE).rev() {
        let here = hist.get(usize::from(s)).copied().unwrap_or(0);
        if here == 0 {
            continue;
        }
        if out.is_empty() || above * 8 <= n {
            out.push(s);
        }
        above += here;
        if out.len() == 4 {
            break;
        }
    }
}

/// Fills `zs` with the zig-zagged residuals of the scaled integers `ms` (at least one) for `order`, using
/// `rs` as scratch; returns `(bias, mult)`: the `DecimalDelta` bias (the median first difference; 0 for
/// `DecimalDoubleDelta`) and the residuals' common factor (their GCD, 1 if all are 0).
pub(crate) fn residuals_into(order: Order, ms: &[i64], rs: &mut Vec<i64>, zs: &mut Vec<u64>) -> (i64, u64) {
    rs.clear();
    rs.extend(ms.iter().zip(ms.iter().skip(1)).map(|(a, b)| b.wrapping_sub(*a)));
    let bias = match order {
        // Centre the differences on their median: a counter's steady increment costs nothing. The
        // median is the element of rank len/2, whatever order selection leaves the others in.
        Order::Delta => {
            let mid = rs.len() / 2;
            let bias = if rs.is_empty() {
                0
            } else {
                *rs.select_nth_unstable(mid).1
            };
            // Selection reordered the differences: take them again.
            rs.clear();
            rs.extend(
                ms.iter()
                    .zip(ms.iter().skip(1))
                    .map(|(a, b)| b.wrapping_sub(*a).wrapping_sub(bias)),
            );
            bias
        }
        Order::DoubleDelta => {
            let mut d_prev = 0i64;
            for r in rs.iter_mut() {
                let d = *r;
                *r = d.wrapping_sub(d_prev);
                d_prev = d;
            }
            0
        }
    };
    // Common factor of the residuals (byte gauges counted in pages, counters in steps of 1024, ...). It
    // divides every residual as an integer, so `mult × (r / mult)` gives `r` back exactly.
    let mut mult = 0u64;
    for r in rs.iter() {
        mult = gcd(mult, r.unsigned_abs());
        if mult == 1 {
            break;
        }
    }
    let mult = mult.max(1);
    zs.clear();
    if mult == 1 {
        // The usual case: no division per residual.
        zs.extend(rs.iter().map(|&r| zigzag(r)));
    } else {
        zs.extend(rs.iter().map(|r| zigzag(r.wrapping_div(mult as i64))));
    }
    (bias, mult)
}

/// Encodes `vs` at `scale` with differences of `order`; values needing a larger scale are exceptions. The
/// trial encoder the chunk chooser used before it sized candidates without writing them; kept as the
/// oracle of its tests.
#[cfg(test)]
pub(crate) fn encode(vs: &[f64], scales: &[Option<u8>], scale: u8, order: Order, out: &mut Vec<u8>) {
    let mut list: Vec<Exception> = Vec::new();
    let mut ms: Vec<i64> = Vec::with_capacity(vs.len());
    for (i, (&v, &s)) in vs.iter().zip(scales).enumerate() {
        match s.filter(|&s| s <= scale).and_then(|_| scaled(v, scale)) {
            Some(m) => ms.push(m),
            None => list.push((i, v.to_bits())),
        }
    }
    exceptions::encode(&list, out);
    let Some(&m0) = ms.first() else {
        return;
    };
    let ds: Vec<i64> = ms
        .iter()
        .zip(ms.iter().skip(1))
        .map(|(a, b)| b.wrapping_sub(*a))
        .collect();
    let bias = match order {
        // Centre the differences on their median: a counter's steady increment costs nothing.
        Order::Delta => {
            let mut sorted = ds.clone();
            let mid = sorted.len() / 2;
            if sorted.is_empty() {
                0
            } else {
                *sorted.select_nth_unstable(mid).1
            }
        }
        Order::DoubleDelta => 0,
    };
    let mut rs = Vec::with_capacity(ds.len());
    let mut d_prev = 0i64;
    for &d in &ds {
        rs.push(match order {
            Order::Delta => d.wrapping_sub(bias),
            Order::DoubleDelta => d.wrapping_sub(d_prev),
        });
        d_prev = d;
    }
    // Common factor of the residuals (byte gauges counted in pages, counters in steps of 1024, ...). It
    // divides every residual as an integer, so `mult × (r / mult)` gives `r` back exactly.
    let mult = rs.iter().fold(0u64, |g, r| gcd(g, r.unsigned_abs())).max(1);
    let zs: Vec<u64> = rs.iter().map(|r| zigzag(r.wrapping_div(mult as i64))).collect();
    out.push(scale);
    put_varint(out, m0);
    put_uvarint(out, mult);
    if order == Order::Delta {
        put_varint(out, bias);
    }
    residuals::encode_exhaustive(&zs, out);
}

/// Greatest common divisor. Euclid: the running GCD of a column's residuals is soon small, and then one
/// remainder per residual settles it.
fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// How a section's regular values are rebuilt from its residuals.
struct Params {
    scale: u8,
    mult: i64,
    bias: i64,
    order: Order,
}

impl Params {
    /// Pushes `n >= 1` regular values onto `vs`, the first being `m`: residuals are read in blocks, and
    /// turned into values by a loop specialised for the order.
    fn regular(&self, res: &mut ResidualReader<'_>, mut m: i64, n: usize, vs: &mut Vec<f64>) -> Result<()> {
        let Self {
            scale,
            mult,
            bias,
            order,
        } = *self;
        vs.reserve(n);
        vs.push(unscale(m, scale));
        let rest = n.saturating_sub(1);
        match order {
            Order::Delta => res.for_each(rest, |z| {
                m = m.wrapping_add(unzigzag(z).wrapping_mul(mult).wrapping_add(bias));
                vs.push(unscale(m, scale));
            }),
            Order::DoubleDelta => {
                let mut d = 0i64;
                res.for_each(rest, |z| {
                    d = d.wrapping_add(unzigzag(z).wrapping_mul(mult));
                    m = m.wrapping_add(d);
                    vs.push(unscale(m, scale));
                })
            }
        }
    }
}

/// Decodes a `Decimal*` section of `count` values.
pub(crate) fn decode(r: &mut ByteReader<'_>, count: usize, order: Order, vs: &mut Vec<f64>) -> Result<()> {
    let list = exceptions::decode(r, count)?;
    let regular = count - list.len();
    if regular == 0 {
        return exceptions::merge(count, &list, || Err(corrupt("no regular value")), vs);
    }
    let scale = r.u8()?;
    if scale > MAX_SCALE {
        return Err(corrupt(format!("decimal scale {scale} above {MAX_SCALE}")));
    }
    let m = r.varint()?;
    let mult = r.uvarint()? as i64;
    let bias = match order {
        Order::Delta => r.varint()?,
        Order::DoubleDelta => 0,
    };
    let mut res = ResidualReader::new(r)?;
    let params = Params {
        scale,
        mult,
        bias,
        order,
    };
    if list.is_empty() {
        params.regular(&mut res, m, count, vs)?;
    } else {
        let mut regular_vs = Vec::with_capacity(regular);
        params.regular(&mut res, m, regular, &mut regular_vs)?;
        let mut it = regular_vs.into_iter();
        exceptions::merge(
            count,
            &list,
            || it.next().ok_or_else(|| corrupt("too few regular values")),
            vs,
        )?;
    }
    res.finish(r)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn min_scales() {
        assert_eq!(min_scaled(12.34), Some((2, 1234)));
        assert_eq!(min_scaled(9.3e18), None);
        assert_eq!(min_scale(1234.56), Some(2));
        assert_eq!(min_scale(42.0), Some(0));
        assert_eq!(min_scale(0.0), Some(0));
        assert_eq!(min_scale(-0.0), None);
        assert_eq!(min_scale(0.1), Some(1));
        assert_eq!(min_scale(-7.125), Some(3));
        assert_eq!(min_scale(f64::NAN), None);
        assert_eq!(min_scale(f64::INFINITY), None);
        assert_eq!(min_scale(f64::MIN_POSITIVE / 4.0), None);
        assert_eq!(min_scale(0.1 + 0.2), Some(17)); // 0.30000000000000004 exactly
        assert_eq!(min_scale(1e300), None);
    }

    proptest! {
        #[test]
        fn round_i64_matches_round(x in prop_oneof![
            -1e4f64..1e4,
            (any::<i32>(), 0u32..4).prop_map(|(m, k)| f64::from(m) / f64::from(2u32.pow(k))),
            (-9.1e18f64..9.1e18),
            any::<u64>().prop_map(f64::from_bits).prop_filter("in range", |x| x.abs() < I64_LIMIT),
        ]) {
            prop_assert_eq!(round_i64(x), x.round() as i64);
        }

        #[test]
        fn min_scaled_matches_trying_every_scale(v in prop_oneof![
            (any::<i64>(), 0i32..19).prop_map(|(m, k)| m as f64 / 10f64.powi(k)),
            (any::<i32>(), 0i32..10).prop_map(|(m, k)| f64::from(m) / 10f64.powi(k)),
            any::<u64>().prop_map(f64::from_bits),
            -1e3f64..1e3,
        ]) {
            let exhaustive = (0..=MAX_SCALE).find_map(|s| scaled(v, s).map(|m| (s, m)));
            prop_assert_eq!(min_scaled(v), exhaustive);
        }
    }

    #[test]
    fn candidates_prefer_few_exceptions() {
        let mut out = vec![7];
        candidate_scales([Some(2), Some(0), Some(1)], &mut out);
        assert_eq!(out, vec![2]);
        let mut s = vec![Some(0); 100];
        s[3] = Some(9);
        s[4] = None;
        candidate_scales(s, &mut out);
        assert_eq!(out, vec![9, 0]);
        candidate_scales([None, None, Some(1)], &mut out);
        assert!(out.is_empty());
    }
}
