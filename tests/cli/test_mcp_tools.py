"""The MCP tool table, in this process (no server process): every ``list`` filter is a
``search`` argument, each tool's arguments are its function's, typed, and the tools
serve a store opened from a ``postgresql://`` URL as they serve a SQLite file."""

from __future__ import annotations

import asyncio
import inspect
import json
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from mailatlas_cli import MailAtlas
from mailatlas_core import StoreError

from tests.backends import read_located

from .conftest import make_message


def _schemas(tmp_path: Path) -> dict[str, Any]:
    from mailatlas_cli._mcp._server import build_server
    from mcp import Client

    server = build_server(MailAtlas(tmp_path / "s.db", tmp_path / "ws"), allow_sync=True)

    async def main() -> dict[str, Any]:
        async with Client(server) as client:
            return {t.name: t.input_schema for t in (await client.list_tools()).tools}

    return asyncio.run(asyncio.wait_for(main(), timeout=60))


def test_search_takes_every_filter_of_list(tmp_path: Path) -> None:
    schemas = _schemas(tmp_path)
    filters = list(inspect.signature(MailAtlas.count_documents).parameters)[1:]
    missing = set(filters) - set(schemas["search"]["properties"])
    assert not missing, f"add the schema of {sorted(missing)} to search in _mcp/_server.py"
    assert set(schemas["search"]["properties"]) == {*filters, "limit", "cursor"}
    assert schemas["search"]["properties"]["date_field"]["default"] == "sent"
    assert schemas["search"]["properties"]["limit"]["default"] == 20
    assert schemas["sync"] == {
        "properties": {
            "account": {"maxLength": 200, "minLength": 1, "title": "Account", "type": "string"}
        },
        "required": ["account"],
        "title": "syncArguments",
        "type": "object",
    }  # the accounts file is the server's setting, never a client's argument
    assert schemas["get_attachment"]["required"] == ["asset_id"]
    assert set(schemas["get_attachment"]["properties"]) == {"asset_id", "cursor", "max_chars"}


@pytest.mark.heavy
def test_the_tools_serve_a_store_opened_from_a_postgresql_url(pg_url: str, tmp_path: Path) -> None:
    # What `mailatlas mcp --db postgresql://...` serves: the facade of that URL.
    from mailatlas_cli._mcp._server import build_server
    from mcp import Client

    csv = make_message("Figures", "numbers attached", attachment=("f.csv", b"zanzibar,42\n"))
    plain = make_message("Zanzibar trip", "we land in zanzibar at noon", day=2)
    for name, raw in (("csv.eml", csv), ("plain.eml", plain)):
        (tmp_path / name).write_bytes(raw)
    atlas = MailAtlas(pg_url, tmp_path / "workspace")
    refs = atlas.ingest_eml([tmp_path / "csv.eml", tmp_path / "plain.eml"])
    assert len(refs) == 2

    async def main() -> list[Any]:
        async with Client(build_server(atlas)) as client:
            found = _data(await client.call_tool("search", {"query": "zanzibar"}))
            doc_id = next(d["id"] for d in found["documents"] if d["subject"] == "Figures")
            doc = _data(await client.call_tool("get_document", {"document_id": doc_id}))
            (asset,) = doc["assets"]
            text = _data(await client.call_tool("get_attachment", {"asset_id": asset["id"]}))
            stats = _data(await client.call_tool("stats", {}))
            return [found, doc, text, stats]

    try:
        found, doc, text, stats = asyncio.run(asyncio.wait_for(main(), timeout=60))
    finally:
        atlas.close()
    hits = {d["subject"]: d["matched_in"] for d in found["documents"]}
    assert hits == {"Zanzibar trip": ["body"], "Figures": ["attachment"]}  # newest first
    assert [d["subject"] for d in found["documents"]] == ["Zanzibar trip", "Figures"]
    assert doc["headers"]["subject"] == "Figures" and doc["body_text"].startswith("numbers")
    assert "zanzibar" in text["text"] and text["filename"] == "f.csv"
    assert stats["documents"] == 2


@pytest.mark.heavy
def test_export_document_on_an_s3_workspace_is_there_when_its_address_is_returned(
    pg_store_url: str, s3_workspace: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mailatlas_cli._mcp import _tools

    (tmp_path / "m.eml").write_bytes(make_message("Quarterly numbers", "up by a tenth"))
    with MailAtlas(pg_store_url, s3_workspace) as atlas:
        (ref,) = atlas.ingest_eml([tmp_path / "m.eml"])
        for fmt, ext in (("markdown", "md"), ("json", "json"), ("html", "html")):
            where = _tools.export_document(atlas, ref.id, format=fmt).data["path"]
            assert where == f"{s3_workspace}/exports/{ref.id}.{ext}"
            assert "Quarterly numbers" in read_located(where).decode()
    # The PUT's error is the tool's error (an S3 store's PUTs may run in the background):
    # never an address of an export that was not written. (A Markdown export reads no
    # blob, so only the PUT meets the refused key.)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-key")
    with (
        MailAtlas(pg_store_url, s3_workspace) as atlas,
        pytest.raises(StoreError, match=r"exports/"),
    ):
        _tools.export_document(atlas, ref.id, format="markdown")


def _data(result: Any) -> Any:
    (content,) = result.content
    assert not result.is_error, content.text
    return json.loads(content.text.split('">\n', 1)[1].rsplit("\n</untrusted-mail-data", 1)[0])


def _hostile_store(tmp_path: Path) -> tuple[MailAtlas, dict[str, str]]:
    """Messages whose headers and parts are legal but huge: a 150,000-character subject
    and a References header of 20,000 ids; 250 attachments."""
    long_subject = EmailMessage()
    long_subject["From"] = "a@example.test"
    long_subject["Subject"] = "S" * 150_000
    long_subject["Message-ID"] = "<long-subject@example.test>"
    long_subject["References"] = " ".join(f"<r{i}@example.test>" for i in range(20_000))
    long_subject.set_content("a short body")
    many = EmailMessage()
    many["From"] = "a@example.test"
    many["Subject"] = "many files"
    many["Message-ID"] = "<many@example.test>"
    many.set_content("see the files")
    for i in range(250):
        many.add_attachment(b"x", "application", "octet-stream", filename=f"{i}.bin")
    atlas = MailAtlas(tmp_path / "s.db", tmp_path / "ws")
    ids = {}
    for name, message in (("long", long_subject), ("many", many)):
        path = tmp_path / f"{name}.eml"
        path.write_bytes(bytes(message))
        (ref,) = atlas.ingest_eml([path])
        ids[name] = ref.id
    return atlas, ids


def test_huge_headers_and_many_files_are_cut_or_paged_never_a_failed_call(
    tmp_path: Path,
) -> None:
    # A message may carry a subject, a References list or a file list of any size: the
    # tools still answer, each long field cut with a marker and the assets in pages.
    from mailatlas_cli._mcp._server import build_server
    from mcp import Client

    atlas, ids = _hostile_store(tmp_path)

    async def main() -> dict[str, Any]:
        async with Client(build_server(atlas)) as client:
            out: dict[str, Any] = {
                "search": await client.call_tool("search", {"limit": 100}),
                "long": await client.call_tool("get_document", {"document_id": ids["long"]}),
                "thread": await client.call_tool("get_thread", {"thread_id": ids["long"]}),
                "many": await client.call_tool("get_document", {"document_id": ids["many"]}),
            }
            cursor = _trusted(out["many"])["assets"]["next_cursor"]
            out["many2"] = await client.call_tool(
                "get_document", {"document_id": ids["many"], "assets_cursor": cursor}
            )
            cursor = _trusted(out["many2"])["assets"]["next_cursor"]
            out["many3"] = await client.call_tool(
                "get_document", {"document_id": ids["many"], "assets_cursor": cursor}
            )
            return out

    try:
        out = asyncio.run(asyncio.wait_for(main(), timeout=60))
    finally:
        atlas.close()
    cut = "S" * 2000 + "[... cut by MailAtlas: 148000 more characters]"
    assert {d["subject"] for d in _data(out["search"])["documents"]} == {cut, "many files"}
    long = _data(out["long"])
    assert long["headers"]["subject"] == cut and long["body_text"] == "a short body"
    references = long["headers"]["references"]
    assert references[:100] == [f"r{i}@example.test" for i in range(100)]
    assert references[100:] == ["[... cut by MailAtlas: 19900 more items]"]
    thread = _data(out["thread"])
    assert thread["messages"][0]["subject"] == cut and thread["message_count"] == 1
    pages = [_data(out[k])["assets"] for k in ("many", "many2", "many3")]
    assert [a["filename"] for page in pages for a in page] == [f"{i}.bin" for i in range(250)]
    assert [_trusted(out[k])["assets"] for k in ("many", "many2", "many3")] == [
        {"assets": 250, "range": [0, 100], "next_cursor": "o:100"},
        {"assets": 250, "range": [100, 200], "next_cursor": "o:200"},
        {"assets": 250, "range": [200, 250], "next_cursor": None},
    ]


def test_a_result_over_the_size_bound_is_a_plain_tool_error(tmp_path: Path) -> None:
    # 50,000 '<' become 300,000 characters once escaped: over the bound, the call says
    # so in one line and how to ask for less (it used to say only "Error executing tool").
    from mailatlas_cli._mcp._server import build_server
    from mcp import Client

    (tmp_path / "m.eml").write_bytes(make_message("brackets", "<" * 60_000))
    atlas = MailAtlas(tmp_path / "s.db", tmp_path / "ws")
    (ref,) = atlas.ingest_eml([tmp_path / "m.eml"])

    async def main() -> list[Any]:
        async with Client(build_server(atlas)) as client:
            args = {"document_id": ref.id, "max_chars": 50_000}
            big = await client.call_tool("get_document", args)
            small = await client.call_tool("get_document", {**args, "max_chars": 20_000})
            return [big, small]

    try:
        big, small = asyncio.run(asyncio.wait_for(main(), timeout=60))
    finally:
        atlas.close()
    assert big.is_error
    (content,) = big.content
    assert "over MailAtlas's 200000" in content.text and "smaller max_chars" in content.text
    assert _data(small)["body_text"] == "<" * 20_000


def _trusted(result: Any) -> Any:
    (content,) = result.content
    line = content.text.rsplit("\n", 1)[1]
    assert line.startswith("MailAtlas paging (trusted): "), line
    return json.loads(line.split(": ", 1)[1])


def test_search_and_get_thread_page_by_cursor(tmp_path: Path) -> None:
    # 105 replies to one (missing) root: search pages them 40 at a time and get_thread
    # 100 at a time, each page's next_cursor leading to the rest, nothing twice.
    from mailatlas_cli._mcp._server import build_server
    from mcp import Client

    paths = []
    for i in range(105):
        reply = EmailMessage()
        reply["From"] = "a@example.test"
        reply["Subject"] = f"reply {i:03d}"
        reply["Message-ID"] = f"<m{i}@example.test>"
        reply["In-Reply-To"] = "<root@example.test>"
        reply["Date"] = f"Mon, 1 Jan 2024 10:{i // 60:02d}:{i % 60:02d} +0000"
        reply.set_content(f"pagingword {i}")
        paths.append(tmp_path / f"{i}.eml")
        paths[-1].write_bytes(bytes(reply))
    atlas = MailAtlas(tmp_path / "s.db", tmp_path / "ws")
    atlas.ingest_eml(paths)

    async def main() -> tuple[list[Any], list[Any]]:
        async with Client(build_server(atlas)) as client:
            found, cursor = [], None
            while True:
                args: dict[str, Any] = {"query": "pagingword", "limit": 40}
                if cursor:
                    args["cursor"] = cursor
                result = await client.call_tool("search", args)
                found.append((_data(result), _trusted(result)))
                if not (cursor := found[-1][1]["next_cursor"]):
                    break
            thread_id = found[0][0]["documents"][0]["id"]
            first = await client.call_tool("get_thread", {"thread_id": thread_id})
            more = {"thread_id": thread_id, "cursor": _trusted(first)["next_cursor"]}
            second = await client.call_tool("get_thread", more)
            return found, [(_data(first), _trusted(first)), (_data(second), _trusted(second))]

    try:
        found, thread = asyncio.run(asyncio.wait_for(main(), timeout=60))
    finally:
        atlas.close()
    assert [t for _d, t in found] == [
        {"returned": 40, "offset": 0, "next_cursor": "o:40"},
        {"returned": 40, "offset": 40, "next_cursor": "o:80"},
        {"returned": 25, "offset": 80, "next_cursor": None},
    ]
    subjects = [doc["subject"] for data, _t in found for doc in data["documents"]]
    assert subjects == [f"reply {i:03d}" for i in reversed(range(105))]  # newest first
    (page1, trusted1), (page2, trusted2) = thread
    assert trusted1 == {"offset": 0, "next_cursor": "o:100"} and "tree" not in page1
    assert trusted2 == {"offset": 100, "next_cursor": None}
    assert page1["message_count"] == page2["message_count"] == 105
    in_order = [m["subject"] for m in page1["messages"] + page2["messages"]]
    assert in_order == [f"reply {i:03d}" for i in range(105)]


def test_list_folders_pages_by_cursor(tmp_path: Path) -> None:
    # An account can have hundreds of labels: list_folders pages them, none cut away
    # (stats, unpaged, leaves them out then).
    from mailatlas_clean import parse_bytes
    from mailatlas_cli._mcp._server import build_server
    from mailatlas_core import SourceLocation, open_store
    from mcp import Client

    store = open_store(tmp_path / "s.db", tmp_path / "ws")
    try:
        for i in range(130):
            raw = make_message(f"labelled {i}", "body", message_id=f"<l{i}@example.test>")
            where = SourceLocation(
                "imap", host="imap.example.test", port=993, username="u",
                folder=f"Label {i:03d}", uid=1, uidvalidity=1,
            )  # fmt: skip
            store.add(parse_bytes(raw), where)
    finally:
        store.close()
    atlas = MailAtlas(tmp_path / "s.db", tmp_path / "ws")

    async def main() -> list[Any]:
        async with Client(build_server(atlas)) as client:
            first = await client.call_tool("list_folders", {})
            more = {"cursor": _trusted(first)["next_cursor"]}
            second = await client.call_tool("list_folders", more)
            stats = await client.call_tool("stats", {})
            return [(_data(r), _trusted(r)) for r in (first, second, stats)]

    try:
        (page1, trusted1), (page2, trusted2), (stats, said) = asyncio.run(
            asyncio.wait_for(main(), 60)
        )
    finally:
        atlas.close()
    # stats leaves the folders to list_folders past a page of them, and says so.
    assert "by_folder" not in stats and stats["documents"] == 130
    assert said == {"by_folder": "left out: 130 folders; list_folders pages them"}
    assert trusted1 == {"folders": 130, "offset": 0, "next_cursor": "o:100"}
    assert trusted2 == {"folders": 130, "offset": 100, "next_cursor": None}
    names = [f["folder"] for f in page1["folders"] + page2["folders"]]
    assert names == [f"Label {i:03d}" for i in range(130)]
    assert {f["documents"] for f in page1["folders"] + page2["folders"]} == {1}
