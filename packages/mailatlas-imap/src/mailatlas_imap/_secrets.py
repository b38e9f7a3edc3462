"""Every form in which a credential went over the wire, and scrubbing them from text.

A server may echo what it got back in an error: the password IMAP-quoted and
backslash-escaped, the base64 SASL string of XOAUTH2, a slice of it. Python may show any
of those as a bytes repr. :class:`Scrubber` knows each form MailAtlas ever sent for one
configuration and replaces all of them, so no message, log line, JSON summary or stored
run can carry a secret in any shape.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable
from typing import Any

from ._config import ImapSyncConfig

__all__ = ["Scrubber", "secret_forms"]

MASK = "***"
_MIN_FRAGMENT = 6  # base64 slices shorter than this would mask ordinary words


def _quoted(text: str) -> str:
    """The inside of an IMAP quoted string, as imaplib and imapclient send it."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _b64_slices(data: bytes) -> set[str]:
    """The base64 characters that encode ``data`` wherever it sits in an encoded string.

    ``data`` can start at any of three offsets within a 3-byte group; for each, keep only
    the characters determined by ``data`` alone, not by its neighbours.
    """
    out = set()
    for lead in range(3):
        encoded = base64.b64encode(bytes(lead) + data).decode().rstrip("=")
        start = (0, 2, 3)[lead]
        end = len(encoded) - (1 if (lead + len(data)) % 3 else 0)
        if end - start >= _MIN_FRAGMENT:
            out.add(encoded[start:end])
    return out


def xoauth2_string(username: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (before base64), as imapclient builds it."""
    return f"user={username}\1auth=Bearer {token}\1\1"


def secret_forms(config: ImapSyncConfig) -> tuple[str, ...]:
    """Every text form of the credential of ``config`` that could come back, longest first."""
    secret = config.secret
    if not secret:
        return ()
    forms = {secret, _quoted(secret)}
    raw = secret.encode("utf-8", "surrogatepass")
    forms |= _b64_slices(raw)
    if config.auth == "xoauth2":
        sasl = xoauth2_string(config.username, secret).encode()
        forms.add(base64.b64encode(sasl).decode())
        forms.add(sasl.decode())
    # How each would look inside a bytes repr that could not be unwrapped.
    forms |= {repr(f.encode("utf-8", "surrogatepass"))[2:-1] for f in list(forms)}
    forms |= {repr(f)[1:-1] for f in list(forms)}
    return tuple(sorted((f for f in forms if f), key=len, reverse=True))


class Scrubber(logging.Filter):
    """Replaces every form of a secret with ``***``; also a logging filter."""

    def __init__(self, forms: Iterable[str]) -> None:
        super().__init__()
        self.forms = tuple(forms)

    @classmethod
    def for_config(cls, config: ImapSyncConfig) -> Scrubber:
        return cls(secret_forms(config))

    def __call__(self, text: str) -> str:
        for form in self.forms:
            if form in text:
                text = text.replace(form, MASK)
        return text

    def data(self, value: Any) -> Any:
        """``value`` (JSON-like: dicts, lists, strings) with every string scrubbed."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {k: self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True
