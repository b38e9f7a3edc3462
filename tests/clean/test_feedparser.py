"""The boundary matcher gives the stdlib's answers: line by line and tree by tree.

``mailatlas_clean.parser._feedparser`` reads multipart boundaries the way Python 3.13 does
(no fresh regex per multipart) on 3.11 and 3.12. Proven here against the stdlib's own
per-boundary regex (every line a generator can think of) and against the stock
``BytesFeedParser`` (the same tree for every message of the corpus, of the benchmark
generator, and of random nested multiparts).
"""

from __future__ import annotations

import email.feedparser
import re
import sys
from email.message import Message
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from mailatlas_clean import iter_mbox
from mailatlas_clean.parser import _feedparser
from mailatlas_clean.parser._feedparser import BoundaryMatcher, BytesFeedParser

from devkit.mailgen import generate_messages
from tests.conftest import corpus_files

# The stdlib's pattern (email/feedparser.py, 3.11 and 3.12).
HEAD = "(?P<sep>"
TAIL = r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"

boundary_chars = st.sampled_from(list("abcXYZ019'()+_,-./:=? \t\\[]*^$|{}\"\r\n=_\u00e9"))
boundaries = st.text(boundary_chars, max_size=12).map(str.rstrip)  # as get_boundary does
tails = st.lists(
    st.sampled_from(["-", "--", " ", "\t", "\r", "\n", "\r\n", "x", "a b"]), max_size=8
).map("".join)


def _stdlib_match(separator: str, line: str) -> re.Match[str] | None:
    return re.compile(HEAD + re.escape(separator) + TAIL).match(line)


def _groups(match: Any) -> tuple[str | None, ...] | None:
    if match is None:
        return None
    return match.group("end"), match.group("ws"), match.group("linesep")


@settings(max_examples=3000, deadline=None)
@given(boundaries, tails, st.sampled_from(["", "-", "x", " "]))
@example("abc", "--  \r\n", "")
@example("abc", "\r\r", "")
@example("abc", "\r\nx", "")
@example("abc", " \n\n", "")
@example("", "--", "")
def test_matcher_answers_like_the_stdlib_regex(boundary: str, tail: str, lead: str) -> None:
    separator = "--" + boundary
    for line in (lead + separator + tail, separator + tail, separator[:-1] + tail):
        expected = _groups(_stdlib_match(separator, line))
        assert _groups(BoundaryMatcher(separator).match(line)) == expected, repr(line)
        # The stand-in for re.compile routes the stdlib's pattern to the matcher.
        compiled = _feedparser._compile(HEAD + re.escape(separator) + TAIL)
        assert _groups(compiled.match(line)) == expected, repr(line)


def test_other_patterns_are_compiled_by_re() -> None:
    assert isinstance(_feedparser._compile(r"(\r\n|\r|\n)\Z"), re.Pattern)
    assert isinstance(_feedparser._compile(HEAD + "--a b" + TAIL), re.Pattern)  # not escaped
    # A separator ending in a blank (never from get_boundary) keeps the real regex.
    assert isinstance(_feedparser._compile(HEAD + re.escape("--a ") + TAIL), re.Pattern)
    assert isinstance(_feedparser._compile(HEAD + re.escape("--a") + TAIL), BoundaryMatcher)


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="3.13's parser has no per-boundary regex")
def test_the_matcher_is_in_use_before_3_13() -> None:
    assert BytesFeedParser._parsegen is not email.feedparser.FeedParser._parsegen


def _tree(raw: bytes, parser: type[email.feedparser.BytesFeedParser]) -> list[Any]:
    feed = parser()
    feed.feed(raw)
    message = feed.close()
    return [_part(part) for part in message.walk()]


def _part(part: Message) -> tuple[Any, ...]:
    payload = part.get_payload()
    return (
        part.get_content_type(),
        list(part.raw_items()),
        payload if isinstance(payload, str) else len(payload),
        part.preamble,
        part.epilogue,
        [type(d).__name__ for d in part.defects],
    )


def _same_tree(raw: bytes) -> None:
    assert _tree(raw, BytesFeedParser) == _tree(raw, email.feedparser.BytesFeedParser)


def _raw_messages() -> list[bytes]:
    raws: list[bytes] = []
    for path in corpus_files():
        if path.suffix == ".mbox":
            raws.extend(m.raw for m in iter_mbox(path))
        else:
            raws.append(path.read_bytes())
    return raws


@pytest.mark.corpus
def test_same_tree_as_the_stdlib_for_the_corpus() -> None:
    raws = _raw_messages()
    if not raws:
        pytest.skip("real-world corpus not found")
    multipart = 0
    for raw in raws:
        _same_tree(raw)
        multipart += b"boundary" in raw.lower()
    assert multipart > 100  # the corpus exercises the boundary reader


def test_same_tree_as_the_stdlib_for_generated_mail() -> None:
    for raw in generate_messages(400, seed=3):
        _same_tree(raw)


leaf = st.builds(
    lambda body: f"Content-Type: text/plain\n\n{''.join(body)}",
    st.lists(st.sampled_from(["a", " ", "\n", "\r\n", "-", "--", "\t", "x--"]), max_size=20),
)


def _multipart(boundary: str, parts: list[str], close: str, epilogue: str) -> str:
    body = "".join(f"--{boundary}\n{part}\n" for part in parts)
    return (
        f'Content-Type: multipart/mixed; boundary="{boundary}"\n\npreamble\n'
        f"{body}--{boundary}{close}{epilogue}"
    )


def _nest(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        _multipart,
        st.text(st.sampled_from(list("ab=_-. '()")), min_size=1, max_size=6),
        st.lists(children, max_size=3),
        st.sampled_from(["--", "-- ", "--\t\r\n", "", " ", "--x", "\r"]),
        st.sampled_from(["", "\n", "\nepilogue\n", "\r\n"]),
    )


@settings(max_examples=400, deadline=None)
@given(st.recursive(leaf, _nest, max_leaves=6))
def test_same_tree_as_the_stdlib_for_random_multiparts(message: str) -> None:
    _same_tree(message.encode("utf-8", "surrogateescape"))
