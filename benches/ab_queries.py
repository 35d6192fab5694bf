#!/usr/bin/env python3
"""A/B timing of two Strata builds on the same data, for changes smaller than the machine's drift.

Both builds serve at once, A on a data directory and B on a copy of it (made once, next to it), and the
queries of `compare.py`'s set are interleaved A, B, B, A, ...: a slow minute slows both. For each query it
prints the median wall time and the mean CPU time (from /proc) per run of each build, the median of the
per-pair wall ratios B/A and the ratio of the CPU sums. An A/A run (one build twice) shows the noise floor.

    python3 benches/ab_queries.py --a OLD_BIN --b NEW_BIN --data-dir DIR --end-ms END [--runs 15] a b f

DIR holds data loaded by `strata bench ... --end-ms END` (the queries cover the 2 h before END, as in
`compare.py`). Loopback only: ports 19090 and 19092.
"""

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("compare", os.path.join(HERE, "compare.py"))
compare = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare)

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User plus system CPU seconds of a process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--a", required=True, help="binary A")
    p.add_argument("--b", required=True, help="binary B")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--end-ms", type=int, required=True, help="end of the loaded data, ms")
    p.add_argument("--runs", type=int, default=15)
    p.add_argument("queries", nargs="+", help="query ids of compare.py's set (a, b, ... h2), or range queries "
                   "written as STEP_SECONDS:PROMQL (e.g. '15:avg by (job) (rate(node_cpu_seconds_total[5m]))')")
    args = p.parse_args()

    copy = args.data_dir.rstrip("/") + "_ab_copy"
    if not os.path.exists(copy):
        shutil.copytree(args.data_dir, copy)
    end = args.end_ms // 1000
    start = end - 2 * 3600 + 600
    servers = []
    for binary, port, data in ((args.a, 19090, args.data_dir), (args.b, 19092, copy)):
        proc = subprocess.Popen(
            [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        servers.append((proc, f"http://127.0.0.1:{port}"))
    try:
        for _, base in servers:
            compare.wait_ready(base)
        known = {q[0]: q for q in compare.QUERIES}
        for qid in args.queries:
            if qid in known:
                _, kind, q, step = known[qid]
            elif ":" in qid and qid.split(":", 1)[0].isdigit():
                step, q = qid.split(":", 1)
                kind, step = "range", int(step)
            else:
                sys.exit(f"unknown query id {qid}")
            urls = [compare.query_url(base, kind, q, step, start, end) for _, base in servers]
            for u in urls:  # warm-up
                compare.get(u)
                compare.get(u)
            walls = ([], [])
            cpus = ([], [])
            ratios = []
            for i in range(args.runs):
                pair = {}
                for k in ((0, 1) if i % 2 == 0 else (1, 0)):
                    pid = servers[k][0].pid
                    c0 = cpu_seconds(pid)
                    pair[k], _ = compare.get(urls[k])
                    walls[k].append(pair[k] * 1000)
                    cpus[k].append((cpu_seconds(pid) - c0) * 1000)
                ratios.append(pair[1] / pair[0])
            print(
                f"{qid}: A wall {statistics.median(walls[0]):7.1f} ms cpu {statistics.mean(cpus[0]):7.1f} ms | "
                f"B wall {statistics.median(walls[1]):7.1f} ms cpu {statistics.mean(cpus[1]):7.1f} ms | "
                f"B/A wall {statistics.median(ratios):.3f} cpu {sum(cpus[1]) / max(sum(cpus[0]), 1e-9):.3f}"
            )
    finally:
        for proc, _ in servers:
            proc.kill()


if __name__ == "__main__":
    main()
