"""The file readers of the ingest pipeline: paths in, a stream of raw messages out.

Each function yields :class:`mailatlas_clean.RawMessage` items, or an
:class:`Unreadable` for a path that could not be read, so that one bad file is
recorded as a failure and never stops the run.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from mailatlas_core import SourceLocation
from mailatlas_core import _files as files
from mailatlas_core._files import read_regular

from .._config import ParseLimits
from .._errors import ParseError
from ._maildir import maildir_files
from ._mbox import iter_mbox
from ._raw import RawMessage

__all__ = [
    "Skipped",
    "SourceItem",
    "Unreadable",
    "eml_messages",
    "iter_eml_files",
    "maildir_messages",
    "mbox_messages",
]


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A source that yielded no message: missing, unreadable, or not mail at all."""

    location: SourceLocation
    reason: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """A symbolic link found inside a walked directory: reported, never followed."""

    location: SourceLocation
    reason: str


SourceItem: TypeAlias = RawMessage | Unreadable | Skipped

_LINK = "a symbolic link inside the directory; not followed (name its target to ingest it)"


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


def _eml_entries(paths: Iterable[str | Path]) -> Iterator[tuple[Path, bool]]:
    """Each given path (named: followed), and each ``*.eml`` found below a given directory.

    The bool says whether the path is a symbolic link found by the walk: those (files
    named ``*.eml``, and linked directories) are yielded to be reported, never followed.
    """
    for raw in paths:
        path = Path(raw).absolute()
        if not path.is_dir():
            yield path, False
            continue
        found: list[tuple[Path, bool]] = []
        for parent, dirs, names in os.walk(path):  # never descends into a linked directory
            found += [(Path(parent, d), True) for d in dirs if os.path.islink(Path(parent, d))]
            for name in names:
                if not name.endswith(".eml"):
                    continue
                entry = Path(parent, name)
                try:
                    mode = entry.lstat().st_mode
                except OSError:  # gone since the listing: it was never there for us
                    continue
                if stat.S_ISLNK(mode) or stat.S_ISREG(mode):
                    found.append((entry, stat.S_ISLNK(mode)))
        yield from sorted(found)


def iter_eml_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Each given file, and every ``*.eml`` below each given directory (sorted).

    Symbolic links inside a given directory are not followed (nor listed).
    """
    return (path for path, linked in _eml_entries(paths) if not linked)


def eml_messages(paths: Iterable[str | Path]) -> Iterator[SourceItem]:
    """One raw message per ``.eml`` file; directories are walked for ``*.eml``.

    A link inside a walked directory is a :class:`Skipped` item, not followed.
    """
    for path, linked in _eml_entries(paths):
        location = SourceLocation(kind="eml", path=str(path))
        if linked:
            yield Skipped(location, _LINK)
            continue
        try:
            raw = read_regular(path, fifo_wait=files.FIFO_WAIT_S)  # named: <(...) works
        except OSError as exc:
            yield Unreadable(location, _reason(exc))
            continue
        yield RawMessage(raw=raw, location=location)


def mbox_messages(
    paths: Iterable[str | Path], limits: ParseLimits | None = None
) -> Iterator[SourceItem]:
    """Every message of each mbox archive, streamed (constant memory).

    A message larger than ``limits.max_message_bytes`` is skipped unbuffered and is an
    :class:`Unreadable` item (no raw bytes kept).
    """
    limits = limits or ParseLimits()
    for raw in paths:
        path = Path(raw).absolute()
        try:
            for message in iter_mbox(path, max_message_bytes=limits.max_message_bytes):
                if message.oversize is None:
                    yield message
                else:
                    yield Unreadable(message.location, limits.skipped_reason(message.oversize))
        except (OSError, ParseError) as exc:
            yield Unreadable(SourceLocation(kind="mbox", path=str(path)), _reason(exc))


def maildir_messages(dirs: Iterable[str | Path]) -> Iterator[SourceItem]:
    """Every message in each Maildir folder (``cur/`` and ``new/``).

    A link inside a Maildir is a :class:`Skipped` item, not followed.
    """
    for raw in dirs:
        path = Path(raw).absolute()
        try:
            for file in maildir_files(path, links=True):
                location = SourceLocation(kind="maildir", path=str(file))
                if os.path.islink(file):
                    yield Skipped(location, _LINK)
                    continue
                try:
                    yield RawMessage(raw=read_regular(file, follow=False), location=location)
                except OSError as exc:
                    yield Unreadable(location, _reason(exc))
        except (OSError, ParseError) as exc:
            yield Unreadable(SourceLocation(kind="maildir", path=str(path)), _reason(exc))
