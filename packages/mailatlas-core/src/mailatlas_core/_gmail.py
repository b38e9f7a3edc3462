"""Gmail's identifiers and labels of a document (IMAP extension X-GM-EXT-1).

Gmail shows one message in several folders: "[Gmail]/All Mail", INBOX, and one folder
per label. MailAtlas stores it once (the same bytes are one document) with a location
per folder, and keeps what Gmail says about it in ``metadata.gmail``: one entry per
account (``X-GM-MSGID`` is per mailbox) with the message id, the thread id and the
labels as last seen. Stdlib only; every backend keeps it in the document's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._metadata import DocumentMetadata, GmailEntry

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

    def to_dict(self) -> GmailEntry:
        return {
            "account": self.account,
            "msgid": self.msgid,
            "thrid": self.thrid,
            "labels": list(self.labels),
        }


def merge_gmail(metadata: DocumentMetadata, message: GmailMessage) -> DocumentMetadata:
    """``metadata`` with ``gmail`` holding ``message`` (replacing that account's entry:
    labels change, and the latest sighting is the truth)."""
    kept = [e for e in metadata.get("gmail", []) if e["account"] != message.account]
    kept.append(message.to_dict())
    kept.sort(key=lambda e: e["account"])
    merged = metadata.copy()
    merged["gmail"] = kept
    return merged
