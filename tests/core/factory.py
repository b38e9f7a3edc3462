"""Build ParsedDocument values for store tests without the parser (a unit seam)."""

from __future__ import annotations

from mailatlas_core import AssetData, ParsedDocument
from mailatlas_core._ids import content_hash, document_id, normalize_message_id, thread_id_for


def make_raw(i: int, *, with_mid: bool = True, body: str = "hello") -> bytes:
    mid = f"Message-ID: <msg-{i}@example.test>\r\n" if with_mid else ""
    return (
        f"{mid}From: Sender {i} <sender{i}@example.test>\r\nSubject: Message number {i}\r\n"
        f"Date: Mon, 01 Jan 2024 10:{i % 60:02d}:00 +0200\r\n\r\n{body} {i}\r\n"
    ).encode()


def make_parsed(
    raw: bytes,
    *,
    subject: str = "subject",
    body: str = "body text",
    message_id: str | None = "auto",
    references: tuple[str, ...] = (),
    in_reply_to: str | None = None,
    assets: list[AssetData] | None = None,
    received_at: str | None = "2024-01-01T08:00:00Z",
    html: str | None = "<p>body</p>",
) -> ParsedDocument:
    h = content_hash(raw)
    if message_id == "auto":
        text = raw.decode("latin-1")
        mid = None
        for line in text.split("\r\n"):
            if line.lower().startswith("message-id:"):
                mid = normalize_message_id(line.split(":", 1)[1])
    else:
        mid = message_id
    return ParsedDocument(
        id=document_id(mid, h),
        raw=raw,
        content_hash=h,
        message_id=mid,
        thread_id=thread_id_for(mid, references, in_reply_to, h),
        subject=subject,
        sender_name="Sender",
        sender_email="sender@example.test",
        author="Sender",
        received_at=received_at,
        published_at=received_at,
        body_text=body,
        body_html=html,
        metadata={"parser_config": {}},
        assets=assets or [],
        in_reply_to=in_reply_to,
        references=references,
    )
