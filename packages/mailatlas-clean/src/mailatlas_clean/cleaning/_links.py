"""Link-only lines: lines that hold nothing but links (and bullets or separators).

A URL inside a sentence is never touched: the line must be links and punctuation only.
"""

from __future__ import annotations

import re

__all__ = ["find_link_only_lines"]

# The link text holds no "[": a run of "[" with no "]" was rescanned from each one.
_MD_LINK = re.compile(r"!?\[([^\[\]]*)\]\(<?((?:https?|mailto|ftp):[^)\s>]+)>?(?:\s+\"[^\"]*\")?\)")
_BARE_URL = re.compile(r"<?((?:https?|ftp)://[^\s<>]+|mailto:[^\s<>]+)>?")
_FILLER = re.compile(r"^[\s\-*•·|>»«›‹→:,;()\[\]]*$")


def find_link_only_lines(lines: list[str]) -> tuple[set[int], list[str]]:
    """Indexes of link-only lines and the URLs they held (in order, de-duplicated)."""
    found: set[int] = set()
    urls: list[str] = []
    for index, line in enumerate(lines):
        if "://" not in line and "mailto:" not in line:
            continue
        line_urls = [m.group(2) for m in _MD_LINK.finditer(line)]
        rest = _MD_LINK.sub(" ", line)
        line_urls += [m.group(1).rstrip(".,;") for m in _BARE_URL.finditer(rest)]
        rest = _BARE_URL.sub(" ", rest)
        if line_urls and _FILLER.match(rest):
            found.add(index)
            urls.extend(line_urls)
    return found, list(dict.fromkeys(urls))
