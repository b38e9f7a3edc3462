"""One authenticated IMAP connection: TLS, auth, EXAMINE, SEARCH, FETCH.

This is the package edge: every imapclient, imaplib, ssl and socket exception is turned
into the :mod:`mailatlas_imap._errors` tree here, with server text decoded and every form
of the credential scrubbed. Every command runs within a budget (:mod:`._wire`), and no
command's reply grows with the size of the folder: UIDs are listed window by window.
"""

from __future__ import annotations

import ast
import imaplib
import logging
import re
import socket
import ssl
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from imapclient.exceptions import CapabilityError, LoginError

from ._config import ImapSyncConfig, is_loopback_host
from ._errors import (
    FolderError,
    ImapAuthError,
    ImapConfigError,
    ImapConnectionError,
    ImapError,
)
from ._errors import option as opt
from ._replies import (
    BadReply,
    FetchData,
    FolderInfo,
    UidRanges,
    parse_fetch,
    parse_uids,
    parse_vanished,
    sequence_set,
)
from ._secrets import Scrubber
from ._wire import BoundedClient, Budget, Overrun

__all__ = ["FetchData", "FolderInfo", "Session", "server_text"]

log = logging.getLogger("mailatlas_imap")

_BYTES_REPR = re.compile(r"\bb'(?:[^'\\]|\\.)*'|\bb\"(?:[^\"\\]|\\.)*\"")

GREETING_SECONDS = 15.0  # connect, TLS handshake and greeting: a real server needs far less
SEARCH_WINDOW = 20_000  # messages per UID SEARCH: a reply of at most ~220 kB
COMMAND_BYTES = 16 << 20  # what an ordinary command (SEARCH window, EXAMINE...) may receive
COMMAND_LINES = 10_000
MIN_RATE = 32 << 10  # bytes/s: a body fetch gets command_timeout plus its size at this rate
_NOT_TLS = ("WRONG_VERSION_NUMBER", "UNKNOWN_PROTOCOL", "RECORD_LAYER_FAILURE", "HTTP_REQUEST")


def server_text(exc: BaseException, secrets: Sequence[str] | Scrubber = ()) -> str:
    """The text of an exception as a person should read it.

    imaplib and imapclient put bytes reprs (``b'[ALERT] ...'``) into their messages;
    those are unwrapped. Every credential form in ``secrets`` is replaced by ``***``.
    """
    text = str(exc) or type(exc).__name__
    scrub = secrets if isinstance(secrets, Scrubber) else Scrubber(s for s in secrets if s)
    text = scrub(text)  # before unwrapping too: a repr shows secrets escaped
    text = _BYTES_REPR.sub(_unrepr, text)
    return scrub(" ".join(text.split()))


def _unrepr(match: re.Match[str]) -> str:
    try:
        value = ast.literal_eval(match.group(0))
    except (ValueError, SyntaxError):
        return match.group(0)
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else match.group(0)


class Session:
    """An open, logged-in connection for one :class:`ImapSyncConfig`."""

    def __init__(self, config: ImapSyncConfig) -> None:
        self.config = config
        self.scrub = Scrubber.for_config(config)
        self._client: BoundedClient | None = None
        self.condstore = False  # CONDSTORE enabled: MODSEQ, HIGHESTMODSEQ, CHANGEDSINCE
        self.qresync = False  # QRESYNC enabled: expunges since a MODSEQ come as VANISHED
        self.ever_connected = False  # a refused reconnect is worth retrying, a first one not
        self._broken = False

    @property
    def where(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    def _text(self, exc: BaseException) -> str:
        return server_text(exc, self.scrub)

    @contextmanager
    def guard(self, doing: str) -> Iterator[None]:
        """Translate transport failures into :class:`ImapConnectionError`."""
        try:
            yield
        except ImapError:
            raise
        except ssl.SSLCertVerificationError as exc:
            reason = exc.verify_message or self._text(exc)
            raise ImapConnectionError(
                f"TLS certificate of {self.where} is not trusted ({reason});"
                f" pass {opt('ca_file')} if the server uses a private CA",
                retryable=False,
            ) from None
        except ConnectionRefusedError:
            if self.ever_connected:  # it was there a moment ago: perhaps restarting
                raise ImapConnectionError(f"{self.where} refused the connection") from None
            raise ImapConnectionError(  # nothing listens there: a retry cannot help
                f"{self.where} refused the connection: nothing listens there;"
                f" check {opt('host')} and {opt('port')}",
                retryable=False,
            ) from None
        except socket.gaierror as exc:
            raise ImapConnectionError(
                f"cannot resolve {self.config.host} ({self._text(exc)}); check {opt('host')}",
                retryable=False,
            ) from None
        except (imaplib.IMAP4.abort, OSError, EOFError) as exc:
            self._broken = True  # mid-reply: a LOGOUT would only wait for the rest
            raise self._lost(exc, doing) from None
        except (imaplib.IMAP4.error, ValueError) as exc:  # a reply imapclient cannot parse
            raise ImapConnectionError(
                f"{self.where} sent a reply MailAtlas cannot read while {doing}: {self._text(exc)}",
                retryable=False,
            ) from None

    def _lost(self, exc: BaseException, doing: str) -> ImapConnectionError:
        overrun = exc.why if isinstance(exc, Overrun) else None
        if overrun is None and self._client is not None:
            overrun = self._client.wire.overrun
        cfg = self.config
        if overrun is not None:
            if doing == "connecting" and cfg.tls != "implicit":
                return ImapConnectionError(
                    f"{self.where} sent no IMAP greeting within {self._greeting_s:g} s;"
                    f" if that port expects TLS from the first byte (usually 993),"
                    f" use {opt('tls', 'implicit')}",
                    retryable=False,
                )
            stalled = "did not finish" in overrun  # a deadline; budgets are not retried
            return ImapConnectionError(
                f"{self.where} {overrun} while {doing}; gave up on the connection",
                retryable=stalled,
            )
        if isinstance(exc, TimeoutError):
            return ImapConnectionError(
                f"{self.where} did not answer within {cfg.timeout:g} s while {doing}"
            )
        if isinstance(exc, ssl.SSLError) and doing == "connecting":
            reason = exc.reason or ""
            if any(word in reason for word in _NOT_TLS):
                return ImapConnectionError(
                    f"{self.where} does not speak TLS from the first byte ({reason});"
                    f" use {opt('tls', 'starttls')} for a port like 143",
                    retryable=False,
                )
        return ImapConnectionError(
            f"connection to {self.where} lost while {doing}: {self._text(exc)}"
        )

    @property
    def _greeting_s(self) -> float:
        return min(self.config.timeout, GREETING_SECONDS)

    @property
    def client(self) -> BoundedClient:
        if self._client is None:
            raise ImapConnectionError(f"not connected to {self.where}")
        return self._client

    @property
    def connected(self) -> bool:
        return self._client is not None

    # -- connect and authenticate -------------------------------------------------------
    def _tls_context(self) -> ssl.SSLContext | None:
        cfg = self.config
        if cfg.tls == "none":
            return None
        try:
            return ssl.create_default_context(cafile=cfg.ca_file)
        except (ssl.SSLError, OSError) as exc:
            raise ImapConfigError(
                f"{opt('ca_file')} {cfg.ca_file} is not a usable PEM certificate file"
                f" ({self._text(exc)})"
            ) from None

    def open(self) -> None:
        """Connect, secure, authenticate and ENABLE CONDSTORE (where offered)."""
        cfg = self.config
        context = self._tls_context()
        greeting = Budget(self._greeting_s, 1 << 20, 100)
        with self.guard("connecting"):
            client = BoundedClient(
                cfg.host,
                port=cfg.port,
                use_tls=cfg.tls == "implicit",
                ssl_context=context,
                read_timeout=cfg.timeout,
                greeting=greeting,
                budget=Budget(cfg.command_timeout, COMMAND_BYTES, COMMAND_LINES),
            )
        self._client = client
        self.ever_connected = True
        log.addFilter(self.scrub)
        try:
            self._secure_and_login(client, context)
        except BaseException:
            self.close()
            raise

    def _secure_and_login(self, client: BoundedClient, context: ssl.SSLContext | None) -> None:
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
                self._starttls(client, context)
        with self.guard("logging in"):
            self._login(client)
            caps = client.capabilities()
            # Must precede EXAMINE to get HIGHESTMODSEQ; QRESYNC implies CONDSTORE.
            wanted = [c for c in ("CONDSTORE", "QRESYNC") if c.encode() in caps]
            enabled = {e.upper() for e in client.enable(*wanted)} if wanted else set()
            self.qresync = b"QRESYNC" in enabled
            self.condstore = self.qresync or b"CONDSTORE" in enabled
        log.info("connected to %s as %s (%s, %s)", self.where, cfg.username, cfg.tls, cfg.auth)

    def _starttls(self, client: BoundedClient, context: ssl.SSLContext | None) -> None:
        try:
            client.starttls(context)
        except (CapabilityError, imaplib.IMAP4.error) as exc:
            if isinstance(exc, imaplib.IMAP4.abort):
                raise
            raise ImapConnectionError(
                f"{self.where} refused STARTTLS ({self._text(exc)});"
                f" use {opt('tls', 'implicit')} and its TLS port if it has one",
                retryable=False,
            ) from None

    def _login(self, client: BoundedClient) -> None:
        cfg = self.config
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

    def close(self) -> None:
        """Log out politely if possible; always drop the socket."""
        client, self._client = self._client, None
        broken, self._broken = self._broken, False
        log.removeFilter(self.scrub)
        if client is None:
            return
        try:
            if broken:
                raise ConnectionAbortedError
            client.wire.read_timeout = min(self.config.timeout, 5.0)
            client.wire.next_budget = Budget(5.0, 1 << 20, 100)
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
                self.client.select_folder(folder, readonly=True)
            except ValueError:
                pass  # imapclient could not read a number; the check below says which
            except imaplib.IMAP4.error as exc:
                if isinstance(exc, imaplib.IMAP4.abort):
                    raise
                detail = self._text(exc).removeprefix("select failed: ")
                raise FolderError(f"cannot open folder {folder!r}: {detail}") from None
            try:
                return FolderInfo.from_untagged(self.client.wire.untagged_responses)
            except BadReply as exc:
                raise FolderError(
                    f"cannot sync folder {folder!r}: {self.where} sent {exc}"
                ) from None

    def uids_above(self, last_uid: int, exists: int) -> list[int]:
        """Every UID greater than ``last_uid``, ascending, among the ``exists`` messages.

        Listed in windows of :data:`SEARCH_WINDOW` message numbers from the newest down,
        so no reply grows with the folder (one ``UID SEARCH 1:*`` line of a 155,000-message
        folder is over imaplib's 1 MB line limit). UIDs ascend with message numbers, so
        the walk stops at the first window that reaches a UID at or below ``last_uid``.
        """
        found: list[int] = []
        top = exists
        while top > 0:
            low = max(1, top - SEARCH_WINDOW + 1)
            window = self._command("listing messages", "SEARCH", f"{low}:{top}")
            uids = parse_uids(window, self.where)
            found.extend(uid for uid in uids if uid > last_uid)
            if any(uid <= last_uid for uid in uids):
                break
            top = low - 1
        return sorted(set(found))

    def changes_since(self, modseq: int, last_uid: int, exists: int) -> tuple[FetchData, UidRanges]:
        """FLAGS and MODSEQ of the messages up to ``last_uid`` changed since ``modseq``.

        ``UID FETCH 1:<last_uid> (FLAGS) (CHANGEDSINCE <modseq>)`` (CONDSTORE); with
        QRESYNC the ``VANISHED`` modifier (RFC 7162 §3.2.6) also reports the UIDs expunged
        since then, as ranges. The reply is bounded by the ``exists`` messages there are.
        """
        self.client.wire.next_budget = Budget(
            seconds=self.config.command_timeout,
            max_bytes=COMMAND_BYTES + 1024 * exists,
            max_lines=COMMAND_LINES + 8 * exists,
        )
        modifier = f"(CHANGEDSINCE {modseq}{' VANISHED' if self.qresync else ''})"
        data = self._command(
            "asking for changes", "FETCH", f"1:{last_uid}", "(UID FLAGS MODSEQ)", modifier
        )
        # imaplib keeps VANISHED apart from the FETCH data it returns.
        vanished = self.client.wire.untagged_responses.pop("VANISHED", [])
        try:
            return parse_fetch(data, range(1, last_uid + 1), self.where), parse_vanished(vanished)
        except (BadReply, imaplib.IMAP4.error) as exc:
            raise FolderError(f"{self.where} sent a reply MailAtlas cannot read: {exc}") from None

    def fetch(
        self,
        uids: Sequence[int],
        items: Sequence[bytes],
        expect: int = 0,
        tick: Callable[[], None] | None = None,
    ) -> FetchData:
        """UID FETCH ``items`` for ``uids``; messages expunged meanwhile are absent.

        ``expect``: the bytes the reply should carry (bodies), which widens the budget.
        ``tick``: called after each message body is read (the sync's parser poll).
        """
        if not uids:
            return {}
        n = len(uids)
        self.client.wire.next_budget = Budget(
            seconds=self.config.command_timeout + expect / MIN_RATE,
            max_bytes=COMMAND_BYTES + 2 * expect + (16 << 10) * n,
            max_lines=COMMAND_LINES + 8 * n,
        )
        wire = self.client.wire
        wire.on_literal = tick
        try:
            data = self._command(
                "fetching messages",
                "FETCH",
                sequence_set(uids),
                "(" + " ".join(i.decode() for i in items) + ")",
            )
        finally:
            wire.on_literal = None
        try:
            return parse_fetch(data, uids, self.where)
        except (BadReply, imaplib.IMAP4.error) as exc:
            raise FolderError(
                f"{self.where} sent a FETCH reply MailAtlas cannot read: {exc}"
            ) from None

    def _command(self, doing: str, command: str, *args: str) -> list[Any]:
        """``UID <command> <args>``: its untagged data, or :class:`FolderError` if refused."""
        with self.guard(doing):
            try:
                typ, data = self.client.wire.uid(command, *args)
            except imaplib.IMAP4.error as exc:
                if isinstance(exc, imaplib.IMAP4.abort):
                    raise
                raise FolderError(f"{self.where} refused {command} ({self._text(exc)})") from None
            if typ != "OK":
                text = b" ".join(d for d in data if isinstance(d, bytes))
                detail = self.scrub(text.decode("utf-8", "replace"))
                raise FolderError(f"{self.where} refused {command} ({detail or typ})")
            return [d for d in data if d is not None]
