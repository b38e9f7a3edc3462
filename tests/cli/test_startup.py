"""Reading the store must not load the parser, IMAP or export stacks (fast start-up)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY_PACKAGES = [
    "mailparser",
    "nh3",
    "html_to_markdown",
    "imapclient",
    "tqdm",
    "mailatlas_imap",
    "mcp",  # the MCP SDK and what it pulls in: only `mailatlas mcp` pays for them
    "pydantic",
    "starlette",
    "uvicorn",
]
HEAVY_MODULES = [
    "mailatlas_clean.parser._parse",
    "mailatlas_clean.readers._mbox",
    "mailatlas_cli._export",
    "mailatlas_cli._commands.ingest",
    "mailatlas_cli._commands.sync",
    "mailatlas_cli._commands.export",
    "mailatlas_cli._mcp",
    "email.utils",
    "hashlib",
    "shutil",
    "logging",
    "socket",  # only a writer records its host
]

# Modules the interpreter loaded before MailAtlas (site hooks such as coverage's .pth
# import hashlib) are not MailAtlas's doing and are left out.
PROBE = """
import sys
before = set(sys.modules)
import json
from mailatlas_cli._main import cli
packages, modules = json.loads(sys.argv[1]), json.loads(sys.argv[2])
try:
    cli(sys.argv[3:], prog_name="mailatlas", standalone_mode=False)
except BaseException:
    pass
loaded = [
    m for m in sys.modules
    if m not in before and (m.split(".")[0] in packages or m in modules)
]
print(json.dumps(sorted(loaded)), file=sys.stderr)
"""


def _loaded(*args: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(HEAVY_PACKAGES), json.dumps(HEAVY_MODULES), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    last = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else ""
    assert last.startswith("["), out.stderr
    return json.loads(last)


def test_list_and_show_load_no_heavy_module(tmp_path: Path) -> None:
    from mailatlas_core import open_store

    db, ws = tmp_path / "s.db", tmp_path / "ws"
    open_store(db, ws).close()
    assert _loaded("list", "--db", str(db), "--workspace", str(ws)) == []
    assert _loaded("show", "nope", "--db", str(db), "--workspace", str(ws)) == []


def test_the_heavy_names_still_resolve() -> None:
    import mailatlas_clean
    import mailatlas_cli
    import mailatlas_imap

    assert callable(mailatlas_clean.parse_bytes) and callable(mailatlas_imap.sync_imap)
    assert mailatlas_cli.IngestResult.__name__ == "IngestResult"
