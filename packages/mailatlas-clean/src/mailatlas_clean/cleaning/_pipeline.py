"""Runs the cleaning rules in a fixed order and records what each one did.

Order: invisible characters, forwarded headers, link-only lines, boilerplate, footer,
whitespace. Invisible characters go first so that the other rules see real text; the
footer rule runs after the removals so "the second half" is judged on what is left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..config import ParserConfig
from ._boilerplate import strip_boilerplate
from ._footer import cut_footer
from ._forwarded import find_forwarded_blocks
from ._invisible import strip_invisible
from ._links import find_link_only_lines
from ._whitespace import normalize_whitespace

__all__ = ["CleanResult", "clean_text"]

# Cheap whole-text checks that let most messages skip the line-by-line scans.
_MAY_FORWARD = re.compile(r"^\s*\**from\**\s*:|^[-_]{2,}|^begin forwarded", re.I | re.M)
_MAY_LINK = re.compile(r"://|mailto:")


@dataclass(slots=True)
class CleanResult:
    """The cleaned text and the metadata the rules produced."""

    text: str
    forwarded_chain: list[dict[str, str]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    cleaning: dict[str, Any] = field(default_factory=dict)


def clean_text(text: str, config: ParserConfig) -> CleanResult:
    """Apply the enabled rules to ``text``.

    Forwarded-header blocks and link-only lines are always *detected* (the chain goes to
    provenance, the links to ``metadata.links``); they are only removed when enabled.
    """
    rules: dict[str, dict[str, int]] = {}
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    removed_chars = 0
    if config.strip_invisible_chars:
        text, removed_chars = strip_invisible(text)
    rules["strip_invisible_chars"] = {"removed_chars": removed_chars}
    lines = text.split("\n")
    dropped = 0

    blocks = find_forwarded_blocks(lines) if _MAY_FORWARD.search(text) else []
    chain = [block.headers for block in blocks]
    forwarded_lines = 0
    if config.strip_forwarded_headers and blocks:
        drop = {i for block in blocks for i in range(block.start, block.end)}
        lines = [line for i, line in enumerate(lines) if i not in drop]
        forwarded_lines = len(drop)
    removed_blocks = len(blocks) if config.strip_forwarded_headers else 0
    rules["strip_forwarded_headers"] = {"blocks": removed_blocks, "lines": forwarded_lines}
    dropped += forwarded_lines

    link_lines, links = find_link_only_lines(lines) if _MAY_LINK.search(text) else (set(), [])
    removed_links = 0
    if config.strip_link_only_lines and link_lines:
        lines = [line for i, line in enumerate(lines) if i not in link_lines]
        removed_links = len(link_lines)
    rules["strip_link_only_lines"] = {"lines": removed_links}
    dropped += removed_links

    removed_boilerplate = 0
    if config.strip_boilerplate:
        lines, removed_boilerplate = strip_boilerplate(lines)
    rules["strip_boilerplate"] = {"lines": removed_boilerplate}
    dropped += removed_boilerplate

    cut = 0
    if config.stop_at_footer:
        lines, cut = cut_footer(lines)
    rules["stop_at_footer"] = {"lines": cut}
    dropped += cut

    text = "\n".join(lines)
    counts = {"collapsed_runs": 0, "removed_blank_lines": 0}
    if config.normalize_whitespace:
        text, counts = normalize_whitespace(text)
    rules["normalize_whitespace"] = counts

    cleaning = {
        "removed_forwarded_headers": removed_blocks,
        "dropped_line_count": dropped,
        "stopped_at_footer": cut > 0,
        "rules": rules,
    }
    return CleanResult(text, chain, links, cleaning)
