"""Workspace files: raw messages, HTML snapshots, assets, exports, kept failures.

Layout under the workspace root::

    raw/<id>.eml            the original message bytes, byte for byte
    html/<id>.html          sanitised HTML, cid: references rewritten to ../assets/<id>/
    assets/<id>/<filename>  inline images and attachments (only when there are any)
    exports/                default destination of ``mailatlas export``
    failures/<sha256>.eml   raw bytes of messages that could not be processed
    tmp/                    named temp files being written, renamed into place when complete

Directories MailAtlas creates are 0700 and its files 0600 whatever the umask, because
mail is private; a directory that already existed keeps its mode. A new file is written
as an unnamed file (``O_TMPFILE``) and linked in once complete, so a reader never sees a
half-written file and a killed writer leaves nothing behind. Where that cannot be (a file
system without ``O_TMPFILE``, or a file being replaced), the write goes to a temporary
file in ``tmp/`` (named ``.<name>.<pid>.tmp``) renamed into place, and the leftovers of a
killed writer are found in that one small directory and removed by the next writer
(:meth:`Workspace.sweep_temp_files`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from pathlib import Path

from ._errors import StorageFullError, StoreError, UnsafePathError
from ._files import (
    DIR_FLAGS,
    DIR_MODE,
    FILE_MODE,
    NEW_FILE_FLAGS,
    link_new_at,
    make_dirs,
    temp_name,
)

__all__ = ["DIR_MODE", "FILE_MODE", "Workspace", "check_component", "os_error", "pid_alive"]

_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
# ".<name>.<pid>.tmp": the temp files of write_atomic (files.temp_name).
_TEMP_NAME = re.compile(r"^\..+\.(\d+)\.tmp$")
# Before tmp/ existed, temp files were written beside their target.
_OLD_TEMP_DIRS = ("raw", "html", "failures", "exports")


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
        #: Directories directly under the root checked to resolve inside it.
        self.verified_dirs: set[Path] = set()
        # The same directories by name (``raw``), as strings: the hot path of a write.
        self._verified_names: dict[str, str] = {}
        #: Whether new files are written as O_TMPFILEs (False once the system says no).
        self._tmpfile = True

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

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    def ensure(self) -> None:
        """Create the workspace directories (0700). Only writers call this."""
        first_tmp = not os.path.lexists(self.tmp_dir)
        for d in (
            self.root,
            self.raw_dir,
            self.html_dir,
            self.assets_dir,
            self.exports_dir,
            self.tmp_dir,
        ):
            self.make_dir(d)
        # A planted link (raw/ -> elsewhere) stops the writer here, before any write.
        for sub in ("raw", "html", "assets", "exports", "failures", "tmp"):
            self._verify_dir(self.root / sub)
        if first_tmp:  # once per workspace: temp files of versions without tmp/
            self._sweep(tuple(self.root / d for d in _OLD_TEMP_DIRS))

    def make_dir(self, path: Path) -> None:
        """Create ``path`` (and missing parents) with mode 0700.

        A directory that already exists is left as it is: MailAtlas never changes the
        mode of something it did not create (a shared parent, or a planted link's target).
        """
        try:
            make_dirs(path)
        except OSError as exc:
            raise os_error(exc, f"cannot create directory {path}") from exc

    def sweep_temp_files(self) -> list[Path]:
        """Remove the temp files of writers that died mid-write; return what was removed.

        A temp file is named ``.<name>.<pid>.tmp``: it is stale when no process with
        that id runs (the store is on one host: SQLite's WAL needs shared memory). A
        live writer's files are never touched.
        """
        return self._sweep((self.tmp_dir, self.exports_dir))

    def _sweep(self, directories: tuple[Path, ...]) -> list[Path]:
        removed = []
        for directory in directories:
            try:
                entries = list(os.scandir(directory))
            except OSError:  # missing, or a planted non-directory: nothing of ours there
                continue
            for entry in entries:
                match = _TEMP_NAME.match(entry.name)
                if match is None or pid_alive(int(match[1])):
                    continue
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
        return removed

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
        if path.parent not in self.verified_dirs:
            self._verify_dir(path.parent, path)
        return path

    def _verify_dir(self, directory: Path, path: Path | None = None) -> None:
        if self._resolved_root is None:
            self._resolved_root = self.root.resolve()
        resolved = directory.resolve()
        root = self._resolved_root
        if resolved != root and root not in resolved.parents:
            if path is None:
                raise UnsafePathError(
                    f"{directory} leads out of the workspace (a symbolic link?); "
                    "remove it or choose another --workspace"
                )
            raise UnsafePathError(f"path {path} resolves outside the workspace")
        if directory.parent == self.root and directory.is_dir():
            self.verified_dirs.add(directory)  # raw/, html/, failures/: a bounded set
            self._verified_names[directory.name] = str(directory)

    def verified_file(self, directory: str, name: str) -> str | None:
        """The path of file ``name`` in ``directory`` (a name directly under the root),
        if that directory was verified (see :meth:`inside`), else ``None``.

        The hot path of a blob write (one raw file per message): the same checks as
        :meth:`inside` without building ``Path`` objects.
        """
        where = self._verified_names.get(directory)
        if where is None:
            return None
        return f"{where}/{check_component(name)}"

    def relative(self, path: Path) -> str:
        """``path`` relative to the root, as stored in the database (POSIX form)."""
        return path.relative_to(self.root).as_posix()

    def absolute(self, relative: str | None) -> str | None:
        """The absolute form of a stored relative path."""
        return None if relative is None else str(self.root / relative)

    def write_atomic(self, path: Path | str, data: bytes) -> None:
        """Write ``data`` to ``path``, 0600, so that nobody ever sees part of it.

        A new file is an unnamed ``O_TMPFILE`` linked in once complete
        (:func:`~mailatlas_core._files.link_new_at`): no temp name, nothing left by a
        killed writer. An existing ``path``, or a file system without ``O_TMPFILE``, takes
        the other way: a temp file in ``tmp/`` renamed into place (over what was there).

        No fsync: the database row commits only after the link or rename, and a killed
        process cannot lose data the kernel already holds. (Power loss is out of scope;
        see docs/reliability.md.)
        """
        directory, name = os.path.split(path)
        if self._tmpfile:
            try:
                dir_fd = os.open(directory, DIR_FLAGS)
                try:
                    linked = link_new_at(dir_fd, name, data)
                finally:
                    os.close(dir_fd)
            except OSError as exc:
                raise os_error(exc, f"cannot write {path}") from exc
            if linked:
                return
            if linked is None:
                self._tmpfile = False  # this file system cannot: don't ask again
        tmp = self.tmp_dir / temp_name(name)
        try:
            try:
                # O_EXCL: a new file gets exactly FILE_MODE (less the umask, never more).
                fd = os.open(tmp, NEW_FILE_FLAGS, FILE_MODE)
            except FileExistsError:  # a leftover of a crashed writer with our pid
                tmp.unlink()
                fd = os.open(tmp, NEW_FILE_FLAGS, FILE_MODE)
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
            raise os_error(exc, f"cannot write {path}") from exc

    def clear_dir(self, path: Path) -> None:
        """Remove a directory tree inside the workspace (stale assets of a rolled-back add)."""
        self.verified_dirs.discard(path)
        if self._verified_names.get(path.name) == str(path):
            del self._verified_names[path.name]
        if path.is_symlink():
            path.unlink()
        elif path.is_dir():
            import shutil  # rarely needed; not loaded by commands that only read

            shutil.rmtree(path, ignore_errors=True)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host (ours always does)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, owned by someone else
        return True
    return True


def os_error(exc: OSError, what: str) -> StoreError:
    """A ``StoreError`` for a failed file operation (``StorageFullError`` when full)."""
    if exc.errno in _FULL_ERRNOS:
        return StorageFullError(
            f"{what}: disk full or file-size limit reached; free space and rerun"
        )
    return StoreError(f"{what}: {exc.strerror or exc}")
