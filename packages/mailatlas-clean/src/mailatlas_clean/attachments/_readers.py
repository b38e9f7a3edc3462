"""Which function reads each kind of attachment: the built-in readers, or one an
application registered with :func:`register_reader`.

Registered readers are named by import path (``"package.module:function"``), not
passed as objects, because attachments are read in other processes (the parser workers
and the extractor process, see ``_sandbox``): each of those imports the names it is
sent when it starts. Nothing in a message can register or choose a reader.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

from ._kinds import KINDS

__all__ = ["install_readers", "reader_of", "register_reader", "registered_readers"]

_registered: dict[str, str] = {}


def register_reader(kind: str, target: str) -> None:
    """Read attachments of ``kind`` with ``target`` (``"module:function"``) instead of
    the built-in reader, in this process and in every parser or extractor process
    started after this call.

    ``kind`` is one of ``pdf``, ``docx``, ``xlsx``, ``pptx``, ``odf``, ``html``,
    ``csv``, ``text``. The function has the built-in reader's signature:
    ``(zipfile.ZipFile, bytes, TextSink)`` for the ZIP-based kinds (docx, xlsx, pptx,
    odf; the archive has passed the ZIP checks), ``(bytes, TextSink)`` for the others;
    it adds text with ``sink.add(piece)`` and raises to fail the file. The same size and
    time limits apply, and a crash of the process it runs in costs that file only
    (``docs/reliability.md``). The module must be importable in a fresh interpreter
    from this process's ``sys.path``.

    Raises:
        ValueError: an unknown kind, or a target that is not ``module:function``.
        ImportError, AttributeError: the target cannot be imported.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown attachment kind {kind!r} (one of {', '.join(KINDS)})")
    _load(target)
    _registered[kind] = target


def registered_readers() -> dict[str, str]:
    """The readers registered in this process, by kind (sent to new worker processes)."""
    return dict(_registered)


def install_readers(readers: Mapping[str, str]) -> None:
    """Register ``readers`` (a worker process, from the process that started it)."""
    for kind, target in readers.items():
        register_reader(kind, target)


def _load(target: str) -> Callable[..., None]:
    module, sep, name = target.partition(":")
    if not sep or not module or not name:
        raise ValueError(f"a reader is named 'module:function', not {target!r}")
    function = getattr(importlib.import_module(module), name)
    if not callable(function):
        raise ValueError(f"{target} is not a function")
    return function  # type: ignore[no-any-return]


def reader_of(kind: str) -> tuple[Callable[..., None], str]:
    """The reader function of ``kind`` and its name (``ImportError`` without the extra)."""
    target = _registered.get(kind)
    if target is not None:
        return _load(target), target
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
