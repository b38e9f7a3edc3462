"""Streaming mbox reader: one message at a time, in constant memory.

Real mbox files disagree about their own format, so the splitter is defensive:

* A separator is a ``From `` line that looks like an envelope *and* is followed by a
  header line. This keeps an unescaped ``From Russia with love`` in a body from
  splitting a message (mboxo/"unmunged" files). An envelope is ``From`` and a sender:
  one word (``sender@host``, ``MAILER-DAEMON``, Thunderbird's ``-``) or Mailman's
  pipermail ``user at example.org``; then nothing (no date), or something that starts
  like a date: a weekday or month name (``Wed Feb  1 19:06:04 2006``, ``Wed, 1 Feb 2006
  ...``, ``Feb 01 ...``) or a digit (``2006-02-01``, a Unix timestamp). Spaces and tabs
  between the parts may be doubled. See ``docs/mbox.md``.
* A separator need not follow an empty line (some writers omit it). When a message has a
  ``Content-Length`` header that is right, its body is taken by length (mboxcl files), so
  nothing inside it can split it.
* ``>From `` quoting is undone mboxrd-style (one ``>`` removed from ``>+From `` lines).
* A UTF-8 BOM and blank lines before the first separator are skipped; CRLF files work.
* A message larger than the size limit is not buffered: its bytes are skipped up to the
  next separator and it is yielded with ``oversize`` set and no bytes. Lines are read
  with a length limit, so a file without newlines cannot grow memory either.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from typing import BinaryIO

from mailatlas_core import UTF8_BOM, SourceLocation
from mailatlas_core._files import open_regular

from .._errors import ParseError
from ._raw import RawMessage

__all__ = ["iter_mbox"]

_DATE_START = rb"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|\d)"
# "From sender" alone, or "From sender <date...>", where the sender is one word or
# Mailman's "user at example.org"; anything else is body text. Each alternative is
# anchored and its runs are bounded by the next space, so a match is linear.
_ENVELOPE = re.compile(
    rb"^From (?:[^\s]+[ \t]+at[ \t]+[^\s]+|[^\s]+)"
    rb"(?:[ \t]*\r?\n|[ \t]+" + _DATE_START + rb")",
    re.IGNORECASE,
)
_HEADER_LINE = re.compile(rb"^[!-9;-~]+[ \t]*:")
_QUOTED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)
_CONTENT_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*(\d+)[ \t]*\r?$", re.IGNORECASE)
_SKIP_CHUNK = 1 << 20  # how much of an oversized message is read at a time


def _is_blank(line: bytes) -> bool:
    return line in (b"\n", b"\r\n")


def _envelope_text(line: bytes) -> str:
    return line.rstrip(b"\r\n").decode("utf-8", "replace")


class _Reader:
    """Line reader with one line of look-ahead that tracks byte offsets."""

    def __init__(self, fp: BinaryIO, offset: int, line_limit: int) -> None:
        self._fp = fp
        self.offset = offset
        self._peeked: bytes | None = None
        self._limit = line_limit  # longest line read at once (-1: no limit)
        self.line_done = True  # the last line consumed ended with its newline

    def remaining(self) -> int:
        """Bytes left in the file after the current offset."""
        try:
            size = os.fstat(self._fp.fileno()).st_size
        except (OSError, ValueError, AttributeError):  # not a real file: ask the stream
            here = self._fp.tell()
            size = self._fp.seek(0, os.SEEK_END)
            self._fp.seek(here)
        return max(0, size - self.offset)

    def peek(self) -> bytes:
        if self._peeked is None:
            self._peeked = self._fp.readline(self._limit)
        return self._peeked

    def next(self) -> bytes:
        line = self.peek()
        self._peeked = None
        self.offset += len(line)
        self.line_done = line.endswith(b"\n")
        return line

    def read_body_lines(self, lines: list[bytes], stop: int) -> None:
        """Append lines up to (not including) the next ``From `` line or end of file, or
        until the offset passes ``stop`` (the message is too large).

        The hot loop of the reader: most lines of an mbox are body lines, so they are
        read here without the per-line look-ahead bookkeeping. A line cut by the length
        limit always passes ``stop``, so its rest is never taken for a line start.
        """
        if self._peeked is not None:
            if not self._peeked or self._peeked.startswith(b"From "):
                return
            lines.append(self.next())
            if self.offset > stop:
                return
        readline = self._fp.readline
        limit = self._limit
        offset = self.offset
        append = lines.append
        while True:
            line = readline(limit)
            if not line or line.startswith(b"From "):
                self._peeked = line
                break
            offset += len(line)
            append(line)
            if offset > stop:
                self.line_done = line.endswith(b"\n")
                break
        self.offset = offset

    def skip_lines(self) -> None:
        """Skip, keeping nothing, up to the next ``From `` at a line start or end of file."""
        if self._peeked is not None:
            if not self._peeked or self._peeked.startswith(b"From "):
                return
            self.next()
        at_start = self.line_done
        while True:
            line = self._fp.readline(_SKIP_CHUNK)
            if not line or (at_start and line.startswith(b"From ")):
                self._peeked = line
                break
            self.offset += len(line)
            at_start = line.endswith(b"\n")
        self.line_done = True

    def seek(self, offset: int) -> None:
        self._fp.seek(offset)
        self.offset = offset
        self._peeked = None

    def read(self, size: int) -> bytes:
        """Read exactly ``size`` bytes (fewer at end of file), look-ahead included."""
        head = self._peeked or b""
        self._peeked = None
        if len(head) > size:
            self._peeked = head[size:]
            data = head[:size]
        else:
            data = head + self._fp.read(size - len(head))
        self.offset += len(data)
        return data


def _is_separator(reader: _Reader, line: bytes) -> bool:
    """``line`` is an envelope and the line after it (peeked) is a header."""
    if not _ENVELOPE.match(line):
        return False
    following = reader.peek()
    return not following or bool(_HEADER_LINE.match(following))


def _finish(lines: list[bytes]) -> bytes:
    # The empty line before the next separator belongs to the mbox, not the message.
    if len(lines) >= 2 and _is_blank(lines[-1]):
        lines = lines[:-1]
    raw = b"".join(lines)
    # Every match holds ">From ": a plain search spares most messages the regex's walk
    # over every line start (~3 % of an ingest's storing process).
    return _QUOTED_FROM.sub(rb"\1", raw) if b">From " in raw else raw


def _read_head(reader: _Reader, stop: int) -> tuple[list[bytes], bool]:
    """Read a message's header block, and its body too when a ``Content-Length`` header
    delimits it exactly. Returns the lines and whether the body was read that way.
    Stops early once the offset passes ``stop`` (the message is too large)."""
    lines: list[bytes] = []
    length: int | None = None
    while True:
        line = reader.next()
        if not line:
            return lines, False
        lines.append(line)
        if reader.offset > stop:
            return lines, False
        match = _CONTENT_LENGTH.match(line)
        if match:
            length = int(match.group(1))
        if _is_blank(line):
            break
    # A Content-Length can only be right if the file still holds that many bytes; a
    # bigger one (hostile or corrupt) must not make us allocate it.
    if length is None or length > reader.remaining() or reader.offset + length > stop:
        return lines, False
    start = reader.offset
    body = reader.read(length)
    after = reader.peek()
    if len(body) == length and (not after or _is_blank(after) or bool(_ENVELOPE.match(after))):
        lines.append(body)
        return lines, True
    # Content-Length lied: rewind and let the separator heuristic read the body.
    reader.seek(start)
    return lines, False


def _iter_stream(fp: BinaryIO, path: str, max_bytes: int | None) -> Iterator[RawMessage]:
    offset = 3 if fp.read(3) == UTF8_BOM else 0
    fp.seek(offset)
    reader = _Reader(fp, offset, -1 if max_bytes is None else max_bytes + 1)
    while _is_blank(reader.peek()):
        reader.next()
    if not reader.peek():
        return
    if not reader.peek().startswith(b"From "):
        raise ParseError(f"{path} is not an mbox file: it does not start with a 'From ' line")
    start = reader.offset
    envelope = reader.next()
    while True:
        stop = reader.offset + max_bytes if max_bytes is not None else sys.maxsize
        lines, _by_length = _read_head(reader, stop)
        following: tuple[int, bytes] | None = None
        while True:
            if reader.offset > stop:  # too large: keep nothing more of it
                lines.clear()
                reader.skip_lines()
            else:
                reader.read_body_lines(lines, stop)
                if reader.offset > stop:
                    continue
            line = reader.peek()
            if not line:
                break
            position = reader.offset
            reader.next()  # a "From " line: a separator, or body text that looks like one
            if _is_separator(reader, line):
                following = (position, line)
                break
            if reader.offset <= stop:
                lines.append(line)
        size = (following[0] if following else reader.offset) - (start + len(envelope))
        oversized = max_bytes is not None and size > max_bytes
        yield RawMessage(
            raw=b"" if oversized else _finish(lines),
            location=SourceLocation(kind="mbox", path=path, offset=start),
            envelope=_envelope_text(envelope),
            oversize=size if oversized else None,
        )
        if following is None:
            return
        start, envelope = following


def iter_mbox(
    path: str | os.PathLike[str], *, max_message_bytes: int | None = None
) -> Iterator[RawMessage]:
    """Stream the messages of an mbox file, one at a time, in constant memory.

    Args:
        path: the mbox file.
        max_message_bytes: a larger message is not buffered: its bytes are skipped and
            it is yielded with ``oversize`` set and empty ``raw``. ``None``: no limit
            (a message is then held whole in memory, whatever its size).

    Yields:
        One :class:`RawMessage` per message, with ``location.offset`` the byte offset of
        its ``From `` line and ``envelope`` that line.

    Raises:
        ParseError: the file cannot be read or does not start with a ``From `` line.
    """
    abs_path = os.path.abspath(os.fspath(path))
    try:
        # A regular file only (the reader seeks): never a wait without end for a FIFO's
        # writer, nor an endless device such as /dev/zero.
        fp = os.fdopen(open_regular(abs_path), "rb")
    except OSError as exc:
        raise ParseError(f"cannot read mbox {abs_path}: {exc.strerror or exc}") from exc
    try:
        yield from _iter_stream(fp, abs_path, max_message_bytes)
    except OSError as exc:
        raise ParseError(f"cannot read mbox {abs_path}: {exc.strerror or exc}") from exc
    finally:
        fp.close()
