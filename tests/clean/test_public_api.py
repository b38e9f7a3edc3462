"""The public API of mailatlas_clean is exactly what ``__all__`` says.

Issue 18: the package was laid out by concern; ``PathsArg`` and ``as_paths`` (the path
arguments the facade accepts) are exported on purpose for mailatlas-cli, and
``interrupts_deferred`` (a commit and its counts, whole) for mailatlas-imap's sync.
"""

from __future__ import annotations

import dataclasses

import mailatlas_clean
import pytest
from mailatlas_clean import ParseError, ParserConfig
from mailatlas_core._errors import MailAtlasError


def test_all_is_pinned() -> None:
    assert sorted(mailatlas_clean.__all__) == [
        "ExtractLimits",
        "IngestFailure",
        "IngestInterrupted",
        "IngestProgress",
        "IngestResult",
        "MessageToStore",
        "ParseBatch",
        "ParseError",
        "ParseFailure",
        "ParseJob",
        "ParseLimits",
        "ParsePool",
        "ParserConfig",
        "PathsArg",
        "RawMessage",
        "Skipped",
        "SourceItem",
        "SourceKind",
        "Stored",
        "Unreadable",
        "__version__",
        "as_paths",
        "bounded_html_pieces",
        "default_workers",
        "eml_messages",
        "extract_blob",
        "extract_file",
        "extract_text",
        "ingest_messages",
        "ingest_paths",
        "interrupts_deferred",
        "iter_eml_files",
        "iter_maildir",
        "iter_mbox",
        "known_copies_among",
        "known_copy",
        "maildir_files",
        "maildir_messages",
        "mbox_messages",
        "parse_bytes",
        "parse_eml",
        "parse_many",
        "peek_message_id",
        "register_reader",
        "store_message",
        "tally",
    ]
    for name in mailatlas_clean.__all__:
        assert hasattr(mailatlas_clean, name)


def test_parse_error_is_a_mailatlas_error_with_reason() -> None:
    error = ParseError("the input is empty")
    assert isinstance(error, MailAtlasError)
    assert error.reason == "the input is empty"
    assert str(error) == "the input is empty"


def test_parser_config_defaults_and_dict() -> None:
    assert ParserConfig().to_dict() == {
        "strip_forwarded_headers": False,
        "strip_boilerplate": False,
        "strip_link_only_lines": False,
        "stop_at_footer": False,
        "strip_invisible_chars": True,
        "normalize_whitespace": True,
    }
    config = ParserConfig(strip_boilerplate=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.strip_boilerplate = False  # type: ignore[misc]
    assert ParserConfig.from_dict(config.to_dict()) == config
    assert ParserConfig.from_dict({"stop_at_footer": True, "unknown": 1}).stop_at_footer
    with pytest.raises(TypeError):
        ParserConfig.from_dict({"stop_at_footer": "yes"})
