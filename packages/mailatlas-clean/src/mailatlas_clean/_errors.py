"""Errors raised by mailatlas-clean.

The package adds one branch to the MailAtlas error tree, ``ParseError`` (the input is not
an email message, or is unreadable); the whole tree is drawn in ``mailatlas_core._errors``.

Anything unexpected that happens *inside* a message (a bogus charset, broken base64, a
missing boundary) is not an error: the parser keeps going and records a defect note in
``metadata.defects``. ``ParseError`` is reserved for input that cannot become a document.
"""

from __future__ import annotations

from mailatlas_core import MailAtlasError

__all__ = ["ParseError"]


class ParseError(MailAtlasError):
    """The input could not be parsed as an email message.

    ``reason`` is a short plain-English explanation (also the exception message).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
