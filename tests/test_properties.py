"""Property-based tests: odd and hostile inputs never crash a stage or break its promises.

Sources: any bytes give stories or one `SourceError` line naming the source. Teasers: within the
budget, whole words, never empty when the story has text, no markup left. Sentences: nothing lost
or invented. Render: any text in an issue renders escaped, in both parts.

Deterministic (`derandomize`); set HYPOTHESIS_PROFILE=explore to search with fresh random inputs.
"""

from __future__ import annotations

import codecs
import datetime as dt
import html
import importlib
import json
import pkgutil
import re

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

import digest
from digest.config import Settings
from digest.errors import BuildError, SourceError
from digest.http import Fetched
from digest.models import Image, Issue, Story
from digest.render import render_email
from digest.sources import parse_source
from digest.sources.items import is_web_url
from digest.teaser import make_teaser, split_sentences
from digest.teaser.words import CJK as _CJK
from digest.teaser.words import weight as _weight
from digest.text import clean_article_text
from tests.conftest import FIXTURES
from tests.support.shared_data import shared_data

# Hypothesis also draws constants found in the code under test, from the modules loaded when it
# generates: load them all, so the examples do not depend on which other tests ran first.
for _module in pkgutil.walk_packages(digest.__path__, "digest."):
    if not _module.name.endswith("__main__"):
        importlib.import_module(_module.name)

FIXTURE_FILES = sorted(
    path
    for folder in (
        FIXTURES / "sources",
        FIXTURES / "web",
        FIXTURES / "web" / "articles",
        shared_data("feeds-earlier"),
    )
    for path in folder.iterdir()
    if path.is_file() and path.suffix != ".md" and not path.name.startswith(".")
)
FIXTURE_BYTES = {path.name: path.read_bytes() for path in FIXTURE_FILES}


def examples(count: int) -> settings:
    """`count` examples in the default profile, proportionally more when exploring."""
    return settings(max_examples=max(1, count * settings.default.max_examples // 200))


# --- text that sources really send, and text they should not ---------------------------------

ODD_PIECES = [
    "<script>alert(1)</script>",
    "<style>p{}</style>",
    "<p>",
    "</p>",
    "<br>",
    "<b>",
    "</b>",
    "<a href='https://example.com/?a=1&b=2'>",
    "</a>",
    "<img src=x onerror=alert(1)>",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "&amp;",
    "&amp;amp;",
    "&lt;b&gt;",
    "&lt;/p&gt;",
    "&amp;lt;p&amp;gt;",
    "&amp;lt;/p&amp;gt;",
    "&nbsp;",
    "&#8217;",
    "&#x1F600;",
    "&#0;",
    "&#xD800;",
    "&#55357;&#56832;",
    "&#x110000;",
    "\ud800",
    "\udfff",
    "&bogus;",
    "AT&T",
    "R&D",
    "&",
    "<",
    ">",
    '"',
    "'",
    "“",
    "”",
    "«",
    "»",
    "\u202e",
    "\u200f",
    "\u200b",
    "\u00ad",
    "\ufeff",
    "\x00",
    "\x07",
    "\x1b",
    "\x85",
    "\u2028",
    "\r\n",
    "\n\n",
    "\t",
    " ",
    "  ",
    "😀",
    "👩‍👩‍👧",
    "中文字",
    "東京。",
    "ひらがな",
    "한국어",
    "مرحبا",
    "שלום",
    "Ünïcödé",
    "ß",
    "İ",
    "ﬁ",
    "Supercalifragilisticexpialidocious" * 4,
    "https://example.com/a?b=c.d",
    "user@example.com",
    "Mr.",
    "Dr.",
    "U.S.",
    "No. 5",
    "4. Mai",
    "...",
    "…",
    "[…]",
    ".",
    "!",
    "?",
    "。",
    ":",
    ";",
    ",",
    " — ",
    "-",
    "(",
    ")",
    "By Jane Doe | ",
    "WASHINGTON (AP) — ",
    "Read more",
    "Advertisement",
    "Photo: Agency",
]
WORDS = [
    "the",
    "harbour",
    "council",
    "said",
    "on",
    "Monday",
    "It",
    "A",
    "new",
    "plan",
    "1.2",
    "2026",
    "Ça",
    "über",
]


def odd_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Text mixing words, sentence ends, markup, entities, scripts and control characters."""
    piece = st.one_of(
        st.sampled_from(WORDS).map(lambda w: w + " "),
        st.sampled_from(ODD_PIECES),
        st.text(max_size=8),
    )
    return st.lists(piece, max_size=max_size).map("".join)


# --- sources ----------------------------------------------------------------------------------

BOMS = [codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, b""]
ENCODINGS = ["utf-16", "utf-16-be", "utf-32", "latin-1", "cp1252", "shift_jis", "koi8-r"]


@st.composite
def mutated_fixture(draw: st.DrawFn) -> bytes:
    data = FIXTURE_BYTES[draw(st.sampled_from(sorted(FIXTURE_BYTES)))]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(
                ["truncate", "flip", "insert", "bom", "encode", "attribute", "nest", "delete"]
            )
        )
        at = draw(st.integers(0, len(data)))
        if kind == "truncate":
            data = data[:at]
        elif kind == "flip":
            data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
        elif kind == "insert":
            insert = draw(st.one_of(st.binary(max_size=20), st.sampled_from(ODD_PIECES)))
            if isinstance(insert, str):
                insert = insert.encode("utf-8", errors="surrogatepass")
            data = data[:at] + insert + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 200)) :]
        elif kind == "bom":
            data = draw(st.sampled_from(BOMS)) + data
        elif kind == "encode":
            text = data.decode("utf-8", errors="replace")
            data = text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")
        elif kind == "attribute":
            tag = data.find(b"<item", at) if b"<item" in data else data.find(b"<", at)
            if tag >= 0:
                end = data.find(b">", tag)
                size = draw(st.sampled_from([1_000, 100_000]))
                attribute = b' url="' + b"A" * size + b'"'
                data = data[:end] + attribute + data[end:] if end > 0 else data
        elif kind == "nest":
            depth = draw(st.sampled_from([50, 3_000]))
            data = data[:at] + b"<div>" * depth + data[at:]
    return data


# Dates a feed might carry, including extremes at the edge of what datetime can hold.
DATES = st.one_of(
    st.sampled_from(
        [
            "Mon, 31 Dec 9999 23:00:00 -1400",
            "Fri, 31 Dez 9999 23:59:59 -1400",
            "31 Dez 9999 23:59:59 -1400",
            "Sat, 01 Jan 0001 00:00:00 +1400",
            "01 Jan 1 00:00:00 +1400",
            "Seg, 24 Set 2018 19:42:40 -0300",
            "December 31, 9999 11:59 PM",
            "January 1, 0001 12:00 AM",
            "9999-12-31T23:59:59-14:00",
            "0001-01-01T00:00:00+14:00",
            "2026-02-30T00:00:00Z",
            "99999-01-01",
            "",
            "yesterday",
        ]
    ),
    st.text(max_size=30),
)
URLS = st.one_of(
    st.sampled_from(
        [
            "https://example.com/story",
            "http://example.com/a b?c=d#e",
            "/relative/path",
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "https://[::1]:99999/x",
            "http://",
            "https://exa mple.com/",
            "file:///etc/passwd",
            "//example.com/x.jpg",
            "",
        ]
    ),
    st.text(max_size=30),
)


# What a feed may hold unescaped: character references that name no character (a UTF-16 pair
# written as two, a lone half, past U+10FFFF), entities XML does not know, stray markup.
RAW_XML = st.sampled_from(
    [
        "",
        "&#xD800;",
        "&#55357;&#56832;",
        "&#xDE00;",
        "&#x110000;",
        "&#99999999999999999999;",
        "&#0;",
        "&nbsp;",
        "&bogus;",
        "<br>",
        "<![CDATA[x]]>",
        "]]>",
    ]
)


def _xml_text(value: str, cdata: bool) -> str:
    if cdata:
        return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"
    return value.replace("&", "&amp;").replace("<", "&lt;")


@st.composite
def generated_feed(draw: st.DrawFn) -> bytes:
    """RSS or Atom with items whose fields hold odd text, odd URLs and odd dates."""
    atom = draw(st.booleans())
    items = []
    for _ in range(draw(st.integers(0, 3))):
        fields = []
        tags = ["title", "link", "description", "pubDate", "category", "author", "media"]
        if atom:
            tags = ["title", "link", "summary", "content", "updated", "published", "author"]
        for tag in draw(st.lists(st.sampled_from(tags), max_size=7)):
            cdata = draw(st.booleans())
            if tag == "link":
                url = draw(URLS)
                fields.append(
                    f'<link href="{_xml_text(url, False)}"/>'
                    if atom
                    else f"<link>{_xml_text(url, cdata)}</link>"
                )
            elif tag in ("pubDate", "updated", "published"):
                fields.append(f"<{tag}>{_xml_text(draw(DATES), False)}</{tag}>")
            elif tag == "media":
                url = _xml_text(draw(URLS), False).replace('"', "&quot;")
                width = draw(st.sampled_from(["", "0", "-5", "1e9", "99999999999999999999", "x"]))
                fields.append(
                    f'<media:content url="{url}" width="{width}" medium="image">'
                    f"<media:description>{_xml_text(draw(odd_text(8)), cdata)}</media:description>"
                    "</media:content>"
                )
            elif tag == "author" and atom:
                fields.append(
                    f"<author><name>{_xml_text(draw(odd_text(5)), cdata)}</name></author>"
                )
            else:
                kind = ' type="html"' if atom and tag in ("summary", "content") else ""
                value = _xml_text(draw(odd_text(20)), cdata) + draw(RAW_XML)
                fields.append(f"<{tag}{kind}>{value}</{tag}>")
        items.append(("<entry>" if atom else "<item>") + "".join(fields))
        items[-1] += "</entry>" if atom else "</item>"
    if atom:
        document = '<feed xmlns="http://www.w3.org/2005/Atom">' + "".join(items) + "</feed>"
    else:
        document = (
            '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>'
            f"<title>T</title><link>{_xml_text(draw(URLS), False)}</link>"
            + "".join(items)
            + "</channel></rss>"
        )
    declaration = draw(
        st.sampled_from(
            ["", '<?xml version="1.0" encoding="utf-8"?>', '<?xml version="1.0" encoding="bogus"?>']
        )
    )
    return (declaration + document).encode("utf-8", errors="surrogatepass")


JSON_KEYS = [
    "version",
    "items",
    "title",
    "url",
    "external_url",
    "content_html",
    "content_text",
    "summary",
    "image",
    "banner_image",
    "date_published",
    "date_modified",
    "authors",
    "author",
    "name",
    "tags",
    "home_page_url",
    "icon",
    "lead",
    "more",
    "stories",
    "teaser",
    "text",
    "caption",
    "credit",
    "kicker",
    "published",
    "alt",
    "width",
    "height",
]
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.sampled_from(["https://jsonfeed.org/version/1.1", "https://example.com/x"]),
    URLS,
    DATES,
    odd_text(10),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(JSON_KEYS), st.text(max_size=5)), inner, max_size=6
        ),
    ),
    max_leaves=20,
)


@st.composite
def json_or_yaml_document(draw: st.DrawFn) -> bytes:
    """Documents shaped like JSON Feeds and curated files, written as JSON or YAML."""
    value = draw(JSON_VALUES)
    shape = draw(st.sampled_from(["plain", "jsonfeed", "curated"]))
    if shape == "jsonfeed":
        value = {"version": "https://jsonfeed.org/version/1.1", "items": [value]}
    elif shape == "curated":
        value = {draw(st.sampled_from(["lead", "more", "stories"])): value}
    if draw(st.booleans()):
        return json.dumps(value, ensure_ascii=draw(st.booleans())).encode(
            "utf-8", errors="surrogatepass"
        )
    return yaml.safe_dump(value, allow_unicode=True).encode("utf-8", errors="surrogatepass")


# YAML scalars that the syntax allows but PyYAML may fail to build, and other odd shapes.
YAML_VALUES = st.one_of(
    st.sampled_from(
        [
            "2026-02-30",
            "2026-11-26T25:00:00",
            "2026-11-26 10:00:00 +99:00",
            "0000-01-01",
            "!!timestamp x",
            "!!int abc",
            "!!float x",
            "!!bool maybe",
            "!!binary abc",
            "!!set {a, b}",
            "!!python/object:os.system x",
            "9" * 5_000,
            "&a [*a]",
            "*nope",
            "{<<: 5}",
            "{[1, 2]: x}",
            ".nan",
            "~",
            "|\n  block\n  text",
            '"\\ud800 \\e"',
            "https://example.com/story",
        ]
    ),
    odd_text(6).map(json.dumps),
)


# JSON that json.dumps never writes: numbers Python will not read, NaN, lone surrogate escapes,
# repeated keys, a byte order mark.
JSON_ODDITIES = st.sampled_from(
    [
        b'{"lead": {"title": "A", "url": "https://e.com/a", "image": {"url": "a.jpg", "width": '
        + b"9" * 5_000
        + b"}}}",
        b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": '
        + b"9" * 5_000
        + b', "url": "https://e.com/a"}]}',
        b'{"lead": {"title": "A", "url": "https://e.com/a", "published": NaN}}',
        b'{"lead": {"title": "A", "url": "https://e.com/a", "published": -Infinity}}',
        b'{"lead": {"title": "\\ud800", "url": "https://e.com/a\\udfff", "text": "\\ud83d"}}',
        b'{"stories": [{"title": "A", "title": "B", "url": "https://e.com/a"}]}',
        b'\xef\xbb\xbf{"more": [{"title": "A", "url": "https://e.com/a"}]}',
        b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"url": "https://e.com/a", '
        b'"content_html": "&#xD800; &#55357;&#56832; <p>x", '
        b'"date_published": "9999-12-31T23:59:59-14:00"}]}',
    ]
)


@st.composite
def yaml_text(draw: st.DrawFn) -> bytes:
    """YAML written by hand: keys of curated files and JSON Feeds with odd values."""
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        indent = "  " * draw(st.integers(0, 2))
        item = draw(st.sampled_from(["", "- "]))
        key = draw(st.sampled_from(JSON_KEYS))
        lines.append(f"{indent}{item}{key}: {draw(YAML_VALUES)}")
    return "\n".join(lines).encode("utf-8", errors="surrogatepass")


@st.composite
def nested(draw: st.DrawFn) -> bytes:
    """Structures nested past what a recursive reader can follow (Python stops at 1,000)."""
    depth = draw(st.integers(1, 1_500))
    shape = draw(st.sampled_from(["json-list", "json-lead", "yaml", "xml", "html"]))
    if shape == "json-list":
        return b"[" * depth + b"]" * depth
    if shape == "json-lead":
        return b'{"lead":' * depth + b"1" + b"}" * depth
    if shape == "yaml":
        return b"lead:\n" + b"- " * depth + b"x"
    if shape == "xml":
        return b"<rss><channel><item>" + b"<title>" * depth + b"x"
    return b"<html><body>" + b"<div>" * depth + b"Text"


@st.composite
def generated_page(draw: st.DrawFn) -> bytes:
    """A news page: metadata, JSON-LD, a headline, paragraphs and a related-stories rail, all
    holding odd text and odd addresses."""

    def attr(value: str) -> str:
        return html.escape(value, quote=True)

    head = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["title", "og", "canonical", "ld", "refresh", "feed"]))
        if kind == "title":
            head.append(f"<title>{html.escape(draw(odd_text(6)))}</title>")
        elif kind == "og":
            name = draw(st.sampled_from(["og:title", "og:image", "og:description", "og:url"]))
            head.append(f'<meta property="{name}" content="{attr(draw(odd_text(6)))}">')
        elif kind == "canonical":
            head.append(f'<link rel="canonical" href="{attr(draw(URLS))}">')
        elif kind == "ld":
            ld = draw(JSON_VALUES)
            if draw(st.booleans()):
                ld = {"@type": "NewsArticle", "headline": ld, "articleBody": draw(odd_text(10))}
            text = json.dumps(ld).replace("</", "<\\/")
            head.append(f'<script type="application/ld+json">{text}</script>')
        elif kind == "refresh":
            head.append(f'<meta http-equiv="refresh" content="0; url={attr(draw(URLS))}">')
        else:
            head.append(
                f'<link rel="alternate" type="application/rss+xml" href="{attr(draw(URLS))}">'
            )
    body = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["h1", "p", "img", "rail", "raw"]))
        if kind == "h1":
            body.append(f"<h1>{draw(odd_text(6))}</h1>")
        elif kind == "p":
            body.append(f"<p>{draw(odd_text(20))}</p>")
        elif kind == "img":
            body.append(
                f'<figure><img src="{attr(draw(URLS))}" width="{attr(draw(st.text(max_size=4)))}">'
                f"<figcaption>{draw(odd_text(5))}</figcaption></figure>"
            )
        elif kind == "rail":
            items = "".join(
                f'<li><a href="{attr(draw(URLS))}">{draw(odd_text(6))}</a>'
                f"<p>{draw(odd_text(8))}</p></li>"
                for _ in range(draw(st.integers(0, 3)))
            )
            body.append(f"<section><h2>More For You</h2><ul>{items}</ul></section>")
        else:
            body.append(draw(odd_text(10)))
    wrapper = draw(st.sampled_from(["article", "main", "div"]))
    page = (
        f"<!DOCTYPE html><html><head>{''.join(head)}</head>"
        f"<body><{wrapper}>{''.join(body)}</{wrapper}></body></html>"
    )
    return page.encode("utf-8", errors="surrogatepass")


SOURCE_BYTES = st.one_of(
    st.binary(max_size=500),
    mutated_fixture(),
    generated_feed(),
    json_or_yaml_document(),
    yaml_text(),
    JSON_ODDITIES,
    st.text(max_size=200).map(lambda t: t.encode("utf-8", errors="surrogatepass")),
    nested(),
    generated_page(),
)
SOURCE_URLS = st.sampled_from(
    [
        "https://example.com/feed",
        "https://example.com/feed.json",
        "https://example.com/today.yaml",
        "https://example.com/page.html",
        "file:///nonexistent/folder/curated.yaml",
        "file:///nonexistent/folder/feed.xml",
    ]
)
CONTENT_TYPES = st.sampled_from(
    ["", "application/rss+xml", "text/html", "application/json", "text/yaml", "image/png"]
)


@examples(200)
@given(content=SOURCE_BYTES, url=SOURCE_URLS, content_type=CONTENT_TYPES)
def test_any_source_bytes_give_stories_or_one_line_naming_the_source(
    content: bytes, url: str, content_type: str
) -> None:
    location = "sources/odd-source"
    fetched = Fetched(content=content, url=url, content_type=content_type)
    try:
        stories = parse_source(fetched, location)
    except SourceError as error:
        message = str(error)
        assert message.startswith(f"{location}: "), message
        assert len(message.splitlines()) == 1, message
        assert message.strip() == message
        return
    assert isinstance(stories, list)
    for story in stories:
        assert isinstance(story, Story)
        assert story.title.strip(), story
        assert is_web_url(story.url), story
        story.model_dump_json()  # storable: valid Unicode throughout


@pytest.mark.parametrize(
    "page",
    [
        b"<p>Harbour reopens\x0e today.</p>",  # article_text.py: element.text = ...
        "<p>Harbour reopens \ufffe today.</p>".encode(),
        # article.py, _pictures_shown: img.set("src", ...)
        b'<article><h1>Harbour</h1><p>a</p><p>b</p><img src="a\x1b.jpg"></article>',
    ],
    ids=["control-in-text", "noncharacter-in-text", "control-in-img-src"],
)
def test_a_page_with_a_control_character_is_read_or_refused_in_one_line(page: bytes) -> None:
    fetched = Fetched(content=page, url="https://example.com/story", content_type="text/html")
    try:
        parse_source(fetched, "page")
    except SourceError as error:
        assert str(error).startswith("page: ")


@pytest.mark.parametrize(
    "content",
    [
        b"<!DOCTYPE x [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>"
        b"<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'><!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'>"
        b"<!ENTITY e '&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;'>]><rss><channel><item><title>&e;</title>"
        b"<link>https://example.com/</link></item></channel></rss>",
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<rss><channel><item><title>Hi &x;</title><link>https://example.com/</link></item>"
        b"</channel></rss>",
    ],
    ids=["billion-laughs", "external-entity"],
)
def test_xml_entities_neither_blow_up_nor_read_files(content: bytes) -> None:
    fetched = Fetched(content=content, url="https://example.com/feed")
    try:
        stories = parse_source(fetched, "feed")
    except SourceError as error:
        assert str(error).startswith("feed: ")
        return
    for story in stories:
        assert len(story.title) < 20_000
        assert "root:" not in story.title + story.text


# --- teasers ----------------------------------------------------------------------------------

LANGUAGES = st.sampled_from(["en", "de", "fr", "ja", "zh", "ar", "xx", "pt-BR"])
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_MARKUP = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|<!--")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_UNSHOWABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _undecoded_entities(text: str) -> list[str]:
    """Entities in `text` that name a character ("&amp;", "&#8217;"; not "&bogus;")."""
    return [m.group(0) for m in _ENTITY.finditer(text) if html.unescape(m.group(0)) != m.group(0)]


def _tags_written_as_text(source: str) -> set[str]:
    """Tags that HTML `source` writes as text, escaped ("Use the &lt;b&gt; tag"): what is left
    once its own tags are gone and entities are decoded as far as they go. Text without tags that
    holds escaped ones is HTML escaped too often, read as that HTML. Plain text writes none."""
    for _ in range(6):
        if _MARKUP.search(source):
            break
        source = html.unescape(source)
    if not _MARKUP.search(source):
        return set()
    text = _MARKUP.sub(" ", source)
    for _ in range(6):
        text = html.unescape(text)
    return set(_TAG.findall(text))


def _ends_a_word(word: str, source: str) -> bool:
    """Whether `word` occurs in `source` not cut inside a word: its last character and the one
    after it are not both letters or digits, unless one is CJK, where words are not spaced."""
    start = source.find(word)
    while start != -1:
        after = source[start + len(word) : start + len(word) + 1]
        last = word[-1]
        if not (last.isalnum() and after.isalnum()) or _CJK.match(last) or _CJK.match(after):
            return True
        start = source.find(word, start + 1)
    return False


@examples(300)
@given(
    text=odd_text(),
    budget=st.integers(1, 80),
    title=st.one_of(st.just(""), odd_text(6)),
    language=LANGUAGES,
)
def test_teaser_is_whole_words_within_budget_and_never_empty(
    text: str, budget: int, title: str, language: str
) -> None:
    teaser = make_teaser(text, budget, title=title, language=language)
    assert teaser == teaser.strip()
    assert set(_TAG.findall(teaser)) <= _tags_written_as_text(text), teaser
    assert not _undecoded_entities(teaser), teaser
    cleaned = clean_article_text(text)
    if any(char.isalnum() for char in cleaned):
        assert any(char.isalnum() for char in teaser), (cleaned, teaser)
    if not teaser:
        return
    core = teaser.removesuffix("…")
    # A first sentence (or a short opening and the sentence after it) may run a fifth over.
    assert _weight(core) <= 2 * budget + int(2 * budget * 0.2), (teaser, budget)
    if core.split():
        last = core.split()[-1]
        assert _ends_a_word(last, cleaned), (last, cleaned)


def test_teaser_budget_below_one_is_a_build_error() -> None:
    for budget in (0, -1):
        try:
            make_teaser("Some text.", budget)
        except BuildError:
            continue
        raise AssertionError("no BuildError")


# --- sentences --------------------------------------------------------------------------------

_NON_SPACE = re.compile(r"\s")


@examples(300)
@given(text=odd_text(60), language=LANGUAGES)
def test_sentences_lose_and_invent_nothing(text: str, language: str) -> None:
    sentences = split_sentences(text, language)
    assert all(sentence == sentence.strip() and sentence for sentence in sentences)
    assert _NON_SPACE.sub("", "".join(sentences)) == _NON_SPACE.sub("", text)


# --- render -----------------------------------------------------------------------------------

RENDER_TEXT = st.one_of(odd_text(12), st.text(min_size=1, max_size=40))


def _shown(text: str) -> str:
    return " ".join(text.split())


@st.composite
def odd_story(draw: st.DrawFn, n: int) -> Story:
    image = None
    if draw(st.booleans()):
        image = Image(
            url=draw(URLS),
            alt=draw(RENDER_TEXT),
            caption=draw(RENDER_TEXT),
            credit=draw(RENDER_TEXT),
            width=draw(st.one_of(st.none(), st.integers(1, 10_000))),
            height=draw(st.one_of(st.none(), st.integers(1, 10_000))),
        )
    title = draw(RENDER_TEXT.filter(lambda t: _shown(t) != ""))
    return Story(
        title=title,
        url=draw(URLS),
        teaser=draw(RENDER_TEXT),
        kicker=draw(RENDER_TEXT),
        author=draw(RENDER_TEXT),
        image=image,
    )


@examples(100)
@given(
    lead=odd_story(0),
    more=st.lists(odd_story(1), max_size=3),
    subject=RENDER_TEXT,
    preheader=RENDER_TEXT,
    newsletter=RENDER_TEXT,
)
def test_any_text_renders_escaped_in_both_parts(
    lead: Story, more: list[Story], subject: str, preheader: str, newsletter: str
) -> None:
    issue = Issue(
        date=dt.date(2026, 11, 26),
        newsletter=newsletter,
        subject=subject,
        preheader=preheader,
        lead=lead,
        more=more,
    )
    rendered = render_email(issue, Settings())
    doc = lxml_html.document_fromstring(rendered.html)
    assert not doc.xpath("//script"), "a <script> from the data survived"
    assert "<script" not in rendered.html.lower()
    body = _shown(doc.body.text_content())
    text = _shown(rendered.text)
    for story in issue.stories:
        title = _visible(story.title)
        assert title in body, title
        assert title in text, title
    for href in doc.xpath("//a/@href"):
        assert href.startswith(("https://", "http://", "mailto:")), href


def _visible(text: str) -> str:
    """A title as a reader can see it: without what no email can hold (control characters that
    are not white space, lone surrogates, U+FFFE, U+FFFF); white space is one space."""
    return _shown(_UNSHOWABLE.sub("", "".join(" " if c.isspace() else c for c in text)))
