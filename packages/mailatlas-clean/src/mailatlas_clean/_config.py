"""``ParserConfig``: the six cleaning flags shared by every ingest path."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["ExtractLimits", "ParseLimits", "ParserConfig"]

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """Bounds on the work one message may cost (see ``docs/reliability.md``).

    Attributes:
        max_message_bytes: a larger message is not parsed: it is recorded as a failure
            with this reason, its raw bytes kept. Readers (mbox) stop buffering a message
            at this size too.
        time_budget_s: how long parsing one message may take, plus ``time_per_mb_s`` for
            each MB of it; a parser process that exceeds it is stopped and the message is
            recorded as a failure (raw bytes kept). In-process parsing (small runs) is
            stopped the same way where Python code is running.
        time_per_mb_s: the budget's allowance per MB of message.
    """

    max_message_bytes: int = 512 * MB
    time_budget_s: float = 60.0
    time_per_mb_s: float = 1.0

    def __post_init__(self) -> None:
        if self.max_message_bytes < 1 or self.time_budget_s <= 0 or self.time_per_mb_s < 0:
            raise ValueError("parse limits must be positive")

    def budget(self, size: int) -> float:
        """Seconds a message of ``size`` bytes may take to parse."""
        return self.time_budget_s + self.time_per_mb_s * size / MB

    def refusal(self, size: int) -> str | None:
        """Why a message of ``size`` bytes is not parsed, or ``None`` if it is."""
        if size <= self.max_message_bytes:
            return None
        return (
            f"the message is {_megabytes(size)}, above the {_megabytes(self.max_message_bytes)}"
            " limit (--max-message-size); it was not parsed, its raw bytes are kept"
        )

    def skipped_reason(self, size: int) -> str:
        """The failure reason of a message a reader skipped for its size (mbox)."""
        return (
            f"the message is {_megabytes(size)}, above the {_megabytes(self.max_message_bytes)}"
            " limit (--max-message-size); it was skipped, its raw bytes are not kept"
        )

    def timeout_reason(self, size: int) -> str:
        """The failure reason of a message whose parse ran out of time."""
        return (
            f"parsing took longer than its time budget ({self.budget(size):.0f} s,"
            " --parse-timeout) and was stopped; its raw bytes are kept"
        )


def _megabytes(size: int) -> str:
    if size < MB:
        return f"{size / 1024:.1f} KB"
    return f"{size / MB:.1f} MB" if size < 10 * MB else f"{size // MB} MB"


@dataclass(frozen=True, slots=True)
class ExtractLimits:
    """Bounds on reading the text of attachments (see ``docs/security.md``).

    Extraction runs inside the parse (in the parser worker processes for all but small
    messages), so the message's own time budget bounds it too. A file that breaks a
    limit, or that an extractor fails on (even by crashing its process: files are never
    read in the process that stores), gets ``text.status`` ``skipped`` or ``failed``
    with the reason; the message is stored as usual.

    Attributes:
        enabled: read attachment text at all (``False``: assets keep metadata only).
        max_input_bytes: larger attachments are not read (``skipped``).
        max_text_chars: text beyond this is cut (``truncated``).
        time_budget_s: how long reading one file may take.
        message_budget_s: how long all the attachments of one message may take together
            (at most half the message's own parse budget); later files are ``skipped``.
        max_zip_entries: a DOCX/XLSX/PPTX/ODT with more ZIP entries is refused.
        max_zip_bytes: ... or with more uncompressed bytes in all (a zip bomb).
        max_zip_ratio: ... or, above 10 MB uncompressed, a larger
            uncompressed/compressed ratio.
    """

    enabled: bool = True
    max_input_bytes: int = 32 * MB
    max_text_chars: int = 1_000_000
    time_budget_s: float = 20.0
    message_budget_s: float = 40.0
    max_zip_entries: int = 10_000
    max_zip_bytes: int = 256 * MB
    max_zip_ratio: int = 100

    def __post_init__(self) -> None:
        if (
            min(self.max_input_bytes, self.max_text_chars, self.max_zip_entries) < 1
            or min(
                self.time_budget_s, self.message_budget_s, self.max_zip_bytes, self.max_zip_ratio
            )
            <= 0
        ):
            raise ValueError("attachment text limits must be positive")


@dataclass(frozen=True, slots=True)
class ParserConfig:
    """Which cleaning rules run on ``body_text``.

    The four rules that remove content are off by default; the two that only tidy
    (invisible characters, whitespace) are on. Every rule is described, with examples and
    its limits, in ``docs/cleaning.md``.

    Attributes:
        strip_forwarded_headers: remove forwarded/quoted header blocks (Gmail, Apple Mail,
            Outlook). The chain is recorded in ``metadata.provenance`` either way.
        strip_boilerplate: remove whole newsletter boilerplate lines ("View in browser").
        strip_link_only_lines: remove lines that hold nothing but links (kept in
            ``metadata.links``).
        stop_at_footer: cut the trailing footer (unsubscribe block, copyright line,
            ``-- `` signature) when it starts in the second half of the message.
        strip_invisible_chars: drop zero-width and bidi control characters, keeping the
            joiners that emoji and some scripts need.
        normalize_whitespace: remove trailing spaces, squeeze blank-line runs and collapse
            invisible (no-break space) padding; never touches indentation or joins lines.
    """

    strip_forwarded_headers: bool = False
    strip_boilerplate: bool = False
    strip_link_only_lines: bool = False
    stop_at_footer: bool = False
    strip_invisible_chars: bool = True
    normalize_whitespace: bool = True
    limits: ParseLimits = ParseLimits()
    attachments: ExtractLimits = ExtractLimits()

    def to_dict(self) -> dict[str, bool]:
        """The six flags as a plain dict (the ``metadata.parser_config`` shape)."""
        # Spelled out: dataclasses.asdict deep-copies and is slow on a hot path.
        return {
            "strip_forwarded_headers": self.strip_forwarded_headers,
            "strip_boilerplate": self.strip_boilerplate,
            "strip_link_only_lines": self.strip_link_only_lines,
            "stop_at_footer": self.stop_at_footer,
            "strip_invisible_chars": self.strip_invisible_chars,
            "normalize_whitespace": self.normalize_whitespace,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ParserConfig:
        """Build a config from a mapping, ignoring unknown keys.

        Raises:
            TypeError: a known flag has a value that is not a bool.
        """
        known = {f.name for f in fields(cls)} - {"limits", "attachments"}
        values: dict[str, bool] = {}
        for key, value in data.items():
            if key not in known:
                continue
            if not isinstance(value, bool):
                raise TypeError(f"parser_config.{key} must be true or false, not {value!r}")
            values[key] = value
        return cls(**values)  # type: ignore[arg-type]
