"""The body of a message forwarded as an attachment and nothing else.

When a message says nothing of its own and carries attached messages, its body is their
text, each under the header block mail clients write for an inline forward. The
forwarded-header rules of ``cleaning`` then see it like any other forward: the chain
lands in ``provenance.forwarded_chain``, and ``--strip-forwarded-headers`` removes it.
"""

from __future__ import annotations

from collections.abc import Callable

from ._content import AttachedText
from ._headers import HeaderView

__all__ = ["MARKER", "forwarded_text"]

MARKER = "---------- Forwarded message ---------"


def _mailboxes(view: HeaderView, name: str) -> str:
    found = view.addresses(name)
    return ", ".join(f"{a['name']} <{a['email']}>" if a["name"] else a["email"] for a in found)


def _header_block(item: AttachedText) -> str:
    view = HeaderView(item.message)
    _iso, _offset, date = view.date()
    lines = [MARKER]
    for field, value in (
        ("From", _mailboxes(view, "from")),
        ("Date", date or ""),
        ("Subject", view.subject),
        ("To", _mailboxes(view, "to")),
    ):
        if value:
            lines.append(f"{field}: {value}")
    return "\n".join(lines) + "\n\n"


def forwarded_text(
    attached: list[AttachedText], html_to_text: Callable[[str], str]
) -> tuple[str, list[str]]:
    """The forwarded text of ``attached`` messages and the part paths it came from.

    The manifest records of the bodies used are switched to ``body_text``.
    """
    blocks: list[str] = []
    used: list[str] = []
    for item in attached:
        plain = [b.text.strip("\r\n") for b in item.plain if b.text.strip()]
        if plain:
            own, bodies = "\n\n".join(plain), item.plain
        else:
            markup = "\n".join(b.text for b in item.html)
            own, bodies = (html_to_text(markup) if markup.strip() else ""), item.html
        if not own.strip():
            continue
        for body in bodies:
            body.record.stored_as, body.record.asset = "body_text", None
        blocks.append(_header_block(item) + own)
        used.append(item.part)
    return "\n\n".join(blocks), used
