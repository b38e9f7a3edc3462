"""Maildir reader: every message file under ``cur/`` and ``new/``, one at a time."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from mailatlas_core.model import SourceLocation

from ._raw import RawMessage
from .errors import ParseError

__all__ = ["iter_maildir", "maildir_files"]

_SUBDIRS = ("cur", "new")


def _message_files(folder: Path) -> Iterator[Path]:
    for sub in _SUBDIRS:
        directory = folder / sub
        if not directory.is_dir():
            continue
        # Sorted so that runs are repeatable; dot-files are Maildir++ bookkeeping.
        for entry in sorted(directory.iterdir()):
            if not entry.name.startswith(".") and entry.is_file():
                yield entry


def _folders(root: Path) -> Iterator[Path]:
    yield root
    # Maildir++ keeps subfolders as ".Name" directories beside cur/new/tmp.
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") and entry.is_dir() and (entry / "cur").is_dir():
            yield entry


def maildir_files(directory: str | os.PathLike[str]) -> Iterator[Path]:
    """The message files :func:`iter_maildir` reads, in the same order (nothing is read).

    Raises:
        ParseError: ``directory`` is not a Maildir.
    """
    root = Path(os.path.abspath(os.fspath(directory)))
    if not root.is_dir() or not any((root / sub).is_dir() for sub in _SUBDIRS):
        raise ParseError(f"{root} is not a Maildir: it has no cur/ or new/ folder")
    for folder in _folders(root):
        yield from _message_files(folder)


def iter_maildir(directory: str | os.PathLike[str]) -> Iterator[RawMessage]:
    """Stream the messages of a Maildir folder (``cur/`` and ``new/``, not ``tmp/``).

    Maildir++ subfolders (``.Sent``, ``.Archive``...) are included. Files are read one at
    a time; the order is sorted by folder and file name.

    Args:
        directory: the Maildir root (the folder that holds ``cur/`` and ``new/``).

    Yields:
        One :class:`RawMessage` per file, located at its absolute path.

    Raises:
        ParseError: ``directory`` is not a Maildir.
    """
    for path in maildir_files(directory):
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ParseError(f"cannot read {path}: {exc.strerror or exc}") from exc
        yield RawMessage(raw=raw, location=SourceLocation(kind="maildir", path=str(path)))
