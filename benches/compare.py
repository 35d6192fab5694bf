#!/usr/bin/env python3
"""Side-by-side benchmark: Strata vs Debian's Prometheus (and Debian's VictoriaMetrics when installed) on the
same machine, the same data, one run.

Starts the servers on loopback with fresh data dirs, drives each with `strata bench` (identical generated
data, fixed seed), waits until each is idle, then times a fixed query set on all (one warm-up, median of 5,
full body read), checks that Strata's answers agree with Prometheus', and prints tables of ratios. Standard
library only.

    python3 benches/compare.py --series 100000 --duration 2h          # the issue's full set (slow)
    python3 benches/compare.py --series 5000 --duration 1h --quick    # a few minutes
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

QUERIES = [
    ("a", "range", "sum by (job) (rate(node_cpu_seconds_total[5m]))", 15),
    ("b", "range", "sum by (instance) (rate(node_network_receive_bytes_total[5m]))", 60),
    ("c", "range", "node_load1", 15),
    ("d", "range", "topk(5, max_over_time(node_filesystem_avail_bytes[10m]))", 60),
    ("e", "instant", 'count({__name__=~"node_.+"})', None),
    ("f", "instant", "sum by (mode) (increase(node_cpu_seconds_total[1h]))", None),
    ("g", "range", "avg_over_time(node_memory_MemAvailable_bytes[30m])", 300),
    ("h1", "series", "node_cpu_seconds_total", None),
    ("h2", "label_values", "instance", None),
]


def parse_duration_s(d):
    """Seconds of a simple duration such as 30m, 2h, 1d."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return int(float(d[:-1]) * units[d[-1]])


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_ready(url, limit=120):
    t0 = time.time()
    while time.time() - t0 < limit:
        try:
            with urllib.request.urlopen(url + "/-/ready", timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} not ready after {limit}s")


def get(url):
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as r:
        body = r.read()
    return time.perf_counter() - t0, json.loads(body)


def query_url(base, kind, q, step, start, end):
    if kind == "range":
        p = {"query": q, "start": start, "end": end, "step": step}
        return f"{base}/api/v1/query_range?{urllib.parse.urlencode(p)}"
    if kind == "instant":
        return f"{base}/api/v1/query?{urllib.parse.urlencode({'query': q, 'time': end})}"
    if kind == "series":
        p = {"match[]": q, "start": start, "end": end}
        return f"{base}/api/v1/series?{urllib.parse.urlencode(p)}"
    return f"{base}/api/v1/label/{q}/values"


REL_TOL = 1e-9


def close(a, b):
    """Values agree when equal as strings or within REL_TOL: Prometheus 3.x (our reference) sums with Kahan
    compensation where 2.42 does not, so the last digits may differ."""
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    return abs(x - y) <= REL_TOL * max(abs(x), abs(y))


def agree(a, b):
    """Compares two normalised answers point by point."""
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for x, y in zip(a, b):
            if x == y:
                continue
            try:
                jx, jy = json.loads(x), json.loads(y)
            except (TypeError, ValueError):
                return False
            if not isinstance(jx, dict) or jx.get("metric") != jy.get("metric"):
                return False
            px = jx.get("values") or [jx.get("value")]
            py = jy.get("values") or [jy.get("value")]
            if len(px) != len(py) or any(u[0] != v[0] or not close(u[1], v[1]) for u, v in zip(px, py)):
                return False
        return True
    return a == b


def explain(qid, a, b):
    """Prints where two answers first differ (to stderr)."""
    if not (isinstance(a, list) and isinstance(b, list)):
        print(f"{qid}: strata {str(a)[:200]} vs prometheus {str(b)[:200]}", file=sys.stderr)
        return
    differing = sum(1 for x, y in zip(a, b) if not agree([x], [y]))
    print(f"{qid}: {len(a)} series from strata, {len(b)} from prometheus, {differing} differ; the first:",
          file=sys.stderr)
    for x, y in zip(a, b):
        if x == y:
            continue
        jx, jy = json.loads(x), json.loads(y)
        if jx.get("metric") != jy.get("metric"):
            print(f"  series differ: {jx.get('metric')} vs {jy.get('metric')}", file=sys.stderr)
            return
        px = jx.get("values") or [jx.get("value")]
        py = jy.get("values") or [jy.get("value")]
        print(f"  {jx.get('metric')}: {len(px)} vs {len(py)} points", file=sys.stderr)
        for u, v in zip(px, py):
            if u[0] != v[0] or not close(u[1], v[1]):
                print(f"  first difference: strata {u} vs prometheus {v}", file=sys.stderr)
                return
        return


def normalise(v):
    data = v.get("data")
    if isinstance(data, dict) and "result" in data:
        res = data["result"]
        if isinstance(res, list):
            return sorted(json.dumps(x, sort_keys=True) for x in res)
        return res
    if isinstance(data, list):
        return sorted(json.dumps(x, sort_keys=True) for x in data)
    return data


def peer_commands(args, tmp, strata):
    """Command line, base URL and data dir of each server to compare, Strata first."""
    peers = {}
    port = free_port()
    d = os.path.join(tmp, "strata")
    peers["strata"] = ([strata, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", d], port, d)
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1h\n")
    port, d = free_port(), os.path.join(tmp, "prom")
    peers["prometheus"] = (["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={d}",
                            f"--web.listen-address=127.0.0.1:{port}",
                            "--web.enable-remote-write-receiver", "--web.enable-admin-api"], port, d)
    vm = shutil.which("victoria-metrics")
    if vm and not args.no_victoriametrics:
        port, d = free_port(), os.path.join(tmp, "vm")
        # Result cache off, as the VictoriaMetrics figures were taken; no latency offset, so that it
        # answers over the same points.
        peers["victoriametrics"] = ([vm, f"-storageDataPath={d}", f"-httpListenAddr=127.0.0.1:{port}",
                                     "-search.disableCache", "-search.latencyOffset=0s"], port, d)
    return peers


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--strata", default=None, help="path of the strata binary (default: build release)")
    ap.add_argument("--series", type=int, default=5000)
    ap.add_argument("--duration", default="1h")
    ap.add_argument("--connections", type=int, default=2)
    ap.add_argument("--jitter-ms", type=int, default=None,
                    help="largest scrape-timestamp jitter of the generated data (strata bench's default when omitted)")
    ap.add_argument("--quick", action="store_true", help="3 timed runs instead of 5")
    ap.add_argument("--mode", choices=["bulk", "live"], default="bulk",
                    help="bulk: many points per series per request; live: one point per series per request")
    ap.add_argument("--no-queries", action="store_true", help="ingest only")
    ap.add_argument("--end-ms", type=int, default=None,
                    help="end of the generated data in Unix ms (default: now), to replay a run exactly")
    ap.add_argument("--no-victoriametrics", action="store_true",
                    help="leave out Debian's victoria-metrics even when it is installed")
    args = ap.parse_args()
    runs = 3 if args.quick else 5

    strata = args.strata
    if strata is None:
        target = os.environ.get("CARGO_TARGET_DIR", "/work/target")
        subprocess.run(["cargo", "build", "--release", "--bin", "strata"], check=True,
                       env=dict(os.environ, CARGO_TARGET_DIR=target))
        strata = os.path.join(target, "release", "strata")
    if not shutil.which("prometheus"):
        raise SystemExit("prometheus not installed: run scripts/setup.sh")

    tmp = tempfile.mkdtemp(prefix="strata-compare-")
    keep = False
    peers = peer_commands(args, tmp, strata)
    names = list(peers)
    procs = {name: subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                    stderr=open(os.path.join(tmp, f"{name}.log"), "w"))
             for name, (cmd, _, _) in peers.items()}
    bases = {name: f"http://127.0.0.1:{port}" for name, (_, port, _) in peers.items()}
    dirs = {name: d for name, (_, _, d) in peers.items()}
    try:
        for b in bases.values():
            wait_ready(b)
        ingest = {}
        # One end time for every run, so all servers receive identical samples.
        # Samples sit half a second off whole seconds (jitter is far smaller), and query times are whole
        # seconds, so no sample lands on a window's left edge: Prometheus 2.42 includes a sample there and 3.x,
        # which Strata follows, excludes it. Data ending on a whole second made a run's answers differ.
        data_end_ms = args.end_ms if args.end_ms is not None else (int(time.time()) - 1) * 1000 + 500
        jitter = args.jitter_ms if args.jitter_ms is not None else 25
        if min(abs(data_end_ms % 1000 - 1000 * k) for k in (0, 1)) <= jitter:
            print("warning: samples may land on whole seconds, where Prometheus 2.42 and 3.x disagree on the "
                  "left edge of range windows", file=sys.stderr)
        print(f"data ends at {data_end_ms} ms (--end-ms to generate the same samples again)", file=sys.stderr)
        for name in names:
            # Each load runs alone too: every server idle first (start-up work, the previous load's
            # compactions), since a busy neighbour on two cores inflates the CPU a load is charged.
            wait_idle([procs[n].pid for n in names], window=1.0)
            cmd = [strata, "bench", "--url", bases[name], "--series", str(args.series), "--duration", args.duration,
                   "--connections", str(args.connections), "--server-pid", str(procs[name].pid),
                   "--server-data-dir", dirs[name], "--end-ms", str(data_end_ms), "--mode", args.mode, "--json"]
            if args.jitter_ms is not None:
                cmd += ["--jitter-ms", str(args.jitter_ms)]
            if name != "prometheus":
                cmd.append("--flush")  # Strata and VictoriaMetrics both have /internal/force_flush
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            ingest[name] = json.loads(out.strip().splitlines()[-1])
            if ingest[name].get("errors"):
                print(f"{name}: {ingest[name]['errors']} write requests failed", file=sys.stderr)
        # Queries start once every server is idle: background work left from ingestion (compactions, merges)
        # would otherwise land on whichever server is timed next.
        for name in names:
            wait_idle(procs[name].pid)
        # Bytes on disk once idle: VictoriaMetrics writes its parts a few seconds after a flush returns.
        for name in names:
            ingest[name]["disk_bytes"] = dir_bytes(dirs[name])
            ingest[name]["bytes_per_sample"] = ingest[name]["disk_bytes"] / max(ingest[name]["samples"], 1)
        # Range queries start 10 minutes after the data does: over windows holding a series' first samples,
        # Prometheus 2.42 extrapolates rate() differently from 3.x, which Strata follows.
        end = data_end_ms // 1000
        span_s = (parse_duration_s(args.duration))
        start = end - span_s + 600
        rows = []
        for qid, kind, q, step in ([] if args.no_queries else QUERIES):
            times, answers = {}, {}
            for name, base in bases.items():
                # A server's queries run alone: every server (the previous one's garbage collection after a
                # heavy query included) is idle first.
                wait_idle([procs[n].pid for n in names], window=1.0)
                url = query_url(base, kind, q, step, start, end)
                get(url)
                ts = []
                for _ in range(runs):
                    dt, body = get(url)
                    ts.append(dt)
                times[name] = statistics.median(ts) * 1000
                answers[name] = normalise(body)
            # VictoriaMetrics' MetricsQL differs from PromQL by design (rate without extrapolation, among
            # others): only Prometheus' answers are the reference.
            same = agree(answers["strata"], answers["prometheus"])
            if not same:
                explain(qid, answers["strata"], answers["prometheus"])
                # Kept for diagnosis: the answers, and (below) every server's data directory.
                for name in ("strata", "prometheus"):
                    with open(os.path.join(tmp, f"answer-{qid}-{name}.json"), "w") as f:
                        json.dump(answers[name], f)
                with open(os.path.join(tmp, f"answer-{qid}-query.txt"), "w") as f:
                    f.write(query_url("", kind, q, step, start, end) + "\n")
            rows.append((qid, q, times, same))
        peers_shown = [n for n in names if n != "strata"]
        print(f"\n## ingest ({args.series} series × {args.duration}, {args.mode})\n")
        head = " | ".join(peers_shown + ["strata"] + [f"strata/{n}" for n in peers_shown])
        print(f"| metric | {head} |\n|---" + "|---" * (2 * len(peers_shown) + 1) + "|")
        for key in ("samples_per_second", "cpu_seconds_per_million", "peak_rss_bytes", "bytes_per_sample"):
            s = ingest["strata"].get(key)
            vals = [ingest[n].get(key) for n in peers_shown]
            ratios = [f"{s / v:.2f}" if v and s else "n/a" for v in vals]
            cells = [fmt(v) for v in vals] + [fmt(s)] + ratios
            print(f"| {key} | " + " | ".join(cells) + " |")
        print("\n## queries (median ms)\n")
        print(f"| id | query | {head} | same answer as prometheus |\n|---|---" + "|---" * (2 * len(peers_shown) + 2) + "|")
        for qid, q, times, same in rows:
            s = times["strata"]
            cells = [f"{times[n]:.1f}" for n in peers_shown] + [f"{s:.1f}"]
            cells += [f"{s / max(times[n], 1e-9):.2f}" for n in peers_shown]
            print(f"| {qid} | `{q}` | " + " | ".join(cells) + f" | {'yes' if same else 'NO'} |")
        keep = not all(r[3] for r in rows)
        if keep:
            print(f"answers differ: data directories and answers kept in {tmp}", file=sys.stderr)
        return 1 if keep else 0
    finally:
        for p in procs.values():
            p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def fmt(v):
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def dir_bytes(path):
    """Total size of the files under `path`."""
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def wait_idle(pid, limit=120, window=2.0, max_share=0.05):
    """Waits (at most `limit` s) until process `pid` (or every process of a list) used under `max_share` of
    one core over `window` s."""
    pids = pid if isinstance(pid, list) else [pid]
    hz = os.sysconf("SC_CLK_TCK")
    t0 = time.time()
    while time.time() - t0 < limit:
        c0 = [cpu_ticks(p) for p in pids]
        time.sleep(window)
        if all((cpu_ticks(p) - c) / hz < max_share * window for p, c in zip(pids, c0)):
            return
    print(f"processes {pids} still busy after {limit}s; timing anyway", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
