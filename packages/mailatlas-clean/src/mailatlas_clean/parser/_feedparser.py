"""The stdlib's ``BytesFeedParser`` without a fresh regex per multipart (Python < 3.13).

Up to Python 3.12, ``email.feedparser`` compiles a new boundary regex for every multipart
it reads, ``'(?P<sep>' + re.escape('--' + boundary) + TAIL``: boundaries are unique per
message, so ``re``'s cache never hits, and compiling was 11 % of a parse worker's time.
Python 3.13 reads boundaries without it (``line.startswith(separator)``, then one
module-level ``boundaryendRE.match(line, len(separator))`` for the rest of the line);
this module gives 3.11 and 3.12 that same matcher. The separator is a literal (the
pattern escapes it), so "starts with the separator, then TAIL matches from there" is the
very match the per-boundary regex makes; the match object it returns carries the same
``end``, ``ws`` and ``linesep`` groups the parser reads.

How: the stdlib's own ``_parsegen`` code runs with one global changed, ``re``, for which
a stand-in turns exactly that pattern into the 3.13 matcher and hands every other call
to ``re`` itself. Nothing is patched in the stdlib (other parsers in the process are
untouched), and if the stdlib's pattern is not the expected one (another version), the
stock parser is used as it is.
"""

from __future__ import annotations

import email.feedparser as _stdlib
import re
import sys
import types
from typing import Any

from ._header_budget import MAX_HEADER_BYTES, HeaderFieldsSkippedDefect, bounded_block
from ._part_budget import PartBudget

__all__ = ["BoundaryMatcher", "BytesFeedParser"]

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")  # linear: disjoint class and ends

_HEAD = "(?P<sep>"
_TAIL = r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"
# Python 3.13's email.feedparser.boundaryendRE, made linear wherever it starts (the regex
# audit runs it over long runs of spaces): the blanks are taken possessively (giving one
# back could only put a blank where a line end or the end must be), and only from just
# after a non-blank, which the separator always ends in (see _compile).
_BOUNDARY_END = re.compile(r"(?<![ \t])(?P<end>--)?(?P<ws>[ \t]*+)(?P<linesep>\r\n|\r|\n)?$")


class BoundaryMatcher:
    """``re.compile('(?P<sep>' + re.escape(separator) + TAIL).match``, without a regex
    of its own (Python 3.13's reading of boundary lines)."""

    __slots__ = ("_separator",)

    def __init__(self, separator: str) -> None:
        self._separator = separator

    def match(self, line: str) -> re.Match[str] | None:
        if not line.startswith(self._separator):
            return None
        return _BOUNDARY_END.match(line, len(self._separator))


def _unescape(escaped: str) -> str | None:
    """The text ``re.escape`` turned into ``escaped`` (``None`` if it cannot be one)."""
    out: list[str] = []
    chars = iter(escaped)
    for char in chars:
        if char == "\\":
            following = next(chars, None)
            if following is None:
                return None
            char = following
        out.append(char)
    return "".join(out)


def _compile(pattern: Any, flags: int = 0) -> Any:
    if (
        flags == 0
        and isinstance(pattern, str)
        and pattern.startswith(_HEAD)
        and pattern.endswith(_TAIL)
    ):
        escaped = pattern[len(_HEAD) : -len(_TAIL)]
        separator = _unescape(escaped)
        # Only a pattern that is exactly this separator escaped: then matching the
        # literal and the tail is the regex's own match. ``get_boundary`` strips
        # trailing blanks, so "--" + boundary never ends in one.
        if (
            separator is not None
            and re.escape(separator) == escaped
            and not separator.endswith((" ", "\t"))
        ):
            return BoundaryMatcher(separator)
    return re.compile(pattern, flags)


def _parsegen_with_matcher() -> Any:
    """The stdlib's ``FeedParser._parsegen`` reading boundaries with BoundaryMatcher, or
    ``None`` when this Python needs no help (3.13+) or its parser is not the expected one."""
    original = _stdlib.FeedParser._parsegen  # type: ignore[attr-defined]
    code = original.__code__
    if sys.version_info >= (3, 13) or _TAIL not in code.co_consts or original.__closure__:
        return None
    stand_in = types.ModuleType("re")
    stand_in.__dict__.update(re.__dict__)
    stand_in.compile = _compile  # type: ignore[attr-defined]
    scope = dict(_stdlib.__dict__, re=stand_in)
    function = types.FunctionType(code, scope, original.__name__, original.__defaults__)
    function.__qualname__ = original.__qualname__
    function.__kwdefaults__ = original.__kwdefaults__
    return function


_PARSEGEN = _parsegen_with_matcher()


class BytesFeedParser(_stdlib.BytesFeedParser):
    """``email.feedparser.BytesFeedParser``, same policy and same tree; a header block
    above :data:`~._header_budget.MAX_HEADER_BYTES` is cut as :mod:`._header_budget`
    cuts it before its fields are made (for the messages and parts the stdlib parser
    reads itself: small messages, and those :mod:`._multipart` leaves to it), and each
    part it makes is counted against ``part_budget``."""

    part_budget: PartBudget | None = None  # the parts it may make (:mod:`._part_budget`)

    def _new_message(self) -> None:
        if self.part_budget is not None:
            self.part_budget.take()
        super()._new_message()  # type: ignore[misc]

    def _parse_headers(self, lines: list[str]) -> None:
        if sum(map(len, lines)) > MAX_HEADER_BYTES:  # a character a byte (surrogateescape)
            block = "".join(lines).encode("ascii", "surrogateescape")
            kept, skipped = bounded_block(block)
            del block
            if skipped:
                text = kept.decode("ascii", "surrogateescape")
                lines = _LINE.findall(text)  # the parser's own line ends: \r\n, \r, \n
                cur = self._cur  # type: ignore[attr-defined]
                self.policy.handle_defect(cur, HeaderFieldsSkippedDefect())  # type: ignore[attr-defined]
        super()._parse_headers(lines)  # type: ignore[misc]


if _PARSEGEN is not None:
    BytesFeedParser._parsegen = _PARSEGEN  # type: ignore[attr-defined]
