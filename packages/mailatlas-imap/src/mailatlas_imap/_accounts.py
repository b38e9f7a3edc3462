"""Many mailboxes in one file: ``mailatlas.toml``, read with the standard library.

Example::

    [defaults]                      # optional: shared by every account
    host = "imap.example.com"
    max_connections = 2

    [accounts.work]
    username = "me@example.com"
    folders = ["INBOX", "Newsletters"]
    password_command = "pass show mail/work"     # first line of its output

    [accounts.news]
    host = "imap.other.example"
    username = "news@other.example"
    auth = "xoauth2"
    access_token_env = "NEWS_IMAP_TOKEN"

An account names where its secret comes from — ``password_env``/``password_command``
(``auth = "password"``, the default) or ``access_token_env``/``access_token_command``
(``auth = "xoauth2"``) — never the secret: a ``password`` or ``access_token`` key is
refused. Secrets are fetched when the account is synced, kept in memory only.

Where the file is looked for (:func:`find_accounts_file`): the path given
(``--config``), else ``$MAILATLAS_CONFIG``, else ``./mailatlas.toml``, else
``$MAILATLAS_HOME/mailatlas.toml`` (``MAILATLAS_HOME`` defaults to ``.mailatlas``), else
``$XDG_CONFIG_HOME/mailatlas/mailatlas.toml`` (``~/.config/mailatlas/mailatlas.toml``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from ._config import AuthMode, ImapSyncConfig, TlsMode
from ._errors import AccountsFileError, ImapConfigError, python_spelling
from ._secret_source import SecretSource

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_MAX_CONNECTIONS",
    "Account",
    "AccountsFile",
    "SecretSource",
    "config_search_path",
    "find_accounts_file",
    "load_accounts",
]

CONFIG_ENV = "MAILATLAS_CONFIG"
FILE_NAME = "mailatlas.toml"
DEFAULT_MAX_CONNECTIONS = 2  # well under every common provider's per-user limit

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}")
_SECRET_KEYS = {
    "password": ("password_env", "password_command"),
    "access_token": ("access_token_env", "access_token_command"),
}
_LITERAL_SECRETS = ("password", "access_token", "token", "secret", "pass", "passwd")
_KEYS: dict[str, type | tuple[type, ...]] = {
    "host": str,
    "port": int,
    "username": str,
    "auth": str,
    "tls": str,
    "ca_file": str,
    "folders": list,
    "max_connections": int,
    "timeout": (int, float),
    "batch_size": int,
    **{key: str for key in ("password_env", "access_token_env")},
    **{key: (str, list) for key in ("password_command", "access_token_command")},
}


@dataclass(frozen=True, slots=True)
class Account:
    """One mailbox of the accounts file (no secret: only where it comes from).

    ``port`` is 993 for implicit TLS and 143 otherwise unless given; ``ca_file`` is
    relative to the file's directory; ``max_connections`` bounds the connections all
    workers together open to this account; ``batch_size`` (messages fetched and
    committed together) and ``timeout`` default to :class:`ImapSyncConfig`'s.
    """

    name: str
    host: str
    username: str
    port: int
    auth: AuthMode = "password"
    tls: TlsMode = "implicit"
    folders: tuple[str, ...] = ("INBOX",)
    ca_file: str | None = None
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    timeout: float | None = None
    batch_size: int | None = None
    secret: SecretSource = field(default=SecretSource("password_env", "env", ""), repr=False)

    def sync_config(self, **overrides: Any) -> ImapSyncConfig:
        """The :class:`ImapSyncConfig` of this account, with its secret fetched now.

        ``overrides`` replace config fields (``folders``, ``timeout``,
        ``parser_config``...). Raises :class:`SecretUnavailableError` when the secret
        source gives nothing, :class:`ImapConfigError` for an unusable override.
        """
        secret = self.secret.read(self.name)
        key = "password" if self.auth == "password" else "access_token"
        return self._config({key: secret, **overrides})

    def _config(self, overrides: Mapping[str, Any]) -> ImapSyncConfig:
        values: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "username": self.username,
            "auth": self.auth,
            "tls": self.tls,
            "folders": self.folders,
            "ca_file": self.ca_file,
        }
        if self.timeout is not None:
            values["timeout"] = self.timeout
        if self.batch_size is not None:
            values["batch_size"] = self.batch_size
        values.update(overrides)
        try:
            with python_spelling():
                return ImapSyncConfig(**values)
        except ImapConfigError as exc:
            raise type(exc)(f"account {self.name!r}: {exc}") from None


@dataclass(frozen=True, slots=True)
class AccountsFile:
    """The accounts of one file, in the file's order."""

    path: Path
    accounts: dict[str, Account]

    def select(self, names: Iterable[str] = (), *, all_accounts: bool = False) -> list[Account]:
        """The accounts named (in the order given), or every account."""
        if all_accounts:
            if not self.accounts:
                raise AccountsFileError(f"{self.path}: no [accounts.NAME] table")
            return list(self.accounts.values())
        chosen: list[Account] = []
        for name in names:
            if name not in self.accounts:
                known = ", ".join(self.accounts) or "none"
                raise AccountsFileError(f"no account {name!r} in {self.path} (accounts: {known})")
            if self.accounts[name] not in chosen:
                chosen.append(self.accounts[name])
        return chosen


def config_search_path() -> list[Path]:
    """Where the accounts file is looked for when no path is given, in order."""
    home = Path(os.environ.get("MAILATLAS_HOME") or ".mailatlas")
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path("~/.config").expanduser())
    return [Path(FILE_NAME), home / FILE_NAME, Path(xdg) / "mailatlas" / FILE_NAME]


def find_accounts_file(path: str | os.PathLike[str] | None = None) -> Path:
    """The accounts file to read: ``path``, ``$MAILATLAS_CONFIG``, else the first of
    :func:`config_search_path` that exists."""
    given = path if path is not None else os.environ.get(CONFIG_ENV) or None
    if given is not None:
        return Path(given)
    for candidate in config_search_path():
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(p) for p in config_search_path())
    raise AccountsFileError(
        f"no accounts file found (looked for {looked}) — pass --config FILE or set {CONFIG_ENV}"
    )


def load_accounts(path: str | os.PathLike[str] | None = None) -> AccountsFile:
    """Read and check an accounts file (:func:`find_accounts_file` when ``path`` is None).

    Raises:
        AccountsFileError: the file is missing, is not TOML, has an unknown key or a
            wrong type, names a secret itself, or an account is incomplete.
    """
    import tomllib  # only a run that names an accounts file reads TOML

    where = find_accounts_file(path)
    try:
        with where.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise AccountsFileError(f"accounts file {where} does not exist") from None
    except IsADirectoryError:
        raise AccountsFileError(f"accounts file {where} is a directory") from None
    except OSError as exc:
        raise AccountsFileError(f"cannot read {where}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AccountsFileError(f"{where} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"accounts", "defaults"})
    if unknown:
        raise AccountsFileError(f"{where}: unknown top-level key {unknown[0]!r}")
    defaults = _table(data.get("defaults", {}), where, "[defaults]")
    tables = _table(data.get("accounts", {}), where, "[accounts]")
    accounts: dict[str, Account] = {}
    for name, table in tables.items():
        if not _NAME.fullmatch(name):
            raise AccountsFileError(
                f"{where}: account name {name!r} may hold only letters, digits and ._@+-"
            )
        entry = {**defaults, **_table(table, where, f"[accounts.{name}]")}
        accounts[name] = _account(name, entry, where)
    return AccountsFile(where, accounts)


def _table(value: Any, where: Path, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise AccountsFileError(f"{where}: {what} must be a table")
    return value


def _account(name: str, entry: dict[str, Any], where: Path) -> Account:
    def fail(message: str) -> AccountsFileError:
        return AccountsFileError(f"{where}: account {name!r}: {message}")

    for key in entry:
        if key in _LITERAL_SECRETS:
            keys = _SECRET_KEYS.get(key, _SECRET_KEYS["password"])
            sources = " or ".join(f"{k} = ..." for k in keys)
            raise fail(
                f"holds a literal {key}; MailAtlas never reads a secret from a file —"
                f" name where it comes from instead: {sources}"
            )
        if key not in _KEYS:
            raise fail(f"unknown key {key!r} (known: {', '.join(_KEYS)})")
        kind = _KEYS[key]
        if not isinstance(entry[key], kind) or isinstance(entry[key], bool):
            raise fail(f"{key} has the wrong type ({type(entry[key]).__name__})")
    auth = entry.get("auth", "password")
    tls = entry.get("tls", "implicit")
    source = _secret(entry, auth, fail)
    folders = entry.get("folders", ["INBOX"])
    if not all(isinstance(f, str) for f in folders):
        raise fail("folders must be a list of folder names")
    limit = entry.get("max_connections", DEFAULT_MAX_CONNECTIONS)
    if limit < 1:
        raise fail(f"max_connections must be at least 1, not {limit}")
    ca_file = entry.get("ca_file")
    if ca_file is not None:
        ca_file = str(where.parent / Path(ca_file).expanduser())
    account = Account(
        name=name,
        host=entry.get("host", ""),
        username=entry.get("username", ""),
        port=entry.get("port", 993 if tls == "implicit" else 143),
        auth=cast(AuthMode, auth),
        tls=cast(TlsMode, tls),
        folders=tuple(folders),
        ca_file=ca_file,
        max_connections=limit,
        timeout=float(entry["timeout"]) if "timeout" in entry else None,
        batch_size=entry.get("batch_size"),
        secret=source,
    )
    placeholder = "password" if auth == "password" else "access_token"
    try:
        account._config({placeholder: "placeholder"})  # check every field now
    except ImapConfigError as exc:
        raise AccountsFileError(f"{where}: {exc}") from None
    return account


def _secret(
    entry: dict[str, Any], auth: Any, fail: Callable[[str], AccountsFileError]
) -> SecretSource:
    if auth not in ("password", "xoauth2"):
        raise fail(f"auth must be 'password' or 'xoauth2', not {auth!r}")
    wanted = _SECRET_KEYS["password" if auth == "password" else "access_token"]
    for other in {k for keys in _SECRET_KEYS.values() for k in keys} - set(wanted):
        if other in entry:
            raise fail(f"{other} does not go with auth = {auth!r}; use {' or '.join(wanted)}")
    given = [key for key in wanted if key in entry]
    if len(given) != 1:
        raise fail(f"give exactly one of {wanted[0]} and {wanted[1]}")
    key = given[0]
    value = entry[key]
    if key.endswith("_env"):
        if not value:
            raise fail(f"{key} is empty")
        return SecretSource(key, "env", value)
    if isinstance(value, list) and (not value or not all(isinstance(v, str) for v in value)):
        raise fail(f"{key} must be a command line or a non-empty list of strings")
    if isinstance(value, str) and not value.strip():
        raise fail(f"{key} is empty")
    return SecretSource(key, "command", value if isinstance(value, str) else tuple(value))
