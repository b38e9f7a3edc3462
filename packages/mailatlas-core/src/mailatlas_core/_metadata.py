"""The shape of ``Document.metadata``: what the parser and the store record about a message.

Built in one place (the parser's ``_build`` in mailatlas-clean; the store adds
``source`` and, when they apply, ``message_id_conflict`` and ``gmail``) and read as is:
readers index it without defensive checks. It is stored as JSON, so every value is a
JSON type. SPEC §3 and docs/schema.md describe each field.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

__all__ = [
    "STORE_KEYS",
    "AssetPart",
    "AttachedMessage",
    "BodySource",
    "Cleaning",
    "Dates",
    "DocumentMetadata",
    "GmailEntry",
    "Mailbox",
    "MessageIdConflict",
    "PartEntry",
    "Provenance",
    "Recipients",
    "SourceMetadata",
    "empty_metadata",
]

BodySource = Literal["text/plain", "text/html", "message/rfc822"]


class Mailbox(TypedDict):
    """One address of an address header; ``name`` is ``""`` when there is none."""

    name: str
    email: str


class Recipients(TypedDict):
    to: list[Mailbox]
    cc: list[Mailbox]
    bcc: list[Mailbox]
    reply_to: list[Mailbox]


class Provenance(TypedDict):
    """Whether the message forwards others, and what the forwarded headers said."""

    is_forwarded: bool
    #: One entry per forwarded header block, outermost first (``from``, ``date``...).
    forwarded_chain: list[dict[str, str]]
    #: MIME part paths of attached messages whose text became the body.
    forwarded_attachments: list[str]


class Cleaning(TypedDict):
    """What the cleaning rules did (``rules``: one record per rule, by rule name)."""

    removed_forwarded_headers: int
    dropped_line_count: int
    stopped_at_footer: bool
    rules: dict[str, Any]


class Dates(TypedDict):
    """The ``Date`` header as sent, in UTC, and its UTC offset (``None`` if unreadable)."""

    date: str | None
    utc: str | None
    offset: str | None


class AttachedMessage(TypedDict):
    """A ``message/rfc822`` part: where it is and who sent it."""

    part: str
    subject: str
    sender: Mailbox | None
    filename: str | None


class AssetPart(TypedDict):
    """Where in the MIME tree one stored asset came from (in asset order)."""

    filename: str
    part: str
    message: str | None


class PartEntry(TypedDict):
    """One MIME leaf and what became of it (``stored_as``: body, asset, skipped...)."""

    part: str
    content_type: str
    disposition: str | None
    filename: str | None
    size: int
    stored_as: str
    asset: NotRequired[int]
    twin: NotRequired[str]
    message: NotRequired[str]
    recovered: NotRequired[bool]


class SourceMetadata(TypedDict):
    """Where the document was first read from (only the fields that apply to its kind)."""

    kind: str
    path: NotRequired[str]
    offset: NotRequired[int]
    host: NotRequired[str]
    port: NotRequired[int]
    folder: NotRequired[str]
    uid: NotRequired[int]
    uidvalidity: NotRequired[str]


class MessageIdConflict(TypedDict):
    """Other stored documents that carry the same Message-ID with other content."""

    message_id: str
    documents: list[str]


class GmailEntry(TypedDict):
    """What Gmail says about the message, per account."""

    account: str
    msgid: str
    thrid: str | None
    labels: list[str]


class DocumentMetadata(TypedDict):
    """``Document.metadata`` (and ``ParsedDocument.metadata``, before ``source``)."""

    provenance: Provenance
    cleaning: Cleaning
    parser_config: dict[str, bool]
    recipients: Recipients
    dates: Dates
    defects: list[str]
    links: list[str]
    in_reply_to: str | None
    references: list[str]
    attached_messages: list[AttachedMessage]
    body_source: BodySource | None
    asset_parts: list[AssetPart]
    parts: list[PartEntry]
    remote_images_blocked: int
    #: The mbox ``From `` line the message was read with, if any.
    envelope: NotRequired[str]
    #: Added by the store.
    source: NotRequired[SourceMetadata]
    message_id_conflict: NotRequired[MessageIdConflict]
    gmail: NotRequired[list[GmailEntry]]


#: The members the store adds to a parsed document's metadata as it stores it (``gmail``
#: comes later, with a sync's Gmail ids).
STORE_KEYS = ("source", "message_id_conflict")


def empty_metadata() -> DocumentMetadata:
    """The metadata of a message with nothing in it: every field, each empty.

    For documents built by hand (tests, importers); the parser fills every field.
    """
    return {
        "provenance": {"is_forwarded": False, "forwarded_chain": [], "forwarded_attachments": []},
        "cleaning": {
            "removed_forwarded_headers": 0,
            "dropped_line_count": 0,
            "stopped_at_footer": False,
            "rules": {},
        },
        "parser_config": {},
        "recipients": {"to": [], "cc": [], "bcc": [], "reply_to": []},
        "dates": {"date": None, "utc": None, "offset": None},
        "defects": [],
        "links": [],
        "in_reply_to": None,
        "references": [],
        "attached_messages": [],
        "body_source": None,
        "asset_parts": [],
        "parts": [],
        "remote_images_blocked": 0,
    }
