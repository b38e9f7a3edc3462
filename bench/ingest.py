"""End-to-end `mailatlas ingest mbox` throughput and memory.

    python bench/ingest.py                 # 5,000-message bench mbox: fresh store, then rerun
    python bench/ingest.py --big-gb 2      # also: peak memory of a 2 GB mbox vs the 27 MB one

Each measurement runs the real command (`python -m mailatlas_cli ingest mbox FILE
--quiet`) in a fresh process, like a user would, into a new store under bench/out/, and
reads its peak RSS and CPU time from the kernel (wait4). Medians of --runs. One JSON
line each.

The stores are deleted only after the last run. On ext4 without a journal (this VM),
creating files within a few minutes of deleting many others costs about three times
the kernel time (the allocator steps over recently freed inodes), so deleting one
run's store just before the next run would measure the benchmark's own clean-up. Leave
a few minutes between two invocations for the same reason (see docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, median, report

from devkit.mailgen import write_mbox

OUT = REPO / "bench" / "out"


def run_ingest(mbox: Path, store: Path) -> tuple[float, float, float, dict[str, object]]:
    """Wall seconds, peak RSS (MB), CPU seconds and the JSON summary of one ingest.

    The CPU time is the command's own (user + system); its parser workers are not
    counted.
    """
    cmd = [
        sys.executable,
        "-m",
        "mailatlas_cli",
        "ingest",
        "mbox",
        str(mbox),
        "--quiet",
        "--db",
        str(store / "store.db"),
        "--workspace",
        str(store / "workspace"),
    ]
    start = time.perf_counter()
    with open(store.parent / f"{store.name}.json", "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)
        _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"ingest failed: {err}")
    out_path = store.parent / f"{store.name}.json"
    if out_path.stat().st_size < 10_000_000:
        json.loads(out_path.read_bytes())  # the output is one valid JSON document
    # The counts come from the run the command recorded, not from its output: loading
    # 363,000 refs here would grow this process, and a child started by vfork inherits
    # its parent's peak RSS in ru_maxrss (it would be measured as the next run's).
    with sqlite3.connect(store / "store.db") as db:
        (summary_json,) = db.execute("SELECT summary FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    summary = json.loads(summary_json)
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, summary


def bench_mbox(mbox: Path, runs: int, label: str, stores: list[Path]) -> dict[str, float]:
    count = None
    fresh_t, fresh_rss, fresh_cpu, dup_t, dup_rss = [], [], [], [], []
    for i in range(runs):
        store = Path(tempfile.mkdtemp(prefix=f"ingest-store-{label}-{i}-", dir=OUT))
        stores.append(store)
        t, rss, cpu, summary = run_ingest(mbox, store)
        count = summary["ingested_count"] + summary["duplicate_count"] + summary["failed_count"]
        print(f"{label} run {i + 1}: fresh {t:.2f} s ({count / t:,.0f} msg/s)", file=sys.stderr)
        fresh_t.append(t)
        fresh_rss.append(rss)
        fresh_cpu.append(cpu)
        t, rss, _cpu, summary2 = run_ingest(mbox, store)
        assert summary2["duplicate_count"] == count, summary2
        dup_t.append(t)
        dup_rss.append(rss)
    assert count
    result = {
        "messages": count,
        "fresh_msg_per_s": round(count / median(fresh_t)),
        "fresh_wall_s": round(median(fresh_t), 2),
        "fresh_runs_msg_per_s": [round(count / t) for t in fresh_t],
        "fresh_main_cpu_s": round(median(fresh_cpu), 2),
        "fresh_peak_rss_mb": round(max(fresh_rss), 1),
        "duplicate_msg_per_s": round(count / median(dup_t)),
        "duplicate_wall_s": round(median(dup_t), 2),
        "duplicate_peak_rss_mb": round(max(dup_rss), 1),
    }
    report(f"ingest-{label}", mbox_mb=round(mbox.stat().st_size / 1e6, 1), runs=runs, **result)
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--big-gb", type=float, default=0.0, help="also ingest a mbox this big")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    mbox = OUT / "bench.mbox"
    if not mbox.exists():
        write_mbox(mbox, 5000, seed=0)
    stores: list[Path] = []
    try:
        run_all(args, mbox, stores)
    finally:
        for store in stores:
            shutil.rmtree(store, ignore_errors=True)
            (store.parent / f"{store.name}.json").unlink(missing_ok=True)


def run_all(args: argparse.Namespace, mbox: Path, stores: list[Path]) -> None:
    small = bench_mbox(mbox, args.runs, "5k", stores)
    if args.big_gb:
        big = OUT / f"big-{args.big_gb:g}gb.mbox"
        if not big.exists():
            per_message = mbox.stat().st_size / 5000
            write_mbox(big, int(args.big_gb * 1e9 / per_message), seed=1)
        large = bench_mbox(big, 1, f"{args.big_gb:g}gb", stores)
        report(
            "ingest-memory",
            small_peak_rss_mb=small["fresh_peak_rss_mb"],
            big_peak_rss_mb=large["fresh_peak_rss_mb"],
            ratio=round(large["fresh_peak_rss_mb"] / small["fresh_peak_rss_mb"], 2),
        )


if __name__ == "__main__":
    main()
