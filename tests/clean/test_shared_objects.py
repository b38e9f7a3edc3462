"""A message of many small parts holds a few objects per part beyond its bytes and text:
equal values are one object, and the metadata dicts of one shape share one key table.

Each of these was measured (docs/reliability.md, "many small parts"); here each must
hold on a message whose parts differ (sizes, names, texts), not only on the bench's
identical parts.
"""

from __future__ import annotations

import random

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
