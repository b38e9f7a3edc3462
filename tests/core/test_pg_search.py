"""The PostgreSQL search translation (pure Python: no server needed).

The same search text must be accepted or refused as SQLite's FTS5 accepts or refuses
it, and the words a tsvector holds must be the words FTS5's unicode61 tokenizer
(``remove_diacritics 2``) finds. Both are checked against a real in-memory FTS5 table.
"""

from __future__ import annotations

import sqlite3

import pytest
from mailatlas_core._errors import InvalidFilterError
from mailatlas_core._pg_search import search_query, search_text, search_vector
from mailatlas_core._query import fts_query

QUERIES = [
    "invoice",
    "invoice march",
    "invoice OR budget",
    "budget NOT parser",
    "(invoice OR lunch) friday",
    "a (b OR c) NOT (d e)",
    '"exact phrase" pars*',
    "ada@example.com",
    "pizza-party e.g.",
    '"@@"',
    "invoice OR",
    "OR invoice",
    "NOT invoice",
    "(invoice",
    "invoice)",
    "()",
    "a AND AND b",
    "a NOT NOT b",
    "",
    "   ",
    "*",
]


def _fts5() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE VIRTUAL TABLE f USING fts5 (t, tokenize = 'unicode61 remove_diacritics 2')"
    )
    return conn


@pytest.mark.parametrize("text", QUERIES)
def test_the_same_searches_are_refused_as_in_sqlite(text: str) -> None:
    conn = _fts5()
    try:
        match = fts_query(text)
        if match:
            conn.execute("SELECT * FROM f WHERE f MATCH ?", (match,)).fetchall()
        sqlite_ok = True
    except (sqlite3.Error, InvalidFilterError):
        sqlite_ok = False
    try:
        search_query(text)
        pg_ok = True
    except InvalidFilterError:
        pg_ok = False
    assert pg_ok == sqlite_ok


def test_unclosed_quote_is_refused() -> None:
    with pytest.raises(InvalidFilterError, match="unclosed quote"):
        search_query('bad "query')


def test_queries_become_tsquery_literals() -> None:
    assert search_query("invoice") == "'invoice'"
    assert search_query("Invoice March") == "'invoice' & 'march'"
    assert search_query("pars*") == "'pars':*"
    assert search_query('"parser budget"') == "('parser' <-> 'budget')"
    assert search_query("ada@example.com") == "('ada' <-> 'example' <-> 'com')"
    assert search_query("budget NOT parser") == "'budget' & ! 'parser'"
    assert search_query("(a OR b) c") == "( 'a' | 'b' ) & 'c'"
    assert search_query("Café") == "'cafe'"
    assert search_query('"@@"') == "'_'"  # a phrase without words matches nothing
    assert search_query("  ") is None
    assert search_query("it's") == "('it' <-> 's')"


@pytest.mark.parametrize(
    "text",
    [
        "Café crème brûlée naïve ÅNGSTRÖM",
        "foo_bar e.g. ada@example.com pizza-party x1y2",
        "Straße ﬁne 日本語のテキスト Ελληνικά кириллица",
        "tabs\tand\nnew lines, 'quotes' \"double\" back\\slash",
    ],
)
def test_words_are_the_words_fts5_finds(text: str) -> None:
    conn = _fts5()
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(f, 'instance')")
    conn.execute("INSERT INTO f (t) VALUES (?)", (text,))
    fts5_words = [row[0] for row in conn.execute("SELECT term FROM v ORDER BY offset")]
    assert search_text(text) == fts5_words


def test_vector_literal_has_positions_and_stays_within_postgres_limits() -> None:
    assert search_vector("Hello world", None, "hello") == "'hello':1,3 'world':2"
    assert search_vector("it's") == "'it':1 's':2"
    many = " ".join(f"w{i:07d}" for i in range(200_000))  # 1.8 MB of distinct words
    vector = search_vector(many)
    assert len(vector.encode()) < 1_048_576 and "'w0000000':1" in vector
    again = search_vector(" ".join(["same"] * 20_000))
    positions = again.split(":")[1].split(",")
    assert len(positions) <= 256 and all(int(p) <= 16383 for p in positions)
