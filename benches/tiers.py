#!/usr/bin/env python3
"""Downsampled tiers vs raw: the same 30-day range queries answered from raw samples and from the 1 h tier.

Starts a release Strata on loopback (raw kept forever), fills it with `strata bench` (node_exporter-like
series, bulk), flushes (which downsamples), then times each query with max_source_resolution=raw and =1h
(one warm-up, median of 5, full body read), checks that the answers agree, and prints bytes on disk per tier.

    python3 benches/tiers.py --strata $CARGO_TARGET_DIR/release/strata --series 10000 --days 30 --interval 60s

--data-dir reuses a filled data directory (skips the load).
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

QUERIES = [
    # (name, query, step seconds)
    ("cpu rate by mode", "sum by (mode) (rate(node_cpu_seconds_total[6h]))", 21600),
    ("network rate by instance", "sum by (instance) (rate(node_network_receive_bytes_total[6h]))", 21600),
    ("load max", "max_over_time(node_load1[6h])", 21600),
    ("memory avg", "avg_over_time(node_memory_MemAvailable_bytes[6h])", 21600),
    ("filesystem min", "min_over_time(node_filesystem_avail_bytes[1d])", 86400),
    ("all series count", 'sum(count_over_time({__name__=~"node_.+"}[1d]))', 86400),
]


def get(url):
    with urllib.request.urlopen(url, timeout=600) as r:
        return r.read()


def wait_ready(base):
    for _ in range(600):
        try:
            get(base + "/-/ready")
            return
        except Exception:
            time.sleep(0.2)
    sys.exit("server not ready")


def query(base, q, start, end, step, res):
    args = urllib.parse.urlencode(
        {"query": q, "start": start, "end": end, "step": step, "max_source_resolution": res}
    )
    t0 = time.perf_counter()
    body = get(f"{base}/api/v1/query_range?{args}")
    dt = time.perf_counter() - t0
    v = json.loads(body)
    if v.get("status") != "success":
        sys.exit(f"{q} ({res}): {v}")
    return dt, v["data"]["result"]


def points(result):
    out = {}
    for s in result:
        key = json.dumps(s["metric"], sort_keys=True)
        for t, v in s["values"]:
            out[(key, t)] = float(v)
    return out


def agree(a, b):
    """Share of common points within 2 % of each other, and the share of points in common."""
    common = [k for k in a if k in b]
    if not common:
        return 0.0, 0.0
    ok = sum(1 for k in common if abs(a[k] - b[k]) <= 0.02 * max(abs(a[k]), 1e-9))
    return ok / len(common), len(common) / max(len(a), len(b))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--strata", required=True)
    ap.add_argument("--series", type=int, default=10000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--interval", default="60s")
    ap.add_argument("--port", type=int, default=19191)
    ap.add_argument("--data-dir")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    base = f"http://127.0.0.1:{a.port}"
    data = a.data_dir or tempfile.mkdtemp(prefix="strata-tiers-")
    end_file = f"{data}/bench-end-ms"
    srv = subprocess.Popen(
        [a.strata, "serve", "--listen", f"127.0.0.1:{a.port}", "--data-dir", data, "--retention.raw", "forever",
         "--query.max-samples", "2000000000", "--query.timeout", "10m"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(base)
        if not a.data_dir:
            end_ms = (int(time.time()) // 3600 - 1) * 3600 * 1000
            open(end_file, "w").write(str(end_ms))
            subprocess.run(
                [a.strata, "bench", "--url", base, "--series", str(a.series), "--duration", f"{a.days}d",
                 "--interval", a.interval, "--mode", "bulk", "--end-ms", str(end_ms), "--flush"],
                check=True,
            )
        end_ms = int(open(end_file).read())
        # Make sure everything is sealed and downsampled before measuring.
        urllib.request.urlopen(urllib.request.Request(base + "/internal/force_flush", method="POST"), timeout=3600)
        tiers = json.loads(get(base + "/api/v1/status/tsdb"))["data"]["tiers"]
        print("\n| tier | series | chunks/blocks | samples/windows | bytes | bytes per sample/window |")
        print("|---|---:|---:|---:|---:|---:|")
        for t in tiers:
            per = t["bytes"] / t["numSamples"] if t["numSamples"] else 0
            print(f"| {t['name']} | {t['numSeries']} | {t['chunkCount']} | {t['numSamples']} | {t['bytes']} | {per:.2f} |")
        start = end_ms // 1000 - a.days * 86400 + 86400
        end = end_ms // 1000
        print(f"\nrange {a.days - 1} days ending {end}; median of {a.runs} after one warm-up\n")
        print("| query | step | raw ms | 1h tier ms | speed-up | points agreeing within 2 % | points in common |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, q, step in QUERIES:
            times = {}
            results = {}
            for res in ["raw", "1h"]:
                _, results[res] = query(base, q, start, end, step, res)
                times[res] = statistics.median(query(base, q, start, end, step, res)[0] for _ in range(a.runs))
            ok, common = agree(points(results["raw"]), points(results["1h"]))
            print(f"| {name}: `{q}` | {step // 3600}h | {times['raw'] * 1000:.0f} | {times['1h'] * 1000:.1f} | "
                  f"{times['raw'] / times['1h']:.1f}× | {ok * 100:.1f} % | {common * 100:.1f} % |")
    finally:
        srv.terminate()
        srv.wait()


if __name__ == "__main__":
    main()
