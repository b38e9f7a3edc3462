"""The text of attachments: PDF, DOCX, XLSX, PPTX, OpenDocument, HTML, CSV, plain text.

:func:`read_texts` runs inside the message parse, so in the parser worker processes
for all but small messages, under the message's time budget. Per file it adds: a size
limit, a time budget of its own, the ZIP and XML checks of ``_zip``, and a cap on the
text kept. Whatever a file does (a zip bomb, a DTD, a parser exception, a timeout) is
recorded on that asset's :class:`~mailatlas_core.AssetText`; the message goes on. A
hard crash (a segfault in native code, the OOM killer) costs that file only too: files
are read in a process that may die, never in the one that stores (see ``_sandbox``).
PDF and Office readers come with the optional ``mailatlas-clean[attachments]`` extra;
without it those files say ``not_installed``. Nothing here opens a network connection
or runs a macro or script: none of the readers can.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from dataclasses import replace
from typing import TYPE_CHECKING, BinaryIO, cast

from mailatlas_core import AssetData, AssetText, AssetTextStatus, StoreError

from .._config import ExtractLimits, ParserConfig
from ..parser._deadline import ExtractTimeout, ParseTimeout, time_budget
from ._errors import Refused
from ._kinds import kind_of, label_of
from ._readers import reader_of, register_reader
from ._sandbox import EVERY, EXTRACTOR, MAX_READER_CRASHES, gave_up, inline
from ._sink import TextSink

if TYPE_CHECKING:
    from mailatlas_core import BlobStore

__all__ = [
    "INSTALL_HINT",
    "extract_blob",
    "extract_file",
    "extract_text",
    "read_kind",
    "read_texts",
    "register_reader",
]

INSTALL_HINT = "pip install 'mailatlas-clean[attachments]'"
_ZIPPED = frozenset({"docx", "xlsx", "pptx", "odf"})
_MB = 1024 * 1024


def _clip(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def extract_text(
    data: bytes,
    mime_type: str,
    filename: str | None = None,
    limits: ExtractLimits | None = None,
    *,
    seconds: float | None = None,
) -> AssetText:
    """The text of one attachment, or why there is none. Never raises for a bad file.

    The file is read in the extractor process (started on first use, kept after): a
    reader that crashes it (a segfault, the OOM killer) costs a ``failed`` reading, not
    this process.

    Args:
        data: the attachment's bytes.
        mime_type: its declared type (a vague ``application/octet-stream`` is decided by
            ``filename`` and the bytes).
        limits: size, time and ZIP limits (default :class:`ExtractLimits`).
        seconds: at most this long (when less than ``limits.time_budget_s``).
    """
    limits = limits or ExtractLimits()
    kind = kind_of(mime_type, filename, data)
    if kind is None:
        return AssetText("unsupported")
    if len(data) > limits.max_input_bytes:
        return _too_large(len(data), limits)
    budget = limits.time_budget_s if seconds is None else min(seconds, limits.time_budget_s)
    return EXTRACTOR.extract(data, kind, limits, budget, label_of(kind))


def read_kind(data: bytes, kind: str, limits: ExtractLimits, budget: float) -> AssetText:
    """Read one file of ``kind`` in this process, within ``budget`` seconds: only in a
    process that may crash (a parser worker, the extractor process; see ``_sandbox``)."""
    label = label_of(kind)
    try:
        read, name = reader_of(kind)
    except ImportError:
        return AssetText(
            "not_installed", error=f"{label} text extraction is not installed ({INSTALL_HINT})"
        )
    sink = TextSink(limits.max_text_chars)
    try:
        with warnings.catch_warnings(), time_budget(budget, ExtractTimeout):
            warnings.simplefilter("ignore")
            if kind in _ZIPPED:
                from ._zip import open_zip

                archive = open_zip(data, limits)
                with archive:
                    read(archive, data, sink)
            else:
                read(data, sink)
    except ExtractTimeout:
        why = f"reading the {label} took longer than its {budget:g} s budget"
        partial = sink.text().replace("\x00", "").strip()
        if not partial:
            return _failed(why, name)
        # Pages, rows or slides read before the budget ran out are kept, marked as cut.
        return AssetText("ok", partial, len(partial), True, why + "; the text is partial", name)
    except Refused as exc:
        return _failed(f"the {label} was refused: {exc}", name)
    except (ParseTimeout, KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except RecursionError:
        return _failed(f"the {label} is nested too deeply to read", name)
    except MemoryError:
        return _failed(f"the {label} needs more memory than is available", name)
    except BaseException as exc:  # a reader bug must cost this file only
        # BaseException too: a Rust panic (nh3, html-to-markdown) is not an Exception.
        return _failed(f"the {label} could not be read ({type(exc).__name__}: {exc})", name)
    text = sink.text().replace("\x00", "").strip()
    return AssetText("ok", text, len(text), sink.truncated, None, name)


def _too_large(size: int, limits: ExtractLimits) -> AssetText:
    return AssetText(
        "skipped",
        error=f"the file is {size / _MB:.1f} MB, above the"
        f" {limits.max_input_bytes / _MB:.0f} MB limit for reading attachment text",
    )


def extract_file(
    path: str | os.PathLike[str],
    mime_type: str,
    filename: str | None = None,
    limits: ExtractLimits | None = None,
) -> AssetText:
    """:func:`extract_text` of a stored file; its size is checked before a byte is read
    (a 1 GB sparse file costs nothing). ``failed`` if it cannot be read."""
    limits = limits or ExtractLimits()
    name = filename or os.path.basename(path)
    try:
        with open(path, "rb") as fp:
            data = _bounded_read(fp, os.fstat(fp.fileno()).st_size, mime_type, name, limits)
    except OSError as exc:
        return AssetText("failed", error=f"cannot read the file: {exc.strerror or exc}")
    return data if isinstance(data, AssetText) else extract_text(data, mime_type, name, limits)


def extract_blob(
    blobs: BlobStore,
    key: str,
    mime_type: str,
    filename: str | None = None,
    limits: ExtractLimits | None = None,
) -> AssetText:
    """:func:`extract_file` of the blob ``key`` of a store's blob store (local files or
    S3): its size is asked before a byte is read. ``failed`` if it cannot be read."""
    limits = limits or ExtractLimits()
    name = filename or key.rsplit("/", 1)[-1]
    try:
        size = blobs.size(key)
        with blobs.open(key) as fp:
            data = _bounded_read(fp, size, mime_type, name, limits)
    except (OSError, StoreError) as exc:
        return AssetText("failed", error=_clip(f"cannot read the file: {exc}"))
    return data if isinstance(data, AssetText) else extract_text(data, mime_type, name, limits)


def _bounded_read(
    fp: BinaryIO, size: int, mime_type: str, name: str, limits: ExtractLimits
) -> bytes | AssetText:
    """The bytes of an open stored file of ``size`` bytes, or why it is not read: a kind
    no reader knows (from its first KB), or a size over the limit (before reading more)."""
    head = fp.read(1024)
    if kind_of(mime_type, name, head) is None:
        return AssetText("unsupported")
    if size > limits.max_input_bytes:
        return _too_large(size, limits)
    data = head + fp.read(limits.max_input_bytes + 1 - len(head))
    if len(data) > limits.max_input_bytes:  # it grew while being read
        return _too_large(len(data), limits)
    return data


def _failed(error: str, extractor: str) -> AssetText:
    return AssetText("failed", error=_clip(error), extractor=extractor)


def read_texts(assets: list[AssetData], config: ParserConfig, message_size: int) -> list[AssetData]:
    """``assets`` with their text read, within the message's share of time for it: each
    entry of the list is replaced in place (the old one let go as the new one is made),
    and the list returned.

    In a parser worker they are read here, each announced first (``_sandbox.Inline``);
    elsewhere each goes to the extractor process.
    """
    limits = config.attachments
    if not limits.enabled or not assets:
        return assets
    # At most half the message's own budget: the message must still finish in time.
    left = min(limits.message_budget_s, config.limits.budget(message_size) / 2)
    here = inline()
    deaths = EXTRACTOR.deaths
    counts: dict[int, int] = {}
    for index, asset in enumerate(assets):
        kind = kind_of(asset.mime_type, asset.original_filename or asset.filename, asset.data)
        if kind is None:
            text = AssetText("unsupported")
        elif left <= 0.05:
            text = AssetText("skipped", error="the message's time for reading attachments ran out")
        elif len(asset.data) > limits.max_input_bytes:
            text = _too_large(len(asset.data), limits)
        elif why := here.not_read.get(index, here.not_read.get(EVERY)):
            text = AssetText("failed", error=f"the {label_of(kind)} reader {why}")
        elif here.started is None and EXTRACTOR.deaths - deaths >= MAX_READER_CRASHES:
            why = gave_up(EXTRACTOR.deaths - deaths)
            text = AssetText("failed", error=f"the {label_of(kind)} reader {why}")
        else:
            started = time.monotonic()
            budget = min(left, limits.time_budget_s)
            if here.started is None:
                text = EXTRACTOR.extract(asset.data, kind, limits, budget, label_of(kind))
            else:
                here.started(index)  # if this process dies now, the pool knows on what
                text = read_kind(asset.data, kind, limits, budget)
            left -= time.monotonic() - started
        assets[index] = replace(asset, text=_shared(text, counts))  # the old one goes now
    return assets


def _shared(text: AssetText, counts: dict[int, int]) -> AssetText:
    """``text`` with its status and reader name as the interpreter's one str of each,
    and its ``chars`` as the one int of its value in ``counts``: a reply unpickled from
    the extractor process brings its own copies, one per file."""
    status = cast(AssetTextStatus, sys.intern(text.status))
    extractor = sys.intern(text.extractor) if text.extractor is not None else None
    chars = counts.setdefault(text.chars, text.chars)
    return replace(text, status=status, extractor=extractor, chars=chars)
