"""Safe, unique asset file names.

An attachment name comes from the sender, so it is hostile until proven otherwise. The
result is a single path component that is NFC-normalised, free of separators, control
characters and invisible or bidi control characters (``evil\u202etxt.exe`` would show as
``evilexe.txt``), never ``''``, ``'.'`` or ``'..'``, at most ``MAX_NAME_BYTES`` bytes of UTF-8,
and unique (case-insensitively, after NFC) within one message.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata

from ..cleaning._invisible import strip_invisible

__all__ = ["MAX_NAME_BYTES", "NameAllocator", "default_name", "safe_filename"]

MAX_NAME_BYTES = 150
# Control characters, path separators, and characters Windows refuses in file names.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f/\\:*?"<>|]')
_SPACES = re.compile(r"\s+")
_SEPARATOR = re.compile(r"[/\\]")
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$", re.IGNORECASE)
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}$")


def _truncate(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    # Cut on a character boundary, then drop a combining mark left dangling.
    cut = encoded[:limit].decode("utf-8", "ignore")
    return unicodedata.normalize("NFC", cut)


def _bounded(name: str, limit: int) -> str:
    if len(name.encode("utf-8")) <= limit:
        return name
    match = _EXTENSION.search(name)
    ext = match.group(0) if match else ""
    stem = name[: len(name) - len(ext)]
    return _truncate(stem, limit - len(ext.encode("utf-8"))).rstrip(" .") + ext


def safe_filename(name: str | None, fallback: str) -> str:
    """Make one sender-supplied name safe to use as a file name.

    Args:
        name: the decoded name from the message (may be ``None`` or hostile).
        fallback: used when nothing usable is left (must itself be safe).

    Returns:
        A single safe path component (not yet unique; see :class:`NameAllocator`).
    """
    # Invisible and bidi controls go (the body rule); control characters become "_" below.
    text = strip_invisible(unicodedata.normalize("NFC", name or ""))[0]
    # Keep only the last path component: "../../etc/passwd" -> "passwd".
    text = _SEPARATOR.split(text)[-1]
    text = _UNSAFE.sub("_", text)
    text = _SPACES.sub(" ", text).strip(" .")
    if _WINDOWS_RESERVED.match(text):
        text = "_" + text
    text = _bounded(text, MAX_NAME_BYTES)
    if not text or set(text) <= {".", "_", " "}:
        return fallback
    return text


def default_name(ordinal: int, mime_type: str, stem: str = "part") -> str:
    """A name for a part that has none: ``part-3.png`` from its MIME type."""
    ext = mimetypes.guess_extension(mime_type, strict=False) or ".bin"
    if mime_type == "message/rfc822":
        ext = ".eml"
    elif mime_type == "text/plain":
        ext = ".txt"
    return f"{stem}-{ordinal}{ext}"


class NameAllocator:
    """Hands out names that are unique within one message (case-insensitive, NFC)."""

    def __init__(self) -> None:
        self._taken: set[str] = set()
        # Next counter to try per requested name: 10,000 parts all named "f.bin" would
        # otherwise rescan f-2.bin, f-3.bin... for every part (quadratic).
        self._next: dict[str, int] = {}

    def allocate(self, name: str) -> str:
        """Return ``name`` or ``name-2.ext``, ``name-3.ext``... whichever is free."""
        key = name.casefold()
        counter = self._next.get(key, 1)  # every lower counter is taken already
        candidate = name if counter == 1 else _numbered(name, counter)
        while candidate.casefold() in self._taken:
            counter += 1
            candidate = _numbered(name, counter)
        self._taken.add(candidate.casefold())
        self._next[key] = counter + 1
        return candidate


def _numbered(name: str, counter: int) -> str:
    """``name`` with ``-<counter>`` before its extension, still within the byte bound."""
    match = _EXTENSION.search(name)
    ext = match.group(0) if match else ""
    suffix = f"-{counter}{ext}"
    return _truncate(name[: len(name) - len(ext)], MAX_NAME_BYTES - len(suffix.encode())) + suffix
