"""Identity: normalised Message-IDs, content hashes and content-derived ids.

Ids depend only on the message, never on the store or the cleaning flags, so the same
message gets the same id in every store.
"""

from __future__ import annotations

import re

__all__ = ["content_hash", "document_id", "normalize_message_id", "thread_id_for"]

_WS = re.compile(r"\s+")


def normalize_message_id(value: str | bytes | None) -> str | None:
    """Normalise a Message-ID header value: unfold, drop whitespace and angle brackets.

    Returns ``None`` for an absent or empty value. When several ids are present (broken
    mailers), the first ``<...>`` group wins.
    """
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = _WS.sub("", value)
    if "<" in value:
        start = value.index("<") + 1
        end = value.find(">", start)
        value = value[start:] if end == -1 else value[start:end]
    value = value.strip("<>")
    return value or None


def _sha256_hex(data: bytes) -> str:
    # hashlib loads OpenSSL (milliseconds): imported on first use, not by `list`/`show`.
    import hashlib

    return hashlib.sha256(data).hexdigest()


def content_hash(raw: bytes) -> str:
    """The sha256 of the exact raw message bytes (hex)."""
    return _sha256_hex(raw)


def document_id(message_id: str | None, raw_hash: str) -> str:
    """The document id: derived from the normalised Message-ID, else from the raw hash.

    This is also the dedupe key, so a re-ingested message always maps to the same id.
    """
    key = f"mid:{message_id}" if message_id else f"sha256:{raw_hash}"
    return _sha256_hex(key.encode("utf-8", "surrogatepass"))[:32]


def thread_id_for(
    message_id: str | None, references: tuple[str, ...], in_reply_to: str | None, fallback: str
) -> str:
    """A thread id: the root of ``References``, else ``In-Reply-To``, else the message itself.

    The store links threads further when a parent is already stored (see ``Store.add``).
    """
    root = references[0] if references else in_reply_to or message_id
    key = f"thread:{root}" if root else f"thread:{fallback}"
    return _sha256_hex(key.encode("utf-8", "surrogatepass"))[:32]
