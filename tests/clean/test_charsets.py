"""Text in its right characters: body charsets, encoded words and raw 8-bit headers."""

from __future__ import annotations

import base64

import pytest
from mailatlas_clean import parse_bytes

RUSSIAN = "Профиль пользователя обновлён. Проверьте настройки уведомлений и пароль."
CHINESE = "顏氏家訓，北齊顏之推撰。夫九州之人，言語不同，生民已來，固常然矣。"


def _message(headers: str, body: bytes, ctype: str = "text/plain") -> bytes:
    head = f"From: a@example.com\nSubject: s\n{headers}MIME-Version: 1.0\n"
    if "content-type" not in headers.lower():
        head += f"Content-Type: {ctype}\n"
    return head.encode() + b"\n" + body


# -- body parts ---------------------------------------------------------------------------


def test_one_invalid_byte_in_utf8_is_one_replacement_not_another_charset() -> None:
    html = f"<p>{RUSSIAN}</p>".encode()
    broken = html.replace("Проверьте".encode(), "Проверьте".encode() + b"\xff")
    raw = _message("Content-Type: text/html; charset=utf-8\n", broken)
    doc = parse_bytes(raw)
    assert "Профиль пользователя" in doc.body_text
    assert doc.body_text.count("\ufffd") == 1
    for mojibake in ("Ð", "Ñ", "Ã"):
        assert mojibake not in doc.body_text
    assert doc.metadata["defects"] == [
        "part 1: 1 invalid byte(s) in 'utf-8' text replaced with U+FFFD"
    ]


def test_big5_labelled_us_ascii_is_detected() -> None:
    body = base64.encodebytes(CHINESE.encode("big5") * 3)
    raw = _message(
        "Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: base64\n", body
    )
    doc = parse_bytes(raw)
    assert CHINESE in doc.body_text
    assert doc.metadata["defects"] == ["part 1: text is not valid 'us-ascii'; decoded as big5"]


def test_undeclared_legacy_cyrillic_is_detected() -> None:
    body = (RUSSIAN * 2).encode("cp1251")
    raw = _message("Content-Type: text/plain\nContent-Transfer-Encoding: 8bit\n", body)
    doc = parse_bytes(raw)
    assert RUSSIAN in doc.body_text
    assert "decoded as cp1251" in doc.metadata["defects"][0]


def test_utf8_under_a_legacy_label_is_read_as_utf8() -> None:
    raw = _message(
        "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n",
        "Café © 2019 — déjà vu".encode(),
    )
    doc = parse_bytes(raw)
    assert doc.body_text == "Café © 2019 — déjà vu"
    assert doc.metadata["defects"] == [
        "part 1: text labelled 'iso-8859-1' is UTF-8; decoded as utf-8"
    ]


def test_latin1_under_its_own_label_is_never_second_guessed() -> None:
    raw = _message(
        "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n",
        "Die Hasen und die Frösche".encode("latin-1"),
    )
    doc = parse_bytes(raw)
    assert doc.body_text == "Die Hasen und die Frösche"
    assert doc.metadata["defects"] == []


def test_detection_runs_only_where_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    import charset_normalizer

    def refuse(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("charset detection ran on text that did not need it")

    monkeypatch.setattr(charset_normalizer, "from_bytes", refuse)
    for body, charset in (
        (RUSSIAN.encode(), "utf-8"),
        (RUSSIAN.encode(), None),
        (b"plain ascii", None),
        ("Frösche".encode("latin-1"), "iso-8859-1"),
        (RUSSIAN.encode("koi8-r"), "koi8-r"),
    ):
        ctype = f"text/plain; charset={charset}" if charset else "text/plain"
        raw = _message(f"Content-Type: {ctype}\nContent-Transfer-Encoding: 8bit\n", body)
        assert parse_bytes(raw).metadata["defects"] == []


# -- encoded words ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "name", "email"),
    [
        ('"=?ISO-8859-1?Q?Fran=E7ois?=" <f@x.example>', "François", "f@x.example"),
        ("=?ISO-8859-1?Q?Fran=E7ois?= <f@x.example>", "François", "f@x.example"),
        ('"=?utf-8?B?0JjQstCw0L0=?= Petrov" <i@x.example>', "Иван Petrov", "i@x.example"),
        ("=?iso-8859-2*sl?Q?Doma=e8e?= <d@x.example>", "Domače", "d@x.example"),
    ],
)
def test_encoded_words_in_sender_names(header: str, name: str, email: str) -> None:
    doc = parse_bytes(f"From: {header}\nSubject: s\n\nbody\n".encode())
    assert (doc.sender_name, doc.sender_email) == (name, email)


@pytest.mark.parametrize(
    ("subject", "decoded"),
    [
        ("=?iso-8859-2*sl?Q?Doma=e8e?=", "Domače"),  # RFC 2231 language suffix
        ("=?utf-8?Q?caf=C3?= =?utf-8?Q?=A9_ok?=", "café ok"),  # a character split in two
        ("=?utf-8?B?Q2Fmw6k=?= =?iso-8859-1?Q?_cr=E8me?=", "Café crème"),
        ("=?iso-8859-8-i?B?4PDp?= ok", "אני ok"),  # label Python does not know
        ("=?gb2312?B?1eLKx8qyw7S9?=", "这是什么\ufffd"),  # truncated: one replacement
        ("Re: =?utf-8?Q?=E2=9C=93?= done", "Re: ✓ done"),
        ("=?utf-8?Q?broken", "=?utf-8?Q?broken"),  # not an encoded word: kept
    ],
)
def test_encoded_words_in_subjects(subject: str, decoded: str) -> None:
    doc = parse_bytes(f"From: a@example.com\nSubject: {subject}\n\nbody\n".encode())
    assert doc.subject == decoded


def test_encoded_word_with_raw_8bit_bytes_inside() -> None:
    raw = (
        b"From: a@example.com\nSubject: =?iso-8859-1?Q?Die_Hasen_und_die_Fr\xf6sche?=\n"
        b"Content-Type: text/plain; charset=iso-8859-1\n\nbody\n"
    )
    assert parse_bytes(raw).subject == "Die Hasen und die Frösche"


# -- raw 8-bit headers --------------------------------------------------------------------


def test_raw_utf8_headers() -> None:
    raw = "From: Jöhn Doe <jd@example.com>\nSubject: Grüße aus Köln\n\nbody\n".encode()
    doc = parse_bytes(raw)
    assert (doc.subject, doc.sender_name) == ("Grüße aus Köln", "Jöhn Doe")


def test_raw_legacy_header_uses_the_charset_the_body_declares() -> None:
    raw = (
        b"From: a@example.com\nSubject: Die Hasen und die Fr\xf6sche\n"
        b"Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n"
        b"Die Fr\xf6sche\n"
    )
    assert parse_bytes(raw).subject == "Die Hasen und die Frösche"


def test_raw_legacy_header_is_detected_with_the_body() -> None:
    subject = "Отчёт за неделю".encode("koi8-r")
    body = (RUSSIAN * 2).encode("koi8-r")
    raw = b"From: a@example.com\nSubject: " + subject + b"\nContent-Type: text/plain\n\n" + body
    doc = parse_bytes(raw)
    assert doc.subject == "Отчёт за неделю"
    assert RUSSIAN in doc.body_text


def test_short_raw_header_is_detected_from_the_body_too() -> None:
    # "Да!" alone is 2 non-ASCII bytes: too little to detect; the body says koi8-r.
    raw = (
        b"From: a@example.com\nSubject: " + "Да!".encode("koi8-r") + b"\n"
        b"Content-Type: text/plain\n\n" + (RUSSIAN * 2).encode("koi8-r")
    )
    doc = parse_bytes(raw)
    assert doc.subject == "Да!"
    assert RUSSIAN in doc.body_text


def test_short_undeclared_body_is_detected_from_the_headers_too() -> None:
    subject = (RUSSIAN[:60]).encode("koi8-r")
    raw = (
        b"From: a@example.com\nSubject: " + subject + b"\n"
        b"Content-Type: text/plain\n\n" + "Да!".encode("koi8-r") + b"\n"
    )
    doc = parse_bytes(raw)
    assert doc.body_text == "Да!"
    assert doc.metadata["defects"] == [
        "part 1: no charset declared and not UTF-8; decoded as koi8-r"
    ]


def test_raw_header_mostly_utf8_keeps_its_text() -> None:
    raw = "From: a@example.com\nSubject: Профиль обновлён\n\nbody\n".encode()
    raw = raw.replace("обновлён".encode(), b"\xff" + "обновлён".encode())
    assert parse_bytes(raw).subject == "Профиль \ufffdобновлён"


# -- senders the forensic parser cannot read ---------------------------------------------


@pytest.mark.parametrize(
    ("header", "name", "email"),
    [
        ("foo", None, "foo"),
        ("MAILER DAEMON <>", "MAILER DAEMON", None),
        ("Bob Dunite <bob@extern> Bobby Dunite <bobby@extern>", "Bob Dunite", "bob@extern"),
    ],
)
def test_malformed_sender_is_read_leniently_with_a_defect(
    header: str, name: str | None, email: str | None
) -> None:
    doc = parse_bytes(f"From: {header}\nSubject: s\n\nbody\n".encode())
    assert (doc.sender_name, doc.sender_email) == (name, email)
    assert "from header holds no well-formed mailbox; read leniently" in doc.metadata["defects"]
