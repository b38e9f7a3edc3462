"""End-to-end `mailatlas ingest mbox` throughput and memory.

    python bench/ingest.py                 # 5,000-message bench mbox: fresh store, then rerun
    python bench/ingest.py --big-gb 2      # also: peak memory of a 2 GB mbox vs the 27 MB one
    python bench/ingest.py --against main  # before/after: this tree and main's code, interleaved
    python bench/ingest.py --no-floor      # without the parse-only floor

Each measurement runs the real command (`python -m mailatlas_cli ingest mbox FILE
--quiet`) in a fresh process, like a user would, into a new store under bench/out/, and
reads its peak RSS and CPU time from the kernel (wait4). Medians of --runs. One JSON
line each.

The stores are deleted only after the last run. On ext4 without a journal (this VM),
creating files within a few minutes of deleting many others costs about three times
the kernel time (the allocator steps over recently freed inodes), so deleting one
run's store just before the next run would measure the benchmark's own clean-up. Leave
a few minutes between two invocations for the same reason (see docs/performance.md).

The parse-only floor (bench/_parse_floor.py) runs in the same loop, after each run's
ingest: mail-parser parsing the same messages on as many processes as the ingest uses
(``os.cpu_count()``: the caller and its cores - 1 parser workers), in a fresh process
timed the same way. ``ingest-5k-vs-parse-floor`` prints the ingest's rate over the
floor's (issue 15's target: at least 0.8), from the medians and run by run.

``--against REF`` extracts the packages of git ``REF`` (``git archive``) under bench/out/
and runs them in turn with this tree's, run by run (``PYTHONPATH`` puts REF's sources
first), so both see the same load: on a busy machine only such a comparison means much.
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


def run_ingest(
    mbox: Path, store: Path, env: dict[str, str] | None = None
) -> tuple[float, float, float, dict[str, object]]:
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
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env=env)
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


def run_floor(source: Path, processes: int) -> tuple[float, int]:
    """Wall seconds and message count of the parse-only floor (bench/_parse_floor.py) on
    an mbox or a Maildir."""
    cmd = [sys.executable, str(REPO / "bench" / "_parse_floor.py"), str(source)]
    start = time.perf_counter()
    out = subprocess.run([*cmd, f"--processes={processes}"], capture_output=True, check=True)
    elapsed = time.perf_counter() - start
    return elapsed, json.loads(out.stdout)["messages"]


def bench_mbox(
    mbox: Path,
    runs: int,
    label: str,
    stores: list[Path],
    variants: dict[str, dict[str, str] | None] | None = None,
    floor: bool = False,
) -> dict[str, float]:
    """Fresh ingest then rerun, ``runs`` times; with ``variants`` (name: environment),
    each run of each variant in turn, then (``floor``) the parse-only floor. Returns the
    first variant's figures."""
    variants = variants or {"": None}
    times: dict[str, dict[str, list[float]]] = {
        name: {k: [] for k in ("fresh_t", "fresh_rss", "fresh_cpu", "dup_t", "dup_rss")}
        for name in variants
    }
    floor_t: list[float] = []
    count = None
    for i in range(runs):
        for name, env in variants.items():
            t = times[name]
            tag = f"{label}{'-' + name if name else ''}"
            store = Path(tempfile.mkdtemp(prefix=f"ingest-store-{tag}-{i}-", dir=OUT))
            stores.append(store)
            wall, rss, cpu, summary = run_ingest(mbox, store, env)
            count = summary["ingested_count"] + summary["duplicate_count"] + summary["failed_count"]
            rate = f"{count / wall:,.0f} msg/s"
            print(f"{tag} run {i + 1}: fresh {wall:.2f} s ({rate})", file=sys.stderr)
            t["fresh_t"].append(wall)
            t["fresh_rss"].append(rss)
            t["fresh_cpu"].append(cpu)
            wall, rss, _cpu, summary2 = run_ingest(mbox, store, env)
            assert summary2["duplicate_count"] == count, summary2
            t["dup_t"].append(wall)
            t["dup_rss"].append(rss)
        if floor:
            wall, parsed = run_floor(mbox, os.cpu_count() or 1)
            assert parsed == count, (parsed, count)
            rate = f"{count / wall:,.0f} msg/s"
            print(f"parse floor run {i + 1}: {wall:.2f} s ({rate})", file=sys.stderr)
            floor_t.append(wall)
    assert count
    results = {}
    for name, t in times.items():
        results[name] = {
            "messages": count,
            "fresh_msg_per_s": round(count / median(t["fresh_t"])),
            "fresh_wall_s": round(median(t["fresh_t"]), 2),
            "fresh_runs_msg_per_s": [round(count / x) for x in t["fresh_t"]],
            "fresh_main_cpu_s": round(median(t["fresh_cpu"]), 2),
            "fresh_runs_main_cpu_s": [round(x, 2) for x in t["fresh_cpu"]],
            "fresh_peak_rss_mb": round(max(t["fresh_rss"]), 1),
            "duplicate_msg_per_s": round(count / median(t["dup_t"])),
            "duplicate_wall_s": round(median(t["dup_t"]), 2),
            "duplicate_peak_rss_mb": round(max(t["dup_rss"]), 1),
        }
        bench = f"ingest-{label}{'-' + name if name else ''}"
        report(bench, mbox_mb=round(mbox.stat().st_size / 1e6, 1), runs=runs, **results[name])
    if floor_t:
        first = next(iter(times.values()))
        report(
            f"ingest-{label}-vs-parse-floor",
            processes=os.cpu_count(),
            load_avg=[round(x, 2) for x in os.getloadavg()],
            floor_msg_per_s=round(count / median(floor_t)),
            floor_runs_msg_per_s=[round(count / x) for x in floor_t],
            ingest_msg_per_s=round(count / median(first["fresh_t"])),
            ratio=round(median(floor_t) / median(first["fresh_t"]), 3),
            runs_ratio=[round(f / x, 3) for f, x in zip(floor_t, first["fresh_t"], strict=True)],
        )
    if len(results) == 2:
        (new, a), (old, b) = results.items()
        report(
            f"ingest-{label}-{new}-vs-{old}",
            fresh_msg_per_s_ratio=round(a["fresh_msg_per_s"] / b["fresh_msg_per_s"], 3),
            fresh_main_cpu_ratio=round(a["fresh_main_cpu_s"] / b["fresh_main_cpu_s"], 3),
            duplicate_msg_per_s_ratio=round(a["duplicate_msg_per_s"] / b["duplicate_msg_per_s"], 3),
        )
    return next(iter(results.values()))


def against(ref: str) -> dict[str, dict[str, str] | None]:
    """The environments of this tree ("this") and of git ``ref``'s packages."""
    sha = subprocess.run(
        ["git", "rev-parse", "--short", ref], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout.strip()
    tree = OUT / f"ref-{sha}"
    if not tree.exists():
        partial = OUT / f"ref-{sha}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "archive", sha, "packages"], capture_output=True, check=True, cwd=REPO
        )
        subprocess.run(["tar", "-x", "-C", str(partial)], input=archive.stdout, check=True)
        partial.rename(tree)
    sources = sorted(str(p) for p in (tree / "packages").glob("*/src"))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sources))
    return {"this": None, sha: env}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--big-gb", type=float, default=0.0, help="also ingest a mbox this big")
    ap.add_argument(
        "--against",
        metavar="REF",
        help="also run git REF's code, interleaved run by run with this tree's",
    )
    ap.add_argument(
        "--no-floor",
        dest="floor",
        action="store_false",
        help="skip the parse-only floor (mail-parser alone on the same messages)",
    )
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
    variants = against(args.against) if args.against else None
    small = bench_mbox(mbox, args.runs, "5k", stores, variants, floor=args.floor)
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
