"""Errors raised by mailatlas-imap.

Every third-party failure (imapclient's ``LoginError``, ``imaplib.IMAP4.abort``,
``ssl.SSLError``, ``socket.timeout``...) is wrapped into this branch of the MailAtlas
error tree at the package edge: ``ImapError`` and its subclasses, drawn with the whole
tree in ``mailatlas_core._errors``.

Messages are one line for the person at the shell. They quote the server's text as text
(never a bytes repr) and never contain a password or an access token, in any form.

Where a message names a setting, it spells it as the caller does: ``ca_file`` and
``tls='none'`` for Python callers (the default), ``--ca-file`` and ``--tls none`` once the
command line has entered :func:`cli_spelling`. Messages are built in one place, with
:func:`option`, whoever reads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from mailatlas_core import MailAtlasError

if TYPE_CHECKING:
    from ._result import SyncResult

__all__ = [
    "AccountsFileError",
    "FolderError",
    "ImapAuthError",
    "ImapConfigError",
    "ImapConnectionError",
    "ImapError",
    "SecretUnavailableError",
    "cli_spelling",
    "option",
    "python_spelling",
]

_CLI = ContextVar("mailatlas_imap_cli_spelling", default=False)

# ImapSyncConfig fields whose command-line option is not simply --field-name.
_FLAGS = {"folders": "--folder", "max_retries": "--retries"}
_NOT_ON_CLI = frozenset({"batch_size", "parse_workers", "retry_delay", "parser_config"})


def option(name: str, value: str | None = None) -> str:
    """A configuration field as the caller spells it.

    ``option("ca_file")`` is ``ca_file`` for Python and ``--ca-file`` on the command
    line; ``option("tls", "none")`` is ``tls='none'`` or ``--tls none``.
    """
    if _CLI.get() and name not in _NOT_ON_CLI:
        flag = _FLAGS.get(name, "--" + name.replace("_", "-"))
        return flag if value is None else f"{flag} {value}"
    return name if value is None else f"{name}={value!r}"


@contextmanager
def cli_spelling() -> Iterator[None]:
    """Within this block, messages name settings as command-line options."""
    token = _CLI.set(True)
    try:
        yield
    finally:
        _CLI.reset(token)


class ImapError(MailAtlasError):
    """An IMAP sync failed.

    ``result`` is set when a sync that had started (a run was recorded) could not go on:
    the summary of what it did, with its true ``run_id``, ``duration_s`` and retries.
    """

    result: SyncResult | None = None


@contextmanager
def python_spelling() -> Iterator[None]:
    """Within this block, messages name settings as fields (``ca_file``), as an accounts
    file spells them, even inside a command-line run."""
    token = _CLI.set(False)
    try:
        yield
    finally:
        _CLI.reset(token)


class ImapConfigError(ImapError, ValueError):
    """The sync configuration is invalid (a usage error: fix the options and rerun)."""

    exit_code = 2


class AccountsFileError(ImapConfigError):
    """The accounts file (``mailatlas.toml``) cannot be found, read or understood, or it
    holds a secret; also an account name that the file does not define."""


class SecretUnavailableError(ImapError):
    """An account's secret source gave no secret: its environment variable is unset or
    empty, or its command failed or printed nothing. Only that account fails."""


class ImapConnectionError(ImapError):
    """The server could not be reached, TLS failed, or the connection dropped or stalled.

    ``retryable`` is false for failures that a reconnect cannot fix (an untrusted
    certificate, a server without STARTTLS).
    """

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable
        if retryable:  # spelled as the caller spells settings, when it is raised
            where = f"{option('host')}, {option('port')} and {option('tls')}"
            self.hint = f"check {where} and that the server is reachable, then rerun"


class ImapAuthError(ImapError):
    """The server refused the password or the access token."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.hint = f"check {option('username')} and the password or access token, then rerun"


class FolderError(ImapError):
    """A folder could not be opened (it does not exist, or access is denied)."""
