"""What the MIME walk finds: body texts, assets, the parts manifest, attached messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import Message

from mailatlas_core import AttachedMessage, PartEntry

from ._keyshare import KeySharing

__all__ = ["AttachedText", "BodyPart", "FoundAsset", "MimeContent", "PartRecord"]

_PART_ENTRIES = KeySharing("PartEntry")


@dataclass(slots=True)
class FoundAsset:
    """An asset as found in the tree, before its name is made safe.

    ``message`` is the part path of the attached message the asset was found in.
    """

    kind: str
    mime_type: str
    data: bytes
    original_filename: str | None
    cid: str | None
    part: str
    message: str | None = None


@dataclass(slots=True)
class PartRecord:
    """One MIME leaf of the manifest and where its bytes went.

    ``stored_as`` is ``body_text``, ``body_html``, ``asset``, ``alternative`` (the twin
    of a stored body, see ``twin``) or ``attached_message`` (a text body inside an
    attached message that is stored whole as ``asset``).
    """

    part: str
    content_type: str
    disposition: str | None
    filename: str | None
    size: int
    stored_as: str
    asset: FoundAsset | None = None
    twin: str | None = None
    message: str | None = None
    recovered: bool = False

    def to_dict(self, ordinals: dict[int, int]) -> PartEntry:
        out: PartEntry = {
            "part": self.part,
            "content_type": self.content_type,
            "disposition": self.disposition,
            "filename": self.filename,
            "size": self.size,
            "stored_as": self.stored_as,
        }
        if self.asset is not None:
            out["asset"] = ordinals[id(self.asset)]
        if self.twin is not None:
            out["twin"] = self.twin
        if self.message is not None:
            out["message"] = self.message
        if self.recovered:
            out["recovered"] = True
        return _PART_ENTRIES.shared(out)


@dataclass(slots=True)
class BodyPart:
    """The decoded text of one body leaf."""

    text: str
    record: PartRecord


@dataclass(slots=True)
class AttachedText:
    """The text bodies of one attached message (forwarded as an attachment)."""

    part: str
    message: Message
    plain: list[BodyPart]
    html: list[BodyPart]


@dataclass(slots=True)
class MimeContent:
    """What the walk found. ``message`` and ``container`` are set inside an attached
    message: its path and its whole-message asset."""

    plain: list[BodyPart] = field(default_factory=list)
    html: list[BodyPart] = field(default_factory=list)
    assets: list[FoundAsset] = field(default_factory=list)
    attached_messages: list[AttachedMessage] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    parts: list[PartRecord] = field(default_factory=list)
    forwarded: list[AttachedText] = field(default_factory=list)
    message: str | None = None
    container: FoundAsset | None = None
    # Raw 8-bit header bytes of the message: extra sample if a part's charset must be
    # detected (headers and body are usually in one charset).
    samples: tuple[bytes, ...] = ()
    # One str for each distinct content type, disposition and file name of the walk's
    # records (a message of many small parts would hold a copy of each per part).
    names: dict[str, str] = field(default_factory=dict)
    # The same for the part sizes (an int object each above 256).
    sizes: dict[int, int] = field(default_factory=dict)

    def child(self) -> MimeContent:
        return MimeContent(
            message=self.message,
            container=self.container,
            samples=self.samples,
            names=self.names,
            sizes=self.sizes,
        )

    def shared(self, value: str) -> str:
        """``value``, as the one str of its text this walk keeps."""
        return self.names.setdefault(value, value)

    def size(self, data: bytes) -> int:
        """``len(data)``, as the one int of its value this walk keeps."""
        size = len(data)
        return self.sizes.setdefault(size, size)

    def extend(self, other: MimeContent) -> None:
        self.plain.extend(other.plain)
        self.html.extend(other.html)
        self.assets.extend(other.assets)
        self.attached_messages.extend(other.attached_messages)
        self.defects.extend(other.defects)
        self.parts.extend(other.parts)
        self.forwarded.extend(other.forwarded)

    def take_manifest(self) -> list[PartEntry]:
        """``metadata.parts``: every leaf, with asset ordinals as the store numbers them.

        The records are taken: each is let go as its entry is made (``parts`` is empty
        after), so a message of many parts never holds every record and every entry.
        """
        ordinals = {id(asset): index for index, asset in enumerate(self.assets)}
        records, self.parts = self.parts, []
        records.reverse()
        entries = []
        while records:
            entries.append(records.pop().to_dict(ordinals))
        return entries
