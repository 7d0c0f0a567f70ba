"""Which charset a body is in, and its text: the byte-order mark, the HTTP header, the XML
declaration and `<meta charset>`, checked against the bytes themselves (WHATWG's practice)."""

from __future__ import annotations

import codecs
import re

# WHATWG: these labels mean windows-1252 in practice.
_WINDOWS_1252 = frozenset({"iso-8859-1", "latin-1", "latin1", "ascii", "us-ascii", "iso8859-1"})
_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]{0,200}?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)")
_META_CHARSET = re.compile(rb"<meta[^>]{0,300}?charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.I)
_SNIFF_BYTES = 4_096


def decode_text(content: bytes, declared: str | None = None) -> str:
    """Text of a body in the charset `sniff_charset` finds. Never raises."""
    return _decoded(content, declared)[1]


def sniff_charset(content: bytes, declared: str | None = None) -> str:
    """The codec a body is in: a byte-order mark, then the HTTP header, the XML declaration and
    `<meta charset>`, in that order. A charset the bytes contradict is skipped, and a body that
    is valid UTF-8 beyond ASCII is UTF-8 whatever it declares (a server's default "ISO-8859-1",
    a template's stale `<meta>`): text in another charset is practically never valid UTF-8.
    Without any usable declaration: UTF-8, else windows-1252."""
    return _decoded(content, declared)[0]


def _decoded(content: bytes, declared: str | None) -> tuple[str, str]:
    """`sniff_charset`'s codec and the text in it: the body is decoded once per candidate, and
    the text that decided is the one returned."""
    if content.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", content.decode("utf-8-sig", errors="replace")
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", content.decode("utf-16", errors="replace")
    head = content[:_SNIFF_BYTES]
    in_document = [
        match.group(1).decode("ascii")
        for match in (_XML_ENCODING.match(head), _META_CHARSET.search(head))
        if match
    ]
    utf8 = _as_utf8(content)
    candidates = [(declared, False)] + [(name, True) for name in in_document]
    for name, from_document in candidates:
        codec = _codec(name, from_document=from_document)
        if codec is None:
            continue
        if utf8 is not None and (codec == "utf-8" or not content.isascii()):
            return "utf-8", utf8
        try:
            return codec, content.decode(codec)
        except UnicodeDecodeError:
            continue
    if utf8 is not None:
        return "utf-8", utf8
    return "cp1252", content.decode("cp1252", errors="replace")


def _as_utf8(content: bytes) -> str | None:
    """The body as UTF-8 text; None when it is not UTF-8."""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _codec(name: str | None, *, from_document: bool) -> str | None:
    if not name:
        return None
    label = name.strip().lower()
    if label in _WINDOWS_1252:
        return "cp1252"
    try:
        codec = codecs.lookup(label).name
    except LookupError:
        return None
    # A document that could declare itself in ASCII bytes is not UTF-16 (WHATWG: read as UTF-8).
    if from_document and codec.startswith(("utf-16", "utf-32")):
        return "utf-8"
    return codec
