"""``mailatlas thread``, ``list --thread-id`` and ``export --thread`` over real mail.

The public corpus' RFC 5322 reply chain (Appendix A.2: "Saying Hello", a reply, and a
reply to the reply) must form one thread; the same corpus ingested in two orders must
give the same thread ids.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from mailatlas_cli import MailAtlas
from mailatlas_cli._main import cli
from mailatlas_core._ids import thread_id_for

from tests.backends import BACKENDS, StoreSpec, spec_for

from ..conftest import corpus_files
from .conftest import make_message

HELLO = "1234@local.machine.example"


def _by_message_id(atlas: MailAtlas, message_id: str) -> list[str]:
    return [r.id for r in atlas.list_documents(message_id=message_id)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_corpus_rfc_reply_chain_is_one_thread(
    backend: str, request: pytest.FixtureRequest, corpus_dir: Path, tmp_path: Path
) -> None:
    files = sorted((corpus_dir / "mikel-mail").glob("rfc2822__example*.eml"))
    assert len(files) >= 7
    spec = spec_for(backend, request, tmp_path, migrated=True)
    with MailAtlas(spec.db, spec.workspace) as atlas:
        atlas.ingest_eml(files)
        hellos = _by_message_id(atlas, HELLO)  # several RFC examples reuse this id
        (reply,) = (atlas.get_document(d) for d in _by_message_id(atlas, "3456@example.net"))
        (reply2,) = (
            atlas.get_document(d) for d in _by_message_id(atlas, "abcd.1234@local.machine.tld")
        )
        (lone,) = (
            atlas.get_document(d) for d in _by_message_id(atlas, "0CC5E11ED2C1D@example.com")
        )
        thread_ids = {atlas.get_document(d).thread_id for d in hellos}
        assert thread_ids == {reply.thread_id} == {reply2.thread_id}
        assert reply.thread_id == thread_id_for(HELLO, (), None, "")
        tree = atlas.get_thread(reply2.id).to_dict()
        placeholder = atlas.get_thread(lone.id).to_dict()["tree"][0]
    assert tree["message_count"] == len(hellos) + 2
    (root,) = tree["tree"]
    assert root["message_id"] == HELLO and root["missing"] is False
    assert sorted(d["id"] for d in root["documents"]) == sorted(hellos)
    (answer,) = root["replies"]
    assert answer["message_id"] == "3456@example.net"
    assert [d["id"] for d in answer["documents"]] == [reply.id]
    assert answer["replies"][0]["message_id"] == "abcd.1234@local.machine.tld"
    assert answer["replies"][0]["documents"][0]["id"] == reply2.id
    # A reply whose original is not in the corpus hangs under a placeholder.
    assert placeholder == {
        "message_id": "rid_5582199198@msgid.example.com",
        "in_reply_to": None,
        "missing": True,
        "documents": [],
        "replies": [placeholder["replies"][0]],
    }
    assert placeholder["replies"][0]["documents"][0]["id"] == lone.id


@pytest.mark.slow
def test_the_corpus_gets_the_same_thread_ids_in_any_order(corpus_dir: Path, tmp_path: Path) -> None:
    files = [p for p in corpus_files() if p.suffix == ".eml"]
    assert len(files) > 100
    maps = []
    for name, order in (("fwd", files), ("rev", list(reversed(files)))):
        with MailAtlas(tmp_path / f"{name}.db", tmp_path / f"{name}-ws") as atlas:
            atlas.ingest_eml(order)
            refs = atlas.list_documents(limit=100_000)
            # Keyed by the file each message came from: which copy of a message is
            # kept, and which of two messages sharing a Message-ID gets the plain
            # document id, depends on arrival order (ids.conflict_document_id).
            docs = [atlas.get_document(r.id) for r in refs]
            maps.append({loc.key: d.thread_id for d in docs for loc in d.locations})
    assert maps[0].keys() == maps[1].keys()
    differing = {k for k in maps[0] if maps[0][k] != maps[1][k]}
    assert not differing
    assert len(maps[0]) > len(files) * 0.9  # a few corpus files are not messages
    assert len(set(maps[0].values())) < len(docs)  # some threads have several messages


@pytest.fixture
def conversation(store_spec: StoreSpec, tmp_path: Path) -> dict[str, str]:
    """A root, a reply, and a reply to a message the store lacks; ids by name."""
    mails = {
        "root": make_message("Plans", "shall we meet?", message_id="<root@example.test>", day=1),
        "reply": make_message(
            "Re: Plans",
            "yes, *Tuesday*\n# not a heading",
            message_id="<reply@example.test>",
            day=2,
        ),
        "orphan": make_message("Re: Plans", "late to this", message_id="<orphan@x.test>", day=3),
    }
    mails["reply"] = mails["reply"].replace(
        b"Message-ID:", b"In-Reply-To: <root@example.test>\nMessage-ID:", 1
    )
    mails["orphan"] = mails["orphan"].replace(
        b"Message-ID:", b"References: <root@example.test> <gone@example.test>\nMessage-ID:", 1
    )
    ids = {}
    with MailAtlas(store_spec.db, store_spec.workspace) as atlas:
        for name, raw in mails.items():
            path = tmp_path / f"{name}.eml"
            path.write_bytes(raw)
            (ref,) = list(atlas.ingest_eml([path]))
            ids[name] = ref.id
    return ids


def test_thread_prints_the_tree_and_list_pages_it(
    runner: CliRunner, conversation: dict[str, str]
) -> None:
    result = runner.invoke(cli, ["thread", conversation["orphan"]])
    assert result.exit_code == 0, result.output
    tree = json.loads(result.stdout)
    thread_id = thread_id_for("root@example.test", (), None, "")
    assert tree["thread_id"] == thread_id
    assert tree["root"] == "root@example.test"
    assert tree["message_count"] == 3
    (root,) = tree["tree"]
    assert [d["id"] for d in root["documents"]] == [conversation["root"]]
    assert [r["message_id"] for r in root["replies"]] == ["reply@example.test", "gone@example.test"]
    gone = root["replies"][1]
    assert gone["missing"] is True
    assert gone["replies"][0]["documents"][0]["id"] == conversation["orphan"]
    # The same tree by thread id.
    again = runner.invoke(cli, ["thread", thread_id])
    assert json.loads(again.stdout) == tree
    page = runner.invoke(cli, ["list", "--thread-id", thread_id, "--limit", "2"])
    newest = [conversation["orphan"], conversation["reply"]]
    assert [r["id"] for r in json.loads(page.stdout)] == newest
    rest = runner.invoke(cli, ["list", "--thread-id", thread_id, "--limit", "2", "--offset", "2"])
    assert [r["id"] for r in json.loads(rest.stdout)] == [conversation["root"]]


def test_unknown_thread_is_a_usage_error(runner: CliRunner, conversation: dict[str, str]) -> None:
    result = runner.invoke(cli, ["thread", "f" * 32])
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: no thread or document with id '{'f' * 32}'; run `mailatlas list` to see ids\n"
    )


def test_export_thread_writes_the_conversation_in_order(
    runner: CliRunner, conversation: dict[str, str], tmp_path: Path
) -> None:
    result = runner.invoke(cli, ["export", "--thread", conversation["reply"]])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith("# Thread: Plans\n\n**Messages:** 3  \n")
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## 1. Plans", "## 2. Re: Plans", "## 3. Re: Plans"]
    assert "**In reply to:** message 1  " in text
    assert "**In reply to:** &lt;gone@example.test&gt;, not in the store  " in text
    assert "yes, \\*Tuesday\\*\n\\# not a heading" in text  # message text stays text
    out = tmp_path / "conv.md"
    written = runner.invoke(cli, ["export", "--thread", conversation["root"], "--out", str(out)])
    assert json.loads(written.stdout) == {"path": str(out)}
    assert out.read_text() == text
    bad = runner.invoke(cli, ["export", "--thread", conversation["root"], "-f", "pdf"])
    assert bad.exit_code == 2
    assert "--thread exports Markdown only" in bad.stderr
