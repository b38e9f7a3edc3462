"""Reading what the server said, trusting none of it.

UIDs and UIDVALIDITY are 32-bit non-zero numbers (RFC 3501 ``nz-number``); anything
else (``abc``, ``0``, ``-1``, ``2**63``) is refused here, before it can reach the store.
A FETCH reply may name a UID twice or name UIDs nobody asked for: the first answer for a
requested UID wins, the rest are logged and dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from imapclient.datetime_util import parse_to_datetime
from imapclient.response_parser import gen_parsed_response

__all__ = [
    "MAX_UID",
    "FetchData",
    "FolderInfo",
    "fetch_key",
    "parse_fetch",
    "parse_uids",
    "sequence_set",
]

log = logging.getLogger("mailatlas_imap")

MAX_UID = 2**32 - 1
MAX_MODSEQ = 2**63 - 1
FetchData = dict[int, dict[bytes, Any]]


class BadReply(ValueError):
    """The server sent a value that breaks the protocol."""


def _number(value: object, upper: int = MAX_UID, lower: int = 1) -> int | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
    else:
        return None
    return number if lower <= number <= upper else None


def _show(value: object) -> str:
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)
    return repr(text[:40])


@dataclass(frozen=True, slots=True)
class FolderInfo:
    """What EXAMINE told us about a folder."""

    uidvalidity: int
    uidnext: int | None
    highestmodseq: int | None
    exists: int

    @classmethod
    def from_untagged(cls, untagged: Mapping[str, Sequence[object]]) -> FolderInfo:
        """Read the values from imaplib's untagged responses; :class:`BadReply` if unusable."""

        def first(key: str) -> object:
            values = untagged.get(key) or [None]
            return values[-1]

        raw = first("UIDVALIDITY")
        if raw is None:
            raise BadReply("no UIDVALIDITY")
        uidvalidity = _number(raw)
        if uidvalidity is None:
            raise BadReply(f"an invalid UIDVALIDITY {_show(raw)}")
        exists = _number(first("EXISTS"), upper=MAX_UID, lower=0)
        if exists is None:
            raise BadReply(f"an invalid message count (EXISTS {_show(first('EXISTS'))})")
        return cls(
            uidvalidity=uidvalidity,
            uidnext=_number(first("UIDNEXT")),
            highestmodseq=_number(first("HIGHESTMODSEQ"), upper=MAX_MODSEQ),
            exists=exists,
        )


def parse_uids(lines: Iterable[object], where: str) -> list[int]:
    """The valid UIDs of SEARCH reply lines; invalid tokens are logged and skipped."""
    found: list[int] = []
    bad: list[str] = []
    for line in lines:
        if not isinstance(line, bytes):
            continue
        for token in line.split():
            uid = _number(token)
            if uid is None:
                bad.append(_show(token))
            else:
                found.append(uid)
    if bad:
        log.warning(
            "%s listed %d invalid UID(s) (%s); skipped them", where, len(bad), ", ".join(bad[:3])
        )
    return found


def sequence_set(uids: Iterable[int]) -> str:
    """``1:3,7,9:10`` for ``[1, 2, 3, 7, 9, 10]``: short command lines for any batch."""
    ranges: list[str] = []
    start = prev = None
    for uid in sorted(set(uids)):
        if prev is not None and uid == prev + 1:
            prev = uid
            continue
        if start is not None:
            ranges.append(f"{start}:{prev}" if start != prev else str(start))
        start = prev = uid
    if start is not None:
        ranges.append(f"{start}:{prev}" if start != prev else str(start))
    return ",".join(ranges)


def fetch_key(key: bytes) -> bytes:
    """A FETCH item's name by meaning, not by bytes: ``body[header.fields ("Message-ID")]``
    is ``BODY[HEADER.FIELDS (MESSAGE-ID)]``, as some servers quote or lower-case them."""
    word = key.upper()
    if b"[" not in word:
        return word
    word = b" ".join(word.replace(b'"', b" ").split())
    return word.replace(b"( ", b"(").replace(b" )", b")").replace(b"[ ", b"[").replace(b" ]", b"]")


def parse_fetch(data: list[Any], wanted: Iterable[int], where: str) -> FetchData:
    """UID FETCH reply data (from imaplib) as ``{uid: {item: value}}``, first answer wins.

    Only requested UIDs are kept. Items of one UID spread over several responses are
    merged; an item answered twice keeps its first value (a later body must not silently
    replace the one already seen) and the oddity is logged.
    """
    wanted = set(wanted)
    out: FetchData = {}
    repeated: set[int] = set()
    tokens = gen_parsed_response([d for d in data if d is not None])
    for _seq in tokens:
        items = next(tokens, None)
        if not isinstance(items, tuple) or len(items) % 2:
            raise BadReply("a malformed FETCH response")
        values: dict[bytes, Any] = {}
        for key, value in zip(items[::2], items[1::2], strict=True):
            word = fetch_key(key) if isinstance(key, bytes) else b""
            values[word] = value
        uid = _number(values.pop(b"UID", None))
        if uid is None or uid not in wanted:
            continue  # an unsolicited update (flags) or a UID nobody asked for
        date = values.get(b"INTERNALDATE")
        if isinstance(date, bytes):
            try:
                values[b"INTERNALDATE"] = parse_to_datetime(date, normalise=False)
            except ValueError:
                values[b"INTERNALDATE"] = None
        kept = out.setdefault(uid, {})
        for word, value in values.items():  # a server may split one message's items
            if word not in kept:
                kept[word] = value
            elif kept[word] != value:
                repeated.add(uid)
    if repeated:
        log.warning(
            "%s answered UID(s) %s more than once in one FETCH; kept the first answer",
            where,
            sequence_set(repeated),
        )
    return out
