"""Is a part labelled as text really binary? (a GIF sent as ``text/plain``...)

Content that sniffs as binary is never body text, whatever its label: it is stored as
an asset instead. The test is deliberately narrow so that real text in any charset
passes: a known file signature, or more than 5 % of NUL and other C0 control bytes (a
single stray NUL not counted), which no text encoding used in mail produces (UTF-16 and
UTF-32, which do contain NULs, are exempt).
"""

from __future__ import annotations

__all__ = ["binary_kind"]

_SIGNATURES = (
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b\x08", "gzip data"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE2 document"),
    (b"BZh", "bzip2 data"),
    (b"\x7fELF", "ELF executable"),
    (b"MZ\x90\x00", "Windows executable"),
)
_WIDE_CHARSETS = ("utf-16", "utf_16", "utf-32", "utf_32", "ucs-2", "ucs2", "ucs-4")
_SAMPLE = 1024
# C0 controls other than TAB, LF, FF, CR and ESC (ISO-2022 text uses ESC). Random bytes
# hold about 10 % of them; text with a stray NUL or two stays well under 5 %.
_CONTROLS = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))
_FIRST_BYTES = frozenset(magic[:1] for magic, _kind in _SIGNATURES)


def binary_kind(data: bytes, charset: str | None) -> str | None:
    """What binary content ``data`` holds (``"GIF image"``...), or ``None`` if text."""
    if data[:1] in _FIRST_BYTES:
        for magic, kind in _SIGNATURES:
            if data.startswith(magic) and (kind != "bzip2 data" or data[3:4].isdigit()):
                return kind
    if charset and charset.strip("\"' ").lower().startswith(_WIDE_CHARSETS):
        return None
    sample = data[:_SAMPLE]
    # bytes.translate counts at C speed (a regex character class is ten times slower).
    controls = len(sample) - len(sample.translate(None, _CONTROLS))
    if b"\x00" in sample:
        controls -= 1  # one stray NUL is a damaged text, not a binary file
    if controls * 20 > len(sample):
        return "binary data"
    return None
