"""``ImapSyncConfig``: what to sync, from where, and how to authenticate."""

from __future__ import annotations

import ipaddress
import os
import re
import ssl
from dataclasses import dataclass, field
from typing import Literal

from mailatlas_clean import ParserConfig

from ._errors import ImapConfigError
from ._errors import option as opt

__all__ = [
    "ALL_FOLDERS",
    "AuthMode",
    "ImapSyncConfig",
    "TlsMode",
    "canonical_folder",
    "is_loopback_host",
]

AuthMode = Literal["password", "xoauth2"]
TlsMode = Literal["implicit", "starttls", "none"]

ALL_FOLDERS = "*"
"""The folder name that means every selectable folder of the mailbox."""

_AUTH_MODES = ("password", "xoauth2")
_TLS_MODES = ("implicit", "starttls", "none")


def canonical_folder(name: str) -> str:
    """``INBOX`` in any case is ``INBOX`` (RFC 3501 §5.1); other names are kept as given."""
    return "INBOX" if name.upper() == "INBOX" else name


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals (127.0.0.0/8, ::1)."""
    name = host.strip().strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class ImapSyncConfig:
    """One mailbox to sync. Validated on construction (:class:`ImapConfigError`).

    Attributes:
        host: the IMAP server name.
        port: 993 for implicit TLS, usually 143 for STARTTLS.
        username: the login name.
        auth: ``"password"`` (IMAP LOGIN) or ``"xoauth2"`` (SASL XOAUTH2 with
            ``access_token``; MailAtlas never refreshes tokens).
        password: the password for ``auth="password"``. Never shown by ``repr``.
        access_token: the OAuth access token for ``auth="xoauth2"``. Never shown.
        folders: folder names as users type them (Unicode is fine); ``INBOX`` in any
            case is ``INBOX``. ``"*"`` stands for every selectable folder the server
            lists, except those whose SPECIAL-USE is ``\\Junk`` or ``\\Trash`` (unless
            ``include_junk`` / ``include_trash``, or named as well).
        tls: ``"implicit"`` (TLS from the first byte), ``"starttls"``, or ``"none"``
            (plaintext, refused unless ``host`` is a loopback address).
        ca_file: a PEM bundle to trust instead of the system CAs (private CAs).
            Certificates and host names are always verified.
        timeout: seconds one read may wait for the server before it counts as stalled.
        command_timeout: seconds one IMAP command may take in all, however the server
            trickles its reply; a body fetch gets one more second per 32 kB it expects.
        batch_size: messages fetched and committed together; the cursor advances
            with every batch.
        parser_config: the cleaning flags used for every message; ``None`` (default):
            the caller's (the ``MailAtlas`` facade's), else ``ParserConfig()``.
        max_retries: reconnect attempts after a dropped connection, per folder.
        retry_delay: seconds before the first reconnect; doubles with each attempt.
        max_message_bytes: messages the server says are larger are not downloaded; each
            is recorded as a failure with its size, and the sync goes on. ``None``
            (default): the parse limit, ``parser_config.limits.max_message_bytes``
            (``--max-message-size``, 512 MB by default), so one size limit governs both
            what is downloaded and what is parsed (see :meth:`size_limit`).
        parse_workers: processes that parse messages next to the download. ``None``
            (default): when a folder has at least 1,000 new messages and the machine
            has two cores or more, one per core but one (cores - 1: this process
            downloads and stores, so one on two cores), else none; ``0``: always parse
            in this process; ``N``: N processes.
        include_junk: with ``"*"``, also sync the folder marked ``\\Junk``.
        include_trash: with ``"*"``, also sync the folder marked ``\\Trash``.
        prune: at the end of a run in which every folder synced, delete the documents
            of this mailbox whose every location is gone from the server (their files
            and search entries too). Without it they are kept, ``deleted_on_server``.
    """

    host: str
    port: int = 993
    username: str = ""
    auth: AuthMode = "password"
    password: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    folders: tuple[str, ...] = ("INBOX",)
    tls: TlsMode = "implicit"
    ca_file: str | None = None
    timeout: float = 60.0
    command_timeout: float = 600.0
    batch_size: int = 500
    parser_config: ParserConfig | None = None
    max_retries: int = 3
    retry_delay: float = 1.0
    parse_workers: int | None = None
    max_message_bytes: int | None = None
    include_junk: bool = False
    include_trash: bool = False
    prune: bool = False

    def size_limit(self) -> int:
        """Bytes above which a message is not downloaded (see ``max_message_bytes``)."""
        if self.max_message_bytes is not None:
            return self.max_message_bytes
        return (self.parser_config or ParserConfig()).limits.max_message_bytes

    def __post_init__(self) -> None:
        folders = (self.folders,) if isinstance(self.folders, str) else tuple(self.folders)
        canonical = tuple(canonical_folder(f) if isinstance(f, str) else f for f in folders)
        object.__setattr__(self, "folders", canonical)
        if self.ca_file is not None:
            object.__setattr__(self, "ca_file", os.fspath(self.ca_file))
        _validate(self)

    def __repr__(self) -> str:
        secret = "password" if self.auth == "password" else "access_token"
        given = (self.password if self.auth == "password" else self.access_token) is not None
        return (
            f"ImapSyncConfig(host={self.host!r}, port={self.port}, username={self.username!r},"
            f" auth={self.auth!r}, {secret}={'***' if given else None}, folders={self.folders!r},"
            f" tls={self.tls!r}, ca_file={self.ca_file!r}, timeout={self.timeout},"
            f" batch_size={self.batch_size}, max_retries={self.max_retries})"
        )

    @property
    def secret(self) -> str:
        """The credential in use (password or access token); for the session only."""
        value = self.password if self.auth == "password" else self.access_token
        return value or ""


def _validate(c: ImapSyncConfig) -> None:
    if not c.host or any(ch.isspace() for ch in c.host):
        raise ImapConfigError(
            f"IMAP host is missing or invalid: give {opt('host', 'imap.example.com')}"
        )
    if not isinstance(c.port, int) or not 0 < c.port < 65536:
        raise ImapConfigError(f"IMAP port must be between 1 and 65535, not {c.port!r}")
    if not c.username or "\r" in c.username or "\n" in c.username:
        raise ImapConfigError(f"IMAP username is missing: give {opt('username')}")
    if c.auth not in _AUTH_MODES:
        raise ImapConfigError(f"{opt('auth')} must be 'password' or 'xoauth2', not {c.auth!r}")
    if c.tls not in _TLS_MODES:
        raise ImapConfigError(
            f"{opt('tls')} must be 'implicit', 'starttls' or 'none', not {c.tls!r}"
        )
    if c.auth == "password" and not c.password:
        raise ImapConfigError(f"password auth needs a password: give {opt('password', '...')}")
    if c.auth == "xoauth2" and not c.access_token:
        raise ImapConfigError(
            f"xoauth2 auth needs an access token: give {opt('access_token', '...')}"
        )
    if any(ch in c.secret for ch in "\r\n\x00"):
        raise ImapConfigError(f"the {_secret_name(c)} contains a line break or NUL byte")
    if c.tls == "none" and not is_loopback_host(c.host):
        raise ImapConfigError(
            f"refusing plaintext IMAP to {c.host}: {opt('tls', 'none')} is only allowed for a"
            f" loopback address; use {opt('tls', 'implicit')} or {opt('tls', 'starttls')}"
        )
    if not c.folders:
        raise ImapConfigError(f"no folders to sync: give at least one in {opt('folders')}")
    for name in c.folders:
        if not isinstance(name, str) or not name or any(ch in name for ch in "\r\n\x00"):
            raise ImapConfigError(f"invalid folder name {name!r}")
    if len(set(c.folders)) != len(c.folders):
        raise ImapConfigError("a folder is listed twice")
    if c.ca_file is not None:
        _check_ca_file(c.ca_file)
    for name in ("timeout", "command_timeout"):
        value = getattr(c, name)
        if not isinstance(value, int | float) or not value > 0:
            raise ImapConfigError(f"{opt(name)} must be positive, not {value!r}")
    if c.max_message_bytes is not None and (
        not isinstance(c.max_message_bytes, int) or c.max_message_bytes < 1
    ):
        raise ImapConfigError(f"max_message_bytes must be positive, not {c.max_message_bytes!r}")
    if not isinstance(c.batch_size, int) or c.batch_size < 1:
        raise ImapConfigError(f"batch_size must be at least 1, not {c.batch_size!r}")
    if not isinstance(c.max_retries, int) or c.max_retries < 0:
        raise ImapConfigError(f"{opt('max_retries')} must be 0 or more, not {c.max_retries!r}")
    if c.parse_workers is not None and (
        not isinstance(c.parse_workers, int) or c.parse_workers < 0
    ):
        raise ImapConfigError(f"parse_workers must be 0 or more, not {c.parse_workers!r}")
    if c.retry_delay < 0:
        raise ImapConfigError(f"retry_delay must be 0 or more, not {c.retry_delay!r}")
    if c.parser_config is not None and not isinstance(c.parser_config, ParserConfig):
        raise ImapConfigError("parser_config must be a mailatlas_clean.ParserConfig")


# "[SSL: ...] " in front and " (_ssl.c:NNN)" behind an ssl error's text. Only a run's
# first blank may start the second branch (linear on a long run of spaces).
_SSL_NOISE = re.compile(r"^\[[^\]]*\]\s*|(?<!\s)\s*+\(_ssl\.c:\d+\)$")


def _check_ca_file(path: str) -> None:
    if not os.path.isfile(path):
        raise ImapConfigError(f"CA file not found: {opt('ca_file', path)}")
    try:
        ssl.create_default_context(cafile=path)
    except (ssl.SSLError, OSError, ValueError) as exc:
        reason = _SSL_NOISE.sub("", str(exc))
        raise ImapConfigError(
            f"{opt('ca_file', path)} is not a PEM certificate file ({reason})"
        ) from None


def _secret_name(c: ImapSyncConfig) -> str:
    return "password" if c.auth == "password" else "access token"
