"""A time budget for parsing in the calling process (SIGALRM).

Parser workers are separate processes, and the pool kills one that overruns a
message's budget. A message parsed in the calling process (small runs, small messages,
``workers=0``) cannot be killed; instead an interval timer raises :class:`ParseTimeout`
in it. That stops Python code, including a backtracking regular expression (``re``
checks for signals while it works), but not a call into a Rust library (nh3,
html-to-markdown) until it returns: those are kept linear by bounding their input
(see ``_html_bounds``), so the alarm lands at most one bounded piece late. The timer
works only in the main thread and only when the application has no SIGALRM handler of
its own: :func:`budget_enforceable` says whether it can be used here, and where it
cannot (another thread, an application's own handler) the pool parses in a worker
process instead, which it kills at the budget (see ``_pool``).

Budgets nest: reading one attachment has a budget of its own (:class:`ExtractTimeout`)
inside its message's; the inner one is set only if it ends first, and the outer timer
is restored (less the time spent) when it is over.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = [
    "ExtractTimeout",
    "ParseTimeout",
    "budget_enforceable",
    "budget_paused",
    "time_budget",
]

# After the first alarm, fire again this often, in case the parser swallowed it.
_REPEAT_S = 0.5


class ParseTimeout(BaseException):
    """A parse in this process ran out of time.

    A ``BaseException``, so that the parser's own ``except Exception`` clauses (which
    turn a bad part into a defect note) do not swallow it.
    """


class ExtractTimeout(BaseException):
    """Reading one attachment's text ran out of time (a ``BaseException`` for the same
    reason: PDF and Office readers recover from ``Exception`` internally)."""


# The error the innermost active budget raises.
_errors: list[type[BaseException]] = [ParseTimeout]


def _raise(_signum: int, _frame: FrameType | None) -> None:
    raise _errors[-1]


def budget_enforceable() -> bool:
    """Whether :func:`time_budget` can stop a parse in this thread (see the module)."""
    if not hasattr(signal, "setitimer"):
        return False
    if threading.current_thread() is not threading.main_thread():
        return False
    return signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN, None, _raise)


@contextmanager
def time_budget(seconds: float, error: type[BaseException] = ParseTimeout) -> Iterator[None]:
    """Raise ``error`` inside the block once ``seconds`` have passed.

    Inside another budget that ends sooner, the outer one alone applies.
    """
    if not budget_enforceable():
        yield
        return
    outer_left = signal.getitimer(signal.ITIMER_REAL)[0]
    if outer_left and outer_left <= seconds:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _raise)
    _errors.append(error)
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds, _REPEAT_S)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _errors.pop()
        signal.signal(signal.SIGALRM, previous)
        if outer_left:
            left = outer_left - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001), _REPEAT_S)


@contextmanager
def budget_paused() -> Iterator[None]:
    """Inside the block the running budget, if any, stands still; afterwards it goes on
    with the time it had left. For waits that are no message's doing: the start of the
    extractor process (bounded by its own limit), which a loaded machine can make slow."""
    if not budget_enforceable():
        yield
        return
    left, interval = signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        yield
    finally:
        if left:
            signal.setitimer(signal.ITIMER_REAL, left, interval)
