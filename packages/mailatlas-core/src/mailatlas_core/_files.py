"""Opening, creating and replacing files without trusting what is already on disk.

The rules every MailAtlas write follows (docs/security.md, "Files on disk"):

* A path the user names is theirs: it is followed as given (a symlinked ``--out`` or
  ``--workspace`` directory works). Below it, MailAtlas reaches what it creates through
  directory file descriptors with ``O_NOFOLLOW``, so a planted symbolic link is refused,
  never followed.
* Only what MailAtlas created gets its mode set (0700 directories, 0600 files); an
  existing directory or file keeps the mode its owner gave it.
* Only a regular file is ever read as a message or replaced by an export: a FIFO, a
  device or a socket is refused before it is opened for reading (no hang) or replaced.
* A file is written to a temporary name in its (verified) directory and renamed into
  place, so nobody ever sees half of it. A new file that must not replace anything is
  written as an unnamed file (``O_TMPFILE``) and linked in once complete
  (:func:`link_new_at`): the same guarantee without a temp name, so a killed writer
  leaves nothing at all behind.

Errors are :class:`OSError` (a :class:`NotARegularFileError` for the wrong kind of
file); callers turn them into their own one-line messages.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "DIR_FLAGS",
    "DIR_MODE",
    "FIFO_WAIT_S",
    "FILE_MODE",
    "NEW_FILE_FLAGS",
    "NotARegularFileError",
    "copy_at",
    "copy_stream_at",
    "describe_kind",
    "link_new_at",
    "make_dirs",
    "open_dir",
    "open_regular",
    "read_regular",
    "replace_at",
    "temp_name",
]

DIR_MODE = 0o700
FILE_MODE = 0o600
#: How long a FIFO named as input may take to get a writer (see :func:`open_regular`).
FIFO_WAIT_S = 10.0
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
# 0 where the platform has no O_TMPFILE: link_new_at then always declines.
_TMPFILE = getattr(os, "O_TMPFILE", 0)
# What opening an O_TMPFILE or linking it through /proc fails with where the file system,
# the kernel or a missing /proc cannot do it (not a full disk, not a refused permission).
_NO_TMPFILE = {errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT, errno.EXDEV}

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symbolic link"),
)


class NotARegularFileError(OSError):
    """A path that MailAtlas would read or replace is not a regular file."""

    def __init__(self, path: str | os.PathLike[str], kind: str) -> None:
        super().__init__(errno.EINVAL, f"{kind}, not a regular file", os.fspath(path))
        self.kind = kind


def describe_kind(mode: int) -> str:
    """``a FIFO (named pipe)``, ``a directory``... for an ``st_mode``."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def open_regular(
    path: str | os.PathLike[str], *, follow: bool = True, fifo_wait: float | None = None
) -> int:
    """Open a regular file for reading; refuse anything else without blocking on it.

    ``O_NONBLOCK`` makes opening a FIFO return at once, and the type is checked on the
    open descriptor (no race with a swapped path). With ``follow=False`` a symbolic
    link is refused too.

    With ``fifo_wait`` (seconds) a FIFO is accepted as a stream, e.g. a shell's
    ``<(zcat archive.mbox.gz)``, if its writer shows up within that time; one that
    nothing writes to is refused then, never waited on forever.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow:
            raise NotARegularFileError(path, "a symbolic link") from exc
        raise
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISFIFO(mode) and fifo_wait is not None:
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            if not poller.poll(int(fifo_wait * 1000)):
                raise NotARegularFileError(
                    path, f"a FIFO (named pipe) that nothing wrote to within {fifo_wait:g} s"
                )
        elif not stat.S_ISREG(mode):
            raise NotARegularFileError(path, describe_kind(mode))
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(
    path: str | os.PathLike[str], *, follow: bool = True, fifo_wait: float | None = None
) -> bytes:
    """The bytes of a regular file (see :func:`open_regular`)."""
    with os.fdopen(open_regular(path, follow=follow, fifo_wait=fifo_wait), "rb") as fh:
        return fh.read()


def _missing(path: Path) -> Iterator[Path]:
    """The components of ``path`` that do not exist yet, outermost first."""
    missing: list[Path] = []
    probe = path
    while not os.path.lexists(probe):
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    return reversed(missing)


def make_dirs(path: str | os.PathLike[str], *, parents: bool = True) -> list[Path]:
    """Create ``path`` (and with ``parents`` its missing parents), each 0700.

    Existing directories are left exactly as they are: their mode is never changed.
    Returns the directories created. Without ``parents`` a missing parent is a
    :class:`FileNotFoundError`.
    """
    target = Path(os.path.abspath(os.fspath(path)))
    todo = list(_missing(target))
    if todo and not parents and todo[0] != target:
        raise FileNotFoundError(errno.ENOENT, "no such directory", str(target.parent))
    created = []
    for directory in todo:
        try:
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:  # made by a concurrent process: theirs, leave it
            continue
        # mkdir's mode is filtered by the umask; private data must not depend on it.
        # fchmod through a descriptor opened without following links: never a target.
        fd = os.open(directory, DIR_FLAGS | os.O_NOFOLLOW)
        try:
            os.fchmod(fd, DIR_MODE)
        finally:
            os.close(fd)
        created.append(directory)
    return created


def open_dir(name: str | os.PathLike[str], *, dir_fd: int | None = None, create: bool) -> int:
    """Open a directory; with ``dir_fd``, the entry ``name`` of it, never through a link.

    With ``create`` a missing directory is made (0700). An existing entry that is a
    symbolic link or not a directory is refused (:class:`NotARegularFileError` naming
    its kind); its mode is never touched.
    """
    follow = dir_fd is None  # a top-level path the caller named is followed
    if create:
        try:
            os.mkdir(name, DIR_MODE, dir_fd=dir_fd)
            created = True
        except FileExistsError:
            created = False
    else:
        created = False
    try:
        fd = os.open(name, DIR_FLAGS | (0 if follow else os.O_NOFOLLOW), dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise
        try:
            mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=follow).st_mode
        except OSError:
            raise exc from None
        raise NotARegularFileError(name, describe_kind(mode)) from exc
    if created:
        os.fchmod(fd, DIR_MODE)
    return fd


def temp_name(name: str) -> str:
    """The temporary name a file is written under before it is renamed to ``name``.

    It carries this process's id, so a later writer can tell (and remove) the leftovers
    of a process that died mid-write: see ``Workspace.sweep_temp_files``.
    """
    return f".{name}.{os.getpid()}.tmp"


def link_new_at(dir_fd: int, name: str, data: bytes) -> bool | None:
    """Write ``data`` as the new file ``name`` in ``dir_fd``, whole or not at all.

    The bytes go to an unnamed file of that directory (``O_TMPFILE``, mode 0600 less the
    umask), which is linked in as ``name`` once complete. Until then it has no name: a
    reader never sees part of it, and a writer killed at any point leaves nothing behind
    (the kernel frees an unlinked file with its last descriptor). The link never
    replaces anything.

    Returns ``True`` once written; ``False`` if ``name`` exists (nothing was written: the
    caller decides whether to replace it); ``None`` if this system cannot (no
    ``O_TMPFILE`` in the kernel or the file system, no ``/proc``): the caller falls back to
    a temp file renamed into place. Any other failure (a full disk) is an ``OSError``.
    """
    if not _TMPFILE:
        return None
    try:
        fd = os.open(".", _TMPFILE | os.O_WRONLY | os.O_CLOEXEC, FILE_MODE, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in _NO_TMPFILE:
            return None
        raise
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        # linkat(AT_SYMLINK_FOLLOW) of /proc/self/fd/N names the open file; a dst_dir_fd
        # makes os.link call linkat (plain link() would link the /proc symlink itself).
        os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=dir_fd, follow_symlinks=True)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno in _NO_TMPFILE:
            return None
        raise
    finally:
        os.close(fd)
    return True


def replace_at(dir_fd: int, name: str, data: bytes) -> None:
    """Write ``data`` as ``name`` in the directory ``dir_fd``: temp file, then rename.

    The temp file is created ``O_EXCL | O_NOFOLLOW`` with mode 0600. An existing
    ``name`` is replaced only if it is a regular file; anything else (a link, a device,
    a FIFO, a directory) is refused and left alone.
    """

    def fill(fd: int) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]

    _replace(dir_fd, name, fill)


def copy_at(source_fd: int, dir_fd: int, name: str) -> None:
    """Copy the open file ``source_fd`` to ``name`` in ``dir_fd``, as :func:`replace_at`.

    Streamed, so a large attachment costs no memory. Open the source with
    :func:`open_regular` (``follow=False`` for a file inside a store).
    """
    _replace(dir_fd, name, lambda fd: _copy_fd(source_fd, fd))


def copy_stream_at(source: BinaryIO, dir_fd: int, name: str) -> None:
    """Copy a binary stream (e.g. ``BlobStore.open``) to ``name`` in ``dir_fd``, as
    :func:`replace_at`; streamed in 1 MB chunks."""

    def fill(fd: int) -> None:
        while chunk := source.read(1 << 20):
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]

    _replace(dir_fd, name, fill)


def _copy_fd(src: int, dst: int) -> None:
    while True:
        chunk = os.read(src, 1 << 20)
        if not chunk:
            return
        view = memoryview(chunk)
        while view:
            view = view[os.write(dst, view) :]


def _replace(dir_fd: int, name: str, fill: Callable[[int], None]) -> None:
    _check_replaceable(dir_fd, name)
    tmp = temp_name(name)
    try:
        fd = os.open(tmp, NEW_FILE_FLAGS, FILE_MODE, dir_fd=dir_fd)
    except FileExistsError:  # a leftover of a crashed writer with our pid
        os.unlink(tmp, dir_fd=dir_fd)
        fd = os.open(tmp, NEW_FILE_FLAGS, FILE_MODE, dir_fd=dir_fd)
    try:
        try:
            fill(fd)
        finally:
            os.close(fd)
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise


def _check_replaceable(dir_fd: int, name: str) -> None:
    try:
        mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise NotARegularFileError(name, describe_kind(mode))
