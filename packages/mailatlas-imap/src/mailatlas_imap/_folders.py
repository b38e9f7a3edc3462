"""The folders of a mailbox: LIST with SPECIAL-USE attributes, STATUS counts, and what
``--folder '*'`` expands to.

``LIST "" "*"`` names every folder with its attributes; RFC 6154 servers (Dovecot,
Gmail, Fastmail...) put the special use (``\\Junk``, ``\\Trash``, ``\\All``...) among
them. A folder marked ``\\Noselect`` or ``\\NonExistent`` holds no mail and is never
synced. STATUS asks for counts without opening a folder.
"""

from __future__ import annotations

import imaplib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from mailatlas_core import ImapCursor, Store

from ._config import ALL_FOLDERS, ImapSyncConfig, canonical_folder
from ._errors import FolderError
from ._replies import MAX_UID, FolderInfo, _number
from ._session import COMMAND_BYTES, Session
from ._wire import Budget

__all__ = [
    "SPECIAL_USES",
    "STATUS_ITEMS",
    "ImapFolder",
    "examine_folder",
    "find_cursor",
    "folder_status",
    "folders_to_sync",
    "list_folders",
    "list_imap_folders",
    "with_status",
]

log = logging.getLogger("mailatlas_imap")

SPECIAL_USES = ("\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash")
"""RFC 6154's special uses (plus Gmail's ``\\Important``, reported as it comes)."""
# Older servers (and Gmail's XLIST) spell some of them their own way.
_ALIASES = {"\\SPAM": "\\Junk", "\\ALLMAIL": "\\All", "\\STARRED": "\\Flagged"}
_KNOWN = {use.upper(): use for use in (*SPECIAL_USES, "\\Important")}
_NOT_SELECTABLE = {"\\NOSELECT", "\\NONEXISTENT"}
STATUS_ITEMS = ("MESSAGES", "UNSEEN", "UIDNEXT", "UIDVALIDITY")
LIST_LINES = 500_000  # a LIST reply has one line per folder; some mailboxes have thousands


@dataclass(frozen=True, slots=True)
class ImapFolder:
    """One folder as the server lists it, with its STATUS counts when asked for.

    ``special_use`` is the folder's RFC 6154 attribute (``\\Junk``, ``\\Trash``,
    ``\\All``...) or ``None``; ``selectable`` is false for a folder that only holds
    other folders. ``error`` says why STATUS failed for it (the counts are then ``None``).
    """

    name: str
    delimiter: str | None
    attributes: tuple[str, ...]
    special_use: str | None
    selectable: bool
    messages: int | None = None
    unseen: int | None = None
    uidnext: int | None = None
    uidvalidity: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object ``mailatlas folders`` prints for this folder."""
        return {
            "name": self.name,
            "special_use": self.special_use,
            "selectable": self.selectable,
            "messages": self.messages,
            "unseen": self.unseen,
            "uidnext": self.uidnext,
            "uidvalidity": None if self.uidvalidity is None else str(self.uidvalidity),
            "delimiter": self.delimiter,
            "attributes": list(self.attributes),
            "error": self.error,
        }


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _special_use(attributes: Iterable[str]) -> str | None:
    for attr in attributes:
        upper = attr.upper()
        if upper in _ALIASES:
            return _ALIASES[upper]
        if upper in _KNOWN:
            return _KNOWN[upper]
    return None


def list_folders(session: Session) -> list[ImapFolder]:
    """Every folder the server lists (``LIST "" "*"``): INBOX, then the rest by name."""
    session.client.wire.next_budget = Budget(
        session.config.command_timeout, COMMAND_BYTES * 4, LIST_LINES
    )
    with session.guard("listing folders"):
        try:
            listed = session.client.list_folders()
        except imaplib.IMAP4.error as exc:
            if isinstance(exc, imaplib.IMAP4.abort):
                raise
            detail = session.scrub(str(exc)).removeprefix("list failed: ")
            raise FolderError(f"{session.where} refused to list folders ({detail})") from None
    out: list[ImapFolder] = []
    seen: set[str] = set()
    for flags, delimiter, name in listed:
        attributes = tuple(_text(f) for f in flags or ())
        text = canonical_folder(_text(name))
        if text in seen:  # a server listing INBOX twice (two spellings)
            continue
        seen.add(text)
        out.append(
            ImapFolder(
                name=text,
                delimiter=None if delimiter is None else _text(delimiter),
                attributes=attributes,
                special_use=_special_use(attributes),
                selectable=not any(a.upper() in _NOT_SELECTABLE for a in attributes),
            )
        )
    out.sort(key=lambda f: (f.name != "INBOX", f.name))  # servers list in any order
    return out


def folder_status(
    session: Session, folder: str, items: Sequence[str] = STATUS_ITEMS
) -> dict[str, int]:
    """``STATUS folder (items)``: the numbers the server gave (invalid ones left out)."""
    with session.guard(f"asking for the status of {folder!r}"):
        try:
            raw = session.client.folder_status(folder, list(items))
        except imaplib.IMAP4.error as exc:
            if isinstance(exc, imaplib.IMAP4.abort):
                raise
            detail = session.scrub(str(exc)).removeprefix("status failed: ")
            raise FolderError(f"cannot read the status of {folder!r}: {detail}") from None
    out: dict[str, int] = {}
    for key, value in raw.items():
        number = _number(value, upper=MAX_UID, lower=0)
        if number is not None:
            out[_text(key).upper()] = number
    return out


def examine_folder(session: Session, folder: str) -> FolderInfo:
    """EXAMINE ``folder``; when the reply has no UIDNEXT, ask STATUS for it.

    Some servers leave UIDNEXT out of EXAMINE; without it an unchanged folder could not
    be told from a changed one without a SEARCH. STATUS runs after the first EXAMINE, so
    a second EXAMINE follows: its EXISTS then covers every message below that UIDNEXT
    (a message arriving in between is listed, never skipped by a stale cursor).
    """
    info = session.examine(folder)
    if info.uidnext is not None:
        return info
    try:
        uidnext = folder_status(session, folder, ("UIDNEXT",)).get("UIDNEXT")
    except FolderError as exc:  # then the folder is searched: slower, still right
        log.info("%s: no UIDNEXT from EXAMINE or STATUS (%s)", folder, exc)
        return info
    if not uidnext:
        return info
    again = session.examine(folder)
    if again.uidvalidity != info.uidvalidity or again.uidnext is not None:
        return again
    return replace(again, uidnext=uidnext)


def _spellings(name: str) -> list[str]:
    """Every upper/lower-case spelling of ``name`` (32 for INBOX)."""
    out = [""]
    for ch in name:
        out = [p + c for p in out for c in dict.fromkeys((ch.upper(), ch.lower()))]
    return out


def find_cursor(store: Store, config: ImapSyncConfig, folder: str) -> ImapCursor | None:
    """The stored cursor of ``folder``; for INBOX also one saved under another spelling.

    Before INBOX was case-insensitive, ``--folder inbox`` kept its own cursor: it is
    picked up (the most advanced one) and saved as INBOX from then on.
    """
    cursor = store.get_cursor(config.host, config.port, config.username, folder)
    if cursor is not None or folder != "INBOX":
        return cursor
    found = [
        c
        for spelling in _spellings(folder)
        if spelling != folder
        and (c := store.get_cursor(config.host, config.port, config.username, spelling))
    ]
    if not found:
        return None
    best = max(found, key=lambda c: c.last_uid)
    return replace(best, folder=folder)


def with_status(session: Session, folder: ImapFolder) -> ImapFolder:
    """``folder`` with its STATUS counts (or the reason they are missing)."""
    if not folder.selectable:
        return folder
    try:
        counts = folder_status(session, folder.name)
    except FolderError as exc:
        return replace(folder, error=str(exc))
    return replace(
        folder,
        messages=counts.get("MESSAGES"),
        unseen=counts.get("UNSEEN"),
        uidnext=counts.get("UIDNEXT") or None,
        uidvalidity=counts.get("UIDVALIDITY") or None,
    )


def folders_to_sync(session: Session, config: ImapSyncConfig) -> tuple[str, ...]:
    """``config.folders`` with ``"*"`` expanded to the selectable folders of the mailbox.

    Folders whose special use is ``\\Junk`` or ``\\Trash`` are left out unless
    ``include_junk`` / ``include_trash`` is set or they are named as well.
    """
    if ALL_FOLDERS not in config.folders:
        return config.folders
    skip = set()
    if not config.include_junk:
        skip.add("\\Junk")
    if not config.include_trash:
        skip.add("\\Trash")
    named = [f for f in config.folders if f != ALL_FOLDERS]
    chosen: list[str] = []
    for folder in list_folders(session):
        if not folder.selectable:
            continue
        if folder.special_use in skip and folder.name not in named:
            log.info("%s: skipped (%s)", folder.name, folder.special_use)
            continue
        chosen.append(folder.name)
    chosen += [name for name in named if name not in chosen]
    return tuple(chosen)


def list_imap_folders(config: ImapSyncConfig, *, status: bool = True) -> list[ImapFolder]:
    """Connect, list every folder of the mailbox and (``status``) its counts; log out.

    ``config.folders`` is not used. A folder whose STATUS fails carries the reason in
    ``error``; the others are still listed.

    Raises:
        ImapAuthError: the server refused the credentials.
        ImapConnectionError: no connection could be made, or it broke.
        FolderError: the server refused LIST.
    """
    session = Session(config)
    session.open()
    try:
        folders = list_folders(session)
        return [with_status(session, f) for f in folders] if status else folders
    finally:
        session.close()
