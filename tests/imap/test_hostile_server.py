"""Hostile and broken IMAP servers, played by a scripted server: every case ends in
bounded time and memory with one clean error, and committed work stays stored.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mailatlas_clean import ParseLimits, ParserConfig
from mailatlas_core import Store
from mailatlas_imap import ImapConnectionError, ImapSyncConfig, _session

from devkit.imapscript import Conn, ScriptedImap
from tests.integration.conftest import message, messages

from .hostile import config, new_store, sync
from .test_config import CA_PEM


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def store(home: Path) -> Iterator[Store]:
    """The store at ``home``, for looking at what a sync left there."""
    s = new_store(home)
    yield s
    s.close()


def body_fetches(server: ScriptedImap) -> list[str]:
    return [c for c in server.commands if "UID FETCH" in c and "BODY.PEEK[]" in c]


def after_first_body_fetch(server: ScriptedImap, bad: object) -> None:
    """Answer the first body FETCH normally, every later one with ``bad``."""

    def handler(conn: Conn, tag: str, args: str) -> None:
        if "BODY.PEEK[]" in args and len(body_fetches(server)) > 1:
            bad(conn, tag, args)  # type: ignore[operator]
        else:
            conn.default(tag, args, "UID FETCH")

    server.on("UID FETCH", handler)


# -- no overall deadline: drips, slow literals, floods -----------------------------------


def test_a_server_that_drips_bytes_is_cut_off_at_the_command_deadline(
    home: Path, store: Store
) -> None:
    with ScriptedImap(messages(4, tag="drip")) as server:
        # Each byte arrives well within the 2 s read timeout: only a deadline ends it.
        after_first_body_fetch(server, lambda conn, tag, args: conn.drip(b"* 3 FETCH (" * 99, 0.2))
        started = time.monotonic()
        out = sync(home, config(server, batch_size=2, timeout=2.0, command_timeout=1.5))
        elapsed = time.monotonic() - started

    folder = out.folders[0]
    assert folder.status == "error"
    assert folder.error == (
        f"127.0.0.1:{server.port} did not finish a command within 1.5 s while fetching"
        " messages; gave up on the connection (gave up after 0 retries)"
    )
    assert elapsed < 30  # 1.5 s deadline; generous for a loaded machine
    assert (folder.ingested_count, folder.last_uid) == (2, 2)  # the first batch stays
    assert store.count_documents() == 2
    cursor = store.get_cursor("127.0.0.1", server.port, "user", "INBOX")
    assert cursor is not None and cursor.last_uid == 2


@pytest.mark.parametrize("size", [10_000_000_000, 100_000_000_000])
def test_a_huge_announced_literal_is_refused_before_reading_it(
    home: Path, store: Store, size: int
) -> None:
    def huge(conn: Conn, tag: str, args: str) -> None:
        conn.send(b"* 3 FETCH (UID 3 BODY[] {%d}\r\n" % size)
        conn.drip(b"x" * 1000, 0.5)  # and then slowly, as if it meant it

    with ScriptedImap(messages(4, tag="lit")) as server:
        after_first_body_fetch(server, huge)
        started = time.monotonic()
        out = sync(home, config(server, batch_size=2, max_retries=2))
        elapsed = time.monotonic() - started

    folder = out.folders[0]
    assert folder.error == (
        f"127.0.0.1:{server.port} announced a literal of {size:,} bytes, more than one command"
        " may receive while fetching messages; gave up on the connection (gave up after 0"
        " retries)"
    )
    assert folder.retries == 0  # a budget overrun is not retried
    assert elapsed < 20
    assert store.count_documents() == 2


def test_an_endless_stream_of_untagged_responses_is_cut_off(home: Path, store: Store) -> None:
    def flood(conn: Conn, tag: str, args: str) -> None:
        while not server.closed.is_set():
            conn.send(b"* OK still here\r\n" * 1000)

    with ScriptedImap(messages(4, tag="flood")) as server:
        after_first_body_fetch(server, flood)
        out = sync(home, config(server, batch_size=2))

    assert out.folders[0].error is not None
    assert "sent more response lines than one command may receive" in out.folders[0].error
    assert store.count_documents() == 2


def test_endless_long_lines_are_cut_off_by_the_byte_budget(home: Path, store: Store) -> None:
    def flood(conn: Conn, tag: str, args: str) -> None:
        while not server.closed.is_set():
            conn.send(b"* OK " + b"z" * 900_000 + b"\r\n")

    with ScriptedImap(messages(2, tag="long")) as server:
        server.on("UID SEARCH", flood)
        out = sync(home, config(server))

    assert out.folders[0].error == (
        f"127.0.0.1:{server.port} sent more data than one command may receive while listing"
        " messages; gave up on the connection (gave up after 0 retries)"
    )


def test_a_line_over_the_limit_names_our_limit_not_the_server(home: Path, store: Store) -> None:
    with ScriptedImap(messages(2, tag="line")) as server:
        server.on("UID SEARCH", lambda conn, tag, args: conn.send(b"* SEARCH " + b"1 " * 600_000))
        out = sync(home, config(server))

    assert out.folders[0].error is not None
    assert "sent a response line over 1,000,000 bytes (MailAtlas's limit)" in out.folders[0].error


def test_a_silent_server_fails_fast_with_a_tls_hint(home: Path) -> None:
    with ScriptedImap(greeting=b"") as server, pytest.raises(ImapConnectionError) as info:
        sync(home, config(server, timeout=1.0, max_retries=3))
    assert str(info.value) == (
        f"127.0.0.1:{server.port} sent no IMAP greeting within 1 s; if that port expects TLS"
        " from the first byte (usually 993), use tls='implicit'"
    )
    assert not info.value.retryable


# -- values that broke the sync with a traceback ------------------------------------------


def test_starttls_refused_is_one_line(home: Path, store: Store) -> None:
    with ScriptedImap(capabilities="IMAP4rev1 STARTTLS AUTH=PLAIN") as server:
        server.on("STARTTLS", lambda conn, tag, args: conn.tagged(tag, "NO", "not today"))
        with pytest.raises(ImapConnectionError) as info:
            sync(home, config(server, tls="starttls", ca_file=str(CA_PEM), max_retries=3))
    assert str(info.value) == (
        f"127.0.0.1:{server.port} refused STARTTLS (Couldn't establish TLS session); use"
        " tls='implicit' and its TLS port if it has one"
    )
    assert info.value.result is not None and info.value.result.retries == 0


@pytest.mark.parametrize("value", ["abc", "0", "-1", str(2**63), str(2**32)])
def test_an_invalid_uidvalidity_fails_the_folder_in_one_line(
    home: Path, store: Store, value: str
) -> None:
    with ScriptedImap(messages(2, tag="uv"), uidvalidity=value) as server:
        out = sync(home, config(server))

    folder = out.folders[0]
    assert (out.status, folder.status) == ("error", "error")
    assert folder.error == (
        f"cannot sync folder 'INBOX': 127.0.0.1:{server.port} sent an invalid UIDVALIDITY {value!r}"
    )
    assert store.count_documents() == 0
    assert store.get_cursor("127.0.0.1", server.port, "user", "INBOX") is None


def test_a_uid_beyond_32_bits_is_skipped_and_never_blocks_the_folder(
    home: Path, store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with ScriptedImap(messages(3, tag="big"), uids=[1, 2**63, 3]) as server:
        with caplog.at_level(logging.WARNING, "mailatlas_imap"):
            first = sync(home, config(server))
        server.uids.append(4)
        server.messages.append(message(4, tag="big"))
        second = sync(home, config(server))

    assert (first.status, first.ingested_count, first.folders[0].last_uid) == ("ok", 2, 3)
    assert f"listed 1 invalid UID(s) ('{2**63}')" in caplog.text
    assert (second.status, second.ingested_count, second.folders[0].last_uid) == ("ok", 1, 4)
    raw = [p for p in (tmp_path / "workspace").rglob("*") if p.is_file() and "raw" in p.parts]
    assert len(raw) == store.count_documents() == 3  # no orphan raw files


def test_a_uid_sent_twice_keeps_the_first_body(
    home: Path, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    first, forged = message(1, tag="twice"), message(1, tag="twice", body="FORGED second body")

    def twice(conn: Conn, tag: str, args: str) -> None:
        if "BODY.PEEK[]" not in args:
            return conn.default(tag, args, "UID FETCH")
        conn.send(server.fetch_reply(1, 1, args))
        server.messages[0] = forged
        conn.send(server.fetch_reply(1, 1, args))
        server.messages[0] = first
        conn.send(server.fetch_reply(2, 2, args))
        conn.tagged(tag)

    with ScriptedImap([first, message(2, tag="twice")]) as server:
        server.on("UID FETCH", twice)
        with caplog.at_level(logging.WARNING, "mailatlas_imap"):
            out = sync(home, config(server))

    folder = out.folders[0]
    assert (folder.ingested_count, folder.downloaded_count, folder.fetched_count) == (2, 2, 2)
    assert "answered UID(s) 1 more than once in one FETCH; kept the first answer" in caplog.text
    bodies = [store.get_document(r.id).body_text for r in folder.document_refs]
    assert not any("FORGED" in (b or "") for b in bodies)


def test_a_message_over_the_size_limit_is_recorded_not_downloaded(home: Path, store: Store) -> None:
    big = message(1, tag="size", body="x" * 5000)
    with ScriptedImap([message(0, tag="size"), big, message(2, tag="size")]) as server:
        out = sync(home, config(server, max_message_bytes=4000))

    folder = out.folders[0]
    assert (folder.status, folder.ingested_count, folder.failed_count) == ("partial", 2, 1)
    assert [c for c in body_fetches(server) if "2" in c.split()[3].split(",")] == []
    (failure,) = store.iter_failures()
    assert failure["reason"] == f"not downloaded: {len(big):,} bytes, over the limit of 4,000"


def test_the_parse_size_limit_is_the_download_limit(home: Path, store: Store) -> None:
    # One limit: --max-message-size (ParseLimits) also decides what is downloaded. With
    # two (1 GiB for IMAP, 512 MB for parsing), a message between them was downloaded
    # only to be refused unparsed.
    default = ImapSyncConfig("h", username="u", password="p")
    assert default.size_limit() == ParseLimits().max_message_bytes
    big = message(1, tag="one", body="x" * 5000)
    limits = ParserConfig(limits=ParseLimits(max_message_bytes=4000))
    with ScriptedImap([message(0, tag="one"), big, message(2, tag="one")]) as server:
        out = sync(home, config(server, parser_config=limits))

    folder = out.folders[0]
    assert (folder.status, folder.ingested_count, folder.failed_count) == ("partial", 2, 1)
    assert [c for c in body_fetches(server) if "2" in c.split()[3].split(",")] == []
    (failure,) = store.iter_failures()
    assert failure["reason"] == f"not downloaded: {len(big):,} bytes, over the limit of 4,000"


# -- the UID listing is bounded --------------------------------------------------------


def test_uids_are_listed_in_bounded_windows(
    home: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_session, "SEARCH_WINDOW", 3)
    with ScriptedImap(messages(10, tag="win")) as server:
        out = sync(home, config(server, batch_size=4))
        searches = [c.split(" ", 3)[3] for c in server.commands if "UID SEARCH" in c]
        server.commands.clear()
        server.uids += [11, 12]
        server.messages += messages(2, tag="win", start=10)
        again = sync(home, config(server))
        rerun = [c.split(" ", 3)[3] for c in server.commands if "UID SEARCH" in c]

    assert out.ingested_count == 10 and again.ingested_count == 2
    assert searches == ["8:10", "5:7", "2:4", "1:1"]
    # New mail: the walk stops at the first window that reaches stored mail. Then, as
    # this server offers no CONDSTORE, the flags and expunges of the stored UIDs are
    # compared in full: every window once more, each still bounded.
    assert rerun == ["10:12", "10:12", "7:9", "4:6", "1:3"]
    assert all("*" not in c for c in searches + rerun)


# -- literals read into one buffer (issue 11: memory) -------------------------------------


def test_literals_sent_in_small_pieces_are_stored_byte_for_byte(home: Path, store: Store) -> None:
    # The client reads a literal into one buffer of the announced size, a socket read at
    # a time: every piece lands at its place, whatever the server's write sizes.
    mail = [message(i, tag="pieces", body="Grüße " * (2000 + 500 * i)) for i in range(1, 4)]

    def in_pieces(conn: Conn, tag: str, args: str) -> None:
        if "BODY.PEEK[]" not in args:
            return conn.default(tag, args, "UID FETCH")
        for seq in (1, 2, 3):
            reply = server.fetch_reply(seq, seq, args)
            for i in range(0, len(reply), 997):
                conn.send(reply[i : i + 997])
        conn.tagged(tag)

    with ScriptedImap(mail) as server:
        server.on("UID FETCH", in_pieces)
        out = sync(home, config(server))

    folder = out.folders[0]
    assert (folder.status, folder.ingested_count) == ("ok", 3)
    hashes = {store.get_document(r.id).content_hash for r in folder.document_refs}
    assert hashes == {hashlib.sha256(m).hexdigest() for m in mail}


def test_a_literal_cut_short_by_the_server_is_one_clean_error(home: Path, store: Store) -> None:
    def cut(conn: Conn, tag: str, args: str) -> None:
        conn.send(b"* 3 FETCH (UID 3 BODY[] {5000}\r\n" + b"x" * 1000)
        conn.sock.shutdown(socket.SHUT_RDWR)

    with ScriptedImap(messages(4, tag="cut")) as server:
        after_first_body_fetch(server, cut)
        out = sync(home, config(server, batch_size=2, max_retries=0))

    folder = out.folders[0]
    assert folder.status == "error"
    assert folder.error == (
        f"connection to 127.0.0.1:{server.port} lost while fetching messages: command: UID"
        " => socket error: EOF (gave up after 0 retries)"
    )
    assert (folder.ingested_count, store.count_documents()) == (2, 2)  # the first batch stays
