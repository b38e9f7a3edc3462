"""What ``mailatlas ingest`` shows: progress with a total, and its summary in one of three forms.

* ``json`` (the default when stdout is not a terminal): the SPEC summary, refs included.
* ``summary`` (the default on a terminal, or ``--no-refs``): the same object without
  ``document_refs``, which for a large archive would scroll everything else away.
* ``jsonl`` (``--jsonl``): one ref per line, printed as each batch commits; the counts
  go to stderr.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

from ._errors import INTERRUPTED_EXIT, UserError
from ._output import emit_json, emit_json_streaming

if TYPE_CHECKING:
    from mailatlas_clean import IngestResult

__all__ = ["Meter", "RefsMode", "RefsPrinter", "finish", "measure", "refs_options"]

F = TypeVar("F", bound=Callable[..., Any])
RefsMode = Literal["json", "summary", "jsonl"]


def refs_options(func: F) -> F:
    """Add ``--refs/--no-refs`` and ``--jsonl``; the command receives ``refs_mode``."""

    @click.option(
        "--refs/--no-refs",
        "refs",
        default=None,
        help="Include document_refs in the JSON summary. [default: --refs when stdout "
        "is a pipe or file, --no-refs on a terminal]",
    )
    @click.option(
        "--jsonl",
        is_flag=True,
        help="Print one JSON line per new document (its ref) as each batch is "
        "committed, instead of the summary; the counts go to stderr.",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, refs: bool | None, jsonl: bool, **kwargs: Any) -> Any:
        return func(*args, refs_mode=_mode(refs, jsonl), **kwargs)

    return wrapper  # type: ignore[return-value]


def _mode(refs: bool | None, jsonl: bool) -> RefsMode:
    if jsonl:
        if refs is False:
            raise UserError("--jsonl prints the refs; drop --no-refs")
        return "jsonl"
    if refs is None:
        refs = not sys.stdout.isatty()
    return "json" if refs else "summary"


@dataclass(slots=True)
class Meter:
    """Where an ingest is, against a total known up front.

    eml and Maildir count files (one message each); mbox counts bytes, placed by the
    byte offset of the message read last (mbox files hold an unknown number of messages).
    """

    total: int | None = None
    unit: str = "msg"
    starts: dict[str, int] = field(default_factory=dict)  # mbox path -> bytes before it

    def position(self, result: IngestResult) -> int:
        if self.unit == "msg":
            return result.processed_count
        where = result.last_location
        if where is None or where.path is None:
            return 0
        return self.starts.get(where.path, 0) + (where.offset or 0)


def measure(kind: str, sources: Sequence[Path]) -> Meter:
    """The total of an ingest of ``sources``, found without reading any message."""
    try:
        if kind == "mbox":
            starts, total = {}, 0
            for path in sources:
                starts[os.path.abspath(path)] = total
                total += path.stat().st_size
            return Meter(total, "B", starts)
        if kind == "eml":
            from mailatlas_clean import iter_eml_files

            return Meter(sum(1 for _ in iter_eml_files(sources)))
        from mailatlas_clean import maildir_files

        return Meter(sum(1 for d in sources for _ in maildir_files(d)))
    except (OSError, ValueError):  # the run itself reports unreadable sources
        return Meter(None, "B" if kind == "mbox" else "msg")


class RefsPrinter:
    """In ``jsonl`` mode, prints each committed ref once, as soon as it is committed."""

    def __init__(self, mode: RefsMode) -> None:
        self.mode = mode
        self.printed = 0

    def flush(self, result: IngestResult) -> None:
        if self.mode != "jsonl" or result.committed_count <= self.printed:
            return
        new = itertools.islice(
            result.refs.iter_from(self.printed), result.committed_count - self.printed
        )
        for ref in new:
            click.echo(json.dumps(ref.to_dict(), ensure_ascii=False))
            self.printed += 1


def finish(kind: str, result: IngestResult, mode: RefsMode, printer: RefsPrinter) -> None:
    """Print the summary in ``mode``; exit 130 if interrupted, 1 if anything failed."""
    summary = result.to_dict(with_refs=False)
    if mode == "json":
        emit_json_streaming(summary, "document_refs", (r.to_dict() for r in result.refs))
    elif mode == "summary":
        del summary["document_refs"]
        emit_json(summary)
        if len(result.refs):
            click.echo(
                f"({len(result.refs):,} document refs not shown on a terminal — pass --refs "
                "to print them, or run `mailatlas list`)",
                err=True,
            )
    else:
        printer.flush(result)
        click.echo(
            f"ingest {kind}: {result.status}, {result.ingested_count:,} new, "
            f"{result.duplicate_count:,} duplicates, {result.failed_count:,} failed",
            err=True,
        )
    _warn_skipped(result)
    ctx = click.get_current_context()
    if result.interrupted:
        click.echo(f"interrupted: {result.ingested_count:,} stored; rerun to resume", err=True)
        ctx.exit(INTERRUPTED_EXIT)
    if result.failed_count:
        where = '"failures" in the summary' if mode != "jsonl" else "`mailatlas failures`"
        click.echo(
            f"Error: {result.failed_count} message(s) could not be ingested — see {where}",
            err=True,
        )
        ctx.exit(1)


_SKIPPED_SHOWN = 20


def _warn_skipped(result: IngestResult) -> None:
    """One warning line per skipped link (the first few; the summary lists them all)."""
    for item in result.skipped[:_SKIPPED_SHOWN]:
        click.echo(f"Warning: skipped {item.source}: {item.error}", err=True)
    more = len(result.skipped) - _SKIPPED_SHOWN
    if more > 0:
        text = f'Warning: ... and {more:,} more skipped — see "skipped" in the summary'
        click.echo(text, err=True)
