"""Markdown export of a whole conversation: every stored message of a thread, in order.

Messages come by sent date (then id); each says which message it answers: by its
number in this document, or by Message-ID when that message is not in the store. Message
text is escaped exactly as in the one-document export (:mod:`.markdown`).
"""

from __future__ import annotations

from collections.abc import Callable

from mailatlas_core import Document, Thread

from ._common import AssetLinker
from .markdown import markdown_inline, render_markdown

__all__ = ["render_thread_markdown"]


def render_thread_markdown(
    thread: Thread, load: Callable[[str], Document], link: AssetLinker
) -> str:
    """The thread as one Markdown document; ``load`` reads a document by id."""
    ordered = thread.in_order()
    number = {m.document_id: i for i, m in enumerate(ordered, 1)}
    parents = thread.parent_of()
    answers = _placeholder_parents(thread)
    first = ordered[0].subject if ordered else ""
    lines = [
        f"# Thread: {markdown_inline(first or '(no subject)')}",
        "",
        f"**Messages:** {len(ordered)}  ",
        f"**Thread id:** {markdown_inline(thread.thread_id)}  ",
        f"**Root:** {markdown_inline(thread.root)}  ",
        "",
    ]
    for i, message in enumerate(ordered, 1):
        parent = parents.get(message.document_id)
        if message.document_id in answers:  # it answers a message the store lacks
            reply = f"<{answers[message.document_id]}>, not in the store"
        elif parent is not None:
            reply = f"message {number[parent]}"
        else:
            reply = ""
        notes = (("In reply to", reply),) if reply else ()
        document = load(message.document_id)
        title = f"{i}. {markdown_inline(document.subject or '(no subject)')}"
        lines.append(render_markdown(document, link, level=2, title=title, notes=notes))
    return "\n".join(lines)


def _placeholder_parents(thread: Thread) -> dict[str, str]:
    """Document id -> the Message-ID it answers when that message is not stored."""
    out: dict[str, str] = {}
    stack = list(thread.roots)
    while stack:
        node = stack.pop()
        for child in node.children:
            if node.missing and node.message_id:
                for m in child.messages:
                    out[m.document_id] = node.message_id
            stack.append(child)
    return out
