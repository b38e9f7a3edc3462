"""Where an export goes: the rules for ``--out``, and writing there safely.

``--out`` names either a directory or a file, decided by the path alone:

* ending in ``/`` (always), or naming an existing directory: a directory. Markdown and
  HTML write ``document.md``/``document.html`` plus ``assets/`` into it; JSON and PDF
  write ``<id>.json``/``<id>.pdf``. A missing directory is created if its parent exists.
* anything else: the file to write, e.g. ``report.html``. Markdown and HTML put the
  assets beside it in ``report_files/``, as browsers save a page.
* missing parent directories are an error unless ``parents`` (``--parents``) is set.
* only a regular file is ever replaced: an existing device, FIFO, socket, directory or
  symbolic link at the target is refused and left alone.

Inside the directory, every name MailAtlas writes (the page, the assets folder and each
asset) is reached through directory descriptors without following links
(:mod:`mailatlas_core._files`), so a link planted there is refused, never written
through. Without ``--out`` the export goes to the workspace's ``exports/`` folder, which
must be a real directory inside the workspace.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mailatlas_core import Document, StoreError
from mailatlas_core._files import (
    NotARegularFileError,
    copy_stream_at,
    describe_kind,
    make_dirs,
    open_dir,
    replace_at,
)

from .._errors import ExportError, ExportPathError
from ._common import LOCAL_FILES, StoredFiles

__all__ = [
    "Destination",
    "destination",
    "open_destination",
    "refuse_special",
    "write_assets",
    "write_file",
]


@dataclass(frozen=True, slots=True)
class Destination:
    """The directory an export is written into, the file's name, and the assets folder."""

    directory: Path
    name: str
    assets: str
    named_directory: bool = False  # --out named the directory itself (it may be made)
    in_workspace: bool = False

    @property
    def path(self) -> Path:
        return self.directory / self.name


def destination(
    out: str | os.PathLike[str] | None,
    *,
    document_id: str,
    ext: str,
    bundle: bool,
    workspace: Path | str,
) -> Destination:
    """Decide where the export of one document goes (nothing is created yet)."""
    if out is None:
        if not isinstance(workspace, Path):  # s3://...: exports are local files
            raise ExportPathError(
                f"the workspace {workspace} is not a local directory to export into — give --out"
            )
        exports = workspace.absolute() / "exports"
        return Destination(exports, f"{document_id}.{ext}", "assets", in_workspace=True)
    text = os.fspath(out)
    target = Path(text).absolute()
    if text.endswith(os.sep) or target.is_dir():
        name = f"document.{ext}" if bundle else f"{document_id}.{ext}"
        return Destination(target, name, "assets", named_directory=True)
    return Destination(target.parent, target.name, f"{Path(target.name).stem}_files")


@contextlib.contextmanager
def open_destination(dest: Destination, out: object, *, parents: bool) -> Iterator[int]:
    """The directory of ``dest``, opened (and created as the rules allow); its descriptor."""
    try:
        if dest.in_workspace:
            make_dirs(dest.directory.parent)
            root = open_dir(dest.directory.parent, create=False)
            try:
                fd = open_dir(dest.directory.name, dir_fd=root, create=True)
            finally:
                os.close(root)
        else:
            if not dest.directory.is_dir():
                # The directory --out names may be made; its parents, or the directory
                # of a file, only with --parents.
                if not (parents or dest.named_directory):
                    raise FileNotFoundError(2, "no such directory", str(dest.directory))
                make_dirs(dest.directory, parents=parents)
            fd = open_dir(dest.directory, create=False)
    except NotARegularFileError as exc:
        raise ExportPathError(
            f"{dest.directory} is {exc.kind}, not a directory MailAtlas may write into — "
            "remove it or choose another --out"
        ) from exc
    except FileNotFoundError as exc:
        raise ExportPathError(
            f"--out {out}: the directory {exc.filename} does not exist — create it, "
            "or pass --parents to create missing directories"
        ) from exc
    except OSError as exc:
        raise _write_error(dest.directory, exc) from exc
    try:
        yield fd
    finally:
        os.close(fd)


def write_file(dir_fd: int, dest: Destination, data: bytes) -> Path:
    """Write the export file; return its absolute path."""
    try:
        replace_at(dir_fd, dest.name, data)
    except OSError as exc:
        raise _write_error(dest.path, exc) from exc
    return dest.path


def write_assets(
    dir_fd: int, dest: Destination, document: Document, files: StoredFiles = LOCAL_FILES
) -> None:
    """Copy a document's assets into ``dest.assets/`` beside the export (0700/0600),
    read through ``files`` (the store's blob store)."""
    if not document.assets:
        return
    folder = dest.directory / dest.assets
    try:
        assets_fd = open_dir(dest.assets, dir_fd=dir_fd, create=True)
    except OSError as exc:
        raise _write_error(folder, exc) from exc
    try:
        for asset in document.assets:
            name = Path(asset.filename).name  # the store keeps safe names; stay safe anyway
            try:
                source = files.open_asset(asset)
            except OSError as exc:
                raise ExportError(
                    f"cannot read asset {asset.file_path}: {exc.strerror or exc} — "
                    "check the workspace"
                ) from exc
            except StoreError as exc:
                raise ExportError(f"cannot read asset: {exc} — check the workspace") from exc
            try:
                copy_stream_at(source, assets_fd, name)
            except OSError as exc:
                raise _write_error(folder / name, exc) from exc
            finally:
                source.close()
    finally:
        os.close(assets_fd)


def _write_error(path: Path, exc: OSError) -> ExportError:
    if isinstance(exc, NotARegularFileError):
        return ExportPathError(
            f"{path} is {exc.kind}; MailAtlas replaces only regular files and never "
            "writes through a link — remove it or choose another --out"
        )
    return ExportError(
        f"cannot write {path}: {exc.strerror or exc} — choose another --out location"
    )


def refuse_special(path: Path) -> None:
    """Refuse ``path`` at once if it exists and is not a regular file (before rendering)."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return
    kind = describe_kind(mode)
    if kind != "a regular file":
        raise _write_error(path, NotARegularFileError(path, kind))
