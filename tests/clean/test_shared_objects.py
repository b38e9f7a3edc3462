"""A message of many small parts holds a few objects per part beyond its bytes and text:
equal values are one object, and the metadata dicts of one shape share one key table.

Each of these was measured (docs/reliability.md, "many small parts"); here each must
hold on a message whose parts differ (sizes, names, texts), not only on the bench's
identical parts.
"""

from __future__ import annotations

import json
import random
import tracemalloc
from typing import cast

from mailatlas_clean import parse_bytes
from mailatlas_clean.parser._keyshare import KeySharing
from mailatlas_clean.parser._mime import walk_message
from mailatlas_clean.parser._multipart import read_tree
from mailatlas_clean.parser._rawbody import RawBodyMessage

_WORDS = ("alpha", "beta", "gamma", "delta", "epsilon")


def _many_parts(count: int, *, long_value: bool = False) -> bytes:
    """A multipart/mixed message of ``count`` text attachments of different sizes and
    names (a few sizes repeat), above the size read by offset (64 KB)."""
    rnd = random.Random(count)
    out = [
        b"From: a@example.com\nTo: b@example.com\nSubject: s\nMessage-ID: <many@x>\n"
        b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n"
    ]
    for index in range(count):
        words = [rnd.choice(_WORDS) + str(rnd.randint(0, 99)) for _ in range(rnd.randint(40, 60))]
        name = f"file{index}.txt" if not long_value else f"{'x' * 240}{index}.txt"
        out.append(
            b"--B\nContent-Type: text/plain\n"
            + f"Content-Disposition: attachment; filename={name}\n\n".encode()
            + " ".join(words).encode()
            + b"\n"
        )
    out.append(b"--B--\n")
    return b"".join(out)


def _held_by(entries: list[dict[str, object]]) -> tuple[int, int]:
    """Bytes that ``entries`` (made while tracemalloc traced) hold of their own (their
    values are held elsewhere too), and the bytes ordinary copies of them take."""
    before = tracemalloc.get_traced_memory()[0]
    copies = [dict(entry) for entry in entries]
    plain = tracemalloc.get_traced_memory()[0] - before
    before = tracemalloc.get_traced_memory()[0]
    entries.clear()
    own = before - tracemalloc.get_traced_memory()[0]
    assert len(copies) > 0
    return own, plain


def _entry(index: int) -> dict[str, object]:
    return {"part": str(index), "size": index, "name": None}


def test_a_key_sharing_dict_is_the_same_dict_in_less_memory() -> None:
    sharing = KeySharing("Entry")
    tracemalloc.start()
    try:
        shared = [sharing.shared(_entry(i)) for i in range(2000)]
        for index, entry in enumerate(shared):
            assert type(entry) is dict
            assert entry == _entry(index)
            assert list(entry) == list(_entry(index))
            assert json.dumps(entry) == json.dumps(_entry(index))
        own, plain = _held_by(shared)
    finally:
        tracemalloc.stop()
    assert own < 0.75 * plain, (own, plain)
    again = sharing.shared(_entry(1))
    again["extra"] = 1  # still an ordinary dict to change
    assert again == {**_entry(1), "extra": 1}


def test_the_metadata_entries_of_many_parts_share_their_key_tables() -> None:
    tracemalloc.start()
    try:
        doc = parse_bytes(_many_parts(300))
        parts, asset_parts = doc.metadata["parts"], doc.metadata["asset_parts"]
        assert len(parts) == len(asset_parts) == 300
        assert parts[7] == {
            "part": "8",
            "content_type": "text/plain",
            "disposition": "attachment",
            "filename": "file7.txt",
            "size": len(doc.assets[7].data),
            "stored_as": "asset",
            "asset": 7,
        }
        assert asset_parts[7] == {"filename": "file7.txt", "part": "8", "message": None}
        for entries in (parts, asset_parts):
            own, plain = _held_by(cast(list[dict[str, object]], entries))
            assert own < 0.75 * plain, (own, plain)
    finally:
        tracemalloc.stop()


def test_equal_sizes_and_text_lengths_are_one_int() -> None:
    doc = parse_bytes(_many_parts(300))
    sizes: dict[int, int] = {}
    repeated = 0
    for entry in doc.metadata["parts"]:
        size = entry["size"]
        assert size > 256  # not one of the interpreter's own small ints
        if size in sizes:
            repeated += 1
            assert size is sizes[size]
        sizes.setdefault(size, size)
    assert repeated > 50  # distinct parts, some of one size
    chars: dict[int, int] = {}
    for asset in doc.assets:
        assert asset.text is not None and asset.text.status == "ok"
        count = asset.text.chars
        assert count is chars.setdefault(count, count)


def test_the_part_tree_shares_short_header_names_and_values() -> None:
    tree = read_tree(_many_parts(300), by_offset=True)
    assert isinstance(tree, RawBodyMessage)
    first, second = tree.get_payload()[:2]
    names = [name for name, _value in first.raw_items()]
    assert names == ["Content-Type", "Content-Disposition"]
    for name, (name2, _value) in zip(names, second.raw_items(), strict=True):
        assert name is name2
    assert first["content-type"] is second["content-type"]  # "text/plain" in both
    assert first["content-disposition"] != second["content-disposition"]


def test_long_header_values_are_not_kept_for_sharing() -> None:
    tree = read_tree(_many_parts(2, long_value=True), by_offset=True)
    assert isinstance(tree, RawBodyMessage)
    first, second = tree.get_payload()[:2]
    value = str(first["content-disposition"])
    assert len(value) > 200
    again = read_tree(_many_parts(2, long_value=True), by_offset=True)
    assert isinstance(again, RawBodyMessage)
    assert again.get_payload()[0]["content-disposition"] == value
    assert again.get_payload()[0]["content-disposition"] is not first["content-disposition"]
    assert second["content-type"] is again.get_payload()[1]["content-type"]  # short: shared


def test_the_manifest_takes_the_walk_records() -> None:
    # Each record is let go as its entry is made: a message of many parts never holds
    # every record beside every entry (the peak of the metadata's making).
    tree = read_tree(_many_parts(3), by_offset=True)
    assert tree is not None
    content = walk_message(tree)
    assert len(content.parts) == 3
    entries = content.take_manifest()
    assert content.parts == []
    assert [(e["part"], e.get("asset"), e["filename"]) for e in entries] == [
        ("1", 0, "file0.txt"),
        ("2", 1, "file1.txt"),
        ("3", 2, "file2.txt"),
    ]
