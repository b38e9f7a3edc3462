"""The document model: what the parser produces and what the store keeps.

Two families of types live here:

* *Incoming* values built by a parser, before anything is stored:
  :class:`ParsedDocument` with its :class:`AssetData`, and the :class:`SourceLocation`
  a message was read from.
* *Stored* values read back from a store: :class:`Document`, :class:`Asset` and
  :class:`DocumentRef`. ``Document.to_dict()`` is exactly what ``mailatlas show`` prints.
"""

from __future__ import annotations

import json
from contextlib import suppress
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, Literal, cast

from ._ids import Fingerprint, content_hash
from ._metadata import STORE_KEYS, DocumentMetadata, Recipients, SourceMetadata, empty_metadata

__all__ = [
    "AddResult",
    "Asset",
    "AssetData",
    "AssetKind",
    "AssetText",
    "AssetTextStatus",
    "DeletedDocument",
    "Document",
    "DocumentRef",
    "FlagUpdate",
    "ImapCursor",
    "Location",
    "MatchedIn",
    "ParsedDocument",
    "SourceKind",
    "SourceLocation",
    "StoreStats",
    "StoredFailure",
]

AssetKind = Literal["inline", "attachment"]
SourceKind = Literal["eml", "mbox", "maildir", "imap"]
AssetTextStatus = Literal["ok", "failed", "skipped", "unsupported", "not_installed"]
MatchedIn = Literal["body", "attachment"]


@dataclass(frozen=True, slots=True)
class AssetText:
    """The text read from one attachment (PDF, Office, HTML, CSV, plain text), or why none.

    ``status``: ``ok`` (``text`` holds it, possibly empty, e.g. a scanned PDF),
    ``failed`` (the file is damaged or hostile: ``error`` says why), ``skipped`` (a
    limit was reached before reading: size, time), ``unsupported`` (not a type MailAtlas
    reads, e.g. an image) or ``not_installed`` (the optional
    ``mailatlas-clean[attachments]`` extra is missing). ``text`` is ``None`` where only
    the summary was loaded (``show``); :meth:`Store.get_asset` loads it.
    """

    status: AssetTextStatus
    text: str | None = None
    chars: int = 0
    truncated: bool = False
    error: str | None = None
    extractor: str | None = None
    # The attachment's bytes and where in them ``text`` is, while it is held as them
    # (:meth:`held_as`).
    _source: tuple[bytes, int, int] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def held_as(self, data: bytes) -> AssetText:
        """The same, with ``text`` held as a span of ``data`` (the attachment's own bytes)
        and decoded from it at each read, when it is that span's UTF-8 form (a text
        file's text is its bytes, less the blank lines around it); else ``self``.

        Held once, not twice, in the storing process a parse worker sends it to (a
        message of thousands of text parts)."""
        text = self.text
        if text is None or self._source is not None or len(data) < len(text):
            return self
        try:
            decoded = data.decode("utf-8")
        except UnicodeDecodeError:
            return self
        start = decoded.find(text)
        if start < 0:
            return self
        if data.isascii():
            end = start + len(text)
        else:  # character offsets to byte offsets
            start = len(decoded[:start].encode("utf-8"))
            end = start + len(text.encode("utf-8"))
        held = object.__new__(AssetText)
        _restore(held, {**_set_fields(self), "_source": (data, start, end)})
        object.__delattr__(held, "text")
        return held

    if not TYPE_CHECKING:  # hidden from mypy: it would type every unknown attribute Any

        def __getattr__(self, name: str) -> Any:
            # Reached only when an attribute is not set: for ``text``, when held as bytes.
            source = self._source if name == "text" else None
            if source is None:
                raise _missing(self, name)
            data, start, end = source
            return str(memoryview(data)[start:end], "utf-8")

    def __getstate__(self) -> dict[str, Any]:
        return _set_fields(self)  # a text held as bytes is pickled as them

    def __setstate__(self, state: dict[str, Any]) -> None:
        _restore(self, state)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status,
            "chars": self.chars,
            "truncated": self.truncated,
            "error": self.error,
            "extractor": self.extractor,
        }
        if self.text is not None:
            out["text"] = self.text
        return out

    def summary(self) -> AssetText:
        """The same without the text itself."""
        return AssetText(self.status, None, self.chars, self.truncated, self.error, self.extractor)


@dataclass(frozen=True, slots=True)
class AssetData:
    """One inline image or attachment as decoded from the message.

    ``filename`` is already safe (the parser sanitised it and made it unique within the
    message); the store still refuses any name that would leave the workspace.
    """

    kind: AssetKind
    mime_type: str
    filename: str
    data: bytes
    cid: str | None = None
    original_filename: str | None = None
    text: AssetText | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return content_hash(self.data)

    def to_dict(self) -> dict[str, Any]:
        """The asset as JSON: the fields of a stored asset (:meth:`Asset.to_dict`) it has."""
        return {
            "kind": self.kind,
            "mime_type": self.mime_type,
            "cid": self.cid,
            "sha256": self.sha256,
            "filename": self.filename,
            "size": self.size,
            "text": self.text.summary().to_dict() if self.text else None,
        }

    def __repr__(self) -> str:
        return (
            f"AssetData(kind={self.kind!r}, filename={self.filename!r}, "
            f"mime_type={self.mime_type!r}, size={self.size})"
        )


@dataclass(slots=True, repr=False)
class ParsedDocument:
    """A parsed, cleaned message held in memory, not yet stored.

    ``body_html`` is the sanitised HTML snapshot whose ``cid:`` references already point
    at ``../assets/<id>/<filename>`` (relative to ``html/<id>.html``). ``metadata`` holds
    provenance, cleaning, parser_config, recipients, dates and defects
    (:class:`DocumentMetadata`); the store adds ``source`` from the location it was
    read at.
    """

    id: str
    raw: bytes
    content_hash: str
    message_id: str | None
    thread_id: str | None
    subject: str
    sender_name: str | None
    sender_email: str | None
    author: str | None
    received_at: str | None
    published_at: str | None
    body_text: str
    body_html: str | None
    metadata: DocumentMetadata = field(default_factory=empty_metadata)
    assets: list[AssetData] = field(default_factory=list)
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    # The fingerprint of ``raw`` (``mailatlas_core._ids.fingerprint``), taken by the parser
    # with ``content_hash`` (in its worker process, off the storing process's core);
    # ``None``: the store takes it. Not part of the document's JSON.
    fingerprint: Fingerprint | None = field(default=None, compare=False)
    # ``metadata`` as the store writes it (``_json.dumps``), taken in the parse worker by
    # :meth:`serialise_metadata`, so the storing process neither serialises it nor waits
    # for that; ``None``: the store serialises ``metadata``. A copy, not the truth: whoever
    # changes ``metadata`` after that sets it back to ``None``. Not part of the JSON.
    metadata_json: str | None = field(default=None, compare=False)
    # While ``metadata`` is deferred (:meth:`defer_metadata`): its text, and its
    # ``recipients`` (the one member the store reads, not decoded from the text for it).
    _deferred: tuple[str, Recipients | None] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def serialise_metadata(self) -> None:
        """Keep ``metadata`` as the store will write it in ``metadata_json`` (done where
        the parse ran, off the storing process)."""
        from ._json import dumps

        self.metadata_json = dumps(self.metadata)

    def defer_metadata(self) -> bool:
        """Hold ``metadata`` as its text alone (``metadata_json``, of which the document
        keeps its own reference) until it is read.

        A message of thousands of parts has metadata entries for each: as dicts they take
        about three times the memory of their text. A parse worker defers a large
        metadata, so the storing process, which writes the text as is, never builds
        them; reading ``doc.metadata`` decodes the text then, to the same dict (the
        parser's metadata is plain JSON data). Not deferred (``False``): a metadata that
        has a member the store adds (``source``...), whose text the store cannot append to.
        """
        if not self.metadata_deferred:
            if any(key in self.metadata for key in STORE_KEYS):
                return False
            if self.metadata_json is None:
                self.serialise_metadata()
            assert self.metadata_json is not None
            self._deferred = (self.metadata_json, self.metadata.get("recipients"))
            del self.metadata
        return True

    @property
    def metadata_deferred(self) -> bool:
        """Whether ``metadata`` is held as its JSON text only (:meth:`defer_metadata`)."""
        try:
            object.__getattribute__(self, "metadata")
        except AttributeError:
            return True
        return False

    @property
    def recipients(self) -> Recipients | None:
        """``metadata["recipients"]`` (``None`` if a document built by hand has none),
        without decoding a deferred metadata."""
        if self._deferred is not None and self.metadata_deferred:
            return self._deferred[1]
        return self.metadata.get("recipients")

    def hold_texts(self) -> None:
        """Hold each attachment text that is its file's UTF-8 bytes as those bytes
        (:meth:`AssetText.held_as`): what a parse worker sends."""
        for index, asset in enumerate(self.assets):
            if asset.text is not None:
                held = asset.text.held_as(asset.data)
                if held is not asset.text:
                    self.assets[index] = replace(asset, text=held)

    if not TYPE_CHECKING:  # hidden from mypy: it would type every unknown attribute Any

        def __getattr__(self, name: str) -> Any:
            # Reached only when an attribute is not set: for ``metadata``, when deferred
            # (decoded from its own copy of the text: ``metadata_json`` may be cleared).
            deferred = self._deferred if name == "metadata" else None
            if deferred is None:
                raise _missing(self, name)
            self.metadata = json.loads(deferred[0])
            self._deferred = None
            return self.metadata

    def __getstate__(self) -> dict[str, Any]:
        return _set_fields(self)  # a deferred ``metadata`` is pickled as its text alone

    def __setstate__(self, state: dict[str, Any]) -> None:
        _restore(self, state)

    def to_dict(self) -> dict[str, Any]:
        """The document as JSON, in the shape ``mailatlas show`` prints where they overlap.

        Not stored yet, so there is no ``source_kind``, ``created_at``, ``locations`` or
        file path: ``body_html`` is the sanitised HTML itself, ``raw_size`` the size of
        the original message, and each asset has no ``id`` or ``file_path``.
        """
        return {
            "id": self.id,
            "message_id": self.message_id,
            "thread_id": self.thread_id,
            "subject": self.subject,
            "sender_name": self.sender_name,
            "sender_email": self.sender_email,
            "author": self.author,
            "received_at": self.received_at,
            "published_at": self.published_at,
            "body_text": self.body_text,
            "body_html": self.body_html,
            "content_hash": self.content_hash,
            "raw_size": len(self.raw),
            "metadata": self.metadata,
            "assets": [asset.to_dict() for asset in self.assets],
        }

    def __repr__(self) -> str:
        # Short: the raw message and the bodies can be megabytes.
        return (
            f"ParsedDocument(id={self.id!r}, subject={_clip(self.subject)!r}, "
            f"author={self.author!r}, published_at={self.published_at!r}, "
            f"body_text={len(self.body_text)} chars, assets={len(self.assets)}, "
            f"raw={len(self.raw)} bytes)"
        )


def _set_fields(obj: Any) -> dict[str, Any]:
    """The fields of a dataclass that are set (one held as something else is not),
    read without the ``__getattr__`` that would rebuild it."""
    state = {}
    for f in fields(obj):
        with suppress(AttributeError):
            state[f.name] = object.__getattribute__(obj, f.name)
    return state


def _restore(obj: Any, state: dict[str, Any]) -> None:
    for name, value in state.items():
        object.__setattr__(obj, name, value)


def _missing(obj: Any, name: str) -> AttributeError:
    message = f"{type(obj).__name__!r} object has no attribute {name!r}"
    return AttributeError(message, name=name, obj=obj)


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where a message was read: a file, an mbox offset, a Maildir entry or an IMAP uid.

    An IMAP location also carries what the server said of the message there when it was
    read: its ``flags`` (system flags and keywords, :func:`~mailatlas_core._flags.
    normalize_flags`; ``None`` when not asked) and its ``modseq`` (CONDSTORE). They are
    state, not identity: :meth:`key` leaves them out.
    """

    kind: SourceKind
    path: str | None = None
    offset: int | None = None
    host: str | None = None
    port: int | None = None
    username: str | None = None
    folder: str | None = None
    uid: int | None = None
    uidvalidity: int | None = None
    flags: tuple[str, ...] | None = None
    modseq: int | None = None

    def key(self) -> str:
        """A canonical string that identifies this place (used for de-duplication)."""
        if self.kind == "imap":
            return (
                f"imap:{self.username}@{self.host}:{self.port}/{self.folder}"
                f";uidvalidity={self.uidvalidity};uid={self.uid}"
            )
        suffix = f"@{self.offset}" if self.offset is not None else ""
        return f"{self.kind}:{self.path}{suffix}"

    def to_metadata(self) -> SourceMetadata:
        """The ``metadata.source`` shape: only the fields that apply to this kind."""
        out: dict[str, Any] = {"kind": self.kind}
        for name in ("path", "offset", "host", "port", "folder", "uid", "uidvalidity"):
            value = getattr(self, name)
            if value is not None:
                out[name] = str(value) if name == "uidvalidity" else value
        return cast("SourceMetadata", out)  # the keys are SourceMetadata's, by name


@dataclass(frozen=True, slots=True)
class AddResult:
    """The store's answer to one add: a new document, or a duplicate of which one."""

    document_id: str
    is_new: bool
    ref: DocumentRef


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """The short form of a document, as listed by ``mailatlas list``."""

    id: str
    subject: str
    source_kind: SourceKind
    created_at: str
    sender_email: str | None = None
    received_at: str | None = None
    # Search results only (``list --query``): where the query matched — ``body`` (the
    # message: subject, people, body text) and/or ``attachment`` — and the ids of the
    # assets whose text matched. ``None`` (and absent from the JSON) otherwise.
    matched_in: tuple[MatchedIn, ...] | None = None
    matched_asset_ids: tuple[str, ...] | None = None
    # Listed documents seen on an IMAP server: folder -> the flags and keywords (sorted)
    # of its live location there, as of the last sync. ``None`` (and absent) otherwise.
    imap_flags: dict[str, list[str]] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "subject": self.subject,
            "source_kind": self.source_kind,
            "created_at": self.created_at,
            "sender_email": self.sender_email,
            "received_at": self.received_at,
        }
        if self.matched_in is not None:
            out["matched_in"] = list(self.matched_in)
            out["matched_asset_ids"] = list(self.matched_asset_ids or ())
        if self.imap_flags is not None:
            out["imap_flags"] = {folder: list(f) for folder, f in self.imap_flags.items()}
        return out


@dataclass(frozen=True, slots=True)
class Asset:
    """A stored inline image or attachment. ``file_path`` is absolute."""

    id: str
    document_id: str
    ordinal: int
    kind: AssetKind
    mime_type: str
    file_path: str
    cid: str | None
    sha256: str
    filename: str
    size: int
    text: AssetText | None = None  # None: stored before text extraction existed
    #: The blob key of its bytes (read them with ``BlobStore.open``); not serialised.
    key: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "document_id": self.document_id,
            "ordinal": self.ordinal,
            "kind": self.kind,
            "mime_type": self.mime_type,
            "file_path": self.file_path,
            "cid": self.cid,
            "sha256": self.sha256,
            "filename": self.filename,
            "size": self.size,
            "text": self.text.to_dict() if self.text else None,
        }


@dataclass(frozen=True, slots=True)
class Location:
    """One place a stored document was seen at.

    An IMAP location's ``detail`` also holds its current ``flags`` and ``keywords``
    (lists; ``None`` while not known), ``modseq`` and ``removed_at`` (when the message was
    found gone from that folder; ``None`` while it is there).
    """

    kind: SourceKind
    key: str
    detail: dict[str, Any]
    first_seen_at: str
    removed_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.detail, "first_seen_at": self.first_seen_at}


@dataclass(frozen=True, slots=True)
class Document:
    """A stored document with its assets: the schema of record (SPEC §3).

    Paths (``raw_path``, ``body_html_path``, asset ``file_path``) are absolute (or URLs
    for an object store); ``raw_key``, ``body_html_key`` and asset ``key`` are the blob
    keys they were located from.
    """

    id: str
    source_kind: SourceKind
    message_id: str | None
    thread_id: str | None
    subject: str
    sender_name: str | None
    sender_email: str | None
    author: str | None
    received_at: str | None
    published_at: str | None
    body_text: str
    body_html_path: str | None
    raw_path: str
    content_hash: str
    metadata: DocumentMetadata
    created_at: str
    assets: tuple[Asset, ...] = ()
    locations: tuple[Location, ...] = ()
    #: Blob keys of the raw message and the HTML snapshot (read them through the
    #: store's ``blobs``); not serialised.
    raw_key: str = ""
    body_html_key: str | None = None

    @property
    def deleted_on_server(self) -> bool:
        """Every place the document was seen at is gone: deleted (or moved out of reach)."""
        return bool(self.locations) and all(loc.removed_at for loc in self.locations)

    def ref(self) -> DocumentRef:
        return DocumentRef(
            id=self.id,
            subject=self.subject,
            source_kind=self.source_kind,
            created_at=self.created_at,
            sender_email=self.sender_email,
            received_at=self.received_at,
        )

    def to_dict(self) -> dict[str, Any]:
        """The one serialisation of a document: exactly what ``mailatlas show`` prints."""
        return {
            "id": self.id,
            "source_kind": self.source_kind,
            "message_id": self.message_id,
            "thread_id": self.thread_id,
            "subject": self.subject,
            "sender_name": self.sender_name,
            "sender_email": self.sender_email,
            "author": self.author,
            "received_at": self.received_at,
            "published_at": self.published_at,
            "body_text": self.body_text,
            "body_html_path": self.body_html_path,
            "raw_path": self.raw_path,
            "content_hash": self.content_hash,
            "metadata": self.metadata,
            "created_at": self.created_at,
            "assets": [a.to_dict() for a in self.assets],
            "locations": [loc.to_dict() for loc in self.locations],
            "deleted_on_server": self.deleted_on_server,
        }


@dataclass(slots=True)
class ImapCursor:
    """Sync state of one IMAP folder. Never holds a credential."""

    host: str
    port: int
    username: str
    folder: str
    uidvalidity: int
    last_uid: int = 0
    highestmodseq: int | None = None
    uidnext: int | None = None
    created_at: str | None = None
    updated_at: str | None = None


@dataclass(frozen=True, slots=True)
class FlagUpdate:
    """The current flags (normalised, keywords included) and MODSEQ of one message by UID."""

    uid: int
    flags: tuple[str, ...]
    modseq: int | None = None


@dataclass(frozen=True, slots=True)
class StoredFailure:
    """A message (or file) that could not be stored, as ``mailatlas failures`` lists it."""

    id: str
    created_at: str
    run_id: int | None
    run_kind: str | None
    kind: SourceKind
    source: str
    error: str
    raw_path: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created_at": self.created_at,
            "run_id": self.run_id,
            "run_kind": self.run_kind,
            "kind": self.kind,
            "source": self.source,
            "error": self.error,
            "raw_path": self.raw_path,
        }


@dataclass(frozen=True, slots=True)
class StoreStats:
    """What ``mailatlas stats`` prints: counts, bytes on disk, and where mail came from."""

    documents: int
    assets: int
    asset_bytes: int
    locations: int
    failures: int
    runs: int
    database_bytes: int
    workspace_bytes: int
    by_source_kind: dict[str, int]
    by_folder: dict[str, int]
    oldest: str | None
    newest: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "assets": self.assets,
            "asset_bytes": self.asset_bytes,
            "locations": self.locations,
            "failures": self.failures,
            "runs": self.runs,
            "database_bytes": self.database_bytes,
            "workspace_bytes": self.workspace_bytes,
            "total_bytes": self.database_bytes + self.workspace_bytes,
            "by_source_kind": dict(self.by_source_kind),
            "by_folder": dict(self.by_folder),
            "oldest": self.oldest,
            "newest": self.newest,
        }


@dataclass(slots=True)
class DeletedDocument:
    """What deleting one document removed, and any file it left alone (and why)."""

    id: str
    files_removed: list[str] = field(default_factory=list)
    files_left: list[dict[str, str]] = field(default_factory=list)
    bytes_freed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "deleted": True,
            "files_removed": list(self.files_removed),
            "files_left": [dict(f) for f in self.files_left],
            "bytes_freed": self.bytes_freed,
        }
