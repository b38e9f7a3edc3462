"""Maildir reader: every message file under ``cur/`` and ``new/``, one at a time."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from mailatlas_core import SourceLocation
from mailatlas_core._files import read_regular

from .._errors import ParseError
from ._raw import RawMessage

__all__ = ["iter_maildir", "maildir_files"]

_SUBDIRS = ("cur", "new")


def _message_files(folder: Path, links: bool) -> Iterator[Path]:
    for sub in _SUBDIRS:
        directory = folder / sub
        if directory.is_symlink():
            if links:
                yield directory
            continue
        if not directory.is_dir():
            continue
        # Sorted so that runs are repeatable; dot-files are Maildir++ bookkeeping.
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda e: e.name)
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_symlink():
                if links:
                    yield Path(entry.path)
            elif entry.is_file(follow_symlinks=False):
                yield Path(entry.path)


def _folders(root: Path, links: bool) -> Iterator[tuple[Path, bool]]:
    """Each folder to read, and whether it is a link (yielded only with ``links``)."""
    yield root, False
    # Maildir++ keeps subfolders as ".Name" directories beside cur/new/tmp.
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") and entry.is_dir() and (entry / "cur").is_dir():
            if not entry.is_symlink():
                yield entry, False
            elif links:
                yield entry, True


def maildir_files(directory: str | os.PathLike[str], *, links: bool = False) -> Iterator[Path]:
    """The message files :func:`iter_maildir` reads, in the same order (nothing is read).

    Symbolic links inside the Maildir (a message file, ``cur/``, a ``.Sub`` folder) are
    never followed: a link in someone's Maildir could point at any file of yours. With
    ``links=True`` each such link is yielded too (tell them apart with
    :func:`os.path.islink`), so that a caller can report what it skipped. The
    ``directory`` itself may be a link: the caller named it.

    Raises:
        ParseError: ``directory`` is not a Maildir.
    """
    root = Path(os.path.abspath(os.fspath(directory)))
    if not root.is_dir() or not any((root / sub).is_dir() for sub in _SUBDIRS):
        raise ParseError(f"{root} is not a Maildir: it has no cur/ or new/ folder")
    for folder, is_link in _folders(root, links):
        if is_link:
            yield folder
        else:
            yield from _message_files(folder, links)


def iter_maildir(directory: str | os.PathLike[str]) -> Iterator[RawMessage]:
    """Stream the messages of a Maildir folder (``cur/`` and ``new/``, not ``tmp/``).

    Maildir++ subfolders (``.Sent``, ``.Archive``...) are included. Files are read one at
    a time; the order is sorted by folder and file name. Symbolic links inside the
    Maildir are skipped, not followed (see :func:`maildir_files`).

    Args:
        directory: the Maildir root (the folder that holds ``cur/`` and ``new/``).

    Yields:
        One :class:`RawMessage` per file, located at its absolute path.

    Raises:
        ParseError: ``directory`` is not a Maildir.
    """
    for path in maildir_files(directory):
        try:
            raw = read_regular(path, follow=False)
        except OSError as exc:
            raise ParseError(f"cannot read {path}: {exc.strerror or exc}") from exc
        yield RawMessage(raw=raw, location=SourceLocation(kind="maildir", path=str(path)))
