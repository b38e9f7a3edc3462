"""What the ingest functions accept as paths: one path, or an iterable of paths.

A ``str`` is iterable too (of one-character strings), and ``"/"`` or ``"."`` would then
be read as directories to walk; so a ``str`` or path-like is always one path, and
anything else must be an iterable whose every item is a path.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TypeAlias

__all__ = ["PathArg", "PathsArg", "as_paths"]

PathArg: TypeAlias = "str | os.PathLike[str]"
PathsArg: TypeAlias = "str | os.PathLike[str] | Iterable[str | os.PathLike[str]]"
_WANTED = "takes a path (str or os.PathLike) or an iterable of paths"


def _one(value: object, method: str) -> Path:
    if isinstance(value, str | os.PathLike) and not isinstance(value, bytes):
        text = os.fspath(value)
        if isinstance(text, str):
            if not text:
                raise ValueError(f"{method}() got an empty path")
            return Path(text)
    raise TypeError(f"{method}() {_WANTED}; got {type(value).__name__} {value!r:.80}")


def as_paths(paths: object, method: str) -> list[Path]:
    """``paths`` as a list of paths; ``method`` names the caller in error messages.

    Raises:
        TypeError: ``paths`` is neither a path nor an iterable of paths.
        ValueError: a path is the empty string (it would mean the current directory).
    """
    if isinstance(paths, str | os.PathLike | bytes):
        return [_one(paths, method)]
    if not isinstance(paths, Iterable):
        raise TypeError(f"{method}() {_WANTED}; got {type(paths).__name__}")
    return [_one(item, method) for item in paths]
