"""The job functions of the pool: what one message to parse is, and parsing it
(in the calling process, or in a worker: ``parse_item``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from mailatlas_core import ParsedDocument
from mailatlas_core._heap import pin_mmap_threshold, release_after

from .._config import ParseLimits, ParserConfig
from .._errors import ParseError
from ..parser._deadline import ParseTimeout, time_budget

__all__ = ["Outcome", "ParseFailure", "ParseJob", "load_parser", "parse_item", "parse_one"]

T = TypeVar("T")

# A reply's metadata is serialised by the worker (``ParsedDocument.metadata_json``), and
# above this size it is sent as that text alone (``ParsedDocument.defer_metadata``): as
# dicts, a message of 9,000 parts has 0.7x its size of metadata in the storing process,
# which writes only the text (0.2x). Below it, the dicts come too (a message's metadata
# is usually a few KB): reading ``doc.metadata`` costs nothing then.
DEFER_METADATA_ABOVE = 64 * 1024


@dataclass(frozen=True, slots=True)
class ParseJob(Generic[T]):
    """One message to parse. ``tag`` stays in the calling process (any value).

    A job with ``parse=False`` is not parsed: it keeps its place in the output order
    with the outcome ``None`` (callers use this for messages they already know are
    duplicates or unreadable, so every input is answered in order).
    """

    tag: T
    raw: bytes
    received_at: str | None = None
    envelope: str | None = None
    parse: bool = True


@dataclass(frozen=True, slots=True)
class ParseFailure:
    """Why a message could not be parsed (``ParseError`` text or an unexpected error)."""

    reason: str


Outcome = ParsedDocument | ParseFailure


def parse_one(
    job: ParseJob[T], config: ParserConfig, limits: ParseLimits | None = None
) -> Outcome | None:
    """Parse one job in this process; never raises for a bad message.

    With ``limits``, a message above the size limit is refused unparsed, and the parse
    is stopped when it overruns the time budget (where Python code runs; see
    ``_deadline``).
    """
    if not job.parse:
        return None
    if limits is None:
        return _parse_guarded(job.raw, config, job.received_at, job.envelope)
    refusal = limits.refusal(len(job.raw))
    if refusal is not None:
        return ParseFailure(refusal)
    load_parser()  # before the clock starts: importing it is not the message's time
    try:
        with time_budget(limits.budget(len(job.raw))):
            return _parse_guarded(job.raw, config, job.received_at, job.envelope)
    except ParseTimeout:
        return ParseFailure(limits.timeout_reason(len(job.raw)))


def load_parser() -> None:
    """Import the parser stack (mail-parser, nh3, html-to-markdown, the cleaning rules).

    Loaded at the first parse, not with this module: a caller with nothing to parse (a
    sync rerun) never pays for it. Callers import it before a message's time budget
    starts (this process in :func:`parse_one`, a worker before it says it is ready).
    """
    from ..parser import _parse  # noqa: F401


def _parse_guarded(
    raw: bytes, config: ParserConfig, received_at: str | None, envelope: str | None
) -> Outcome:
    from ..parser._parse import parse_bytes  # see load_parser

    pin_mmap_threshold(len(raw))
    try:
        try:
            return parse_bytes(raw, config, received_at=received_at, envelope=envelope)
        finally:
            release_after(len(raw))
    except ParseError as exc:
        return ParseFailure(str(exc))
    except RecursionError:
        return ParseFailure("message structure is nested too deeply to parse")
    except (KeyboardInterrupt, SystemExit, GeneratorExit, ParseTimeout):
        raise
    except BaseException as exc:  # a parser bug must cost one message, not the run
        # BaseException too: a Rust panic in nh3 or html-to-markdown arrives as pyo3's
        # PanicException, which is not an Exception.
        return ParseFailure(f"unexpected parser error: {type(exc).__name__}: {exc}")


def parse_item(
    item: tuple[bytes, str | None, str | None, dict[int, str]],
    config: ParserConfig,
    reading: Callable[[int], None],
) -> Outcome:
    """Parse one message in a worker process (whose time the caller bounds).

    Its attachments are read here, each announced with ``reading(index)`` first; the
    item's last field names those not to read (their reader crashed a worker before).
    """
    from ..attachments._sandbox import reading_inline

    raw, received_at, envelope, not_read = item
    del item  # handed over by the caller: the raw bytes are ``raw`` and the document's
    with reading_inline(reading, not_read):
        outcome = _parse_guarded(raw, config, received_at, envelope)
    del raw
    if not isinstance(outcome, ParsedDocument):
        return outcome
    # The caller holds the raw bytes already: they are not pickled back, and they go
    # here, before the metadata is serialised and the reply pickled beside the document.
    outcome = replace(outcome, raw=b"")
    # Serialised here, on the worker's core: the storing process writes this text as is.
    outcome.serialise_metadata()
    if outcome.metadata_json is not None and len(outcome.metadata_json) > DEFER_METADATA_ABOVE:
        outcome.defer_metadata()  # see above
    outcome.hold_texts()  # a text file's text is sent (and held) once, as its bytes
    return outcome
