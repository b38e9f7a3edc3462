"""Benchmark: IMAP sync end to end against a private Dovecot, over TLS.

Starts its own Dovecot (devkit.dovecot), fills two folders with ``--count`` generated
messages in total (devkit.mailgen; half in each), then per run, into a fresh store:

1. full sync of both folders over implicit TLS (msg/s, wall time);
2. rerun with nothing new (must be ≤ 0.3 s);
3. UIDVALIDITY changed on both folders, nothing new (must be ≤ 3 s).

Prints the median of ``--runs`` runs and the peak RSS of this process. ``--profile``
runs one extra full sync under cProfile and prints the top functions.

The stores are deleted only after the last run: on ext4 without a journal (this VM),
creating files within minutes of deleting many others costs about three times the
kernel time, so a clean-up between runs would be measured as part of the next sync
(see docs/performance.md).

    python bench/sync.py                  # 10,000 messages, 3 runs
    python bench/sync.py --count 2000 --runs 1 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailatlas_core import open_store
from mailatlas_imap import ImapSyncConfig, sync_imap

from devkit.dovecot import DovecotServer
from devkit.mailgen import generate_messages

FOLDERS = ("INBOX", "Archive")


# The store lives next to the repository (a user's disk), not in /tmp: on this VM /tmp is
# a different, much slower file system for file creation (see docs/performance.md).
STORE_ROOT = Path(__file__).resolve().parent / "out"


_STORES: list[Path] = []


def _store_dir() -> Path:
    """A new store directory, deleted when the benchmark ends (not between runs)."""
    STORE_ROOT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="sync-store-", dir=STORE_ROOT))
    _STORES.append(work)
    return work


def _cpu() -> float:
    """CPU seconds of this process (parse workers run under the forkserver: not counted)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


def one_run(
    server: DovecotServer, config: ImapSyncConfig, count: int, seq: int
) -> dict[str, float]:
    work = _store_dir()
    store = open_store(work / "store.db", work / "ws")
    try:
        t0, c0 = time.perf_counter(), _cpu()
        first = sync_imap(store, config)
        full, cpu = time.perf_counter() - t0, _cpu() - c0
        assert first.ingested_count + first.duplicate_count == count, first.to_dict()
        assert first.status == "ok", first.to_dict()

        t0 = time.perf_counter()
        again = sync_imap(store, config)
        rerun = time.perf_counter() - t0
        assert again.fetched_count == 0

        for i, folder in enumerate(FOLDERS):
            server.set_uidvalidity(server.user, folder, 10_000 + seq * 10 + i)
        t0 = time.perf_counter()
        reset = sync_imap(store, config)
        reset_s = time.perf_counter() - t0
        assert reset.ingested_count == 0 and reset.duplicate_count == count, reset.to_dict()
        downloaded = sum(f.downloaded_count for f in reset.folders)
        return {
            "full_s": full,
            "main_cpu_ms_per_msg": cpu * 1000 / count,
            "msg_per_s": count / full,
            "rerun_s": rerun,
            "reset_s": reset_s,
            "reset_downloaded": downloaded,
        }
    finally:
        store.close()


def profile_run(config: ImapSyncConfig, top: int) -> str:
    work = _store_dir()
    store = open_store(work / "store.db", work / "ws")
    prof = cProfile.Profile()
    try:
        prof.enable()
        sync_imap(store, config)
        prof.disable()
    finally:
        store.close()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    finally:
        for work in _STORES:
            shutil.rmtree(work, ignore_errors=True)


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="messages in total")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument(
        "--parse-workers", type=int, default=None, help="0: parse in-process (default: auto)"
    )
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)

    with DovecotServer(users={"bench": "bench-password"}) as server:
        t0 = time.perf_counter()
        raws = list(generate_messages(args.count, seed=1))
        half = len(raws) // 2
        server.fill_maildir("bench", FOLDERS[0], raws[:half])
        server.fill_maildir("bench", FOLDERS[1], raws[half:])
        size_mb = sum(map(len, raws)) / 1e6
        del raws
        print(
            f"filled {args.count} messages ({size_mb:.0f} MB) in two folders"
            f" in {time.perf_counter() - t0:.1f} s",
            file=sys.stderr,
        )
        config = ImapSyncConfig(
            host="127.0.0.1",
            port=server.imaps_port,
            username="bench",
            password="bench-password",
            folders=FOLDERS,
            ca_file=str(server.cert_path),
            batch_size=args.batch_size,
            parse_workers=args.parse_workers,
        )
        results = []
        for seq in range(args.runs):
            r = one_run(server, config, args.count, seq)
            results.append(r)
            print(
                f"run {seq + 1}: " + ", ".join(f"{k}={v:.3f}" for k, v in r.items()),
                file=sys.stderr,
            )
        med = {k: statistics.median(r[k] for r in results) for k in results[0]}
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"IMAP sync over TLS, {args.count} messages in 2 folders, median of {args.runs}:")
        print(
            f"  full sync        {med['full_s']:.2f} s   {med['msg_per_s']:,.0f} msg/s"
            "   (target >= 1,500)"
        )
        print("  single runs      " + ", ".join(f"{r['msg_per_s']:,.0f}" for r in results))
        print(
            f"  client CPU       {med['main_cpu_ms_per_msg']:.2f} ms per message (this process;"
            " with --parse-workers 0 it includes parsing)"
        )
        print(f"  rerun (nothing)  {med['rerun_s']:.3f} s   (target <= 0.3)")
        print(
            f"  UIDVALIDITY reset {med['reset_s']:.2f} s  (target <= 3), bodies downloaded:"
            f" {med['reset_downloaded']:.0f}"
        )
        print(f"  peak RSS         {peak_mb:.0f} MB")
        if args.profile:
            print(profile_run(config, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
