"""Messages of every content type at a given size, and their peak memory to ingest.

Used by ``bench/memory.py`` and ``tests/hostile/test_memory_ratio.py``. Each shape
builds a message of about ``size`` bytes. :func:`measure` ingests one message in a
fresh interpreter, started from a small intermediate one (``ru_maxrss`` of a process
started by pytest would carry pytest's own peak across exec), and returns its peak
resident memory above the interpreter's baseline before the message was read.
:func:`measure_sync` does the same for an IMAP sync of one message from a real Dovecot.
"""

from __future__ import annotations

import base64
import json
import os
import quopri
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "FILLER",
    "HWM_SOURCE",
    "SHAPES",
    "measure",
    "measure_sync",
    "measure_workers",
    "write_shape",
]

HEAD = (
    b"From: Ann <a@example.com>\nTo: b@example.com\nSubject: s\nMessage-ID: <m@x>\n"
    b"Date: Mon, 1 Jan 2024 00:00:00 +0000\nMIME-Version: 1.0\n"
)
LINE = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\n"
WORDS = "Grüße aus Köln, ça va? Ünïcödé text for the body " * 2


def _plain(size: int) -> bytes:
    return HEAD + b"Content-Type: text/plain; charset=utf-8\n\n" + LINE * (size // len(LINE))


def _plain_utf8(size: int) -> bytes:
    line = (WORDS + "\n").encode()
    return HEAD + b"Content-Type: text/plain; charset=utf-8\n\n" + line * (size // len(line))


def _html_text(size: int) -> bytes:
    para = b"<p>" + LINE.strip() * 4 + b"</p>\n"
    return HEAD + b"Content-Type: text/html\n\n<html><body>" + para * (size // len(para))


def _html_tags(size: int) -> bytes:
    return HEAD + b"Content-Type: text/html\n\n" + b"<b>x</b>" * (size // 8)


def _alternative(size: int) -> bytes:
    half = size // 2
    para = b"<p>" + LINE.strip() + b"</p>\n"
    return (
        HEAD + b"Content-Type: multipart/alternative; boundary=A\n\n--A\n"
        b"Content-Type: text/plain\n\n" + LINE * (half // len(LINE)) + b"\n--A\n"
        b"Content-Type: text/html\n\n" + para * (half // len(para)) + b"\n--A--\n"
    )


def _base64_attachment(size: int) -> bytes:
    data = os.urandom(size * 3 // 4)
    return (
        HEAD + b"Content-Type: multipart/mixed; boundary=B\n\n--B\n"
        b"Content-Type: text/plain\n\nsee attached\n--B\n"
        b"Content-Type: application/octet-stream\n"
        b"Content-Disposition: attachment; filename=big.bin\n"
        b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(data) + b"--B--\n"
    )


def _quoted_printable(size: int) -> bytes:
    body = (WORDS + "\n").encode() * (size // 2 // len(WORDS))
    return (
        HEAD + b"Content-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: quoted-printable\n\n" + quopri.encodestring(body)
    )[: size + len(HEAD) + 200]


def _repeated(part: bytes, size: int) -> bytes:
    """A multipart/mixed message of ``part`` (one body part and its boundary line)
    repeated to about ``size`` bytes."""
    return (
        HEAD
        + b"Content-Type: multipart/mixed; boundary=C\n\n"
        + part * (size // len(part))
        + b"--C--\n"
    )


def _many_parts(size: int) -> bytes:
    part = b"--C\nContent-Type: text/plain\nContent-Disposition: attachment; filename=p.txt\n\n"
    return _repeated(part + LINE * 12, size)


def _many_table_parts(size: int) -> bytes:
    """As ``_many_parts``, CSV files: their text is not their bytes (cells tab-separated)."""
    rows = b"".join(b"north,%d,1.5,done\n" % i for i in range(48))
    head = b"--C\nContent-Type: text/csv\nContent-Disposition: attachment; filename=p.csv\n\n"
    return _repeated(head + rows, size)


def _many_html_parts(size: int) -> bytes:
    """As ``_many_parts``, HTML files: their text is read from their markup."""
    para = b"<p>Lorem <b>ipsum</b> dolor sit amet, <a href='https://example.test/x'>link</a>.</p>\n"
    head = b"--C\nContent-Type: text/html; charset=utf-8\n"
    head += b"Content-Disposition: attachment; filename=p.html\n\n"
    return _repeated(head + para * 12, size)


def _many_distinct_parts(size: int) -> bytes:
    """As ``_many_parts``, but no two parts alike: each its own file name and words, and
    a size between 0.3 and 1.7 KB (so that nothing is measured that holds only because
    the parts are identical)."""
    rnd = random.Random(size)
    out = [HEAD + b"Content-Type: multipart/mixed; boundary=C\n\n"]
    total, index = len(out[0]), 0
    while total < size:
        words = " ".join(f"w{rnd.randint(0, 99999)}" for _ in range(rnd.randint(40, 240)))
        body = "\n".join(words[i : i + 72] for i in range(0, len(words), 72))
        part = (
            f"--C\nContent-Type: text/plain\nContent-Disposition: attachment;"
            f" filename=part-{index}.txt\n\n{body}\n"
        ).encode()
        out.append(part)
        total, index = total + len(part), index + 1
    return b"".join(out) + b"--C--\n"


def _nested_rfc822(size: int) -> bytes:
    inner = _plain(size - 400).replace(b"Message-ID: <m@x>", b"Message-ID: <inner@x>")
    return (
        HEAD + b"Content-Type: multipart/mixed; boundary=D\n\n--D\nContent-Type: text/plain\n\n"
        b"forwarded\n--D\nContent-Type: message/rfc822\n\n" + inner + b"\n--D--\n"
    )


SHAPES: dict[str, Callable[[int], bytes]] = {
    "plain text": _plain,
    "plain text, UTF-8": _plain_utf8,
    "text-heavy HTML": _html_text,
    "tag-dense HTML": _html_tags,
    "alternative text+HTML": _alternative,
    "base64 attachment": _base64_attachment,
    "quoted-printable": _quoted_printable,
    "many small parts": _many_parts,
    "many small parts, distinct": _many_distinct_parts,
    "many small CSV parts": _many_table_parts,
    "many small HTML parts": _many_html_parts,
    "nested message/rfc822": _nested_rfc822,
}


def write_shape(shape: str, size: int, path: Path) -> int:
    """Write a message of ``shape`` and about ``size`` bytes to ``path``; its size."""
    raw = SHAPES[shape](size)
    path.write_bytes(raw)
    return len(raw)


# The measuring interpreters' high-water mark (VmHWM, bytes), a function of both scripts.
HWM_SOURCE = """
def hwm():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise SystemExit("no VmHWM")
"""

# The measured interpreter: ingests a small warm-up message (the store is created and
# the whole parser imported), then reads the
# baseline, ingests the one message and prints both high-water marks (bytes).
_CHILD = (
    """
import json, sys
from mailatlas_clean import ParseLimits, ParserConfig
from mailatlas_cli import MailAtlas
"""
    + HWM_SOURCE
    + """
# No time budget: a loaded machine must not turn a memory figure into a timeout.
config = ParserConfig(limits=ParseLimits(time_budget_s=3600))
atlas = MailAtlas(sys.argv[2], sys.argv[3], config)
atlas.ingest_eml([sys.argv[4]])  # creates the store and imports the whole parser
base = hwm()
result = atlas.ingest_eml([sys.argv[1]]).to_dict()
import resource
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"base": base, "peak": hwm(), "workers": workers,
                  "ingested": result["ingested_count"], "failed": result["failed_count"]}))
"""
)

# The small intermediate interpreter: runs the measured one and relays its output, plus
# the peak of any worker process it started (its own children's ru_maxrss).
_PARENT = """
import subprocess, sys
proc = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, check=False)
sys.stdout.write(proc.stdout.decode())
sys.exit(proc.returncode)
"""


def measure(path: Path, home: Path, env: dict[str, str] | None = None) -> dict[str, int]:
    """Ingest ``path`` into a new store under ``home``; its memory figures.

    Returns ``base`` (VmHWM before reading the message), ``peak`` (VmHWM after),
    ``ingested`` and ``failed``.
    """
    home.mkdir(parents=True, exist_ok=True)
    warm = home / "warm-up.eml"
    warm.write_bytes(_alternative(4096).replace(b"<m@x>", b"<warm-up@x>"))
    child = [sys.executable, "-c", _CHILD, str(path), str(home / "s.db"), str(home / "ws")]
    child.append(str(warm))
    out = subprocess.run(
        [sys.executable, "-c", _PARENT, *child],
        stdout=subprocess.PIPE,
        check=True,
        env=env,
    ).stdout
    figures: dict[str, int] = json.loads(out)
    return figures


# The measured interpreter of a sync: syncs a folder holding a small warm-up message (the
# store created, the IMAP client and the parser imported, a TLS connection made), then
# reads the baseline, syncs the folder holding the one message, prints both marks. With
# a filler, both folders hold that many small messages more, and the sync decides on its
# parse workers as it does by default (from 1,000 messages a folder, it starts them).
_SYNC_CHILD = (
    """
import json, os, sys
from mailatlas_clean import ParseLimits, ParserConfig
from mailatlas_cli import MailAtlas
from mailatlas_imap import ImapSyncConfig
"""
    + HWM_SOURCE
    + """
config = ParserConfig(limits=ParseLimits(time_budget_s=3600))
atlas = MailAtlas(sys.argv[1], sys.argv[2], config)
filler = int(sys.argv[5])
def sync(folder):
    return atlas.sync_imap(ImapSyncConfig(
        host="127.0.0.1", port=int(sys.argv[3]), username="mem",
        password=os.environ["MEM_SYNC_PASSWORD"], folders=[folder], ca_file=sys.argv[4],
        parse_workers=None if filler else 0, timeout=3600,
    )).to_dict()
sync("Warm")
base = hwm()
result = sync("Big")
print(json.dumps({"base": base, "peak": hwm(), "ingested": result["ingested_count"] - filler,
                  "failed": result["failed_count"], "status": result["status"]}))
"""
)


def measure_sync(
    path: Path, home: Path, env: dict[str, str] | None = None, *, filler: int = 0
) -> dict[str, int]:
    """Sync the message in ``path`` from a private Dovecot into a new store under ``home``.

    Same figures as :func:`measure` (``ingested`` is the sync's new documents, the
    ``filler`` not counted): the syncing interpreter's VmHWM after the sync of that one
    message, and before it. ``filler``: that many small messages beside it (and in the
    warm-up folder), with parse workers as a sync starts them by default.
    """
    from devkit.dovecot import DovecotServer

    home.mkdir(parents=True, exist_ok=True)
    password = "mem-" + os.urandom(8).hex()
    with DovecotServer(users={"mem": password}) as server:
        warm = _alternative(4096).replace(b"<m@x>", b"<warm-up@x>")
        server.fill_maildir("mem", "Warm", [warm, *_fillers("warm", filler)])
        server.fill_maildir("mem", "Big", [*_fillers("big", filler), path.read_bytes()])
        child = [sys.executable, "-c", _SYNC_CHILD, str(home / "s.db"), str(home / "ws")]
        child += [str(server.imaps_port), str(server.cert_path), str(filler)]
        out = subprocess.run(
            [sys.executable, "-c", _PARENT, *child],
            stdout=subprocess.PIPE,
            check=True,
            env=dict(env or os.environ, MEM_SYNC_PASSWORD=password),
        ).stdout
    figures: dict[str, int] = json.loads(out)
    return figures


def _fillers(name: str, count: int) -> list[bytes]:
    """``count`` small plain-text messages, each with a Message-ID of its own."""
    return [_plain(3000).replace(b"<m@x>", f"<{name}-{i}@x>".encode()) for i in range(count)]


# The measured interpreter of a run with parse workers: a run of fewer than 256 messages
# parses in-process (``parse_many``'s ``inline_below``), so the one message goes in a
# directory of ``FILLER`` small ones. A first run of other small ones, with workers too,
# is the warm-up; then the baselines: this process's VmHWM and its children's largest
# (the workers of the first run, now gone; ``ru_maxrss``). The second run's workers are
# waited for when it ends, so its children's figure is theirs, the one message's worker
# included.
FILLER = 300
_WORKERS_CHILD = (
    """
import json, resource, sys
from pathlib import Path
from mailatlas_clean import ParseLimits, ParserConfig
from mailatlas_cli import MailAtlas
"""
    + HWM_SOURCE
    + """
def children():
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
config = ParserConfig(limits=ParseLimits(time_budget_s=3600))
atlas = MailAtlas(sys.argv[2], sys.argv[3], config)
warm, run = Path(sys.argv[4]), Path(sys.argv[5])
atlas.ingest_eml(sorted(str(p) for p in warm.iterdir()))
base, workers_base = hwm(), children()
result = atlas.ingest_eml(sorted(str(p) for p in run.iterdir()) + [sys.argv[1]]).to_dict()
filler = int(sys.argv[6])
print(json.dumps({"base": base, "peak": hwm(), "workers_base": workers_base,
                  "workers_peak": children(), "ingested": result["ingested_count"] - filler,
                  "failed": result["failed_count"]}))
"""
)


def measure_workers(path: Path, home: Path, env: dict[str, str] | None = None) -> dict[str, int]:
    """Ingest ``path`` as a long run does, its parse in a worker process.

    Returns the figures of :func:`measure` for the storing process (``base``, ``peak``:
    VmHWM before and after the run holding the message), ``workers_base`` and
    ``workers_peak`` (the largest VmHWM of a worker: before, of the warm-up run's; after,
    of either run's), and ``ingested`` (the one message) and ``failed``.
    """
    home.mkdir(parents=True, exist_ok=True)
    dirs = [home / "warm-up", home / "run"]
    for folder in dirs:
        folder.mkdir(exist_ok=True)
        for index, message in enumerate(_fillers(folder.name, FILLER)):
            (folder / f"{index:04d}.eml").write_bytes(message)
    child = [sys.executable, "-c", _WORKERS_CHILD, str(path), str(home / "s.db")]
    child += [str(home / "ws"), *map(str, dirs), str(FILLER)]
    out = subprocess.run(
        [sys.executable, "-c", _PARENT, *child], stdout=subprocess.PIPE, check=True, env=env
    ).stdout
    figures: dict[str, int] = json.loads(out)
    return figures
