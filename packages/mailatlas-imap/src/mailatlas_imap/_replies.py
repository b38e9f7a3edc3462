"""Reading what the server said, trusting none of it.

UIDs and UIDVALIDITY are 32-bit non-zero numbers (RFC 3501 ``nz-number``); anything
else (``abc``, ``0``, ``-1``, ``2**63``) is refused here, before it can reach the store.
A FETCH reply may name a UID twice or name UIDs nobody asked for: the first answer for a
requested UID wins, the rest are logged and dropped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from imapclient.datetime_util import parse_to_datetime
from imapclient.response_parser import gen_parsed_response

__all__ = [
    "MAX_MODSEQ",
    "MAX_UID",
    "FetchData",
    "FolderInfo",
    "UidRanges",
    "fetch_key",
    "parse_fetch",
    "parse_modseq",
    "parse_uids",
    "parse_vanished",
    "sequence_set",
]

log = logging.getLogger("mailatlas_imap")

MAX_UID = 2**32 - 1
MAX_MODSEQ = 2**63 - 1
FetchData = dict[int, dict[bytes, Any]]
UidRanges = list[tuple[int, int]]


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


# A FETCH response of numbers, FLAGS and MODSEQ only (sizes, flag changes): read with a
# regular expression, ten times faster than imapclient's general parser, which remains
# the reader of anything else (literals, quoted strings, other lists).
# Linear time (tests/hostile/test_regex_linearity.py): a word or number starts only where
# none goes on before it, and is never given back (possessive quantifiers, Python 3.11).
_SIMPLE_LINE = re.compile(rb"(?<!\d)\d++ \((.*)\)", re.S)
_SIMPLE_ITEM = re.compile(rb' ?(?<![A-Za-z0-9.])([A-Za-z0-9.]++) (?:(\d++)|\(([^()"{}]*+)\))')
_SIMPLE_LISTS = frozenset({b"FLAGS", b"MODSEQ"})


def _simple_fetch(data: list[Any]) -> list[dict[bytes, Any]] | None:
    """The items of each response if every one is simple, else ``None``."""
    found: list[dict[bytes, Any]] = []
    for line in data:
        if not isinstance(line, bytes):
            return None
        match = _SIMPLE_LINE.fullmatch(line)
        if match is None:
            return None
        body, pos = match.group(1), 0
        values: dict[bytes, Any] = {}
        while pos < len(body):
            item = _SIMPLE_ITEM.match(body, pos)
            if item is None:
                return None
            word, number, listed = fetch_key(item.group(1)), item.group(2), item.group(3)
            if number is not None:
                values[word] = int(number)
            elif word not in _SIMPLE_LISTS:
                return None
            elif word == b"MODSEQ":
                if not listed.isdigit():
                    return None
                values[word] = (int(listed),)
            else:
                values[word] = tuple(listed.split())
            pos = item.end()
        found.append(values)
    return found


# A FETCH response with literals (bodies, header probes), as imaplib hands it over: one
# ``(text ending in {n}, literal)`` pair per literal, then the rest of the line. Read
# here item by item with the regular expressions below, giving exactly what imapclient's
# general parser gives (tests/imap/test_fetch_parsing.py), about ten times faster; any
# other shape (nested lists, literals in lists, odd escapes) goes to the general parser.
_HEAD = re.compile(rb"(?<!\d)\d++ \(")
_ITEM = re.compile(
    # the item's name (BODY[...]<origin>), where no name goes on before it
    rb"(?<![A-Za-z0-9.\-])([A-Za-z][A-Za-z0-9.\-]*+(?:\[[^\]\r\n]*+\](?:<\d++>)?)?) "
    rb"(?:(\d++)|(NIL)|\x22((?:[^\x22\\\x00-\x1f]|\\[\x22\\])*+)\x22"  # number, NIL, "quoted"
    rb"|\(([^()\x22%\[\]{}\x00-\x1f\x7f]*+)\)|\{(\d++)\}\Z)"  # (a flat list), {literal}
)
_ESCAPED = re.compile(rb"\\([\x22\\])")


def _atom(word: bytes) -> Any:
    """An unquoted word as imapclient reads it: NIL, a number (not ``0123``), or bytes."""
    if word == b"NIL":
        return None
    if word.isdigit() and (word[:1] != b"0" or len(word) == 1):
        return int(word)
    return word


def _literal_fetch(data: list[Any]) -> list[dict[bytes, Any]] | None:
    """The items of each response if every one has the common shape, else ``None``."""
    found: list[dict[bytes, Any]] = []
    segments = iter(data)
    for segment in segments:
        text, literal = segment if isinstance(segment, tuple) else (segment, None)
        if not isinstance(text, bytes):
            return None
        head = _HEAD.match(text)
        if head is None:
            return None
        pos = head.end()
        values: dict[bytes, Any] = {}
        while True:
            item = _ITEM.match(text, pos)
            if item is None or item.group(1) == b"NIL":
                return None
            name, number, nil, quoted, listed, size = item.groups()
            value: Any
            if size is not None:  # the literal ends this segment: the response goes on
                if not isinstance(literal, bytes) or len(literal) != int(size):
                    return None
                value = literal
                segment = next(segments, None)
                if segment is None:
                    return None
                text, literal = segment if isinstance(segment, tuple) else (segment, None)
                if not isinstance(text, bytes):
                    return None
                pos = 0
            else:
                if number is not None:
                    value = _atom(number)
                elif nil is not None:
                    value = None
                elif quoted is not None:
                    value = _ESCAPED.sub(rb"\1", quoted)
                else:
                    value = tuple(_atom(w) for w in listed.split(b" ") if w)
                pos = item.end()
            values[fetch_key(name)] = value
            after = text[pos : pos + 1]
            if after == b" ":
                pos += 1
            elif after == b")" and pos + 1 == len(text) and literal is None:
                break
            else:
                return None
        found.append(values)
    return found


def _general_fetch(data: list[Any]) -> list[dict[bytes, Any]]:
    found: list[dict[bytes, Any]] = []
    tokens = gen_parsed_response(data)
    for _seq in tokens:
        items = next(tokens, None)
        if not isinstance(items, tuple) or len(items) % 2:
            raise BadReply("a malformed FETCH response")
        values: dict[bytes, Any] = {}
        for key, value in zip(items[::2], items[1::2], strict=True):
            word = fetch_key(key) if isinstance(key, bytes) else b""
            values[word] = value
        found.append(values)
    return found


def parse_fetch(data: list[Any], wanted: Iterable[int], where: str) -> FetchData:
    """UID FETCH reply data (from imaplib) as ``{uid: {item: value}}``, first answer wins.

    Only requested UIDs are kept (``wanted`` may be a ``range``: it is not expanded).
    Items of one UID spread over several responses are merged; an item answered twice
    keeps its first value (a later body must not silently replace the one already seen)
    and the oddity is logged.
    """
    wanted = wanted if isinstance(wanted, range) else set(wanted)
    out: FetchData = {}
    repeated: set[int] = set()
    lines = [d for d in data if d is not None]
    for values in _simple_fetch(lines) or _literal_fetch(lines) or _general_fetch(lines):
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


def parse_vanished(lines: Iterable[object]) -> UidRanges:
    """The UID ranges of ``VANISHED [(EARLIER)] <uid set>`` responses (RFC 7162 §3.2.10).

    Kept as ranges: ``1:4294967295`` is one pair, not four billion numbers.
    """
    ranges: UidRanges = []
    for line in lines:
        if not isinstance(line, bytes):
            continue
        words = line.split()
        if words and words[0].upper() == b"(EARLIER)":
            words = words[1:]
        if len(words) != 1:
            raise BadReply(f"a malformed VANISHED response {_show(line)}")
        for part in words[0].split(b","):
            low, _, high = part.partition(b":")
            a, b = _number(low), _number(high or low)
            if a is None or b is None:
                raise BadReply(f"a VANISHED response with an invalid UID {_show(part)}")
            ranges.append((min(a, b), max(a, b)))
    return ranges


def parse_modseq(value: object) -> int | None:
    """A FETCH ``MODSEQ`` item (``(12345)``) as a number, if it is a valid one."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    return _number(value, upper=MAX_MODSEQ)
