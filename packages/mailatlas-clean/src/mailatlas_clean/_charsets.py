"""Best-effort text decoding: declared charset, then UTF-8, then Windows-1252.

Mail lies about charsets all the time (``us-ascii`` parts full of UTF-8, ``fakescii``,
``charset=charset=us-askey``). Decoding never fails; whenever the declared charset could
not be used as-is, the caller gets a defect note saying what was done instead.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["decode_text", "lookup_charset"]

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
        ok = getattr(info, "_is_text_encoding", True)
        _TEXT_CODEC_OK[info.name] = ok
    return info.name if ok else None


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def decode_text(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """Decode ``data`` as text.

    Args:
        data: the decoded (transfer-encoding undone) bytes of a text part or header.
        charset: the declared charset label, or ``None``.

    Returns:
        The text and, when the declared charset was missing, unknown or wrong, a short
        note of what was done instead (for ``metadata.defects``).
    """
    codec = lookup_charset(charset) if charset else "ascii"
    if codec is not None:
        try:
            text = data.decode(codec)
        except (UnicodeError, ValueError):
            pass
        else:
            if not _has_surrogates(text):
                return text, None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # Windows-1252 maps almost every byte, so it keeps the most of legacy mail;
        # the remaining holes become U+FFFD rather than silent drops.
        text = data.decode("cp1252", "replace")
        used = "windows-1252"
    else:
        used = "utf-8"
    if charset is None:
        if used == "utf-8":
            return text, None  # undeclared 8-bit UTF-8 is normal today
        return text, f"no charset declared and not UTF-8; decoded as {used}"
    if codec is None:
        return text, f"unknown charset {charset!r}; decoded as {used}"
    return text, f"text is not valid {charset!r}; decoded as {used}"
