"""Start-up of `mailatlas list` and `mailatlas show` against bare Python, in one run.

    python bench/startup.py [--runs 21] [--docs 2000]

Issue 15's target: each command, as a process, at most 3x `python -c pass` on the same
machine. Every round runs, in turn, `python -c pass`, `python -c "import click"` (the
least any click command costs), `mailatlas list --query WORD` and `mailatlas show ID`
(the `mailatlas` script installed next to this Python, as a user runs it), each in a
fresh process, so all four see the same load; medians of --runs rounds. The store is
a small one built once under bench/out/ (bench/query.py measures the query itself on
100,000 documents). Prints one JSON line with the medians, the ratios and the load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import REPO, median, report
from mailatlas_core import ListFilter, open_store
from query import CLI_ENV, build


def _command() -> list[str]:
    """The installed `mailatlas` script, or `python -m mailatlas_cli` without one."""
    script = Path(sys.executable).with_name("mailatlas")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mailatlas_cli"]


def _timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, check=True, env=CLI_ENV)
    elapsed = time.perf_counter() - start
    assert not out.stderr, out.stderr[:300]
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--store", type=Path, default=REPO / "bench" / "out" / "startup-store")
    args = ap.parse_args()
    db, ws = args.store / "store.db", args.store / "workspace"
    if not db.exists():
        shutil.rmtree(args.store, ignore_errors=True)
        build(db, ws, args.docs)
    store = open_store(db, ws, create=False)
    some_id = store.list_documents(ListFilter(limit=1, offset=args.docs // 2))[0].id
    store.close()
    common = ["--db", str(db), "--workspace", str(ws)]
    mailatlas = _command()
    commands = {
        "python_pass": [sys.executable, "-c", "pass"],
        "import_click": [sys.executable, "-c", "import click"],
        "list": [*mailatlas, "list", "--query", "invoice", *common],
        "show": [*mailatlas, "show", some_id, *common],
    }
    for cmd in commands.values():
        _timed(cmd)  # warm-up: bytecode and page cache
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            times[name].append(_timed(cmd))
    ms = {name: round(median(t) * 1000, 1) for name, t in times.items()}
    bare = median(times["python_pass"])
    report(
        "startup",
        runs=args.runs,
        load_avg=[round(x, 2) for x in os.getloadavg()],
        command=" ".join(mailatlas[-2:] if len(mailatlas) > 1 else ["mailatlas"]),
        median_ms=ms,
        list_vs_python=round(median(times["list"]) / bare, 2),
        show_vs_python=round(median(times["show"]) / bare, 2),
        click_vs_python=round(median(times["import_click"]) / bare, 2),
        # Run by run (each round's own bare start-up), for the spread under load.
        list_ratio_per_round=sorted(
            round(a / b, 2) for a, b in zip(times["list"], times["python_pass"], strict=True)
        ),
    )


if __name__ == "__main__":
    main()
