"""The SQL behind ``list``: search syntax, filters, paging and counting.

Search text is read as a small, documented subset of SQLite FTS5 syntax and rewritten
into a safe FTS5 query: ``"exact phrases"``, ``word*`` prefixes, ``AND``/``OR``/``NOT``
(in capitals) and parentheses. Every other word is quoted, so an address
(``ada@example.com``), a hyphenated or dotted word is searched for as written instead
of failing as FTS5 syntax.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ._errors import InvalidFilterError
from ._ids import normalize_message_id
from ._store import ListFilter

__all__ = [
    "COMMON_QUERY_THRESHOLD",
    "SEARCH_HELP",
    "SEEK_WALK_MAX",
    "SQLITE",
    "Dialect",
    "Plan",
    "count_query",
    "filter_conditions",
    "flag_clause",
    "fts_query",
    "is_search_error",
    "list_query",
    "search_error",
]

# Above this many matches, walking the date index beats sorting the matches.
COMMON_QUERY_THRESHOLD = 5000
# When that walk should pass at most this many rows to fill the page, it asks the
# full-text index about each row it passes (a seek, a fraction of a millisecond);
# otherwise it checks rows against the list of all matches, made once (for 100,000
# matches, about 100 ms).
SEEK_WALK_MAX = 200

# How ``list`` finds a search's page: sort the matches ("sort"), or walk the date index
# checking each row against the list of matches ("walk") or by a seek ("walk_seek").
Plan = Literal["sort", "walk", "walk_seek"]

SEARCH_HELP = (
    'Words must all match; "exact phrase"; parse* (prefix); invoice OR budget; '
    "invoice NOT draft; parentheses group (operators in capitals). Searches "
    "subject, sender, To/Cc/Bcc and body, and the text of each attachment "
    "(a query matches the message or one attachment)."
)

# Blanks are skipped from the first one only, and never given back: linear on long runs.
_TOKEN = re.compile(
    r'(?<!\s)\s*+(?:"(?P<phrase>[^"]*)(?P<closed>"?)|(?P<paren>[()])|(?P<word>[^\s()"]+))'
)
_OPERATORS = {"AND", "OR", "NOT"}
# The documents with an attachment whose text matches.
_TEXT_HITS = (
    "SELECT document_id FROM asset_texts"
    " WHERE seq IN (SELECT rowid FROM asset_texts_fts WHERE asset_texts_fts MATCH ?)"
)
# Whether document ``d`` matches: the full-text index seeks to its row (and to the rows of
# its attachments' texts) instead of listing every match first.
_MATCHES_ROW = (
    "(EXISTS (SELECT 1 FROM documents_fts WHERE documents_fts MATCH ? AND rowid = d.seq)"
    " OR EXISTS (SELECT 1 FROM asset_texts a JOIN asset_texts_fts"
    " ON asset_texts_fts.rowid = a.seq WHERE a.document_id = d.id"
    " AND asset_texts_fts MATCH ?))"
)
_DATE_COLUMNS = {"sent": "coalesce(d.published_at, d.received_at)", "received": "d.received_at"}


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def fts_query(text: str) -> str:
    """Rewrite search text into an FTS5 query (see the module docstring).

    Raises:
        InvalidFilterError: an unclosed quote (other syntax errors, such as a dangling
            ``OR``, are reported by SQLite when the query runs).
    """
    out: list[str] = []
    for token in _tokens(text):
        # FTS5 joins adjacent phrases with an implicit AND, but not a phrase and a
        # parenthesised group: write the AND out wherever one operand follows another.
        starts_operand = token not in _OPERATORS and token != ")"
        if starts_operand and out and out[-1] not in (*_OPERATORS, "("):
            out.append("AND")
        out.append(token)
    return " ".join(out)


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    stripped = text.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if match is None:  # pragma: no cover - the pattern matches any non-space text
            break
        position = match.end()
        word = match["word"]
        if match["phrase"] is not None:
            if not match["closed"]:
                raise InvalidFilterError(f"search {text!r} has an unclosed quote")
            if match["phrase"].strip():
                tokens.append(_quote(match["phrase"]))
        elif match["paren"]:
            tokens.append(match["paren"])
        elif word in _OPERATORS:
            tokens.append(word)
        elif word.endswith("*") and word.strip("*"):
            tokens.append(_quote(word.rstrip("*")) + "*")
        elif word.strip("*"):
            tokens.append(_quote(word))
    return tokens


def search_error(text: str, exc: Exception) -> InvalidFilterError:
    reason = str(exc).removeprefix("fts5: ")
    return InvalidFilterError(
        f"cannot read the search {text!r} ({reason}) — see `mailatlas list --help` for the syntax"
    )


def is_search_error(exc: Exception) -> bool:
    """An SQLite error that a bad search string (not the store) caused."""
    text = str(exc)
    return text.startswith("fts5:") or "unterminated string" in text or "malformed MATCH" in text


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _sender(value: str) -> tuple[str, list[Any]]:
    """An address matches exactly; anything else a domain or part of the display name."""
    value = value.strip()
    if "@" in value.strip("@"):
        return "d.sender_email = ? COLLATE NOCASE", [value]
    domain = _escape_like(value.lstrip("@").lower())
    return (
        "(lower(d.sender_email) LIKE ? ESCAPE '\\' OR lower(d.sender_email) LIKE ? ESCAPE '\\'"
        " OR d.sender_name LIKE ? ESCAPE '\\')",
        ["%@" + domain, "%." + domain, "%" + _escape_like(value) + "%"],
    )


def _recipient(role: str, address: str) -> tuple[str, list[Any]]:
    """Mail with ``address`` among its ``role`` (to, cc) recipients.

    The full-text index narrows to documents that mention the address anywhere among
    their recipients; the metadata then says in which role.
    """
    sql = (
        "d.seq IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?)"
        " AND EXISTS (SELECT 1 FROM json_each(d.metadata, '$.recipients." + role + "') r"
        " WHERE json_extract(r.value, '$.email') = ? COLLATE NOCASE)"
    )
    return sql, ["recipients : " + _quote(address.strip()), address.strip()]


def _where(flt: ListFilter, *, plan: Plan) -> tuple[str, list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    source = "documents d"
    match = fts_query(flt.query) if flt.query else ""
    if match:
        # A document matches when the message itself does, or the text of one of its
        # attachments does (each on its own: see SEARCH_HELP).
        if plan != "sort":
            source = "documents d INDEXED BY documents_newest"
            if plan == "walk_seek":
                where.append(_MATCHES_ROW)
            else:
                where.append(
                    "(d.seq IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?)"
                    f" OR d.id IN ({_TEXT_HITS}))"
                )
        else:
            source = (
                "(SELECT rowid AS seq FROM documents_fts WHERE documents_fts MATCH ?"
                f" UNION SELECT d2.seq FROM ({_TEXT_HITS}) h JOIN documents d2"
                " ON d2.id = h.document_id) m JOIN documents d ON d.seq = m.seq"
            )
        params.extend([match, match])
    clauses, values = filter_conditions(flt, SQLITE)
    return source, where + clauses, params + values


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between the backends' SQL for the same filter."""

    mark: str  # the placeholder: SQLite ``?``, psycopg ``%s``
    find: str  # substring position: SQLite ``instr``, PostgreSQL ``strpos``
    sender: Callable[[str], tuple[str, list[Any]]]
    recipient: Callable[[str, str], tuple[str, list[Any]]]


def filter_conditions(flt: ListFilter, dialect: Dialect) -> tuple[list[str], list[Any]]:
    """The conditions (on ``documents d``) of every filter but ``query``, one rule for
    every backend; each clause takes its ``?``-style marks in ``dialect``'s spelling."""
    mark = dialect.mark
    where: list[str] = []
    params: list[Any] = []
    date_column = _DATE_COLUMNS.get(flt.date_field)
    if date_column is None:
        raise InvalidFilterError(f"date_field must be sent or received, not {flt.date_field!r}")
    if flt.since:
        where.append(f"{date_column} >= {mark}")
        params.append(flt.since)
    if flt.until:
        where.append(f"{date_column} < {mark}")
        params.append(flt.until)
    if flt.sender:
        clause, values = dialect.sender(flt.sender)
        where.append(clause)
        params.extend(values)
    for role, address in (("to", flt.to), ("cc", flt.cc)):
        if address:
            clause, values = dialect.recipient(role, address)
            where.append(clause)
            params.extend(values)
    if flt.message_id:
        where.append(f"d.message_id = {mark}")
        params.append(normalize_message_id(flt.message_id))
    if flt.source_kind:
        where.append(f"d.source_kind = {mark}")
        params.append(flt.source_kind)
    if flt.folder:
        clause, values = _in_folder(flt.folder, mark)
        where.append(f"EXISTS (SELECT 1 FROM locations l WHERE l.document_id = d.id AND {clause})")
        params.extend(values)
    if flt.thread_id:
        where.append(f"d.thread_id = {mark}")
        params.append(flt.thread_id)
    if flt.flagged or flt.unread or flt.keyword:
        clause, values = flag_clause(flt, find=dialect.find, mark=mark)
        where.append(clause)
        params.extend(values)
    return where, params


def _in_folder(folder: str, mark: str) -> tuple[str, list[Any]]:
    """``l`` is in ``folder``; INBOX in any case is one folder (RFC 3501)."""
    if folder.upper() == "INBOX":
        return "upper(l.folder) = 'INBOX'", []
    return f"l.folder = {mark}", [folder]


SQLITE = Dialect(mark="?", find="instr", sender=_sender, recipient=_recipient)
"""SQLite's spelling of the filters."""


def flag_clause(flt: ListFilter, *, find: str = "instr", mark: str = "?") -> tuple[str, list[Any]]:
    """One live IMAP location (in the folder, if given) must meet every flag condition.

    ``find(haystack, needle)`` is the backend's substring position (SQLite ``instr``,
    PostgreSQL ``strpos``), ``mark`` its placeholder.
    """
    conditions = ["l.document_id = d.id", "l.kind = 'imap'", "l.removed_at IS NULL"]
    params: list[Any] = []
    if flt.folder:
        clause, values = _in_folder(flt.folder, mark)
        conditions.append(clause)
        params.extend(values)
    if flt.flagged:
        conditions.append(f"{find}(' ' || l.flags || ' ', ' \\Flagged ') > 0")
    if flt.unread:  # NULL (not known) is not unread
        conditions.append(f"{find}(' ' || l.flags || ' ', ' \\Seen ') = 0")
    if flt.keyword:
        keyword = flt.keyword.strip()
        if not keyword or any(c.isspace() for c in keyword):
            raise InvalidFilterError(f"keyword must be one word, not {flt.keyword!r}")
        conditions.append(f"{find}(' ' || lower(l.keywords) || ' ', {mark}) > 0")
        params.append(f" {keyword.lower()} ")
    return "EXISTS (SELECT 1 FROM locations l WHERE " + " AND ".join(conditions) + ")", params


def list_query(flt: ListFilter, *, plan: Plan = "sort") -> tuple[str, list[Any]]:
    """Build the SQL for ``list``: newest first, then filters, then paging.

    A search term that matches few documents is answered from the full-text index and
    sorted (``plan="sort"``, cheap). One that matches a large part of the store is
    answered by walking the date index newest-first and keeping matching rows, which
    stops after one page instead of sorting every match. The walk asks the full-text
    index about each row as it reaches it (``"walk_seek"``) when the page is near, else
    checks rows against the list of all matches, made once (``"walk"``). Every plan
    gives the same rows in the same order.
    """
    source, where, params = _where(flt, plan=plan)
    sql = (
        "SELECT d.id, d.subject, d.source_kind, d.created_at, d.sender_email, d.received_at"
        f" FROM {source}"
        + (" WHERE " + " AND ".join(where) if where else "")
        # SQLite sorts NULL lowest, so undated documents come last without a NULL test
        # (which would keep the date index from serving the ORDER BY).
        + " ORDER BY d.received_at DESC, d.created_at DESC"
        " LIMIT ? OFFSET ?"
    )
    params.extend([max(0, flt.limit), max(0, flt.offset)])
    return sql, params


def count_query(flt: ListFilter) -> tuple[str, list[Any]]:
    """The SQL that counts what ``list`` would page through (limit and offset ignored)."""
    source, where, params = _where(flt, plan="sort")
    sql = f"SELECT count(*) FROM {source}" + (" WHERE " + " AND ".join(where) if where else "")
    return sql, params
