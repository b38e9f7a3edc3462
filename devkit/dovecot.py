"""A private, throwaway Dovecot IMAP server for tests, benchmarks and demos.

Pure standard library; needs the ``dovecot`` (``dovecot-imapd``) and ``openssl``
binaries. Everything lives in one short directory under ``/tmp`` (mode 0755, because the
mail processes run as uid 65534 and must traverse it)::

    from devkit.dovecot import DovecotServer

    with DovecotServer() as server:          # started, stopped and removed on exit
        server.fill_maildir("alice", "INBOX", [b"Subject: hi\\r\\n\\r\\nbody\\r\\n"])
        server.host, server.imaps_port, server.imap_port, server.cert_path
        token = server.token("alice")          # an XOAUTH2 access token (HS256 JWT)

What the server offers:

* ``imaps_port``: implicit TLS; ``imap_port``: plaintext that offers STARTTLS. Both on
  127.0.0.1, free ports chosen at the first start and kept across restarts.
* a CA (``cert_path``, pass it as ``ca_file``) that signed a certificate for
  ``localhost`` and ``127.0.0.1``.
* passwd-file users (``users``, default ``{"alice": "secret"}``) for LOGIN/PLAIN, and an
  oauth2 passdb that validates HS256 JWTs locally (``oauth_key``, :func:`make_token`).

Faults: :meth:`DovecotServer.kill` (SIGKILL to every server process: a crash),
:meth:`DovecotServer.restart`, :meth:`DovecotServer.set_uidvalidity`.

Command line (for the README demo)::

    python -m devkit.dovecot start --dir /tmp/mailatlas-demo   # prints JSON, returns
    python -m devkit.dovecot stop --dir /tmp/mailatlas-demo
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import imaplib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

__all__ = [
    "CAPABILITY_CONDSTORE_ONLY",
    "CAPABILITY_NO_CONDSTORE",
    "DovecotServer",
    "dovecot_available",
    "encode_folder",
    "free_port",
    "make_token",
]

MAIL_UID = 65534  # mail processes must not run as root (see docs/notes)

# What Dovecot 2.3 offers after login, less the extensions a test wants switched off
# (``imap_capability`` replaces the list; a client that never sees CONDSTORE or QRESYNC
# never enables them, and without ENABLE Dovecot reports no MODSEQ).
_BASE_CAPABILITY = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES"
    " THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN"
    " NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 ESEARCH ESORT SEARCHRES WITHIN"
    " CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE"
    " SAVEDATE LITERAL+ NOTIFY"
)
CAPABILITY_NO_CONDSTORE = _BASE_CAPABILITY
CAPABILITY_CONDSTORE_ONLY = _BASE_CAPABILITY + " CONDSTORE"
HOST = "127.0.0.1"


# Where Dovecot keeps the IMAP server process (Debian, Fedora): ``dovecot-core`` alone
# brings ``dovecot`` and ``doveadm`` but not this; ``dovecot-imapd`` does.
IMAP_BINARIES = ("/usr/lib/dovecot/imap", "/usr/libexec/dovecot/imap")


def dovecot_available() -> bool:
    """True when Dovecot with its IMAP server, ``doveadm`` and ``openssl`` are installed."""
    return all(shutil.which(b) for b in ("dovecot", "doveadm", "openssl")) and any(
        os.access(path, os.X_OK) for path in IMAP_BINARIES
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, whose parent has not reaped it, does not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[0] not in ("Z", "X")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_token(user: str, key: bytes, exp: float | None = None) -> str:
    """An HS256 JWT access token for ``user`` (claim ``sub``), signed with ``key``.

    ``exp`` is a Unix time; default one hour from now. A past ``exp`` makes an expired
    token, another key a forged one.
    """
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": user, "exp": int(exp if exp is not None else time.time() + 3600)}
    claims["iat"] = int(time.time()) - 60
    payload = _b64url(json.dumps(claims).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    sig = hmac.new(key, signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(sig)}"


def encode_folder(name: str) -> str:
    """IMAP modified UTF-7 (RFC 3501 §5.1.3), the on-disk name of a Maildir++ folder."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = "".join(pending).encode("utf-16-be")
            out.append(
                "&" + base64.b64encode(raw).decode("ascii").rstrip("=").replace("/", ",") + "-"
            )
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


# A body line that an mbox reader would take for the next message's separator.
_FROM_LINE = re.compile(rb"^(>*From )", re.MULTILINE)

_CONF = """\
# Generated by devkit/dovecot.py: a private test server, nothing here is production.
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/log/dovecot.log
info_log_path = {d}/log/dovecot.log
listen = 127.0.0.1
protocols = imap
mail_location = maildir:{d}/mail/%u
mail_uid = {uid}
mail_gid = {uid}
first_valid_uid = 1
mail_fsync = never
auth_failure_delay = 0
auth_mechanisms = plain login xoauth2 oauthbearer
disable_plaintext_auth = no
ssl = yes
ssl_cert = <{d}/tls/server.crt
ssl_key = <{d}/tls/server.key
imap_capability = {capability}
namespace inbox {{
  inbox = yes
  mailbox Junk {{
    special_use = \\Junk
  }}
  mailbox Trash {{
    special_use = \\Trash
  }}
  mailbox Sent {{
    special_use = \\Sent
  }}
  mailbox Drafts {{
    special_use = \\Drafts
  }}
}}
default_login_user = dovenull
default_internal_user = dovecot
default_internal_group = dovecot
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {d}/users
  mechanisms = plain login
}}
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {d}/oauth2.conf.ext
}}
userdb {{
  driver = passwd-file
  args = {d}/users
  default_fields = uid={uid} gid={uid} home={d}/mail/%u
}}
"""

_OAUTH = """\
introspection_mode = local
local_validation_key_dict = fs:posix:prefix={d}/oauth2-keys/
username_attribute = sub
"""


class DovecotServer:
    """One private Dovecot instance rooted at ``root`` (a fresh ``/tmp`` dir by default).

    Args:
        root: directory to use (created, chmod 0755). Keep it short: unix socket paths
            must stay under ~100 bytes.
        users: login name → password, written to a passwd-file.
        oauth_key: the HMAC key for XOAUTH2 tokens; random when omitted.
        capability: Dovecot's ``imap_capability`` (default: everything, CONDSTORE and
            QRESYNC included); e.g. :data:`CAPABILITY_NO_CONDSTORE`.
        mbox_users: users whose mail is stored as mbox, not Maildir: their INBOX is one
            file (:meth:`fill_mbox`), so a huge folder is one file to write and remove.
    """

    def __init__(
        self,
        root: str | Path | None = None,
        *,
        users: dict[str, str] | None = None,
        oauth_key: bytes | None = None,
        capability: str = "+CONDSTORE",
        mbox_users: Iterable[str] = (),
    ) -> None:
        self._owns_root = root is None
        self.mbox_users = frozenset(mbox_users)
        self.capability = capability
        self.root = Path(root or tempfile.mkdtemp(prefix="mad", dir="/tmp"))
        self.users = dict(users or {"alice": "secret"})
        self.oauth_key = oauth_key or secrets.token_bytes(32)
        self.host = HOST
        self.imap_port = 0
        self.imaps_port = 0
        self._pids: set[int] = set()
        self._users_mtime = 0

    # -- paths ---------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def cert_path(self) -> Path:
        """The CA certificate to trust (``ca_file``)."""
        return self.root / "tls" / "ca.crt"

    @property
    def log_path(self) -> Path:
        return self.root / "log" / "dovecot.log"

    @property
    def user(self) -> str:
        """The first configured user."""
        return next(iter(self.users))

    @property
    def password(self) -> str:
        return self.users[self.user]

    def token(self, user: str | None = None, *, ttl: float = 3600) -> str:
        """A valid access token for ``user`` (default: the first user)."""
        return make_token(user or self.user, self.oauth_key, time.time() + ttl)

    def maildir(self, user: str, folder: str = "INBOX") -> Path:
        """The Maildir directory of one folder (Maildir++ layout)."""
        base = self.root / "mail" / user
        return base if folder.upper() == "INBOX" else base / ("." + encode_folder(folder))

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> DovecotServer:
        """Write the configuration (first time) and start the master; returns self."""
        if self.running():
            return self
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        # Ports picked here were free when picked; another process may bind one before
        # the master does (it then exits 89, "Address already in use"): pick again.
        attempts = 1 if self.imap_port else 3
        for attempt in range(attempts):
            if attempts > 1:
                self.imap_port, self.imaps_port = free_port(), free_port()
            # sockets left behind by a killed instance confuse the new one's stats handshake
            shutil.rmtree(self.root / "run", ignore_errors=True)
            for sub in ("run", "state", "log", "mail", "tls", "oauth2-keys/default/HS256"):
                (self.root / sub).mkdir(parents=True, exist_ok=True)
            os.chown(self.root / "mail", MAIL_UID, MAIL_UID)
            if not self.cert_path.exists():
                self._make_certs()
            self._write_config()
            with open(self.root / "log" / "stdio.log", "ab") as out:
                started = subprocess.run(
                    ["dovecot", "-c", str(self.config_path)],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=out,
                    check=False,
                )
            if started.returncode == 0:
                break
            if attempt == attempts - 1:
                started.check_returncode()
        self._wait_listening()
        return self

    def _write_config(self) -> None:
        d = str(self.root)
        self.config_path.write_text(
            _CONF.format(
                d=d,
                uid=MAIL_UID,
                imap_port=self.imap_port,
                imaps_port=self.imaps_port,
                capability=self.capability,
            )
        )
        (self.root / "oauth2.conf.ext").write_text(_OAUTH.format(d=d))
        key_file = self.root / "oauth2-keys" / "default" / "HS256" / "default"
        key_file.write_text(base64.b64encode(self.oauth_key).decode("ascii"))
        self._write_users()
        state = self.root / "ports.json"
        state.write_text(json.dumps({"imap_port": self.imap_port, "imaps_port": self.imaps_port}))

    def _make_certs(self) -> None:
        tls = self.root / "tls"

        def ossl(*args: str) -> None:
            subprocess.run(
                ["openssl", *args],
                cwd=tls,
                check=True,
                stdin=subprocess.DEVNULL,
                capture_output=True,
            )

        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        ossl(
            "req",
            "-x509",
            *ec,
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "7",
            "-subj",
            "/CN=MailAtlas test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        )
        ossl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
        (tls / "ext.cnf").write_text(
            "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
            "basicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature\n"
            "extendedKeyUsage=serverAuth\n"
            "authorityKeyIdentifier=keyid\n"
        )
        ossl(
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "7",
            "-extfile",
            "ext.cnf",
        )
        (tls / "server.key").chmod(0o600)

    def _wait_listening(self, timeout: float = 10.0) -> None:
        # The listeners are bound before ``dovecot`` returns; the daemon writes its pid file
        # a moment later. (Connecting to probe is worse: a login process spawned before the
        # stats service is up waits 5 s for it and holds up the next shutdown.)
        deadline = time.monotonic() + timeout
        while self.master_pid() is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"dovecot did not start; see {self.log_path}")
            time.sleep(0.005)
        self._pids = self._server_pids()

    def master_pid(self) -> int | None:
        """The master's pid while it runs."""
        try:
            pid = int((self.root / "run" / "master.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if _alive(pid) else None

    def running(self) -> bool:
        return self.master_pid() is not None

    def _server_pids(self) -> set[int]:
        """Every live process of this instance: the master's session (it calls setsid)."""
        master = self.master_pid()
        if master is None:
            return set()
        pids = {master}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    stat = (entry / "stat").read_text()
                    fields = stat[stat.rindex(")") + 2 :].split()
                    if int(fields[3]) == master:  # session id
                        pids.add(int(entry.name))
        return pids

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful stop (SIGTERM to the master); SIGKILL whatever is left after ``timeout``."""
        pid = self.master_pid()
        pids = self._server_pids() | self._pids
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self.master_pid() is not None and time.monotonic() < deadline:
                time.sleep(0.02)
        self._kill_pids(pids)

    def kill(self) -> None:
        """Simulate a crash: SIGKILL the master and every one of its processes at once."""
        self._kill_pids(self._server_pids() | self._pids)
        with contextlib.suppress(FileNotFoundError):
            (self.root / "run" / "master.pid").unlink()

    def _kill_pids(self, pids: Iterable[int]) -> None:
        for p in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(p, signal.SIGKILL)
        self._pids = set()
        deadline = time.monotonic() + 5
        for p in pids:  # wait until the listening sockets are gone
            while _alive(p) and time.monotonic() < deadline:
                time.sleep(0.01)

    def restart(self) -> None:
        """Stop (if running) and start again on the same ports."""
        self.stop()
        self.start()

    def cleanup(self) -> None:
        """Stop the server and remove its directory (when this object created it)."""
        self.stop()
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> DovecotServer:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.cleanup()

    # -- mailboxes -----------------------------------------------------------------------
    def doveadm(self, *args: str, check: bool = True) -> str:
        """Run ``doveadm -c <this config> ARGS``; returns stdout."""
        proc = subprocess.run(
            ["doveadm", "-c", str(self.config_path), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        if check and proc.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc.stdout

    def add_user(self, user: str, password: str) -> None:
        """Add (or change) a passwd-file user.

        Dovecot rereads the file at most once per second, so a login in the same second may
        not see the user yet; tests should pass their users to the constructor instead.
        """
        self.users[user] = password
        if self.config_path.exists():
            self._write_users()

    def _write_users(self) -> None:
        tmp = self.root / "users.tmp"
        tmp.write_text(
            "".join(
                f"{u}:{{PLAIN}}{p}::::::{self._userdb_fields(u)}\n" for u, p in self.users.items()
            )
        )
        # Dovecot rereads a passwd-file when its mtime (whole seconds) changes: make sure
        # it does, even for several changes within one second.
        self._users_mtime = max(int(time.time()), self._users_mtime + 1)
        os.utime(tmp, (self._users_mtime, self._users_mtime))
        os.replace(tmp, self.root / "users")

    def _userdb_fields(self, user: str) -> str:
        # Dovecot's mbox: INBOX is the file ~/inbox, other folders are files under ~/mbox.
        return "userdb_mail=mbox:~/mbox:INBOX=~/inbox" if user in self.mbox_users else ""

    def mbox_inbox(self, user: str) -> Path:
        """The INBOX file of an mbox user."""
        return self.root / "mail" / user / "inbox"

    def fill_mbox(self, user: str, messages: Iterable[bytes]) -> int:
        """Append messages to an mbox user's INBOX file (the fast path for a huge folder);
        returns the count. Dovecot gives them UIDs the next time the folder is opened."""
        if user not in self.mbox_users:
            raise ValueError(f"{user} is not an mbox user of this server")
        home = self.root / "mail" / user
        for d in (home, home / "mbox"):
            if not d.exists():
                d.mkdir(parents=True)
                os.chown(d, MAIL_UID, MAIL_UID)
        inbox = self.mbox_inbox(user)
        count = 0
        with open(inbox, "ab") as fh:
            for raw in messages:
                body = _FROM_LINE.sub(rb">\1", raw.replace(b"\r\n", b"\n"))
                fh.write(b"From MAILER-DAEMON Mon Jan  1 10:00:00 2024\n" + body.rstrip(b"\n"))
                fh.write(b"\n\n")
                count += 1
        os.chown(inbox, MAIL_UID, MAIL_UID)
        return count

    def create_folder(self, user: str, folder: str) -> None:
        """Create a folder (any Unicode name) through doveadm."""
        self.doveadm("mailbox", "create", "-u", user, folder, check=False)

    def fill_maildir(
        self, user: str, folder: str, messages: Iterable[bytes], *, seen: bool = False
    ) -> int:
        """Write messages straight into a folder's Maildir (the fast path); returns the count.

        Files go to ``tmp/`` then are renamed into ``cur/`` with ``,S=<size>`` in the name;
        Dovecot assigns UIDs in name order the next time the folder is opened. Messages are
        unseen unless ``seen``.
        """
        base = self.root / "mail" / user
        box = self.maildir(user, folder)
        for d in (base, box, box / "tmp", box / "new", box / "cur"):
            if not d.exists():
                d.mkdir(parents=True)
                os.chown(d, MAIL_UID, MAIL_UID)
        if box != base:
            marker = box / "maildirfolder"
            if not marker.exists():
                marker.touch()
                os.chown(marker, MAIL_UID, MAIL_UID)
        stamp = int(time.time())
        prefix = f"{stamp}.M{{:07d}}P{os.getpid()}.{secrets.token_hex(4)}"
        flags = "S" if seen else ""
        count = 0
        for raw in messages:
            name = prefix.format(count) + f",S={len(raw)}"
            tmp = box / "tmp" / name
            with open(tmp, "wb") as fh:
                fh.write(raw)
            os.chown(tmp, MAIL_UID, MAIL_UID)
            os.rename(tmp, box / "cur" / f"{name}:2,{flags}")
            count += 1
        return count

    def append(
        self,
        user: str,
        folder: str,
        messages: Iterable[bytes],
        *,
        flags: str = "",
        password: str | None = None,
    ) -> int:
        """APPEND messages over IMAP (plain port, LOGIN), creating the folder if needed."""
        conn = imaplib.IMAP4(HOST, self.imap_port)
        try:
            conn.login(user, password or self.users[user])
            quoted = '"' + encode_folder(folder).replace("\\", "\\\\").replace('"', '\\"') + '"'
            conn.create(quoted)
            n = 0
            for raw in messages:
                typ, data = conn.append(quoted, f"({flags})" if flags else None, None, raw)
                if typ != "OK":
                    raise RuntimeError(f"APPEND failed: {data!r}")
                n += 1
            return n
        finally:
            with contextlib.suppress(Exception):
                conn.logout()

    def flags(self, user: str, folder: str) -> dict[int, set[str]]:
        """UID → flags of every message in a folder (read through doveadm)."""
        out = self.doveadm("-f", "tab", "fetch", "-u", user, "uid flags", "mailbox", folder)
        result: dict[int, set[str]] = {}
        for line in out.splitlines()[1:]:
            uid, _, flag_text = line.partition("\t")
            if uid.strip().isdigit():
                result[int(uid)] = set(flag_text.split())
        return result

    def set_uidvalidity(self, user: str, folder: str, value: int) -> None:
        """Change a folder's UIDVALIDITY (sessions with it selected are disconnected)."""
        self.doveadm("mailbox", "update", "-u", user, "--uid-validity", str(value), folder)

    def session_pids(self, user: str) -> list[int]:
        """Pids of the user's live IMAP sessions."""
        out = self.doveadm("-f", "tab", "who", "-1", user, check=False)
        lines = out.splitlines()
        if not lines:
            return []
        header = lines[0].split("\t")
        col = header.index("pid") if "pid" in header else 2
        pids: list[int] = []
        for line in lines[1:]:
            cells = line.split("\t")
            if len(cells) > col:
                pids.extend(int(p) for p in cells[col].replace("(", " ").split() if p.isdigit())
        return pids

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's CA."""
        return ssl.create_default_context(cafile=str(self.cert_path))

    def info(self) -> dict[str, object]:
        """What a client needs to connect (this is what ``start`` prints)."""
        return {
            "dir": str(self.root),
            "host": self.host,
            "imaps_port": self.imaps_port,
            "imap_port": self.imap_port,
            "ca_file": str(self.cert_path),
            "user": self.user,
            "password": self.password,
            "access_token": self.token(),
        }


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devkit.dovecot",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--dir", required=True, help="server directory (short, under /tmp)")
    args = parser.parse_args(argv)
    root = Path(args.dir)
    if args.action == "start":
        key_file = root / "oauth2-keys" / "default" / "HS256" / "default"
        key = base64.b64decode(key_file.read_text()) if key_file.exists() else None
        server = DovecotServer(root, oauth_key=key)
        state = root / "ports.json"
        if state.exists():
            ports = json.loads(state.read_text())
            server.imap_port, server.imaps_port = ports["imap_port"], ports["imaps_port"]
        try:
            server.start()
        except (OSError, subprocess.CalledProcessError, RuntimeError) as exc:
            cause = str(exc)
            if isinstance(exc, subprocess.CalledProcessError):
                said = exc.stderr.decode(errors="replace").strip() if exc.stderr else ""
                cause = f"`{exc.cmd[0]}` exited with status {exc.returncode}: {said}"
            print(f"devkit.dovecot: Dovecot did not start: {cause}", file=sys.stderr)
            return 1
        print(json.dumps(server.info(), indent=2))
    else:
        DovecotServer(root).stop()
    return 0


if __name__ == "__main__":
    sys.exit(_main())
