"""The text of attachments: PDF, DOCX, XLSX, PPTX, OpenDocument, HTML, CSV, plain text.

:func:`read_texts` runs inside the message parse, so in the parser worker processes
for all but small messages, under the message's time budget. Per file it adds: a size
limit, a time budget of its own, the ZIP and XML checks of ``_zip``, and a cap on the
text kept. Whatever a file does (a zip bomb, a DTD, a parser exception, a timeout) is
recorded on that asset's :class:`~mailatlas_core.AssetText`; the message goes on.
PDF and Office readers come with the optional ``mailatlas-clean[attachments]`` extra;
without it those files say ``not_installed``. Nothing here opens a network connection
or runs a macro or script: none of the readers can.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from dataclasses import replace

from mailatlas_core.model import AssetData, AssetText

from .._deadline import ExtractTimeout, ParseTimeout, time_budget
from ..config import ExtractLimits, ParserConfig
from ._errors import Refused
from ._kinds import kind_of
from ._sink import TextSink

__all__ = ["INSTALL_HINT", "extract_file", "extract_text", "read_texts"]

INSTALL_HINT = "pip install 'mailatlas-clean[attachments]'"
_LABELS = {"pdf": "PDF", "docx": "DOCX", "xlsx": "XLSX", "pptx": "PPTX", "odf": "OpenDocument"}
_ZIPPED = frozenset({"docx", "xlsx", "pptx", "odf"})
_MB = 1024 * 1024


def _reader(kind: str) -> tuple[Callable[..., None], str]:
    """The reader function of ``kind`` and its name (``ImportError`` without the extra)."""
    if kind == "pdf":
        from . import _pdf

        return _pdf.read_pdf, _pdf.NAME
    if kind == "docx":
        from . import _docx

        return _docx.read_docx, _docx.NAME
    if kind == "xlsx":
        from . import _xlsx

        return _xlsx.read_xlsx, _xlsx.NAME
    if kind in ("pptx", "odf"):
        from . import _xml_docs

        return (_xml_docs.read_pptx if kind == "pptx" else _xml_docs.read_odf), _xml_docs.NAME
    from . import _text

    functions = {"html": _text.read_html, "csv": _text.read_csv, "text": _text.read_plain}
    return functions[kind], _text.NAME


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
    label = _LABELS.get(kind, kind.upper() if kind != "text" else "text")
    if len(data) > limits.max_input_bytes:
        return _too_large(len(data), limits)
    try:
        read, name = _reader(kind)
    except ImportError:
        return AssetText(
            "not_installed", error=f"{label} text extraction is not installed ({INSTALL_HINT})"
        )
    budget = limits.time_budget_s if seconds is None else min(seconds, limits.time_budget_s)
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
            size = os.fstat(fp.fileno()).st_size
            head = fp.read(1024)
            if kind_of(mime_type, name, head) is None:
                return AssetText("unsupported")
            if size > limits.max_input_bytes:
                return _too_large(size, limits)
            data = head + fp.read(limits.max_input_bytes + 1 - len(head))
    except OSError as exc:
        return AssetText("failed", error=f"cannot read the file: {exc.strerror or exc}")
    if len(data) > limits.max_input_bytes:  # it grew while being read
        return _too_large(len(data), limits)
    return extract_text(data, mime_type, name, limits)


def _failed(error: str, extractor: str) -> AssetText:
    return AssetText("failed", error=_clip(error), extractor=extractor)


def read_texts(assets: list[AssetData], config: ParserConfig, message_size: int) -> list[AssetData]:
    """``assets`` with their text read, within the message's share of time for it."""
    limits = config.attachments
    if not limits.enabled or not assets:
        return assets
    # At most half the message's own budget: the message must still finish in time.
    left = min(limits.message_budget_s, config.limits.budget(message_size) / 2)
    out: list[AssetData] = []
    for asset in assets:
        if left <= 0.05:
            text = (
                AssetText("skipped", error="the message's time for reading attachments ran out")
                if kind_of(asset.mime_type, asset.original_filename or asset.filename, asset.data)
                else AssetText("unsupported")
            )
        else:
            started = time.monotonic()
            text = extract_text(
                asset.data,
                asset.mime_type,
                asset.original_filename or asset.filename,
                limits,
                seconds=left,
            )
            left -= time.monotonic() - started
        out.append(replace(asset, text=text))
    return out
