"""Flag names as the store keeps them (the store side: tests/contract/test_live_locations.py)."""

from __future__ import annotations

from mailatlas_core._flags import has_flag, normalize_flags, split_flags


def test_normalize_flags():
    got = normalize_flags([b"\\SEEN", b"$Label1", b"\\Recent", b"$label1", b"\\flagged", b""])
    assert got == ("$Label1", "\\Flagged", "\\Seen")
    assert normalize_flags([b"a b", b"x" * 500, b"ok"]) == ("ok",)
    assert len(normalize_flags(f"k{i}".encode() for i in range(1000))) == 100
    assert split_flags(got) == (("\\Flagged", "\\Seen"), ("$Label1",))
    assert has_flag(got, "\\seen") and not has_flag(got, "\\Draft")
