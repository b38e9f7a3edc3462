"""The ``MailAtlas`` facade: the Python API that the ``mailatlas`` command is a shell over."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from mailatlas_clean import ParserConfig
from mailatlas_core import (
    Asset,
    DeletedDocument,
    Document,
    DocumentRef,
    InvalidFilterError,
    ListFilter,
    Store,
    StoredFailure,
    StoreStats,
    Thread,
    open_store,
    parse_date_filter,
)

if TYPE_CHECKING:
    from mailatlas_clean import IngestProgress, IngestResult, PathsArg, SourceKind
    from mailatlas_imap import (
        Account,
        AccountsProgress,
        AccountsSyncResult,
        ImapSyncConfig,
        ProgressCallback,
        SyncResult,
    )

    from ._export import ExportFormat

# Ingest, sync and export import their machinery (parser, imapclient, sanitiser) when
# first called, so that reading the store (`mailatlas list`, `show`) starts fast.

__all__ = ["DateBound", "DateField", "MailAtlas", "unstarted_sync"]

DateBound: TypeAlias = "str | date"  # a datetime is a date
DateField = Literal["sent", "received"]


class MailAtlas:
    """One MailAtlas store (a SQLite database plus a workspace of files), or any
    :class:`~mailatlas_core.Store` handed in.

    Nothing is opened or created until a method needs it, and each call decides for
    itself: ingest and sync create the store if it is missing, while reads
    (:meth:`get_document`, :meth:`list_documents`, :meth:`export_document`) raise
    :class:`~mailatlas_core.StoreNotFoundError` for a store that does not exist and
    never create one. A read before an ingest is fine: the ingest reopens the store
    for writing.

    Example::

        atlas = MailAtlas(".mailatlas/store.db", ".mailatlas/workspace")
        refs = atlas.ingest_eml(["a.eml", "b.eml"])
        path = atlas.export_document(refs[0].id, format="markdown", out="bundle/")

        atlas = MailAtlas(store=my_store)  # a store you opened (any backend)
    """

    def __init__(
        self,
        db_path: str | Path | None = None,
        workspace_path: str | Path | None = None,
        parser_config: ParserConfig | None = None,
        *,
        store: Store | None = None,
    ) -> None:
        """Args:
        db_path: the SQLite database file, or ``sqlite:///path`` or
            ``postgresql://USER@HOST:PORT/DB`` (see :func:`mailatlas_core.open_store`).
        workspace_path: the directory holding raw messages, HTML, assets and exports,
            or ``s3://BUCKET/PREFIX``. With ``store``, optional: where
            :meth:`export_document` writes when given no ``out``.
        parser_config: cleaning flags for ingest and sync (defaults: ``ParserConfig()``).
        store: an open store to use instead of ``db_path``; the facade never closes it.

        Raises:
            TypeError: neither ``db_path`` and ``workspace_path`` nor ``store``, or both
                ``db_path`` and ``store``.
        """
        if store is not None and db_path is not None:
            raise TypeError("MailAtlas() takes db_path and workspace_path, or store=, not both")
        if store is None and (db_path is None or workspace_path is None):
            raise TypeError("MailAtlas() needs db_path and workspace_path (or store=)")
        self.db_path = _location(db_path) if db_path is not None else None
        self.workspace_path = _location(workspace_path) if workspace_path is not None else None
        self.parser_config = parser_config if parser_config is not None else ParserConfig()
        self._given = store
        self._store: Store | None = None
        self._writable = False  # whether the open store was opened to write

    # -- lifecycle -------------------------------------------------------------------

    def store(self, *, create: bool = True) -> Store:
        """The open store, for writing; with ``create=False`` for reading only: a
        missing store raises instead of being made. Decided per call: a store opened
        for reading is reopened for writing when a write needs it."""
        if self._given is not None:
            return self._given
        if self._store is not None and (self._writable or not create):
            return self._store
        self.close()
        assert self.db_path is not None and self.workspace_path is not None
        self._store = open_store(self.db_path, self.workspace_path, create=create)
        self._writable = create
        return self._store

    def close(self) -> None:
        """Close the store connection (the facade can be used again afterwards).

        A store handed in is left open: it belongs to the caller.
        """
        if self._store is not None:
            self._store.close()
            self._store = None
            self._writable = False

    def __enter__(self) -> MailAtlas:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- ingest ----------------------------------------------------------------------

    def ingest_eml(
        self, paths: PathsArg, *, progress: IngestProgress | None = None
    ) -> IngestResult:
        """Ingest ``.eml`` files; a directory is walked for ``*.eml``.

        ``paths`` is one path (``str`` or path-like) or an iterable of paths. A missing
        or unreadable file is recorded as a failure and the run goes on. This is
        :func:`mailatlas_clean.ingest_paths` with the facade's store and flags.
        """
        return self._ingest("eml", paths, "ingest_eml", progress)

    def ingest_mbox(
        self, paths: PathsArg, *, progress: IngestProgress | None = None
    ) -> IngestResult:
        """Ingest mbox archives (one path or an iterable of paths), streaming."""
        return self._ingest("mbox", paths, "ingest_mbox", progress)

    def ingest_maildir(
        self, dirs: PathsArg, *, progress: IngestProgress | None = None
    ) -> IngestResult:
        """Ingest Maildir folders (``cur/`` and ``new/``); one path or an iterable of paths."""
        return self._ingest("maildir", dirs, "ingest_maildir", progress)

    def _ingest(
        self, kind: SourceKind, paths: PathsArg, caller: str, progress: IngestProgress | None
    ) -> IngestResult:
        from mailatlas_clean import as_paths, ingest_paths  # with the readers, on first use

        checked = as_paths(paths, caller)
        store = self.store(create=True)
        return ingest_paths(store, kind, checked, self.parser_config, progress=progress)

    # -- IMAP ------------------------------------------------------------------------

    def sync_imap(
        self, config: ImapSyncConfig, *, progress: ProgressCallback | None = None
    ) -> SyncResult:
        """Fetch the configured folders incrementally; see :func:`mailatlas_imap.sync_imap`.

        When ``config.parser_config`` is unset, this facade's cleaning flags apply.

        Returns:
            The run's summary, whatever the server does: a host that cannot be reached
            or a login that is refused gives ``status == "error"`` with the reason in
            every folder's ``error``, like a folder that fails.

        Raises:
            StoreError: the store cannot be opened or written. (An unusable config is
                refused earlier, by ``ImapSyncConfig`` itself: ``ImapConfigError``.)
        """
        from mailatlas_imap import ImapAuthError, ImapConnectionError

        try:
            return self._sync_imap(config, progress)
        except (ImapAuthError, ImapConnectionError) as exc:
            # The library hands the true summary (run id, time, retries) with the error.
            return exc.result or unstarted_sync(config, str(exc))

    def _sync_imap(self, config: ImapSyncConfig, progress: ProgressCallback | None) -> SyncResult:
        """:meth:`sync_imap`, raising when no connection or login could be made (the CLI
        reports those with a hint of its own)."""
        from mailatlas_imap import sync_imap

        if config.parser_config is None:
            config = dataclasses.replace(config, parser_config=self.parser_config)
        return sync_imap(self.store(create=True), config, progress=progress)

    def sync_accounts(
        self,
        accounts: Iterable[Account],
        *,
        progress: AccountsProgress | None = None,
        **overrides: Any,
    ) -> AccountsSyncResult:
        """Sync several accounts of an accounts file, one after the other.

        Each account's failure (its secret unavailable, its login refused, its server
        unreachable) is recorded in its entry and the others go ahead; see
        :func:`mailatlas_imap.sync_accounts`. ``overrides`` are :class:`ImapSyncConfig`
        fields for every account (``folders``, ``timeout``, ``max_retries``); this
        facade's cleaning flags apply unless ``parser_config`` is among them.

        Example::

            from mailatlas_imap import load_accounts
            accounts = load_accounts("mailatlas.toml").select(all_accounts=True)
            summary = atlas.sync_accounts(accounts)
        """
        from mailatlas_imap import sync_accounts

        overrides.setdefault("parser_config", self.parser_config)
        return sync_accounts(self.store(create=True), accounts, progress=progress, **overrides)

    # -- read ------------------------------------------------------------------------

    def get_document(self, document_id: str) -> Document:
        """One stored document with its assets; ``DocumentNotFoundError`` if absent."""
        return self.store(create=False).get_document(document_id)

    def get_thread(self, thread_id: str) -> Thread:
        """The conversation with this thread id (or the one this document id is in).

        ``Thread.to_dict()`` is the tree ``mailatlas thread`` prints; the rule that
        groups messages and names threads is in :mod:`mailatlas_core._threads`.
        ``ThreadNotFoundError`` (a ``DocumentNotFoundError``) if there is neither.
        """
        return self.store(create=False).get_thread(thread_id)

    def get_asset(self, asset_id: str) -> Asset:
        """One stored attachment with the text read from it (``asset.text``: its status,
        why it has none, and the text); ``DocumentNotFoundError`` if absent."""
        return self.store(create=False).get_asset(asset_id)

    def list_documents(
        self,
        *,
        query: str | None = None,
        limit: int = 50,
        offset: int = 0,
        since: DateBound | None = None,
        until: DateBound | None = None,
        date_field: DateField = "sent",
        sender: str | None = None,
        to: str | None = None,
        cc: str | None = None,
        message_id: str | None = None,
        source_kind: str | None = None,
        folder: str | None = None,
        thread_id: str | None = None,
        flagged: bool = False,
        unread: bool = False,
        keyword: str | None = None,
    ) -> list[DocumentRef]:
        """Document refs, newest first, filtered and paged.

        Args:
            query: full-text search over subject, sender, To/Cc/Bcc and body, and over
                each attachment's text (each hit's ``matched_in`` says which):
                words must all match; ``"exact phrase"``, ``pars*`` (prefix),
                ``invoice OR budget``, ``invoice NOT draft``, parentheses.
            limit, offset: the page.
            since, until: ``since <= date < until``; a ``date``/``datetime`` or text
                (``2024-01-31``, an ISO-8601 timestamp, ``today``, ``yesterday``,
                ``7d``, ``2w``, ``3mo``, ``1y``, ``"3 days ago"``, ``"last month"``).
            date_field: ``sent`` (the Date header, as ``published_at``; the arrival
                time for mail without one) or ``received`` (arrival, ``received_at``).
            sender: an address (exact), a domain (``gnome.org``) or part of the name.
            to, cc: an address among the message's To or Cc recipients.
            message_id: a Message-ID, with or without angle brackets.
            source_kind, folder, thread_id: where the document came from.
            flagged, unread, keyword: the current IMAP flags of a live location (in
                ``folder``, if given): ``\\Flagged``, without ``\\Seen``, with the
                keyword (case-insensitive), all on one location.

        Raises:
            InvalidFilterError: a date or search that cannot be read (a ValueError).
            StoreNotFoundError: there is no store.
        """
        flt = self._filter(locals())
        return self.store(create=False).list_documents(flt)

    def count_documents(
        self,
        *,
        query: str | None = None,
        since: DateBound | None = None,
        until: DateBound | None = None,
        date_field: DateField = "sent",
        sender: str | None = None,
        to: str | None = None,
        cc: str | None = None,
        message_id: str | None = None,
        source_kind: str | None = None,
        folder: str | None = None,
        thread_id: str | None = None,
        flagged: bool = False,
        unread: bool = False,
        keyword: str | None = None,
    ) -> int:
        """How many documents :meth:`list_documents` would page through (same filters)."""
        return self.store(create=False).count_documents(self._filter(locals()))

    @staticmethod
    def _filter(arguments: dict[str, Any]) -> ListFilter:
        """A validated ``ListFilter`` from the keyword arguments of a read method."""
        values = {k: v for k, v in arguments.items() if k != "self"}
        for bound in ("since", "until"):
            if values[bound] is not None:
                values[bound] = parse_date_filter(values[bound], name=bound)
        if values["date_field"] not in ("sent", "received"):
            raise InvalidFilterError(
                f"date_field must be 'sent' or 'received', not {values['date_field']!r}"
            )
        return ListFilter(**values)

    def list_failures(
        self, *, run_id: int | None = None, limit: int = 50, offset: int = 0
    ) -> list[StoredFailure]:
        """Messages that could not be stored, and why, newest first (one run's, if given)."""
        return self.store(create=False).list_failures(run_id=run_id, limit=limit, offset=offset)

    def count_failures(self, *, run_id: int | None = None) -> int:
        """How many failures are recorded (in one run, if given)."""
        return self.store(create=False).count_failures(run_id=run_id)

    def stats(self) -> StoreStats:
        """Counts, bytes on disk (database and workspace), sources and folders."""
        return self.store(create=False).stats()

    # -- delete ----------------------------------------------------------------------

    def read_attachment_texts(self, *, batch: int = 200) -> dict[str, Any]:
        """Read the text of every stored asset that has none (stored before MailAtlas
        read attachment text), with this facade's ``parser_config.attachments`` limits.

        Files are read through the store's blobs (workspace files or S3), each
        size-checked before it is read and bounded by the per-file time budget, in
        the extractor process (never in this one); a bad file, or one whose reader
        crashes that process, gets a ``failed`` reading, the rest go on. Returns
        ``{"read_count", "by_status": {status: count}}``.
        """
        from mailatlas_clean import extract_blob

        store = self.store(create=False)
        limits = self.parser_config.attachments
        by_status: dict[str, int] = {}
        while assets := store.assets_without_text(batch):
            for asset in assets:
                text = extract_blob(store.blobs, asset.key, asset.mime_type, asset.filename, limits)
                store.save_asset_text(asset.id, text)
                by_status[text.status] = by_status.get(text.status, 0) + 1
        return {"read_count": sum(by_status.values()), "by_status": by_status}

    def delete_document(self, document_id: str) -> DeletedDocument:
        """Delete one document with its files and search-index entries.

        Only files the store wrote for it, still regular files inside the workspace,
        are removed; anything else is left and listed in ``files_left``. Exports are
        not touched. ``DocumentNotFoundError`` for an unknown id.
        """
        return self.store(create=False).delete_document(document_id)

    # -- export ----------------------------------------------------------------------

    def export_document(
        self,
        document_id: str,
        format: ExportFormat = "json",
        out: str | os.PathLike[str] | None = None,
        *,
        parents: bool = False,
    ) -> Path:
        """Write an export of one document and return the path of the file written.

        Args:
            document_id: the document's id.
            format: ``json``, ``markdown``, ``html`` or ``pdf``.
            out: a directory when it ends in ``/`` or is an existing directory:
                ``markdown``/``html`` write ``document.md``/``document.html`` plus
                ``assets/`` into it (links relative), ``json``/``pdf`` write
                ``<id>.json``/``<id>.pdf``. Otherwise the file to write
                (``report.html``); ``markdown``/``html`` put the assets beside it in
                ``report_files/``. Pass a ``str`` to keep a trailing ``/`` (a
                ``Path`` drops it). Only a regular file is ever replaced. Without
                ``out`` the export goes to ``<workspace>/exports/<id>.<ext>`` (asset
                links absolute).
            parents: create missing parent directories of ``out`` (else an error).

        Raises:
            ValueError: no ``out``, and this facade was given a store but no
                ``workspace_path`` to export into (also for :meth:`export_thread`).
        """
        from ._export import export_document
        from ._export._common import StoredFiles

        workspace = self._export_workspace(out, "export_document")
        document = self.get_document(document_id)
        files = StoredFiles(self.store(create=False).blobs)
        return export_document(document, format, workspace, out, parents=parents, files=files)

    def _export_workspace(self, out: object, method: str) -> Path | str:
        """Where an export without ``out`` goes: the workspace (needed only then)."""
        if self.workspace_path is not None:
            return self.workspace_path
        if out is None:
            raise ValueError(f"{method}() needs out= (this MailAtlas has no workspace_path)")
        return Path()  # not used: out is given

    def render_document(self, document_id: str, format: ExportFormat) -> str:
        """An export as text, with absolute asset links (``json``, ``markdown``, ``html``)."""
        from ._export import render_document
        from ._export._common import StoredFiles

        document = self.get_document(document_id)
        return render_document(document, format, StoredFiles(self.store(create=False).blobs))

    def export_thread(
        self,
        thread_id: str,
        out: str | os.PathLike[str] | None = None,
        *,
        parents: bool = False,
    ) -> Path:
        """Write a whole conversation as one Markdown document; return the file's path.

        ``thread_id`` may also be the id of a document in the thread. ``out`` follows
        :meth:`export_document`'s rules (a directory gets ``<thread id>.md``); without
        it the file goes to ``<workspace>/exports/<thread id>.md``.
        """
        from ._export import export_thread

        workspace = self._export_workspace(out, "export_thread")
        thread = self.get_thread(thread_id)
        return export_thread(thread, self.get_document, workspace, out, parents=parents)

    def render_thread(self, thread_id: str) -> str:
        """A whole conversation as Markdown text (messages in order, asset links absolute)."""
        from ._export import render_thread

        return render_thread(self.get_thread(thread_id), self.get_document)


def unstarted_sync(config: ImapSyncConfig, error: str) -> SyncResult:
    """The summary of a sync that could not connect or log in: every folder in error."""
    from mailatlas_imap import FolderResult, SyncResult

    folders = [FolderResult(folder, status="error", error=error) for folder in config.folders]
    return SyncResult(host=config.host, port=config.port, auth=config.auth, folders=folders)


def _location(value: str | os.PathLike[str]) -> Path | str:
    """A path as a :class:`Path`; a URL (``postgresql://``, ``s3://``...) as it is."""
    text = os.fspath(value)
    return text if "://" in text else Path(text)
