"""A private, throwaway PostgreSQL cluster for tests, benchmarks and demos.

Pure standard library; needs Debian's ``postgresql`` (``initdb``, ``pg_ctl``, ``psql``,
found on PATH or under ``/usr/lib/postgresql/*/bin``). ``initdb`` refuses to run as
root, so as root the cluster belongs to the ``postgres`` user. Everything lives in one
directory under ``/tmp`` (mode 0755), the socket too; the server listens on 127.0.0.1::

    from devkit.postgres import PostgresServer

    with PostgresServer() as pg:                # started, stopped and removed on exit
        url = pg.create_database("t1")         # postgresql://ma@127.0.0.1:PORT/t1
        pg.create_role("app", "s3cret")        # a role that must log in with a password

The superuser ``ma`` logs in without a password (``trust``) over TCP from 127.0.0.1;
every other role needs its password (``scram-sha-256``). ``durable=False`` (the default
for tests) turns ``fsync``, ``synchronous_commit`` and ``full_page_writes`` off; a
benchmark that claims durability passes ``durable=True``.

Faults: :meth:`PostgresServer.kill` (SIGKILL to the postmaster: a crash).

Command line::

    python -m devkit.postgres start --dir /tmp/mailatlas-pg   # prints JSON, returns
    python -m devkit.postgres stop --dir /tmp/mailatlas-pg
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = ["PostgresServer", "pg_bin_dir", "postgres_available"]

HOST = "127.0.0.1"
SUPERUSER = "ma"
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def pg_bin_dir() -> Path | None:
    """Where ``initdb`` and ``pg_ctl`` are: PATH first, then Debian's versioned directory."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(candidates[-1]).parent if candidates else None


def postgres_available() -> bool:
    """True when PostgreSQL's server binaries are installed."""
    directory = pg_bin_dir()
    return directory is not None and all(
        os.access(directory / b, os.X_OK) for b in ("initdb", "pg_ctl", "psql")
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One private PostgreSQL cluster rooted at ``root``.

    Args:
        root: directory to use (created, chmod 0755); a fresh ``/tmp`` dir by default.
        durable: keep ``fsync`` and friends on (benchmarks); off by default (tests).
    """

    def __init__(self, root: str | Path | None = None, *, durable: bool = False) -> None:
        self._owns_root = root is None
        self.root = Path(root or tempfile.mkdtemp(prefix="mapg", dir="/tmp"))
        self.durable = durable
        self.host = HOST
        self.port = 0
        self.user = SUPERUSER
        bin_dir = pg_bin_dir()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = bin_dir

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / "postgres.log"

    def url(self, database: str = "postgres", user: str | None = None) -> str:
        """``postgresql://USER@127.0.0.1:PORT/DATABASE`` (never with a password)."""
        return f"postgresql://{user or self.user}@{self.host}:{self.port}/{database}"

    # -- running commands as the cluster's owner -----------------------------------------
    def _as_owner(self, args: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *args]
        return args

    def _run(self, args: list[str], *, owner: bool = False) -> str:
        proc = subprocess.run(
            self._as_owner(args) if owner else args,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            cwd="/",  # the owner must be able to read the working directory
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed: {proc.stderr.strip()[-500:]}")
        return proc.stdout

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> PostgresServer:
        """Create the cluster (first time) and start it; returns once it accepts connections."""
        if self.running():
            return self
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(
                [
                    str(self.bin / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    SUPERUSER,
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ],
                owner=True,
            )
            # TCP: the superuser needs no password; every other role needs its own.
            (self.data_dir / "pg_hba.conf").write_text(
                f"local all all trust\n"
                f"host all {SUPERUSER} 127.0.0.1/32 trust\n"
                f"host all all 127.0.0.1/32 scram-sha-256\n"
            )
        if not self.port:
            self.port = _free_port()
        options = [
            f"-p {self.port}",
            f"-k {self.root}",
            f"-c listen_addresses={HOST}",
            "-c max_connections=200",
        ]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-w",
                "-t",
                "60",
                "-l",
                str(self.log_path),
                "-o",
                " ".join(options),
                "start",
            ],
            owner=True,
        )
        (self.root / "ports.json").write_text(json.dumps({"port": self.port}))
        return self

    def pid(self) -> int | None:
        """The postmaster's pid while it runs."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split()[0])
            os.kill(pid, 0)
        except (OSError, ValueError, IndexError):
            return None
        return pid

    def running(self) -> bool:
        return self.pid() is not None

    def stop(self) -> None:
        """Stop now (``pg_ctl -m immediate``): test clusters need no clean shutdown."""
        if not self.running():
            return
        with contextlib.suppress(RuntimeError):
            self._run(
                [str(self.bin / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w",
                 "stop"],
                owner=True,
            )  # fmt: skip

    def kill(self) -> None:
        """Simulate a crash: SIGKILL the postmaster."""
        pid = self.pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while self.running() and time.monotonic() < deadline:
                time.sleep(0.02)

    def cleanup(self) -> None:
        """Stop the server and remove its directory (when this object created it)."""
        self.stop()
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.cleanup()

    # -- databases and roles -------------------------------------------------------------
    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the superuser; returns psql's unaligned output."""
        return self._run(
            [str(self.bin / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
             "-h", self.host, "-p", str(self.port), "-U", SUPERUSER, "-d", database,
             "-c", sql],
        )  # fmt: skip

    def create_database(self, name: str, *, owner: str | None = None) -> str:
        """Create an empty database; returns its URL (for ``owner`` when given)."""
        if not _NAME.match(name) or (owner is not None and not _NAME.match(owner)):
            raise ValueError(f"not a plain SQL name: {name!r} / {owner!r}")
        self.psql(f"CREATE DATABASE {name}" + (f" OWNER {owner}" if owner else ""))
        return self.url(name, owner)

    def drop_database(self, name: str) -> None:
        if not _NAME.match(name):
            raise ValueError(f"not a plain SQL name: {name!r}")
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def create_role(self, name: str, password: str) -> None:
        """A login role that must authenticate with ``password`` over TCP."""
        if not _NAME.match(name):
            raise ValueError(f"not a plain SQL name: {name!r}")
        quoted = "'" + password.replace("'", "''") + "'"
        self.psql(f"CREATE ROLE {name} LOGIN PASSWORD {quoted}")

    def info(self) -> dict[str, object]:
        """What a client needs (this is what ``start`` prints)."""
        return {"dir": str(self.root), "url": self.url(), "port": self.port}


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devkit.postgres",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--dir", required=True, help="cluster directory (under /tmp)")
    parser.add_argument("--durable", action="store_true", help="keep fsync on")
    args = parser.parse_args(argv)
    server = PostgresServer(args.dir, durable=args.durable)
    state = Path(args.dir) / "ports.json"
    if state.exists():
        server.port = int(json.loads(state.read_text())["port"])
    if args.action == "start":
        try:
            server.start()
        except (OSError, RuntimeError) as exc:
            print(f"devkit.postgres: PostgreSQL did not start: {exc}", file=sys.stderr)
            return 1
        print(json.dumps(server.info(), indent=2))
    else:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(_main())
