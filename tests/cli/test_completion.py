"""Shell completion, as documented in docs/quickstart.md (click's own mechanism)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .test_subprocess import _env, _script


def test_bash_completion_script_and_answers(tmp_path: Path) -> None:
    env = {**_env(tmp_path), "_MAILATLAS_COMPLETE": "bash_source"}
    source = subprocess.run([_script()], capture_output=True, text=True, env=env, timeout=60)
    assert source.returncode == 0, source.stderr
    assert "complete -o nosort -F _mailatlas_completion mailatlas" in source.stdout

    def complete(words: str) -> list[str]:
        env = {
            **_env(tmp_path),
            "_MAILATLAS_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - 1),
        }
        done = subprocess.run([_script()], capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert complete("mailatlas ingest m") == ["plain,maildir", "plain,mbox"]
    assert "plain,--format" in complete("mailatlas export x --f")


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_other_shells_get_a_script(tmp_path: Path, shell: str) -> None:
    env = {**_env(tmp_path), "_MAILATLAS_COMPLETE": f"{shell}_source"}
    done = subprocess.run([_script()], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0 and "_MAILATLAS_COMPLETE" in done.stdout, done.stderr
