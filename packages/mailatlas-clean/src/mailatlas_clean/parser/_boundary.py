"""Multiparts whose boundary is unusable: recover the parts, or strip the MIME framing.

The stdlib leaves such a multipart as one text payload (``NoBoundaryInMultipartDefect``,
``StartBoundaryNotFoundDefect``): raw part headers, boundary lines and encoded data.
Read as text it would put ``Content-Type:`` lines, ``<STYLE>`` blocks and base64 into
``body_text``. Mailers get the boundary wrong in a few typical ways (a folded or
truncated parameter, a body written with another boundary than the header names), so
the payload is scanned for the boundary it really uses: a ``--token`` line followed by
a ``Content-*`` header. If one is found the payload is parsed again with it; if not,
boundary lines and the part header blocks after them are removed from the text.
"""

from __future__ import annotations

import re
from collections import Counter
from email.message import Message

from ._feedparser import BytesFeedParser
from ._part_budget import PartBudget

__all__ = ["recover_multipart", "strip_mime_framing"]

_DELIMITER = re.compile(r"^--([^\r\n]*)\r?$", re.MULTILINE)
_MIME_HEADER = re.compile(r"^(?:content-[a-z-]+|mime-version)[ \t]*:", re.IGNORECASE)
_MAX_TOKEN = 200


def _next_line(text: str, end: int) -> str:
    """The line after the one that ends at ``end`` (without copying the rest)."""
    start = text.find("\n", end)
    if start == -1:
        return ""
    stop = text.find("\n", start + 1)
    return text[start + 1 : stop if stop != -1 else len(text)]


def find_boundary(text: str) -> str | None:
    """The boundary ``text`` really uses, or ``None``.

    A candidate is the rest of a line that starts with ``--``; it counts when a
    ``Content-*`` header line follows it. The most frequent counting candidate wins.
    """
    votes: Counter[str] = Counter()
    for match in _DELIMITER.finditer(text):
        token = match.group(1).rstrip(" \t")
        if not token.strip() or len(token) > _MAX_TOKEN:
            continue
        if _MIME_HEADER.match(_next_line(text, match.end())):
            votes[token] += 1
    if not votes:
        return None
    return votes.most_common(1)[0][0]


def recover_multipart(part: Message, ctype: str) -> tuple[Message, str] | None:
    """Parse a broken multipart's payload again with the boundary it really uses.

    Returns:
        The recovered multipart (its children are the parts found) and the boundary,
        or ``None`` when no usable boundary is in the payload.
    """
    payload = part.get_payload()
    if not isinstance(payload, str) or not payload.strip():
        return None
    boundary = find_boundary(payload)
    if boundary is None or '"' in boundary or "\\" in boundary:
        return None
    parser = BytesFeedParser()
    parser.part_budget = PartBudget(len(payload))  # see _part_budget
    parser.feed(f'Content-Type: {ctype}; boundary="{boundary}"\n\n'.encode())
    parser.feed(payload.encode("ascii", "surrogateescape"))
    recovered = parser.close()
    children = recovered.get_payload()
    if not recovered.is_multipart() or not isinstance(children, list) or not children:
        return None
    return recovered, boundary


def strip_mime_framing(text: str, boundary: str | None) -> tuple[str, int]:
    """Remove boundary lines and the MIME header blocks that follow them.

    A boundary line is ``--boundary`` (or its closing form) for the declared boundary,
    or any ``--token`` line directly followed by a MIME header line.

    Returns:
        The text and how many lines were removed.
    """
    lines = text.split("\n")
    keep: list[str] = []
    removed = 0
    index = 0
    while index < len(lines):
        bare = lines[index].rstrip("\r \t")
        following = lines[index + 1] if index + 1 < len(lines) else ""
        declared = bool(boundary) and bare in (f"--{boundary}", f"--{boundary}--")
        if not (declared or (bare.startswith("--") and _MIME_HEADER.match(following))):
            keep.append(lines[index])
            index += 1
            continue
        index += 1
        removed += 1
        # The part's header block: MIME fields and their folded continuation lines.
        while index < len(lines) and (
            _MIME_HEADER.match(lines[index]) or lines[index][:1] in (" ", "\t")
        ):
            if not lines[index].strip():
                break
            index += 1
            removed += 1
    return "\n".join(keep), removed
