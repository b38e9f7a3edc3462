"""The HTML the Rust libraries see comes in pieces bounded in characters AND tags.

html5ever's DOM costs about 270 bytes per tag: a 512 KB piece of ``<b>x</b>`` took 35 MB
in html-to-markdown (4.4x an 8 MB message, issue 11's memory bound), whatever the
message size. So a piece also ends after ``PIECE_TAGS`` tags. And the pieces' outputs are
joined without holding every piece beside the result (``join_pieces``).
"""

from __future__ import annotations

import mailatlas_clean.parser._html_bounds as bounds
from hypothesis import given
from hypothesis import strategies as st
from mailatlas_clean.parser._html_bounds import PIECE_CHARS, PIECE_TAGS, html_pieces, join_pieces


def test_tag_dense_html_is_cut_by_its_tag_count() -> None:
    markup = "<html><body>" + "<b>x</b>" * 200_000  # 1.6 MB, 400,000 tags
    pieces = list(html_pieces(markup))
    assert "".join(pieces) == markup
    assert len(pieces) >= 400_000 // (PIECE_TAGS + bounds._COUNT_STEP)
    for piece in pieces:
        assert piece.count("<") <= PIECE_TAGS + bounds._COUNT_STEP + 1
    assert all(piece.startswith(("<b>", "</b>")) for piece in pieces[1:])  # before a tag


def test_text_heavy_html_is_still_cut_by_its_size_only() -> None:
    para = "<p>" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 20 + "</p>\n"
    markup = para * (3 * PIECE_CHARS // len(para))
    pieces = list(html_pieces(markup))
    assert "".join(pieces) == markup
    assert len(pieces) == 3
    assert all(len(piece) <= PIECE_CHARS + len(para) for piece in pieces)


def test_ordinary_mail_html_is_one_piece() -> None:
    # The densest corpus HTML has 1,429 tags in 35 KB; a newsletter a few thousand.
    markup = '<table><tr><td class="c">cell</td></tr></table>\n' * 2_000  # 12,000 tags
    assert list(html_pieces(markup)) == [markup]


@given(st.lists(st.sampled_from(["", "a", "\n", "é", "x y", "日本", "\n\n"]), max_size=12))
def test_join_pieces_is_str_join(pieces: list[str]) -> None:
    for sep in ("", "\n"):
        assert join_pieces(iter(pieces), sep) == sep.join(pieces)


NEWLINE_PIECES = ["", "a", "\n", "\n\n", "b\n", "\nc", " \n", "é\n\nf"]


@given(st.lists(st.sampled_from(NEWLINE_PIECES), max_size=12))
def test_stripped_pieces_are_the_joined_text_stripped_of_newlines(pieces: list[str]) -> None:
    from mailatlas_clean.parser._html_text import _separated, _stripped

    assert "".join(_stripped(iter(pieces))) == "".join(pieces).strip("\n")
    joined = "\n".join(pieces)
    assert "".join(_separated(iter(pieces))) == joined
    assert "".join(_stripped(_separated(iter(pieces)))) == joined.strip("\n")


def test_long_html_pieces_are_joined_with_a_newline_as_before() -> None:
    from mailatlas_clean.parser._html_text import html_to_text

    para = "<p>" + "word " * 100 + "</p>\n"
    markup = para * (2 * PIECE_CHARS // len(para))  # two pieces or more
    parts = [html_to_text(p)[0] for p in html_pieces(markup)]
    assert len(parts) >= 2
    assert html_to_text(markup)[0] == "\n".join(parts)
    assert html_to_text(markup, strip_newlines=True)[0] == "\n".join(parts).strip("\n")
