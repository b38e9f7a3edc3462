"""Refs of a huge ingest stay out of memory and still print as the same JSON."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from mailatlas_clean.ingest._reflog import RefLog
from mailatlas_cli._commands._output import emit_json, emit_json_streaming
from mailatlas_core import DocumentRef


def _ref(i: int) -> DocumentRef:
    return DocumentRef(
        id=f"id{i}",
        subject=f"Sübject {i}",
        source_kind="mbox",
        created_at=f"2024-01-01T00:00:{i % 60:02d}Z",
        sender_email=None,
        received_at=None,
    )


@pytest.mark.parametrize("stride", [1, 3, 256])
def test_reflog_spills_and_reads_back_in_order(stride: int) -> None:
    log = RefLog(keep_in_memory=3, stride=stride)
    refs = [_ref(i) for i in range(10)]
    for ref in refs:
        log.append(ref)
    assert len(log._memory) == 3 and log._spilled == 7  # the rest is on disk
    assert len(log._marks) == -(-7 // stride)  # one offset per stride, not per ref
    assert list(log) == refs
    assert [log[i] for i in range(10)] == refs
    assert log[0] == refs[0] and log[7] == refs[7] and log[-1] == refs[-1]
    assert list(log[2:5]) == refs[2:5]
    # Appending after reading still appends at the end.
    log.append(_ref(10))
    assert log[10] == _ref(10) and log[9] == refs[9] and len(log) == 11
    assert log == [*refs, _ref(10)]
    with pytest.raises(IndexError):
        log[11]
    log.close()


@pytest.mark.parametrize("count", [0, 1, 3, 2000])  # 2000: several 64 KB pieces
def test_streamed_json_is_identical_to_plain_json(count: int) -> None:
    import click

    items = [_ref(i).to_dict() for i in range(count)]
    data = {"status": "ok", "ingested_count": count, "document_refs": [], "failures": []}

    @click.command()
    @click.option("--stream", is_flag=True)
    def cmd(stream: bool) -> None:
        if stream:
            emit_json_streaming(data, "document_refs", iter(items))
        else:
            emit_json({**data, "document_refs": items})

    runner = CliRunner()
    plain, streamed = runner.invoke(cmd, []), runner.invoke(cmd, ["--stream"])
    assert streamed.output == plain.output
    assert json.loads(streamed.output)["document_refs"] == items


@pytest.mark.parametrize("length", [0, 2, 3, 4, 6, 9, 10, 12])
def test_reflog_truncate_keeps_a_prefix_and_appends_after_it(length: int) -> None:
    log = RefLog(keep_in_memory=3, stride=3)
    refs = [_ref(i) for i in range(10)]
    for ref in refs:
        log.append(ref)
    log.truncate(length)
    kept = refs[:length]
    assert list(log) == kept and len(log) == len(kept)
    assert list(log.iter_from(1)) == kept[1:]
    log.append(_ref(99))
    assert list(log) == [*kept, _ref(99)]
    assert log[-1] == _ref(99)
