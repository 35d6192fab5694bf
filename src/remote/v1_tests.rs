//! The zero-copy decoder against prost's: same verdict and same content on prost-encoded, hand-built,
//! truncated and corrupted messages.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use prost::Message;
use strata_storage::Labels;

use super::*;
use crate::remote::write::{Protocol, decode};

/// What a decoder produced, comparable (sample values by bits).
#[derive(Debug, PartialEq)]
struct Canon {
    series: Vec<(Labels, Vec<(i64, u64)>)>,
    metadata: Vec<(String, MetricMetadata)>,
    histograms: u64,
    exemplars: u64,
}

fn via_prost(buf: &[u8]) -> Option<Canon> {
    let d = decode(Protocol::V1, buf).ok()?;
    assert!(d.invalid.is_empty());
    Some(Canon {
        series: d
            .series
            .into_iter()
            .map(|s| (s.labels, s.samples.iter().map(|x| (x.t, x.v.to_bits())).collect()))
            .collect(),
        metadata: d.metadata,
        histograms: d.histograms,
        exemplars: d.exemplars,
    })
}

fn via_fast(buf: &[u8]) -> Option<Canon> {
    let mut b = V1Batch::default();
    b.decode(buf).ok()?;
    Some(Canon {
        series: b
            .keyed()
            .map(|k| (k.to_labels(), k.samples.iter().map(|x| (x.t, x.v.to_bits())).collect()))
            .collect(),
        metadata: std::mem::take(&mut b.metadata),
        histograms: b.histograms,
        exemplars: b.exemplars,
    })
}

/// Both decoders agree on `buf`; returns whether it decoded.
fn agree(buf: &[u8]) -> bool {
    let (p, f) = (via_prost(buf), via_fast(buf));
    assert_eq!(p, f, "decoders disagree on {buf:02x?}");
    p.is_some()
}

/// xorshift64*: a small deterministic generator for the random cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn string(&mut self) -> String {
        const PARTS: [&str; 8] = ["", "a", "job", "__name__", "ü", "値", "x_y", "0"];
        (0..self.below(4))
            .map(|_| PARTS[self.below(PARTS.len() as u64) as usize])
            .collect()
    }

    fn label(&mut self) -> proto::Label {
        proto::Label {
            name: self.string(),
            value: self.string(),
        }
    }
}

fn random_request(rng: &mut Rng) -> proto::WriteRequest {
    let timeseries = (0..rng.below(5))
        .map(|_| proto::TimeSeries {
            labels: (0..rng.below(5)).map(|_| rng.label()).collect(),
            samples: (0..rng.below(4))
                .map(|_| proto::Sample {
                    value: match rng.below(4) {
                        0 => f64::from_bits(0x7ff0_0000_0000_0002),
                        1 => -0.0,
                        _ => f64::from_bits(rng.next()),
                    },
                    timestamp: rng.next() as i64 >> rng.below(64),
                })
                .collect(),
            exemplars: (0..rng.below(2))
                .map(|_| proto::Exemplar {
                    labels: vec![rng.label()],
                    value: 1.5,
                    timestamp: rng.below(1000) as i64,
                })
                .collect(),
            histograms: (0..rng.below(2))
                .map(|_| proto::Histogram {
                    timestamp: rng.below(1000) as i64,
                })
                .collect(),
        })
        .collect();
    let metadata = (0..rng.below(3))
        .map(|_| proto::MetricMetadata {
            r#type: rng.below(9) as i32 - 1,
            metric_family_name: rng.string(),
            help: rng.string(),
            unit: rng.string(),
        })
        .collect();
    proto::WriteRequest { timeseries, metadata }
}

#[test]
fn random_prost_messages_decode_alike() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut decoded = 0;
    for _ in 0..2000 {
        let buf = random_request(&mut rng).encode_to_vec();
        assert!(agree(&buf));
        decoded += 1;
    }
    assert_eq!(decoded, 2000);
}

#[test]
fn truncated_and_corrupted_messages_get_the_same_verdict() {
    let mut rng = Rng(7);
    let (mut ok, mut bad) = (0, 0);
    for _ in 0..300 {
        let buf = random_request(&mut rng).encode_to_vec();
        for cut in 0..buf.len() {
            if agree(&buf[..cut]) {
                ok += 1;
            } else {
                bad += 1;
            }
        }
        for _ in 0..20 {
            let mut b = buf.clone();
            if b.is_empty() {
                break;
            }
            for _ in 0..=rng.below(3) {
                let i = rng.below(b.len() as u64) as usize;
                b[i] = rng.next() as u8;
            }
            if agree(&b) {
                ok += 1;
            } else {
                bad += 1;
            }
        }
    }
    // Both outcomes must have been exercised, or the comparison proves little.
    assert!(ok > 1000 && bad > 1000, "ok {ok}, bad {bad}");
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn field(num: u32, wire: u8, out: &mut Vec<u8>) {
    varint(u64::from(num) << 3 | u64::from(wire), out);
}

fn len_field(num: u32, body: &[u8], out: &mut Vec<u8>) {
    field(num, 2, out);
    varint(body.len() as u64, out);
    out.extend_from_slice(body);
}

fn label_bytes(name: &[u8], value: &[u8]) -> Vec<u8> {
    let mut l = Vec::new();
    len_field(1, name, &mut l);
    len_field(2, value, &mut l);
    l
}

fn sample_bytes(v: f64, t: i64) -> Vec<u8> {
    let mut s = Vec::new();
    field(1, 1, &mut s);
    s.extend_from_slice(&v.to_bits().to_le_bytes());
    field(2, 0, &mut s);
    varint(t as u64, &mut s);
    s
}

fn request(series: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for ts in series {
        len_field(1, ts, &mut out);
    }
    out
}

#[test]
fn hand_built_wire_forms_decode_alike() {
    let mut unknown = Vec::new();
    field(9, 0, &mut unknown);
    varint(u64::MAX, &mut unknown);
    field(10, 1, &mut unknown);
    unknown.extend_from_slice(&[1; 8]);
    field(11, 5, &mut unknown);
    unknown.extend_from_slice(&[2; 4]);
    len_field(12, b"skip me", &mut unknown);
    field(13, 3, &mut unknown); // a group holding a field and a nested group
    field(1, 0, &mut unknown);
    unknown.push(5);
    field(14, 3, &mut unknown);
    field(14, 4, &mut unknown);
    field(13, 4, &mut unknown);

    // Labels interleaved with samples, unknown fields everywhere, a name given twice (the last wins).
    let mut l = label_bytes(b"__name__", b"up");
    l.extend_from_slice(&unknown);
    len_field(1, b"ignored", &mut l);
    len_field(1, b"__name__", &mut l);
    let mut ts = Vec::new();
    len_field(1, &l, &mut ts);
    ts.extend_from_slice(&unknown);
    len_field(2, &sample_bytes(1.0, 1000), &mut ts);
    len_field(1, &label_bytes(b"job", b"a"), &mut ts);
    let mut hist = unknown.clone();
    field(15, 0, &mut hist);
    varint(5, &mut hist);
    len_field(4, &hist, &mut ts);
    let mut ex = Vec::new();
    len_field(1, &label_bytes(b"trace", b"t1"), &mut ex);
    len_field(3, &ex, &mut ts);
    let mut body = request(&[ts.clone()]);
    body.extend_from_slice(&unknown);
    let mut md = Vec::new();
    field(1, 0, &mut md);
    varint(u64::MAX, &mut md); // int32 truncates: -1, printed as "unknown"
    len_field(2, b"up", &mut md);
    len_field(4, b"help", &mut md);
    len_field(3, &md.clone(), &mut body);
    assert!(agree(&body));
    let fast = via_fast(&body).unwrap();
    assert_eq!(fast.series.len(), 1);
    assert_eq!(fast.series[0].0.to_string(), r#"up{job="a"}"#);
    assert_eq!((fast.histograms, fast.exemplars), (1, 1));
    assert_eq!(fast.metadata[0].0, "up");

    // A series without samples is checked but left out.
    let mut empty = Vec::new();
    len_field(1, &label_bytes(b"a", b"b"), &mut empty);
    assert!(agree(&request(&[empty.clone(), ts.clone()])));
    assert_eq!(via_fast(&request(&[empty])).unwrap().series.len(), 0);
}

#[test]
fn malformed_wire_forms_are_errors_in_both() {
    let ts = {
        let mut ts = Vec::new();
        len_field(1, &label_bytes(b"__name__", b"up"), &mut ts);
        len_field(2, &sample_bytes(1.0, 1), &mut ts);
        ts
    };
    let mut cases: Vec<Vec<u8>> = Vec::new();
    // Invalid UTF-8 in a label, in an exemplar label, in metadata.
    let mut bad = Vec::new();
    len_field(1, &label_bytes(b"__name__", b"\xff"), &mut bad);
    cases.push(request(&[bad]));
    let mut bad = ts.clone();
    let mut ex = Vec::new();
    len_field(1, &label_bytes(b"\xc3", b"x"), &mut ex);
    len_field(3, &ex, &mut bad);
    cases.push(request(&[bad]));
    let mut md = Vec::new();
    len_field(4, b"\xe2\x82", &mut md);
    let mut body = Vec::new();
    len_field(3, &md, &mut body);
    cases.push(body);
    // Wrong wire types of known fields.
    let mut bad = Vec::new();
    field(1, 0, &mut bad);
    varint(3, &mut bad);
    cases.push(bad);
    let mut bad = ts.clone();
    let mut s = Vec::new();
    field(1, 0, &mut s);
    varint(1, &mut s);
    len_field(2, &s, &mut bad);
    cases.push(request(&[bad]));
    let mut bad = ts.clone();
    let mut h = Vec::new();
    field(15, 1, &mut h);
    h.extend_from_slice(&[0; 8]);
    len_field(4, &h, &mut bad);
    cases.push(request(&[bad]));
    // Field number 0, wire types 6 and 7, a stray end-group, a key beyond 32 bits.
    cases.push(vec![0x00, 0x01]);
    cases.push(vec![0x0e]);
    cases.push(vec![0x0f]);
    cases.push(vec![0x0c]);
    let mut bad = Vec::new();
    varint(1 << 35 | 2, &mut bad);
    bad.push(0);
    cases.push(bad);
    // Varints: 11 bytes, a 10th byte that overflows, truncated.
    let mut bad = vec![0x08];
    bad.extend_from_slice(&[0xff; 10]);
    bad.push(0x01);
    cases.push(bad);
    let mut bad = vec![0x48];
    bad.extend_from_slice(&[0xff; 9]);
    bad.push(0x02);
    cases.push(bad);
    cases.push(vec![0x48, 0xff]);
    // Lengths past the end, and a sub-message field crossing its parent's end.
    cases.push(vec![0x0a, 0x05, 0x0a]);
    let mut cross = ts.clone();
    cross.extend_from_slice(&[0x12, 0x09, 0x09]);
    let mut body = Vec::new();
    field(1, 2, &mut body);
    varint(cross.len() as u64, &mut body);
    body.extend_from_slice(&cross);
    body.extend_from_slice(&[0; 8]);
    cases.push(body);
    // Groups: unterminated, mismatched end tag.
    cases.push(vec![0x4b, 0x08, 0x01]);
    cases.push(vec![0x4b, 0x54]);
    for (i, c) in cases.iter().enumerate() {
        assert!(!agree(c), "case {i} should be rejected: {c:02x?}");
    }
    // The control case decodes.
    assert!(agree(&request(&[ts])));
}

#[test]
fn nesting_limit_matches_prost() {
    for depth in [90usize, 97, 98, 99, 100, 101, 150] {
        let mut body = Vec::new();
        for _ in 0..depth {
            field(9, 3, &mut body);
        }
        for _ in 0..depth {
            field(9, 4, &mut body);
        }
        agree(&body);
        // The same groups inside a label, two messages down.
        let mut l = label_bytes(b"__name__", b"up");
        l.extend_from_slice(&body);
        let mut ts = Vec::new();
        len_field(1, &l, &mut ts);
        len_field(2, &sample_bytes(0.0, 0), &mut ts);
        agree(&request(&[ts]));
    }
    // Deep nesting is refused, shallow accepted.
    let group = |n: usize| {
        let mut b = vec![0x4b; n];
        b.extend(std::iter::repeat_n(0x4c, n));
        b
    };
    assert!(agree(&group(10)));
    assert!(!agree(&group(150)));
}

#[test]
fn keys_follow_the_label_bytes() {
    let key_of = |labels: &[(&str, &str)], t: i64| {
        let ts = crate::remote::proto::TimeSeries {
            labels: labels
                .iter()
                .map(|(n, v)| proto::Label {
                    name: n.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            samples: vec![proto::Sample {
                value: 1.0,
                timestamp: t,
            }],
            ..Default::default()
        };
        let buf = proto::WriteRequest {
            timeseries: vec![ts],
            metadata: vec![],
        }
        .encode_to_vec();
        let mut b = V1Batch::default();
        b.decode(&buf).unwrap();
        b.series[0].key
    };
    let a = [("__name__", "up"), ("job", "a")];
    assert_eq!(key_of(&a, 1), key_of(&a, 2), "samples do not change the key");
    let mut keys: Vec<u64> = vec![
        key_of(&a, 1),
        key_of(&[("__name__", "up"), ("job", "b")], 1),
        key_of(&[("__name__", "up"), ("job", "ab")], 1),
        key_of(&[("__name__", "upj"), ("ob", "a")], 1),
        key_of(&[("__name__", "up")], 1),
    ];
    for i in 0..200 {
        keys.push(key_of(&[("__name__", "node_cpu"), ("cpu", &i.to_string())], 1));
    }
    let n = keys.len();
    keys.sort_unstable();
    keys.dedup_by_key(|k| *k >> 32);
    assert_eq!(keys.len(), n, "upper 32 bits of the keys collide");
}

#[test]
fn a_batch_is_reused_without_leftovers() {
    let mut rng = Rng(3);
    let mut b = V1Batch::default();
    let first = random_request(&mut rng).encode_to_vec();
    b.decode(&first).unwrap();
    let one = request(&[{
        let mut ts = Vec::new();
        len_field(1, &label_bytes(b"__name__", b"up"), &mut ts);
        len_field(2, &sample_bytes(2.5, 7), &mut ts);
        ts
    }]);
    b.decode(&one).unwrap();
    assert_eq!(b.series.len(), 1);
    assert_eq!(b.labels, vec![("__name__", "up")]);
    assert_eq!(b.samples, vec![Sample { t: 7, v: 2.5 }]);
    assert_eq!(b.sample_count(), 1);
    assert!(b.metadata.is_empty());
    assert_eq!((b.histograms, b.exemplars), (0, 0));
    // A failed decode is an error with an offset, never a panic.
    let err = b.decode(&one[..one.len() - 1]).unwrap_err();
    assert!(err.offset <= one.len(), "{err}");
}

#[test]
fn unsorted_labels_come_out_sorted_under_the_key_of_their_bytes() {
    let ts = |labels: &[(&[u8], &[u8])]| {
        let mut ts = Vec::new();
        for (n, v) in labels {
            len_field(1, &label_bytes(n, v), &mut ts);
        }
        len_field(2, &sample_bytes(1.0, 1), &mut ts);
        ts
    };
    let sorted = request(&[ts(&[(b"__name__", b"up"), (b"a", b"1"), (b"job", b"x")])]);
    let unsorted = request(&[ts(&[(b"job", b"x"), (b"__name__", b"up"), (b"a", b"1")])]);
    assert!(agree(&unsorted));
    let (mut s, mut u) = (V1Batch::default(), V1Batch::default());
    s.decode(&sorted).unwrap();
    u.decode(&unsorted).unwrap();
    assert_eq!(s.labels, u.labels);
    assert_eq!(u.labels, vec![("__name__", "up"), ("a", "1"), ("job", "x")]);
    assert_ne!(s.series[0].key, u.series[0].key);
    let again = request(&[ts(&[(b"job", b"x"), (b"__name__", b"up"), (b"a", b"1")])]);
    let mut a = V1Batch::default();
    a.decode(&again).unwrap();
    assert_eq!(a.series[0].key, u.series[0].key);
}

#[test]
fn label_runs_match_field_by_field_decoding() {
    let names: Vec<String> = (0..40).map(|i| format!("l{i:02}")).collect();
    // 40 plain labels (longer than one run), then one interrupted by a non-plain label and a sample.
    let mut long = Vec::new();
    len_field(1, &label_bytes(b"__name__", b"m"), &mut long);
    for n in &names {
        len_field(1, &label_bytes(n.as_bytes(), "値".as_bytes()), &mut long);
    }
    len_field(2, &sample_bytes(1.0, 1), &mut long);
    let mut broken = Vec::new();
    len_field(1, &label_bytes(b"__name__", b"m"), &mut broken);
    len_field(1, &label_bytes(b"a", b""), &mut broken);
    len_field(1, &label_bytes(b"b", b"2"), &mut broken);
    len_field(2, &sample_bytes(1.0, 1), &mut broken);
    len_field(1, &label_bytes(b"c", b"3"), &mut broken);
    let body = request(&[long, broken]);
    assert!(agree(&body));
    let fast = via_fast(&body).unwrap();
    assert_eq!(fast.series[0].0.len(), 41);
    assert_eq!(fast.series[1].0.to_string(), r#"m{b="2", c="3"}"#);
    // Bad UTF-8 in the middle of a run is the same error as field by field.
    let mut bad = Vec::new();
    len_field(1, &label_bytes(b"__name__", b"m"), &mut bad);
    len_field(1, &label_bytes(b"a", b"1"), &mut bad);
    len_field(1, &label_bytes(b"b", b"\xe2\x28\xa1"), &mut bad);
    len_field(1, &label_bytes(b"c", b"3"), &mut bad);
    len_field(2, &sample_bytes(1.0, 1), &mut bad);
    let body = request(&[bad]);
    assert!(!agree(&body));
    let err = V1Batch::default().decode(&body).unwrap_err();
    assert_eq!(err.what, "string is not valid UTF-8");
}

#[test]
fn sample_runs_match_field_by_field_decoding() {
    // Timestamps of every varint length (1 to 10 bytes, negative ones take 10), overlong varints, samples
    // with their fields reversed or an unknown field, and a label in the middle of a run.
    let mut ts = Vec::new();
    len_field(1, &label_bytes(b"__name__", b"m"), &mut ts);
    let mut n = 0;
    for shift in 0..64 {
        let t = 1i64.wrapping_shl(shift).wrapping_sub(1);
        for t in [t, t.wrapping_add(1), t.wrapping_neg()] {
            len_field(2, &sample_bytes(t as f64, t), &mut ts);
            n += 1;
        }
    }
    let mut overlong = Vec::new();
    field(1, 1, &mut overlong);
    overlong.extend_from_slice(&2.5f64.to_bits().to_le_bytes());
    field(2, 0, &mut overlong);
    overlong.extend_from_slice(&[0x85, 0x80, 0x80, 0x00]);
    len_field(2, &overlong, &mut ts);
    let mut reversed = Vec::new();
    field(2, 0, &mut reversed);
    varint(77, &mut reversed);
    field(1, 1, &mut reversed);
    reversed.extend_from_slice(&3.5f64.to_bits().to_le_bytes());
    len_field(2, &reversed, &mut ts);
    len_field(1, &label_bytes(b"job", b"j"), &mut ts);
    let mut extra = sample_bytes(4.5, 88);
    field(9, 0, &mut extra);
    varint(1, &mut extra);
    len_field(2, &extra, &mut ts);
    len_field(2, &sample_bytes(5.5, 99), &mut ts);
    n += 4;
    let body = request(&[ts.clone()]);
    assert!(agree(&body));
    let fast = via_fast(&body).unwrap();
    assert_eq!(fast.series[0].1.len(), n);
    assert_eq!(fast.series[0].1[n - 4], (5, 2.5f64.to_bits()));
    assert_eq!(fast.series[0].1[n - 1], (99, 5.5f64.to_bits()));
    // A run cut anywhere is the same verdict as field by field.
    for cut in 0..ts.len() {
        agree(&request(&[ts[..cut].to_vec()]));
    }
}
