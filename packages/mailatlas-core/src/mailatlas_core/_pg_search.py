"""Full-text search for the PostgreSQL backend, with the ``--query`` semantics of SQLite.

SQLite's index (FTS5, ``unicode61 remove_diacritics 2``) splits text into runs of
letters and digits, lower-cases them and strips diacritics; the search syntax
(:mod:`mailatlas_core._query`) has ``"phrases"``, ``prefix*``, ``AND``/``OR``/``NOT`` and
parentheses. PostgreSQL's own text parser splits differently (an address is one token, a
hyphenated word three) and depends on the database's locale, so this module does the
splitting itself, the way FTS5 does, and hands PostgreSQL finished lexemes:
:func:`search_vector` writes a ``tsvector`` literal (lexeme:positions) and
:func:`search_query` a ``tsquery`` literal, both cast as they are (no parser, no
dictionary, no stemming). Where the two still differ is listed in docs/scale-out.md.
"""

from __future__ import annotations

import re
import unicodedata

from ._errors import InvalidFilterError
from ._query import _OPERATORS, _tokens

__all__ = ["search_query", "search_text", "search_vector"]

_WORD = re.compile(r"[^\W_]+")
# Combining diacritical marks after a Latin letter (what NFD splits off "é"): FTS5's
# remove_diacritics folds Latin letters only (Greek "ά" keeps its accent).
_MARKS = re.compile(
    "(?<=[A-Za-z\u00c0-\u024f\u1e00-\u1eff])"
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+"
)
# PostgreSQL's limits: a lexeme under 2 KB, positions 1..16383 (at most 256 kept per
# lexeme), a whole tsvector under 1 MB. Stay well inside the last one.
_MAX_LEXEME_BYTES = 2046
_MAX_POSITION = 16383
_MAX_POSITIONS = 256
_MAX_VECTOR_BYTES = 900_000
# A lexeme no text can produce (words never hold "_"): a phrase without words.
_NOTHING = "'_'"


def _words(text: str) -> list[str]:
    """Lower-cased runs of letters and digits, diacritics removed (FTS5's unicode61)."""
    text = text.lower()
    if not text.isascii():
        text = unicodedata.normalize("NFC", _MARKS.sub("", unicodedata.normalize("NFD", text)))
    return _WORD.findall(text)


def search_text(*fields: str | None) -> list[str]:
    """The words of a document's searched fields, in order (subject, sender, recipients,
    body)."""
    words: list[str] = []
    for value in fields:
        if value:
            words.extend(_words(value))
    return words


def _literal(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def search_vector(*fields: str | None) -> str:
    """A ``tsvector`` literal of the searched fields (cast with ``::tsvector``)."""
    positions: dict[str, list[int]] = {}
    size = 0
    for index, word in enumerate(search_text(*fields), start=1):
        seen = positions.get(word)
        if seen is None:  # a word's size is taken once, not at each of its occurrences
            length = len(word) if word.isascii() else len(word.encode("utf-8"))
            if length > _MAX_LEXEME_BYTES:
                continue
            size += length + 8
            if size > _MAX_VECTOR_BYTES:
                break  # an enormous vocabulary: the rest of the text is not indexed
            positions[word] = [min(index, _MAX_POSITION)]
        elif len(seen) < _MAX_POSITIONS and seen[-1] < _MAX_POSITION:
            seen.append(min(index, _MAX_POSITION))
            size += 2
    # Words are letters and digits only: no quote or backslash to escape (_literal).
    return " ".join(f"'{word}':{','.join(map(str, where))}" for word, where in positions.items())


def _operand(token: str) -> str:
    """A quoted FTS5 phrase (``"..."`` or ``"..."*``) as a tsquery operand."""
    prefix = token.endswith("*")
    body = token[1 : -2 if prefix else -1].replace('""', '"')
    words = _words(body)
    if not words:
        return _NOTHING  # FTS5: a phrase with no words matches nothing
    parts = [_literal(w) for w in words]
    if prefix:
        parts[-1] += ":*"
    return parts[0] if len(parts) == 1 else "(" + " <-> ".join(parts) + ")"


def search_query(text: str) -> str | None:
    """The ``tsquery`` literal of search text, or ``None`` when it has no terms.

    Raises:
        InvalidFilterError: an unclosed quote, or operators and parentheses that do not
            make an expression (where SQLite's FTS5 reports a syntax error).
    """
    out: list[str] = []
    expect_operand = True
    depth = 0

    def bad(near: str) -> InvalidFilterError:
        return InvalidFilterError(
            f'cannot read the search {text!r} (syntax error near "{near}") — see '  # as FTS5
            "`mailatlas list --help` for the syntax"
        )

    for token in _tokens(text):
        if expect_operand:
            if token == "(":
                depth += 1
                out.append("(")
            elif token in _OPERATORS or token == ")":
                raise bad(token)
            else:
                out.append(_operand(token))
                expect_operand = False
        elif token == ")":
            if depth == 0:
                raise bad(token)
            depth -= 1
            out.append(")")
        elif token in _OPERATORS:
            out.append({"AND": "&", "OR": "|", "NOT": "& !"}[token])
            expect_operand = True
        else:  # one operand after another: FTS5's implicit AND
            out.append("&")
            if token == "(":
                depth += 1
                out.append("(")
                expect_operand = True
            else:
                out.append(_operand(token))
                expect_operand = False
    if not out:
        return None
    if expect_operand or depth:
        raise bad("")
    return " ".join(out)
