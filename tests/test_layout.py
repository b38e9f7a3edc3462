"""The packages' shape (issue 18): ``__init__`` is each package's whole API, siblings
import each other only through it, and no module imports itself back in a cycle.

Read from the source with ``ast``: nothing is imported, so the test also holds for
modules a run never loads. Imports under ``if TYPE_CHECKING:`` are for the type
checker only and are left out; imports inside functions (lazy ones) count.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGES = Path(__file__).resolve().parents[1] / "packages"
SRC = {
    "mailatlas_core": PACKAGES / "mailatlas-core/src/mailatlas_core",
    "mailatlas_clean": PACKAGES / "mailatlas-clean/src/mailatlas_clean",
    "mailatlas_imap": PACKAGES / "mailatlas-imap/src/mailatlas_imap",
    "mailatlas_cli": PACKAGES / "mailatlas-cli/src/mailatlas_cli",
}
# Private helpers the sibling packages share on purpose (they release in lockstep and
# pin each other exactly): lazy package attributes, and the safe file I/O every writer
# uses (no symlink following, no partial files), and a bytes result written in place
# (the parser's line ends, IMAP literals). Nothing else private crosses a package.
# Helpers the store and the parser share, not API: lazy exports, safe file opening,
# presized buffers, glibc's heap (mallopt, malloc_trim), a header block as a view.
SHARED_PRIVATE = {
    "mailatlas_core._lazy",
    "mailatlas_core._files",
    "mailatlas_core._buffers",
    "mailatlas_core._heap",
    "mailatlas_core._ids",
}


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for src in SRC.values():
        for path in src.rglob("*.py"):
            parts = list(path.relative_to(src.parent).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for child in node.orelse for n in _imports_of(child))
            continue
        yield from _imports_of(node)


def _imports_of(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
        return
    yield from _imports(node)


def _targets(module: str, path: Path) -> Iterator[str]:
    """The MailAtlas modules ``module`` imports (a package stands for its __init__)."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            bases = [alias.name for alias in node.names]
            names: list[str] = []
        else:
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            bases = [base]
            names = [alias.name for alias in node.names]
        for base in bases:
            if base.split(".")[0] not in SRC:
                continue
            subs = [f"{base}.{n}" for n in names if f"{base}.{n}" in MODULES]
            yield from subs
            if len(subs) < len(names) or not names:
                yield base


def test_implementation_modules_are_private() -> None:
    """Every module is private (a ``_name`` on its path) except the packages' and the
    folders' ``__init__``."""
    public = [
        name
        for name, path in MODULES.items()
        if path.name != "__init__.py" and not any(p.startswith("_") for p in name.split(".")[1:])
    ]
    assert public == []


def test_siblings_import_each_other_only_through_init() -> None:
    leaks = [
        f"{module} imports {target}"
        for module, path in MODULES.items()
        for target in _targets(module, path)
        if target.split(".")[0] != module.split(".")[0]
        and target not in SRC
        and target not in SHARED_PRIVATE
    ]
    assert leaks == []


def _loaded(module: str, target: str) -> Iterator[str]:
    """What importing ``target`` from ``module`` runs: every package above ``target``
    first (its ``__init__``; ``import a.b.c`` runs ``a`` and ``a.b`` before ``a.b.c``),
    except those above ``module``, which are being imported already, then ``target``."""
    parts = target.split(".")
    for end in range(1, len(parts)):
        package = ".".join(parts[:end])
        if not module.startswith(package + "."):
            yield package
    yield target


def _cycles() -> list[list[str]]:
    graph = {}
    for module, path in MODULES.items():
        runs = {t for target in _targets(module, path) for t in _loaded(module, target)}
        graph[module] = sorted(runs & MODULES.keys() - {module})
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    """No module reaches itself through the modules it imports, lazy imports included
    (a package's ``__init__`` counts as the module that imports it)."""
    assert _cycles() == []


FOLDERS = ["readers", "parser", "cleaning", "attachments", "pool", "ingest"]


@pytest.mark.parametrize("folder", FOLDERS)
def test_the_parser_package_is_laid_out_by_concern(folder: str) -> None:
    assert (SRC["mailatlas_clean"] / folder / "__init__.py").is_file()
    flat = sorted(p.name for p in SRC["mailatlas_clean"].glob("*.py"))
    assert flat == ["__about__.py", "__init__.py", "_config.py", "_errors.py"]


@pytest.mark.parametrize("package", ["mailatlas_core", "mailatlas_clean", "mailatlas_imap"])
def test_every_lazy_export_is_known_to_the_type_checker(package: str) -> None:
    # A lazy name loads at runtime through ``_LAZY`` and is typed through an import under
    # ``if TYPE_CHECKING:``; ``__getattr__`` is hidden from mypy, so a name missing from
    # the imports is a type error rather than ``Any``. The two lists must say the same.
    tree = ast.parse((SRC[package] / "__init__.py").read_text())
    lazy: dict[str, str] = {}
    typed: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            if isinstance(target, ast.Name) and target.id == "_LAZY" and node.value:
                lazy = ast.literal_eval(node.value)
        elif isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.body:
                if isinstance(child, ast.ImportFrom):
                    module = "." * child.level + (child.module or "")
                    typed.update({alias.asname or alias.name: module for alias in child.names})
    hidden = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "not TYPE_CHECKING"
    ]
    assert [ast.unparse(node.body[0]) for node in hidden] == [
        "__getattr__ = lazy_getattr(__name__, _LAZY)"
    ]
    assert "__getattr__ =" not in "\n".join(ast.unparse(n) for n in tree.body if n not in hidden)
    assert lazy, f"{package} has no _LAZY table"
    assert lazy == typed
