"""``sync_imap``: sync every configured folder over one connection, with bounded retries."""

from __future__ import annotations

import contextlib
import logging
import time
from typing import TYPE_CHECKING

from mailatlas_core import Store

from ._config import ImapSyncConfig
from ._errors import FolderError, ImapAuthError, ImapConnectionError, ImapError
from ._folder import ProgressCallback, sync_folder
from ._folders import folders_to_sync
from ._parsing import Parser
from ._result import FolderResult, SyncInterrupted, SyncResult
from ._session import Session

if TYPE_CHECKING:
    from ._changes import ChangeCallback

__all__ = ["sync_imap"]

log = logging.getLogger("mailatlas_imap")


def sync_imap(
    store: Store,
    config: ImapSyncConfig,
    *,
    progress: ProgressCallback | None = None,
    on_changes: ChangeCallback | None = None,
) -> SyncResult:
    """Fetch what is new in each folder of ``config`` into ``store``.

    One connection serves every folder. Per folder: EXAMINE (read-only), skip it when
    UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ match the cursor (QRESYNC servers), else apply
    the changes to stored messages (flags, expunges: see :mod:`._changes`), then fetch
    the messages above the cursor in batches of ``config.batch_size``, each committed
    with the advanced cursor. A dropped or stalled connection is retried
    ``config.max_retries`` times per folder, resuming from the last committed batch.
    Moves between the folders of the run are told from removals at the end; with
    ``config.prune`` the documents left with no live location are then deleted.

    Args:
        store: where documents, failures and cursors go.
        config: the mailbox and folders to sync.
        progress: called as ``progress(folder, done, total)`` after each batch.
        on_changes: called with a :class:`ChangeBatch` after each committed batch of
            changes to stored messages (flags changed, locations removed).

    Returns:
        The run summary; a failing folder is reported in its entry, not raised.

    Raises:
        SyncInterrupted: Ctrl-C (a ``KeyboardInterrupt``); its ``result`` counts what
            was committed.
        ImapAuthError: the server refused the credentials.
        ImapConnectionError: no connection could be made at all (after retries).
    """
    started = time.monotonic()
    session = Session(config)
    result = SyncResult(host=config.host, port=config.port, auth=config.auth)
    run_id = store.start_run(
        "imap",
        {
            "host": config.host,
            "port": config.port,
            "username": config.username,
            "auth": config.auth,
            "folders": list(config.folders),
        },
    )
    result.run_id = run_id

    def finish(status: str) -> None:
        result.settle_moves()
        result.duration_s = time.monotonic() - started
        for entry in result.folders:  # the server's words may echo a secret in any form
            entry.error = session.scrub(entry.error) if entry.error else entry.error
        store.finish_run(run_id, status, session.scrub.data(result.to_dict()))

    try:
        _open_with_retries(session, config, result)
        folders = folders_to_sync(session, config)  # "*": every selectable folder
    except ImapError as exc:
        # Nothing could start: every folder in error, the run recorded as such, and the
        # true summary (run id, time spent, retries) travels with the error.
        for folder in config.folders:
            entry = FolderResult(folder)
            entry.fail(str(exc))
            result.folders.append(entry)
        with contextlib.suppress(Exception):
            finish("error")
        session.close()  # open when LIST was refused
        exc.result = result
        raise
    except KeyboardInterrupt as exc:  # Ctrl-C while connecting: a run that did nothing
        result.interrupted = True
        with contextlib.suppress(Exception):
            finish("interrupted")
        session.close()
        raise SyncInterrupted(result) from exc
    lost: str | None = None
    parser = Parser(config.parser_config, config.parse_workers)
    try:
        for folder in folders:
            entry = FolderResult(folder)
            result.folders.append(entry)
            if lost is not None:
                entry.fail(f"not synced: {lost}")
                continue
            lost = _sync_with_retries(
                session, store, config, entry, run_id, parser, progress, on_changes
            )
            entry.finish()
        if config.prune:
            result.pruned = _prune(store, config, result)
    except BaseException as exc:
        # Ctrl-C, a full disk...: committed batches stay; record how far the run got
        # without letting the bookkeeping hide the real error.
        result.interrupted = True
        if result.folders and result.folders[-1].status == "ok":
            result.folders[-1].status = "interrupted"
        with contextlib.suppress(Exception):
            finish("interrupted")
        if isinstance(exc, KeyboardInterrupt) and not isinstance(exc, SyncInterrupted):
            result.duration_s = time.monotonic() - started
            raise SyncInterrupted(result) from exc
        raise
    else:
        finish(result.status)
    finally:
        parser.close()
        session.close()
        result.duration_s = time.monotonic() - started
    log.info(
        "sync of %s done: %s, %d new, %d duplicates, %d failed",
        config.host,
        result.status,
        result.ingested_count,
        result.duplicate_count,
        result.failed_count,
    )
    return result


def _open_with_retries(session: Session, config: ImapSyncConfig, result: SyncResult) -> None:
    """Connect and log in, counting reconnects in ``result.connect_retries``."""
    while True:
        try:
            session.open()
            return
        except ImapConnectionError as exc:
            if not exc.retryable or result.connect_retries >= config.max_retries:
                raise
            result.connect_retries += 1
            _backoff(config, result.connect_retries, exc)


def _sync_with_retries(
    session: Session,
    store: Store,
    config: ImapSyncConfig,
    entry: FolderResult,
    run_id: int,
    parser: Parser,
    progress: ProgressCallback | None,
    on_changes: ChangeCallback | None,
) -> str | None:
    """Sync one folder; returns why the connection is gone for good, else ``None``."""
    attempt = 0
    while True:
        try:
            if not session.connected:
                session.open()
            sync_folder(
                session,
                store,
                entry.folder,
                entry,
                parser=parser,
                run_id=run_id,
                progress=progress,
                on_changes=on_changes,
            )
            return None
        except FolderError as exc:
            entry.fail(str(exc))
            return None
        except ImapAuthError as exc:  # on reconnect: credentials stopped working
            entry.fail(str(exc))
            return str(exc)
        except ImapConnectionError as exc:
            session.close()
            attempt += 1
            if not exc.retryable or attempt > config.max_retries:
                entry.fail(f"{exc} (gave up after {attempt - 1} retries)")
                return str(exc)
            entry.retries += 1
            _backoff(config, attempt, exc)


def _prune(store: Store, config: ImapSyncConfig, result: SyncResult) -> list[str]:
    """Delete this mailbox's documents with no live location left, if the run was whole.

    A folder that failed may hold the messages that moved there: nothing is deleted then.
    """
    failed = [f.folder for f in result.folders if f.status == "error"]
    if failed:
        log.warning("not pruning: folder(s) %s did not sync", ", ".join(failed))
        return []
    gone = store.deleted_on_server(config.host, config.port, config.username)
    for document_id in gone:
        store.delete_document(document_id)
    if gone:
        log.info("pruned %d document(s) deleted on the server", len(gone))
    return gone


def _backoff(config: ImapSyncConfig, attempt: int, exc: Exception) -> None:
    delay = config.retry_delay * 2 ** (attempt - 1)
    log.warning(
        "%s; reconnecting in %.1f s (attempt %d of %d)", exc, delay, attempt, config.max_retries
    )
    time.sleep(delay)
