"""Parser processes die with the process that started them.

If an ingest or sync is killed outright (SIGKILL, the OOM killer), nothing runs in it
to stop its parser workers, and they would live on, blocked on a pipe nobody writes
to. On Linux each worker asks the kernel to kill it when its parent dies
(``PR_SET_PDEATHSIG``; see ``_main.main``). Elsewhere this is a no-op (the workers
still exit when their input pipe closes).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

__all__ = ["die_with_parent"]

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Have the kernel SIGKILL this process when its parent exits (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGKILL)
