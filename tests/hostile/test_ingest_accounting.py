"""An ingest accounts for every input: ingested + duplicate + failed == inputs.

Hypothesis draws a mix of good corpus messages, repeats of them, mutated and random
bytes, and missing files; the facade's counts, the store's rows and the recorded
failures must all agree, and a second ingest of the same inputs adds nothing. On SQLite
+ files and (heavy, fewer examples) PostgreSQL + S3.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mailatlas_cli import MailAtlas

from tests.backends import assert_consistent, shared_spec, store_rows
from tests.conftest import corpus_files

from .test_parser_properties import mutated_corpus

_CORPUS = [p for p in corpus_files() if p.suffix == ".eml" and p.stat().st_size < 40_000]

_input = st.one_of(
    st.sampled_from(_CORPUS).map(lambda p: ("bytes", p.read_bytes())),
    mutated_corpus().map(lambda raw: ("bytes", raw)),
    st.binary(max_size=300).map(lambda raw: ("bytes", raw)),
    st.just(("missing", b"")),
)


_SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,  # `request`: each example makes its own store
    ],
)
_INPUTS = st.lists(_input, min_size=1, max_size=14)


@pytest.mark.corpus
@settings(_SETTINGS, max_examples=12)
@given(_INPUTS)
def test_every_input_is_accounted_for(
    corpus_dir: Path, request: pytest.FixtureRequest, inputs: list[tuple[str, bytes]]
) -> None:
    _account("sqlite", request, inputs)


@pytest.mark.corpus
@pytest.mark.heavy
@settings(_SETTINGS, max_examples=5)  # a database and an S3 prefix per example
@given(_INPUTS)
def test_every_input_is_accounted_for_on_postgres(
    corpus_dir: Path, request: pytest.FixtureRequest, inputs: list[tuple[str, bytes]]
) -> None:
    _account("postgres", request, inputs)


def _account(backend: str, request: pytest.FixtureRequest, inputs: list[tuple[str, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as tmp, shared_spec(backend, request, Path(tmp)) as spec:
        root = Path(tmp)
        paths = []
        for i, (kind, raw) in enumerate(inputs):
            path = root / "in" / f"{i:03d}.eml"
            path.parent.mkdir(exist_ok=True)
            if kind == "bytes":
                path.write_bytes(raw)
            paths.append(path)
        with MailAtlas(spec.db, spec.workspace) as atlas:
            result = atlas.ingest_eml(paths)
            counts = (result.ingested_count, result.duplicate_count, result.failed_count)
            assert sum(counts) == len(inputs)
            assert len(result.failures) == result.failed_count
            assert len(result.refs) == result.ingested_count
            assert assert_consistent(spec) == result.ingested_count
            assert len(list(atlas.store().iter_failures())) == result.failed_count
            assert result.status == (
                "ok" if not result.failed_count else "error" if counts[:2] == (0, 0) else "partial"
            )

            again = atlas.ingest_eml(paths)
            assert again.ingested_count == 0
            assert again.duplicate_count == result.ingested_count + result.duplicate_count
            assert again.failed_count == result.failed_count
        ((locations,),) = store_rows(spec.db, "SELECT count(*) FROM locations")
        # One location per input that became (or matched) a document, never more.
        assert locations == result.ingested_count + result.duplicate_count
