"""The pool's wire protocol: objects as pickles cut into frames, never held whole.

Round trips through :class:`Frames` (fed in every kind of cut, as a non-blocking pipe
delivers) and through a real pipe (``send_object``/``read_object``, the worker's side);
the frame format (no frame above ``CHUNK``, ``MORE`` on all but the last); and memory,
measured with tracemalloc: sending a large ``bytes`` copies nothing (the old protocol
pickled it whole and then prefixed its length: two copies), and receiving lets each
frame go as the unpickler reads it (the old one held the stream, a slice of it and
its ``bytes`` copy beside the objects: 10x a message of many small attachments).
"""

from __future__ import annotations

import os
import pickle
import random
import select
import threading
import tracemalloc
from collections import deque
from typing import Any

import pytest
from mailatlas_clean import ParserConfig
from mailatlas_clean.attachments._readers import registered_readers
from mailatlas_clean.pool._jobs import parse_item
from mailatlas_clean.pool._process import WorkerDied, WorkerProcess
from mailatlas_clean.pool._protocol import (
    CHUNK,
    HEADER,
    MORE,
    Frames,
    Piece,
    _Chunks,
    _load,
    dump,
    read_object,
    send_object,
)

MB = 1 << 20


def _pieces(obj: object) -> list[Piece]:
    pieces: list[Piece] = []
    dump(obj, pieces.append)
    return pieces


def _stream(obj: object) -> bytes:
    return b"".join(bytes(p) for p in _pieces(obj))


def test_the_unpicklers_file_reads_lines_across_frames() -> None:
    # The C unpickler requires ``readline`` of its file (protocol 0 reads by lines), and
    # only protocol 0 calls it: a pickle of protocol 0 read through the frames' file.
    chunks = deque([b"ab", b"c\nde", b"f\n"])
    lines = _Chunks(chunks)
    assert (lines.readline(), lines.readline(), lines.readline()) == (b"abc\n", b"def\n", b"")
    assert not chunks  # every frame let go once read
    pickled = pickle.dumps({"text": "Grüße", "n": [1, 2.5, None]}, protocol=0)
    cut = deque(pickled[i : i + 7] for i in range(0, len(pickled), 7))
    assert _load(cut) == {"text": "Grüße", "n": [1, 2.5, None]}


def _frames_of(stream: bytes) -> list[tuple[int, bool]]:
    """(length, more) of every frame in ``stream``."""
    out = []
    pos = 0
    while pos < len(stream):
        word = int.from_bytes(stream[pos : pos + HEADER], "little")
        size = word & (MORE - 1)
        out.append((size, bool(word & MORE)))
        pos += HEADER + size
    assert pos == len(stream)
    return out


OBJECTS: dict[str, Any] = {
    "small": ("ready", 1, None),
    "exactly a chunk": b"x" * (CHUNK - 40),
    "large bytes": os.urandom(3 * MB + 17),
    "large str": "Grüße ✓ " * (MB // 2),
    "many small": [{"part": str(i), "data": os.urandom(900)} for i in range(3000)],
    "shared": [("same", "same")] * 5,
}


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_an_object_comes_back_whole_however_the_pipe_cuts_it(name: str) -> None:
    obj = OBJECTS[name]
    stream = _stream(obj) + _stream("next")
    rng = random.Random(name)
    for cuts in ("bytes", "random", "whole"):
        frames = Frames()
        got: list[Any] = []
        pos = 0
        while pos < len(stream):
            step = {"bytes": 1, "random": rng.randint(1, 3 * HEADER + 70_000)}.get(
                cuts, len(stream)
            )
            if cuts == "bytes" and len(stream) > 200_000:
                step = 7 if pos < 100 else 65_537  # the headers byte by byte, then on
            got += frames.feed(stream[pos : pos + step])
            pos += step
        assert got == [obj, "next"], cuts


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_no_frame_is_larger_than_a_chunk_and_only_the_last_says_nothing_more(
    name: str,
) -> None:
    frames = _frames_of(_stream(OBJECTS[name]))
    assert all(size <= CHUNK for size, _more in frames)
    assert [more for _size, more in frames] == [True] * (len(frames) - 1) + [False]


def test_a_large_bytes_is_sent_as_views_of_itself() -> None:
    data = os.urandom(8 * MB)
    tracemalloc.start()
    try:
        pieces = _pieces(("raw", data, None))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * MB, f"{peak / MB:.1f} MB to cut an 8 MB message into frames"
    views = [p for p in pieces if isinstance(p, memoryview)]
    assert views and all(v.obj is data for v in views)
    assert sum(len(v) for v in views) == len(data)


def _received(stream: bytes) -> tuple[Any, int, int]:
    """The one object of ``stream``, fed a megabyte at a time, and the traced memory
    then and at its peak (the stream itself not counted)."""
    frames = Frames()
    tracemalloc.start()
    try:
        got: list[Any] = []
        for pos in range(0, len(stream), MB):
            got += frames.feed(stream[pos : pos + MB])
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [obj] = got
    return obj, current, peak


def test_a_received_object_costs_about_its_own_size() -> None:
    """The frames are let go as the unpickler reads them: at the peak, the objects
    made so far and what is still to be read, not the whole stream beside them."""
    got, current, peak = _received(_stream([os.urandom(1000) for _ in range(16_000)]))
    assert len(got) == 16_000  # ~16 MB of small objects
    assert peak < current * 1.2 + 2 * MB, f"peak {peak / MB:.1f} MB for {current / MB:.1f} MB"


def test_a_received_large_string_costs_its_utf8_and_itself() -> None:
    got, _current, peak = _received(_stream({"body_text": "Lorem ipsum. " * (16 * MB // 13)}))
    size = len(got["body_text"])
    assert peak < 2.2 * size, f"peak {peak / MB:.1f} MB for a {size / MB:.0f} MB string"


def test_objects_cross_a_real_pipe_in_order() -> None:
    """The worker's side: blocking writes of frames, blocking reads of objects."""
    objects = [OBJECTS["large bytes"], OBJECTS["many small"], "ready", OBJECTS["large str"]]
    read_fd, write_fd = os.pipe()

    def write() -> None:
        for obj in objects:
            send_object(write_fd, obj)
        os.close(write_fd)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        got = [read_object(read_fd) for _ in objects]
        assert read_object(read_fd) is None  # end of input
    finally:
        writer.join()
        os.close(read_fd)
    assert got == objects


def test_a_stream_cut_short_is_no_object() -> None:
    stream = _stream(OBJECTS["large bytes"])
    assert Frames().feed(stream[:-1]) == []
    read_fd, write_fd = os.pipe()
    writer = threading.Thread(target=lambda: (os.write(write_fd, stream[: HEADER + 5]), None))
    writer.start()
    writer.join()
    os.close(write_fd)
    try:
        assert read_object(read_fd) is None
    finally:
        os.close(read_fd)


class _Interrupted:
    """Pickling it raises KeyboardInterrupt, as a Ctrl-C landing mid-pickle does."""

    def __reduce__(self) -> Any:
        raise KeyboardInterrupt


def _message(subject: str, size: int) -> bytes:
    head = f"From: a@example.com\nSubject: {subject}\nMessage-ID: <{subject}@example.com>\n\n"
    return head.encode() + b"Some text of the body.\n" * (size // 23 + 1)


def _replies(proc: WorkerProcess, count: int) -> list[tuple[object, Any]]:
    """Pump ``proc`` until ``count`` replies have arrived (WorkerDied if it dies)."""
    got: list[tuple[object, Any]] = []
    while len(got) < count:
        got += proc.pump()
        poller = select.poll()
        poller.register(proc.read_fd, select.POLLIN)
        if proc.wants_write:
            poller.register(proc.write_fd, select.POLLOUT)
        poller.poll(1000)  # woken by the worker's progress; the bound only re-checks it
    return got


def test_a_request_interrupted_while_it_is_pickled_leaves_nothing_of_it_queued() -> None:
    """A request is pickled into frames: one interrupted after its first megabytes must
    not leave those frames queued, or the worker reads them and the next request as
    one pickle (whose memo references then name the wrong objects)."""
    proc = WorkerProcess(ParserConfig(), registered_readers())
    try:
        with pytest.raises(KeyboardInterrupt):
            proc.send([(_message("big", 3 * MB), None, None, {}), _Interrupted()], "lost", [60.0])
        when = "2024-05-05T10:00:00+00:00"  # one object, twice: the second is a memo reference
        items = [(_message(s, 2000), when, None, {}) for s in ("first", "second")]
        proc.send(items, "next", [60.0, 60.0])
        replies = _replies(proc, 2)
    finally:
        proc.close(kill=True)
    expected = [parse_item(item, ParserConfig(), lambda _index: None) for item in items]
    assert replies == [("next", doc) for doc in expected]


def _bad_frame() -> bytes:
    """One frame that is no pickle."""
    junk = b"\x80\x05no pickle at all"
    return len(junk).to_bytes(HEADER, "little") + junk


def _bad_ending(obj: object) -> bytes:
    """The frames of ``obj`` with its last one replaced by one that ends no pickle."""
    stream = _stream(obj)
    last = len(stream) - HEADER - _frames_of(stream)[-1][0]
    junk = b"\xff"
    return stream[:last] + len(junk).to_bytes(HEADER, "little") + junk


def test_an_object_that_cannot_be_read_ends_the_stream_not_the_objects_before_it() -> None:
    for bad in (_bad_frame(), _bad_ending(OBJECTS["large bytes"])):
        frames = Frames()
        got = frames.feed(_stream("before") + bad + _stream("after"))
        assert got == ["before"]
        assert frames.broken is not None
        assert frames.feed(_stream("later")) == []  # nothing past it is trusted


# A worker whose second reply is no pickle: the caller must treat it as a worker that died
# there (its message retried), never raise from pump nor match a reply to the wrong message.
_BAD_WORKER = """
import os
from mailatlas_clean.pool._protocol import read_object, send_object
read_object(0)  # the config
send_object(1, "ready")
read_object(0)  # one request of two messages
send_object(1, "the first message's reply")
os.write(1, bytes.fromhex(BAD))
read_object(0)  # until the caller is done with it
""".replace("BAD", repr(_bad_frame().hex()))


def test_a_reply_that_cannot_be_read_is_a_worker_that_died() -> None:
    proc = WorkerProcess(ParserConfig(), registered_readers(), args=["-c", _BAD_WORKER])
    got: list[tuple[object, Any]] = []
    try:
        proc.send([(b"one", None, None, {}), (b"two", None, None, {})], "chunk", [60.0] * 2)
        with pytest.raises(WorkerDied):
            while True:  # until pump says the worker is gone (a third reply never comes)
                got += _replies(proc, 1)
    finally:
        proc.close(kill=True)
    assert got == [("chunk", "the first message's reply")]
    assert not proc.alive and list(proc.pending) == ["chunk"]  # the second is retried
