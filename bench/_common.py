"""Shared helpers for the benchmarks: timing, peak RSS, medians, JSON lines out."""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident set size of this process (or of its waited-for children), in MB."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def median(values: list[float]) -> float:
    return statistics.median(values)


def report(name: str, **fields: Any) -> None:
    """Print one result line (JSON) so runs can be compared and pasted into the docs."""
    print(json.dumps({"bench": name, **fields}), flush=True)


def child_figures(child: str, args: list[str], env: dict[str, str] | None) -> dict[str, Any]:
    """Run ``python -c child *args`` in a fresh interpreter (with ``env``: another tree's
    packages); the JSON object it prints."""
    import subprocess

    out = subprocess.run(
        [sys.executable, "-c", child, *args], stdout=subprocess.PIPE, check=True, env=env
    ).stdout
    figures: dict[str, Any] = json.loads(out)
    return figures


def ratio_table(
    what: str,
    child: str,
    kinds: tuple[str, ...],
    sizes: list[int],
    variants: dict[str, dict[str, str] | None],
) -> None:
    """For each kind, size (MB) and variant (bench/ingest.py's ``against``), run ``child``
    with the kind and the size in bytes, and print its ``ratio`` and ``seconds``."""
    print(f"{what:<24}{'MB':>5}{'peak above it / its size':>28}{'seconds':>10}")
    for kind in kinds:
        for mb in sizes:
            for name, env in variants.items():
                got = child_figures(child, [kind, str(mb << 20)], env)
                label = f"{kind} [{name}]"
                print(f"{label:<24}{mb:>5}{got['ratio']:>27.2f}x{got['seconds']:>10.2f}")
                sys.stdout.flush()


def ratio_main(doc: str, what: str, child: str, kinds: tuple[str, ...], sizes: str) -> None:
    """The command line of a bench made of :func:`ratio_table`: ``--sizes`` (MB,
    comma-separated; ``sizes`` by default) and ``--against REF``."""
    import argparse

    from ingest import against  # bench/ is on the path of a bench run as a script

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--sizes", default=sizes, help="sizes in MB, comma-separated")
    parser.add_argument("--against", metavar="REF", help="also git REF's code, interleaved")
    args = parser.parse_args()
    variants = against(args.against) if args.against else {"this": None}
    ratio_table(what, child, kinds, [int(s) for s in args.sizes.split(",")], variants)
