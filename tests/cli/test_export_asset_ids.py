"""Stored HTML names assets by id; exports resolve them through the store's blobs, and
HTML stored by earlier versions (relative ``../assets/<id>/<name>`` links) still exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from mailatlas_cli import MailAtlas
from mailatlas_cli._main import cli

from tests.backends import StoreSpec, read_located, sqlite_only

from .conftest import PNG, make_message

PAGE = '<p>Numbers</p><img src="cid:logo@example.test" alt="logo"><p>end</p>'


@pytest.fixture
def doc_id(store_spec: StoreSpec, tmp_path: Path) -> str:
    path = tmp_path / "rich.eml"
    path.write_bytes(make_message("Q2", "Numbers.", html=PAGE, inline_png=True))
    with MailAtlas(store_spec.db, store_spec.workspace) as atlas:
        return atlas.ingest_eml([path])[0].id


def _show(runner: CliRunner, doc_id: str) -> dict[str, object]:
    result = runner.invoke(cli, ["show", doc_id])
    assert result.exit_code == 0, result.output
    shown: dict[str, object] = json.loads(result.stdout)
    return shown


def _exports_resolve_the_logo(runner: CliRunner, doc_id: str, tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    result = runner.invoke(cli, ["export", doc_id, "--format", "html", "--out", f"{out}/"])
    assert result.exit_code == 0, result.output
    page = (out / "document.html").read_text()
    assert re.findall(r'<img [^>]*src="([^"]*)"', page) == ["assets/logo.png"]
    assert (out / "assets" / "logo.png").read_bytes() == PNG
    # Without --out: absolute links to where the store keeps the asset.
    text = runner.invoke(cli, ["export", doc_id, "--format", "html"])
    assert text.exit_code == 0, text.output
    asset = _show(runner, doc_id)["assets"]
    assert isinstance(asset, list)
    where = asset[0]["file_path"]
    logo = where if where.startswith("s3://") else Path(where).as_uri()
    assert re.findall(r'<img [^>]*src="([^"]*)"', text.stdout) == [logo]


def test_stored_html_names_assets_by_id_and_exports_resolve_them(
    runner: CliRunner, home: Path, tmp_path: Path, doc_id: str
) -> None:
    shown = _show(runner, doc_id)
    stored = read_located(str(shown["body_html_path"])).decode()
    (logo,) = shown["assets"]  # type: ignore[misc]
    assert f'src="mailatlas-asset:{logo["id"]}"' in stored
    assert "../assets/" not in stored and str(home) not in stored
    _exports_resolve_the_logo(runner, doc_id, tmp_path, "new")


@sqlite_only  # a store written by a version before asset ids: local files only
def test_html_stored_with_relative_asset_paths_still_exports(
    runner: CliRunner, tmp_path: Path, doc_id: str
) -> None:
    shown = _show(runner, doc_id)
    html_file = Path(str(shown["body_html_path"]))
    (logo,) = shown["assets"]  # type: ignore[misc]
    # What versions before asset ids stored: a link relative to html/<id>.html.
    old = html_file.read_text().replace(
        f"mailatlas-asset:{logo['id']}", f"../assets/{doc_id}/logo.png"
    )
    assert f'src="../assets/{doc_id}/logo.png"' in old
    html_file.write_text(old)
    _exports_resolve_the_logo(runner, doc_id, tmp_path, "old")
