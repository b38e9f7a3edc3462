"""Newsletter boilerplate: whole lines only ("View this email in your browser").

A line is removed only when, after unwrapping a Markdown link and dropping bullets and
trailing punctuation, the *whole* line matches one of the patterns below. A sentence that
merely contains the words stays.
"""

from __future__ import annotations

import re

from ._scan import lines_with_keywords

__all__ = ["BOILERPLATE_PATTERNS", "strip_boilerplate"]

BOILERPLATE_PATTERNS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.IGNORECASE)
    for name, pattern in {
        "view_in_browser": r"(?:click here to |please )?(?:view|read|open|see)"
        r"(?: this| the)?(?: e-?mail| message| newsletter| issue)?"
        r" (?:online|in (?:your|a|the) (?:web )?browser)",
        "trouble_viewing": r"(?:having trouble|problems?|trouble) (?:viewing|reading|seeing)"
        r" this (?:e-?mail|message|newsletter)\??(?: view it (?:online|in your browser))?",
        "not_displaying": r"(?:is this )?e-?mail not displaying (?:correctly|properly)\??"
        r"(?: view it (?:online|in your browser))?",
        "forward_to_friend": r"forward (?:this (?:e-?mail |message )?)?to a friend",
        "address_book": r"(?:to ensure (?:delivery|you receive our e-?mails),? )?"
        r"(?:please )?add [^ ]+(?: [^ ]+){0,3} to your (?:address book|contacts"
        r"|safe senders? list|whitelist)",
        "preferences": r"(?:update|manage|change|edit) (?:your )?(?:e-?mail |subscription"
        r" |notification |communication )?(?:preferences|settings)",
        "follow_us": r"(?:follow|connect with|find|like) us(?: on [\w ,&+]{1,60})?",
        "share": r"share (?:this|on) (?:facebook|twitter|x|linkedin|whatsapp|e-?mail)",
        "get_the_app": r"(?:download|get) (?:our|the) (?:mobile )?app",
        "sent_from_device": r"sent from my (?:iphone|ipad|android(?: phone)?|mobile(?: device)?"
        r"|blackberry|galaxy|samsung [\w ]{1,30}|windows phone)",
    }.items()
}
# One alternation, so each line costs a single regex call.
_ANY = re.compile("|".join(f"(?:{p.pattern})" for p in BOILERPLATE_PATTERNS.values()), re.I)
# Every pattern above needs one of these words (lower-case).
_KEYWORDS = (
    "browser", "online", "viewing", "reading", "seeing", "displaying", "friend",
    "address book", "contacts", "safe sender", "whitelist", "preferences", "settings",
    "follow", "connect", "find us", "like us", "share", "app", "sent from",
)  # fmt: skip
_MD_LINK_LINE = re.compile(r"^\[([^\]]+)\]\([^)]*\)$")
_EDGES = re.compile(r"^[\s\-*•·|>»]+|[\s.!:»>→|]+$")
_MAX_LENGTH = 120


def _normalised(line: str) -> str:
    text = _EDGES.sub("", line)
    match = _MD_LINK_LINE.match(text)
    if match:
        text = _EDGES.sub("", match.group(1))
    return text


def strip_boilerplate(lines: list[str]) -> tuple[list[str], int]:
    """Remove boilerplate lines; returns the kept lines and how many were removed."""
    drop = {
        i
        for i in lines_with_keywords(lines, _KEYWORDS)
        if len(lines[i]) <= _MAX_LENGTH and _ANY.fullmatch(_normalised(lines[i]))
    }
    if not drop:
        return lines, 0
    return [line for i, line in enumerate(lines) if i not in drop], len(drop)
