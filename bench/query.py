"""Query latency on a 100,000-document store: `list --query WORD` and `show ID`.

    python bench/query.py [--docs 100000] [--runs 7] [--store bench/out/query-store]

Builds (once, then reuses) a store of synthetic documents with a realistic vocabulary,
then times, as medians of --runs:
  * the library calls (store open + list_documents(query) / get_document),
  * the whole `mailatlas list --query WORD` / `mailatlas show ID` commands as a user runs
    them (a fresh Python process each time).
Prints one JSON line per measurement.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import REPO, median, report
from mailatlas_core import ListFilter, SourceLocation, open_store
from mailatlas_core._ids import content_hash, document_id, thread_id_for
from mailatlas_core._model import ParsedDocument

WORDS = [
    "invoice",
    "meeting",
    "budget",
    "quarterly",
    "report",
    "travel",
    "lunch",
    "project",
    "deadline",
    "review",
    "contract",
    "release",
    "server",
    "outage",
    "customer",
    "feedback",
    "newsletter",
    "webinar",
    "discount",
    "shipment",
    "order",
    "payment",
    "receipt",
    "schedule",
    "agenda",
    "minutes",
    "proposal",
    "design",
    "launch",
    "roadmap",
    "hiring",
    "offer",
    "holiday",
    "conference",
    "ticket",
    "support",
    "incident",
    "update",
    "security",
    "password",
    "account",
    "backup",
]


def build(db: Path, ws: Path, count: int) -> None:
    rng = random.Random(42)
    store = open_store(db, ws)
    have = store.count_documents()
    batch = 2000
    for start in range(have, count, batch):
        with store.transaction():
            for i in range(start, min(count, start + batch)):
                words = rng.choices(WORDS, k=120)
                body = " ".join(words) + f" unique{i}"
                subject = " ".join(words[:5]).title()
                raw = f"Message-ID: <q{i}@bench>\r\nSubject: {subject}\r\n\r\n{body}\r\n".encode()
                h = content_hash(raw)
                mid = f"q{i}@bench"
                day = 1 + i % 28
                parsed = ParsedDocument(
                    id=document_id(mid, h),
                    raw=raw,
                    content_hash=h,
                    message_id=mid,
                    thread_id=thread_id_for(mid, (), None, h),
                    subject=subject,
                    sender_name=f"Sender {i % 500}",
                    sender_email=f"s{i % 500}@example.test",
                    author=None,
                    received_at=f"20{10 + i % 15}-{1 + i % 12:02d}-{day:02d}T10:00:00Z",
                    published_at=None,
                    body_text=body,
                    body_html=None,
                    metadata={"parser_config": {}},
                )
                store.add(parsed, SourceLocation(kind="mbox", path="/bench.mbox", offset=i))
    store.close()


# As installed by pip, a package has its bytecode compiled; a development shell with
# PYTHONDONTWRITEBYTECODE=1 would make every command recompile its modules.
CLI_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def cli(*args: str) -> float:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "mailatlas_cli", *args],
        capture_output=True,
        check=True,
        env=CLI_ENV,
    )
    elapsed = time.perf_counter() - start
    assert out.stdout.startswith((b"[", b"{")), out.stdout[:100]
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--store", type=Path, default=REPO / "bench" / "out" / "query-store")
    ap.add_argument("--fresh", action="store_true", help="rebuild the store")
    args = ap.parse_args()
    if args.fresh:
        shutil.rmtree(args.store, ignore_errors=True)
    db, ws = args.store / "store.db", args.store / "workspace"
    t0 = time.perf_counter()
    build(db, ws, args.docs)
    report("query-build", docs=args.docs, seconds=round(time.perf_counter() - t0, 2))

    store = open_store(db, ws, create=False)
    some_id = store.list_documents(ListFilter(limit=1, offset=args.docs // 2))[0].id
    store.close()
    lib_list, lib_rare, lib_show = [], [], []
    for _ in range(args.runs):
        t = time.perf_counter()
        s = open_store(db, ws, create=False)
        refs = s.list_documents(ListFilter(query="invoice", limit=50))
        lib_list.append(time.perf_counter() - t)
        assert len(refs) == 50
        t = time.perf_counter()
        refs = s.list_documents(ListFilter(query=f"unique{args.docs // 3}", limit=50))
        lib_rare.append(time.perf_counter() - t)
        assert len(refs) == 1
        t = time.perf_counter()
        s.get_document(some_id)
        lib_show.append(time.perf_counter() - t)
        s.close()
    report(
        "query-lib",
        docs=args.docs,
        list_common_word_ms=round(median(lib_list) * 1000, 2),
        list_rare_word_ms=round(median(lib_rare) * 1000, 2),
        show_ms=round(median(lib_show) * 1000, 2),
    )

    common = ["--db", str(db), "--workspace", str(ws)]
    cli("list", "--query", "invoice", *common)  # warm-up: bytecode and page cache
    cli_list = [cli("list", "--query", "invoice", *common) for _ in range(args.runs)]
    cli_show = [cli("show", some_id, *common) for _ in range(args.runs)]
    python_start = [
        (
            lambda t: (
                subprocess.run([sys.executable, "-c", "pass"], check=True),
                time.perf_counter() - t,
            )[1]
        )(time.perf_counter())
        for _ in range(args.runs)
    ]
    report(
        "query-cli",
        docs=args.docs,
        list_query_ms=round(median(cli_list) * 1000, 1),
        show_ms=round(median(cli_show) * 1000, 1),
        bare_python_startup_ms=round(median(python_start) * 1000, 1),
    )


if __name__ == "__main__":
    main()
