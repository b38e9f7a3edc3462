"""The parse-only floor of an ingest: mail-parser alone parsing an mbox's messages.

    python bench/_parse_floor.py MBOX --processes N

Run by bench/ingest.py in a fresh process, like the ingest it is compared with, and
timed the same way (wall clock from start to exit, interpreter start-up included). It
splits the mbox with MailAtlas's own reader (the split is the same work the ingest
does), hands the messages to ``N`` forked processes in chunks, and each parses them
with ``mailparser.parse_from_bytes`` (mail-parser's full parse: MIME tree, headers,
bodies, attachments) and keeps nothing. Nothing is cleaned, sanitised, hashed or
stored: an ingest on the same cores cannot be faster than this. Prints one JSON line:
the message count and how many mail-parser refused.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
from collections.abc import Iterator
from pathlib import Path

CHUNK = 64


def _parse(chunk: list[bytes]) -> tuple[int, int]:
    import mailparser

    failed = 0
    for raw in chunk:
        try:
            mailparser.parse_from_bytes(raw)
        except Exception:  # a message mail-parser refuses still counts as handled
            failed += 1
    return len(chunk), failed


def _chunks(mbox: Path) -> Iterator[list[bytes]]:
    from mailatlas_clean import iter_mbox

    chunk: list[bytes] = []
    for message in iter_mbox(mbox):
        chunk.append(message.raw)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mbox", type=Path)
    ap.add_argument("--processes", type=int, required=True)
    args = ap.parse_args()
    import mailparser  # noqa: F401  (imported once, before the fork, like a warm worker)

    count = failed = 0
    with multiprocessing.get_context("fork").Pool(args.processes) as pool:
        for done, refused in pool.imap_unordered(_parse, _chunks(args.mbox)):
            count += done
            failed += refused
    json.dump({"messages": count, "refused": failed}, sys.stdout)


if __name__ == "__main__":
    main()
