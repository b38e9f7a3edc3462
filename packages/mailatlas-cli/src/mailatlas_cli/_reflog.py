"""The refs of the documents an ingest created, in bounded memory.

An ingest of a 2 GB archive creates hundreds of thousands of documents; holding a ref
object for each would make memory grow with the archive. :class:`RefLog` keeps the
first ``keep_in_memory`` refs as objects and writes the rest as JSON lines to an
unnamed temporary file (0600, already unlinked, gone when the process ends). It still
behaves as a read-only sequence: the file offset of every ``stride``-th line is kept
(8 bytes per 256 refs), and a lookup reads forward from the nearest one.
"""

from __future__ import annotations

import json
import tempfile
from array import array
from collections.abc import Iterator, Sequence
from typing import IO, overload

from mailatlas_core import DocumentRef

__all__ = ["RefLog"]


class RefLog(Sequence[DocumentRef]):
    """An append-only sequence of :class:`DocumentRef` that spills to disk."""

    def __init__(self, keep_in_memory: int = 1_000, stride: int = 256) -> None:
        self._memory: list[DocumentRef] = []
        self._keep = keep_in_memory
        self._stride = max(1, stride)
        self._file: IO[bytes] | None = None
        self._spilled = 0
        self._marks = array("Q")  # file offset of spilled ref 0, stride, 2 * stride, ...
        self._at_end = True  # the file position is at its end (no read since the last write)

    def append(self, ref: DocumentRef) -> None:
        if len(self._memory) < self._keep:
            self._memory.append(ref)
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the log)
        if not self._at_end:
            self._file.seek(0, 2)
            self._at_end = True
        if self._spilled % self._stride == 0:
            self._marks.append(self._file.tell())
        self._file.write(json.dumps(ref.to_dict(), ensure_ascii=False).encode() + b"\n")
        self._spilled += 1

    def __len__(self) -> int:
        return len(self._memory) + self._spilled

    @overload
    def __getitem__(self, index: int) -> DocumentRef: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[DocumentRef]: ...
    def __getitem__(self, index: int | slice) -> DocumentRef | Sequence[DocumentRef]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("ref index out of range")
        if index < len(self._memory):
            return self._memory[index]
        assert self._file is not None
        mark, skip = divmod(index - len(self._memory), self._stride)
        self._at_end = False
        self._file.seek(self._marks[mark])
        for _ in range(skip):
            self._file.readline()
        return DocumentRef(**json.loads(self._file.readline()))

    def __iter__(self) -> Iterator[DocumentRef]:
        yield from self._memory
        if self._file is not None:
            self._at_end = False
            self._file.seek(0)
            for line in self._file:
                yield DocumentRef(**json.loads(line))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def close(self) -> None:
        """Drop the spill file (also happens when the process ends)."""
        if self._file is not None:
            self._file.close()
            self._file = None
            self._spilled = 0
            self._marks = array("Q")
