"""The MIME structure rules of issue 13, one small message per rule.

The parts manifest (``metadata.parts``), named and binary text parts as assets, parts of
attached messages, forwarded-as-attachment text, multiparts with unusable boundaries
and header lines the stdlib would stop at.
"""

from __future__ import annotations

import base64
import email
import email.policy

import pytest
from mailatlas_clean import ParserConfig, parse_bytes
from mailatlas_clean.parser._boundary import find_boundary, strip_mime_framing
from mailatlas_clean.parser._sniff import binary_kind

from .helpers import check_document
from .test_parse import multipart

GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs=")


def _where(raw: bytes) -> list[tuple[str, str, int | None]]:
    doc = parse_bytes(raw)
    check_document(doc, raw)
    return [(p["part"], p["stored_as"], p.get("asset")) for p in doc.metadata["parts"]]


def test_manifest_records_every_leaf_with_its_fields() -> None:
    # enmime's nestedmulti: two named inline text parts used to appear nowhere.
    raw = multipart(
        "alternative",
        "Content-Type: text/plain\n\nA text section",
        'Content-Type: multipart/related; boundary="REL"\n\n'
        "--REL\nContent-Type: text/html\n\n<p>An HTML section</p>\n"
        "--REL\nContent-Disposition: inline; filename=attach.txt\n"
        'Content-Type: text/plain; name="attach.txt"\n\nAn inline text attachment\n'
        '--REL\nContent-Disposition: inline\nContent-Type: text/plain; name="attach2.txt"\n\n'
        "Another inline text attachment\n--REL--",
    )
    doc = parse_bytes(raw)
    assert doc.metadata["parts"] == [
        {
            "part": "1",
            "content_type": "text/plain",
            "disposition": None,
            "filename": None,
            "size": 14,
            "stored_as": "body_text",
        },
        {
            "part": "2.1",
            "content_type": "text/html",
            "disposition": None,
            "filename": None,
            "size": 22,
            "stored_as": "body_html",
        },
        {
            "part": "2.2",
            "content_type": "text/plain",
            "disposition": "inline",
            "filename": "attach.txt",
            "size": 25,
            "stored_as": "asset",
            "asset": 0,
        },
        {
            "part": "2.3",
            "content_type": "text/plain",
            "disposition": "inline",
            "filename": "attach2.txt",
            "size": 30,
            "stored_as": "asset",
            "asset": 1,
        },
    ]
    assert [a.data for a in doc.assets] == [
        b"An inline text attachment",
        b"Another inline text attachment",
    ]
    assert doc.body_text == "A text section"


def test_alternative_versions_not_stored_are_twins_of_stored_ones() -> None:
    raw = multipart(
        "alternative",
        "Content-Type: text/plain\n\nPlain one.",
        "Content-Type: text/plain\n\nPlain two.",
        "Content-Type: text/html\n\n<p>Old HTML.</p>",
        "Content-Type: text/html\n\n<p>New HTML.</p>",
    )
    doc = parse_bytes(raw)
    parts = {p["part"]: p for p in doc.metadata["parts"]}
    assert [(k, p["stored_as"], p.get("twin")) for k, p in parts.items()] == [
        ("1", "body_text", None),
        ("2", "alternative", "1"),
        ("3", "alternative", "4"),
        ("4", "body_html", None),
    ]
    assert doc.body_text == "Plain one."
    assert "New HTML." in (doc.body_html or "")


def test_named_text_part_is_an_asset_not_body_text() -> None:
    source = "#include <stdio.h>\nint main(void) { return 0; }\n"
    raw = multipart(
        "mixed",
        "Content-Type: text/plain\n\nThe patch is attached.",
        f"Content-Type: text/plain; name=x.c\n\n{source}",
        "Content-Type: text/html\nContent-Disposition: attachment\n\n<p>report</p>",
    )
    doc = parse_bytes(raw)
    assert doc.body_text == "The patch is attached."
    assert doc.body_html is None
    assert [(a.filename, a.mime_type, a.data) for a in doc.assets] == [
        ("x.c", "text/plain", source.encode()),
        ("part-2.html", "text/html", b"<p>report</p>"),
    ]


def test_binary_content_labelled_text_is_an_asset_and_a_defect() -> None:
    # enmime's chardet-fail: a GIF sent as base64 text/plain.
    encoded = base64.b64encode(GIF).decode()
    raw = multipart(
        "mixed",
        "Content-Type: text/plain\n\nSee the image.",
        f"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n{encoded}",
    )
    doc = parse_bytes(raw)
    assert doc.body_text == "See the image."
    assert [a.data for a in doc.assets] == [GIF]
    assert (
        "part 2: labelled text/plain but holds GIF image; stored as an asset"
        in (doc.metadata["defects"])
    )
    assert _where(raw) == [("1", "body_text", None), ("2", "asset", 0)]


def test_binary_sniffing_leaves_real_text_alone() -> None:
    assert binary_kind(GIF, "us-ascii") == "GIF image"
    assert binary_kind(b"%PDF-1.4\n...", None) == "PDF document"
    assert binary_kind(bytes(range(256)) * 4, None) == "binary data"
    assert binary_kind("ÄÖÜ – 漢字 – \x1b$B".encode(), "utf-8") is None  # ESC: ISO-2022
    assert binary_kind("hello".encode("utf-16-le"), "utf-16le") is None
    assert binary_kind(b"body\x00text, one stray NUL in plain text\n", None) is None
    assert binary_kind(b"BZh is not bzip2 without a block size digit", None) is None


INNER = (
    "From: Zed <zed@example.com>\nTo: Amy <amy@example.com>\nSubject: Inner subject\n"
    "Date: Mon, 06 May 2024 09:00:00 +0000\nMIME-Version: 1.0\n"
    'Content-Type: multipart/mixed; boundary="IN"\n\n'
    "--IN\nContent-Type: text/plain\n\nInner body text.\n"
    "--IN\nContent-Type: image/gif; name=pixel.gif\nContent-Transfer-Encoding: base64\n\n"
    f"{base64.b64encode(GIF).decode()}\n--IN--\n"
)


def test_parts_inside_an_attached_message_are_assets_too() -> None:
    raw = multipart(
        "mixed",
        "Content-Type: text/plain\n\nOuter body.",
        f"Content-Type: message/rfc822\nContent-Disposition: attachment\n\n{INNER}",
    )
    doc = parse_bytes(raw)
    check_document(doc, raw)
    reference = email.message_from_bytes(raw, policy=email.policy.compat32)
    attached = reference.get_payload()[1].get_payload()[0]
    assert doc.body_text == "Outer body."
    assert [(a.mime_type, a.filename) for a in doc.assets] == [
        ("message/rfc822", "part-1.eml"),
        ("image/gif", "pixel.gif"),
    ]
    assert doc.assets[0].data == attached.as_bytes()  # the .eml is still kept whole
    assert doc.assets[1].data == GIF
    assert doc.metadata["asset_parts"] == [
        {"filename": "part-1.eml", "part": "2", "message": None},
        {"filename": "pixel.gif", "part": "2.2", "message": "2"},
    ]
    assert [(p["part"], p["stored_as"], p.get("asset"), p.get("message")) for p in
            doc.metadata["parts"]] == [
        ("1", "body_text", None, None),
        ("2.1", "attached_message", 0, "2"),
        ("2.2", "asset", 1, "2"),
    ]  # fmt: skip
    assert doc.metadata["provenance"]["forwarded_attachments"] == []


def test_forwarded_as_attachment_with_no_own_text_gets_its_text() -> None:
    raw = multipart(
        "mixed",
        "Content-Type: text/plain\n\n \n",
        f"Content-Type: message/rfc822\n\n{INNER}",
    )
    doc = parse_bytes(raw)
    check_document(doc, raw)
    assert doc.body_text == (
        "---------- Forwarded message ---------\n"
        "From: Zed <zed@example.com>\n"
        "Date: Mon, 06 May 2024 09:00:00 +0000\n"
        "Subject: Inner subject\n"
        "To: Amy <amy@example.com>\n\n"
        "Inner body text."
    )
    provenance = doc.metadata["provenance"]
    assert provenance["is_forwarded"] is True
    assert provenance["forwarded_attachments"] == ["2"]
    assert provenance["forwarded_chain"][0]["from"] == "Zed <zed@example.com>"
    assert doc.author == "Zed <zed@example.com>"  # the original author, as for an inline forward
    assert doc.metadata["body_source"] == "message/rfc822"
    assert ("2.1", "body_text", None) in _where(raw)
    stripped = parse_bytes(raw, ParserConfig(strip_forwarded_headers=True))
    assert stripped.body_text == "Inner body text."


def test_forwarded_html_only_message_is_converted_to_text() -> None:
    inner = (
        "From: zed@example.com\nSubject: S\nContent-Type: text/html\n\n"
        "<html><head><style>p {color: red}</style></head><p>Hello <b>there</b></p></html>\n"
    )
    raw = multipart("mixed", f"Content-Type: message/rfc822\n\n{inner}")
    doc = parse_bytes(raw)
    assert doc.body_text.endswith("Subject: S\n\nHello there")
    assert "color" not in doc.body_text


def test_multipart_with_wrong_boundary_is_recovered() -> None:
    # mail-parser's mail_malformed_3: the body uses another boundary than the header.
    raw = (
        b"From: a@example.com\nSubject: s\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/alternative; boundary="declared"\n\n'
        b"--real\nContent-Type: text/plain\n\nHello plain.\n"
        b"--real\nContent-Type: text/html\n\n<STYLE>p { font-family: Arial; }</STYLE><p>Hi</p>\n"
        b"--real--\n"
    )
    doc = parse_bytes(raw)
    check_document(doc, raw)
    assert doc.body_text == "Hello plain."
    assert "font-family" not in (doc.body_html or "")
    assert "Hi" in (doc.body_html or "")
    assert [(p["part"], p["stored_as"], p.get("recovered")) for p in doc.metadata["parts"]] == [
        ("1.1", "body_text", True),
        ("1.2", "body_html", True),
    ]
    assert (
        "part 1: the multipart boundary is unusable; 2 part(s) recovered with the "
        "boundary its body uses ('real')"
    ) in doc.metadata["defects"]


def test_multipart_without_boundary_parameter_is_recovered() -> None:
    # cpython's msg_25: a folded parameter cut to "bo", a delivery report behind it.
    raw = (
        b"From: a@example.com\nSubject: s\nMIME-Version: 1.0\n"
        b"Content-Type: multipart/report; report-type=delivery-status;\n\tbo\n\n"
        b"This is a MIME-encapsulated message\n\n--B1/x.y\n\nThe mail could not be sent.\n\n"
        b"--B1/x.y\nContent-Type: message/delivery-status\n\nAction: failed\n\n--B1/x.y--\n"
    )
    doc = parse_bytes(raw)
    assert doc.body_text == "The mail could not be sent."
    assert [a.mime_type for a in doc.assets] == ["message/delivery-status"]


def test_unrecoverable_framing_is_removed_from_the_text() -> None:
    token = "y" * 250  # longer than any boundary a mailer writes: not trusted as one
    raw = (
        "From: a@example.com\nSubject: s\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="x"\n\n'
        f"--{token}\nContent-Type: text/plain;\n  charset=us-ascii\n"
        "Content-Transfer-Encoding: 7bit\n\nHello.\n"
    ).encode()
    doc = parse_bytes(raw)
    assert doc.body_text == "Hello."
    assert (
        "part 1: the multipart has no usable boundary; its text is kept with 4 line(s) "
        "of MIME framing removed"
    ) in doc.metadata["defects"]


def test_boundary_search_needs_a_mime_header_after_the_line() -> None:
    assert find_boundary("--\n-- \nJohn\n---------\nContent-Type: text/plain\n") == "-------"
    assert find_boundary("-- \nSignature\n--abc\nhello\n") is None
    assert strip_mime_framing("a\n--b\nnot a header\n", None) == ("a\n--b\nnot a header\n", 0)


def test_second_content_type_header_naming_a_multipart_is_used() -> None:
    # php-mime-mail-parser's issue126: text/plain first, the real multipart/mixed later.
    raw = (
        b"From: a@example.com\nSubject: s\nContent-Type: text/plain;\n charset=utf-8\n"
        b'MIME-Version: 1.0\nContent-Type: multipart/mixed;\n boundary="b1"\n\n'
        b"--b1\nContent-Type: text/plain\n\nHello.\n"
        b'--b1\nContent-Type: text/plain; name="ATT00001.txt"\n'
        b'Content-Disposition: attachment; filename="ATT00001.txt"\n\nfooter\n--b1--\n'
    )
    doc = parse_bytes(raw)
    assert doc.body_text == "Hello."
    assert [(a.filename, a.data) for a in doc.assets] == [("ATT00001.txt", b"footer")]


@pytest.mark.parametrize(
    "bad_line",
    [
        b"Subject : Spaced colon\n",  # obsolete syntax: the stdlib stops reading headers
        b"Subject: Spaced colon\nX-Long: first half\nsecond half lost its fold\n",
    ],
)
def test_header_lines_the_stdlib_stops_at_are_repaired(bad_line: bytes) -> None:
    raw = (
        b"From: a@example.com\n" + bad_line + b"MIME-Version: 1.0\n"
        b'Content-Type: multipart/alternative; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nHello.\n--b--\n"
    )
    doc = parse_bytes(raw)
    assert doc.subject == "Spaced colon"
    assert doc.body_text == "Hello."
    assert (
        "malformed header lines were repaired (a space before the colon, a lost fold)"
        in doc.metadata["defects"]
    )
    assert doc.raw == raw  # the stored original is untouched


def test_body_without_blank_line_is_not_pulled_into_the_headers() -> None:
    raw = b"From: a@example.com\nSubject: s\nThe body starts here.\nNote: not a header\nEnd.\n"
    doc = parse_bytes(raw)
    assert doc.subject == "s"
    assert "The body starts here." in doc.body_text
