"""Threads in the SQLite backend: each document's reference chain, rethreading, reads.

``thread_links`` holds every document's :func:`~mailatlas_core._threads.parent_chain`
(one row per ancestor id, oldest first). Adding a message loads only the threads it
touches (the documents with an id it names, or that name its id), rebuilds them with
:func:`~mailatlas_core._threads.build_threads` and rewrites the thread ids that changed:
that is how a late message merges two threads and how a thread's root moves up when an
older message arrives. Deleting a message rebuilds what is left of its thread.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence

from ._threads import Thread, ThreadMessage, build_threads, parent_chain, thread_changes

__all__ = ["ThreadsMixin", "backfill_threads"]

_MEMBER_COLUMNS = (
    "d.id, d.message_id, d.content_hash, coalesce(d.published_at, d.received_at, ''),"
    " d.subject, d.sender_email"
)


def _messages(rows: Iterable[sqlite3.Row | tuple[object, ...]]) -> list[ThreadMessage]:
    """ThreadMessages from rows of ``_MEMBER_COLUMNS`` + (position, linked id), by id."""
    out: list[ThreadMessage] = []
    current: list[object] | None = None
    chain: list[str] = []
    for row in rows:
        if current is None or current[0] != row[0]:
            if current is not None:
                out.append(_message(current, chain))
            current, chain = list(row[:6]), []
        if row[7] is not None:
            chain.append(str(row[7]))
    if current is not None:
        out.append(_message(current, chain))
    return out


def _message(values: Sequence[object], chain: list[str]) -> ThreadMessage:
    doc_id, message_id, raw_hash, date, subject, sender = values
    return ThreadMessage(
        document_id=str(doc_id),
        message_id=str(message_id) if message_id else None,
        chain=tuple(chain),
        fallback=str(raw_hash),
        date=str(date or ""),
        subject=str(subject or ""),
        sender=str(sender) if sender else None,
    )


def _insert_links(conn: sqlite3.Connection, document_id: str, chain: Sequence[str]) -> None:
    conn.executemany(
        "INSERT OR IGNORE INTO thread_links (document_id, position, message_id) VALUES (?, ?, ?)",
        [(document_id, i, ref) for i, ref in enumerate(chain)],
    )


def _apply(conn: sqlite3.Connection, threads: list[Thread], current: dict[str, str | None]) -> None:
    """Write the thread ids that differ from ``current`` (see :func:`thread_changes`)."""
    conn.executemany(
        "UPDATE documents SET thread_id = ? WHERE id = ?", thread_changes(threads, current)
    )


class ThreadsMixin:
    """Thread rows of :class:`~mailatlas_core._sqlite_backend.SQLiteBackend` (the policy,
    :func:`~mailatlas_core._threads.build_threads`, runs in the DocumentStore)."""

    _conn: sqlite3.Connection

    def thread_ids_naming(self, message_ids: Sequence[str]) -> set[str]:
        """Thread ids of the stored documents with one of these Message-IDs, or whose
        reference chain names one."""
        names = list(dict.fromkeys(message_ids))
        touched: set[str] = set()
        for start in range(0, len(names), 500):
            chunk = names[start : start + 500]
            marks = ",".join("?" * len(chunk))
            touched.update(
                r[0]
                for r in self._conn.execute(
                    f"SELECT thread_id FROM documents WHERE message_id IN ({marks})"
                    " AND thread_id IS NOT NULL UNION SELECT d.thread_id FROM thread_links l"
                    " JOIN documents d ON d.id = l.document_id"
                    f" WHERE l.message_id IN ({marks}) AND d.thread_id IS NOT NULL",
                    chunk + chunk,
                )
            )
        return touched

    def thread_members(
        self, thread_ids: Iterable[str]
    ) -> tuple[list[ThreadMessage], dict[str, str | None]]:
        """Every stored message of these threads, and each one's stored thread id."""
        ids = sorted(set(thread_ids))
        messages: list[ThreadMessage] = []
        current: dict[str, str | None] = {}
        try:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    f"SELECT {_MEMBER_COLUMNS}, l.position, l.message_id, d.thread_id"
                    " FROM documents d LEFT JOIN thread_links l ON l.document_id = d.id"
                    f" WHERE d.thread_id IN ({marks}) ORDER BY d.id, l.position",
                    chunk,
                ).fetchall()
                messages += _messages(rows)
                current.update((r[0], r[8]) for r in rows)
        except sqlite3.Error as exc:
            from ._sqlite_conn import db_error

            raise db_error(exc, "cannot read the store") from exc
        return messages, current

    def set_thread_ids(self, changes: Sequence[tuple[str, str]]) -> None:
        """Write (thread id, document id) pairs."""
        if changes:
            self._conn.executemany("UPDATE documents SET thread_id = ? WHERE id = ?", changes)

    def _insert_links(self, document_id: str, chain: Sequence[str]) -> None:
        _insert_links(self._conn, document_id, chain)


def backfill_threads(conn: sqlite3.Connection) -> None:
    """Fill ``thread_links`` from each document's stored headers and recompute every
    thread id with today's rule (migration 0008; runs inside its transaction)."""
    messages: list[ThreadMessage] = []
    current: dict[str, str | None] = {}
    rows = conn.execute(
        f"SELECT {_MEMBER_COLUMNS}, d.metadata, d.in_reply_to, d.thread_id FROM documents d"
    )
    for row in rows:
        try:
            meta = json.loads(row[6])
        except ValueError:
            meta = {}
        refs = meta.get("references") if isinstance(meta, dict) else None
        refs = [r for r in refs if isinstance(r, str)] if isinstance(refs, list) else []
        chain = parent_chain(row[1], refs, row[7])
        _insert_links(conn, row[0], chain)
        messages.append(_message(row[:6], list(chain)))
        current[row[0]] = row[8]
    _apply(conn, build_threads(messages), current)
