"""A reader that crashes its process for real (SIGSEGV in native code) costs that
attachment only: the message is stored with its body and other files, and the crashed
file says so in ``show``, whether the message was parsed in a pool worker or in the
calling process (a short run, ``workers=0``, ``parse_bytes``, the facade, the CLI).

The crash comes from a test reader (``readers.CRASHING``) registered with
``register_reader``; it reads memory at address 0 when a file starts with ``CRASH``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mailatlas_clean import (
    ExtractLimits,
    ParseFailure,
    ParseJob,
    ParseLimits,
    ParserConfig,
    parse_bytes,
    parse_many,
)
from mailatlas_clean.attachments import _readers, register_reader
from mailatlas_core import ParsedDocument

from tests.clean.helpers import count_pool_workers

from .files import csv_bytes, message_with
from .readers import CRASHING, HANGING

REPO = Path(__file__).resolve().parents[2]
CRASHED = "the text reader crashed its process (SIGSEGV)"


def _poisoned(subject: str) -> bytes:
    """A message whose first file crashes its reader; a CSV and a text file follow."""
    return message_with(
        [
            ("poison.txt", "text/plain", b"CRASH here"),
            ("table.csv", "text/csv", csv_bytes()),
            ("notes.txt", "text/plain", b"plain notes survive"),
        ],
        subject=subject,
        body=f"Body of {subject} stays whole.",
    )


@pytest.fixture
def crashing_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_readers, "_registered", {})  # this test's readers only
    register_reader("text", CRASHING)


def _texts(doc: ParsedDocument) -> dict[str, tuple[str, str | None, str | None]]:
    return {a.filename: (a.text.status, a.text.text, a.text.error) for a in doc.assets if a.text}


def _check(doc: ParsedDocument | ParseFailure | None, subject: str) -> None:
    assert isinstance(doc, ParsedDocument), doc
    assert doc.body_text == f"Body of {subject} stays whole."
    texts = _texts(doc)
    assert texts["poison.txt"] == ("failed", None, CRASHED)
    assert texts["table.csv"][0] == "ok" and "Widget, large" in (texts["table.csv"][1] or "")
    assert texts["notes.txt"] == ("ok", "plain notes survive", None)
    assert doc.assets[0].data == b"CRASH here"  # the file itself is kept


def test_a_crash_in_a_pool_worker_fails_that_file_not_the_message(crashing_reader: None) -> None:
    subjects = [f"m{i}" for i in range(6)]
    raws = [
        _poisoned(s) if i % 3 == 1 else message_with([("t.txt", "text/plain", b"fine")], subject=s)
        for i, s in enumerate(subjects)
    ]
    jobs = [ParseJob(i, raw) for i, raw in enumerate(raws)]
    # Both chunks go to the worker at once; the one it dies on comes back marked, and
    # (small) is parsed by the caller, which never reads the marked file again.
    results = list(parse_many(jobs, workers=1, inline_below=1, chunk_size=3))
    assert [job.tag for job, _ in results] == list(range(6))
    for i, (_job, doc) in enumerate(results):
        if i % 3 == 1:
            _check(doc, subjects[i])
        else:
            assert isinstance(doc, ParsedDocument)
            assert _texts(doc) == {"t.txt": ("ok", "fine", None)}  # neighbours untouched


@pytest.mark.slow
def test_after_three_crashes_the_rest_of_the_files_are_not_read(
    crashing_reader: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = count_pool_workers(monkeypatch)
    files = [(f"p{i}.txt", "text/plain", b"CRASH %d" % i) for i in range(5)]
    # Above HELP_MAX_BYTES (a 300 KB binary part): only a worker ever parses it.
    blob = ("blob.bin", "application/octet-stream", os.urandom(300_000))
    raw = message_with([*files, ("ok.csv", "text/csv", csv_bytes()), blob], subject="many")
    rest = "the {} reader was not run: readers crashed on 3 other files of this message"
    ((_job, doc),) = parse_many([ParseJob(0, raw)], workers=1, inline_below=1)
    # One worker, and one more per crash: then the message is parsed without its files.
    assert len(started) == 4
    in_process = parse_bytes(raw)  # through the extractor process: the same bound
    for parsed in (doc, in_process):
        assert isinstance(parsed, ParsedDocument)
        texts = _texts(parsed)
        assert [texts[f"p{i}.txt"] for i in range(3)] == [("failed", None, CRASHED)] * 3
        assert texts["p3.txt"] == texts["p4.txt"] == ("failed", None, rest.format("text"))
        assert texts["ok.csv"] == ("failed", None, rest.format("CSV"))
        assert texts["blob.bin"] == ("unsupported", None, None)


@pytest.mark.slow
def test_a_reader_stuck_in_native_code_is_killed_and_fails_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_readers, "_registered", {})
    register_reader("text", HANGING)
    raw = message_with(
        [("stuck.txt", "text/plain", b"HANG"), ("ok.csv", "text/csv", csv_bytes())],
        subject="hang",
        body="The body of hang.",
    )
    # In a worker: killed at the message's budget while on stuck.txt, then parsed again
    # (here, by the caller: a small message) without reading it.
    config = ParserConfig(limits=ParseLimits(time_budget_s=2))
    ((_job, doc),) = parse_many([ParseJob(0, raw)], config, workers=1, inline_below=1)
    assert isinstance(doc, ParsedDocument) and doc.body_text == "The body of hang."
    killed = "the text reader did not stop within the message's time budget; its process"
    assert _texts(doc)["stuck.txt"] == ("failed", None, f"{killed} was killed")
    assert _texts(doc)["ok.csv"][0] == "ok"
    # In the extractor process: killed at the file's budget plus GRACE_S.
    config = ParserConfig(attachments=ExtractLimits(time_budget_s=1))
    doc = parse_bytes(raw, config)
    assert doc.body_text == "The body of hang."
    assert _texts(doc)["stuck.txt"] == (
        "failed", None, "the text reader did not stop within its 1 s budget; its process was killed"
    )  # fmt: skip
    assert _texts(doc)["ok.csv"][0] == "ok"


# Run in a fresh interpreter: on the old code the crash killed the process itself.
API_SCRIPT = """
import json, sys
from mailatlas_clean import (
    ExtractLimits, ParseJob, ParsePool, ParserConfig, parse_bytes, register_reader,
)
from mailatlas_cli import MailAtlas
from tests.attachments.readers import CRASHING

register_reader("text", CRASHING)
raw = open(sys.argv[1], "rb").read()
def texts(doc):
    return {a.filename: [a.text.status, a.text.error] for a in doc.assets}
out = {"parse_bytes": texts(parse_bytes(raw))}
with ParsePool(workers=0) as pool:
    ((_job, doc),) = pool.results(pool.submit([ParseJob(0, raw)]))
    out["pool0"] = texts(doc)
with MailAtlas(sys.argv[2] + "/store.db", sys.argv[2] + "/ws") as atlas:
    (ref,) = atlas.ingest_eml([sys.argv[1]])
    stored = atlas.get_document(ref.id)
    out["stored"] = texts(stored)
    out["body"] = stored.body_text
# The attachment-text backfill of a store written without attachment text.
off = ParserConfig(attachments=ExtractLimits(enabled=False))
with MailAtlas(sys.argv[2] + "/old.db", sys.argv[2] + "/old", parser_config=off) as atlas:
    (ref,) = atlas.ingest_eml([sys.argv[1]])
    out["backfill"] = atlas.read_attachment_texts()
    out["backfilled"] = texts(atlas.get_document(ref.id))
print(json.dumps(out))
"""


def _env() -> dict[str, str]:
    # The test readers are imported by name in every process: the repository on the path.
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path])}


@pytest.mark.slow
def test_in_process_parsing_survives_a_crash(tmp_path: Path) -> None:
    (tmp_path / "m.eml").write_bytes(_poisoned("api"))
    proc = subprocess.run(
        [sys.executable, "-c", API_SCRIPT, str(tmp_path / "m.eml"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(),
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    out = json.loads(proc.stdout)
    expected = {
        "poison.txt": ["failed", CRASHED],
        "table.csv": ["ok", None],
        "notes.txt": ["ok", None],
    }
    assert out["parse_bytes"] == out["pool0"] == out["stored"] == expected
    assert out["backfilled"] == expected
    assert out["backfill"] == {"read_count": 3, "by_status": {"failed": 1, "ok": 2}}
    assert out["body"] == "Body of api stays whole."


CLI = (
    "import sys\n"
    "from mailatlas_clean import register_reader\n"
    "from tests.attachments.readers import CRASHING\n"
    "register_reader('text', CRASHING)\n"
    "from mailatlas_cli._main import main\n"
    "main()\n"
)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real ``mailatlas`` command, in a process that registered the crashing reader."""
    return subprocess.run(
        [sys.executable, "-c", CLI, *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=_env(),
        cwd=cwd,
    )


def _show(doc_id: str, tmp_path: Path) -> dict[str, object]:
    proc = _cli("show", doc_id, "--db", "store.db", "--workspace", "ws", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    shown: dict[str, object] = json.loads(proc.stdout)
    return shown


def _check_shown(shown: dict[str, object], subject: str) -> None:
    assert shown["body_text"] == f"Body of {subject} stays whole."
    assets = {a["filename"]: a for a in shown["assets"]}  # type: ignore[attr-defined]
    poison = assets["poison.txt"]
    assert poison["text"]["status"] == "failed" and poison["text"]["error"] == CRASHED
    assert poison["size"] == len(b"CRASH here")
    assert assets["table.csv"]["text"]["status"] == "ok"
    assert assets["notes.txt"]["text"]["status"] == "ok"


@pytest.mark.slow
def test_cli_ingest_of_one_message_survives_a_crash(tmp_path: Path) -> None:
    (tmp_path / "m.eml").write_bytes(_poisoned("cli"))
    proc = _cli("ingest", "eml", "m.eml", "--db", "store.db", "--workspace", "ws", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    result = json.loads(proc.stdout)
    assert (result["status"], result["ingested_count"], result["failed_count"]) == ("ok", 1, 0)
    (ref,) = result["document_refs"]
    _check_shown(_show(ref["id"], tmp_path), "cli")


@pytest.mark.slow
def test_cli_ingest_through_the_worker_pool_survives_a_crash(tmp_path: Path) -> None:
    # 300 messages: more than parse_many's inline_below, so workers parse them.
    mails = tmp_path / "mails"
    mails.mkdir()
    for i in range(300):
        raw = _poisoned(f"w{i}") if i in (7, 250) else message_with([], subject=f"w{i}")
        (mails / f"{i:03d}.eml").write_bytes(raw)
    proc = _cli("ingest", "eml", "mails", "--db", "store.db", "--workspace", "ws", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    result = json.loads(proc.stdout)
    assert (result["status"], result["ingested_count"], result["failed_count"]) == ("ok", 300, 0)
    refs = result["document_refs"]
    by_subject = {r.get("subject"): r["id"] for r in refs}
    for subject in ("w7", "w250"):
        _check_shown(_show(by_subject[subject], tmp_path), subject)
