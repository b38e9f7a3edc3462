"""The connection under imapclient, with every command bounded in time, bytes and lines.

imaplib waits as long as bytes keep coming and keeps whatever the server sends: a server
that drips one byte every few seconds (each read within the socket timeout), announces a
100 GB literal, or floods untagged responses holds a sync forever or exhausts memory.
Here every command gets a :class:`Budget` (a deadline, a byte and a line allowance) when
it is sent, and every read checks it first; the greeting gets one too. An overrun is
raised as :class:`Overrun` and remembered on the connection (imaplib rewraps errors),
so the session can say exactly what happened.
"""

from __future__ import annotations

import imaplib
import io
import math
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from imapclient import IMAPClient, imap4, tls
from mailatlas_core._buffers import presized

__all__ = ["MAX_LINE", "BoundedClient", "Budget", "Overrun"]

MAX_LINE = 1_000_000  # imaplib's own limit for one response line (literals excepted)
_KEEP_UNTAGGED = frozenset({"CAPABILITY"})  # read by imapclient after the command that sent it


@dataclass(frozen=True, slots=True)
class Budget:
    """What one command may cost: seconds in all, bytes and lines received."""

    seconds: float
    max_bytes: int
    max_lines: int


class Overrun(imaplib.IMAP4.abort):
    """A command went over its budget; the connection is no longer usable."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class _Bounded(imaplib.IMAP4):
    """Mixin over imaplib's reader: ``read``/``readline`` spend the current budget."""

    read_timeout: float | None = None  # seconds one read may block (the stall timeout)
    default_budget: Budget = Budget(300.0, 16 << 20, 10_000)
    next_budget: Budget | None = None  # consumed by the next command
    # Called after each literal (a message body) is read: the sync moves its parser
    # workers' replies then, so a worker is never left blocked on a full pipe while a
    # large FETCH reply downloads.
    on_literal: Callable[[], None] | None = None
    overrun: str | None = None  # why the last budget ran out
    _deadline = math.inf
    _seconds = 0.0
    _bytes_left = 0
    _lines_left = 0

    def arm(self, budget: Budget) -> None:
        self._seconds = budget.seconds
        self._deadline = time.monotonic() + budget.seconds
        self._bytes_left = budget.max_bytes
        self._lines_left = budget.max_lines

    def _command(self, name: str, *args: Any) -> Any:
        budget, self.next_budget = self.next_budget or self.default_budget, None
        self.arm(budget)
        # imaplib keeps every untagged response until someone asks for it: only the
        # current command's may grow, within its budget.
        for key in [k for k in self.untagged_responses if k not in _KEEP_UNTAGGED]:
            del self.untagged_responses[key]
        return super()._command(name, *args)  # type: ignore[misc]

    def _fail(self, why: str) -> Overrun:
        self.overrun = why
        return Overrun(why)

    def _wait_budget(self) -> None:
        """Check the deadline and let the next blocking read wake up at it."""
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise self._fail(self._late())
        timeout = left if self.read_timeout is None else min(self.read_timeout, left)
        # Setting a timeout is a system call (ioctl): skip it in the common case, a
        # deadline further away than the stall timeout, where the value is the same.
        if self.sock.gettimeout() != timeout:
            self.sock.settimeout(timeout)

    def _late(self) -> str:
        return f"did not finish a command within {round(self._seconds, 1):g} s"

    def _spend(self, nbytes: int) -> None:
        self._bytes_left -= nbytes
        if self._bytes_left < 0:
            raise self._fail("sent more data than one command may receive")

    def _timed_out(self) -> None:
        if time.monotonic() >= self._deadline:
            raise self._fail(self._late()) from None

    @property
    def _reader(self) -> io.BufferedReader:
        return cast(io.BufferedReader, self.file)  # sock.makefile("rb")

    def read(self, size: int) -> bytes:
        if size > self._bytes_left:
            raise self._fail(
                f"announced a literal of {size:,} bytes, more than one command may receive"
            )
        # Read into one buffer of the announced size, handed over as the bytes object
        # itself (mailatlas_core._buffers): a list of socket reads plus their join held
        # a message twice.
        buffer = presized(size)
        got = 0
        with buffer.getbuffer() as view:
            while got < size:
                self._wait_budget()
                try:
                    n = self._reader.readinto1(view[got : got + min(size - got, 1 << 20)])
                except TimeoutError:
                    self._timed_out()
                    raise
                if not n:
                    break  # EOF: imaplib notices the short read
                got += n
        if got < size:
            buffer.truncate(got)
        data = buffer.getvalue()
        del buffer
        self._spend(len(data))
        if self.on_literal is not None:
            self.on_literal()
        return data

    def readline(self) -> bytes:
        self._lines_left -= 1
        if self._lines_left < 0:
            raise self._fail("sent more response lines than one command may receive")
        parts = []
        total = 0
        while True:
            self._wait_budget()
            try:
                buffered = self._reader.peek(1)  # at most one socket read
            except TimeoutError:
                self._timed_out()
                raise
            if not buffered:
                break
            end = buffered.find(b"\n")
            take = end + 1 if end >= 0 else len(buffered)
            chunk = self._reader.read(take)
            parts.append(chunk)
            total += len(chunk)
            self._spend(len(chunk))
            if total > MAX_LINE:
                raise self._fail(
                    f"sent a response line over {MAX_LINE:,} bytes (MailAtlas's limit)"
                )
            if end >= 0:
                break
        return b"".join(parts)


class _BoundedPlain(_Bounded, imap4.IMAP4WithTimeout):  # type: ignore[misc]
    """Plaintext (and STARTTLS) connection; ``greeting`` bounds the connect and greeting."""

    def __init__(self, host: str, port: int, greeting: Budget) -> None:
        self.default_budget = greeting
        super().__init__(host, port, greeting.seconds)

    def open(self, host: str = "", port: int = 143, timeout: float | None = None) -> None:
        super().open(host, port, timeout)
        self.arm(self.default_budget)


class _BoundedTLS(_Bounded, tls.IMAP4_TLS):  # type: ignore[misc]
    """Implicit-TLS connection; ``greeting`` bounds the connect, handshake and greeting."""

    def __init__(
        self, host: str, port: int, ssl_context: ssl.SSLContext | None, greeting: Budget
    ) -> None:
        self.default_budget = greeting
        super().__init__(host, port, ssl_context, greeting.seconds)  # type: ignore[call-arg,arg-type]

    def open(self, host: str = "", port: int = 993, timeout: float | None = None) -> None:
        super().open(host, port, timeout)
        self.arm(self.default_budget)


class BoundedClient(IMAPClient):  # type: ignore[misc]
    """An IMAPClient whose connection enforces a :class:`Budget` per command.

    ``greeting`` bounds the connect, TLS handshake and the server's greeting; afterwards
    each read may block ``read_timeout`` seconds and each command gets ``budget``, unless
    the caller sets ``wire.next_budget`` for the next one.
    """

    def __init__(
        self,
        host: str,
        *,
        port: int,
        use_tls: bool,
        ssl_context: ssl.SSLContext | None,
        read_timeout: float,
        greeting: Budget,
        budget: Budget,
    ) -> None:
        self._greeting = greeting
        super().__init__(host, port=port, ssl=use_tls, ssl_context=ssl_context)
        self.wire.read_timeout = read_timeout
        self.wire.default_budget = budget
        self._imap.debug = 0  # no protocol trace: it would carry what the server echoes

    def _create_IMAP4(self) -> _Bounded:
        if self.ssl:
            return _BoundedTLS(self.host, self.port, self.ssl_context, self._greeting)
        return _BoundedPlain(self.host, self.port, self._greeting)

    @property
    def wire(self) -> _Bounded:
        wire: _Bounded = self._imap
        return wire
