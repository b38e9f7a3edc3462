"""The wire protocol between the pool and its worker processes.

One object travels as one pickle, cut into *frames* of at most :data:`CHUNK` bytes:
each frame is an 8-byte little-endian word and its bytes; the word is the frame's
length, with :data:`MORE` set on every frame but the object's last. The first object
to a worker carries its config (a ``ParserConfig``, or ``EXTRACT_MODE``) and the
registered attachment readers; every later one is one chunk of items, answered by one
object *per item*, in order. Between two replies a parse worker may say which
attachment it is reading (``(READING, index)``). Both sides move bytes with
``os.read``/``os.write`` loops (see ``_main`` for why).

Why frames, not one length and one pickle: no pickle is ever made whole and then copied.
The sender pickles straight into frames (:func:`dump`; a large ``bytes`` inside, such as
a raw message, goes out as views of itself, not as a copy): a worker writes each frame
as it is made, the caller queues a request's frames until the pipe takes them. The
receiver keeps an object's frames as they arrived until its last one is in (so it does
hold its pickle, in pieces, at that moment), then unpickles from them, letting each go
once it is read (:class:`Frames`). A whole pickle costs about the size of what it
carries, and then its ``bytes`` copy and the unpickled objects came on top: a parse
worker's reply for an 8 MB message of 9,000 small attachments peaked its storing process
at 10x the message size that way. An object of one frame (most: a message's document is
a few KB) is unpickled straight from the receiving buffer, as fast as ``pickle.loads``
(through the file object: 42 us against 26 us for a 5 KB document).
"""

from __future__ import annotations

import os
import pickle
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = [
    "CHUNK",
    "EXTRACT_MODE",
    "HEADER",
    "MORE",
    "READING",
    "READY",
    "READ_SIZE",
    "Frames",
    "dump",
    "read_object",
    "send_object",
    "write_all",
]

HEADER = 8
READ_SIZE = 1 << 20
CHUNK = READ_SIZE  # the most bytes one frame carries
MORE = 1 << 63  # set in a frame's word: the object goes on in the next frame
_LENGTH = MORE - 1
READY = "ready"  # the worker's first frame: the parser is imported, requests welcome
# The config that starts a worker in extract mode (one attachment per item, see
# attachments._sandbox); any other config is a ParserConfig (one message per item).
EXTRACT_MODE = "extract"


# A parse worker's note between two replies, ``(READING, index)``: "now reading
# attachment ``index`` of the message I am on". If the worker dies before its next
# reply, that file's reader is to blame (see ``_pool``). A tuple, not a class: the
# worker runs its main module as ``__main__``, whose classes the caller cannot unpickle.
READING = "reading"

Piece = bytes | bytearray | memoryview


def _word(size: int, more: bool) -> bytes:
    return (size | (MORE if more else 0)).to_bytes(HEADER, "little")


class _FrameWriter:
    """The file a :class:`pickle.Pickler` writes to: hands ``emit`` frames of at most
    :data:`CHUNK` bytes (small writes gathered, a large one sent as views of itself)."""

    def __init__(self, emit: Callable[[Piece], None]) -> None:
        self._emit = emit
        self._buf = bytearray()

    def write(self, data: Piece) -> int:
        size = len(data) if isinstance(data, bytes | bytearray) else memoryview(data).nbytes
        if size < CHUNK or not isinstance(data, bytes):
            # Small, or a buffer its owner may change later: copied (a large one whole,
            # for a moment; the pool sends none: its large ones are ``bytes``).
            self._buf += data
            while len(self._buf) >= CHUNK:
                self._flush(CHUNK)
            return size
        self._flush(len(self._buf))
        view = memoryview(data)  # ``data`` is immutable: its views are safe to queue
        for start in range(0, size, CHUNK):
            piece = view[start : start + CHUNK]
            self._emit(_word(len(piece), True))
            self._emit(piece)
        return size

    def _flush(self, size: int) -> None:
        if size:
            self._emit(_word(size, True) + self._buf[:size])
            del self._buf[:size]

    def end(self) -> None:
        """Send what is left as the object's last frame (possibly empty)."""
        self._emit(_word(len(self._buf), False) + self._buf)
        self._buf = bytearray()


def dump(obj: object, emit: Callable[[Piece], None]) -> None:
    """Pickle ``obj`` into frames, handing each piece to ``emit`` in order."""
    writer = _FrameWriter(emit)
    pickle.Pickler(writer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    writer.end()


class _Chunks:
    """The file a :class:`pickle.Unpickler` reads from: the frames of one object, each
    let go as soon as it has been read."""

    def __init__(self, chunks: deque[bytes]) -> None:
        self._chunks = chunks
        self._pos = 0  # read so far of the first chunk

    def readinto(self, buffer: Any) -> int:
        out = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(out) and self._chunks:
            chunk = self._chunks[0]
            take = min(len(chunk) - self._pos, len(out) - filled)
            out[filled : filled + take] = memoryview(chunk)[self._pos : self._pos + take]
            filled += take
            self._pos += take
            if self._pos == len(chunk):
                self._chunks.popleft()
                self._pos = 0
        return filled

    def read(self, size: int = -1) -> bytes | bytearray:
        """The next ``size`` bytes (fewer at the end). A whole frame is returned as it
        is; anything else in a ``bytearray`` filled as the frames it takes are let go:
        the C unpickler takes any buffer (a ``bytes`` would be a second copy of a large
        string's UTF-8 beside the string made from it)."""
        if size < 0:
            size = sum(len(c) for c in self._chunks) - self._pos
        if self._pos == 0 and self._chunks and len(self._chunks[0]) == size:
            return self._chunks.popleft()
        out = bytearray(size)
        filled = self.readinto(out)
        if filled < size:
            del out[filled:]
        return out

    def readline(self) -> bytes:
        line = bytearray()
        while self._chunks:
            chunk = self._chunks[0]
            end = chunk.find(b"\n", self._pos)
            stop = len(chunk) if end == -1 else end + 1
            line += memoryview(chunk)[self._pos : stop]
            self._pos = stop
            if stop == len(chunk):
                self._chunks.popleft()
                self._pos = 0
            if end != -1:
                break
        return bytes(line)


def _load(chunks: deque[bytes]) -> Any:
    # Frames come only from our own worker (or, in a worker, its own parent process).
    # The C unpickler takes any buffer from ``read`` (see _Chunks.read).
    return pickle.Unpickler(_Chunks(chunks)).load()  # type: ignore[arg-type]


class Frames:
    """The receiving side of a non-blocking pipe: :meth:`feed` it what was read; it
    returns each object whose last frame has arrived.

    An object that cannot be unpickled (a damaged stream, a class this process cannot
    import) sets :attr:`broken` to why: the objects before it are still returned, and
    nothing after it is read (the stream cannot be trusted past it).
    """

    def __init__(self) -> None:
        self._buf = bytearray()  # at most a frame and a read of bytes
        self._chunks: deque[bytes] = deque()  # the frames of the object now arriving
        self.broken: str | None = None

    def feed(self, data: bytes) -> list[Any]:
        objects: list[Any] = []
        if self.broken is not None:
            return objects
        buf = self._buf
        buf += data
        try:
            self._decode(buf, objects)
        except Exception as exc:  # pickle's errors, or any a class's own code raises
            self.broken = f"{type(exc).__name__}: {exc}"
            buf.clear()
            self._chunks.clear()
        return objects

    def _decode(self, buf: bytearray, objects: list[Any]) -> None:
        while len(buf) >= HEADER:
            word = int.from_bytes(buf[:HEADER], "little")
            end = HEADER + (word & _LENGTH)
            if len(buf) < end:
                break
            whole = not word & MORE and not self._chunks
            with memoryview(buf) as view, view[HEADER:end] as frame:
                if whole:  # an object in one frame (most are): read from the buffer
                    objects.append(pickle.loads(frame))  # our own worker's
                else:
                    self._chunks.append(bytes(frame))
            del buf[:end]
            if not whole and not word & MORE:
                chunks, self._chunks = self._chunks, deque()
                objects.append(_load(chunks))


def read_exact(fd: int, size: int) -> bytes | None:
    """``size`` bytes from ``fd``, or ``None`` at end of input."""
    parts: list[bytes] = []
    left = size
    while left:
        data = os.read(fd, min(left, READ_SIZE))
        if not data:
            return None
        parts.append(data)
        left -= len(data)
    return b"".join(parts)


def read_object(fd: int) -> Any:
    """The next object from the blocking ``fd``, or ``None`` at end of input."""
    chunks: deque[bytes] = deque()
    while True:
        header = read_exact(fd, HEADER)
        if header is None:
            return None
        word = int.from_bytes(header, "little")
        data = read_exact(fd, word & _LENGTH)
        if data is None:
            return None
        if not word & MORE:
            if not chunks:  # an object in one frame (most are)
                return pickle.loads(data)  # our own parent process's
            chunks.append(data)
            return _load(chunks)
        chunks.append(data)


def write_all(fd: int, data: Piece) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view[:READ_SIZE])
        view = view[written:]


def send_object(fd: int, obj: object) -> None:
    """Write ``obj`` to the blocking ``fd``, frame by frame."""
    dump(obj, lambda piece: write_all(fd, piece))
