"""Usage errors of ``mailatlas worker`` and ``sync imap --workers`` (no server needed)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from mailatlas_cli._main import cli


def test_workers_needs_accounts(runner: CliRunner, home: Path) -> None:
    result = runner.invoke(cli, ["sync", "imap", "--workers", "2"])
    assert result.exit_code == 2
    assert result.stderr == "Error: --workers goes with --account or --all-accounts\n"
    assert result.stdout == ""


def test_worker_folder_needs_enqueue(runner: CliRunner, home: Path, tmp_path: Path) -> None:
    conf = tmp_path / "mailatlas.toml"
    conf.write_text('[accounts.a]\nhost = "h"\nusername = "u"\npassword_env = "A"\n')
    result = runner.invoke(cli, ["worker", "--config", str(conf), "--folder", "INBOX"])
    assert result.exit_code == 2
    assert result.stderr == "Error: --folder goes with --enqueue (it chooses what to queue)\n"
    assert not (home / "store.db").exists()


def test_worker_without_accounts_file(runner: CliRunner, home: Path, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["worker", "--config", str(tmp_path / "none.toml")])
    assert result.exit_code == 2
    assert result.stderr == f"Error: accounts file {tmp_path / 'none.toml'} does not exist\n"
