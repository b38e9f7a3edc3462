"""MCP tool latency over stdio on a 100,000-document store (issue 17: median <= 50 ms).

    python bench/mcp_latency.py [--docs 100000] [--calls 50] [--store bench/out/query-store]

Builds (once, then reuses) the synthetic store of bench/query.py through the store API,
starts `mailatlas mcp` as a subprocess with the MCP SDK's stdio client (as a desktop
client does), and times each tool call as a round trip: request written, framed result
read back. Prints one JSON line with the medians and 95th percentiles per call, then the
same for the library calls alone (the store's own cost), and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

from _common import REPO, report
from mailatlas_core import ListFilter, open_store
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from query import build

SENDER = "s7@example.test"


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


async def measure(
    db: Path, ws: Path, ids: list[tuple[str, int]], calls: int
) -> dict[str, list[float]]:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mailatlas_cli", "mcp", "--db", str(db), "--workspace", str(ws)],
        env=dict(os.environ),
    )
    cases = {
        "search_common_word": lambda i: ("search", {"query": "invoice", "limit": 20}),
        "search_common_word_page2": lambda i: (
            "search",
            {"query": "invoice", "limit": 20, "cursor": "o:20"},
        ),
        "search_rare_word": lambda i: ("search", {"query": f"unique{ids[i][1]}", "limit": 20}),
        "search_filters_only": lambda i: ("search", {"sender": "s7@example.test", "limit": 20}),
        "get_document": lambda i: ("get_document", {"document_id": ids[i][0]}),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        await session.call_tool("stats", {})  # warm-up: page cache, first query plans
        for i in range(calls):
            for name, case in cases.items():
                tool, args = case(i % len(ids))
                start = time.perf_counter()
                result = await session.call_tool(tool, args)
                times[name].append(time.perf_counter() - start)
                assert not result.is_error, result.content
    return times


def library(db: Path, ws: Path, ids: list[tuple[str, int]], calls: int) -> dict[str, list[float]]:
    """The same calls through the facade in this process: what the store itself costs."""
    from mailatlas_cli import MailAtlas

    times: dict[str, list[float]] = {"search_common_word": [], "search_filters_only": []}
    times["get_document"] = []
    with MailAtlas(db, ws) as atlas:
        atlas.stats()
        for i in range(calls):
            doc_id = ids[i % len(ids)][0]
            for name, call in (
                ("search_common_word", lambda: atlas.list_documents(query="invoice", limit=21)),
                ("search_filters_only", lambda: atlas.list_documents(sender=SENDER, limit=21)),
                ("get_document", lambda d=doc_id: atlas.get_document(d)),  # type: ignore[misc]
            ):
                start = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--store", type=Path, default=REPO / "bench" / "out" / "query-store")
    args = ap.parse_args()
    db, ws = args.store / "store.db", args.store / "workspace"
    t0 = time.perf_counter()
    build(db, ws, args.docs)
    report("mcp-build", docs=args.docs, seconds=round(time.perf_counter() - t0, 2))
    store = open_store(db, ws, create=False)
    step = max(1, args.docs // args.calls)
    ids: list[tuple[str, int]] = []
    for n in range(0, args.docs, step):
        (ref,) = store.list_documents(ListFilter(query=f"unique{n}", limit=1))
        ids.append((ref.id, n))
    store.close()
    lib = library(db, ws, ids, args.calls)
    times = asyncio.run(measure(db, ws, ids, args.calls))
    report(
        "mcp-stdio",
        docs=args.docs,
        calls=args.calls,
        **{f"{k}_median_ms": round(statistics.median(v) * 1000, 2) for k, v in times.items()},
        **{f"{k}_p95_ms": round(p95(v) * 1000, 2) for k, v in times.items()},
        **{f"library_{k}_median_ms": round(statistics.median(v) * 1000, 2) for k, v in lib.items()},
        **{f"library_{k}_p95_ms": round(p95(v) * 1000, 2) for k, v in lib.items()},
        load_1min=round(os.getloadavg()[0], 2),
        cpus=os.cpu_count(),
    )


if __name__ == "__main__":
    main()
