"""Corpus-wide fidelity (issue 13): every part of every message stored, in its right text.

Each message of the whole corpus is parsed once per session (with no cleaning rule, so
none can hide a loss) next to the stdlib's reading of the same bytes; each test below is
one family of assertions over all of them. A test collects every failure first and then
asserts the list is empty, so one run shows them all.

Exceptions are listed per family, each with its reason; a listed message that passes
fails the test too, so the lists cannot go stale. To add a family: write a check (in
``devkit/fidelity.py`` if ``bench/fidelity.py`` should report it), an ``EXCEPTIONS_*``
dict and a test that calls ``_assert_family``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from mailatlas_core._model import ParsedDocument

from devkit.fidelity import (
    Case,
    check_assets_byte_equal,
    check_leaves_accounted,
    check_no_binary_body,
    check_no_mime_framing,
    check_stored_where_recorded,
    load_case,
    read_corpus,
)
from devkit.text_fidelity import (
    TextReference,
    check_no_mojibake,
    check_sender_agrees,
    check_subject_agrees,
    text_reference,
)

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

# Not email at all (tests/clean/test_corpus.py checks the reason).
NOT_EMAIL = {
    "cpython-email/msg_19.eml",
    "enmime/testdata__mail__erroneous.eml",
    "mail-parser/mail_outlook_1.msg",
}

EXCEPTIONS_LEAVES: dict[str, str] = {}
EXCEPTIONS_ASSETS: dict[str, str] = {}
EXCEPTIONS_STORED: dict[str, str] = {}
EXCEPTIONS_BINARY: dict[str, str] = {}
EXCEPTIONS_FRAMING = {
    "cpython-email/msg_38.eml": (
        "CPython's torture test: a text part holds the boundary lines of enclosing "
        "multiparts at the start of lines; every conforming reader (the stdlib too) "
        "ends parts there, so the rest of the tree is text by the RFC's own rules"
    ),
    "enmime/testdata__parts__empty-ctype-bad-content.eml": (
        "a 'Content-Transfer-Encoding:' line sent after the blank line that ends the "
        "part's header: it is body text as sent"
    ),
    "stalwart-mail-parser/malformed__001.eml": (
        "boundary 'a' nested in boundary 'ab': '--a' is the whole body of the second "
        "text/plain part, as the stdlib reads it"
    ),
    "stalwart-mail-parser/malformed__016.eml": (
        "three nested boundaries of 80-82 characters (over RFC 2046's 70), each a "
        "prefix of the next: the stdlib's split leaves the inner framing in a text part"
    ),
}
# Text (subject, sender, body in their right characters; devkit/text_fidelity.py).
EXCEPTIONS_MOJIBAKE = {
    "php-mime-mail-parser/issue116.eml": (
        "the subject's iso-2022-jp word holds an NEC extension character (№, 0x2D62) no "
        "Python codec knows: we decode the word with that one character as U+FFFD, the "
        "stdlib leaves the whole word encoded"
    ),
}
EXCEPTIONS_SUBJECT = {
    "mail-parser/mail_test_9.eml": (
        "gb2312 words hold a GBK character (屄); we decode gb2312 as GBK, its superset (as "
        "browsers do), the stdlib strictly, which gives U+FFFD and misreads the next "
        "character"
    ),
    "php-mime-mail-parser/issue116.eml": EXCEPTIONS_MOJIBAKE["php-mime-mail-parser/issue116.eml"],
}
EXCEPTIONS_SENDER = {
    "mail-parser/mail_test_19.eml": (
        "'From: alice@example.com <bob@example.com>': the mailbox is the angle address "
        "(bob, who gets the replies; 'alice@...' is the display name), the stdlib takes "
        "the first address-like word"
    ),
    "mimekit/messages__issue358.eml": (
        "'From: jang.abcdef@xyzlinu <jang.abcdef@xyzlinux12345678.it>': as above, the "
        "angle address is the mailbox"
    ),
}
MIN_AGREEMENT = 0.995


@pytest.fixture(scope="session")
def fidelity_cases(corpus_dir: Path) -> list[Case]:
    """Every corpus message, parsed once for all the tests of this module."""
    cases = [load_case(rel, raw) for rel, raw in read_corpus(corpus_dir)]
    assert len(cases) > 500, "the corpus looks truncated"
    return cases


def _parsed(cases: list[Case]) -> list[Case]:
    out = []
    for case in cases:
        if case.doc is None:
            assert case.rel in NOT_EMAIL, f"{case.rel}: unexpected ParseError: {case.error}"
            continue
        out.append(case)
    return out


def _assert_family(
    cases: list[Case], check: Callable[[Case], list[str]], exceptions: dict[str, str]
) -> None:
    failures = []
    for case in _parsed(cases):
        problems = check(case)
        if case.rel in exceptions:
            if not problems:
                failures.append(f"{case.rel}: listed as an exception but passes; unlist it")
            continue
        failures.extend(f"{case.rel}: {problem}" for problem in problems)
    assert failures == [], "\n".join(failures)


def test_no_unaccounted_mime_leaf(fidelity_cases: list[Case]) -> None:
    """Every MIME leaf (attached messages walked into) is in ``metadata.parts``."""
    _assert_family(fidelity_cases, check_leaves_accounted, EXCEPTIONS_LEAVES)


def test_every_leaf_is_where_the_manifest_says(fidelity_cases: list[Case]) -> None:
    """An asset that exists, text words in ``body_text``, HTML words in the stored HTML,
    an ``alternative`` whose twin is stored, an attached message stored whole."""
    _assert_family(fidelity_cases, check_stored_where_recorded, EXCEPTIONS_STORED)


def test_assets_equal_stdlib_decoding(fidelity_cases: list[Case]) -> None:
    """Every asset is byte-equal to ``get_payload(decode=True)`` of its part, and every
    named, attachment-disposed or non-text leaf is an asset."""
    compared = 0

    def check(case: Case) -> list[str]:
        nonlocal compared
        count, problems = check_assets_byte_equal(case)
        compared += count
        return problems

    _assert_family(fidelity_cases, check, EXCEPTIONS_ASSETS)
    assert compared > 700  # the corpus holds that many assets: the check really ran


def test_no_binary_content_in_body_text(fidelity_cases: list[Case]) -> None:
    _assert_family(fidelity_cases, check_no_binary_body, EXCEPTIONS_BINARY)


def test_no_mime_framing_in_body_text(fidelity_cases: list[Case]) -> None:
    """No MIME header line and no boundary line of the message in ``body_text``."""
    _assert_family(fidelity_cases, check_no_mime_framing, EXCEPTIONS_FRAMING)


# -- text: the right characters (devkit/text_fidelity.py) -----------------------------


@pytest.fixture(scope="session")
def text_references(fidelity_cases: list[Case]) -> dict[str, TextReference]:
    """The stdlib's decoding of every parsed corpus message, by name."""
    return {case.rel: text_reference(case.raw) for case in _parsed(fidelity_cases)}


TextCheck = Callable[[ParsedDocument, TextReference], list[str]]


def _text_check(refs: dict[str, TextReference], check: TextCheck) -> Callable[[Case], list[str]]:
    def run(case: Case) -> list[str]:
        assert case.doc is not None
        return check(case.doc, refs[case.rel])

    return run


def test_no_mojibake_where_the_stdlib_has_none(
    fidelity_cases: list[Case], text_references: dict[str, TextReference]
) -> None:
    """No U+FFFD, ``Ã``, ``Ð`` or ``â€`` in subject, sender or body where the stdlib's
    decoding of that field has none."""
    check = _text_check(text_references, check_no_mojibake)
    _assert_family(fidelity_cases, check, EXCEPTIONS_MOJIBAKE)


@pytest.mark.parametrize(
    ("check", "exceptions"),
    [(check_subject_agrees, EXCEPTIONS_SUBJECT), (check_sender_agrees, EXCEPTIONS_SENDER)],
    ids=["subject", "sender"],
)
def test_text_agrees_with_the_stdlib(
    fidelity_cases: list[Case],
    text_references: dict[str, TextReference],
    check: TextCheck,
    exceptions: dict[str, str],
) -> None:
    """Subject / sender equal the stdlib's decoded values, whitespace normalised, for at
    least 99.5% of the messages; every exception is listed with its reason."""
    run = _text_check(text_references, check)
    _assert_family(fidelity_cases, run, exceptions)
    parsed = _parsed(fidelity_cases)
    agreeing = sum(1 for case in parsed if not run(case))
    assert agreeing / len(parsed) >= MIN_AGREEMENT
