"""Ctrl-C waits for a commit and the counts that say what it committed.

A run that is interrupted reports exactly what it committed (``IngestInterrupted``,
``SyncInterrupted``). A ``KeyboardInterrupt`` can be raised at any bytecode, so one
that lands after a batch's ``COMMIT`` but before the run has counted that batch made
the summary say less than the store holds. Inside :func:`interrupts_deferred` a SIGINT
is held and delivered (to whatever handler was there) the moment the block ends.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["interrupts_deferred"]


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold SIGINT for the block: a commit and its accounting happen together or not.

    Only the main thread receives signals; elsewhere (or under a handler Python did
    not install) the block runs as is. A SIGINT that arrived is raised again at the
    end, so the previous handler (``KeyboardInterrupt``, an application's own, the
    default action) sees it as it would have, one block later.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is None:
        yield
        return
    caught: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)

    signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            signal.raise_signal(signal.SIGINT)
