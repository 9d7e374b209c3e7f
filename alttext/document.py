"""Reading documents: bytes in, decoded text out, and back to the same bytes.

A document keeps its BOM and encoding so that a writer can re-encode the new
text into exactly the bytes of the old file wherever the text is unchanged.
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass

MAX_DOCUMENT_BYTES = 32 * 1024 * 1024

_BOMS = [
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]
# <meta charset="x"> or <meta http-equiv="Content-Type" content="text/html; charset=x">
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)


class DocumentError(Exception):
    """A document that cannot be read or decoded; the message names the file."""


@dataclass(frozen=True)
class Document:
    path: str
    raw: bytes
    text: str
    encoding: str
    bom: bytes

    def encode(self, text: str) -> bytes:
        """`text` in this document's encoding, with its BOM."""
        return self.bom + text.encode(self.encoding)


def decode(raw: bytes, path: str, *, html: bool = False) -> Document:
    """Decode `raw`: a BOM wins, then (for HTML) a declared charset, then UTF-8."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return _decode_as(raw, path, encoding, bom)
    if b"\0" in raw[:8192]:
        raise DocumentError(f"{path}: binary file (contains NUL bytes), not a text document")
    if html:
        declared = _META_CHARSET.search(raw[:2048])
        if declared:
            encoding = _known_encoding(declared.group(1).decode("ascii"), path)
            return _decode_as(raw, path, encoding, b"")
    return _decode_as(raw, path, "utf-8", b"")


def read_document(path: str, *, html: bool = False, max_bytes: int = MAX_DOCUMENT_BYTES) -> Document:
    try:
        size = os.path.getsize(path)
        if size > max_bytes:
            raise DocumentError(f"{path}: file is {size / 2**20:.1f} MiB, over the {max_bytes / 2**20:.0f} MiB limit")
        with open(path, "rb") as file:
            raw = file.read()
    except OSError as error:
        raise DocumentError(f"{path}: cannot read: {error.strerror or error}") from None
    return decode(raw, path, html=html)


def _known_encoding(name: str, path: str) -> str:
    """The Python codec for a declared charset label, read as browsers read it.

    The WHATWG Encoding Standard's label table (webencodings) comes first: `ascii` and
    `iso-8859-1` mean windows-1252, `unicode` means UTF-16LE, `gb2312` means GBK.
    A label it does not know falls back to Python's own names (`latin-1`).
    """
    import webencodings

    whatwg = webencodings.lookup(name)
    if whatwg is not None:
        if whatwg.name == "x-user-defined":  # as the HTML spec's <meta> prescan says
            return "cp1252"
        if whatwg.name == "replacement":
            raise DocumentError(f"{path}: declares charset {name!r}, which browsers do not decode as text "
                                f"({whatwg.name}); save the file as UTF-8")
        encoding = whatwg.codec_info.name
    else:
        try:
            encoding = codecs.lookup(name).name
        except LookupError:
            raise DocumentError(f"{path}: declares unknown charset {name!r}") from None
    # An HTML page that declares UTF-16 in ASCII-readable bytes is really ASCII-compatible.
    return "utf-8" if encoding.startswith("utf-16") else encoding


def _decode_as(raw: bytes, path: str, encoding: str, bom: bytes) -> Document:
    body = raw[len(bom) :]
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as error:
        line = body[: error.start].count(b"\n") + 1
        raise DocumentError(
            f"{path}:{line}: not valid {encoding} (byte 0x{body[error.start]:02x}); "
            "save the file as UTF-8 or declare its charset"
        ) from None
    return Document(path=path, raw=raw, text=text, encoding=encoding, bom=bom)
