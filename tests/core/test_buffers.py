"""``mailatlas_core._buffers.presized``: a result written in place is handed over
without a copy (shared by the parser's line-end conversion and the IMAP literal read)."""

from __future__ import annotations

import pytest
from mailatlas_core._buffers import presized


@pytest.mark.parametrize("size", [0, 1, 7, 1 << 20])
def test_a_presized_buffer_is_zeroes_of_its_size_read_from_the_start(size: int) -> None:
    buffer = presized(size)
    assert buffer.tell() == 0
    assert buffer.getvalue() == bytes(size)


def test_filled_to_its_size_its_bytes_are_handed_over_not_copied() -> None:
    buffer = presized(6)
    buffer.write(b"abc")
    buffer.write(b"def")
    value = buffer.getvalue()
    assert value == b"abcdef"
    # The buffer itself, not a copy: asked again, it gives the very same object.
    assert buffer.getvalue() is value


def test_written_in_place_through_a_view() -> None:
    buffer = presized(4)
    with buffer.getbuffer() as view:
        view[1:3] = b"xy"
    assert buffer.getvalue() == b"\0xy\0"
