"""The export formats (a light module: the command line needs them to parse options)."""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["EXPORT_FORMATS", "ExportFormat"]

ExportFormat = Literal["json", "markdown", "html", "pdf"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = get_args(ExportFormat)
