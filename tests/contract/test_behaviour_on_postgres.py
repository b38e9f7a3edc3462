"""The existing behaviour tests, run again on PostgreSQL + S3.

The tests imported here are the store, dedupe, Message-ID conflict, IMAP sync and
UIDVALIDITY tests of tests/core and tests/integration that use only the public ``Store``
protocol. Imported into this module, pytest collects them again, and their ``store``
fixture is this module's: a fresh PostgreSQL database and S3 prefix (real servers). On
SQLite they already run where they are defined.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mailatlas_core import Store, open_store

from tests.core.test_message_id_conflicts import (
    test_copies_of_either_message_stay_duplicates,
    test_each_header_and_the_body_tell_messages_apart,
    test_the_probe_matches_headers_and_size_only,
)
from tests.core.test_store import (
    test_a_rejected_add_inside_a_batch_costs_only_itself,
    test_cursor_roundtrip_holds_no_secret,
    test_dedupe_does_not_depend_on_cleaning,
    test_duplicate_by_content_hash_without_message_id,
    test_full_text_search,
    test_get_unknown_document,
    test_known_and_known_message_ids,
    test_list_newest_first_with_paging_and_filters,
    test_search_syntax_or_prefix_phrase_not,
    test_show_serialisation_has_every_field_of_record,
    test_threads_are_linked_when_stored,
    test_transaction_rolls_back_rows_together,
)
from tests.integration.conftest import dovecot, mailbox
from tests.integration.test_faults import (
    test_all_folders_missing_is_an_error,
    test_parse_workers_give_the_same_result,
    test_unknown_folder_next_to_good_ones,
)
from tests.integration.test_sync import (
    test_first_sync_rerun_and_new_mail,
    test_flag_change_only_rescans_nothing,
    test_message_in_two_folders_is_one_document,
    test_non_ascii_folder_names,
    test_sync_never_marks_mail_as_read,
)
from tests.integration.test_uidvalidity import (
    test_uidvalidity_reset_downloads_only_what_is_new,
    test_uidvalidity_reset_recognises_stored_messages,
)

pytestmark = pytest.mark.heavy

__all__ = [
    "dovecot",
    "mailbox",
    "test_a_rejected_add_inside_a_batch_costs_only_itself",
    "test_all_folders_missing_is_an_error",
    "test_copies_of_either_message_stay_duplicates",
    "test_cursor_roundtrip_holds_no_secret",
    "test_dedupe_does_not_depend_on_cleaning",
    "test_duplicate_by_content_hash_without_message_id",
    "test_each_header_and_the_body_tell_messages_apart",
    "test_first_sync_rerun_and_new_mail",
    "test_flag_change_only_rescans_nothing",
    "test_full_text_search",
    "test_get_unknown_document",
    "test_known_and_known_message_ids",
    "test_list_newest_first_with_paging_and_filters",
    "test_message_in_two_folders_is_one_document",
    "test_non_ascii_folder_names",
    "test_parse_workers_give_the_same_result",
    "test_search_syntax_or_prefix_phrase_not",
    "test_show_serialisation_has_every_field_of_record",
    "test_sync_never_marks_mail_as_read",
    "test_the_probe_matches_headers_and_size_only",
    "test_threads_are_linked_when_stored",
    "test_transaction_rolls_back_rows_together",
    "test_uidvalidity_reset_downloads_only_what_is_new",
    "test_uidvalidity_reset_recognises_stored_messages",
    "test_unknown_folder_next_to_good_ones",
]


@pytest.fixture
def store(pg_url: str, s3_workspace: str) -> Iterator[Store]:
    """The imported tests' store: PostgreSQL + S3 instead of SQLite + files."""
    s = open_store(pg_url, s3_workspace)
    try:
        yield s
    finally:
        s.close()
