"""Servers as they are, played by the scripted server: EXAMINE without UIDNEXT, quoted or
lower-case FETCH keys, and a LIST with SPECIAL-USE attributes."""

from __future__ import annotations

from pathlib import Path

from mailatlas_imap import list_imap_folders

from devkit.imapscript import CAPABILITIES, Conn, ScriptedImap
from tests.integration.conftest import messages

from .hostile import bounded, config, new_store, sync


def examine_without_uidnext(conn: Conn, tag: str, args: str) -> None:
    box = conn.box
    conn.send(f"* {len(box.uids)} EXISTS\r\n* OK [UIDVALIDITY {box.uidvalidity}] ok\r\n".encode())
    conn.send(b"* OK [HIGHESTMODSEQ 7] modseq\r\n")
    conn.tagged(tag, "OK", "[READ-ONLY] examined")


def enable_qresync(conn: Conn, tag: str, args: str) -> None:
    conn.send(b"* ENABLED CONDSTORE QRESYNC\r\n")
    conn.tagged(tag)


def searches(server: ScriptedImap) -> list[str]:
    return [c for c in server.commands if "UID SEARCH" in c.upper()]


def test_without_uidnext_from_examine_status_lets_an_unchanged_folder_be_skipped(
    tmp_path: Path,
) -> None:
    # Only a QRESYNC server can tell "nothing changed" (no flag, no expunge) from
    # HIGHESTMODSEQ; without it every rerun compares flags (issue 16), so this one has it.
    with ScriptedImap(
        messages(3, tag="nouidnext"), capabilities=CAPABILITIES + " CONDSTORE QRESYNC"
    ) as server:
        server.on("EXAMINE", examine_without_uidnext)
        server.on("ENABLE", enable_qresync)
        first = sync(tmp_path, config(server))
        assert (first.status, first.ingested_count) == ("ok", 3)
        assert any("STATUS" in c and "UIDNEXT" in c for c in server.commands)
        before = len(searches(server))

        second = sync(tmp_path, config(server))
        assert second.folders[0].unchanged
        assert len(searches(server)) == before  # skipped without a SEARCH

        server.uids.append(4)  # new mail is still seen
        server.messages.append(messages(1, tag="nouidnext", start=3)[0])
        third = sync(tmp_path, config(server))
        assert (third.folders[0].unchanged, third.ingested_count) == (False, 1)
        assert sync(tmp_path, config(server)).folders[0].unchanged


def test_quoted_and_lower_case_header_field_keys_still_recognise_stored_mail(
    tmp_path: Path,
) -> None:
    with ScriptedImap(messages(3, tag="quoted")) as server:
        server.quote_header_fields = True  # BODY[HEADER.FIELDS ("MESSAGE-ID" "DATE" ...)]
        assert sync(tmp_path, config(server)).ingested_count == 3
        server.uidvalidity = "2"  # a rescan probes Message-ID before downloading
        again = sync(tmp_path, config(server))
    folder = again.folders[0]
    assert folder.uidvalidity_reset
    assert (folder.duplicate_count, folder.downloaded_count) == (3, 0)
    probes = [c for c in server.commands if "HEADER.FIELDS" in c]
    assert probes  # the probe ran, and its quoted answer was understood


def test_list_imap_folders_reads_special_use_from_a_recorded_gmail_list() -> None:
    with ScriptedImap(messages(2, tag="gm")) as server:
        server.add_folder("[Gmail]", attributes=("\\HasChildren", "\\Noselect"))
        server.add_folder("[Gmail]/All Mail", messages(2, tag="gm"), attributes=("\\All",))
        server.add_folder("[Gmail]/Spam", attributes=("\\HasNoChildren", "\\Junk"))
        server.add_folder("[Gmail]/Trash", attributes=("\\HasNoChildren", "\\Trash"))
        server.add_folder("Work", messages(1, tag="gm"))
        folders = bounded(lambda: list_imap_folders(config(server)))
    got = [(f.name, f.special_use, f.selectable, f.messages) for f in folders]
    assert got == [
        ("INBOX", None, True, 2),
        ("Work", None, True, 1),
        ("[Gmail]", None, False, None),
        ("[Gmail]/All Mail", "\\All", True, 2),
        ("[Gmail]/Spam", "\\Junk", True, 0),
        ("[Gmail]/Trash", "\\Trash", True, 0),
    ]


def test_all_folders_on_a_recorded_gmail_list_skips_spam_trash_and_noselect(
    tmp_path: Path,
) -> None:
    with ScriptedImap(messages(1, tag="all")) as server:
        server.add_folder("[Gmail]", attributes=("\\HasChildren", "\\Noselect"))
        server.add_folder("[Gmail]/Spam", messages(1, tag="spam"), attributes=("\\Junk",))
        server.add_folder("[Gmail]/Trash", messages(1, tag="bin"), attributes=("\\Trash",))
        server.add_folder("Work", messages(1, tag="work"))
        out = sync(tmp_path, config(server, folders=("*",)))
    assert [(f.folder, f.ingested_count) for f in out.folders] == [("INBOX", 1), ("Work", 1)]


# Gmail, at this seam: LIST, CAPABILITY and X-GM-* FETCH items as Gmail answers them
# (recorded shapes; labels quoted or atoms, system labels with a backslash).
GMAIL_CAPABILITIES = (
    "IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 UIDPLUS"
    " COMPRESS=DEFLATE ENABLE MOVE CONDSTORE ESEARCH UTF8=ACCEPT LIST-EXTENDED"
    " LIST-STATUS LITERAL- SPECIAL-USE AUTH=PLAIN"
)


def gmail_server(a: bytes, b: bytes) -> ScriptedImap:
    """A in INBOX, in the label folder Work and in All Mail; B (sent) in All Mail only."""
    server = ScriptedImap([a], uids=[7], capabilities=GMAIL_CAPABILITIES)
    server.inbox_extra[7] = b'X-GM-THRID 1578 X-GM-MSGID 1601 X-GM-LABELS ("\\\\Important" Work)'
    server.add_folder("[Gmail]", attributes=("\\HasChildren", "\\Noselect"))
    every = server.add_folder(
        "[Gmail]/All Mail", [a, b], uids=[40, 41], attributes=("\\All", "\\HasNoChildren")
    )
    every.extra[40] = (
        b'X-GM-THRID 1578 X-GM-MSGID 1601 X-GM-LABELS ("\\\\Inbox" "\\\\Important" Work)'
    )
    every.extra[41] = b"X-GM-THRID 1579 X-GM-MSGID 1602 X-GM-LABELS (\\Sent)"
    server.add_folder("[Gmail]/Spam", attributes=("\\HasNoChildren", "\\Junk"))
    work = server.add_folder("Work", [a], uids=[3])
    work.extra[3] = b'X-GM-THRID 1578 X-GM-MSGID 1601 X-GM-LABELS ("\\\\Inbox" "\\\\Important")'
    return server


def test_gmail_all_mail_and_label_folders_are_one_document_with_its_labels(
    tmp_path: Path,
) -> None:
    a, b = messages(2, tag="gmail")
    with gmail_server(a, b) as server:
        out = sync(tmp_path, config(server, folders=("*",)))
        again = sync(tmp_path, config(server, folders=("*",)))
    assert [(f.folder, f.ingested_count, f.duplicate_count) for f in out.folders] == [
        ("INBOX", 1, 0),
        ("Work", 0, 1),
        ("[Gmail]/All Mail", 1, 1),
    ]
    # Nothing new and nothing changed on the rerun (this server offers no QRESYNC, so the
    # folders are compared rather than skipped: issue 16).
    assert again.fetched_count == 0
    assert [(f.flag_change_count, f.removed_count, f.moved_count) for f in again.folders] == [
        (0, 0, 0)
    ] * 3
    assert any("X-GM-MSGID" in c for c in server.commands)
    store = new_store(tmp_path)
    try:
        refs = {r.subject: r.id for r in store.list_documents()}
        assert len(refs) == 2
        first = store.get_document(refs["Message gmail 0"])
        sent = store.get_document(refs["Message gmail 1"])
    finally:
        store.close()
    account = f"user@127.0.0.1:{server.port}"
    assert sorted(loc.detail["folder"] for loc in first.locations) == [
        "INBOX",
        "Work",
        "[Gmail]/All Mail",
    ]
    assert first.metadata["gmail"] == [
        {
            "account": account,
            "msgid": "1601",
            "thrid": "1578",
            "labels": ["Work", "\\Important", "\\Inbox"],
        }
    ]
    assert sent.metadata["gmail"] == [
        {"account": account, "msgid": "1602", "thrid": "1579", "labels": ["\\Sent"]}
    ]


def test_no_gmail_items_are_asked_of_other_servers(tmp_path: Path) -> None:
    with ScriptedImap(messages(2, tag="plain")) as server:
        out = sync(tmp_path, config(server))
    assert out.ingested_count == 2
    assert not any("X-GM" in c for c in server.commands)
