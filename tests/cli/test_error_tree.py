"""The error tree is drawn once, is complete, and says which errors are usage errors.

``mailatlas_core._errors``' docstring draws every MailAtlas error class of every package;
``*`` marks the usage errors (``exit_code`` 2). docs/python-api.md holds a copy. These
tests fail when a class is added, moved or reclassified without the drawing following.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import mailatlas_core._errors
import pytest
from mailatlas_core import MailAtlasError

_PACKAGES = ("mailatlas_core", "mailatlas_clean", "mailatlas_imap", "mailatlas_cli")
_LINE = re.compile(r"^(?P<lead>[ │├└─]*)(?P<name>[A-Z]\w+)\s+(?P<star>\*)?")
_DOCS = Path(__file__).resolve().parents[2] / "docs" / "python-api.md"


def _drawing() -> str:
    doc = mailatlas_core._errors.__doc__ or ""
    start = doc.index("    MailAtlasError ")
    drawing = doc[start : doc.index("``*`` marks")].rstrip()
    return "\n".join(line[4:] for line in drawing.splitlines())


def _tree() -> dict[str, tuple[str | None, bool]]:
    """Each drawn class: (its drawn parent, whether it is starred)."""
    tree: dict[str, tuple[str | None, bool]] = {}
    stack: list[tuple[int, str]] = []
    for line in _drawing().splitlines():
        match = _LINE.match(line)
        if match is None:
            continue  # a continuation line of a description
        depth = len(match["lead"])
        while stack and stack[-1][0] >= depth:
            stack.pop()
        tree[match["name"]] = (stack[-1][1] if stack else None, match["star"] is not None)
        stack.append((depth, match["name"]))
    return tree


def _error_classes() -> dict[str, type[MailAtlasError]]:
    for package in _PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            getattr(module, name)  # lazy exports load their modules
    importlib.import_module("mailatlas_cli._mcp")  # LoopbackOnlyError
    found: dict[str, type[MailAtlasError]] = {}
    todo: list[type[MailAtlasError]] = [MailAtlasError]
    while todo:
        cls = todo.pop()
        if cls.__module__.split(".")[0] in _PACKAGES:
            found[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return found


def test_every_error_class_is_drawn_under_its_parent() -> None:
    tree = _tree()
    classes = _error_classes()
    assert sorted(tree) == sorted(classes)
    for name, cls in classes.items():
        parent = next(
            (base.__name__ for base in cls.__bases__ if issubclass(base, MailAtlasError)), None
        )
        assert tree[name][0] == parent, name


@pytest.mark.parametrize("name", sorted(_tree()))
def test_the_star_marks_exactly_the_usage_errors(name: str) -> None:
    cls = _error_classes()[name]
    assert cls.exit_code == (2 if _tree()[name][1] else 1), name


def test_the_docs_hold_the_same_drawing() -> None:
    text = _DOCS.read_text(encoding="utf-8")
    block = text[text.index("```text\nMailAtlasError") + len("```text\n") :]
    assert block[: block.index("```")].rstrip() == _drawing().replace("``", "`")
