"""Text decoding: the declared charset, byte by byte; detection only when it cannot be.

Mail lies about charsets all the time (``us-ascii`` parts full of UTF-8 or Big5,
``fakescii``, ``charset=charset=us-askey``), and real text has stray bad bytes. The rules,
in order (see ``docs/cleaning.md``):

1. The declared charset (or, with none, UTF-8), strictly. Almost every part stops here,
   so detection never runs on valid UTF-8 or ASCII. One exception: a single-byte legacy
   label (``iso-8859-1``, ``x-mac-cyrillic``...) decodes any bytes, so when such a part
   is valid UTF-8 with 8-bit bytes it is read as UTF-8 (no ``Ã©`` or ``¬©`` mojibake).
2. Valid UTF-8 (with 8-bit bytes) under another label that did not fit (``us-ascii``).
3. The declared charset with each invalid byte replaced by U+FFFD, when the declaration
   fits the text: at least as many characters decode as fail (one bad byte in a UTF-8
   part is one U+FFFD, never a switch of the whole part to another charset).
4. Otherwise (undeclared, unknown, or impossible: ``us-ascii`` with 8-bit bytes, UTF-8
   with no valid multi-byte sequence), charset-normalizer detects the charset from the
   bytes plus any other sample of the message (its raw 8-bit headers), among the
   charsets mail uses; Windows-1252 when the sample says nothing.

Decoding never fails; whenever the declared charset could not be used as-is, the caller
gets a defect note saying what was done instead.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable

__all__ = ["decode_text", "detect_charset", "lookup_charset"]

_CLEAN = re.compile(r"[^a-z0-9_.:-]")
# Names seen in the wild that Python's codec registry does not know.
_ALIASES = {
    "x-mac-cyrillic": "mac_cyrillic",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "x-sjis": "shift_jis",
    "x-euc-jp": "euc_jp",
    "x-gbk": "gbk",
    "unicode-1-1-utf-7": "utf-7",
    "ansi_x3.4-1968": "ascii",
    "x-user-defined": "latin-1",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    # Supersets that decode strictly more real-world mail (as browsers do).
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "gb2312": "gbk",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
}
# Codecs that are not text encodings (base64, zlib...) must never be used on mail text.
_TEXT_CODEC_OK: dict[str, bool] = {}
# What detection chooses among, most likely first: ties (same "chaos") go to the earlier
# one, so short Western text is Windows-1252 rather than Central European.
_DETECTABLE = (
    "utf_8", "cp1252", "iso8859_15", "cp1250", "iso8859_2", "cp1251", "koi8_r", "koi8_u",
    "cp1253", "iso8859_7", "cp1254", "cp1257", "cp1255", "iso8859_8", "cp1256", "cp874",
    "shift_jis", "euc_jp", "gb18030", "big5", "cp949",
)  # fmt: skip
# Single-byte legacy codecs decode any bytes, so a wrong label never fails: text under
# one of these that is valid UTF-8 (with 8-bit bytes) is UTF-8. Legacy text is almost never
# valid UTF-8 by chance: every high byte would have to form a multi-byte sequence.
_SINGLE_BYTE = frozenset(
    {"cp1252", "iso8859-15", "cp1250", "iso8859-2", "cp1251", "koi8-r", "koi8-u", "cp1253",
     "iso8859-7", "cp1254", "iso8859-9", "cp1257", "iso8859-13", "iso8859-4", "cp1255",
     "iso8859-8", "cp1256", "iso8859-6", "iso8859-5", "mac-roman", "mac-cyrillic", "cp874",
     "cp437", "cp850", "cp866", "iso8859-3", "iso8859-10", "iso8859-14", "iso8859-16",
     "iso8859-1"}
)  # fmt: skip
_MIN_DETECT_BYTES = 4  # fewer non-ASCII bytes than this say nothing reliable
_DETECT_SAMPLE = 64 * 1024  # detection reads at most this much of a long text
_REPLACEMENT = "\ufffd"
# Text codecs that are no mail charset and cost quadratic time: Python's punycode decoder
# (and idna, which runs it on every "xn--" label) took 110 s on a 400 KB body.
_REFUSED = frozenset({"punycode", "idna"})


def lookup_charset(name: str | None) -> str | None:
    """The Python codec name for a MIME charset label, or ``None`` if unknown."""
    if not name:
        return None
    label = _CLEAN.sub("", name.strip().strip("\"'").lower())
    label = _ALIASES.get(label, label)
    try:
        info = codecs.lookup(label)
    except LookupError:
        if label.startswith("x-"):
            return lookup_charset(label[2:])
        return None
    ok = _TEXT_CODEC_OK.get(info.name)
    if ok is None:
        ok = getattr(info, "_is_text_encoding", True) and info.name not in _REFUSED
        _TEXT_CODEC_OK[info.name] = ok
    return info.name if ok else None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_surrogates(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate (searched: encoding it would copy it)."""
    return not text.isascii() and _SURROGATE.search(text) is not None


def _strict(data: bytes, codec: str) -> str | None:
    try:
        text = data.decode(codec)
    except (UnicodeError, ValueError, LookupError):
        return None
    return None if _has_surrogates(text) else text


def _fits(data: bytes, codec: str) -> tuple[str, int] | None:
    """``data`` decoded with U+FFFD for each bad byte, and how many there were, when
    at least as many non-ASCII characters decode as fail; else ``None``."""
    if codec == "ascii":
        return None  # 8-bit bytes in a us-ascii part: the label is simply wrong
    try:
        text = data.decode(codec, "replace")
    except (UnicodeError, ValueError, LookupError):
        return None
    if _has_surrogates(text):
        return None
    bad = text.count(_REPLACEMENT) - data.count(_REPLACEMENT.encode("utf-8"))
    good = sum(1 for char in text if ord(char) > 0x7F) - bad
    return (text, bad) if good >= bad else None


def detect_charset(data: bytes, extra: Iterable[bytes] = ()) -> str | None:
    """The charset charset-normalizer finds for ``data`` (plus ``extra`` samples of the
    same message), among the charsets mail uses; ``None`` when the sample is too small
    or nothing fits."""
    sample = b"\n".join([data[:_DETECT_SAMPLE], *extra])
    if sum(1 for byte in sample if byte > 0x7F) < _MIN_DETECT_BYTES:
        return None
    from charset_normalizer import from_bytes  # imported on first need: it is rarely

    matches = list(from_bytes(sample, cp_isolation=list(_DETECTABLE)))
    if not matches:
        return None
    least = min(match.chaos for match in matches)
    tied = {
        encoding
        for match in matches
        if match.chaos <= least
        for encoding in match.could_be_from_charset
    }
    ranked = [encoding for encoding in _DETECTABLE if encoding in tied]
    return ranked[0] if ranked else matches[0].encoding


def _label(codec: str) -> str:
    return {"cp1252": "windows-1252", "utf_8": "utf-8"}.get(codec, codec.replace("_", "-"))


def decode_text(
    data: bytes,
    charset: str | None,
    extra: Iterable[bytes] = (),
    hint: str | None = None,
) -> tuple[str, str | None]:
    """Decode ``data`` as text.

    Args:
        data: the decoded (transfer-encoding undone) bytes of a text part or header.
        charset: the declared charset label, or ``None``.
        extra: other undecodable samples of the same message (raw 8-bit header bytes),
            used only if the charset has to be detected.
        hint: for undeclared text, a charset the message declares elsewhere (a raw
            8-bit header is most likely in its body's charset); tried before detection.

    Returns:
        The text and, when the declared charset was missing, unknown or wrong, a short
        note of what was done instead (for ``metadata.defects``).
    """
    codec = lookup_charset(charset) if charset else "utf-8"
    if codec is not None:
        text = _strict(data, codec)
        if text is not None:
            if codec in _SINGLE_BYTE and not data.isascii():
                utf8 = _strict(data, "utf-8")
                if utf8 is not None:  # "Ã©" / "¬©": UTF-8 under a legacy label
                    return utf8, f"text labelled {charset!r} is UTF-8; decoded as utf-8"
            return text, None
    if codec != "utf-8" and not data.isascii():  # 7-bit data: iso-2022-jp, utf-7...
        text = _strict(data, "utf-8")
        if text is not None:
            if charset is None or codec is None:
                return text, (f"unknown charset {charset!r}; decoded as utf-8" if charset else None)
            return text, f"text is not valid {charset!r}; decoded as utf-8"
    if codec is not None:
        fitted = _fits(data, codec)
        if fitted is not None:
            text, bad = fitted
            what = repr(charset) if charset else "UTF-8 (no charset declared)"
            return text, f"{bad} invalid byte(s) in {what} text replaced with U+FFFD"
    hinted = lookup_charset(hint) if charset is None and hint else None
    if hinted is not None:
        text = _strict(data, hinted)
        if text is not None:
            return text, f"no charset declared and not UTF-8; decoded as {_label(hinted)}"
    detected = detect_charset(data, extra) or "cp1252"
    text = data.decode(detected, "replace")
    how = f"decoded as {_label(detected)}"
    if charset is None:
        return text, f"no charset declared and not UTF-8; {how}"
    if codec is None:
        return text, f"unknown charset {charset!r}; {how}"
    return text, f"text is not valid {charset!r}; {how}"
