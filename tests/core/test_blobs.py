"""The local blob store: keys, atomic private writes, and what it refuses to touch."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from mailatlas_core import _files as files
from mailatlas_core._blobs import LocalBlobStore, check_key
from mailatlas_core._errors import BlobNotFoundError, UnsafePathError


@pytest.fixture
def blobs(tmp_path: Path) -> LocalBlobStore:
    store = LocalBlobStore(tmp_path / "ws")
    store.prepare()
    return store


def test_put_get_round_trip_private_and_atomic(blobs: LocalBlobStore) -> None:
    blobs.put("raw/abc.eml", b"one")
    blobs.put("raw/abc.eml", b"two")  # replaced in place
    blobs.put("assets/doc/a.png", b"\x89PNG")  # the document's directory is made on demand
    assert blobs.get("raw/abc.eml") == b"two"
    with blobs.open("assets/doc/a.png") as fh:
        assert fh.read() == b"\x89PNG"
    assert blobs.exists("raw/abc.eml") and not blobs.exists("raw/none.eml")
    assert blobs.size("raw/abc.eml") == 3
    root = blobs.root
    assert stat.S_IMODE((root / "raw" / "abc.eml").stat().st_mode) == 0o600
    assert stat.S_IMODE((root / "assets" / "doc").stat().st_mode) == 0o700
    assert list((root / "tmp").iterdir()) == []  # written via tmp/, renamed into place
    assert blobs.locate("raw/abc.eml") == str(root / "raw" / "abc.eml")
    assert blobs.total_bytes() == 3 + 4


@pytest.mark.parametrize(
    "key", ["../x", "raw/../../x", "/etc/passwd", "raw//x", "raw/a\\b", "raw/nul\x00", "", "raw/."]
)
def test_unsafe_keys_are_refused(blobs: LocalBlobStore, key: str) -> None:
    with pytest.raises(UnsafePathError):
        check_key(key)
    with pytest.raises(UnsafePathError):
        blobs.put(key, b"x")
    # Once raw/ is verified, writes there take a fast path: it refuses the same keys.
    blobs.put("raw/first.eml", b"x")
    assert blobs.workspace.verified_file("raw", "first.eml") is not None
    with pytest.raises(UnsafePathError):
        blobs.put(key, b"x")
    assert not (blobs.root.parent / "x").exists()
    assert sorted(p.name for p in (blobs.root / "raw").iterdir()) == ["first.eml"]


def test_missing_blob_is_blob_not_found(blobs: LocalBlobStore) -> None:
    with pytest.raises(BlobNotFoundError):
        blobs.get("raw/missing.eml")
    with pytest.raises(BlobNotFoundError):
        blobs.size("raw/missing.eml")
    assert blobs.delete("raw/missing.eml") is None


def test_links_are_never_followed(blobs: LocalBlobStore, tmp_path: Path) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    (blobs.root / "raw" / "link.eml").symlink_to(precious)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        blobs.get("raw/link.eml")
    assert not blobs.exists("raw/link.eml")
    with pytest.raises(UnsafePathError, match="not a regular file MailAtlas wrote"):
        blobs.delete("raw/link.eml")
    assert precious.read_text() == "keep me"
    # A planted directory link cannot redirect a write out of the workspace.
    outside = tmp_path / "outside"
    outside.mkdir()
    (blobs.root / "assets" / "doc").symlink_to(outside)
    with pytest.raises(UnsafePathError):
        blobs.put("assets/doc/a.txt", b"x")
    assert list(outside.iterdir()) == []
    blobs.clear("assets/doc")  # the link goes (not its target); a fresh write works
    blobs.put("assets/doc/a.txt", b"x")
    assert not os.path.islink(blobs.root / "assets" / "doc")
    assert list(outside.iterdir()) == []


def test_delete_and_release(blobs: LocalBlobStore) -> None:
    blobs.put("assets/doc/a.txt", b"abc")
    assert blobs.delete("assets/doc/a.txt") == 3
    assert blobs.release("assets/doc") is None
    assert not (blobs.root / "assets" / "doc").exists()
    blobs.put("assets/doc2/a.txt", b"abc")
    (blobs.root / "assets" / "doc2" / "mine.txt").write_text("the user's")
    blobs.delete("assets/doc2/a.txt")
    assert blobs.release("assets/doc2") == "holds files MailAtlas did not write"
    assert (blobs.root / "assets" / "doc2" / "mine.txt").read_text() == "the user's"


def test_reading_creates_nothing(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "ws")
    with pytest.raises(BlobNotFoundError):
        blobs.get("raw/x.eml")
    assert not (tmp_path / "ws").exists()


def test_a_new_blob_never_has_a_temp_name(blobs: LocalBlobStore) -> None:
    """A new blob is an unnamed O_TMPFILE linked in whole: no temp name ever exists, and
    a second put of the key (the name taken) replaces it through tmp/ as before."""
    seen: list[list[str]] = []
    real_link = os.link

    def watching_link(*args: object, **kwargs: object) -> None:
        seen.append(sorted(os.listdir(blobs.root / "raw")) + os.listdir(blobs.root / "tmp"))
        real_link(*args, **kwargs)  # type: ignore[arg-type]

    os.link = watching_link  # type: ignore[assignment]
    try:
        blobs.put("raw/new.eml", b"whole")
    finally:
        os.link = real_link
    assert seen == [[]]  # just before the link: nothing under any name
    assert (blobs.root / "raw" / "new.eml").read_bytes() == b"whole"
    blobs.put("raw/new.eml", b"again")  # the name exists: replaced, never linked over
    assert blobs.get("raw/new.eml") == b"again"
    assert stat.S_IMODE((blobs.root / "raw" / "new.eml").stat().st_mode) == 0o600
    assert os.listdir(blobs.root / "tmp") == []


def test_without_o_tmpfile_writes_go_through_tmp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A system without O_TMPFILE (another kernel or file system) still writes every blob
    atomically, through a temp file in tmp/ renamed into place."""
    monkeypatch.setattr(files, "_TMPFILE", 0)
    dir_fd = os.open(tmp_path, files.DIR_FLAGS)
    try:
        assert files.link_new_at(dir_fd, "x", b"x") is None
    finally:
        os.close(dir_fd)
    blobs = LocalBlobStore(tmp_path / "ws")
    blobs.prepare()
    renamed: list[str] = []
    real_replace = os.replace

    def watching_replace(src: str, dst: str, **kwargs: object) -> None:
        renamed.append(os.path.basename(src))
        real_replace(src, dst, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", watching_replace)
    blobs.put("raw/a.eml", b"aaa")
    blobs.put("html/b.html", b"<p>b</p>")
    assert renamed == [f".a.eml.{os.getpid()}.tmp", f".b.html.{os.getpid()}.tmp"]
    assert blobs.get("raw/a.eml") == b"aaa" and blobs.get("html/b.html") == b"<p>b</p>"
    assert stat.S_IMODE((blobs.root / "raw" / "a.eml").stat().st_mode) == 0o600
    assert os.listdir(blobs.root / "tmp") == []
