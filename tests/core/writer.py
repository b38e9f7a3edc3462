"""A store writer run as a separate process by the concurrency and crash tests.

Usage: python -m tests.core.writer DB WORKSPACE COUNT BATCH [--wait] [--hold-at N]
Adds COUNT messages (with an attachment each) in transactions of BATCH, printing
"added I" after each message is added (before its batch commits) and "batch N" after
each commit, so the parent can pick a point of observed progress to kill it at.
With ``--wait`` it prints "ready" once imported and waits for a line on stdin before
opening the store: a parent releases several writers at once (a barrier, not a clock).
With ``--hold-at N`` it stops after printing "added N" and waits on stdin, inside the
open transaction: a parent that kills it then knows exactly how far it got (killing on
the printed line alone races the writer, which may have committed another batch by the
time the signal lands).
"""

from __future__ import annotations

import sys

from mailatlas_core import AssetData, SourceLocation, open_store

from .factory import make_parsed, make_raw


def main() -> None:
    db, ws, count, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    extra = sys.argv[5:]
    hold_at = int(extra[extra.index("--hold-at") + 1]) if "--hold-at" in extra else -1
    if "--wait" in extra:
        print("ready", flush=True)
        sys.stdin.readline()
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
                print(f"added {i}", flush=True)
                if i == hold_at:
                    sys.stdin.readline()
        print(f"batch {start // batch}", flush=True)
    store.close()
    print("done", flush=True)


if __name__ == "__main__":
    main()
