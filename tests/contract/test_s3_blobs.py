"""S3BlobStore against a real S3-compatible server (SeaweedFS), immediate and deferred."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from mailatlas_core import open_store
from mailatlas_core._errors import BlobNotFoundError, StoreError, UnsafePathError
from mailatlas_core._s3_blobs import _SIGNED, S3BlobStore, parse_s3_url

from devkit.seaweedfs import SeaweedServer

pytestmark = pytest.mark.heavy


@pytest.fixture(params=[False, True], ids=["immediate", "deferred"])
def blobs(request: pytest.FixtureRequest, s3_workspace: str) -> S3BlobStore:
    store = S3BlobStore.from_url(s3_workspace, deferred=request.param)
    store.prepare()
    return store


def test_put_get_open_exists_size_delete(blobs: S3BlobStore) -> None:
    data = bytes(range(256)) * 1000
    blobs.put("raw/abc.eml", data)
    assert blobs.get("raw/abc.eml") == data  # a read waits for its own upload
    assert blobs.exists("raw/abc.eml") and blobs.size("raw/abc.eml") == len(data)
    with blobs.open("raw/abc.eml") as fh:
        assert fh.read(10) == data[:10] and fh.read() == data[10:]
    blobs.put("raw/abc.eml", data)  # idempotent: same key, same bytes
    blobs.flush()
    assert blobs.total_bytes() == len(data)
    assert blobs.locate("raw/abc.eml") == f"{blobs.url}/raw/abc.eml"
    assert blobs.delete("raw/abc.eml") == len(data)
    assert not blobs.exists("raw/abc.eml") and blobs.delete("raw/abc.eml") is None
    with pytest.raises(BlobNotFoundError):
        blobs.get("raw/abc.eml")
    with pytest.raises(BlobNotFoundError):
        blobs.size("raw/abc.eml")


def test_flush_waits_for_every_upload(blobs: S3BlobStore, s3_workspace: str) -> None:
    for i in range(40):
        blobs.put(f"assets/doc/{i}.bin", bytes([i]) * 5000)
    blobs.flush()
    other = S3BlobStore.from_url(s3_workspace)  # another client: sees what was flushed
    assert all(other.get(f"assets/doc/{i}.bin") == bytes([i]) * 5000 for i in range(40))


def test_stores_share_the_client_of_their_environment(
    s3_workspace: str, seaweed_server: SeaweedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = S3BlobStore.from_url(s3_workspace)
    assert S3BlobStore.from_url(s3_workspace, deferred=True)._client is first._client
    with monkeypatch.context() as env:
        env.setenv("AWS_SECRET_ACCESS_KEY", "wrong-" + seaweed_server.secret_key[:4])
        other = S3BlobStore.from_url(s3_workspace)
        assert other._client is not first._client
        with pytest.raises(StoreError):  # the changed key is the one used
            other.put("raw/x.eml", b"data")
    assert S3BlobStore.from_url(s3_workspace)._client is first._client
    first.put("raw/x.eml", b"data")


def test_a_small_blob_is_sent_without_waiting_for_100_continue(
    blobs: S3BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    expects: list[str | None] = []
    session = blobs._client._endpoint.http_session  # every PUT's way out, either path
    send = session.send

    def seen(request: Any) -> Any:
        if request.method == "PUT":
            expects.append(request.headers.get("Expect"))
        return send(request)

    monkeypatch.setattr(session, "send", seen)
    blobs.put("raw/small.eml", b"x" * 8000)
    blobs.put("raw/large.eml", b"x" * (2 << 20))
    blobs.flush()
    monkeypatch.undo()
    assert sorted(expects, key=str) == [None, b"100-continue"]
    assert blobs.size("raw/small.eml") == 8000 and blobs.size("raw/large.eml") == 2 << 20


def test_a_small_blob_is_one_signed_request_and_the_client_is_the_fallback(
    blobs: S3BlobStore, s3_workspace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    through_client: list[str] = []

    def seen(params: dict[str, Any], **_kwargs: Any) -> None:
        through_client.append(params["url_path"])

    events = blobs._client.meta.events
    events.register("before-call.s3.PutObject", seen)
    try:
        blobs.put("assets/d1/a file é.txt", b"small" * 100)  # signed by botocore, sent once
        blobs.flush()
        assert through_client == []
        other = S3BlobStore.from_url(s3_workspace)  # the server took the signature
        assert other.get("assets/d1/a file é.txt") == b"small" * 100
        # The one request fails (nothing listens there): the client's path stores it.
        signed = _SIGNED[blobs._client]
        monkeypatch.setattr(signed, "_endpoint", "http://127.0.0.1:9")
        blobs.put("raw/fallback.eml", b"fallback")
        blobs.flush()
        assert len(through_client) == 1 and through_client[0].endswith("/raw/fallback.eml")
        assert other.get("raw/fallback.eml") == b"fallback"
    finally:
        events.unregister("before-call.s3.PutObject", seen)


@pytest.mark.parametrize("key", ["../x", "/abs", "a//b", "a/../b", "nul\x00", ""])
def test_bad_keys_are_refused_at_once(blobs: S3BlobStore, key: str) -> None:
    with pytest.raises(UnsafePathError):
        blobs.put(key, b"x")


def test_an_upload_that_fails_fails_the_flush_without_leaking_keys(
    seaweed_server: SeaweedServer, s3_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        S3BlobStore("no-such-bucket", "p").prepare()
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-" + seaweed_server.secret_key[:4])
    deferred = S3BlobStore("mailatlas-test", "p", deferred=True)
    deferred.put("raw/x.eml", b"data")  # refused by the server, said at the flush
    with pytest.raises(StoreError) as info:
        deferred.flush()
    assert "wrong-" not in str(info.value)
    deferred.flush()  # the error was said once; nothing is left in flight
    with pytest.raises(StoreError) as info:
        S3BlobStore("mailatlas-test", "p").put("raw/x.eml", b"data")
    assert "wrong-" not in str(info.value) and seaweed_server.secret_key not in str(info.value)


def test_closing_a_store_waits_for_its_uploads_and_says_their_error(
    s3_workspace: str,
    seaweed_server: SeaweedServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    db = tmp_path / "store.db"
    store = open_store(db, s3_workspace)
    store.blobs.put("raw/kept.eml", b"kept" * 1000)  # outside any transaction
    store.close()
    assert S3BlobStore.from_url(s3_workspace).get("raw/kept.eml") == b"kept" * 1000
    # A client whose key the server refuses: the PUT fails after put() has returned.
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-" + seaweed_server.secret_key[:4])
    store = open_store(db, s3_workspace, create=False)
    store.blobs.put("raw/refused.eml", b"data")
    with pytest.raises(StoreError, match="cannot write") as info:
        store.close()
    assert seaweed_server.secret_key not in str(info.value)
    with pytest.raises(sqlite3.ProgrammingError):  # released all the same
        store.backend._conn.execute("SELECT 1")  # type: ignore[attr-defined]
    # An exception already on its way is never replaced: the upload's error is a note.
    store = open_store(db, s3_workspace, create=False)
    with pytest.raises(KeyError) as unwinding, store:
        store.blobs.put("raw/refused.eml", b"data")
        raise KeyError("the caller's own error")
    assert any("cannot write" in note for note in unwinding.value.__notes__)


def test_workspace_urls() -> None:
    assert parse_s3_url("s3://mail-archive/prod/2024/") == ("mail-archive", "prod/2024")
    assert parse_s3_url("s3://mail-archive") == ("mail-archive", "")
    for bad in ("s3://", "s3://UPPER/x", "s3://ok/../x", "http://x/y"):
        with pytest.raises(StoreError):
            parse_s3_url(bad)
