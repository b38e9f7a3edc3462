"""Structure fidelity figures over the public corpus (issue 13), as in docs/fidelity.md.

    python bench/fidelity.py                  # corpus from $MAILATLAS_CORPUS or ../shared/corpus
    python bench/fidelity.py --corpus DIR --json

Every message is parsed with no cleaning rule and compared with the stdlib's reading of
the same bytes (``devkit/fidelity.py``, the checks tests/clean/test_corpus_fidelity.py
asserts). Prints: MIME leaves and how many ``metadata.parts`` accounts for; attachments
(named, attachment-disposed or non-text leaves) and how many are stored as assets
byte-equal to ``get_payload(decode=True)``; where leaves went; messages with MIME framing
or binary content in ``body_text``; and what the structure repairs did.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from _common import REPO

from devkit.fidelity import (
    Case,
    check_leaves_accounted,
    check_no_binary_body,
    check_no_mime_framing,
    expected_asset_bytes,
    is_attachment,
    load_case,
    read_corpus,
)

_REPAIRS = {
    "recovered multipart (boundary found in the body)": "recovered with the boundary",
    "multipart framing removed (no usable boundary)": "line(s) of MIME framing removed",
    "text part holding binary content stored as an asset": "but holds",
    "header lines repaired": "malformed header lines were repaired",
}


def _attachments(case: Case) -> tuple[int, int]:
    """(attachment leaves, of which stored as an asset byte-equal to the stdlib's)."""
    assert case.doc is not None
    by_part = {
        source["part"]: asset
        for asset, source in zip(case.doc.assets, case.doc.metadata["asset_parts"], strict=True)
    }
    total = stored = 0
    for path, part in case.leaves.items():
        if not is_attachment(part):
            continue
        total += 1
        asset = by_part.get(path)
        if asset is not None and asset.data == expected_asset_bytes(part):
            stored += 1
    return total, stored


def figures(corpus: Path) -> dict[str, Any]:
    out: Counter[str] = Counter()
    where: Counter[str] = Counter()
    repairs: Counter[str] = Counter()
    framing: list[str] = []
    for rel, raw in read_corpus(corpus):
        case = load_case(rel, raw)
        out["messages"] += 1
        if case.doc is None:
            out["not_email"] += 1
            continue
        out["mime_leaves"] += len(case.leaves)
        if "parts" in case.doc.metadata:
            unaccounted = check_leaves_accounted(case)
            out["unaccounted_leaves"] += sum("is not in metadata.parts" in p for p in unaccounted)
            where.update(entry["stored_as"] for entry in case.doc.metadata["parts"])
        total, stored = _attachments(case)
        out["attachments"] += total
        out["attachments_stored_byte_equal"] += stored
        out["assets"] += len(case.doc.assets)
        if check_no_mime_framing(case):
            framing.append(rel)
        out["binary_in_body_text"] += bool(check_no_binary_body(case))
        defects = case.doc.metadata["defects"]
        for label, needle in _REPAIRS.items():
            repairs[label] += sum(needle in d for d in defects)
        forwarded = case.doc.metadata["provenance"].get("forwarded_attachments")
        out["body_from_attached_messages"] += bool(forwarded)
    result: dict[str, Any] = dict(out)
    stored, attachments = out["attachments_stored_byte_equal"], out["attachments"] or 1
    result["attachments_stored_pct"] = round(100 * stored / attachments, 2)
    result["framing_in_body_text"] = framing
    result["stored_as"] = dict(where.most_common())
    result["repairs"] = dict(repairs)
    return result


def main() -> None:
    default = os.environ.get("MAILATLAS_CORPUS", str(REPO.parent / "shared" / "corpus"))
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpus", default=default, type=Path)
    parser.add_argument("--json", action="store_true", help="one JSON object instead of text")
    args = parser.parse_args()
    result = figures(args.corpus)
    if args.json:
        print(json.dumps(result))
        return
    print(f"messages: {result['messages']} ({result.get('not_email', 0)} not email)")
    if "unaccounted_leaves" in result:
        print(
            f"MIME leaves: {result['mime_leaves']}, unaccounted in metadata.parts: "
            f"{result['unaccounted_leaves']}"
        )
        print("stored_as: " + ", ".join(f"{k} {v}" for k, v in result["stored_as"].items()))
    print(
        f"attachments (named, attachment-disposed or non-text leaves): {result['attachments']}, "
        f"stored as assets byte-equal to the stdlib: {result['attachments_stored_byte_equal']} "
        f"({result['attachments_stored_pct']} %); assets in all: {result['assets']}"
    )
    framing = result["framing_in_body_text"]
    print(f"messages with MIME framing in body_text: {len(framing)} {framing}")
    print(f"messages with binary content in body_text: {result['binary_in_body_text']}")
    print(
        f"messages whose body_text is the text of attached messages: "
        f"{result['body_from_attached_messages']}"
    )
    print("repairs: " + ", ".join(f"{k}: {v}" for k, v in result["repairs"].items()))


if __name__ == "__main__":
    main()
