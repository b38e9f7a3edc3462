"""imapclient's version without ``importlib.metadata`` (start-up of every sync).

imapclient's package ``__init__`` imports ``imapclient.version``, which asks
``importlib.metadata`` for the installed version: importing that module and searching
``sys.path`` for the distribution cost 20-25 ms of CPU on this project's machine, about
a tenth of a sync with nothing new. The answer is the ``Version`` field of the
``METADATA`` file of the ``*.dist-info`` directory installed beside the package, which
is what ``importlib.metadata`` reads too.

:func:`preload` reads it that way and installs a one-shot import hook that makes
``imapclient.version`` a module with the same ``version`` and ``version_info`` when
imapclient imports it. Any other name asked of that module is taken from imapclient's own
``version.py``, loaded then (so a later imapclient with more names there still works).
Whenever anything is not as expected (imapclient already imported, not a plain
package with a ``version.py``, not exactly one ``*.dist-info`` of it beside it, a version
that ``version.py`` itself could not parse), nothing is preloaded and imapclient imports
as it always does.
"""

from __future__ import annotations

import contextlib
import os
import sys
import types
from collections.abc import Callable
from importlib.machinery import ModuleSpec, PathFinder
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from importlib.abc import Loader

__all__ = ["installed_version", "preload"]

_NAME = "imapclient"


def installed_version(package_dir: str) -> str | None:
    """The ``Version`` of the one ``imapclient-*.dist-info`` beside ``package_dir``, if
    there is exactly one and it names imapclient; else ``None``."""
    site = os.path.dirname(package_dir)
    infos = [
        n
        for n in os.listdir(site)
        if n.lower().startswith(f"{_NAME}-") and n.endswith(".dist-info")
    ]
    if len(infos) != 1:
        return None
    name = version = None
    with open(os.path.join(site, infos[0], "METADATA"), encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                break  # the end of the headers
            field, _, value = line.partition(":")
            if field == "Name":
                name = value.strip()
            elif field == "Version":
                version = value.strip()
    if name is None or name.lower() != _NAME:
        return None
    return version


def version_info(version: str) -> tuple[int, int, int, str] | None:
    """``version_info`` as imapclient's ``version.py`` builds it; ``None`` where that
    would fail (a version that is not three numbers)."""
    parts = version.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1]), int(parts[2]), "final"


def preload() -> None:
    """Have ``imapclient.version`` made without ``importlib.metadata``, if it can be done
    exactly (see the module docstring); otherwise do nothing."""
    if _NAME in sys.modules or any(isinstance(f, _VersionFinder) for f in sys.meta_path):
        return
    try:
        spec = PathFinder.find_spec(_NAME)
        if spec is None or not spec.submodule_search_locations:
            return
        package_dir = next(iter(spec.submodule_search_locations))
        source = os.path.join(package_dir, "version.py")
        if not os.path.isfile(source):
            return
        version = installed_version(package_dir)
    except (OSError, UnicodeDecodeError, ValueError, ImportError):
        return
    info = None if version is None else version_info(version)
    if version is None or info is None:
        return
    sys.meta_path.insert(0, _VersionFinder(source, version, info))


class _VersionFinder:
    """An import hook (``sys.meta_path``) for ``imapclient.version`` alone, used once: the
    import system then makes the module as for any other (``sys.modules``, the
    attribute on the package, ``__spec__``), with :meth:`exec_module` as its code."""

    def __init__(self, source: str, version: str, info: tuple[int, int, int, str]) -> None:
        self.source, self.version, self.info = source, version, info

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> ModuleSpec | None:
        if fullname != f"{_NAME}.version":
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        spec = ModuleSpec(fullname, cast("Loader", self), origin=self.source)
        spec.has_location = True  # __file__ is imapclient's version.py
        return spec

    def create_module(self, spec: ModuleSpec) -> None:
        return None  # the default module

    def exec_module(self, module: types.ModuleType) -> None:
        vars(module).update(
            version=self.version,
            version_info=self.info,
            __getattr__=_from_the_real_module(self.source),
        )


def _from_the_real_module(source: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` (PEP 562) that answers from imapclient's own
    ``version.py``, loaded on first use under a private name."""
    real: list[types.ModuleType] = []

    def getattr_(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if not real:
            import importlib.util

            spec = importlib.util.spec_from_file_location(f"{_NAME}._version_py", source)
            if spec is None or spec.loader is None:  # pragma: no cover - a file we found
                raise AttributeError(name)
            loaded = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(loaded)
            real.append(loaded)
        return getattr(real[0], name)

    return getattr_


# On import: the package __init__ imports this module before anything that imports
# imapclient.
preload()
