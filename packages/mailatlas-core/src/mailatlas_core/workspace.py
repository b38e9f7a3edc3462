"""Workspace files: raw messages, HTML snapshots, assets, exports, kept failures.

Layout under the workspace root::

    raw/<id>.eml            the original message bytes, byte for byte
    html/<id>.html          sanitised HTML, cid: references rewritten to ../assets/<id>/
    assets/<id>/<filename>  inline images and attachments (only when there are any)
    exports/                default destination of ``mailatlas export``
    failures/<sha256>.eml   raw bytes of messages that could not be processed

Directories are created 0700 and files 0600 whatever the umask, because mail is
private. Every write goes to a temporary file in the target directory and is renamed
into place, so a reader never sees a half-written file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from pathlib import Path

from .errors import StorageFullError, StoreError, UnsafePathError

__all__ = ["Workspace", "check_component"]

DIR_MODE = 0o700
FILE_MODE = 0o600
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


_UNSAFE_CHARS = re.compile(r"[\x00-\x1f/\\]")


def check_component(name: str) -> str:
    """Return ``name`` if it is a safe single path component, else raise ``UnsafePathError``."""
    if (
        not name
        or name in {".", ".."}
        or _UNSAFE_CHARS.search(name) is not None
        or len(name.encode("utf-8", "surrogatepass")) > 255
    ):
        raise UnsafePathError(f"refusing unsafe file name {name[:80]!r}")
    return name


class Workspace:
    """The files half of a store, rooted at one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root.absolute()
        self._resolved_root: Path | None = None
        self._verified_dirs: set[Path] = set()

    @property
    def raw_dir(self) -> Path:
        return self.root / "raw"

    @property
    def html_dir(self) -> Path:
        return self.root / "html"

    @property
    def assets_dir(self) -> Path:
        return self.root / "assets"

    @property
    def exports_dir(self) -> Path:
        return self.root / "exports"

    @property
    def failures_dir(self) -> Path:
        return self.root / "failures"

    def ensure(self) -> None:
        """Create the workspace directories (0700). Only writers call this."""
        for d in (self.root, self.raw_dir, self.html_dir, self.assets_dir, self.exports_dir):
            self.make_dir(d)

    def make_dir(self, path: Path) -> None:
        """Create ``path`` (and missing parents inside the workspace) with mode 0700."""
        try:
            path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            # mkdir's mode is filtered by the umask; private data must not depend on it.
            os.chmod(path, DIR_MODE)
        except OSError as exc:
            raise _os_error(exc, f"cannot create directory {path}") from exc

    def inside(self, *parts: str) -> Path:
        """Join ``parts`` under the root, refusing anything that would leave it.

        Every part must be one safe path component; the result is also checked after
        resolving symlinks, so a planted link cannot redirect a write.
        """
        for part in parts:
            check_component(part)
        path = self.root.joinpath(*parts)
        # Only the directory needs resolving: files are written through O_NOFOLLOW temp
        # files renamed into place, which never follow a planted link. Directories that
        # were verified once are not resolved again (hot path: one raw file per message).
        parent = path.parent
        if parent not in self._verified_dirs:
            if self._resolved_root is None:
                self._resolved_root = self.root.resolve()
            resolved = parent.resolve()
            root = self._resolved_root
            if resolved != root and root not in resolved.parents:
                raise UnsafePathError(f"path {path} resolves outside the workspace")
            if parent.parent == self.root and parent.is_dir():
                self._verified_dirs.add(parent)  # raw/, html/, failures/: a bounded set
        return path

    def relative(self, path: Path) -> str:
        """``path`` relative to the root, as stored in the database (POSIX form)."""
        return path.relative_to(self.root).as_posix()

    def absolute(self, relative: str | None) -> str | None:
        """The absolute form of a stored relative path."""
        return None if relative is None else str(self.root / relative)

    def write_atomic(self, path: Path, data: bytes) -> None:
        """Write ``data`` to ``path`` via a 0600 temp file renamed into place.

        No fsync: the database row commits only after the rename, and a killed process
        cannot lose data the kernel already holds. (Power loss is out of scope; see
        docs/reliability.md.)
        """
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            try:
                # O_EXCL: a new file gets exactly FILE_MODE (less the umask, never more).
                fd = os.open(tmp, _NEW_FILE_FLAGS, FILE_MODE)
            except FileExistsError:  # a leftover of a crashed writer with our pid
                tmp.unlink()
                fd = os.open(tmp, _NEW_FILE_FLAGS, FILE_MODE)
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise _os_error(exc, f"cannot write {path}") from exc

    def clear_dir(self, path: Path) -> None:
        """Remove a directory tree inside the workspace (stale assets of a rolled-back add)."""
        self._verified_dirs.discard(path)
        if path.is_symlink():
            path.unlink()
        elif path.is_dir():
            import shutil  # rarely needed; not loaded by commands that only read

            shutil.rmtree(path, ignore_errors=True)


def _os_error(exc: OSError, what: str) -> StoreError:
    if exc.errno in _FULL_ERRNOS:
        return StorageFullError(
            f"{what}: disk full or file-size limit reached; free space and rerun"
        )
    return StoreError(f"{what}: {exc.strerror or exc}")
