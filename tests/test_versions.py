"""The four distributions release in lockstep and pin each other exactly."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = sorted((REPO / "packages").iterdir())
NAMES = {p.name for p in PACKAGES}


def _version(pkg: Path) -> str:
    module = pkg.name.replace("-", "_")
    text = (pkg / "src" / module / "__about__.py").read_text()
    match = re.search(r'__version__ = "([^"]+)"', text)
    assert match, pkg
    return match[1]


def test_all_four_packages_exist() -> None:
    assert {"mailatlas-core", "mailatlas-clean", "mailatlas-imap", "mailatlas-cli"} == NAMES


def test_versions_agree() -> None:
    assert len({_version(p) for p in PACKAGES}) == 1


def test_sibling_pins_are_exact_and_match() -> None:
    version = _version(PACKAGES[0])
    for pkg in PACKAGES:
        project = tomllib.loads((pkg / "pyproject.toml").read_text())["project"]
        assert project["name"] == pkg.name
        for dep in project["dependencies"]:
            assert "@" not in dep and "file:" not in dep, f"{pkg.name}: path dependency {dep}"
            name = re.split(r"[<>=!~\[; ]", dep, maxsplit=1)[0]
            if name in NAMES:
                pin = re.sub(r"\[[a-z,-]+\]", "", dep)  # mailatlas-clean[attachments]
                assert pin == f"{name}=={version}", f"{pkg.name} pins {dep}, expected =={version}"


def test_core_has_no_third_party_dependency() -> None:
    core = tomllib.loads((REPO / "packages/mailatlas-core/pyproject.toml").read_text())
    assert core["project"]["dependencies"] == []


def test_each_package_ships_license_readme_and_typed_marker() -> None:
    for pkg in PACKAGES:
        module = pkg.name.replace("-", "_")
        assert (pkg / "LICENSE").is_file() and not (pkg / "LICENSE").is_symlink()
        assert (pkg / "README.md").is_file()
        assert (pkg / "src" / module / "py.typed").is_file()


def test_root_is_a_workspace_not_a_project() -> None:
    root = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "project" not in root
    envs = root["tool"]["hatch"]["envs"]
    for name, env in envs.items():
        assert env.get("skip-install") is True, name
    members = envs["hatch-test"]["workspace"]["members"]
    paths = {m["path"] if isinstance(m, dict) else m for m in members}
    # every package, each once (mailatlas-core with its optional backends' extras)
    assert paths == {f"packages/{name}" for name in NAMES}, paths
