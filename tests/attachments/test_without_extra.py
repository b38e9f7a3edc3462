"""Without ``mailatlas-clean[attachments]``: PDF and Office files keep their metadata and
say that text extraction is not installed; plain text, CSV and HTML are still read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .files import csv_bytes, docx_bytes, message_with

# Fresh interpreters in which the extra's packages cannot be imported: each one is
# shadowed by a package that raises ImportError, on the path of this process and of
# the processes it starts (attachments are read in an extractor process).
_MISSING = ("pypdf", "docx", "openpyxl", "defusedxml")
_CODE = """
import json, sys
from mailatlas_clean import parse_bytes
doc = parse_bytes(sys.stdin.buffer.read())
print(json.dumps({a.filename: a.text.to_dict() for a in doc.assets}))
"""


def test_office_files_say_not_installed_and_text_files_are_read(tmp_path: Path) -> None:
    for name in _MISSING:
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(f"raise ImportError('No module {name}')\n")
    path = os.pathsep.join([str(tmp_path), *sys.path])
    docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    raw = message_with(
        [
            ("a.pdf", "application/pdf", b"%PDF-1.4\n"),
            ("c.docx", docx_type, docx_bytes("hello")),
            ("s.csv", "text/csv", csv_bytes()),
        ]
    )
    proc = subprocess.run(
        [sys.executable, "-c", _CODE],
        input=raw,
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": path},
    )
    assert proc.returncode == 0, proc.stderr.decode()
    texts = json.loads(proc.stdout)
    hint = "text extraction is not installed (pip install 'mailatlas-clean[attachments]')"
    assert texts["a.pdf"] == {
        "status": "not_installed", "chars": 0, "truncated": False,
        "error": f"PDF {hint}", "extractor": None,
    }  # fmt: skip
    assert texts["c.docx"]["error"] == f"DOCX {hint}"
    assert texts["s.csv"]["status"] == "ok" and "Widget, large" in texts["s.csv"]["text"]
