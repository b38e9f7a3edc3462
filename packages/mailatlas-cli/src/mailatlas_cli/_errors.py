"""Errors raised by mailatlas-cli (the facade and the exports).

This package adds ``ExportError`` (with ``ExportPathError`` and ``BrowserNotFoundError``)
to the MailAtlas error tree, which is drawn once, in :mod:`mailatlas_core._errors`.

Messages are one line for the person at the shell: what went wrong, then what to do.
"""

from __future__ import annotations

from mailatlas_core import MailAtlasError

__all__ = ["BrowserNotFoundError", "ExportError", "ExportPathError"]


class ExportError(MailAtlasError):
    """An export could not be produced or written (bad ``--out``, renderer failure)."""


class BrowserNotFoundError(ExportError):
    """PDF export needs a headless Chromium and none was found."""


class ExportPathError(ExportError):
    """The ``out`` path cannot take this export.

    A missing parent directory (without ``parents``), something other than a regular
    file where the export would go, or a symbolic link planted in its way.
    """

    exit_code = 2
