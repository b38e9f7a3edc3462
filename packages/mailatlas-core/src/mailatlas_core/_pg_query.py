"""The SQL behind ``list`` on PostgreSQL: the filters of :class:`ListFilter`, as in SQLite.

Each filter means what it means in :mod:`mailatlas_core._query`: ``query`` is the
MailAtlas search syntax (run on the ``search`` tsvector, see :mod:`._pg_search`),
``sender`` an address (exact, any case) or a domain or part of the display name,
``to``/``cc`` an address in that role, dates compared as UTC ISO-8601 text.
"""

from __future__ import annotations

from typing import Any

from ._pg_search import search_query
from ._query import Dialect, _escape_like, filter_conditions
from ._store import ListFilter

__all__ = ["pg_count_query", "pg_list_query"]

_REF_COLUMNS = "d.id, d.subject, d.source_kind, d.created_at, d.sender_email, d.received_at"


def _sender(value: str) -> tuple[str, list[Any]]:
    value = value.strip()
    if "@" in value.strip("@"):
        return "lower(d.sender_email) = lower(%s)", [value]
    domain = _escape_like(value.lstrip("@").lower())
    return (
        "(lower(d.sender_email) LIKE %s OR lower(d.sender_email) LIKE %s"
        " OR d.sender_name ILIKE %s)",
        ["%@" + domain, "%." + domain, "%" + _escape_like(value) + "%"],
    )


def _recipient(role: str, address: str) -> tuple[str, list[Any]]:
    """Mail with ``address`` among its ``role`` recipients (``metadata.recipients``)."""
    path = f"d.metadata -> 'recipients' -> '{role}'"
    sql = (
        "EXISTS (SELECT 1 FROM json_array_elements(CASE WHEN json_typeof("
        f"{path}) = 'array' THEN {path} ELSE '[]'::json END) r"
        " WHERE lower(r ->> 'email') = lower(%s))"
    )
    return sql, [address.strip()]


# A search matches the message itself, or the text of one of its attachments.
_IN_BODY = "d.search @@ %s::tsquery"
_IN_ATTACHMENT = "d.id IN (SELECT document_id FROM asset_texts WHERE search @@ %s::tsquery)"
_ORDER = "ORDER BY d.received_at DESC NULLS LAST, d.created_at DESC, d.seq"


POSTGRES = Dialect(mark="%s", find="strpos", sender=_sender, recipient=_recipient)
"""PostgreSQL's spelling of the filters (their rule is shared: ``_query.filter_conditions``)."""


def _where(flt: ListFilter) -> tuple[list[str], list[Any]]:
    """The conditions of every filter but ``query`` (see :func:`pg_list_query`)."""
    return filter_conditions(flt, POSTGRES)


def pg_list_query(flt: ListFilter, *, walk: bool = False) -> tuple[str, list[Any]]:
    """``list``: newest first by arrival (undated last, as in SQLite), filtered, paged.

    A search is two branches, each taking its first ``offset + limit`` rows in that
    order: the documents whose text matches and those with a matching attachment; their
    union, sorted, gives the page. As in SQLite (:func:`._query.list_query`), the caller
    says how: a search that matches a large part of the store (``walk``) walks the date
    index and stops after the page; any other reads its matches from the GIN index and
    sorts them. The planner is not left to choose: it guesses a word's frequency, and a
    wrong guess for a rare word walked the whole table.
    """
    where, params = _where(flt)
    query = search_query(flt.query) if flt.query else None
    page = [max(0, flt.limit), max(0, flt.offset)]
    if query is None:
        sql = f"SELECT {_REF_COLUMNS} FROM documents d{_and(where)} {_ORDER} LIMIT %s OFFSET %s"
        return sql, [*params, *page]
    branches = []
    for match in (_IN_BODY, _IN_ATTACHMENT):
        rows = f"SELECT {_REF_COLUMNS}, d.seq FROM documents d{_and([match, *where])}"
        if not walk:  # OFFSET 0 keeps the ORDER BY from choosing the plan of the rows
            rows = f"SELECT * FROM ({rows} OFFSET 0) d"
        branches.append(f"({rows} {_ORDER} LIMIT %s)")
    sql = (
        f"SELECT {_REF_COLUMNS} FROM ({branches[0]} UNION {branches[1]}) d"
        f" {_ORDER} LIMIT %s OFFSET %s"
    )
    top = page[0] + page[1]
    return sql, [query, *params, top, query, *params, top, *page]


def pg_count_query(flt: ListFilter) -> tuple[str, list[Any]]:
    """What ``list`` would page through, counted (limit and offset ignored)."""
    where, params = _where(flt)
    query = search_query(flt.query) if flt.query else None
    if query is not None:
        where.insert(0, f"({_IN_BODY} OR {_IN_ATTACHMENT})")
        params[:0] = [query, query]
    return "SELECT count(*) FROM documents d" + _and(where), params


def _and(where: list[str]) -> str:
    return " WHERE " + " AND ".join(where) if where else ""
