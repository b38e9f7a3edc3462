"""Deterministic generator of realistic mixed mail, for benchmarks, tests and demos.

Pure standard library. The same ``(count, seed)`` always yields the same bytes::

    from devkit.mailgen import generate_messages, write_mbox

    for raw in generate_messages(100, seed=7):
        ...
    write_mbox("bench/out/bench.mbox", 5000)

    python -m devkit.mailgen --count 5000 --out bench/out/bench.mbox

The mix: plain text, HTML-only, multipart/alternative, attachments (a few big ones),
inline ``cid:`` images, non-UTF-8 charsets (iso-8859-1, windows-1252, shift_jis,
koi8-r), forwards in Gmail, Outlook and Apple Mail styles, newsletters with boilerplate
and footers, and replies that form threads (In-Reply-To/References). A 5,000-message
mbox is about 27 MB (about 5.4 KB per message on average).
"""

from __future__ import annotations

import argparse
import base64
import os
import quopri
import random
import sys
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

__all__ = ["KINDS", "generate_messages", "main", "write_mbox"]

_WORDS = [
    "the",
    "quarterly",
    "report",
    "shows",
    "revenue",
    "growth",
    "across",
    "all",
    "regions",
    "while",
    "costs",
    "stayed",
    "flat",
    "and",
    "the",
    "team",
    "expects",
    "a",
    "strong",
    "finish",
    "to",
    "the",
    "year",
    "please",
    "review",
    "the",
    "attached",
    "figures",
    "before",
    "our",
    "meeting",
    "on",
    "thursday",
    "we",
    "should",
    "also",
    "discuss",
    "hiring",
    "plans",
    "the",
    "new",
    "office",
    "lease",
    "and",
    "the",
    "migration",
    "of",
    "the",
    "billing",
    "system",
    "to",
    "the",
    "cloud",
    "platform",
    "let",
    "me",
    "know",
    "if",
    "you",
    "have",
    "questions",
    "about",
    "the",
    "budget",
    "or",
    "the",
    "timeline",
    "for",
    "the",
    "product",
    "launch",
    "customers",
    "asked",
    "for",
    "better",
    "search",
    "export",
    "options",
    "faster",
    "sync",
    "and",
    "offline",
    "access",
    "engineering",
    "will",
    "share",
    "a",
    "design",
    "document",
    "next",
    "week",
    "marketing",
    "prepared",
    "a",
    "campaign",
    "draft",
    "legal",
    "reviewed",
    "the",
    "contract",
    "terms",
    "and",
    "suggested",
    "minor",
    "changes",
    "to",
    "clause",
    "seven",
]
_NAMES = (
    ("Alice Martin", "alice@example.com"), ("Bob Chen", "bob@example.org"),
    ("Carla Gómez", "carla@example.net"), ("David Okafor", "david@corp.example"),
    ("Émilie Dubois", "emilie@example.fr"), ("Frank Müller", "frank@example.de"),
    ("Grace Lee", "grace@example.com"), ("Hiro Tanaka", "hiro@example.jp"),
    ("Ivan Petrov", "ivan@example.ru"), ("Julia Rossi", "julia@example.it"),
)  # fmt: skip
_LEGACY_TEXT = {
    "iso-8859-1": "Réunion prévue à l'hôtel; café et crème brûlée après la présentation.",
    "windows-1252": "The “quarterly” numbers are in — €1,200 over budget… see notes.",
    "shift_jis": "会議の資料を添付します。ご確認ください。よろしくお願いいたします。",
    "koi8-r": "Привет! Отчёт за квартал готов, посмотри, пожалуйста, до четверга.",
}
_NEWSLETTER_TOP = "View this email in your browser"
_NEWSLETTER_FOOTER = (
    "You are receiving this email because you subscribed to our newsletter.",
    "Unsubscribe | Update your preferences",
    "© 2024 Example Media Ltd. All rights reserved.",
)

KINDS = (
    ("plain", 24), ("html", 14), ("alternative", 18), ("attachment", 10),
    ("inline_image", 8), ("legacy_charset", 10), ("forward", 7), ("newsletter", 6),
    ("reply", 3),
)  # fmt: skip


class _Gen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.start = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
        self.ids: list[tuple[str, str, str]] = []  # (message-id, subject, references)

    # -- pieces -----------------------------------------------------------------
    def sentence(self) -> str:
        words = self.rng.choices(_WORDS, k=self.rng.randint(8, 20))
        return " ".join(words).capitalize() + "."

    def paragraphs(self, low: int, high: int) -> list[str]:
        return [
            " ".join(self.sentence() for _ in range(self.rng.randint(2, 5)))
            for _ in range(self.rng.randint(low, high))
        ]

    def person(self) -> tuple[str, str]:
        return self.rng.choice(_NAMES)

    def headers(self, index: int, subject: str, extra: str = "") -> str:
        name, addr = self.person()
        to_name, to_addr = self.person()
        when = self.start + timedelta(minutes=7 * index + self.rng.randint(0, 5))
        mid = f"{self.seed}.{index}.{self.rng.getrandbits(40):010x}@mailgen.example"
        self.ids.append((mid, subject, ""))
        received = format_datetime(when + timedelta(seconds=self.rng.randint(1, 90)))
        return (
            f"Received: from mx{self.rng.randint(1, 9)}.mailgen.example (mx.mailgen.example"
            f" [192.0.2.{self.rng.randint(1, 254)}])\n\tby mail.example.com with ESMTPS"
            f" id {self.rng.getrandbits(32):08x}\n\tfor <{to_addr}>; {received}\n"
            f"From: {_quote_name(name)} <{addr}>\n"
            f"To: {_quote_name(to_name)} <{to_addr}>\n"
            f"Subject: {_encode_subject(subject)}\n"
            f"Date: {format_datetime(when)}\n"
            f"Message-ID: <{mid}>\n"
            f"MIME-Version: 1.0\n{extra}"
        )

    def boundary(self) -> str:
        return f"=_mailgen_{self.rng.getrandbits(48):012x}"

    def blob(self, size: int, magic: bytes) -> bytes:
        # Compressible-ish data, like real documents, but deterministic.
        data = magic + self.rng.randbytes(size // 4) * 2
        data += zlib.compress(data)[: size - len(data)] if len(data) < size else b""
        return data[:size]

    # -- kinds ------------------------------------------------------------------
    def plain(self, i: int) -> str:
        body = "\n\n".join(self.paragraphs(3, 8)) + f"\n\n{self.person()[0].split()[0]}\n"
        head = self.headers(i, self.sentence()[:60].rstrip("."))
        return head + "Content-Type: text/plain; charset=utf-8\n\n" + _wrap(body)

    def html_doc(self, paragraphs: list[str], extra: str = "") -> str:
        items = "".join(f"<li>{self.sentence()}</li>" for _ in range(self.rng.randint(2, 4)))
        paras = "".join(f'<p style="margin:0 0 12px">{p}</p>\n' for p in paragraphs)
        return (
            "<html><head><style>body{font-family:Arial,sans-serif;color:#333}"
            ".btn{background:#06c;color:#fff}</style></head><body>\n"
            f"{extra}{paras}<ul>{items}</ul>\n"
            f'<p>More at <a href="https://example.com/r/{self.rng.randint(1, 9999)}">'
            "our site</a>.</p>\n</body></html>\n"
        )

    def html(self, i: int) -> str:
        head = self.headers(i, self.sentence()[:60].rstrip("."))
        body = self.html_doc(self.paragraphs(3, 7))
        return (
            head + "Content-Type: text/html; charset=utf-8\n"
            "Content-Transfer-Encoding: quoted-printable\n\n" + _qp(body)
        )

    def alternative(self, i: int) -> str:
        paras = self.paragraphs(3, 6)
        b = self.boundary()
        head = self.headers(i, self.sentence()[:60].rstrip("."), _multipart("alternative", b))
        return head + _parts(
            b,
            [
                ("text/plain; charset=utf-8", "8bit", "\n\n".join(paras) + "\n", ""),
                ("text/html; charset=utf-8", "quoted-printable", _qp(self.html_doc(paras)), ""),
            ],
        )

    def attachment(self, i: int) -> str:
        b = self.boundary()
        head = self.headers(i, "Documents: " + self.sentence()[:40], _multipart("mixed", b))
        big = self.rng.random() < 0.05
        size = self.rng.randint(80_000, 160_000) if big else self.rng.randint(8_000, 20_000)
        name = self.rng.choice(("report.pdf", "Budget 2024.xlsx", "notes.txt", "résumé.pdf"))
        disposition = f"attachment; filename*=utf-8''{_pct(name)}"
        return head + _parts(
            b,
            [
                ("text/plain; charset=utf-8", "8bit", "\n\n".join(self.paragraphs(1, 3)), ""),
                (
                    f'application/octet-stream; name="{name}"',
                    "base64",
                    _b64(self.blob(size, b"%PDF-1.4\n")),
                    f"Content-Disposition: {disposition}\n",
                ),
            ],
        )

    def inline_image(self, i: int) -> str:
        outer, related = self.boundary(), self.boundary()
        cid = f"logo{i}@mailgen.example"
        head = self.headers(i, "Photos: " + self.sentence()[:40], _multipart("related", related))
        html = self.html_doc(self.paragraphs(2, 4), f'<img src="cid:{cid}" alt="logo">\n')
        del outer
        png = b"\x89PNG\r\n\x1a\n" + self.blob(self.rng.randint(3_000, 8_000), b"IHDR")
        return head + _parts(
            related,
            [
                ("text/html; charset=utf-8", "quoted-printable", _qp(html), ""),
                (
                    'image/png; name="logo.png"',
                    "base64",
                    _b64(png),
                    f'Content-ID: <{cid}>\nContent-Disposition: inline; filename="logo.png"\n',
                ),
            ],
        )

    def legacy_charset(self, i: int) -> str:
        charset = self.rng.choice(sorted(_LEGACY_TEXT))
        line = _LEGACY_TEXT[charset]
        text = "\n\n".join([line, *self.paragraphs(2, 5), line]) + "\n"
        data = text.encode(charset)
        head = self.headers(i, self.sentence()[:50].rstrip("."))
        if self.rng.random() < 0.5:
            return (
                head
                + (
                    f"Content-Type: text/plain; charset={charset}\n"
                    "Content-Transfer-Encoding: quoted-printable\n\n"
                )
                + quopri.encodestring(data).decode("ascii")
            )
        return (
            head
            + f"Content-Type: text/plain; charset={charset}\n"
            + ("Content-Transfer-Encoding: 8bit\n\n")
            + data.decode("latin-1")
        )

    def forward(self, i: int) -> str:
        name, addr = self.person()
        subject = self.sentence()[:50].rstrip(".")
        style = self.rng.choice(("gmail", "outlook", "apple"))
        when = self.start + timedelta(minutes=7 * i - 600)
        if style == "gmail":
            block = (
                "---------- Forwarded message ---------\n"
                f"From: {name} <{addr}>\nDate: {when.strftime('%a, %b %d, %Y at %I:%M %p')}\n"
                f"Subject: {subject}\nTo: Team <team@example.com>\n"
            )
        elif style == "outlook":
            block = (
                "-----Original Message-----\n"
                f"From: {name} [mailto:{addr}]\nSent: {when.strftime('%A, %B %d, %Y %I:%M %p')}\n"
                f"To: Team\nSubject: {subject}\n"
            )
        else:
            block = (
                "Begin forwarded message:\n\n"
                f"From: {name} <{addr}>\nSubject: {subject}\n"
                f"Date: {when.strftime('%B %d, %Y at %I:%M:%S %p')} GMT\n"
                "To: Team <team@example.com>\n"
            )
        body = "FYI, see below.\n\n" + block + "\n" + "\n\n".join(self.paragraphs(2, 5)) + "\n"
        head = self.headers(i, "Fwd: " + subject)
        return head + "Content-Type: text/plain; charset=utf-8\n\n" + _wrap(body)

    def newsletter(self, i: int) -> str:
        paras = self.paragraphs(4, 7)
        links = "\n".join(
            f"https://news.example.com/story/{self.rng.randint(1000, 9999)}" for _ in range(3)
        )
        text = "\n\n".join([_NEWSLETTER_TOP, *paras, links, *_NEWSLETTER_FOOTER]) + "\n"
        extra = (
            '<span style="display:none">Preheader text&zwnj;&nbsp;&zwnj;&nbsp;</span>'
            '<p><a href="https://news.example.com/view">View this email in your browser</a></p>\n'
        )
        footer = "".join(f"<p><small>{line}</small></p>" for line in _NEWSLETTER_FOOTER)
        html = self.html_doc(paras, extra).replace("</body>", footer + "</body>")
        b = self.boundary()
        head = self.headers(
            i,
            "Weekly digest #" + str(i),
            _multipart("alternative", b) + "List-Unsubscribe: <https://news.example.com/u>\n",
        )
        return head + _parts(
            b,
            [
                ("text/plain; charset=utf-8", "8bit", text, ""),
                ("text/html; charset=utf-8", "quoted-printable", _qp(html), ""),
            ],
        )

    def reply(self, i: int) -> str:
        if not self.ids:
            return self.plain(i)
        parent, subject, refs = self.rng.choice(self.ids[-50:])
        references = (refs + f" <{parent}>").strip()
        quoted = "\n".join("> " + p for p in self.paragraphs(1, 2))
        body = "\n\n".join(self.paragraphs(1, 3)) + "\n\nOn an earlier day someone wrote:\n"
        head = self.headers(
            i,
            "Re: " + subject.removeprefix("Re: "),
            f"In-Reply-To: <{parent}>\nReferences: {references}\n",
        )
        mid = self.ids[-1][0]
        self.ids[-1] = (mid, "Re: " + subject.removeprefix("Re: "), references)
        return head + "Content-Type: text/plain; charset=utf-8\n\n" + body + quoted + "\n"


def _quote_name(name: str) -> str:
    if name.isascii():
        return f'"{name}"'
    encoded = base64.b64encode(name.encode()).decode()
    return f"=?utf-8?b?{encoded}?="


def _encode_subject(subject: str) -> str:
    return (
        subject
        if subject.isascii()
        else f"=?utf-8?b?{base64.b64encode(subject.encode()).decode()}?="
    )


def _pct(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


def _wrap(text: str, width: int = 76) -> str:
    out = []
    for para in text.split("\n"):
        line = ""
        for word in para.split(" "):
            if line and len(line) + 1 + len(word) > width:
                out.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        out.append(line)
    return "\n".join(out)


def _qp(text: str) -> str:
    return quopri.encodestring(text.encode("utf-8")).decode("ascii")


def _b64(data: bytes) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)) + "\n"


def _multipart(subtype: str, boundary: str) -> str:
    return f'Content-Type: multipart/{subtype}; boundary="{boundary}"\n'


def _parts(boundary: str, parts: list[tuple[str, str, str, str]]) -> str:
    out = ["\nThis is a multi-part message in MIME format.\n"]
    for ctype, cte, body, extra in parts:
        out.append(
            f"--{boundary}\nContent-Type: {ctype}\nContent-Transfer-Encoding: {cte}\n"
            f"{extra}\n{body.rstrip(chr(10))}\n"
        )
    out.append(f"--{boundary}--\n")
    return "".join(out)


def generate_messages(count: int, seed: int = 0) -> Iterator[bytes]:
    """Yield ``count`` raw messages (LF line endings); deterministic for a given seed."""
    gen = _Gen(seed)
    builders: dict[str, Callable[[int], str]] = {name: getattr(gen, name) for name, _ in KINDS}
    names = [name for name, _ in KINDS]
    weights = [weight for _, weight in KINDS]
    for index in range(count):
        kind = gen.rng.choices(names, weights)[0]
        text = builders[kind](index)
        # Raw 8-bit parts were carried as latin-1 code points: map them back to bytes.
        yield text.encode("latin-1") if kind == "legacy_charset" else text.encode("utf-8")


def write_mbox(path: str | os.PathLike[str], count: int, seed: int = 0) -> int:
    """Write ``count`` messages as an mboxrd file; returns the number of bytes written.

    Body lines that start with ``From `` (after any ``>``) get one more ``>``.
    """
    written = 0
    directory = os.path.dirname(os.fspath(path))
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(path, "wb") as fp:
        for index, raw in enumerate(generate_messages(count, seed)):
            when = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=7 * index)
            envelope = f"From mailgen@example.com {when.strftime('%a %b %d %H:%M:%S %Y')}\n"
            lines = raw.split(b"\n")
            escaped = b"\n".join(
                b">" + line if line.lstrip(b">").startswith(b"From ") else line for line in lines
            )
            chunk = envelope.encode() + escaped.rstrip(b"\n") + b"\n\n"
            fp.write(chunk)
            written += len(chunk)
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m devkit.mailgen --count 5000 --out bench/out/bench.mbox``"""
    parser = argparse.ArgumentParser(description="Generate a deterministic mixed mbox.")
    parser.add_argument("--count", type=int, default=5000, help="number of messages")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", default="bench/out/bench.mbox", help="mbox file to write")
    args = parser.parse_args(argv)
    size = write_mbox(args.out, args.count, args.seed)
    print(f"wrote {args.count} messages, {size:,} bytes to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
