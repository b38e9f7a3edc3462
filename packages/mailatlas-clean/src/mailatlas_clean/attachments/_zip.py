"""Checks on ZIP containers (DOCX, XLSX, PPTX, ODT) before any reader opens them.

* Zip bombs: the entry count, the total uncompressed size and (above 10 MB) the
  compression ratio are checked from the central directory before a byte is inflated.
  Python's ``zipfile`` never returns more than an entry's declared size (nor reads
  past a crafted one: the CRC check fails), so the declared sizes bound memory.
* XML attacks: every entry that is XML is first read by defusedxml up to its root
  element, with DTDs, entity declarations and external references forbidden. No
  declaration can reach the Office readers, which never see entities to expand or
  external files to fetch (and lxml, under python-docx, resolves none anyway).
"""

from __future__ import annotations

import io
import zipfile
from xml.etree.ElementTree import ParseError as XmlSyntaxError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from .._config import ExtractLimits
from ._errors import Refused

__all__ = ["open_zip"]

_RATIO_FROM = 10 * 1024 * 1024
_MB = 1024 * 1024


def open_zip(data: bytes, limits: ExtractLimits) -> zipfile.ZipFile:
    """``data`` as a checked ZIP archive.

    Raises:
        Refused: not a ZIP file, a zip bomb, or XML with a DTD or entity declarations.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise Refused(f"not a valid ZIP container ({exc})") from exc
    if len(entries) > limits.max_zip_entries:
        raise Refused(
            f"the archive has {len(entries)} entries, above the {limits.max_zip_entries} limit"
        )
    total = sum(e.file_size for e in entries)
    packed = sum(e.compress_size for e in entries) or 1
    if total > limits.max_zip_bytes:
        raise Refused(
            f"the archive would inflate to {total // _MB} MB, above the"
            f" {limits.max_zip_bytes // _MB} MB limit (a zip bomb?)"
        )
    if total > _RATIO_FROM and total > packed * limits.max_zip_ratio:
        raise Refused(
            f"the archive inflates {total // packed}:1, above the {limits.max_zip_ratio}:1"
            " limit (a zip bomb?)"
        )
    for entry in entries:
        if not entry.is_dir():
            _check_xml(archive, entry)
    return archive


def _check_xml(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> None:
    """Refuse an XML entry with a DTD, entities or external references (up to its root)."""
    try:
        with archive.open(entry) as head:
            start = head.read(64)
        if not start.lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n\x00").startswith(b"<"):
            return  # not XML (an image, a binary part): no reader parses it as XML
        with archive.open(entry) as stream:
            for _event, _element in iterparse(stream, events=("start",), forbid_dtd=True):
                break  # the root element: no declaration can follow it
    except DefusedXmlException as exc:
        raise Refused(
            f"{entry.filename} declares a DTD or entities, which MailAtlas never reads"
            f" ({type(exc).__name__})"
        ) from exc
    except XmlSyntaxError as exc:
        raise Refused(f"{entry.filename} is not well-formed XML ({exc})") from exc
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
        raise Refused(f"{entry.filename} cannot be read from the archive ({exc})") from exc
