"""Gmail's identifiers and labels of a document (IMAP extension X-GM-EXT-1).

Gmail shows one message in several folders: "[Gmail]/All Mail", INBOX, and one folder
per label. MailAtlas stores it once (the same bytes are one document) with a location
per folder, and keeps what Gmail says about it in ``metadata.gmail``: one entry per
account (``X-GM-MSGID`` is per mailbox) with the message id, the thread id and the
labels as last seen. Stdlib only; every backend keeps it in the document's metadata.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["GmailMessage", "merge_gmail"]


@dataclass(frozen=True, slots=True)
class GmailMessage:
    """What Gmail says about one message of one account.

    ``account`` is ``username@host:port``; ``msgid`` and ``thrid`` are Gmail's 64-bit
    ``X-GM-MSGID`` and ``X-GM-THRID`` (as decimal text); ``labels`` are its labels
    (``\\Inbox``, ``\\Sent``, ``\\Important``, user labels), sorted.
    """

    account: str
    msgid: str
    thrid: str | None
    labels: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "msgid": self.msgid,
            "thrid": self.thrid,
            "labels": list(self.labels),
        }


def merge_gmail(metadata: dict[str, Any], message: GmailMessage) -> dict[str, Any]:
    """``metadata`` with ``gmail`` holding ``message`` (replacing that account's entry:
    labels change, and the latest sighting is the truth)."""
    entries: Iterable[Any] = metadata.get("gmail") or []
    kept = [e for e in entries if isinstance(e, dict) and e.get("account") != message.account]
    kept.append(message.to_dict())
    kept.sort(key=lambda e: str(e.get("account")))
    return {**metadata, "gmail": kept}
