"""parse_bytes / parse_eml on small hand-made messages: one behaviour per test."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import pytest
from mailatlas_clean import ParseError, ParserConfig, parse_bytes, parse_eml, peek_message_id
from mailatlas_core._ids import content_hash, document_id, thread_id_for

from .helpers import check_document, message


def multipart(subtype: str, *parts: str, headers: str = "") -> bytes:
    body = "".join(f"--BOUND\n{p}\n" for p in parts) + "--BOUND--\n"
    return (
        "From: Alice <alice@example.com>\nTo: bob@example.com\nSubject: Multi\n"
        f"Message-ID: <multi@example.com>\n{headers}MIME-Version: 1.0\n"
        f'Content-Type: multipart/{subtype}; boundary="BOUND"\n\n{body}'
    ).encode()


# -- identity, headers, dates ---------------------------------------------------------


def test_plain_message_fields() -> None:
    raw = message(
        "Hi Bob,\nsee you.\n",
        headers="Cc: Carol <carol@example.com>, dave@example.com\nReply-To: list@example.com\n",
    )
    doc = parse_bytes(raw)
    check_document(doc, raw)
    assert doc.id == document_id("test-1@example.com", content_hash(raw))
    assert doc.message_id == "test-1@example.com" == peek_message_id(raw)
    assert (doc.subject, doc.sender_name, doc.sender_email) == (
        "Test",
        "Alice",
        "alice@example.com",
    )
    assert doc.author == "Alice <alice@example.com>"
    assert doc.body_text == "Hi Bob,\nsee you."
    assert doc.body_html is None
    assert doc.published_at == doc.received_at == "2024-05-06T08:00:00Z"
    assert doc.metadata["dates"] == {
        "date": "Mon, 06 May 2024 10:00:00 +0200",
        "utc": "2024-05-06T08:00:00Z",
        "offset": "+0200",
    }
    assert doc.metadata["recipients"] == {
        "to": [{"name": "Bob", "email": "bob@example.com"}],
        "cc": [
            {"name": "Carol", "email": "carol@example.com"},
            {"name": "", "email": "dave@example.com"},
        ],
        "bcc": [],
        "reply_to": [{"name": "", "email": "list@example.com"}],
    }
    assert doc.metadata["parser_config"] == ParserConfig().to_dict()
    assert doc.metadata["defects"] == []


def test_received_at_argument_then_received_header_then_date() -> None:
    received = "Received: from a by b; Tue, 07 May 2024 01:02:03 +0000\n"
    older = "Received: from c by a; Mon, 06 May 2024 23:00:00 +0000\n"
    raw = message(headers=received + older)
    assert parse_bytes(raw).received_at == "2024-05-07T01:02:03Z"
    assert parse_bytes(raw, received_at="2024-06-01T00:00:00Z").received_at == (
        "2024-06-01T00:00:00Z"
    )
    assert parse_bytes(message()).received_at == "2024-05-06T08:00:00Z"


def test_encoded_subject_and_sender_name() -> None:
    raw = (
        b"From: =?utf-8?q?=C3=89milie_Dubois?= <emilie@example.fr>\n"
        b"Subject: =?iso-8859-1?q?R=E9union_pr=E9vue?=\n\nBody\n"
    )
    doc = parse_bytes(raw)
    assert doc.subject == "Réunion prévue"
    assert doc.sender_name == "Émilie Dubois"


def test_raw_utf8_header_bytes_are_decoded() -> None:
    raw = "From: José <jose@example.com>\nSubject: Olá, café\n\nBody\n".encode()
    doc = parse_bytes(raw)
    assert doc.subject == "Olá, café"
    assert doc.sender_name == "José"


def test_thread_ids_are_shared_by_a_thread() -> None:
    root = message(headers="")
    reply = message(
        headers="In-Reply-To: <test-1@example.com>\nReferences: <test-1@example.com>\n"
    ).replace(b"<test-1@example.com>\nMIME", b"<test-1@example.com>\nMIME")
    reply = reply.replace(b"Message-ID: <test-1@example.com>", b"Message-ID: <reply@example.com>")
    a, b = parse_bytes(root), parse_bytes(reply)
    assert b.in_reply_to == "test-1@example.com"
    assert b.references == ("test-1@example.com",)
    assert a.thread_id == b.thread_id == thread_id_for("test-1@example.com", (), None, "")


def test_no_message_id_falls_back_to_content_hash() -> None:
    raw = b"From: a@example.com\nSubject: x\n\nbody\n"
    doc = parse_bytes(raw)
    assert doc.message_id is None
    assert doc.id == document_id(None, content_hash(raw))


def test_forwarded_message_author_and_date_come_from_the_original() -> None:
    body = (
        "FYI\n\n---------- Forwarded message ---------\n"
        "From: Carla <carla@example.net>\nDate: Mon, Jan 8, 2024 at 9:15 AM\n"
        "Subject: Budget\nTo: team@example.com\n\nNumbers.\n"
    )
    doc = parse_bytes(message(body), ParserConfig(strip_forwarded_headers=True))
    assert doc.metadata["provenance"]["is_forwarded"] is True
    assert doc.metadata["provenance"]["forwarded_chain"][0]["from"] == "Carla <carla@example.net>"
    assert doc.author == "Carla <carla@example.net>"
    assert doc.published_at == "2024-01-08T09:15:00Z"
    assert doc.body_text == "FYI\n\nNumbers."
    assert doc.metadata["cleaning"]["removed_forwarded_headers"] == 1


@pytest.mark.parametrize(
    ("sender", "author"),
    [
        ("Source Author <source@example.com>", "Source Author <source@example.com>"),
        ("Doe, Jane [mailto:jane@example.com]", '"Doe, Jane" <jane@example.com>'),
        ("source@example.com", "source@example.com"),
        ("Just A Name", "Just A Name"),
    ],
)
def test_forwarded_author_keeps_the_name_and_the_address(sender: str, author: str) -> None:
    body = (
        "FYI\n\n---------- Forwarded message ---------\n"
        f"From: {sender}\nDate: Mon, Jan 8, 2024 at 9:15 AM\n"
        "Subject: Budget\nTo: team@example.com\n\nNumbers.\n"
    )
    doc = parse_bytes(message(body), ParserConfig(strip_forwarded_headers=True))
    assert doc.author == author


def test_author_of_a_sender_without_a_name_is_the_address() -> None:
    doc = parse_bytes(b"From: a@example.com\nSubject: x\n\nbody\n")
    assert (doc.sender_name, doc.sender_email) == (None, "a@example.com")
    assert doc.author == "a@example.com"


# -- charsets and transfer encodings ------------------------------------------------------


@pytest.mark.parametrize(
    ("charset", "text"),
    [
        ("iso-8859-1", "Réunion à l'hôtel"),
        ("windows-1252", "“Quoted” — €5…"),
        ("shift_jis", "会議の資料を添付します"),
        ("koi8-r", "Привет, отчёт готов"),
        ("iso-2022-jp", "こんにちは"),
    ],
)
def test_legacy_charsets(charset: str, text: str) -> None:
    raw = (
        (
            f"From: a@example.com\nSubject: cs\nContent-Type: text/plain; charset={charset}\n"
            "Content-Transfer-Encoding: 8bit\n\n"
        ).encode()
        + text.encode(charset)
        + b"\n"
    )
    doc = parse_bytes(raw)
    assert doc.body_text == text
    assert doc.metadata["defects"] == []


def test_bogus_charset_decodes_best_effort_with_a_defect() -> None:
    raw = (
        b"From: a@example.com\nSubject: cs\nContent-Type: text/plain; charset=fakescii\n\n"
        b"caf\xc3\xa9\n"
    )
    doc = parse_bytes(raw)
    assert doc.body_text == "café"
    assert doc.metadata["defects"] == ["part 1: unknown charset 'fakescii'; decoded as utf-8"]


def test_mislabelled_charset_is_a_defect_not_garbage() -> None:
    raw = b"From: a@example.com\nContent-Type: text/plain; charset=utf-8\n\ncaf\xe9 cr\xe8me\n"
    doc = parse_bytes(raw)
    assert doc.body_text == "café crème"
    assert "decoded as windows-1252" in doc.metadata["defects"][0]


def test_invalid_base64_is_a_defect_note() -> None:
    good = base64.b64encode(b"attachment bytes here").decode()
    raw = multipart(
        "mixed",
        "Content-Type: text/plain\n\nSee attached.",
        'Content-Type: application/octet-stream; name="a.bin"\n'
        f"Content-Transfer-Encoding: base64\n\n{good[:-3]}!!*",
    )
    doc = parse_bytes(raw)
    assert doc.body_text == "See attached."
    assert len(doc.assets) == 1
    defects = " ".join(doc.metadata["defects"])
    assert "part 2" in defects
    assert "base64" in defects


def test_quoted_printable_html_only_message() -> None:
    html = (
        "<html><head><style>p{color:red}</style><script>alert('x')</script></head><body>"
        "<p>Hello <b>there</b>, read <a href=3D'https://example.com/a'>the post</a>=\n"
        " today.</p><ul><li>one</li><li>two</li></ul>"
        "<table><tr><td>Name</td><td>Value</td></tr></table></body></html>"
    )
    raw = (
        "From: a@example.com\nSubject: h\nContent-Type: text/html; charset=utf-8\n"
        f"Content-Transfer-Encoding: quoted-printable\n\n{html}\n"
    ).encode()
    doc = parse_bytes(raw)
    assert doc.metadata["body_source"] == "text/html"
    assert "Hello there, read [the post](https://example.com/a) today." in doc.body_text
    assert "- one\n- two" in doc.body_text
    assert "| Name | Value |" in doc.body_text
    for leaked in ("color:red", "alert", "<"):
        assert leaked not in doc.body_text
    assert doc.body_html is not None and "<script" not in doc.body_html


# -- structure -----------------------------------------------------------------------------


def test_alternative_prefers_plain_for_text_and_keeps_html_snapshot() -> None:
    raw = multipart(
        "alternative",
        "Content-Type: text/plain\n\nPlain version.",
        "Content-Type: text/html\n\n<p>HTML version.</p>",
    )
    doc = parse_bytes(raw)
    assert doc.body_text == "Plain version."
    assert doc.body_html == "<p>HTML version.</p>"
    assert doc.metadata["body_source"] == "text/plain"


def test_apple_mail_inline_text_parts_are_body_named_ones_are_assets() -> None:
    png = base64.b64encode(b"\x89PNG fake").decode()
    raw = multipart(
        "mixed",
        "Content-Type: text/plain\nContent-Disposition: inline\n\nBefore the photo.",
        f"Content-Type: image/png; name=p.png\nContent-Disposition: inline; filename=p.png\n"
        f"Content-Transfer-Encoding: base64\n\n{png}",
        "Content-Type: text/plain\nContent-Disposition: inline\n\nAfter the photo.",
        'Content-Type: text/plain\nContent-Disposition: inline; filename="x.c"\n\nint x;',
    )
    doc = parse_bytes(raw)
    # Issue 13: a named text part is a file (source code, a log), not body text.
    assert doc.body_text == "Before the photo.\n\nAfter the photo."
    assert [(a.kind, a.filename, a.data) for a in doc.assets] == [
        ("inline", "p.png", b"\x89PNG fake"),
        ("inline", "x.c", b"int x;"),
    ]
    assert [(p["part"], p["stored_as"], p.get("asset")) for p in doc.metadata["parts"]] == [
        ("1", "body_text", None),
        ("2", "asset", 0),
        ("3", "body_text", None),
        ("4", "asset", 1),
    ]


def test_attached_message_is_an_asset_not_body() -> None:
    inner = "From: Zed <zed@example.com>\nSubject: Inner subject\n\nInner body text.\n"
    raw = multipart(
        "mixed",
        "Content-Type: text/plain\n\nOuter body.",
        f"Content-Type: message/rfc822\nContent-Disposition: attachment\n\n{inner}",
    )
    doc = parse_bytes(raw)
    assert doc.body_text == "Outer body."
    assert "Inner body" not in doc.body_text
    assert doc.assets[0].mime_type == "message/rfc822"
    assert doc.assets[0].filename == "part-1.eml"
    assert b"Inner body text." in doc.assets[0].data
    assert doc.metadata["attached_messages"] == [
        {
            "part": "2",
            "subject": "Inner subject",
            "sender": {"name": "Zed", "email": "zed@example.com"},
            "filename": None,
        }
    ]


def test_cid_references_are_rewritten_and_remote_images_blocked() -> None:
    png = base64.b64encode(b"png-bytes").decode()
    html = (
        "<p><img src=\"cid:logo@x\"> <img src=cid:logo@x> <img src='CID:logo@x'>"
        '<span style="background-image:url(cid:logo@x)">bg</span>'
        '<img src="https://tracker.example/p.gif"><span style="background:url(http://x/y)">'
        'r</span><a href="javascript:alert(1)" onclick="x()">j</a><form><input></form></p>'
    )
    raw = multipart(
        "related",
        f"Content-Type: text/html\n\n{html}",
        f"Content-Type: image/png\nContent-ID: <logo@x>\nContent-Transfer-Encoding: base64\n"
        f'Content-Disposition: inline; filename="my logo.png"\n\n{png}',
    )
    doc = parse_bytes(raw)
    check_document(doc, raw)
    href = f"../assets/{doc.id}/my%20logo.png"
    assert doc.body_html is not None
    assert doc.body_html.count(f'src="{href}"') == 3
    assert f"url(&quot;{href}&quot;)" in doc.body_html
    assert "cid:" not in doc.body_html.lower()
    assert re.search(r'\ssrc="https?:', doc.body_html) is None
    assert 'data-blocked-src="https://tracker.example/p.gif"' in doc.body_html
    assert "http://x/y" not in doc.body_html
    assert "javascript" not in doc.body_html and "onclick" not in doc.body_html
    assert "<form" not in doc.body_html and "<input" not in doc.body_html
    assert doc.metadata["remote_images_blocked"] == 1
    assert doc.assets[0].cid == "logo@x"


def test_unknown_cid_is_a_defect() -> None:
    raw = multipart("related", 'Content-Type: text/html\n\n<img src="cid:nowhere@x">')
    doc = parse_bytes(raw)
    assert "cid:nowhere@x matches no part of the message" in doc.metadata["defects"]


def test_rfc2231_filename_and_asset_hash() -> None:
    data = b"%PDF-1.4 content"
    raw = multipart(
        "mixed",
        "Content-Type: text/plain\n\nHi",
        "Content-Type: application/pdf\n"
        "Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9%20final.pdf\n"
        f"Content-Transfer-Encoding: base64\n\n{base64.b64encode(data).decode()}",
    )
    asset = parse_bytes(raw).assets[0]
    assert (asset.filename, asset.original_filename) == ("résumé final.pdf", "résumé final.pdf")
    assert (asset.kind, asset.mime_type, asset.data, asset.size) == (
        "attachment", "application/pdf", data, len(data)
    )  # fmt: skip


# -- not an email ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "the input is empty"),
        (b"\n\n  \n", "the input is empty"),
        (bytes(range(256)) * 4, "does not start with an email header"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "Outlook .msg"),
        (b"Dear diary,\nToday I wrote no email.\n", "does not start with an email header"),
        (b"Name: value\nOther: thing\n\nbody\n", "no email header"),
        (b"X\x00Y: z\nFrom: a\n\n", "does not start with an email header"),
    ],
)
def test_not_email_is_parse_error_with_plain_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_bytes(raw)
    assert reason in info.value.reason


def test_random_bytes_never_crash() -> None:
    import random

    rng = random.Random(3)
    for _ in range(300):
        raw = rng.randbytes(rng.randint(0, 400))
        try:
            parse_bytes(raw)
        except ParseError as exc:
            assert exc.reason


def test_parse_eml_reads_files_and_reports_missing_ones(tmp_path: Path) -> None:
    path = tmp_path / "m.eml"
    path.write_bytes(message())
    assert parse_eml(path).subject == "Test"
    assert parse_eml(str(path)).raw == message()
    assert parse_eml(message()).subject == "Test"
    with pytest.raises(ParseError, match="cannot read"):
        parse_eml(tmp_path / "missing.eml")
    assert os.path.exists(path)


def test_mbox_envelope_is_kept_in_metadata() -> None:
    raw = b"From someone@example.com Mon May  6 10:00:00 2024\n" + message()
    doc = parse_bytes(raw)
    assert doc.metadata["envelope"] == "From someone@example.com Mon May  6 10:00:00 2024"
    assert doc.subject == "Test"
    assert parse_bytes(message(), envelope="From x").metadata["envelope"] == "From x"


def test_damaged_headers_are_defects_not_failures() -> None:
    raw = (
        b"Rec\xe9ived: from x by y; Mon, 06 May 2024 10:00:00 +0000\n"
        b"From: =?utf-8?b?44G+4=?= <a@example.com>, Bad =?utf-8?b?%%%?= <b@example.com>\n"
        b"Subject: nul\x00byte\nContent-ID: <caf\xc3\xa9@x>\nMessage-ID: <n@x>\n\nbody\x00text\n"
    )
    doc = parse_bytes(raw)
    assert doc.subject == "nulbyte"
    assert doc.body_text == "bodytext"
    assert doc.sender_email == "a@example.com"
    assert "the first header line is malformed; it was skipped" in doc.metadata["defects"]
    check_document(doc, raw)
