"""A store writer run as a separate process by the concurrency and crash tests.

Usage: python -m tests.core.writer DB WORKSPACE COUNT BATCH [START_AT_EPOCH]
Adds COUNT messages (with an attachment each) in transactions of BATCH, printing
"batch N" after each commit so the parent can pick a moment to kill it.
"""

from __future__ import annotations

import sys
import time

from mailatlas_core import AssetData, SourceLocation, open_store

from .factory import make_parsed, make_raw


def main() -> None:
    db, ws, count, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    if len(sys.argv) > 5:
        time.sleep(max(0.0, float(sys.argv[5]) - time.time()))
    store = open_store(db, ws)
    for start in range(0, count, batch):
        with store.transaction():
            for i in range(start, min(count, start + batch)):
                raw = make_raw(i, body="x" * 2000)
                parsed = make_parsed(
                    raw,
                    assets=[
                        AssetData(
                            "attachment", "application/octet-stream", f"file-{i}.bin", raw * 3
                        )
                    ],
                )
                store.add(parsed, SourceLocation(kind="eml", path=f"/mail/{i}.eml"))
        print(f"batch {start // batch}", flush=True)
    store.close()
    print("done", flush=True)


if __name__ == "__main__":
    main()
