"""The worker's main: ``python -P -m mailatlas_clean.pool._main``.

A worker is ``python -P -m mailatlas_clean.pool._main``: a fresh interpreter that reads
objects from stdin and writes objects to stdout, each a pickle in frames (``_protocol``).
The first object carries the :class:`ParserConfig`; every later one is one chunk of
messages, answered by one object *per message*, in order, so the
caller knows which message a worker is on and how long it has been on it (a message
that overruns its time budget gets its worker killed; see ``_pool``). Before reading
each attachment of a message, the worker also sends ``(READING, index)``, so a worker
that dies in an attachment reader costs that file only. The same program serves as the
extractor process (``_extractor``: one attachment per item; ``attachments._sandbox``).

The worker moves bytes with ``os.read``/``os.write`` loops on private copies of its
pipe descriptors. A worker stopped (SIGSTOP, Ctrl-Z, a profiler attaching) while blocked
writing a reply has that ``write()`` end early with a partial count; under
``PYTHONUNBUFFERED`` ``sys.stdout.buffer`` is the raw file, whose ``write`` returns that
count, and the old worker ignored it: the rest of the frame was lost and the caller
failed to unpickle the stream (tests/clean/test_pool_bounds.py and
tests/integration/test_sync_stopped.py reproduce it). Descriptors 0 and 1 are pointed
away from the pipes, so a stray write by any library cannot corrupt the protocol either.

Why not ``multiprocessing``: its workers import the caller's ``__main__`` module, so
a user's script without an ``if __name__ == "__main__"`` guard would run again inside
every worker (and here, ingest into the store from there). Its result and feeder
threads also unpickle and pickle in threads of their own, whose allocations land in
separate malloc arenas that grow with a long run. This process starts nothing but the
parser, and the caller moves every byte in its own thread (:class:`WorkerProcess`).

A worker dies with the process that started it (``PR_SET_PDEATHSIG``), ignores Ctrl-C
(the caller decides when to stop), and exits when its stdin closes. Its stderr is
discarded: a worker that crashes costs its messages a retry (see ``_pool``), never a
traceback on the user's terminal.
"""

from __future__ import annotations

import os
import signal
import sys

from ._jobs import load_parser, parse_item
from ._lifeline import die_with_parent
from ._protocol import EXTRACT_MODE, READING, READY, read_object, send_object

__all__ = ["main"]


def _private_pipes() -> tuple[int, int]:
    """Own copies of the request and reply pipes; fds 0 and 1 then lead nowhere."""
    requests, replies = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    return requests, replies


def main() -> None:
    """Serve parse (or, in extract mode, attachment) requests until stdin closes."""
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    requests, replies = _private_pipes()
    sys.stdout = sys.stderr  # a stray print() must never corrupt the protocol
    first = read_object(requests)
    if first is None:
        return
    config, readers = first
    from ..attachments._readers import install_readers

    install_readers(readers)  # the readers the application registered (register_reader)
    if config == EXTRACT_MODE:
        _serve_extract(requests, replies)
        return
    load_parser()  # before "ready": the caller's clock for each message starts there
    send_object(replies, READY)

    def reading(index: int) -> None:
        send_object(replies, (READING, index))

    while (items := read_object(requests)) is not None:
        # Each message is handed over (popped): once parsed, its raw bytes go (its reply
        # never carries them), not held beside the reply as it is made and pickled.
        items.reverse()
        while items:
            send_object(replies, parse_item(items.pop(), config, reading))


def _serve_extract(requests: int, replies: int) -> None:
    """Read one attachment per item: ``(data, kind, limits, seconds)`` -> ``AssetText``."""
    from ..attachments import read_kind

    send_object(replies, READY)
    while (items := read_object(requests)) is not None:
        for data, kind, limits, seconds in items:
            send_object(replies, read_kind(data, kind, limits, seconds))


if __name__ == "__main__":
    main()
