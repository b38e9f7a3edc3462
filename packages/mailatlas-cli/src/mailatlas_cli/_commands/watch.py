"""``mailatlas watch imap``: sync, then follow the mailbox and print one event per change."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import click
from mailatlas_clean import ParserConfig
from mailatlas_imap import (
    MAX_IDLE_SECONDS,
    ImapSyncConfig,
    WatchEvent,
    WatchInterrupted,
    WatchOptions,
    cli_spelling,
    watch_imap,
)

from ._errors import INTERRUPTED_EXIT, UserError
from ._imap_options import (
    connection_options,
    folder_choice,
    folder_options,
    imap_config,
    prune_option,
)
from ._options import (
    AccountChoice,
    StorePaths,
    accounts_options,
    cleaning_options,
    quiet_option,
    store_options,
)
from ._output import ProgressBar, progress_enabled

__all__ = ["watch"]


@click.group()
def watch() -> None:
    """Follow a live mailbox: sync, then store each change as it happens."""


@watch.command("imap")
@connection_options
@folder_options
@prune_option
@click.option(
    "--mode",
    type=click.Choice(["auto", "idle", "notify", "poll"]),
    default="auto",
    show_default=True,
    help="How to wait for changes: auto is IDLE (one connection per folder, up to "
    "--max-connections), else NOTIFY (one connection for every folder) where the "
    "server offers it, else polling every --interval.",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=60.0,
    show_default=True,
    help="Seconds between two syncs of every folder when polling.",
)
@click.option(
    "--idle-timeout",
    type=click.FloatRange(min=1, max=MAX_IDLE_SECONDS),
    default=MAX_IDLE_SECONDS,
    show_default=True,
    help="Seconds before an IDLE is renewed (RFC 2177: at most 29 minutes).",
)
@click.option(
    "--max-connections",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="IDLE connections at most (one per folder); more folders use NOTIFY or polling.",
)
@accounts_options
@store_options
@cleaning_options
@quiet_option
def watch_imap_command(
    paths: StorePaths,
    parser_config: ParserConfig,
    quiet: bool,
    accounts: AccountChoice,
    mode: str,
    interval: float,
    idle_timeout: float,
    max_connections: int,
    **options: Any,
) -> None:
    """Sync folders of an IMAP mailbox, then wait for changes and apply each one.

    Prints one JSON object per line (NDJSON) as things happen: "synced" (the first
    sync's summary), "watching" (waiting now), one event per document (folder, id,
    subject): "new" (stored), "changed" (its flags or keywords, given as they are
    now), "moved" (from another watched folder, named in "from") or "removed" (gone
    from the folder; "deleted_on_server" when no location is left, and "pruned" when
    --prune deleted it), and "stopped" with the counts at the end. A dropped
    connection is reopened with backoff for as long as it takes. Ctrl-C or SIGTERM
    stops it with everything applied so far committed (exit 130); refused
    credentials end it (exit 1). Mail is never marked as read.
    """
    watch_options = WatchOptions(
        mode=mode,  # type: ignore[arg-type]
        interval=interval,
        idle_seconds=idle_timeout,
        max_connections=max_connections,
    )
    with cli_spelling():  # library messages name --ca-file, --tls none...
        config = _config(accounts, parser_config, options)
        _watch(paths, parser_config, quiet, config, watch_options)


def _config(choice: AccountChoice, parser_config: ParserConfig, options: Any) -> ImapSyncConfig:
    if not choice.active:
        return imap_config(parser_config=parser_config, **options)
    from mailatlas_imap import load_accounts

    from ._accounts_sync import _refuse_connection_options

    _refuse_connection_options(click.get_current_context())
    chosen = load_accounts(choice.config).select(choice.names, all_accounts=choice.all_accounts)
    if len(chosen) != 1:
        raise UserError(
            f"watch imap follows one account, and {len(chosen)} were chosen — pass one"
            " --account NAME (run one watch per account)"
        )
    overrides: dict[str, Any] = {
        "max_retries": options["retries"],
        "parser_config": parser_config,
        "prune": options["prune"],
    }
    overrides.update(
        folder_choice(
            options["folders"],
            options["all_folders"],
            options["include_junk"],
            options["include_trash"],
        )
    )
    return chosen[0].sync_config(**overrides)


class _Stop(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is: stop after what is committed."""


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only (e.g. under a test runner's thread)
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise _Stop

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _emit(event: WatchEvent) -> None:
    click.echo(json.dumps(event.to_dict(), ensure_ascii=False))


def _watch(
    paths: StorePaths,
    parser_config: ParserConfig,
    quiet: bool,
    config: ImapSyncConfig,
    options: WatchOptions,
) -> None:
    with (
        paths.atlas(parser_config) as atlas,
        ProgressBar(progress_enabled(quiet), "sync imap") as bar,
        _sigterm_as_interrupt(),
    ):
        done: dict[str, int] = {}
        totals: dict[str, int] = {}

        def progress(folder: str, folder_done: int, folder_total: int) -> None:
            done[folder], totals[folder] = folder_done, folder_total
            bar.set_total(sum(totals.values()))
            bar.set_description(f"sync {folder}")
            bar.advance(sum(done.values()), {})

        try:
            watch_imap(atlas.store(create=True), config, _emit, options=options, progress=progress)
        except WatchInterrupted as stopped:
            result = stopped.result
            click.echo(
                f"interrupted: {result.new_count:,} stored while watching; rerun to continue",
                err=True,
            )
            click.get_current_context().exit(INTERRUPTED_EXIT)
