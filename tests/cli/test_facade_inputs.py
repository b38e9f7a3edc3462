"""What the facade's ingest methods accept, and how its results read in a REPL."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from mailatlas_clean import parse_bytes, parse_eml
from mailatlas_cli import MailAtlas

from devkit.mailgen import write_mbox

from .conftest import make_message


@pytest.fixture
def atlas(tmp_path: Path) -> Iterator[MailAtlas]:
    with MailAtlas(tmp_path / "store" / "s.db", tmp_path / "store" / "ws") as atlas:
        yield atlas


def test_one_path_as_a_str_is_one_path(
    tmp_path: Path, atlas: MailAtlas, monkeypatch: pytest.MonkeyPatch
) -> None:
    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "a.eml").write_bytes(make_message("Wanted", "the one named"))
    (mail / "decoy.eml").write_bytes(make_message("Decoy", "never named"))
    monkeypatch.chdir(mail)
    # Read as characters, "a.eml" would name ".", the current directory, and the decoy.
    result = atlas.ingest_eml("a.eml")
    assert (result.ingested_count, result.failed_count) == (1, 0), result
    assert [ref.subject for ref in result] == ["Wanted"]


def test_path_objects_and_generators(tmp_path: Path, atlas: MailAtlas) -> None:
    mbox, eml = tmp_path / "m.mbox", tmp_path / "one.eml"
    write_mbox(mbox, 3, seed=5)
    eml.write_bytes(make_message("Alone", "body"))
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1.host").write_bytes(make_message("In a Maildir", "body"))

    assert atlas.ingest_mbox(mbox).ingested_count == 3  # a Path: was a TypeError
    assert atlas.ingest_eml(p for p in [eml]).ingested_count == 1
    assert atlas.ingest_maildir(str(maildir)).ingested_count == 1
    assert atlas.ingest_eml([str(eml), eml]).duplicate_count == 2


_WANTED = "ingest_eml() takes a path (str or os.PathLike) or an iterable of paths; got"


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        (42, f"{_WANTED} int"),
        (b"/tmp/x.eml", f"{_WANTED} bytes b'/tmp/x.eml'"),
        (["a.eml", 7], f"{_WANTED} int 7"),
        ({"a.eml": 1}.items(), f"{_WANTED} tuple ('a.eml', 1)"),
    ],
)
def test_anything_else_is_a_clear_type_error(
    atlas: MailAtlas, tmp_path: Path, paths: object, message: str
) -> None:
    with pytest.raises(TypeError) as caught:
        atlas.ingest_eml(paths)  # type: ignore[arg-type]
    assert str(caught.value) == message
    assert not (tmp_path / "store").exists()  # refused before anything was created


@pytest.mark.parametrize("method", ["ingest_eml", "ingest_mbox", "ingest_maildir"])
def test_an_empty_path_is_refused_not_read_as_the_current_directory(
    atlas: MailAtlas, method: str
) -> None:
    with pytest.raises(ValueError, match=rf"^{method}\(\) got an empty path$"):
        getattr(atlas, method)(["", "x"])
    with pytest.raises(ValueError):
        getattr(atlas, method)("")


def test_ingest_result_repr_says_what_it_holds(tmp_path: Path, atlas: MailAtlas) -> None:
    files = []
    for i in range(5):
        path = tmp_path / f"{i}.eml"
        path.write_bytes(make_message(f"Message {i}", "body", day=i + 1))
        files.append(path)
    result = atlas.ingest_eml([*files, tmp_path / "gone.eml"])
    ids = [ref.id for ref in result]
    assert repr(result) == (
        "IngestResult(status='partial', ingested_count=5, duplicate_count=0, failed_count=1, "
        f"refs=[{ids[0]!r}, {ids[1]!r}, {ids[2]!r}, … 2 more], "
        f"failures=[IngestFailure(source={str(tmp_path / 'gone.eml')!r}, error='no such file')])"
    )
    again = atlas.ingest_eml(files)
    assert repr(again) == (
        "IngestResult(status='ok', ingested_count=0, duplicate_count=5, failed_count=0, "
        "refs=[], failures=[])"
    )
    assert len(again) == 0 and again  # nothing new, yet a true summary (not a falsy list)


def test_parsed_document_repr_is_short(tmp_path: Path) -> None:
    raw = make_message("Big", "line of text\n" * 50_000, attachment=("a.bin", b"\0" * 100_000))
    doc = parse_bytes(raw)
    text = repr(doc)
    assert len(text) < 300, text
    assert text.startswith(f"ParsedDocument(id={doc.id!r}, subject='Big', ")
    assert f"raw={len(raw)} bytes" in text and "assets=1" in text
    assert repr(doc.assets[0]) == (
        "AssetData(kind='attachment', filename='a.bin', mime_type='application/octet-stream', "
        "size=100000)"
    )


def test_parsed_document_to_dict_matches_show_where_they_overlap(
    tmp_path: Path, atlas: MailAtlas
) -> None:
    eml = tmp_path / "m.eml"
    eml.write_bytes(
        make_message("Shape", "hello", html="<p>hello <b>there</b></p>", inline_png=True)
    )
    parsed = parse_eml(eml).to_dict()
    json.dumps(parsed)  # JSON-ready: no bytes anywhere
    stored = atlas.get_document(atlas.ingest_eml(eml)[0].id).to_dict()

    shared = set(parsed) & set(stored)
    assert shared == {
        "id", "message_id", "thread_id", "subject", "sender_name", "sender_email", "author",
        "received_at", "published_at", "body_text", "content_hash", "metadata", "assets",
    }  # fmt: skip
    for key in shared - {"metadata", "assets"}:
        assert parsed[key] == stored[key], key
    assert parsed["metadata"] == {k: v for k, v in stored["metadata"].items() if k != "source"}
    for mine, theirs in zip(parsed["assets"], stored["assets"], strict=True):
        assert mine == {k: theirs[k] for k in mine}
    assert parsed["raw_size"] == os.path.getsize(eml)
    assert "<b>there</b>" in parsed["body_html"]
