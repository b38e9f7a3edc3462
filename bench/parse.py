"""Benchmark: parse + clean a generated mixed mbox on one core.

    python bench/parse.py                       # generates bench/out/bench.mbox if absent
    python bench/parse.py --runs 5 --profile    # also prints the top of a cProfile run

Prints messages/s (by wall time and by CPU time of this one process), wall time and
peak RSS for each run, and the medians. The mbox is read
into memory first (iter_mbox), so the figure is parse + clean only; the mbox split is
timed separately.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import resource
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mailatlas_clean import ParseError, ParserConfig, iter_mbox, parse_bytes  # noqa: E402

from devkit.mailgen import write_mbox  # noqa: E402

ALL_RULES = ParserConfig(
    strip_forwarded_headers=True,
    strip_boilerplate=True,
    strip_link_only_lines=True,
    stop_at_footer=True,
)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(raws: list[bytes], config: ParserConfig) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds of this process, and the ParseError count."""
    failed = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    for raw in raws:
        try:
            parse_bytes(raw, config)
        except ParseError:
            failed += 1
    return time.perf_counter() - start, time.process_time() - cpu_start, failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mbox", default=str(REPO / "bench/out/bench.mbox"))
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    mbox = Path(args.mbox)
    if not mbox.exists():
        write_mbox(mbox, args.count)
    start = time.perf_counter()
    raws = [m.raw for m in iter_mbox(mbox)]
    split = time.perf_counter() - start
    size_mb = mbox.stat().st_size / 1e6
    print(f"mbox: {mbox} ({len(raws)} messages, {size_mb:.1f} MB), split in {split:.2f} s")
    rates, cpu_rates = [], []
    for number in range(1, args.runs + 1):
        wall, cpu, failed = _run(raws, ALL_RULES)
        rates.append(len(raws) / wall)
        cpu_rates.append(len(raws) / cpu)
        print(
            f"run {number}: {rates[-1]:,.0f} msg/s wall ({wall:.2f} s), "
            f"{cpu_rates[-1]:,.0f} msg/s per CPU second ({cpu:.2f} s), "
            f"peak RSS {_peak_rss_mb():.0f} MB, {failed} ParseError"
        )
    median, cpu_median = statistics.median(rates), statistics.median(cpu_rates)
    print(
        f"median: {median:,.0f} msg/s wall ({len(raws) / median:.2f} s for {len(raws)}"
        f" messages); {cpu_median:,.0f} msg/s per CPU second"
    )
    # On a busy machine wall time includes waiting for a core; CPU time does not.
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        _run(raws, ALL_RULES)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
