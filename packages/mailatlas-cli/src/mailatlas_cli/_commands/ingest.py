"""``mailatlas ingest eml|mbox|maildir``: store mail files as documents."""

from __future__ import annotations

from pathlib import Path

import click
from mailatlas_clean import IngestInterrupted, IngestResult, ParserConfig

from ._errors import UserError
from ._ingest_view import Meter, RefsMode, RefsPrinter, finish, measure, refs_options
from ._options import StorePaths, cleaning_options, quiet_option, store_options
from ._output import ProgressBar, progress_enabled

__all__ = ["ingest"]


@click.group()
def ingest() -> None:
    """Store mail files (.eml, mbox, Maildir) as documents.

    Prints one JSON summary: status, ingested_count, duplicate_count, failed_count,
    document_refs (the new documents), failures, and skipped_count/skipped: symbolic
    links found inside a directory or Maildir are never followed, only reported (a
    path you name yourself is followed). On a terminal document_refs is
    left out unless --refs is given; --jsonl prints one ref per line instead. Exits 1
    when any message failed. Ctrl-C stops after the last committed batch: the summary
    says status "interrupted", and the exit code is 130; rerun to resume.
    """


def _require_exists(path: Path) -> None:
    if not path.exists():
        raise UserError(f"no such file or directory: {path} — check the path")


def _require_files(paths: tuple[Path, ...], command: str, hint: str) -> None:
    for path in paths:
        _require_exists(path)
        if path.is_dir():
            raise UserError(f"{path} is a directory, but `{command}` expects a file — {hint}")


def _require_dirs(paths: tuple[Path, ...], command: str, hint: str) -> None:
    for path in paths:
        _require_exists(path)
        if not path.is_dir():
            raise UserError(f"{path} is a file, but `{command}` expects a directory — {hint}")


def _run(
    kind: str,
    paths: StorePaths,
    parser_config: ParserConfig,
    sources: tuple[Path, ...],
    quiet: bool,
    refs_mode: RefsMode,
) -> None:
    shown = progress_enabled(quiet)
    meter = measure(kind, sources) if shown else Meter()
    printer = RefsPrinter(refs_mode)
    with (
        paths.atlas(parser_config) as atlas,
        ProgressBar(shown, f"ingest {kind}", meter.total, unit=meter.unit) as bar,
    ):

        def progress(result: IngestResult) -> None:
            bar.advance(
                meter.position(result),
                {
                    "new": result.ingested_count,
                    "dup": result.duplicate_count,
                    "failed": result.failed_count,
                },
            )
            printer.flush(result)

        runner = {
            "eml": atlas.ingest_eml,
            "mbox": atlas.ingest_mbox,
            "maildir": atlas.ingest_maildir,
        }[kind]
        try:
            result = runner(sources, progress=progress)
        except IngestInterrupted as stopped:
            result = stopped.result
        else:
            if meter.total is not None:
                bar.advance(meter.total)
    finish(kind, result, refs_mode, printer)


_PATHS = click.Path(path_type=Path)


@ingest.command("eml")
@click.argument("eml_paths", metavar="PATH...", nargs=-1, required=True, type=_PATHS)
@store_options
@cleaning_options
@quiet_option
@refs_options
def ingest_eml(
    eml_paths: tuple[Path, ...],
    paths: StorePaths,
    parser_config: ParserConfig,
    quiet: bool,
    refs_mode: RefsMode,
) -> None:
    """Ingest .eml files; each directory given is walked for *.eml."""
    for path in eml_paths:
        _require_exists(path)
    _run("eml", paths, parser_config, eml_paths, quiet, refs_mode)


@ingest.command("mbox")
@click.argument("mbox_files", metavar="PATH...", nargs=-1, required=True, type=_PATHS)
@store_options
@cleaning_options
@quiet_option
@refs_options
def ingest_mbox(
    mbox_files: tuple[Path, ...],
    paths: StorePaths,
    parser_config: ParserConfig,
    quiet: bool,
    refs_mode: RefsMode,
) -> None:
    """Ingest mbox archives, streaming (constant memory)."""
    _require_files(mbox_files, "ingest mbox", "use `mailatlas ingest maildir` for a Maildir folder")
    _run("mbox", paths, parser_config, mbox_files, quiet, refs_mode)


@ingest.command("maildir")
@click.argument("dirs", metavar="DIR...", nargs=-1, required=True, type=_PATHS)
@store_options
@cleaning_options
@quiet_option
@refs_options
def ingest_maildir(
    dirs: tuple[Path, ...],
    paths: StorePaths,
    parser_config: ParserConfig,
    quiet: bool,
    refs_mode: RefsMode,
) -> None:
    """Ingest Maildir folders (messages in cur/ and new/)."""
    _require_dirs(dirs, "ingest maildir", "use `mailatlas ingest mbox` for an mbox file")
    for path in dirs:
        if not any((path / sub).is_dir() for sub in ("cur", "new")):
            raise UserError(
                f"{path} is not a Maildir (it has no cur/ or new/ folder) — "
                "pass the folder that holds cur/ and new/"
            )
    _run("maildir", paths, parser_config, dirs, quiet, refs_mode)
