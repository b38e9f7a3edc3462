"""Gmail (X-GM-EXT-1): ask for each message's X-GM-MSGID, X-GM-THRID and X-GM-LABELS.

Gmail shows one message in "[Gmail]/All Mail", INBOX and a folder per label, with the
same bytes: the sync stores it once, with a location per folder, and keeps Gmail's ids
and labels in ``metadata.gmail`` (:mod:`mailatlas_core._gmail`). Gmail leaves the label
of the folder being read out of X-GM-LABELS (INBOX's ``\\Inbox``, ``Work``'s
``Work``), so it is added back.
"""

from __future__ import annotations

from typing import Any

from imapclient.imap_utf7 import decode as decode_utf7
from mailatlas_core import GmailMessage

from ._config import ImapSyncConfig
from ._session import Session

__all__ = ["GMAIL_ITEMS", "gmail_message", "is_gmail"]

GMAIL_ITEMS = (b"X-GM-MSGID", b"X-GM-THRID", b"X-GM-LABELS")
_MAX_ID = 2**64 - 1


def is_gmail(session: Session) -> bool:
    """Whether the server advertises X-GM-EXT-1 (read once per connection, at login)."""
    with session.guard("reading capabilities"):
        return session.client.has_capability("X-GM-EXT-1") is True


def _id(value: object) -> str | None:
    if isinstance(value, bytes) and value.isdigit():
        value = int(value)
    return str(value) if isinstance(value, int) and 0 < value <= _MAX_ID else None


def _label(value: object) -> str | None:
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return decode_utf7(value) or None
    return None


def _folder_label(folder: str) -> str | None:
    if folder == "INBOX":
        return "\\Inbox"
    return None if folder.startswith("[Gmail]/") or folder.startswith("[Google Mail]/") else folder


def gmail_message(
    item: dict[bytes, Any], config: ImapSyncConfig, folder: str
) -> GmailMessage | None:
    """Gmail's ids and labels in one FETCH item; ``None`` without a valid X-GM-MSGID."""
    msgid = _id(item.get(b"X-GM-MSGID"))
    if msgid is None:
        return None
    raw = item.get(b"X-GM-LABELS")
    labels = {lab for v in (raw if isinstance(raw, tuple | list) else ()) if (lab := _label(v))}
    own = _folder_label(folder)
    if own is not None:
        labels.add(own)
    return GmailMessage(
        account=f"{config.username}@{config.host}:{config.port}",
        msgid=msgid,
        thrid=_id(item.get(b"X-GM-THRID")),
        labels=tuple(sorted(labels)),
    )
