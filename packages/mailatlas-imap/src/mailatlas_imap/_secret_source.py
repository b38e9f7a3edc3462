"""Where an account's secret comes from: an environment variable or a command.

The accounts file names the source, never the secret. A command is run like mbsync's
``PassCmd``: a string goes through ``/bin/sh``, a list is run as it is; the first line of
what it prints is the secret. Its stdin and stderr are closed off (a secret-printing tool
may echo on stderr), and neither the command nor what it printed ever appears in a
message: errors say which account and which source, and the exit status.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from ._errors import SecretUnavailableError

__all__ = ["COMMAND_TIMEOUT", "SecretSource"]

COMMAND_TIMEOUT = 120.0  # seconds: a keyring or a gpg-agent may ask for a passphrase


@dataclass(frozen=True, slots=True)
class SecretSource:
    """Where one secret (password or access token) comes from.

    Attributes:
        field: the accounts-file key that named it (``password_env``,
            ``access_token_command``...), used in messages.
        kind: ``"env"`` (``value`` is a variable name) or ``"command"`` (``value`` is a
            shell command line, or an argument list run without a shell).
        value: the variable name or the command.
    """

    field: str
    kind: Literal["env", "command"]
    value: str | tuple[str, ...]

    def __repr__(self) -> str:
        return f"SecretSource({self.field}={self.value!r})"

    def read(self, account: str) -> str:
        """The secret, fetched now; :class:`SecretUnavailableError` if there is none."""
        secret = self._env(account) if self.kind == "env" else self._command(account)
        if not secret:
            raise SecretUnavailableError(f"account {account!r}: {self._what()} gave no secret")
        return secret

    def _what(self) -> str:
        if self.kind == "env":
            return f"environment variable {self.value} ({self.field})"
        return self.field

    def _env(self, account: str) -> str:
        name = str(self.value)
        value = os.environ.get(name)
        if value is None:
            raise SecretUnavailableError(
                f"account {account!r}: environment variable {name} is not set ({self.field})"
            )
        return value

    def _command(self, account: str) -> str:
        import subprocess  # only a secret read from a command runs one

        command = self.value
        try:
            done = subprocess.run(
                command if isinstance(command, str) else list(command),
                shell=isinstance(command, str),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise SecretUnavailableError(
                f"account {account!r}: {self.field} did not finish within {COMMAND_TIMEOUT:.0f} s"
            ) from None
        except OSError as exc:  # a list command whose program cannot be run
            reason = exc.strerror or type(exc).__name__
            raise SecretUnavailableError(
                f"account {account!r}: {self.field} could not be run ({reason})"
            ) from None
        if done.returncode != 0:
            raise SecretUnavailableError(
                f"account {account!r}: {self.field} failed (exit status {done.returncode});"
                " run it yourself to see why"
            )
        try:
            text = done.stdout.decode("utf-8")
        except UnicodeDecodeError:
            raise SecretUnavailableError(
                f"account {account!r}: {self.field} printed something that is not UTF-8"
            ) from None
        return text.splitlines()[0] if text else ""
