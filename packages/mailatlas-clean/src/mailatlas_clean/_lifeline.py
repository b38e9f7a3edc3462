"""Parser processes die with the process that started them.

If an ingest or sync is killed outright (SIGKILL, the OOM killer), nothing runs in it
to stop its parser pool, and the pool's forkserver and workers would live on, blocked
forever on a queue nobody writes to. On Linux each of them asks the kernel to kill it
when its parent dies (``PR_SET_PDEATHSIG``): the forkserver when the caller dies
(``_forkserver_arm`` is preloaded into the forkserver and is imported nowhere else), and
each worker when the forkserver dies (:func:`die_with_parent` is the pool's
initializer). Elsewhere this is a no-op.
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
