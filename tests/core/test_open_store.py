"""open_store: which store a --db and a --workspace select, and what a missing extra says."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mailatlas_core import StoreError, StoreNotFoundError, open_store
from mailatlas_core._sqlite_store import SQLiteStore

from .factory import make_parsed, make_raw
from .test_seam import loc


def test_sqlite_url_and_path_open_the_same_store(tmp_path: Path) -> None:
    db, ws = tmp_path / "s.db", tmp_path / "ws"
    with open_store(f"sqlite://{db}", ws) as store:  # sqlite:///abs/path
        assert isinstance(store, SQLiteStore) and store.db_path == db
        added = store.add(make_parsed(make_raw(1)), loc())
    with open_store(str(db), str(ws), create=False) as store:
        assert store.get_document(added.document_id).id == added.document_id
    with pytest.raises(StoreNotFoundError):
        open_store(f"sqlite://{tmp_path / 'none.db'}", ws, create=False)
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize(
    ("db", "workspace", "module", "extra"),
    [
        ("postgresql://mail@127.0.0.1:1/atlas", "WS", "psycopg", "postgres"),
        ("DB", "s3://bucket/prefix", "boto3", "s3"),
    ],
)
def test_a_missing_extra_says_what_to_install_and_creates_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    db: str,
    workspace: str,
    module: str,
    extra: str,
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import fails: not installed
    db = db.replace("DB", str(tmp_path / "s.db"))
    workspace = workspace.replace("WS", str(tmp_path / "ws"))
    with pytest.raises(StoreError, match=rf"mailatlas-core\[{extra}\]"):
        open_store(db, workspace)
    assert list(tmp_path.iterdir()) == []  # neither a database nor a workspace
