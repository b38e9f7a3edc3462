"""One PostgreSQL connection whose transaction control rides along with the next statement.

Each round trip to the database server costs its latency, and a store adds one message
in many small steps: a savepoint (so that a refused message undoes only its own rows),
the per-id advisory lock, the lookups, the insert, the savepoint's release. None of
those control statements returns anything the policy reads, so :class:`PgSession`
*defers* them: they are sent, in order, in one pipeline (psycopg's pipeline mode) with
the next statement that does return something, one round trip for all of them.

What is deferred, and only that: ``SAVEPOINT``, ``RELEASE`` and
``pg_advisory_xact_lock`` (:meth:`PgSession.defer`). Their effect ends with the
transaction, so whatever is still deferred when the outermost transaction ends is moot
and dropped. A nested block that sent nothing needs no ``ROLLBACK TO`` when it fails:
its deferred statements are dropped. Every statement goes through :meth:`execute`,
:meth:`cursor` or :meth:`run`, which send what is deferred first, so the server always
sees the statements in the order they were issued.

A connection left busy by an interrupt (a Ctrl-C raised inside psycopg while a command
or pipeline was in flight) can take no statement, not even the ``ROLLBACK`` that ends
its transaction: it is closed (the server then drops the transaction, nothing of it
committed) and another opened with ``reopen``, both when the outermost transaction
ends in an exception and before one begins (:meth:`PgSession._drop_if_busy`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

__all__ = ["PgSession"]

Statement = tuple[str, Sequence[Any]]


class PgSession:
    """A psycopg connection (autocommit; transactions explicit) with deferred control."""

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        reopen: Callable[[], psycopg.Connection[Any]] | None = None,
    ) -> None:
        """``reopen`` opens another connection to the same database, for when this one
        has to be dropped (see :meth:`_drop_if_busy`)."""
        self.conn = conn
        self._reopen = reopen
        self._pending: list[Statement] = []
        self._depth = 0

    def defer(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Send ``sql`` with the next statement (a savepoint, its release, a lock)."""
        self._pending.append((sql, params))

    def flush(self) -> None:
        """Send what is deferred now (one round trip)."""
        if self._pending:
            self.run([])

    def run(self, statements: Sequence[Statement]) -> list[psycopg.Cursor[Any]]:
        """Send what is deferred and ``statements`` in one pipeline (one round trip);
        returns one cursor per statement, its rows ready to fetch. The first error
        raised by any of them is raised here."""
        pending, self._pending = self._pending, []
        work = [*pending, *statements]
        if len(work) == 1:  # nothing to overlap: no pipeline needed
            return [self.conn.execute(*work[0])]
        with self.conn.pipeline():
            cursors = [self.conn.execute(sql, params) for sql, params in work]
        return cursors[len(pending) :]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        """``connection.execute``, after what is deferred (in the same round trip)."""
        return self.run([(sql, params)])[0]

    def cursor(self, **kwargs: Any) -> psycopg.Cursor[Any]:
        """``connection.cursor``; what is deferred is sent first."""
        self.flush()
        cursor: psycopg.Cursor[Any] = self.conn.cursor(**kwargs)
        return cursor

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic commit; a nested block is a savepoint, sent only if the block sends
        a statement, and released with the statement after it."""
        if self._depth:
            with self._savepoint():
                yield
            return
        # A connection an interrupt left busy (below) cannot begin one either.
        self._drop_if_busy()
        self.flush()
        try:
            with self.conn.transaction():
                self._depth = 1
                try:
                    yield
                except BaseException:
                    self._drop_if_busy()
                    raise
        finally:
            # Committed or rolled back: deferred savepoints and locks no longer matter.
            self._depth = 0
            self._pending.clear()

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        depth = self._depth
        name = f"ma_sp{depth}"
        mark = len(self._pending)
        entry: Statement = (f"SAVEPOINT {name}", ())
        self._pending.append(entry)
        self._depth = depth + 1
        try:
            yield
        except BaseException:
            if self._unsent(mark, entry):
                del self._pending[mark:]  # nothing of the block reached the server
            else:
                self._pending.clear()  # the rest belongs to the failed block
                # The original error matters; if the connection is gone (or busy: an
                # interrupt mid-round-trip), so is the transaction, and the outer
                # block's rollback says so.
                if self._busy():
                    raise
                with contextlib.suppress(Exception):
                    self.conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                    self.conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        else:
            if self._unsent(mark, entry) and len(self._pending) == mark + 1:
                self._pending.pop()  # an empty block: nothing to send at all
            else:
                self._pending.append((f"RELEASE SAVEPOINT {name}", ()))
        finally:
            self._depth = depth

    def _busy(self) -> bool:
        """A command or pipeline is still in flight (or the connection is broken): the
        connection cannot take another statement, a ``ROLLBACK`` included."""
        from psycopg import pq

        pgconn = self.conn.pgconn
        return (
            pgconn.transaction_status in (pq.TransactionStatus.ACTIVE, pq.TransactionStatus.UNKNOWN)
            or pgconn.pipeline_status != pq.PipelineStatus.OFF
        )

    def _drop_if_busy(self) -> None:
        """After an interrupt that landed mid-round-trip (a Ctrl-C raised inside
        psycopg), the connection may still have a command in flight: nothing more can
        be sent on it, and a transaction's rollback (or a new transaction's first
        statement) fails with "another command is already in progress", which psycopg
        also prints as a warning. Such a connection is closed instead, which ends its
        transaction on the server (nothing of it is committed), and another one opened
        for what the caller still does: recording that its run was interrupted."""
        if not self._busy():
            return  # idle between statements: the transaction's rollback works
        self._pending.clear()
        with contextlib.suppress(Exception):
            self.conn.close()
        if self._reopen is not None:
            with contextlib.suppress(Exception):
                self.conn = self._reopen()

    def _unsent(self, mark: int, entry: Statement) -> bool:
        return len(self._pending) > mark and self._pending[mark] is entry

    def close(self) -> None:
        self._pending.clear()
        self.conn.close()
