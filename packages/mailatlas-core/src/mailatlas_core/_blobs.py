"""Blobs: the bytes of a store (raw messages, HTML, assets, kept failures) by key.

:class:`BlobStore` is what every store writes its files through; it only persists bytes
and decides nothing about what they mean. :class:`LocalBlobStore` keeps them in a
workspace directory (the layout and safety rules of :mod:`mailatlas_core._workspace`); an
object store (S3) can implement the same protocol.

Keys are ``/``-separated relative names (``raw/<sha256>.eml``, ``html/<id>.html``,
``assets/<id>/<filename>``, ``failures/<sha256>.eml``). Every component is checked with
:func:`check_key`: no ``..``, no absolute name, no NUL or control character, no
backslash, none empty. A key is also what the database stores as a file's path, so the
keys of a local store are exactly the relative paths earlier versions stored.

Errors: a missing blob is a :class:`~mailatlas_core._errors.BlobNotFoundError`; a blob a
store refuses to read, replace or remove (a planted link, a device, something leading
out of the workspace) is an :class:`~mailatlas_core._errors.UnsafePathError`; anything
else is a :class:`~mailatlas_core._errors.StoreError` (a full disk a
:class:`~mailatlas_core._errors.StorageFullError`).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO, Protocol

from ._errors import BlobNotFoundError, StoreError, UnsafePathError
from ._files import NotARegularFileError, open_regular
from ._workspace import Workspace, check_component, os_error

__all__ = ["BlobStore", "LocalBlobStore", "check_key"]


def check_key(key: str) -> list[str]:
    """The components of a valid blob key; ``UnsafePathError`` for anything else."""
    parts = key.split("/")
    for part in parts:
        check_component(part)
    return parts


class BlobStore(Protocol):
    """Bytes by key. Persistence only: what a key means is the caller's business.

    Writes are atomic (a reader sees all of a blob or none) and idempotent: putting the
    same bytes under a key again is harmless. Callers write a document's blobs *before*
    its rows, so a crash never leaves a row without its blob.
    """

    def prepare(self) -> None:
        """Make the store ready for writing (directories, ...). Writers call it once;
        readers never do, so reading creates nothing."""

    def recover(self) -> None:
        """Remove what writers that died mid-write left behind (temp files)."""

    def flush(self) -> None:
        """Return once every blob put so far is stored (a store that uploads in the
        background waits here; the policy calls it before it commits the rows)."""

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, atomically replacing what was there."""

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; ``BlobNotFoundError`` if there are none."""

    def open(self, key: str) -> BinaryIO:
        """A binary stream of the bytes under ``key`` (for large blobs; close it)."""

    def exists(self, key: str) -> bool:
        """Whether a blob is stored under ``key``."""

    def size(self, key: str) -> int:
        """The size in bytes of the blob under ``key``; ``BlobNotFoundError`` if none."""

    def delete(self, key: str) -> int | None:
        """Remove the blob under ``key``; its size, or ``None`` if there was none.

        Something the store did not write (a planted link, a device) is left in place:
        ``UnsafePathError`` says why.
        """

    def clear(self, prefix: str) -> None:
        """Remove every blob under ``prefix/`` (leftovers of a write that was rolled back
        before a fresh set is written). A no-op where keys are simply overwritten."""

    def release(self, prefix: str) -> str | None:
        """After the blobs under ``prefix/`` were deleted: drop the container they lived
        in (a local directory), if empty. Returns why it was left (``None``: nothing left)."""

    def locate(self, key: str) -> str:
        """Where a person finds the blob: an absolute path, or a URL (``s3://...``)."""

    def total_bytes(self) -> int:
        """Bytes of everything stored (``mailatlas stats``)."""


class LocalBlobStore:
    """Blobs as files under a workspace directory (see :mod:`mailatlas_core._workspace`).

    Every write is a 0600 temp file in ``tmp/`` renamed into place; directories are
    created 0700; a directory that resolves out of the workspace (a planted link) is
    refused; reads and deletes never follow a link and only touch regular files.
    """

    def __init__(self, root: Path) -> None:
        self.workspace = Workspace(root)

    @property
    def root(self) -> Path:
        return self.workspace.root

    def prepare(self) -> None:
        self.workspace.ensure()

    def recover(self) -> None:
        self.workspace.sweep_temp_files()

    def flush(self) -> None:
        """Nothing to wait for: every put is on disk when it returns."""

    def path(self, key: str) -> Path:
        """The file of ``key``, checked to lie inside the workspace."""
        return self.workspace.inside(*check_key(key))

    def put(self, key: str, data: bytes) -> None:
        ws = self.workspace
        directory, _, name = key.rpartition("/")
        fast = ws.verified_file(directory, name)  # raw/<hash>.eml, html/<id>.html
        if fast is not None:
            ws.write_atomic(fast, data)
            return
        path = self.path(key)
        # raw/, html/ were made by prepare and are verified once; assets/<id>/ on demand.
        if path.parent not in ws.verified_dirs and not path.parent.is_dir():
            ws.make_dir(path.parent)
            path = self.path(key)  # verify what was just made
        ws.write_atomic(path, data)

    def open(self, key: str) -> BinaryIO:
        path = self.path(key)
        try:
            fd = open_regular(path, follow=False)
        except FileNotFoundError:
            raise BlobNotFoundError(f"{path} is missing from the workspace") from None
        except NotARegularFileError as exc:
            raise UnsafePathError(f"{path} is {exc.kind}, not a file MailAtlas wrote") from exc
        except OSError as exc:
            raise os_error(exc, f"cannot read {path}") from exc
        return os.fdopen(fd, "rb")

    def get(self, key: str) -> bytes:
        with self.open(key) as fh:
            try:
                return fh.read()
            except OSError as exc:
                raise os_error(exc, f"cannot read {self.locate(key)}") from exc

    def _lstat(self, key: str) -> os.stat_result | None:
        try:
            return self.path(key).lstat()
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return None
            raise os_error(exc, f"cannot read {self.locate(key)}") from exc

    def exists(self, key: str) -> bool:
        info = self._lstat(key)
        return info is not None and stat.S_ISREG(info.st_mode)

    def size(self, key: str) -> int:
        info = self._lstat(key)
        if info is None or not stat.S_ISREG(info.st_mode):
            raise BlobNotFoundError(f"{self.locate(key)} is missing from the workspace")
        return info.st_size

    def delete(self, key: str) -> int | None:
        try:
            path = self.path(key)
        except UnsafePathError:
            raise UnsafePathError("outside the workspace") from None
        try:
            info = path.lstat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(exc.strerror or str(exc)) from exc
        if not stat.S_ISREG(info.st_mode):
            raise UnsafePathError("not a regular file MailAtlas wrote")
        try:
            path.unlink()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(exc.strerror or str(exc)) from exc
        return info.st_size

    def clear(self, prefix: str) -> None:
        self.workspace.clear_dir(self.path(prefix))

    def release(self, prefix: str) -> str | None:
        directory = self.root.joinpath(*check_key(prefix))
        try:
            if directory.is_symlink() or not directory.is_dir():
                return None
            directory.rmdir()  # only when empty: never a file MailAtlas did not write
        except OSError:
            return "holds files MailAtlas did not write"
        return None

    def locate(self, key: str) -> str:
        return str(self.root / key)

    def total_bytes(self) -> int:
        """Bytes of the regular files under the root (symlinks not followed)."""
        total = 0
        for directory, _dirs, files in os.walk(self.root):
            for name in files:
                try:
                    info = os.lstat(os.path.join(directory, name))
                except OSError:
                    continue
                if stat.S_ISREG(info.st_mode):
                    total += info.st_size
        return total
