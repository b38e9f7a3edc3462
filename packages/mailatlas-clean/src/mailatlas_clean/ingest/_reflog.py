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
        return self.iter_from(0)

    def iter_from(self, start: int) -> Iterator[DocumentRef]:
        """The refs from index ``start`` on, read forward once (no lookup per ref)."""
        start = max(0, start)
        yield from self._memory[start:]
        if self._file is None:
            return
        first = max(0, start - len(self._memory))
        mark, skip = divmod(first, self._stride)
        if mark >= len(self._marks):
            return
        self._at_end = False
        self._file.seek(self._marks[mark])
        for _ in range(skip):
            self._file.readline()
        for line in self._file:
            yield DocumentRef(**json.loads(line))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def truncate(self, length: int) -> None:
        """Keep only the first ``length`` refs (the refs of a rolled-back batch go)."""
        if length >= len(self):
            return
        if length <= len(self._memory):
            del self._memory[length:]
            self.close()
            return
        assert self._file is not None
        keep = length - len(self._memory)
        mark, skip = divmod(keep, self._stride)
        if skip == 0:  # the cut is at a mark: the file ends where that mark starts
            end = self._marks[mark]
        else:
            self._file.seek(self._marks[mark])
            for _ in range(skip):
                self._file.readline()
            end = self._file.tell()
        self._file.truncate(end)
        del self._marks[mark + (1 if skip else 0) :]
        self._spilled = keep
        self._file.seek(0, 2)
        self._at_end = True

    def close(self) -> None:
        """Drop the spill file (also happens when the process ends)."""
        if self._file is not None:
            self._file.close()
            self._file = None
            self._spilled = 0
            self._marks = array("Q")
