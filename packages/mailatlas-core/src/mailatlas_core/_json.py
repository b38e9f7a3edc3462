"""The one JSON form a store writes (``documents.metadata``, run summaries, failures).

Compact, non-ASCII kept as is (``ensure_ascii=True`` only where a value cannot be
encoded otherwise), anything not JSON-native written as its ``str``. Both backends and
the parse worker (``ParsedDocument.serialise_metadata``) use it, so a document's
metadata serialised ahead of storing is byte for byte what the store would write.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["dumps"]


def dumps(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, separators=(",", ":"), default=str)
