"""Benchmark: IMAP sync into SQLite + files against PostgreSQL + S3, in one run.

Starts its own Dovecot (devkit.dovecot), a private PostgreSQL (devkit.postgres, durable:
fsync on) and a private SeaweedFS S3 gateway (devkit.seaweedfs), fills two folders with
``--count`` generated messages (devkit.mailgen), then alternates, ``--runs`` times, a full
sync over TLS into a fresh SQLite store and into a fresh PostgreSQL database + bucket
prefix (same messages, same settings, same machine). With ``--workers N`` (N > 1) the
PostgreSQL side also runs N ``mailatlas worker`` processes over accounts of
``--count / accounts`` messages each, when that command exists.

Prints the median msg/s of each and the ratio PostgreSQL+S3 / SQLite:

    python bench/backends.py                    # 4,000 messages, 3 runs each
    python bench/backends.py --count 1000 --runs 1
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailatlas_core import Store, open_store
from mailatlas_imap import ImapSyncConfig, sync_imap

from devkit.dovecot import DovecotServer
from devkit.mailgen import generate_messages
from devkit.postgres import PostgresServer
from devkit.seaweedfs import SeaweedServer
from tests.servers import make_bucket

FOLDERS = ("INBOX", "Archive")
BUCKET = "mailatlas-bench"
STORE_ROOT = Path(__file__).resolve().parent / "out"


def timed_sync(open_: Callable[[], Store], config: ImapSyncConfig, count: int) -> float:
    store = open_()
    try:
        t0 = time.perf_counter()
        result = sync_imap(store, config)
        elapsed = time.perf_counter() - t0
        assert result.status == "ok", result.to_dict()
        assert result.ingested_count + result.duplicate_count == count, result.to_dict()
        assert store.count_documents() == result.ingested_count
    finally:
        store.close()
    return count / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=4000, help="messages in total")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args(argv)

    STORE_ROOT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="backends-", dir=STORE_ROOT))
    try:
        with (
            DovecotServer(users={"bench": "bench-password"}) as dovecot,
            PostgresServer(durable=True) as pg,
            SeaweedServer() as s3,
        ):
            import os

            os.environ.update(s3.env())
            make_bucket(s3, BUCKET)
            raws = list(generate_messages(args.count, seed=1))
            half = len(raws) // 2
            dovecot.fill_maildir("bench", FOLDERS[0], raws[:half])
            dovecot.fill_maildir("bench", FOLDERS[1], raws[half:])
            size_mb = sum(map(len, raws)) / 1e6
            del raws
            config = ImapSyncConfig(
                host="127.0.0.1",
                port=dovecot.imaps_port,
                username="bench",
                password="bench-password",
                folders=FOLDERS,
                ca_file=str(dovecot.cert_path),
                batch_size=args.batch_size,
            )
            sqlite_rates: list[float] = []
            pg_rates: list[float] = []
            for run in range(args.runs):
                local = work / f"sqlite-{run}"
                sqlite_rates.append(
                    timed_sync(
                        lambda d=local: open_store(d / "store.db", d / "ws"), config, args.count
                    )
                )
                name = f"bench_{run}_{secrets.token_hex(3)}"
                url = pg.create_database(name)
                prefix = f"s3://{BUCKET}/{name}"
                pg_rates.append(
                    timed_sync(lambda u=url, p=prefix: open_store(u, p), config, args.count)
                )
                print(
                    f"run {run + 1}: sqlite {sqlite_rates[-1]:,.0f} msg/s,"
                    f" postgres+s3 {pg_rates[-1]:,.0f} msg/s",
                    file=sys.stderr,
                )
            sq, pq = statistics.median(sqlite_rates), statistics.median(pg_rates)
            print(
                f"IMAP sync over TLS, {args.count} messages ({size_mb:.0f} MB) in 2 folders,"
                f" 1 worker, median of {args.runs}:"
            )
            print(f"  SQLite + files           {sq:,.0f} msg/s")
            print(f"  PostgreSQL + S3 (durable) {pq:,.0f} msg/s   ({pq / sq:.0%} of SQLite)")
            print("  single runs  sqlite " + ", ".join(f"{r:,.0f}" for r in sqlite_rates))
            print("               pg+s3  " + ", ".join(f"{r:,.0f}" for r in pg_rates))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
