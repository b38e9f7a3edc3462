"""SyncResult.to_dict(): the seed's JSON shape, field names and status rules."""

from __future__ import annotations

import imaplib
import json

from mailatlas_core import DocumentRef
from mailatlas_imap import FolderResult, SyncResult
from mailatlas_imap._session import server_text

SEED_TOP = [
    "status",
    "host",
    "port",
    "auth",
    "folder_count",
    "error_count",
    "fetched_count",
    "ingested_count",
    "duplicate_count",
    "folders",
]
SEED_FOLDER = [
    "folder",
    "status",
    "uidvalidity",
    "last_uid",
    "fetched_count",
    "ingested_count",
    "duplicate_count",
    "document_refs",
    "error",
]


def sample() -> SyncResult:
    ref = DocumentRef(
        id="abc",
        subject="Daily market digest",
        source_kind="imap",
        created_at="2024-01-01T00:00:00.000000Z",
        sender_email="x@example.com",
    )
    inbox = FolderResult(
        "INBOX",
        uidvalidity="11",
        last_uid=4812,
        fetched_count=12,
        ingested_count=11,
        duplicate_count=1,
        document_refs=[ref],
    )
    return SyncResult(host="imap.example.com", port=993, auth="password", folders=[inbox])


def test_to_dict_has_the_seed_fields_in_order_then_extras() -> None:
    out = sample().to_dict()
    assert list(out)[: len(SEED_TOP)] == SEED_TOP
    assert list(out["folders"][0])[: len(SEED_FOLDER)] == SEED_FOLDER
    # The seed's four ref fields first, then the extras `ingest` and `list` print too.
    assert out["folders"][0]["document_refs"] == [
        {
            "id": "abc",
            "subject": "Daily market digest",
            "source_kind": "imap",
            "created_at": "2024-01-01T00:00:00.000000Z",
            "sender_email": "x@example.com",
            "received_at": None,
        }
    ]
    assert (out["status"], out["folder_count"], out["error_count"]) == ("ok", 1, 0)
    assert (out["fetched_count"], out["ingested_count"], out["duplicate_count"]) == (12, 11, 1)
    assert out["folders"][0]["uidvalidity"] == "11" and out["folders"][0]["error"] is None
    assert {"failed_count", "duration_s"} <= set(out)
    json.dumps(out)


def test_status_rules() -> None:
    r = sample()
    bad = FolderResult("Gone")
    bad.fail("cannot open folder 'Gone': Mailbox doesn't exist")
    r.folders.append(bad)
    assert (r.status, r.error_count) == ("partial", 1)
    r.folders[0].fail("lost")
    assert r.status == "error"
    poisoned = FolderResult("P", failed_count=1, ingested_count=3)
    poisoned.finish()
    assert poisoned.status == "partial"
    assert SyncResult("h", 1, "password", [poisoned]).status == "partial"
    # Nothing succeeded (every new message failed): error, as for file ingest.
    all_bad = FolderResult("Junk", failed_count=2)
    all_bad.finish()
    assert all_bad.status == "error" and all_bad.error is not None
    assert "2" in all_bad.error
    assert SyncResult("h", 1, "password", [all_bad]).status == "error"
    assert SyncResult("h", 1, "password", [all_bad, poisoned]).status == "partial"


def test_server_text_is_text_and_scrubbed() -> None:
    raw = b"[NONEXISTENT] Mailbox doesn't exist: \xc3\x9c 'x'"
    exc = imaplib.IMAP4.error(f"select failed: {raw!r}")
    assert server_text(exc) == "select failed: [NONEXISTENT] Mailbox doesn't exist: Ü 'x'"
    assert server_text(imaplib.IMAP4.error(b"[ALERT] bye")) == "[ALERT] bye"
    assert server_text(Exception("token s3cr3t-token leaked"), ["s3cr3t-token"]) == (
        "token *** leaked"
    )
