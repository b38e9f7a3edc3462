"""Text fidelity checks: a document's subject, sender and body against the stdlib's
decoding of the same bytes (issue 13, "Wrong text").

Shared by ``tests/clean/test_corpus_fidelity.py`` (asserted over the whole corpus) and
``bench/text_fidelity.py`` (prints the figures in docs/fidelity.md).

The reference is ``email.message_from_bytes`` with ``policy.default`` (which decodes
encoded words and text parts), read from the bytes MailAtlas hands the parser
(``parser_input``: a BOM, leading blank or damaged lines and lost header folds
repaired). Two stdlib readings of ``From`` count: ``policy.default``'s
address parser and the classic ``email.utils.parseaddr`` of the raw header with the name
decoded by ``email.header``; they differ on comments (``a@b (Name)``), and agreeing with
either is agreeing with the stdlib. Undecodable bytes come back from the stdlib as
surrogates or U+FFFD; both are made U+FFFD here. MailAtlas removes invisible, bidi
control and control characters from the subject and names it shows, on purpose
(``visible_text``, docs/security.md); the stdlib's subject and names are compared
without them too.
"""

from __future__ import annotations

import contextlib
import email
import email.header
import email.policy
import email.utils
import re
from dataclasses import dataclass, field
from email.errors import HeaderParseError

from mailatlas_clean.cleaning._invisible import visible_text
from mailatlas_clean.parser._parse import parser_input
from mailatlas_core._model import ParsedDocument

__all__ = [
    "MOJIBAKE",
    "TextReference",
    "check_no_mojibake",
    "check_sender_agrees",
    "check_subject_agrees",
    "same_text",
    "text_reference",
]

#: What garbled text looks like: the replacement character, and the lead characters of
#: UTF-8 read as Windows-1252/Latin-1 (``Ã©``, ``Ð¿``, ``â€™``).
MOJIBAKE = ("\ufffd", "Ã", "Ð", "â€")
_FFFD_RUN = re.compile("\ufffd+")


@dataclass
class TextReference:
    """The stdlib's decoding of one message."""

    subject: str | None = None
    senders: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""


def _sanitize(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _framed(raw: bytes) -> bytes:
    try:
        return parser_input(raw)
    except Exception:  # what MailAtlas cannot frame, the stdlib reads as it is
        return raw


def _parseaddr(value: str) -> tuple[str, str]:
    """``parseaddr`` as it always read: Python 3.13 (and patched 3.11/3.12 releases) made
    it strict by default, answering ``('', '')`` for a header with a second, broken
    address; ``strict=False`` keeps the classic reading on every version."""
    try:
        return email.utils.parseaddr(value, strict=False)  # type: ignore[call-arg,unused-ignore]
    except TypeError:  # a release from before the parameter existed
        return email.utils.parseaddr(value)


def _classic_sender(raw: bytes) -> tuple[str, str] | None:
    message = email.message_from_bytes(_framed(raw), policy=email.policy.compat32)
    value = message.get("from")
    if value is None:
        return None
    name, address = _parseaddr(_sanitize(" ".join(str(value).split())))
    with contextlib.suppress(LookupError, UnicodeError, ValueError, HeaderParseError):
        name = str(email.header.make_header(email.header.decode_header(name)))
    return _sanitize(name), address


def text_reference(raw: bytes) -> TextReference:
    """Subject, sender readings and body text as the stdlib decodes them."""
    ref = TextReference()
    message = email.message_from_bytes(_framed(raw), policy=email.policy.default)
    try:
        subject = message["subject"]
        ref.subject = "" if subject is None else _sanitize(str(subject))
    except Exception:  # the stdlib's header parser has known crashes
        ref.subject = None
    try:
        sender = message["from"]
        addresses = getattr(sender, "addresses", ()) if sender is not None else ()
        if addresses:
            first = addresses[0]
            ref.senders.append((_sanitize(first.display_name), _sanitize(first.addr_spec)))
    except Exception:
        pass
    classic = _classic_sender(raw)
    if classic is not None:
        ref.senders.append(classic)
    texts = []
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        try:
            texts.append(part.get_content())
        except Exception:  # unknown charset: the stdlib has no text for it
            texts.append("\ufffd")
    ref.body = _sanitize("\n".join(texts))
    return ref


def same_text(theirs: str, ours: str) -> bool:
    """Equal once whitespace is normalised; a run of U+FFFD in the stdlib's text (bytes
    it could not decode) stands for any non-empty run of characters in ours."""
    theirs, ours = " ".join(theirs.split()), " ".join(ours.split())
    if theirs == ours:
        return True
    if "\ufffd" not in theirs:
        return False
    pattern = ".+?".join(re.escape(piece) for piece in _FFFD_RUN.split(theirs))
    return re.fullmatch(pattern, ours, re.DOTALL) is not None


def check_no_mojibake(doc: ParsedDocument, ref: TextReference) -> list[str]:
    """No U+FFFD or mojibake lead sequence in subject, sender or body where the stdlib's
    decoding of that field has none."""
    names = " ".join(name for name, _address in ref.senders)
    problems = []
    for what, ours, theirs in (
        ("subject", doc.subject, ref.subject or ""),
        ("sender", doc.sender_name or "", names),
        ("body_text", doc.body_text, ref.body),
    ):
        for sequence in MOJIBAKE:
            if sequence in ours and sequence not in theirs:
                at = ours.index(sequence)
                problems.append(f"{what} has {sequence!r}: {ours[max(0, at - 30) : at + 30]!r}")
    return problems


def check_subject_agrees(doc: ParsedDocument, ref: TextReference) -> list[str]:
    if ref.subject is None or same_text(visible_text(ref.subject), doc.subject):
        return []
    return [f"subject {doc.subject!r} != stdlib {ref.subject!r}"]


def check_sender_agrees(doc: ParsedDocument, ref: TextReference) -> list[str]:
    """Name and address agree with one stdlib reading (a display name equal to the
    address counts as no name, as in the document model)."""
    if not ref.senders:
        return []
    ours_name, ours_email = doc.sender_name or "", doc.sender_email or ""
    for name, address in ref.senders:
        name = "" if name == address else name
        if address == ours_email and same_text(visible_text(name), ours_name):
            return []
    return [f"sender {(ours_name, ours_email)!r} != stdlib {ref.senders!r}"]
