"""Runs the cleaning rules in a fixed order and records what each one did.

Order: invisible characters, forwarded headers, link-only lines, boilerplate, footer,
whitespace. Invisible characters go first so that the other rules see real text; the
footer rule runs after the removals so "the second half" is judged on what is left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mailatlas_core import Cleaning

from .._config import ParserConfig
from ._footer import cut_footer
from ._forwarded import find_forwarded_blocks
from ._invisible import strip_invisible
from ._links import find_link_only_lines
from ._whitespace import normalize_whitespace

__all__ = ["CleanResult", "clean_text"]

# What a rule removed is recorded for audit, up to this many lines each (a newsletter
# footer can be long; the count is always exact and ``truncated`` says when lines are
# missing from the list).
MAX_RECORDED_LINES = 40

# Cheap whole-text checks that let most messages skip the line-by-line scans.
# [^\S\n]: a line's own blanks only (\s* ran on over every following blank line).
_MAY_FORWARD = re.compile(r"^[^\S\n]*\**from\**\s*:|^[-_]{2,}|^begin forwarded", re.I | re.M)
_MAY_LINK = re.compile(r"://|mailto:")


@dataclass(slots=True)
class CleanResult:
    """The cleaned text and the metadata the rules produced."""

    text: str
    forwarded_chain: list[dict[str, str]]
    links: list[str]
    cleaning: Cleaning


def _record(removed: list[str]) -> dict[str, Any]:
    """``{"lines": n, "removed": [...]}`` (+ ``"truncated": true`` past the cap)."""
    record: dict[str, Any] = {"lines": len(removed), "removed": removed[:MAX_RECORDED_LINES]}
    if len(removed) > MAX_RECORDED_LINES:
        record["truncated"] = True
    return record


def clean_text(text: str, config: ParserConfig) -> CleanResult:
    """Apply the enabled rules to ``text``.

    Forwarded-header blocks and link-only lines are always *detected* (the chain goes to
    provenance, the links to ``metadata.links``); they are only removed when enabled.
    """
    rules: dict[str, dict[str, Any]] = {}
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    removed_chars = 0
    if config.strip_invisible_chars:
        text, removed_chars = strip_invisible(text)
    rules["strip_invisible_chars"] = {"removed_chars": removed_chars}
    may_forward = _MAY_FORWARD.search(text) is not None
    may_link = _MAY_LINK.search(text) is not None
    line_rules = may_forward or may_link or config.strip_boilerplate or config.stop_at_footer
    # The lines (about twice the text in memory) only when a line rule needs them.
    lines = text.split("\n") if line_rules else []
    kept = len(lines)
    dropped = 0

    blocks = find_forwarded_blocks(lines) if may_forward else []
    chain = [block.headers for block in blocks]
    forwarded: list[str] = []
    if config.strip_forwarded_headers and blocks:
        drop = {i for block in blocks for i in range(block.start, block.end)}
        forwarded = [lines[i] for i in sorted(drop)]
        lines = [line for i, line in enumerate(lines) if i not in drop]
    removed_blocks = len(blocks) if config.strip_forwarded_headers else 0
    rules["strip_forwarded_headers"] = {"blocks": removed_blocks, **_record(forwarded)}
    dropped += len(forwarded)

    link_lines, links = find_link_only_lines(lines) if may_link else (set(), [])
    link_only: list[str] = []
    if config.strip_link_only_lines and link_lines:
        link_only = [lines[i] for i in sorted(link_lines)]
        lines = [line for i, line in enumerate(lines) if i not in link_lines]
    rules["strip_link_only_lines"] = _record(link_only)
    dropped += len(link_only)

    boilerplate: list[dict[str, str]] = []
    if config.strip_boilerplate:
        # Its patterns (one alternation of them all) take ~10 ms of CPU to compile, and
        # the rule is off by default: a sync or ingest without it never compiles them.
        from ._boilerplate import strip_boilerplate

        lines, boilerplate = strip_boilerplate(lines)
    rules["strip_boilerplate"] = {
        **_record([item["line"] for item in boilerplate]),
        "matched": sorted({item["rule"] for item in boilerplate}),
    }
    dropped += len(boilerplate)

    footer: list[str] = []
    if config.stop_at_footer:
        lines, footer = cut_footer(lines)
    rules["stop_at_footer"] = _record(footer)
    dropped += len(footer)

    if len(lines) != kept:  # a rule removed lines (else the text is unchanged)
        text = "\n".join(lines)
    del lines
    counts = {"trimmed_lines": 0, "collapsed_runs": 0, "removed_blank_lines": 0}
    if config.normalize_whitespace:
        text, counts = normalize_whitespace(text)
    rules["normalize_whitespace"] = counts

    cleaning: Cleaning = {
        "removed_forwarded_headers": removed_blocks,
        "dropped_line_count": dropped,
        "stopped_at_footer": bool(footer),
        "rules": rules,
    }
    return CleanResult(text, chain, links, cleaning)
