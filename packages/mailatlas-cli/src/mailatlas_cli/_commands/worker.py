"""``mailatlas worker``: sync (account, folder) items from the store's work queue."""

from __future__ import annotations

import gc
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import click
from mailatlas_clean import ParserConfig
from mailatlas_core import Store
from mailatlas_imap import (
    DEFAULT_LEASE_SECONDS,
    DEFAULT_MAX_ATTEMPTS,
    ItemResult,
    WorkerInterrupted,
    enqueue_accounts,
    load_accounts,
    run_worker,
)

from ._errors import INTERRUPTED_EXIT, UserError
from ._imap_options import network_options
from ._options import (
    AccountChoice,
    StorePaths,
    accounts_options,
    cleaning_options,
    quiet_option,
    store_options,
)
from ._output import emit_json, progress_enabled

__all__ = ["GO_LINE", "READY_LINE", "worker_command"]

# The start handshake of a worker started with --wait-for-start (see _local_workers).
READY_LINE = "ready\n"
GO_LINE = "go\n"


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops the worker as Ctrl-C does: the item in hand goes back to the queue."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@click.command("worker")
@click.option(
    "--enqueue",
    is_flag=True,
    help="First queue a sync pass of the chosen accounts' folders (done and failed "
    "items wait again; items in progress are left alone).",
)
@click.option(
    "--folder",
    "folders",
    multiple=True,
    help="With --enqueue: queue this folder of each account instead of its folders; "
    "repeat for several.",
)
@click.option(
    "--lease",
    "lease_seconds",
    type=click.FloatRange(min=1),
    default=DEFAULT_LEASE_SECONDS,
    show_default=True,
    metavar="SECONDS",
    help="How long an item stays this worker's without a heartbeat; a dead worker's "
    "items wait this long before another worker resumes them.",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_ATTEMPTS,
    show_default=True,
    help="Give an item up (failed) after this many workers took it and died.",
)
@click.option(
    "--wait-for-start",
    "gated",
    is_flag=True,
    hidden=True,  # for `sync imap --workers N`: see _local_workers
    help="Open the store, print 'ready' and claim nothing until 'go' is read on stdin.",
)
@network_options
@accounts_options
@store_options
@cleaning_options
@quiet_option
def worker_command(
    paths: StorePaths,
    parser_config: ParserConfig,
    quiet: bool,
    accounts: AccountChoice,
    enqueue: bool,
    folders: tuple[str, ...],
    lease_seconds: float,
    max_attempts: int,
    timeout: float,
    retries: int,
    gated: bool = False,
) -> None:
    """Take (account, folder) items from the store's work queue and sync them.

    Run any number of workers, on any hosts, against one store (--db
    postgresql://... for many hosts). Each item is leased to one worker, renewed by
    a heartbeat while it syncs, and released when done; a killed worker's items are
    resumed by another worker from the committed cursor once the lease expires. An
    account's max_connections (accounts file) bounds the items of that account in
    progress at once, across all workers.

    A worker serves the accounts of its accounts file (--config), or those chosen
    with --account, reading their secrets on its own host. It stops when no item of
    them is pending or leased, and prints one JSON summary of the items it synced.
    Exits 1 if an item failed; SIGTERM or Ctrl-C puts the item in hand back and
    exits 130.
    """
    if folders and not enqueue:
        raise UserError("--folder goes with --enqueue (it chooses what to queue)")
    served = load_accounts(accounts.config).select(
        accounts.names, all_accounts=accounts.all_accounts or not accounts.names
    )
    overrides: dict[str, Any] = {"max_retries": retries, "parser_config": parser_config}
    ctx = click.get_current_context()
    if ctx.get_parameter_source("timeout") == click.core.ParameterSource.COMMANDLINE:
        overrides["timeout"] = timeout  # else each account's own timeout, or the default
    show = progress_enabled(quiet)

    def on_item(item: ItemResult) -> None:
        if show:
            done = item.folder_result.ingested_count if item.folder_result else 0
            click.echo(f"{item.account} {item.folder}: {item.status}, {done} new", err=True)

    frozen = False

    def open_store() -> Store:
        nonlocal frozen
        if frozen:
            return paths.atlas(parser_config).store(create=True)
        # Opening imports the store's drivers (botocore and its models, psycopg): a few
        # hundred thousand objects that live as long as the worker. The collector need
        # not walk them while they load, nor again and again while the worker syncs:
        # for a PostgreSQL + S3 worker that was 0.5-1 s of CPU on a loaded machine.
        # Once, at the first open, before anything is in flight.
        gc.disable()
        try:
            store = paths.atlas(parser_config).store(create=True)
        finally:
            gc.freeze()
            gc.enable()
        frozen = True
        return store

    opened: list[Store] = []
    if gated and not _started(open_store, opened):
        return  # the command that started this worker gave up before it began
    with sigterm_as_interrupt():
        if enqueue:
            with paths.atlas(parser_config) as atlas:
                enqueue_accounts(atlas.store(create=True), served, folders or None)
        try:
            result = run_worker(
                lambda: opened.pop() if opened else open_store(),
                served,
                lease_seconds=lease_seconds,
                max_attempts=max_attempts,
                on_item=on_item,
                **overrides,
            )
        except WorkerInterrupted as stopped:
            emit_json(stopped.result.to_dict())
            click.echo("interrupted: the item in hand was put back in the queue", err=True)
            click.get_current_context().exit(INTERRUPTED_EXIT)
    emit_json(result.to_dict())
    failed = [i for i in result.items if i.status == "failed"]
    if failed:
        reasons = "; ".join(f"{i.account} {i.folder}: {i.error}" for i in failed)
        click.echo(f"Error: {len(failed)} item(s) failed: {reasons}", err=True)
        click.get_current_context().exit(1)


def _started(open_store: Callable[[], Store], opened: list[Store]) -> bool:
    """Open the store (drivers loaded, connection made, schema and bucket checked) while
    the starting command queues the work, say ``ready`` on stdout, and wait for ``go``.
    ``False`` when stdin says anything else (the command failed first): nothing claimed."""
    opened.append(open_store())
    sys.stdout.write(READY_LINE)
    sys.stdout.flush()
    if sys.stdin.readline() == GO_LINE:
        return True
    opened.pop().close()
    return False
