"""The parse-only floor: mail-parser alone parsing an mbox's or a Maildir's messages.

    python bench/_parse_floor.py MBOX --processes N
    python bench/_parse_floor.py MAILDIR --processes N

Run by bench/ingest.py (an mbox) and bench/sync_vs_mbsync.py (the Dovecot Maildir
the bench fills, so the same bodies a sync downloads) in a fresh process, like the
command it is compared with, and timed the same way (wall clock from start to exit,
interpreter start-up included). It reads the messages with MailAtlas's own reader
(for an mbox the split is the same work the ingest does), hands them to ``N``
forked processes in chunks, and each parses them
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


def _chunks(source: Path) -> Iterator[list[bytes]]:
    from mailatlas_clean import iter_maildir, iter_mbox

    chunk: list[bytes] = []
    for message in iter_maildir(source) if source.is_dir() else iter_mbox(source):
        chunk.append(message.raw)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("source", type=Path, help="an mbox file or a Maildir (subfolders included)")
    ap.add_argument("--processes", type=int, required=True)
    args = ap.parse_args()
    import mailparser  # noqa: F401  (imported once, before the fork, like a warm worker)

    count = failed = 0
    with multiprocessing.get_context("fork").Pool(args.processes) as pool:
        for done, refused in pool.imap_unordered(_parse, _chunks(args.source)):
            count += done
            failed += refused
    json.dump({"messages": count, "refused": failed}, sys.stdout)


if __name__ == "__main__":
    main()
