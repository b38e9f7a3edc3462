"""Metadata dicts of one shape that share one key table (PEP 412's key-sharing dicts).

A message of many small parts holds two metadata dicts per part (a ``parts`` entry and
an ``asset_parts`` one). As ordinary dicts each carries a key table of its own: 272
bytes for a ``parts`` entry, 184 for an ``asset_parts`` one (tracemalloc, 3.11), almost
half a 1 KB part's text. The attribute dict of an instance is made with its class's key
table and carries only its values: 144 bytes, 104. It is still a plain ``dict``
(``type(d) is dict``): equal to the same dict written out, the same keys in the same
order, the same JSON; changed later, it is simply given a table of its own. Where an
interpreter shares no keys, it is an ordinary dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar, cast

__all__ = ["KeySharing"]

_D = TypeVar("_D", bound=Mapping[str, object])


class KeySharing:
    """Makes dicts that share one key table: one ``KeySharing`` per shape of dict."""

    def __init__(self, name: str) -> None:
        # A class of its own: its instances' attribute dicts share its key table.
        self._holder: type = type(name, (), {"__module__": __name__})

    def shared(self, entry: _D) -> _D:
        """A dict equal to ``entry`` (keys in its order) that shares this key table."""
        holder = self._holder()
        for key, value in entry.items():
            setattr(holder, key, value)
        return cast(_D, holder.__dict__)
