"""Invisible characters: zero-width and bidi controls go, needed joiners stay.

Kept: ZWJ (U+200D) inside emoji sequences (👩‍💻) and ZWJ/ZWNJ (U+200C) between letters of
scripts that use them (Persian ``می‌خواهم``, Indic conjuncts). Removed everywhere else.

The body cleaning rule ``strip_invisible_chars`` uses :func:`strip_invisible`; names and
subjects shown to people (attachment names, ``Subject``, display names) always go
through :func:`visible_text`, the same rule plus control characters: a right-to-left
override in ``evil\u202etxt.exe`` would make an executable look like ``evilexe.txt``.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["strip_invisible", "visible_text"]

_ZWNJ, _ZWJ = "\u200c", "\u200d"
# ZWSP, ZWNJ, ZWJ, LRM, RLM, bidi embeddings/overrides/isolates, ALM, word joiner,
# invisible operators, BOM/ZWNBSP, Mongolian vowel separator, soft hyphen, CGJ, the
# deprecated format controls (symmetric swapping, digit shapes), interlinear annotation.
_INVISIBLE = re.compile(
    "[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\u061c\ufeff\u180e\u00ad\u034f"
    "\u206a-\u206f\ufff9-\ufffb]"
)
# Unicode tag characters (U+E0000-E007F) are invisible: "ASCII smuggling" hides whole
# sentences in them. Their one visible use is a subdivision flag (🏴 + tag letters +
# CANCEL TAG, e.g. England's flag), which is kept; every other run goes.
_TAG_RUN = re.compile("[\U000e0000-\U000e007f]+")
_FLAG_TAGS = re.compile("[\U000e0020-\U000e007e]+\U000e007f")
_BLACK_FLAG = "\U0001f3f4"
# Control characters but tab, line feed and carriage return (callers decide about those).
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _is_pictographic(char: str) -> bool:
    code = ord(char)
    return (
        0x1F000 <= code <= 0x1FAFF
        or 0x2600 <= code <= 0x27BF
        or 0x2300 <= code <= 0x23FF
        or 0x2B00 <= code <= 0x2BFF
        or code in (0xFE0F, 0x20E3, 0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122)
        or 0xE0020 <= code <= 0xE007F  # tag characters in flag sequences
    )


def _is_joining_letter(char: str) -> bool:
    # Letters and marks outside Latin/Greek/Cyrillic, where joiners change shaping.
    return ord(char) >= 0x0590 and unicodedata.category(char)[0] in ("L", "M")


def _keep(text: str, index: int) -> bool:
    char = text[index]
    if char not in (_ZWNJ, _ZWJ) or index == 0 or index == len(text) - 1:
        return False
    before, after = text[index - 1], text[index + 1]
    if char == _ZWJ and _is_pictographic(before) and _is_pictographic(after):
        return True
    return _is_joining_letter(before) and _is_joining_letter(after)


def _strip_tags(text: str) -> tuple[str, int]:
    """Remove tag characters but those of a flag sequence; the text and how many went."""
    removed = 0

    def drop(match: re.Match[str]) -> str:
        nonlocal removed
        run = match.group(0)
        start = match.start()
        if start and text[start - 1] == _BLACK_FLAG and _FLAG_TAGS.fullmatch(run):
            return run
        removed += len(run)
        return ""

    return _TAG_RUN.sub(drop, text), removed


def strip_invisible(text: str) -> tuple[str, int]:
    """Remove invisible characters; returns the text and how many were removed."""
    tags = 0
    if _TAG_RUN.search(text) is not None:
        text, tags = _strip_tags(text)
    if _INVISIBLE.search(text) is None:
        return text, tags
    removed = 0
    out: list[str] = []
    last = 0
    for match in _INVISIBLE.finditer(text):
        index = match.start()
        if _keep(text, index):
            continue
        out.append(text[last:index])
        last = index + 1
        removed += 1
    out.append(text[last:])
    return "".join(out), removed + tags


def visible_text(text: str) -> str:
    """``text`` without invisible and bidi control characters, nor control characters.

    For what is shown to people as a name or a line (an attachment name, a subject, a
    display name): what it shows is then all it contains, in the order it shows.
    """
    return _CONTROLS.sub("", strip_invisible(text)[0])
