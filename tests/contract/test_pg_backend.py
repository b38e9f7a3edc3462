"""PostgreSQL backend specifics on a real server: racing writers, migrations, the URL rule.

What the contract suite cannot see through the Store protocol: two connections that
insert the same document in overlapping transactions (the second waits on the first's
row lock, then learns its id, or inserts if the first rolled back), several processes
migrating a fresh database at once, and text PostgreSQL cannot hold.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable

import pytest
from mailatlas_core import ListFilter, SourceLocation, StoreError, StoreNotFoundError
from mailatlas_core._backend import DocumentRow
from mailatlas_core._json import dumps
from mailatlas_core._pg_backend import PostgresBackend
from mailatlas_core._pg_conn import LATEST_PG_VERSION

pytestmark = pytest.mark.heavy


def _row(n: int, **changes: object) -> DocumentRow:
    values: dict[str, object] = {
        "id": f"doc-{n}",
        "source_kind": "eml",
        "message_id": f"m{n}@example.test",
        "thread_id": f"t{n}",
        "subject": f"subject {n}",
        "sender_name": "Ada",
        "sender_email": "ada@example.test",
        "author": "Ada",
        "received_at": "2024-01-01T00:00:00Z",
        "published_at": "2024-01-01T00:00:00Z",
        "body_text": f"body {n}",
        "body_html_path": None,
        "raw_path": f"raw/{n:064d}.eml",
        "content_hash": f"{n:064d}",
        "metadata_json": f'{{"n":{n}}}',
        "created_at": "2024-01-02T00:00:00Z",
        "in_reply_to": None,
        "recipients": "",
        "headers_hash": f"h{n}",
        "body_hash": f"b{n}",
        "raw_size": 10,
    }
    values.update(changes)
    return DocumentRow(**values)  # type: ignore[arg-type]


LOC = SourceLocation(kind="eml", path="/mail/a.eml")


def _waiting_on_a_lock(observer: PostgresBackend, count: int = 1) -> None:
    """Wait until ``count`` other sessions are blocked on a lock (observed, not timed)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rows = observer._conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND datname = current_database()"
        ).fetchone()
        if rows and rows[0] >= count:
            return
        time.sleep(0.01)  # the observer's poll interval; the wait is for the lock count
    raise AssertionError("the second writer never waited on the first")


def _in_thread(fn: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    out: list[object] = []
    thread = threading.Thread(target=lambda: out.append(fn()))
    thread.start()
    return thread, out


@pytest.mark.parametrize("second_row", ["same id", "same content", "same fingerprint"])
def test_the_second_of_two_racing_writers_learns_the_winners_id(
    pg_url: str, second_row: str
) -> None:
    first, second, observer = (PostgresBackend(pg_url) for _ in range(3))
    other = {
        "same id": _row(1, content_hash="f" * 64),
        "same content": _row(1, id="doc-other", message_id="other@example.test"),
        "same fingerprint": _row(1, id="doc-other", content_hash="e" * 64),
    }[second_row]
    with first.transaction():
        assert first.insert_document(_row(1), [], LOC) is None
        thread, out = _in_thread(lambda: second.insert_document(other, [], LOC))
        _waiting_on_a_lock(observer)
    thread.join(60)
    assert out == ["doc-1"]
    assert observer.count_documents(ListFilter()) == 1


def test_a_writer_waiting_on_a_rolled_back_insert_inserts(pg_url: str) -> None:
    first, second, observer = (PostgresBackend(pg_url) for _ in range(3))
    with pytest.raises(RuntimeError), first.transaction():
        first.insert_document(_row(2), [], LOC)
        thread, out = _in_thread(lambda: second.insert_document(_row(2), [], LOC))
        _waiting_on_a_lock(observer)
        raise RuntimeError("the first writer fails")
    thread.join(60)
    assert out == [None]
    assert observer.get_document("doc-2").subject == "subject 2"


def test_many_openers_migrate_a_fresh_database_once(pg_url: str) -> None:
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_one() -> None:
        barrier.wait()
        try:
            PostgresBackend(pg_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    reader = PostgresBackend(pg_url, create=False)
    migrations = reader._conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
    assert migrations == (LATEST_PG_VERSION,)


def test_a_reader_of_an_empty_database_finds_no_store_and_writes_nothing(pg_url: str) -> None:
    with pytest.raises(StoreNotFoundError, match="no MailAtlas store"):
        PostgresBackend(pg_url, create=False)
    import psycopg

    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT to_regclass('schema_migrations')").fetchone() == (None,)


def test_a_url_with_a_password_is_refused_without_showing_it(pg_url: str) -> None:
    leaky = pg_url.replace("ma@", "ma:Hunter2-secret@")
    with pytest.raises(StoreError) as info:
        PostgresBackend(leaky)
    assert "Hunter2" not in str(info.value) and "PGPASSWORD" in str(info.value)
    with pytest.raises(StoreError) as info:
        PostgresBackend(pg_url + "?password=Hunter2-secret")
    assert "Hunter2" not in str(info.value)


def test_text_postgres_cannot_hold_is_kept_readable(pg_url: str) -> None:
    backend = PostgresBackend(pg_url)
    row = _row(3, subject="nul\x00byte \udcff lone", body_text="body\x00text")
    row = dataclasses.replace(row, metadata_json=dumps({"k": "\x00"}))
    assert backend.insert_document(row, [], LOC) is None
    doc = backend.get_document("doc-3")
    assert doc.subject == "nul\ufffdbyte ? lone"
    assert doc.body_text == "body\ufffdtext"
    assert doc.metadata == {"k": "\x00"}
    assert [r.id for r in backend.list_documents(ListFilter(query="nul byte"))] == ["doc-3"]


@pytest.mark.parametrize("where", ["block", "nested block", "before the block"])
def test_an_interrupt_with_a_command_in_flight_rolls_back_without_a_warning(
    pg_url: str, where: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A Ctrl-C raised inside psycopg (mid-round-trip) leaves the connection with a
    command in flight: a rollback on it fails ("another command is already in
    progress") and psycopg used to print "error ignored in rollback ..." under the
    command's one line. The session closes such a connection (the server drops the
    transaction) and opens another, on which the caller records its run. The state is
    made here as libpq has it then: a query sent on the connection, its result unread.
    An interrupt outside any block leaves the same state for the next transaction (the
    run's "interrupted" record): it runs on a new connection.
    """
    backend = PostgresBackend(pg_url)
    try:
        if where == "before the block":
            backend._conn.conn.pgconn.send_query(b"SELECT pg_sleep(0)")
            with backend.transaction():
                backend.insert_document(_row(3), [], LOC)
            assert [r.getMessage() for r in caplog.records if r.name.startswith("psycopg")] == []
            assert [d.id for d in backend.list_documents(ListFilter())] == ["doc-3"]
            return
        with pytest.raises(KeyboardInterrupt), backend.transaction():
            backend.insert_document(_row(1), [], LOC)
            if where == "nested block":
                with backend.transaction():
                    backend.insert_document(_row(2), [], LOC)
                    backend._conn.conn.pgconn.send_query(b"SELECT pg_sleep(0)")
                    raise KeyboardInterrupt
            backend._conn.conn.pgconn.send_query(b"SELECT pg_sleep(0)")
            raise KeyboardInterrupt
        assert [r.getMessage() for r in caplog.records if r.name.startswith("psycopg")] == []
        # Nothing of the interrupted transaction was committed, and the store goes on.
        assert backend.list_documents(ListFilter()) == []
        backend.insert_document(_row(3), [], LOC)
        assert [d.id for d in backend.list_documents(ListFilter())] == ["doc-3"]
    finally:
        backend.close()
