"""Turn user-given paths into a stream of raw messages for the ingest pipeline.

Each function yields :class:`mailatlas_clean.RawMessage` items, or an
:class:`Unreadable` for a path that could not be read, so that one bad file is
recorded as a failure and never stops the run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from mailatlas_clean import ParseError, RawMessage, iter_maildir, iter_mbox
from mailatlas_core import SourceLocation

__all__ = ["SourceItem", "Unreadable", "eml_messages", "maildir_messages", "mbox_messages"]


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A source that yielded no message: missing, unreadable, or not mail at all."""

    location: SourceLocation
    reason: str


SourceItem: TypeAlias = RawMessage | Unreadable


def _reason(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not a file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc) or type(exc).__name__


def iter_eml_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Each given file, and every ``*.eml`` below each given directory (sorted)."""
    for raw in paths:
        path = Path(raw).absolute()
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.eml") if p.is_file())
        else:
            yield path


def eml_messages(paths: Iterable[str | Path]) -> Iterator[SourceItem]:
    """One raw message per ``.eml`` file; directories are walked for ``*.eml``."""
    for path in iter_eml_files(paths):
        location = SourceLocation(kind="eml", path=str(path))
        try:
            raw = path.read_bytes()
        except OSError as exc:
            yield Unreadable(location, _reason(exc))
            continue
        yield RawMessage(raw=raw, location=location)


def mbox_messages(paths: Iterable[str | Path]) -> Iterator[SourceItem]:
    """Every message of each mbox archive, streamed (constant memory)."""
    for raw in paths:
        path = Path(raw).absolute()
        try:
            yield from iter_mbox(path)
        except (OSError, ParseError) as exc:
            yield Unreadable(SourceLocation(kind="mbox", path=str(path)), _reason(exc))


def maildir_messages(dirs: Iterable[str | Path]) -> Iterator[SourceItem]:
    """Every message in each Maildir folder (``cur/`` and ``new/``)."""
    for raw in dirs:
        path = Path(raw).absolute()
        try:
            yield from iter_maildir(path)
        except (OSError, ParseError) as exc:
            yield Unreadable(SourceLocation(kind="maildir", path=str(path)), _reason(exc))
