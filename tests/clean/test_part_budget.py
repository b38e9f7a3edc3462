"""A message with more MIME parts than its size allows is not parsed (issue 11: memory
at most 4x a message's size for every content type; ``parser/_part_budget.py``).

Before: 2 MB of empty parts (420,000 of them) peaked at 144x the message and took 17 s;
2 MB of a delivery report's blocks at 90x, and of a broken multipart's parts (parsed
again with the boundary they use) at 28x. Each part costs objects whatever its size, so
a parse makes at most one part per 512 bytes of message, or 20,000; the part past that
stops it, on the offset reader's path and on the stdlib parser's alike, and the message
is a failure with its raw bytes kept.
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest
from mailatlas_clean import ParseError, parse_bytes
from mailatlas_clean.parser._multipart import read_tree
from mailatlas_clean.parser._part_budget import PARTS_FLOOR

from tests.hostile.helpers import REPO, cli_command, cli_env

MB = 1 << 20
HEAD = b"From: a@example.com\nSubject: parts\nMessage-ID: <parts@x>\n"
REASON = "MIME parts (at most one per 512 bytes of message, or 20,000); it was not parsed"


def _multipart(part: bytes, count: int) -> bytes:
    return HEAD + b"Content-Type: multipart/mixed; boundary=B\n\n" + part * count + b"--B--\n"


def _refused(raw: bytes) -> tuple[str, int]:
    """The parse's refusal, and its peak Python memory (bytes)."""
    tracemalloc.start()
    try:
        with pytest.raises(ParseError) as caught:
            parse_bytes(raw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return caught.value.reason, peak


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        # 2 MB: read by offset (_multipart); 420,000 parts, the limit 20,000.
        ("empty parts", _multipart(b"--B\n\n", 420_000)),
        ("tiny text parts", _multipart(b"--B\nContent-Type: text/plain\n\nx\n", 65_000)),
        # A delivery report is left to the stdlib parser: each block of its body is a part.
        (
            "a delivery report's blocks",
            HEAD
            + b"Content-Type: multipart/report; boundary=B\n\n--B\n\nhi\n"
            + b"--B\nContent-Type: message/delivery-status\n\n"
            + b"A: b\n\n" * 350_000
            + b"--B--\n",
        ),
        # A broken multipart (its declared boundary is not the one it uses) is parsed
        # again with the one it uses: by the stdlib parser, with a budget of its own.
        (
            "a broken multipart's parts",
            _multipart(b"--B\nContent-Type: text/plain\n\nx\n", 65_000).replace(
                b"boundary=B", b"boundary=X", 1
            ),
        ),
    ],
)
def test_a_message_of_too_many_parts_is_refused_early(name: str, raw: bytes) -> None:
    reason, peak = _refused(raw)
    assert f"more than {PARTS_FLOOR:,} {REASON}" in reason, name
    # Stopped at the part past the limit: its 20,000 parts' objects at most, and for
    # the stdlib parser the lines of the 1 MB it was fed (before: 46-290 MB of RSS).
    assert peak < 32 * MB, f"{name}: {peak / MB:.0f} MB"


def test_the_offset_reader_refuses_rather_than_leave_it_to_the_stdlib_parser() -> None:
    with pytest.raises(ParseError, match="MIME parts"):
        read_tree(_multipart(b"--B\n\n", 420_000))


def test_a_message_within_its_parts_is_parsed() -> None:
    # The root, the multipart and its parts: PARTS_FLOOR parts in all.
    raw = _multipart(b"--B\nContent-Type: text/plain\n\nx\n", PARTS_FLOOR - 1)
    assert len(raw) < PARTS_FLOOR * 512  # the floor is the limit here, not the size
    doc = parse_bytes(raw)
    assert doc.subject == "parts" and doc.body_text.startswith("x")


def test_the_limit_grows_with_the_message() -> None:
    # 22,000 parts of 1 KB: 22 MB allow 44,000.
    raw = _multipart(b"--B\nContent-Type: text/plain\n\n" + b"y" * 1000 + b"\n", 22_000)
    assert len(parse_bytes(raw).body_text) > 1000


def test_the_cli_records_it_as_a_failure_with_its_raw_bytes(tmp_path: Path) -> None:
    import subprocess

    bomb = _multipart(b"--B\n\n", 100_000)
    small = b"From: b@example.com\nSubject: small\nMessage-ID: <small@x>\n\nhello\n"
    (tmp_path / "a_bomb.eml").write_bytes(bomb)
    (tmp_path / "b_small.eml").write_bytes(small)
    home = tmp_path / "home"
    run = subprocess.run(
        cli_command("ingest", "eml", str(tmp_path / "a_bomb.eml"), str(tmp_path / "b_small.eml")),
        capture_output=True,
        env=cli_env(home),
        cwd=REPO,
        check=False,
    )
    assert run.returncode == 1, run.stderr
    summary = json.loads(run.stdout)
    assert (summary["ingested_count"], summary["failed_count"]) == (1, 1)
    assert REASON in summary["failures"][0]["error"]
    kept = list((home / "workspace" / "failures").iterdir())
    assert [p.read_bytes() for p in kept] == [bomb]
