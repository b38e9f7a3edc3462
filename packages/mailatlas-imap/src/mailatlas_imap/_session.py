"""One authenticated IMAP connection: TLS, auth, EXAMINE, SEARCH, FETCH.

This is the package edge: every imapclient, imaplib, ssl and socket exception is turned
into the :mod:`mailatlas_imap.errors` tree here, with server text decoded and
credentials scrubbed.
"""

from __future__ import annotations

import ast
import imaplib
import logging
import re
import socket
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import CapabilityError, LoginError

from .config import ImapSyncConfig, is_loopback_host
from .errors import FolderError, ImapAuthError, ImapConnectionError, ImapError

__all__ = ["FolderInfo", "Session", "server_text"]

log = logging.getLogger("mailatlas_imap")

_BYTES_REPR = re.compile(r"\bb'(?:[^'\\]|\\.)*'|\bb\"(?:[^\"\\]|\\.)*\"")
FetchData = dict[int, dict[bytes, Any]]


def server_text(exc: BaseException, secrets: Sequence[str] = ()) -> str:
    """The text of an exception as a person should read it.

    imaplib and imapclient put bytes reprs (``b'[ALERT] ...'``) into their messages;
    those are unwrapped. Any credential in ``secrets`` is replaced by ``***``.
    """
    text = str(exc) or type(exc).__name__
    text = _BYTES_REPR.sub(_unrepr, text)
    text = " ".join(text.split())
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _unrepr(match: re.Match[str]) -> str:
    try:
        value = ast.literal_eval(match.group(0))
    except (ValueError, SyntaxError):
        return match.group(0)
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else match.group(0)


@dataclass(frozen=True, slots=True)
class FolderInfo:
    """What EXAMINE told us about a folder."""

    uidvalidity: int
    uidnext: int | None
    highestmodseq: int | None
    exists: int


class Session:
    """An open, logged-in connection for one :class:`ImapSyncConfig`."""

    def __init__(self, config: ImapSyncConfig) -> None:
        self.config = config
        self._client: IMAPClient | None = None
        self.condstore = False

    @property
    def where(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    @contextmanager
    def guard(self, doing: str) -> Iterator[None]:
        """Translate transport failures into :class:`ImapConnectionError`."""
        try:
            yield
        except ImapError:
            raise
        except ssl.SSLCertVerificationError as exc:
            reason = exc.verify_message or server_text(exc)
            raise ImapConnectionError(
                f"TLS certificate of {self.where} is not trusted ({reason});"
                " pass ca_file / --ca-file if the server uses a private CA",
                retryable=False,
            ) from None
        except TimeoutError:
            raise ImapConnectionError(
                f"{self.where} did not answer within {self.config.timeout:g} s while {doing}"
            ) from None
        except (imaplib.IMAP4.abort, OSError, EOFError) as exc:
            raise ImapConnectionError(
                f"connection to {self.where} lost while {doing}: {self._text(exc)}"
            ) from None

    def _text(self, exc: BaseException) -> str:
        return server_text(exc, (self.config.secret,))

    @property
    def client(self) -> IMAPClient:
        if self._client is None:
            raise ImapConnectionError(f"not connected to {self.where}")
        return self._client

    @property
    def connected(self) -> bool:
        return self._client is not None

    # -- connect and authenticate -------------------------------------------------------
    def open(self) -> None:
        """Connect, secure, authenticate and ENABLE CONDSTORE (where offered)."""
        cfg = self.config
        context = ssl.create_default_context(cafile=cfg.ca_file) if cfg.tls != "none" else None
        with self.guard("connecting"):
            client = IMAPClient(
                cfg.host,
                port=cfg.port,
                ssl=cfg.tls == "implicit",
                ssl_context=context,
                timeout=cfg.timeout,
            )
        self._client = client
        try:
            self._secure_and_login(client, context)
        except BaseException:
            self.close()
            raise

    def _secure_and_login(self, client: IMAPClient, context: ssl.SSLContext | None) -> None:
        cfg = self.config
        client.normalise_times = False  # keep INTERNALDATE's zone; stored as UTC
        with self.guard("connecting"):
            sock = client.socket()
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if cfg.tls == "none" and not is_loopback_host(sock.getpeername()[0]):
                raise ImapConnectionError(
                    f"{cfg.host} resolved to a non-loopback address; refusing plaintext",
                    retryable=False,
                )
            if cfg.tls == "starttls":
                try:
                    client.starttls(context)
                except CapabilityError:
                    raise ImapConnectionError(
                        f"{self.where} does not offer STARTTLS; use tls='implicit'",
                        retryable=False,
                    ) from None
        with self.guard("logging in"):
            try:
                if cfg.auth == "xoauth2":
                    client.oauth2_login(cfg.username, cfg.secret)
                else:
                    client.login(cfg.username, cfg.secret)
            except LoginError as exc:
                if str(exc).startswith("socket error"):  # imapclient wraps a drop as this
                    raise imaplib.IMAP4.abort(str(exc)) from None
                detail = self._text(exc).removeprefix("authenticate failed: ")
                detail = detail.removeprefix("login failed: ")
                if cfg.auth == "xoauth2":
                    msg = (
                        f"{self.where} refused the access token for {cfg.username} ({detail});"
                        " MailAtlas does not refresh tokens: get a fresh one and retry"
                    )
                else:
                    msg = f"{self.where} refused the password for {cfg.username} ({detail})"
                raise ImapAuthError(msg) from None
            except imaplib.IMAP4.error as exc:
                if isinstance(exc, imaplib.IMAP4.abort):
                    raise
                raise ImapAuthError(f"{self.where} refused login: {self._text(exc)}") from None
            self.condstore = b"CONDSTORE" in client.capabilities()
            if self.condstore:
                client.enable("CONDSTORE")  # must precede EXAMINE to get HIGHESTMODSEQ
        log.info("connected to %s as %s (%s, %s)", self.where, cfg.username, cfg.tls, cfg.auth)

    def close(self) -> None:
        """Log out politely if possible; always drop the socket."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.socket().settimeout(min(self.config.timeout, 5.0))
            client.logout()
        except Exception:
            try:
                client.shutdown()
            except Exception as exc:  # already gone: nothing to release
                log.debug("shutdown after failed logout: %s", type(exc).__name__)

    # -- folder commands ----------------------------------------------------------------
    def examine(self, folder: str) -> FolderInfo:
        """EXAMINE (read-only SELECT) a folder."""
        with self.guard(f"opening {folder!r}"):
            try:
                resp = self.client.select_folder(folder, readonly=True)
            except imaplib.IMAP4.error as exc:
                if isinstance(exc, imaplib.IMAP4.abort):
                    raise
                detail = self._text(exc).removeprefix("select failed: ")
                raise FolderError(f"cannot open folder {folder!r}: {detail}") from None
        if b"UIDVALIDITY" not in resp:
            raise FolderError(f"server gave no UIDVALIDITY for folder {folder!r}")
        return FolderInfo(
            uidvalidity=int(resp[b"UIDVALIDITY"]),
            uidnext=_opt_int(resp.get(b"UIDNEXT")),
            highestmodseq=_opt_int(resp.get(b"HIGHESTMODSEQ")),
            exists=int(resp.get(b"EXISTS", 0)),
        )

    def uids_above(self, last_uid: int) -> list[int]:
        """Every UID greater than ``last_uid``, ascending.

        ``UID SEARCH UID n:*`` returns the largest UID even when it is below ``n``, so
        the result is filtered here.
        """
        with self.guard("listing messages"):
            found = self._checked(lambda: self.client.search(["UID", f"{last_uid + 1}:*"]))
        return sorted(uid for uid in found if uid > last_uid)

    def fetch(self, uids: Sequence[int], items: Sequence[bytes]) -> FetchData:
        """UID FETCH ``items`` for ``uids``; messages expunged meanwhile are absent."""
        with self.guard("fetching messages"):
            result: FetchData = self._checked(lambda: self.client.fetch(list(uids), list(items)))
        return result

    def _checked(self, call: Any) -> Any:
        try:
            return call()
        except imaplib.IMAP4.error as exc:
            if isinstance(exc, imaplib.IMAP4.abort):
                raise
            raise FolderError(f"server refused a command: {self._text(exc)}") from None


def _opt_int(value: object) -> int | None:
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if isinstance(value, int | bytes | str):
        try:
            return int(value)
        except ValueError:
            return None
    return None
