"""S3BlobStore against a real S3-compatible server (SeaweedFS), immediate and deferred."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from mailatlas_core import _s3_blobs, open_store
from mailatlas_core._errors import BlobNotFoundError, StoreError, UnsafePathError
from mailatlas_core._s3_blobs import (
    _SIGNED,
    S3BlobStore,
    _connection,
    _lean_signer,
    parse_s3_url,
)

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
    expects: list[str | bytes | None] = []
    session = blobs._client._endpoint.http_session  # the client's way out (large PUTs)
    send, direct = session.send, _s3_blobs._send  # direct: a small PUT's own connection

    def seen(request: Any) -> Any:
        if request.method == "PUT":
            expects.append(request.headers.get("Expect"))
        return send(request)

    def seen_direct(conn: Any, method: str, url: str, headers: dict[str, str], data: bytes) -> int:
        expects.append(headers.get("Expect"))
        return direct(conn, method, url, headers, data)

    monkeypatch.setattr(session, "send", seen)
    monkeypatch.setattr(_s3_blobs, "_send", seen_direct)
    blobs.put("raw/small.eml", b"x" * 8000)
    blobs.put("raw/large.eml", b"x" * (2 << 20))
    blobs.flush()
    monkeypatch.undo()
    assert sorted(expects, key=str) == [None, b"100-continue"]
    assert blobs.size("raw/small.eml") == 8000 and blobs.size("raw/large.eml") == 2 << 20


def test_small_blobs_share_one_connection_per_thread_and_a_dropped_one_falls_back(
    s3_workspace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = S3BlobStore.from_url(s3_workspace)  # immediate: every PUT on this thread
    session = blobs._client._endpoint.http_session
    through_session: list[str] = []
    send = session.send

    def seen(request: Any) -> Any:
        if request.method == "PUT":
            through_session.append(request.method)
        return send(request)

    monkeypatch.setattr(session, "send", seen)
    blobs.put("raw/one.eml", b"one")
    signed = _SIGNED[blobs._client]
    conn = signed._local.conn
    blobs.put("raw/two.eml", b"two")
    assert signed._local.conn is conn and conn.sock is not None  # kept alive, reused
    assert through_session == []  # neither went through botocore's session
    conn.sock.shutdown(socket.SHUT_RDWR)  # as a server that dropped an idle connection
    blobs.put("raw/three.eml", b"three")  # the client's path stores it
    assert through_session == ["PUT"]
    other = S3BlobStore.from_url(s3_workspace)
    assert [other.get(f"raw/{n}.eml") for n in ("one", "two", "three")] == [
        b"one",
        b"two",
        b"three",
    ]
    blobs.put("raw/four.eml", b"four")  # and the next one has a connection of its own again
    assert through_session == ["PUT"] and signed._local.conn is not conn


def test_a_store_writes_small_blobs_without_making_a_client(
    s3_workspace: str, seaweed_server: SeaweedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = S3BlobStore.from_url(s3_workspace, deferred=True)  # as a sync worker's
    blobs.prepare()  # the bucket check: one signed HEAD
    for i in range(20):
        blobs.put(f"raw/{i}.eml", bytes([i]) * 3000)
    blobs.flush()
    assert blobs._made is None  # no boto3 client made
    other = S3BlobStore.from_url(s3_workspace)
    assert all(other.get(f"raw/{i}.eml") == bytes([i]) * 3000 for i in range(20))
    with pytest.raises(StoreError, match="does not exist"):  # the client says why
        S3BlobStore("no-such-bucket", "p").prepare()
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-" + seaweed_server.secret_key[:4])
    refused = S3BlobStore.from_url(s3_workspace)
    with pytest.raises(StoreError, match="cannot write"):  # refused, then the client's error
        refused.put("raw/refused.eml", b"data")
    assert refused._made is not None


def test_the_environment_alone_signs_only_what_the_client_would_sign_alike() -> None:
    env = {
        "AWS_ACCESS_KEY_ID": "key",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL": "http://10.1.2.3:8333/",
    }
    signer = _lean_signer(env)
    assert signer is not None and signer._endpoint == "http://10.1.2.3:8333"
    assert signer._region == "eu-west-1"
    specific = _lean_signer({**env, "AWS_ENDPOINT_URL_S3": "http://10.9.9.9:1"})
    assert specific is not None and specific._endpoint == "http://10.9.9.9:1"
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL"):
        assert _lean_signer({k: v for k, v in env.items() if k != name}) is None
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
        assert _lean_signer({**env, name: "x"}) is None
    assert _lean_signer({**env, "AWS_ENDPOINT_URL": "ftp://10.1.2.3"}) is None


def test_a_proxied_endpoint_is_left_to_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert _connection("http://10.1.2.3:8333", proxied=False) is not None
    assert _connection("http://10.1.2.3:8333", proxied=True) is None  # the client's proxies
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    assert _connection("http://10.1.2.3:8333", proxied=False) is None
    monkeypatch.setenv("NO_PROXY", "10.1.2.3")
    assert _connection("http://10.1.2.3:8333", proxied=False) is not None
    assert _connection("ftp://10.1.2.3", proxied=False) is None


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
