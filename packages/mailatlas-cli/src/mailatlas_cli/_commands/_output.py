"""Output helpers: JSON to stdout, progress bars to stderr (only on a terminal)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from types import TracebackType
from typing import Any

import click

__all__ = ["ProgressBar", "emit_json", "emit_json_streaming", "progress_enabled"]

_PLACEHOLDER = "\x00streamed\x00"


def emit_json(data: Any) -> None:
    """Print one JSON value on stdout (the only thing a command ever prints there)."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def emit_json_streaming(data: dict[str, Any], key: str, items: Iterable[Any]) -> None:
    """Print ``data`` with ``data[key]`` taken from ``items`` one at a time.

    The text is exactly what :func:`emit_json` would print for the whole object, but
    the list is never built, so a summary of a million documents prints in constant
    memory.
    """
    text = json.dumps({**data, key: _PLACEHOLDER}, indent=2, ensure_ascii=False)
    head, tail = text.split(json.dumps(_PLACEHOLDER), 1)
    click.echo(head, nl=False)
    opener = "["
    for item in items:
        body = json.dumps(item, indent=2, ensure_ascii=False).replace("\n", "\n    ")
        click.echo(f"{opener}\n    {body}", nl=False)
        opener = ","
    click.echo("[]" if opener == "[" else "\n  ]", nl=False)
    click.echo(tail)


def progress_enabled(quiet: bool) -> bool:
    """A progress bar is shown only when stderr is a terminal and ``--quiet`` is off."""
    return not quiet and sys.stderr.isatty()


class ProgressBar:
    """A tqdm bar on stderr counting messages, with a running tally and a rate.

    Call it with a mapping of counters (``ingested``, ``duplicates``, ``failed``...)
    and how many messages were processed since the last call.
    """

    def __init__(
        self,
        enabled: bool,
        description: str,
        total: int | None = None,
        *,
        unit: str = "msg",
    ) -> None:
        """``unit="B"`` counts bytes (shown as KiB, MiB...) instead of messages."""
        from tqdm import tqdm  # only commands that show progress pay for importing it

        in_bytes = unit == "B"
        self._bar = tqdm(
            total=total,
            desc=description,
            unit=unit,
            unit_scale=in_bytes,
            unit_divisor=1024 if in_bytes else 1000,
            file=sys.stderr,
            disable=not enabled,
            dynamic_ncols=True,
            leave=True,
        )

    def advance(self, done: int, counters: dict[str, int] | None = None) -> None:
        """Move to ``done`` (messages, or bytes) and show ``counters`` if given."""
        if self._bar.disable:
            return
        if counters is not None:
            self._bar.set_postfix(counters, refresh=False)
        step = done - self._bar.n
        if step > 0:
            self._bar.update(step)

    def set_total(self, total: int) -> None:
        if not self._bar.disable and total != self._bar.total:
            self._bar.total = total
            self._bar.refresh()

    def set_description(self, text: str) -> None:
        if not self._bar.disable:
            self._bar.set_description_str(text, refresh=False)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._bar.close()
