"""``normalize_whitespace`` gives the answers it gave with its regex "anything to do?" checks.

The checks that decide whether a text needs the line-by-line passes are plain string
searches now (issue 15: the regex scanned the whole text, a quarter of the cleaning).
The reference below is the earlier function, verbatim; the new one must agree with it
on every text: generated ones (every kind of blank, line end and padding space) and
the text of every corpus and benchmark message.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from mailatlas_clean import iter_mbox
from mailatlas_clean.cleaning import _whitespace
from mailatlas_clean.cleaning._whitespace import (
    _PADDING,
    _collapse_padding,
    _strip_line_ends,
    _strip_lines,
    normalize_whitespace,
)

from devkit.mailgen import generate_messages
from tests.conftest import corpus_files

_MAY_TRAIL = re.compile(r"[ \t]\n|[ \t]$")
_BLANK_RUN = re.compile(r"\n{3,}")


def reference(text: str) -> tuple[str, dict[str, int]]:
    """normalize_whitespace before issue 15 (regex checks)."""
    collapsed = trimmed = 0
    if _PADDING.search(text):
        text, collapsed = _collapse_padding(text)
        text, trimmed = _strip_line_ends(text)
    elif _MAY_TRAIL.search(text):
        text, trimmed = _strip_line_ends(text)
    before = text.count("\n")
    text = _BLANK_RUN.sub("\n\n", text).strip("\n")
    return text, {
        "trimmed_lines": trimmed,
        "collapsed_runs": collapsed,
        "removed_blank_lines": before - text.count("\n"),
    }


PIECES = [
    " ", "\t", "\n", "\n\n", "\n\n\n", "\r", "a", "word", "-- ", "--", "\u00a0", "\u2000",
    "\u2009", "\u200a", "\u200b", "\u202f", "\u205f", "\u3000", "\u00e9", "  ", " \n",
    "\t\n", "x\u00a0\u00a0y", "10\u00a0€",
]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
@example("a ")
@example("a\t")
@example("a \n")
@example("a\n\n\n\nb")
@example("\u00e9 \nb")
@example("-- \nsig")
def test_same_answers_as_the_regex_checks(text: str) -> None:
    assert normalize_whitespace(text) == reference(text)


def _texts() -> list[str]:
    raws = list(generate_messages(300, seed=5))
    for path in corpus_files():
        if path.suffix == ".mbox":
            raws.extend(m.raw for m in iter_mbox(path))
        else:
            raws.append(path.read_bytes())
    texts = []
    for raw in raws:
        text = raw.decode("utf-8", "replace")
        texts += [text, text.replace("\r\n", "\n")]
    return texts


@pytest.mark.corpus
def test_same_answers_on_real_mail() -> None:
    texts = _texts()
    for text in texts:
        assert normalize_whitespace(text) == reference(text)
    assert len(texts) > 600


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join), st.integers(1, 12))
@example("a \n-- \nb \n", 1)
@example("-- ", 1)
def test_a_long_text_is_stripped_in_pieces_with_the_same_answer(text: str, piece: int) -> None:
    # Pieces of ~1 MB cut after a line end keep a long text's lines from being held all
    # at once (peak memory); with tiny pieces every cut position is tried.
    whole = _strip_lines(text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_whitespace, "_PIECE", piece)
        assert _strip_line_ends(text) == whole
