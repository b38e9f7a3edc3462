"""Blobs in an S3-compatible object store (:class:`~mailatlas_core._blobs.BlobStore`).

A workspace ``s3://BUCKET/PREFIX`` keeps each blob at ``PREFIX/<key>`` in ``BUCKET``
(the same keys as a local workspace: ``raw/<sha256>.eml``, ``html/<id>.html``,
``assets/<id>/<name>``, ``failures/<sha256>.eml``). An S3 PUT is atomic (a reader sees
the old object or the new one, never a part), so there are no temp files to recover.

The endpoint, keys and region come from the environment, never from MailAtlas's own
files or arguments: ``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY`` (and ``AWS_SESSION_TOKEN``), ``AWS_REGION``; without keys
there, boto3's usual sources (a profile, an instance role). Requests use path-style
addressing, which every S3-compatible server understands. The bucket must exist:
MailAtlas creates nothing outside its prefix.

Needs the ``s3`` extra (``pip install 'mailatlas-core[s3]'``); boto3 is imported when a
blob store is opened, never when ``mailatlas_core`` is.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote, urlsplit

from ._blobs import check_key
from ._errors import BlobNotFoundError, StoreError
from ._store import is_s3_url

if TYPE_CHECKING:
    import http.client

__all__ = ["S3BlobStore", "is_s3_url", "parse_s3_url"]

# S3 bucket naming rules (3-63 characters, lower case, digits, dots, hyphens).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://BUCKET/PREFIX`` -> (bucket, prefix without slashes at either end)."""
    if not is_s3_url(url):
        raise StoreError(f"not an S3 workspace: {url!r} (expected s3://BUCKET/PREFIX)")
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    prefix = prefix.strip("/")
    if not _BUCKET.match(bucket):
        raise StoreError(f"{url!r}: {bucket!r} is not an S3 bucket name")
    if prefix:
        check_key(prefix)
    return bucket, prefix


class _Stream(io.RawIOBase):
    """An S3 response body as a readable binary stream."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class _Uploads:
    """PUTs in flight: each starts at once on one of a few threads; :meth:`flush` waits for
    all of them (the store calls it before it commits the rows that refer to them), and a
    read of a key waits for that key's PUT. At most ``max_bytes`` are held in flight."""

    def __init__(self, upload: Callable[[str, bytes], None], threads: int, max_bytes: int):
        self._upload = upload
        self._threads = threads
        self._max_bytes = max_bytes
        self._pool: ThreadPoolExecutor | None = None
        self._pending: dict[str, list[Future[None]]] = {}
        self._bytes = 0
        self._room = threading.Condition()

    def start(self, key: str, data: bytes) -> None:
        size = len(data)
        with self._room:
            while self._bytes and self._bytes + size > self._max_bytes:
                self._room.wait()
            self._bytes += size
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="mailatlas-s3")
        future = self._pool.submit(self._run, key, data, size)
        self._pending.setdefault(key, []).append(future)

    def _run(self, key: str, data: bytes, size: int) -> None:
        try:
            self._upload(key, data)
        finally:
            with self._room:
                self._bytes -= size
                self._room.notify_all()

    def wait(self, key: str) -> None:
        """Wait for the PUTs of ``key`` in flight (raising the first one's error)."""
        futures = self._pending.pop(key, None)
        if futures:
            _settle(futures)

    def flush(self) -> None:
        """Wait for every PUT in flight; raise the first error once all have ended."""
        futures = [f for fs in self._pending.values() for f in fs]
        self._pending.clear()
        _settle(futures)


def _settle(futures: list[Future[None]]) -> None:
    error: BaseException | None = None
    for future in futures:
        exc = future.exception()
        if exc is not None and error is None:
            error = exc
    if error is not None:
        raise error


class S3BlobStore:
    """Blobs under ``s3://bucket/prefix``; see the module docstring.

    With ``deferred=True`` a :meth:`put` returns once its upload has started (several run
    at once), and :meth:`flush` waits until all have ended: a caller that flushes before it
    commits the rows referring to the blobs keeps "blobs before rows", and one worker no
    longer waits for each PUT's round trip in turn.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        client: Any = None,
        deferred: bool = False,
        threads: int = 8,
        max_bytes_in_flight: int = 64 << 20,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if self.prefix:
            check_key(self.prefix)
        self._threads = threads
        self._made: Any = client  # else the process's client, made at the first request
        self._uploads = _Uploads(self._put_now, threads, max_bytes_in_flight) if deferred else None

    @property
    def _client(self) -> Any:
        """The boto3 client (made on first use: importing boto3 and loading the S3 model
        costs about 0.4 s of CPU, which a store that never sends a request need not pay)."""
        if self._made is None:
            self._made = _client(self._threads)
        return self._made

    @classmethod
    def from_url(cls, url: str, *, deferred: bool = False) -> S3BlobStore:
        bucket, prefix = parse_s3_url(url)
        return cls(bucket, prefix, deferred=deferred)

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def _name(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    @contextmanager
    def _errors(self, what: str, key: str | None = None) -> Iterator[None]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _MISSING and key is not None:
                raise BlobNotFoundError(f"{self.locate(key)} is missing from the store") from None
            message = exc.response.get("Error", {}).get("Message") or code
            raise StoreError(f"{what}: the object store said {code}: {message}") from None
        except BotoCoreError as exc:
            raise StoreError(f"{what}: {exc}") from None

    # -- the BlobStore protocol ------------------------------------------------------------

    def prepare(self) -> None:
        """Check that the bucket exists and the keys may use it (nothing is created)."""
        from botocore.exceptions import ClientError

        lean = _env_signer() if self._made is None else None
        if lean is not None:  # one signed HEAD, no client made; else the client says why
            status = lean.head_bucket(self.bucket)
            if status is not None and 200 <= status < 300:
                return
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                raise StoreError(
                    f"the bucket {self.bucket!r} of {self.url} does not exist; create it first"
                ) from None
            with self._errors(f"cannot use {self.url}"):
                raise
        except Exception:
            with self._errors(f"cannot use {self.url}"):
                raise

    def recover(self) -> None:
        """Nothing to do: an S3 PUT is atomic, so a dead writer leaves no partial blob."""

    def put(self, key: str, data: bytes) -> None:
        if self._uploads is None:
            self._put_now(key, data)
        else:
            self._name(key)  # a bad key fails here, in the caller, not later in a flush
            self._uploads.start(key, data)

    def _put_now(self, key: str, data: bytes) -> None:
        name = self._name(key)
        if len(data) < _EXPECT_FROM:
            signed = _env_signer() if self._made is None else None
            if signed is None:
                signed = _SIGNED.get(self._client)
            if signed is not None and signed.put(self.bucket, name, data):
                return
        # Large, or refused or failed once: the client's own path, with its retries and
        # its reading of the server's error.
        with self._errors(f"cannot write {self.locate(key)}"):
            self._client.put_object(Bucket=self.bucket, Key=name, Body=data)

    def flush(self) -> None:
        """Wait until every blob put so far is stored (raises the first upload's error)."""
        if self._uploads is not None:
            self._uploads.flush()

    def _settled(self, key: str) -> None:
        if self._uploads is not None:
            self._uploads.wait(key)

    def get(self, key: str) -> bytes:
        self._settled(key)
        with self._errors(f"cannot read {self.locate(key)}", key):
            response = self._client.get_object(Bucket=self.bucket, Key=self._name(key))
            body = response["Body"]
            try:
                return bytes(body.read())
            finally:
                body.close()

    def open(self, key: str) -> BinaryIO:
        self._settled(key)
        with self._errors(f"cannot read {self.locate(key)}", key):
            response = self._client.get_object(Bucket=self.bucket, Key=self._name(key))
        return io.BufferedReader(_Stream(response["Body"]), buffer_size=1 << 16)

    def _head(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        self._settled(key)
        try:
            response: dict[str, Any] = self._client.head_object(
                Bucket=self.bucket, Key=self._name(key)
            )
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) in _MISSING:
                return None
            with self._errors(f"cannot read {self.locate(key)}"):
                raise
        return response

    def exists(self, key: str) -> bool:
        with self._errors(f"cannot read {self.locate(key)}"):
            return self._head(key) is not None

    def size(self, key: str) -> int:
        with self._errors(f"cannot read {self.locate(key)}"):
            head = self._head(key)
        if head is None:
            raise BlobNotFoundError(f"{self.locate(key)} is missing from the store")
        return int(head["ContentLength"])

    def delete(self, key: str) -> int | None:
        with self._errors(f"cannot delete {self.locate(key)}"):
            head = self._head(key)
            if head is None:
                return None
            self._client.delete_object(Bucket=self.bucket, Key=self._name(key))
        return int(head["ContentLength"])

    def clear(self, prefix: str) -> None:
        """A no-op: keys are overwritten in place. (Deleting under a document's prefix
        could remove what a concurrent writer of the same document just wrote.)"""
        check_key(prefix)

    def release(self, prefix: str) -> str | None:
        """Nothing to release: an object store has no directories."""
        check_key(prefix)
        return None

    def locate(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._name(key)}"

    def total_bytes(self) -> int:
        """The size of every object under the prefix (one LIST per 1,000 objects)."""
        self.flush()
        total = 0
        with self._errors(f"cannot list {self.url}"):
            paginator = self._client.get_paginator("list_objects_v2")
            start = f"{self.prefix}/" if self.prefix else ""
            for page in paginator.paginate(Bucket=self.bucket, Prefix=start):
                total += sum(int(item.get("Size", 0)) for item in page.get("Contents", ()))
        return total


_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()
# A body this small is sent with its headers: waiting for "100 Continue" first would cost
# a round trip per blob (most blobs are a few KB) and save nothing.
_EXPECT_FROM = 1 << 20


def _client(threads: int) -> Any:
    """The process's boto3 S3 client for this environment, made on first use.

    Making one costs about 0.3 s of CPU (botocore loads its service models), and a client
    is thread-safe: every store of a process (a worker's and its heartbeat's, say) shares
    one while the ``AWS_*`` environment it was made from is unchanged. The key is a hash,
    so no secret is copied anywhere.
    """
    pool = max(10, threads)
    key = _environment(str(pool))
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            client = _CLIENTS[key] = _new_client(pool)
    return client


def _environment(*extra: str) -> str:
    """A hash of the ``AWS_*`` environment (no secret is copied anywhere)."""
    settings = sorted(f"{k}={v}" for k, v in os.environ.items() if k.startswith("AWS_"))
    return hashlib.sha256("\0".join([*extra, *settings]).encode()).hexdigest()


_LEAN: dict[str, _SignedPut | None] = {}


def _env_signer() -> _SignedPut | None:
    """Small PUTs signed with keys, region and endpoint taken from the environment alone,
    with no boto3 client made (importing boto3 and loading the S3 model cost a worker
    about 0.4 s of CPU, and a sync needs the client only when something goes wrong).

    Only where the client would use exactly these: ``AWS_ACCESS_KEY_ID`` and
    ``AWS_SECRET_ACCESS_KEY`` (and ``AWS_SESSION_TOKEN``), ``AWS_REGION`` (or
    ``AWS_DEFAULT_REGION``), ``AWS_ENDPOINT_URL_S3`` (or ``AWS_ENDPOINT_URL``), no profile
    named, no proxy; otherwise ``None`` and the client's own signer is used. Either way a
    request that fails goes through the client.
    """
    key = _environment()
    with _CLIENTS_LOCK:
        if key not in _LEAN:
            _LEAN[key] = _lean_signer(os.environ)
        return _LEAN[key]


def _lean_signer(env: Mapping[str, str]) -> _SignedPut | None:
    access, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    endpoint = (env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or "").rstrip("/")
    named = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
    if not (access and secret and region and endpoint) or any(env.get(n) for n in named):
        return None
    if _connection(endpoint, proxied=False) is None:
        return None
    from botocore.credentials import Credentials

    credentials = Credentials(access, secret, env.get("AWS_SESSION_TOKEN") or None)
    return _SignedPut(credentials, region, endpoint)


class _SignedPut:
    """A small PUT as one request signed by botocore and sent on a plain keep-alive
    ``http.client`` connection of the uploading thread, without the client's per-call
    machinery (parameter checks, event hooks, endpoint rules, response parsing) and
    without botocore's HTTP session (its request and response objects, urllib3's pool and
    header classes): about a third of the CPU of sending it through the session, which
    was itself half of ``put_object``'s.

    botocore does the signing (SigV4 with the body's sha256, the same signer the client
    uses, credentials refreshed as the client's are); the address is the client's
    endpoint with path-style addressing. The connection goes straight to the endpoint, so
    an endpoint behind a proxy (``HTTPS_PROXY`` and friends, or the client's own proxy
    settings) is sent through the client's session instead; TLS verifies with the
    system's CAs, or ``AWS_CA_BUNDLE``. One try only: any failure (a refused signature,
    a certificate the client would take with its own settings, a connection the server
    closed) answers ``False`` and the caller sends the same PUT through the client
    (idempotent: same key, same bytes), whose retries and error reading then decide.
    """

    def __init__(
        self,
        credentials: Any,
        region: str,
        endpoint: str,
        *,
        session: Any = None,
        proxied: bool = False,
        agent: str = "Botocore",
    ) -> None:
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest

        self._request = AWSRequest
        self._auth = S3SigV4Auth
        self._credentials = credentials
        self._region = region
        self._endpoint = endpoint
        self._session = session  # the client's pool, TLS and proxies (None: no client)
        self._proxied = proxied
        self._agent = f"{agent} mailatlas"
        self._local = threading.local()  # each uploading thread's own connection

    @classmethod
    def of_client(cls, client: Any, credentials: Any) -> _SignedPut:
        """Signed as ``client`` signs, sent to its endpoint (through its session where a
        proxy is in the way)."""
        return cls(
            credentials,
            client.meta.region_name or "us-east-1",
            client.meta.endpoint_url.rstrip("/"),
            session=client._endpoint.http_session,
            proxied=bool(getattr(client.meta.config, "proxies", None)),
            agent=client.meta.config.user_agent or "Botocore",
        )

    def put(self, bucket: str, name: str, data: bytes) -> bool:
        """Store ``data`` at ``name``; ``False`` if that did not work (nothing raised)."""
        status = self._send("PUT", f"/{bucket}/{quote(name, safe='/~')}", data)
        return status is not None and 200 <= status < 300

    def head_bucket(self, bucket: str) -> int | None:
        """The status of a HEAD of ``bucket`` (``None`` if there was no answer)."""
        return self._send("HEAD", f"/{bucket}", b"")

    def _send(self, method: str, path: str, data: bytes) -> int | None:
        try:
            endpoint = self._endpoint
            url = endpoint + path
            headers = {"User-Agent": self._agent}
            if method == "PUT":
                headers["Content-Length"] = str(len(data))
            request = self._request(method=method, url=url, data=data, headers=headers)
            self._auth(self._credentials.get_frozen_credentials(), "s3", self._region).add_auth(
                request
            )
            direct = self._direct(endpoint)
            if direct is not None:
                return _send(direct, method, url, dict(request.headers.items()), data)
            if self._session is None:
                return None
            return int(self._session.send(request.prepare()).status_code)
        except Exception:  # the client's path tries again and says what went wrong
            broken, self._local.conn = getattr(self._local, "conn", None), None
            if broken is not None:
                broken.close()
            return None

    def _direct(self, endpoint: str) -> http.client.HTTPConnection | None:
        """This thread's connection to ``endpoint``, or ``None`` where it must not go
        straight there (a proxy, a scheme other than http and https)."""
        local = self._local
        conn: http.client.HTTPConnection | None = getattr(local, "conn", None)
        if conn is not None and getattr(local, "endpoint", None) == endpoint:
            return conn
        local.conn = conn = _connection(endpoint, self._proxied)
        local.endpoint = endpoint
        return conn


def _connection(endpoint: str, proxied: bool) -> http.client.HTTPConnection | None:
    import http.client
    import ssl
    import urllib.request

    parts = urlsplit(endpoint)
    host = parts.hostname
    if proxied or host is None or parts.scheme not in ("http", "https"):
        return None
    proxies = urllib.request.getproxies()
    if proxies.get(parts.scheme) and not urllib.request.proxy_bypass(host):
        return None
    if parts.scheme == "http":
        return http.client.HTTPConnection(host, parts.port, timeout=60)
    context = ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE") or None)
    return http.client.HTTPSConnection(host, parts.port, timeout=60, context=context)


def _send(
    conn: http.client.HTTPConnection, method: str, url: str, headers: dict[str, str], data: bytes
) -> int:
    """One request on ``conn`` (kept open for the next one unless the server closes it);
    the answer's status."""
    conn.request(method, urlsplit(url).path, body=data or None, headers=headers)
    response = conn.getresponse()
    response.read()  # the connection is reusable only once the answer is read
    if response.will_close:
        conn.close()
    return response.status


# The signed-PUT helper of each client made here (which lives as long as the process).
_SIGNED: dict[Any, _SignedPut] = {}


def _no_wait_for_small_bodies(request: Any, **_kwargs: Any) -> None:
    """Drop ``Expect: 100-continue`` from a small PUT (botocore adds it to every one)."""
    length = request.headers.get("Content-Length")
    if length is not None and int(length) < _EXPECT_FROM:
        request.headers.pop("Expect", None)


def _new_client(pool: int) -> Any:
    """A boto3 S3 client configured only from the environment (path-style addressing).

    Checksums are sent only where S3 requires them: SigV4 already signs each body's
    sha256, and servers that predate the flexible checksums refuse their headers."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:  # pragma: no cover - the extra is part of every test env
        raise StoreError(
            "an s3:// workspace needs boto3: pip install 'mailatlas-core[s3]'"
        ) from None
    config = Config(
        s3={"addressing_style": "path"},
        retries={"max_attempts": 5, "mode": "standard"},
        max_pool_connections=pool,
        user_agent_extra="mailatlas",
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    session = boto3.session.Session()
    client = session.client("s3", region_name=region, config=config)
    client.meta.events.register("before-send.s3.PutObject", _no_wait_for_small_bodies)
    credentials = session.get_credentials()
    if credentials is not None:  # else unsigned requests: the client's path only
        _SIGNED[client] = _SignedPut.of_client(client, credentials)
    return client
