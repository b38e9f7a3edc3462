"""imapclient's version, read without importlib.metadata (start-up of every sync).

The real imapclient must give exactly what it gives on its own (``__version__``,
``version_info``, any other name of its ``version`` module), without loading
``importlib.metadata``; anything unexpected must leave imapclient's own import alone.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from mailatlas_imap._imapclient_version import installed_version, preload, version_info

PROBE = """
before = "importlib.metadata" in sys.modules
import mailatlas_imap._sync  # the sync's imports, imapclient among them
import imapclient
print(json.dumps({
    "metadata_loaded_by_import": not before and "importlib.metadata" in sys.modules,
    "version": imapclient.__version__,
    "version_info": list(imapclient.version_info),
    "module_version": imapclient.version.version,
    "made_by_its_own_code": list(imapclient.version._make_version_info()),
    "file": imapclient.version.__file__,
}))
"""


def _run(code: str, *path: Path) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter with ``path`` first on ``sys.path``; its JSON."""
    prelude = "import json, sys\nsys.path[:0] = json.loads(sys.stdin.read())\n"
    done = subprocess.run(
        [sys.executable, "-c", prelude + code],
        input=json.dumps([str(p) for p in path]),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_a_sync_imports_imapclient_without_importlib_metadata() -> None:
    import imapclient

    got = _run(PROBE)
    expected = importlib.metadata.version("imapclient")
    assert got["metadata_loaded_by_import"] is False
    assert got["version"] == got["module_version"] == expected
    assert got["version_info"] == got["made_by_its_own_code"]
    assert got["version_info"][:3] == [int(p) for p in expected.split(".")]  # type: ignore[index]
    assert got["file"] == str(Path(imapclient.__file__).parent / "version.py")


def _fake_imapclient(site: Path, *, version: str | None, name: str = "IMAPClient") -> None:
    """A package named imapclient whose version.py, like the real one, would ask
    importlib.metadata; with ``version``, a dist-info beside it that says so."""
    pkg = site / "imapclient"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .version import version as __version__\n")
    (pkg / "version.py").write_text(
        textwrap.dedent("""
        from importlib import metadata
        version = metadata.version("imapclient")
        version_info = (0, 0, 0, "from version.py")
        extra = "an extra name of version.py"
        """)
    )
    if version is not None:
        info = site / f"{name}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nVersion: 0.0.0\n"
        )


FAKE_PROBE = """
import importlib.metadata, sys
importlib.metadata.version = lambda name: "from-importlib-metadata"
import mailatlas_imap  # installs the hook (imapclient is not imported yet)
import imapclient, imapclient.version as v
print(json.dumps({"version": imapclient.__version__, "info": list(v.version_info),
                  "extra": v.extra, "hook_left": len(sys.meta_path)}))
"""


def test_the_version_comes_from_the_dist_info_and_other_names_from_version_py(
    tmp_path: Path,
) -> None:
    _fake_imapclient(tmp_path, version="9.8.7")
    got = _run(FAKE_PROBE, tmp_path)
    assert got["version"] == "9.8.7"  # the METADATA headers, not its body
    assert got["info"] == [9, 8, 7, "final"]
    assert got["extra"] == "an extra name of version.py"  # from imapclient's own file


@pytest.mark.parametrize(
    ("version", "name"),
    [(None, "IMAPClient"), ("9.8", "IMAPClient"), ("9.8.7rc1", "IMAPClient"), ("9.8.7", "other")],
)
def test_anything_unexpected_leaves_imapclient_to_import_as_usual(
    tmp_path: Path, version: str | None, name: str
) -> None:
    _fake_imapclient(tmp_path, version=version, name=name)
    if name == "other":  # a dist-info of another project that only starts alike
        (tmp_path / "other-9.8.7.dist-info").rename(tmp_path / "imapclient-9.8.7.dist-info")
    got = _run(FAKE_PROBE, tmp_path)
    assert got["version"] == "from-importlib-metadata"
    assert got["info"] == [0, 0, 0, "from version.py"]


def test_installed_version_needs_exactly_one_dist_info(tmp_path: Path) -> None:
    _fake_imapclient(tmp_path, version="1.2.3")
    assert installed_version(str(tmp_path / "imapclient")) == "1.2.3"
    (tmp_path / "imapclient-4.5.6.dist-info").mkdir()
    assert installed_version(str(tmp_path / "imapclient")) is None


def test_version_info_is_what_version_py_builds() -> None:
    assert version_info("4.1.0") == (4, 1, 0, "final")
    assert version_info("4.1") is None
    assert version_info("4.1.0.post1") is None
    assert version_info("4.1.0rc1") is None


def test_nothing_is_hooked_once_imapclient_is_imported() -> None:
    import imapclient  # noqa: F401

    hooks = list(sys.meta_path)
    preload()
    assert sys.meta_path == hooks
