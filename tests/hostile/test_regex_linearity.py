"""Every regular expression in MailAtlas runs in linear time, whatever the input.

Python's ``re`` backtracks: a pattern with overlapping quantifiers (``[ \\t]*\\r?\\n`` tried
at every space of a long run, ``\\s*(...)*?\\s*``) costs quadratic or worse time on input
a stranger can send (a line of 100,000 spaces took minutes to ingest). The class is
closed here, not the samples: every pattern of every module of the four packages is
found by import (module constants, and those in dicts, lists and tuples), and a source
scan makes sure no regex hides in a call like ``re.sub(r"...", ...)``. Each pattern is
run over long runs of characters that appear in its own syntax and in mail (spaces,
tabs, line ends, quotes, angle brackets, dashes...) between assorted prefixes and
suffixes; the time at 8x the length must grow like the length, not its square.
"""

from __future__ import annotations

import ast
import gc
import importlib
import pkgutil
import re
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from .helpers import REPO

PACKAGES = ("mailatlas_core", "mailatlas_clean", "mailatlas_imap", "mailatlas_cli")
UNITS = [
    " ", "\t", "\n", "\r\n", "\xa0", "a", "0", "-", "_", ".", ":", ";", "<", ">", '"',
    "'", "=", "@", "/", "\\", "(", ")", "[", "*", "&", "!", "\u200b", "a ", " -", "=\n",
    " \n", "<div>", "<pre>", "*from*", "From ", "a@", "cid:", "url(", "&quot;", "[a](",
]  # fmt: skip
PREFIXES = ["", "x", "From "]
SUFFIXES = ["", "x", "\n", "\x00"]
SHORT, LONG = 125, 2_000
# Linear time grows 16x from SHORT to LONG, quadratic 256x. Timings on a loaded 2-core
# machine are noisy, so only a pattern that is measurably slow at LONG *and* grew far
# more than linearly fails; one that needs seconds (cubic, exponential) is stopped.
MAX_GROWTH = 64.0
NOTICEABLE_S = 0.002
GIVE_UP_S = 2.0


class _TooSlow(Exception):
    pass


def _alarm(_signum: int, _frame: object) -> None:
    raise _TooSlow  # ``re`` checks for signals while it backtracks


def _modules() -> Iterator[Any]:
    for name in PACKAGES:
        package = importlib.import_module(name)
        yield package
        for info in pkgutil.walk_packages(package.__path__, name + "."):
            if info.name.rsplit(".", 1)[-1] == "__main__":
                continue  # running it would start the CLI
            yield importlib.import_module(info.name)


def _patterns_in(value: object, depth: int = 0) -> Iterator[re.Pattern[Any]]:
    if isinstance(value, re.Pattern):
        yield value
    elif depth < 2 and isinstance(value, dict):
        for item in value.values():
            yield from _patterns_in(item, depth + 1)
    elif depth < 2 and isinstance(value, list | tuple):
        for item in value:
            yield from _patterns_in(item, depth + 1)


def all_patterns() -> dict[str, re.Pattern[Any]]:
    found: dict[str, re.Pattern[Any]] = {}
    seen: set[int] = set()  # a pattern imported elsewhere is tested once
    for module in _modules():
        for attr, value in vars(module).items():
            for index, pattern in enumerate(_patterns_in(value)):
                if id(pattern) not in seen and pattern.pattern:
                    seen.add(id(pattern))
                    found[f"{module.__name__}.{attr}[{index}]"] = pattern
    return found


def _inputs(pattern: re.Pattern[Any], length: int) -> Iterator[Any]:
    for unit in UNITS:
        run = unit * (length // len(unit))
        for prefix in PREFIXES:
            for suffix in SUFFIXES:
                text = prefix + run + suffix
                if isinstance(pattern.pattern, bytes):
                    yield text.encode("utf-8")
                else:
                    yield text


def _cost(pattern: re.Pattern[Any], text: Any, repeat: int = 3) -> float:
    """CPU seconds (not wall time: other processes share the machine), best of ``repeat``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.thread_time()
        for _match in pattern.finditer(text):
            pass
        pattern.fullmatch(text)
        best = min(best, time.thread_time() - start)
    return best


def _superlinear(pattern: re.Pattern[Any]) -> list[str]:
    slow = []
    shorts = list(_inputs(pattern, SHORT))
    longs = list(_inputs(pattern, LONG))
    previous = signal.signal(signal.SIGALRM, _alarm)
    gc.disable()  # a collection landing in one timing is not the pattern's cost
    try:
        for short, long in zip(shorts, longs, strict=True):
            signal.setitimer(signal.ITIMER_REAL, GIVE_UP_S)
            try:
                # One timing of the long input is enough to pass it: a disturbance only
                # makes it longer, which sends it to the confirmation below.
                t_long = _cost(pattern, long, 1)
                if t_long < NOTICEABLE_S:
                    continue
                t_short = max(_cost(pattern, short, 5), 1e-5)
            except _TooSlow:
                slow.append(f"{long[:12]!r}... (no answer in {GIVE_UP_S} s)")
                continue
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            if t_long / t_short > MAX_GROWTH:  # confirm: one timing can be disturbed
                t_long = _cost(pattern, long, 5)
                t_short = max(_cost(pattern, short, 9), 1e-5)
            if t_long / t_short > MAX_GROWTH:
                slow.append(f"{long[:12]!r}... ({t_short * 1e3:.2f} ms -> {t_long * 1e3:.1f} ms)")
    finally:
        gc.enable()
        signal.signal(signal.SIGALRM, previous)
    return slow


PATTERNS = all_patterns()


def test_the_audit_finds_the_patterns_it_must() -> None:
    """Sanity: the collector sees patterns of every package, inline ones included."""
    names = " ".join(PATTERNS)
    for expected in (
        "mailatlas_clean.cleaning._whitespace",
        "mailatlas_clean.parser._html_text",
        "mailatlas_clean.parser._headers",
        "mailatlas_clean.cleaning._boilerplate.BOILERPLATE_PATTERNS",
        "mailatlas_clean.cleaning._forwarded._MARKERS",
        "mailatlas_clean.readers._mbox",
        "mailatlas_core",
    ):
        assert expected in names, expected
    assert len(PATTERNS) > 50


def test_no_regex_hides_in_an_inline_call() -> None:
    """``re.sub(r"...", ...)`` and friends would escape the audit: every regex is a
    module-level compiled constant (``re.compile`` calls are fine anywhere)."""
    offenders = []
    for source in sorted((REPO / "packages").glob("*/src/**/*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "re"
                and node.func.attr != "compile"
                and node.func.attr not in ("escape", "IGNORECASE", "MULTILINE")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                offenders.append(f"{source.relative_to(REPO)}:{node.lineno}")
    assert offenders == []


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_regex_runs_in_linear_time(name: str) -> None:
    assert _superlinear(PATTERNS[name]) == [], PATTERNS[name].pattern
