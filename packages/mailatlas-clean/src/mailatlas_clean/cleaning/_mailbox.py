"""A mailbox written as a person would write it, for the parser's sender and the
forwarded-header reader alike."""

from __future__ import annotations

import re

__all__ = ["format_mailbox"]

_SPECIALS = re.compile(r'[()<>\[\]:;@\\,"]')  # RFC 5322 specials ("." is common unquoted)


def format_mailbox(name: str, address: str) -> str | None:
    """``Name <address>`` as a person would write it (RFC 5322, names not encoded).

    A name with specials (``Doe, Jane``) is quoted; with only one part, that part;
    with neither, ``None``.
    """
    if name and address:
        if _SPECIALS.search(name):
            name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{name} <{address}>"
    return name or address or None
