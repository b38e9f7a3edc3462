"""Benchmark: parse time against message size for hostile and ordinary shapes.

    python bench/scaling.py                  # 100 KB .. 3.2 MB, doubling
    python bench/scaling.py --max-kb 800     # a quicker run

For each shape the message is parsed (parse_bytes, default cleaning, all six rules on
for "text, all rules") at every size; it prints the CPU time of the parse and the ratio
to the previous size. Linear work doubles (ratio ~2); quadratic work quadruples. The
shapes are the CPU bombs of issue 11 (a line of spaces before a character, in text and
in HTML; a To: of spaces; nested <div>; a punycode body) next to ordinary text and
tag-dense HTML.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mailatlas_clean import ParserConfig, parse_bytes  # noqa: E402

HEAD = b"From: a@example.com\nSubject: s\nMessage-ID: <s@x>\n"
LINE = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\n"
ALL_RULES = ParserConfig(
    strip_forwarded_headers=True,
    strip_boilerplate=True,
    strip_link_only_lines=True,
    stop_at_footer=True,
)

SHAPES: dict[str, Callable[[int], bytes]] = {
    "spaces then x (text)": lambda n: HEAD + b"\n" + b" " * n + b"x\n",
    "spaces then tab (html)": lambda n: (
        HEAD + b"Content-Type: text/html\n\n<p>x" + b" " * n + b"\tx</p>\n"
    ),
    "To: of spaces": lambda n: b"From: a@example.com\nTo: a" + b" " * n + b"x\n\nbody\n",
    "nested <div>": lambda n: HEAD + b"Content-Type: text/html\n\n" + b"<div>" * (n // 5),
    "punycode body": lambda n: (
        HEAD + b"Content-Type: text/plain; charset=punycode\n\n" + b"a" * n + b"-bc\n"
    ),
    "text": lambda n: HEAD + b"\n" + LINE * (n // len(LINE)),
    "text, all rules": lambda n: HEAD + b"\n" + LINE * (n // len(LINE)),
    "tag-dense html": lambda n: HEAD + b"Content-Type: text/html\n\n" + b"<b>x</b>" * (n // 8),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-kb", type=int, default=100)
    parser.add_argument("--max-kb", type=int, default=3200)
    args = parser.parse_args()
    sizes = []
    kb = args.min_kb
    while kb <= args.max_kb:
        sizes.append(kb)
        kb *= 2
    print(f"{'shape':<24}" + "".join(f"{s:>8} KB" for s in sizes) + "   (CPU s, ratio to previous)")
    for name, build in SHAPES.items():
        config = ALL_RULES if name == "text, all rules" else ParserConfig()
        cells = []
        previous = None
        for size in sizes:
            raw = build(size * 1024)
            start = time.process_time()
            parse_bytes(raw, config)
            spent = time.process_time() - start
            ratio = f"x{spent / previous:.1f}" if previous else ""
            cells.append(f"{spent:6.2f}{ratio:>5}")
            previous = max(spent, 1e-3)
        print(f"{name:<24}" + " ".join(cells), flush=True)


if __name__ == "__main__":
    main()
