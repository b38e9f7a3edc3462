"""Why an attachment's text was not read (recorded on the asset, never raised further)."""

from __future__ import annotations

__all__ = ["Refused"]


class Refused(Exception):
    """The file breaks a safety rule or limit (zip bomb, DTD, encryption)."""
