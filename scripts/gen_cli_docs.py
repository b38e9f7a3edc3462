#!/usr/bin/env python3
"""Generate docs/cli.md from the real ``--help`` text of every ``mailatlas`` command.

    python scripts/gen_cli_docs.py          # rewrite docs/cli.md
    python scripts/gen_cli_docs.py --check  # exit 1 if docs/cli.md is out of date

tests/cli/test_docs.py runs the check, so the reference never drifts from the code.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click
from click.testing import CliRunner
from mailatlas_cli._main import cli

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"

INTRO = """\
# CLI reference

Generated from the real `--help` of every command by `scripts/gen_cli_docs.py`; a test
fails when this page and the code disagree. For a guided tour see
[quickstart.md](quickstart.md); for IMAP see [manual-imap-sync.md](manual-imap-sync.md).

Every command writes its data to stdout as JSON (except `export` to stdout, which
writes the document itself) and progress, warnings and errors to stderr. Exit codes:
`0` success, `1` the command ran but something failed (the JSON summary says what),
`2` usage error (bad option, missing credential, unknown document, path of the wrong
kind). Errors are one line: `Error: <what went wrong> — <what to do>`.
"""


def iter_commands(
    command: click.Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command of the tree, depth first, in the order ``--help`` lists them."""
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command, info_name="mailatlas")
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None:
                yield from iter_commands(sub, (*path, name))


def help_text(path: tuple[str, ...]) -> str:
    """What ``mailatlas <path> --help`` prints on an 80-column terminal."""
    result = CliRunner().invoke(
        cli, [*path, "--help"], prog_name="mailatlas", env={"COLUMNS": "80"}
    )
    if result.exit_code != 0:
        raise SystemExit(f"mailatlas {' '.join(path)} --help failed: {result.output}")
    return result.output


def render() -> str:
    """The whole of docs/cli.md."""
    parts = [INTRO]
    for path, _ in iter_commands(cli):
        title = " ".join(("mailatlas", *path))
        parts.append(f"\n## `{title}`\n\n```text\n$ {title} --help\n{help_text(path)}```\n")
    return "".join(parts)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not DOC.is_file() or DOC.read_text("utf-8") != text:
            print(f"{DOC} is out of date: run python scripts/gen_cli_docs.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, "utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
