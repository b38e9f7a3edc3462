"""``Store.set_gmail``: Gmail's ids and labels in ``metadata.gmail``, one entry per account."""

from __future__ import annotations

from mailatlas_core import SourceLocation, Store
from mailatlas_core._gmail import GmailMessage

from .factory import make_parsed, make_raw


def test_labels_are_replaced_per_account_and_kept_with_the_document(store: Store) -> None:
    added = store.add(make_parsed(make_raw(1)), SourceLocation(kind="eml", path="/m/a.eml"))
    me, other = "me@imap.gmail.com:993", "you@imap.gmail.com:993"
    store.set_gmail(added.document_id, GmailMessage(me, "1601", "1578", ("Work",)))
    store.set_gmail(added.document_id, GmailMessage(other, "9", None, ()))
    store.set_gmail(added.document_id, GmailMessage(me, "1601", "1578", ("\\Inbox", "Work")))
    document = store.get_document(added.document_id)
    assert document.metadata["gmail"] == [
        {"account": me, "msgid": "1601", "thrid": "1578", "labels": ["\\Inbox", "Work"]},
        {"account": other, "msgid": "9", "thrid": None, "labels": []},
    ]
    assert set(document.metadata) >= {"gmail", "source"}  # the rest of the metadata stays
    assert document.to_dict()["metadata"]["gmail"][0]["msgid"] == "1601"


def test_an_unknown_document_is_left_alone(store: Store) -> None:
    store.set_gmail("nope", GmailMessage("me@h:1", "1", None, ()))
    assert store.count_documents() == 0
