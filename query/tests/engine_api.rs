//! The engine's public API: results, errors, limits, timeout and cancellation.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use strata_query::{Engine, EngineOptions, QueryError, QueryOptions, Value};
use strata_storage::{Labels, MemStore};

fn store(series: usize, points: i64) -> MemStore {
    let mut s = MemStore::new();
    for i in 0..series {
        let l = Labels::from_pairs([("__name__", "m_total".to_string()), ("i", i.to_string())]);
        for p in 0..points {
            s.add(&l, p * 15_000, (p * (i as i64 + 1)) as f64);
        }
    }
    s
}

#[test]
fn instant_and_range_results() {
    let s = store(3, 100);
    let e = Engine::new(EngineOptions::default());
    let r = e
        .instant_query(&s, "sum(m_total)", 60_000, &QueryOptions::default())
        .unwrap();
    let Value::Vector(v) = r.value else {
        panic!("expected vector")
    };
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].v, 4.0 * 6.0);
    assert_eq!(v[0].t, 60_000);
    assert!(r.stats.samples_loaded > 0);
    assert_eq!(r.stats.series_selected, 3);

    let r = e
        .range_query(&s, "m_total", 0, 60_000, 30_000, &QueryOptions::default())
        .unwrap();
    let Value::Matrix(m) = r.value else {
        panic!("expected matrix")
    };
    assert_eq!(m.len(), 3);
    assert_eq!(m[0].timestamps, vec![0, 30_000, 60_000]);
    assert!(m.windows(2).all(|w| w[0].labels < w[1].labels));

    let r = e.instant_query(&s, "1 + 2", 1_000, &QueryOptions::default()).unwrap();
    assert_eq!(r.value, Value::Scalar { t: 1_000, v: 3.0 });
    let r = e
        .instant_query(&s, "rate(m_total[1m])", 120_000, &QueryOptions::default())
        .unwrap();
    assert!(r.infos.is_empty());
}

#[test]
fn errors() {
    let s = store(1, 10);
    let e = Engine::default();
    let err = e.instant_query(&s, "sum(", 0, &QueryOptions::default()).unwrap_err();
    assert!(matches!(err, QueryError::Parse(_)), "{err:?}");
    let err = e
        .range_query(&s, "m_total[5m]", 0, 60_000, 15_000, &QueryOptions::default())
        .unwrap_err();
    assert!(matches!(err, QueryError::BadData(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "invalid expression type \"range vector\" for range query, must be Scalar or instant Vector"
    );
    let err = e
        .range_query(&s, "m_total", 0, 60_000, 0, &QueryOptions::default())
        .unwrap_err();
    assert!(matches!(err, QueryError::BadData(_)), "{err:?}");
}

#[test]
fn too_many_samples() {
    let s = store(10, 200);
    let e = Engine::new(EngineOptions {
        max_samples: 100,
        ..EngineOptions::default()
    });
    let err = e
        .range_query(&s, "m_total", 0, 3_000_000, 15_000, &QueryOptions::default())
        .unwrap_err();
    assert!(matches!(err, QueryError::TooManySamples), "{err:?}");
    assert_eq!(
        err.to_string(),
        "query processing would load too many samples into memory in query execution"
    );
    let e = Engine::new(EngineOptions {
        max_samples: 1_000_000,
        ..EngineOptions::default()
    });
    assert!(
        e.range_query(&s, "m_total", 0, 3_000_000, 15_000, &QueryOptions::default())
            .is_ok()
    );
}

#[test]
fn timeout_and_cancel() {
    let s = store(10, 200);
    let e = Engine::default();
    let opts = QueryOptions {
        timeout: Some(Duration::ZERO),
        ..QueryOptions::default()
    };
    let err = e
        .instant_query(&s, "sum(rate(m_total[5m]))", 1_000_000, &opts)
        .unwrap_err();
    assert!(matches!(err, QueryError::Timeout(_)), "{err:?}");
    assert_eq!(err.to_string(), "query timed out in expression evaluation");

    let flag = Arc::new(AtomicBool::new(true));
    let opts = QueryOptions {
        cancel: Some(flag),
        ..QueryOptions::default()
    };
    let err = e
        .instant_query(&s, "sum(rate(m_total[5m]))", 1_000_000, &opts)
        .unwrap_err();
    assert!(matches!(err, QueryError::Canceled), "{err:?}");
}

#[test]
fn lookback_override() {
    let s = store(1, 2);
    let e = Engine::default();
    let short = QueryOptions {
        lookback_delta_ms: Some(10_000),
        ..QueryOptions::default()
    };
    let r = e.instant_query(&s, "m_total", 30_000, &short).unwrap();
    assert_eq!(r.value, Value::Vector(vec![]));
    let r = e
        .instant_query(&s, "m_total", 30_000, &QueryOptions::default())
        .unwrap();
    assert!(matches!(r.value, Value::Vector(v) if v.len() == 1));
}
