"""Text fidelity figures over the shared corpus (docs/fidelity.md, "Text").

    python bench/text_fidelity.py            # corpus from $MAILATLAS_CORPUS or ../shared/corpus

Parses every message (default ParserConfig) next to the stdlib's decoding of the same
bytes and prints: messages whose subject, sender, or both agree with the stdlib
(devkit/text_fidelity.py says what "agree" means), and messages with U+FFFD or mojibake
in a field where the stdlib's decoding has none. Every disagreement is listed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from _common import REPO
from mailatlas_clean import ParseError, iter_mbox, parse_bytes

from devkit.text_fidelity import (
    check_no_mojibake,
    check_sender_agrees,
    check_subject_agrees,
    text_reference,
)


def _messages(corpus: Path) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    for path in sorted(p for p in corpus.rglob("*") if p.suffix in {".eml", ".mbox", ".msg"}):
        rel = path.relative_to(corpus).as_posix()
        if path.suffix == ".mbox":
            out.extend((f"{rel}#{i}", m.raw) for i, m in enumerate(iter_mbox(path)))
        else:
            out.append((rel, path.read_bytes()))
    return out


def main() -> int:
    corpus = Path(os.environ.get("MAILATLAS_CORPUS", REPO.parent / "shared" / "corpus"))
    messages = _messages(corpus)
    parsed = subject_ok = sender_ok = both_ok = clean = 0
    notes: list[str] = []
    for rel, raw in messages:
        try:
            doc = parse_bytes(raw)
        except ParseError:
            continue
        parsed += 1
        ref = text_reference(raw)
        subject, sender = check_subject_agrees(doc, ref), check_sender_agrees(doc, ref)
        mojibake = check_no_mojibake(doc, ref)
        subject_ok += not subject
        sender_ok += not sender
        both_ok += not subject and not sender
        clean += not mojibake
        notes.extend(f"  {rel}: {problem}" for problem in subject + sender + mojibake)
    print(f"corpus: {corpus} ({len(messages)} messages, {parsed} parsed)")
    for label, count in (
        ("subject agrees with the stdlib", subject_ok),
        ("sender agrees with the stdlib", sender_ok),
        ("subject and sender agree", both_ok),
        ("no U+FFFD/mojibake where the stdlib has none", clean),
    ):
        print(f"{label}: {count}/{parsed} = {100 * count / parsed:.2f}%")
    print("\n".join(notes) if notes else "no disagreement")
    return 0


if __name__ == "__main__":
    sys.exit(main())
