"""Sources written in UTF-16 or UTF-32, which XML allows (with a byte-order mark, or recognised
from how `<?xml` is laid out, XML 1.0 Appendix F) and JSON once did (RFC 4627): re-encoded as
UTF-8 before anything reads them, so every reader and every sniffer sees one kind of text.
"""

from __future__ import annotations

import codecs
import re

from digest.http import Fetched

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
"""UTF-32 LE's mark starts with UTF-16 LE's: it is tried first."""
_XML_ENCODING = re.compile(r"""(\A\s*<\?xml\s[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2""")


def wide_codec(content: bytes) -> str | None:
    """The UTF-16/UTF-32 codec `content` is in, from its byte-order mark or, without one, from
    where the zero bytes fall around its first (ASCII) character; None for any other text."""
    for bom, codec in BOMS:
        if content.startswith(bom):
            return codec
    head = content[:4]
    if len(head) < 4 or 0 not in head:
        return None
    zero = [byte == 0 for byte in head]
    layouts = {
        (True, True, True, False): "utf-32-be",
        (False, True, True, True): "utf-32-le",
        (True, False, True, False): "utf-16-be",
        (False, True, False, True): "utf-16-le",
    }
    return layouts.get((zero[0], zero[1], zero[2], zero[3]))


def as_utf8(fetched: Fetched) -> Fetched:
    """`fetched` re-encoded as UTF-8 when it is in UTF-16 or UTF-32, its XML declaration and
    charset saying so; as it is otherwise (and when bytes without a byte-order mark do not decode
    in the form their zero bytes suggest)."""
    codec = wide_codec(fetched.content)
    if codec is None:
        return fetched
    bom = next((bom for bom, name in BOMS if name == codec), b"")
    if fetched.content.startswith(bom) and bom:
        # A byte-order mark settles it: a stray bad unit is U+FFFD, as a browser shows it.
        text = fetched.content.removeprefix(bom).decode(codec, errors="replace")
    else:
        try:
            text = fetched.content.decode(codec)
        except UnicodeDecodeError:
            return fetched
    text = _XML_ENCODING.sub(lambda match: f"{match[1]}{match[2]}UTF-8{match[2]}", text, count=1)
    return fetched.model_copy(update={"content": text.encode("utf-8"), "charset": "utf-8"})
