"""Output helpers: JSON to stdout, progress bars to stderr (only on a terminal)."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Literal, TypeVar

import click

__all__ = [
    "OutputForm",
    "ProgressBar",
    "emit_json",
    "emit_json_streaming",
    "emit_jsonl",
    "emit_rows",
    "emit_table",
    "page_hint",
    "paging_options",
    "progress_enabled",
    "stderr_is_terminal",
]

F = TypeVar("F", bound=Callable[..., Any])
_PLACEHOLDER = "\x00streamed\x00"


def emit_json(data: Any) -> None:
    """Print one JSON value on stdout (the only thing a command ever prints there)."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


_CHUNK_CHARS = 1 << 16


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
    # Written in pieces of about 64 KB: one echo (a write and a flush) per item cost
    # more than the JSON of the item itself.
    chunk: list[str] = []
    size = 0
    for item in items:
        body = json.dumps(item, indent=2, ensure_ascii=False).replace("\n", "\n    ")
        chunk.append(f"{opener}\n    {body}")
        size += len(body)
        opener = ","
        if size >= _CHUNK_CHARS:
            click.echo("".join(chunk), nl=False)
            chunk, size = [], 0
    chunk.append("[]" if opener == "[" else "\n  ]")
    click.echo("".join(chunk), nl=False)
    click.echo(tail)


def emit_jsonl(rows: Iterable[Any]) -> None:
    """One JSON value per line on stdout (for ``jq -c``, ``while read``, streaming)."""
    for row in rows:
        click.echo(json.dumps(row, ensure_ascii=False))


OutputForm = Literal["json", "table", "jsonl"]


def paging_options(noun: str) -> Callable[[F], F]:
    """``--limit``, ``--offset``, ``--table`` and ``--jsonl`` for a command printing a page
    of ``noun``; the command receives ``limit``, ``offset`` and ``form``."""

    def decorate(func: F) -> F:
        @click.option(
            "--limit",
            type=click.IntRange(min=1),
            default=50,
            show_default=True,
            help=f"How many {noun} to print.",
        )
        @click.option(
            "--offset",
            type=click.IntRange(min=0),
            default=0,
            show_default=True,
            help=f"How many {noun} to skip (for paging).",
        )
        @click.option("--table", is_flag=True, help="Print an aligned table for reading, not JSON.")
        @click.option("--jsonl", is_flag=True, help="Print one JSON object per line, not an array.")
        @functools.wraps(func)
        def wrapper(*args: Any, table: bool, jsonl: bool, **kwargs: Any) -> Any:
            if table and jsonl:
                from ._errors import UserError

                raise UserError("--table and --jsonl are two output forms; pick one")
            form: OutputForm = "table" if table else "jsonl" if jsonl else "json"
            return func(*args, form=form, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def emit_rows(rows: list[dict[str, Any]], form: OutputForm, columns: dict[str, str]) -> None:
    """Print ``rows`` as a JSON array, JSON lines, or a table of ``columns``."""
    if form == "table":
        emit_table(rows, columns)
    elif form == "jsonl":
        emit_jsonl(rows)
    else:
        emit_json(rows)


def emit_table(rows: list[dict[str, Any]], columns: dict[str, str]) -> None:
    """An aligned plain-text table of ``rows`` (``columns``: key to heading)."""
    cells = [list(columns.values())]
    for row in rows:
        cells.append([_cell(row.get(key)) for key in columns])
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    for line in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = " ".join(str(value).split())
    # 2024-05-03T09:30:00Z -> 2024-05-03 09:30 (the seconds rarely matter to a reader)
    if len(text) >= 17 and text[4] == "-" and text[10] == "T" and text.endswith("Z"):
        return f"{text[:10]} {text[11:16]}"
    return text


def page_hint(offset: int, shown: int, total: int, noun: str = "documents") -> str:
    """What a person paging through a list is told on stderr: where they are, what next."""
    if shown:
        hint = f"{offset + 1:,}–{offset + shown:,} of {total:,}"
        if offset + shown < total:
            hint += f"; next page: --offset {offset + shown}"
        return hint
    if total:
        return f"nothing at --offset {offset:,}: {total:,} match"
    return f"no {noun} match"


def stderr_is_terminal() -> bool:
    """Whether a person is watching stderr (hints and progress are for people)."""
    return sys.stderr.isatty()


def progress_enabled(quiet: bool) -> bool:
    """A progress bar is shown only when stderr is a terminal and ``--quiet`` is off."""
    return not quiet and stderr_is_terminal()


class ProgressBar:
    """A tqdm bar on stderr counting messages, with a running tally and a rate.

    Call it with a mapping of counters (``ingested``, ``duplicates``, ``failed``...)
    and how many messages were processed since the last call. The bar (and tqdm) is
    loaded at the first progress, only when shown: a quiet run, or a sync rerun with
    nothing new, never imports it.
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
        self._enabled = enabled
        self._description, self._total, self._unit = description, total, unit
        self._shown: Any = None  # the tqdm bar, once there is progress to show

    def _bar(self) -> Any:
        if self._shown is None:
            from tqdm import tqdm

            in_bytes = self._unit == "B"
            self._shown = tqdm(
                total=self._total,
                desc=self._description,
                unit=self._unit,
                unit_scale=in_bytes,
                unit_divisor=1024 if in_bytes else 1000,
                file=sys.stderr,
                dynamic_ncols=True,
                leave=True,
            )
        return self._shown

    def advance(self, done: int, counters: dict[str, int] | None = None) -> None:
        """Move to ``done`` (messages, or bytes) and show ``counters`` if given."""
        if not self._enabled:
            return
        bar = self._bar()
        if counters is not None:
            bar.set_postfix(counters, refresh=False)
        step = done - bar.n
        if step > 0:
            bar.update(step)

    def set_total(self, total: int) -> None:
        if self._enabled and total != self._bar().total:
            self._shown.total = total
            self._shown.refresh()

    def set_description(self, text: str) -> None:
        if self._enabled:
            self._bar().set_description_str(text, refresh=False)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._shown is not None:
            self._shown.close()
