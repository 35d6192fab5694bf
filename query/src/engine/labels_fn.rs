//! Functions on labels and order: `label_replace`, `label_join`, `sort*`; plus the hash `limit_ratio` uses.

use std::cmp::Ordering;

use strata_storage::METRIC_NAME;

use super::QueryError;
use super::eval::{eval_string, eval_vector, merge_same_labels};
use super::value::{Ctx, EvalResult, Grid, Series, Val};
use crate::parser::ast::Call;

fn str_arg(c: &Call, i: usize) -> EvalResult<String> {
    let e = c
        .args
        .get(i)
        .ok_or_else(|| QueryError::Execution(format!("missing argument {i} of {}", c.func)))?;
    eval_string(e)
}

fn vec_arg(ctx: &Ctx<'_>, c: &Call, grid: &Grid) -> EvalResult<Vec<Series>> {
    let e = c
        .args
        .first()
        .ok_or_else(|| QueryError::Execution(format!("missing argument of {}", c.func)))?;
    eval_vector(ctx, e, grid)
}

/// `label_replace(v, dst, replacement, src, regex)`.
pub(crate) fn label_replace(ctx: &Ctx<'_>, c: &Call, grid: &Grid) -> EvalResult<Val> {
    let dst = str_arg(c, 1)?;
    let repl = str_arg(c, 2)?;
    let src = str_arg(c, 3)?;
    let re_src = str_arg(c, 4)?;
    let re = regex::Regex::new(&format!("^(?s:{re_src})$"))
        .map_err(|_| QueryError::Execution(format!("invalid regular expression in label_replace(): {re_src}")))?;
    if !super::aggregate::valid_label_name(&dst) {
        return Err(QueryError::Execution(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    let mut v = vec_arg(ctx, c, grid)?;
    for s in &mut v {
        let src_val = s.labels.get(&src).unwrap_or("").to_string();
        if let Some(caps) = re.captures(&src_val) {
            let mut res = String::new();
            caps.expand(&repl, &mut res);
            s.labels.set(&dst, &res);
            if dst == METRIC_NAME {
                s.drop_name = false;
            }
        }
    }
    Ok(Val::Vector(merge_same_labels(v)?))
}

/// `label_join(v, dst, separator, src...)`.
pub(crate) fn label_join(ctx: &Ctx<'_>, c: &Call, grid: &Grid) -> EvalResult<Val> {
    let dst = str_arg(c, 1)?;
    let sep = str_arg(c, 2)?;
    let mut srcs = Vec::new();
    for i in 3..c.args.len() {
        srcs.push(str_arg(c, i)?);
    }
    for src in &srcs {
        if !super::aggregate::valid_label_name(src) {
            return Err(QueryError::Execution(format!(
                "invalid source label name in label_join(): {src}"
            )));
        }
    }
    if !super::aggregate::valid_label_name(&dst) {
        return Err(QueryError::Execution(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    let mut v = vec_arg(ctx, c, grid)?;
    for s in &mut v {
        let joined = srcs
            .iter()
            .map(|l| s.labels.get(l).unwrap_or(""))
            .collect::<Vec<_>>()
            .join(&sep);
        s.labels.set(&dst, &joined);
        if dst == METRIC_NAME {
            s.drop_name = false;
        }
    }
    Ok(Val::Vector(merge_same_labels(v)?))
}

/// `sort`, `sort_desc`, `sort_by_label`, `sort_by_label_desc`: reorder a single-step result; ineffective (with a
/// warning) for range queries, whose results are ordered by labels.
pub(crate) fn sort_call(ctx: &Ctx<'_>, c: &Call, grid: &Grid) -> EvalResult<Val> {
    let name = c.func.as_str();
    let mut label_args = Vec::new();
    for i in 1..c.args.len() {
        label_args.push(str_arg(c, i)?);
    }
    let mut v = vec_arg(ctx, c, grid)?;
    if ctx.query_step > 0 {
        ctx.warn(
            "PromQL warning: sort is ineffective for range queries since results are always ordered by labels".into(),
        );
    }
    if grid.n != 1 {
        return Ok(Val::Vector(v));
    }
    let val = |s: &Series| s.vals.first().copied().flatten().unwrap_or(f64::NAN);
    match name {
        "sort" => v.sort_by(|a, b| cmp_nan_last(val(a), val(b), false)),
        "sort_desc" => v.sort_by(|a, b| cmp_nan_last(val(a), val(b), true)),
        _ => {
            let desc = name == "sort_by_label_desc";
            v.sort_by(|a, b| {
                for l in &label_args {
                    let (x, y) = (a.labels.get(l).unwrap_or(""), b.labels.get(l).unwrap_or(""));
                    if x == y {
                        continue;
                    }
                    let less = natsort_less(x, y);
                    return if less != desc {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    };
                }
                let o = a.labels.cmp(&b.labels);
                if desc { o.reverse() } else { o }
            });
        }
    }
    Ok(Val::Vector(v))
}

fn cmp_nan_last(a: f64, b: f64, desc: bool) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => {
            let o = a.partial_cmp(&b).unwrap_or(Ordering::Equal);
            if desc { o.reverse() } else { o }
        }
    }
}

/// Splits into runs of digits and non-digits.
fn chunkify(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev: Option<bool> = None;
    for (i, ch) in s.char_indices() {
        let d = ch.is_ascii_digit();
        if prev.is_some_and(|p| p != d) {
            if let Some(chunk) = s.get(start..i) {
                out.push(chunk);
            }
            start = i;
        }
        prev = Some(d);
    }
    if let Some(chunk) = s.get(start..)
        && !chunk.is_empty()
    {
        out.push(chunk);
    }
    out
}

/// Natural "less than", as the `natsort.Compare` Prometheus uses for `sort_by_label`.
pub(crate) fn natsort_less(a: &str, b: &str) -> bool {
    let ca = chunkify(a);
    let cb = chunkify(b);
    for (i, x) in ca.iter().enumerate() {
        let Some(y) = cb.get(i) else { return false };
        let last_a = i + 1 == ca.len();
        let last_b = i + 1 == cb.len();
        match (x.parse::<i64>(), y.parse::<i64>()) {
            (Ok(xi), Ok(yi)) => {
                if xi == yi {
                    if last_a {
                        return true;
                    } else if last_b {
                        return false;
                    }
                    continue;
                }
                return xi < yi;
            }
            _ => {
                if x == y {
                    if last_a {
                        return true;
                    } else if last_b {
                        return false;
                    }
                    continue;
                }
                return x < y;
            }
        }
    }
    false
}

const P1: u64 = 0x9E37_79B1_85EB_CA87;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P3: u64 = 0x1656_67B1_9E37_79F9;
const P4: u64 = 0x85EB_CA77_C2B2_AE63;
const P5: u64 = 0x27D4_EB2F_1656_67C5;

fn read_u64(b: &[u8], i: usize) -> u64 {
    let mut a = [0u8; 8];
    if let Some(s) = b.get(i..i + 8) {
        a.copy_from_slice(s);
    }
    u64::from_le_bytes(a)
}

fn read_u32(b: &[u8], i: usize) -> u64 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(i..i + 4) {
        a.copy_from_slice(s);
    }
    u64::from(u32::from_le_bytes(a))
}

fn round(acc: u64, input: u64) -> u64 {
    acc.wrapping_add(input.wrapping_mul(P2))
        .rotate_left(31)
        .wrapping_mul(P1)
}

fn merge_round(acc: u64, val: u64) -> u64 {
    (acc ^ round(0, val)).wrapping_mul(P1).wrapping_add(P4)
}

/// XXH64 with seed 0 (the hash Prometheus' `labels.Hash` uses).
pub(crate) fn xxhash64(b: &[u8]) -> u64 {
    let len = b.len();
    let mut i = 0usize;
    let mut h: u64;
    if len >= 32 {
        let mut v1 = P1.wrapping_add(P2);
        let mut v2 = P2;
        let mut v3 = 0u64;
        let mut v4 = 0u64.wrapping_sub(P1);
        while i + 32 <= len {
            v1 = round(v1, read_u64(b, i));
            v2 = round(v2, read_u64(b, i + 8));
            v3 = round(v3, read_u64(b, i + 16));
            v4 = round(v4, read_u64(b, i + 24));
            i += 32;
        }
        h = v1
            .rotate_left(1)
            .wrapping_add(v2.rotate_left(7))
            .wrapping_add(v3.rotate_left(12))
            .wrapping_add(v4.rotate_left(18));
        h = merge_round(h, v1);
        h = merge_round(h, v2);
        h = merge_round(h, v3);
        h = merge_round(h, v4);
    } else {
        h = P5;
    }
    h = h.wrapping_add(len as u64);
    while i + 8 <= len {
        h ^= round(0, read_u64(b, i));
        h = h.rotate_left(27).wrapping_mul(P1).wrapping_add(P4);
        i += 8;
    }
    if i + 4 <= len {
        h ^= read_u32(b, i).wrapping_mul(P1);
        h = h.rotate_left(23).wrapping_mul(P2).wrapping_add(P3);
        i += 4;
    }
    while i < len {
        h ^= u64::from(b.get(i).copied().unwrap_or(0)).wrapping_mul(P5);
        h = h.rotate_left(11).wrapping_mul(P1);
        i += 1;
    }
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^= h >> 32;
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xxhash_known_vectors() {
        assert_eq!(xxhash64(b""), 0xEF46_DB37_51D8_E999);
        assert_eq!(xxhash64(b"a"), 0xD24E_C4F1_A98C_6E5B);
        assert_eq!(xxhash64(b"abc"), 0x44BC_2CF5_AD77_0999);
    }

    #[test]
    fn natsort() {
        assert!(natsort_less("a2", "a10"));
        assert!(!natsort_less("a10", "a2"));
        assert!(natsort_less("abc", "abd"));
    }
}
