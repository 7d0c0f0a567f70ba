"""The article's main text: the prose of a page, one paragraph a line, read by trafilatura from a
copy of the page without share bars, then stripped of what may come before the story (the
headline again, a breadcrumb trail, a call to action, an ad label)."""

from __future__ import annotations

import copy
import re
from itertools import pairwise

from lxml import html as lxml_html

from digest.sources.pictures import name_words

_PREFORMATTED = ("pre", "textarea", "listing", "plaintext", "xmp")
_LINE_BREAK = re.compile(r"\s*\n\s*")
_PRUNED = [
    f"//*[contains(translate(@id, '{word.upper()}', '{word}'), '{word}')"
    f" or contains(translate(@class, '{word.upper()}', '{word}'), '{word}')]"
    for word in ("byline", "recirc")
]
"""Bylines and "recirculation" boxes (links to more stories), which trafilatura keeps when only
an id says byline or a class says recirc (`inline-article-recirc`)."""
_TRAIL_SEPARATOR = re.compile(r"\s+[>›»|/＞]\s+|\s*(?:←→|↔|⇔)\s*")
_TRAIL_PARTS = 3
_TRAIL_PART_CHARS = 30
_PROMO_CHARS = 300
"""The longest line at the start of the text that may be a call to action and not the story."""
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s*")
_CALL_TO_ACTION = re.compile(
    r"(?:please\s+|now\s+)?(?:"
    r"(?:share|send|submit|upload)\s+(?:us\s+)?your\b"
    r"|(?:sign\s+up|subscribe|register)\b|follow\s+us\b|like\s+us\b|join\s+(?:us|our)\b"
    r"|(?:download|get|install)\s+(?:our|the)\b.{0,40}\bapps?\b|click\s+here\b"
    r"|(?:start|begin)\s+your\s+(?:day|morning|week)\b|get\s+(?:the|our)\b.{0,60}\bnewsletter\b"
    # Spanish, Portuguese, French, German, Italian
    r"|suscr[ií]bete|suscr[ií]base|s[ií]guenos|s[ií]ganos|desc[aá]rga(?:te|nos)?\s+(?:la|nuestra)\b"
    r"|comparte\s+tus\b|env[ií]anos\b|assine\b|inscreva-se|siga-nos|baixe\s+o\b"
    r"|abonnez-vous|inscrivez-vous|suivez-nous|t[ée]l[ée]chargez|partagez\s+vos\b"
    r"|abonnieren\s+sie|folgen\s+sie\s+uns|laden\s+sie\b|melden\s+sie\s+sich"
    r"|iscriviti|seguici|scarica\s+l"
    r")",
    re.IGNORECASE,
)
"""How a sentence addressed to the reader starts: share your photos, sign up, follow us,
download our app… (in English and some European languages)."""
_WIDGET_LABEL = re.compile(
    r"(?:share|share\s+(?:this|on|via)\b.{0,25}|compartir|compartilhar|partager|teilen|condividi"
    r"|(?:この(?:ニュース|記事)を)?(?:シェア|共有)(?:する)?|分享(?:到)?|공유(?:하기)?|مشاركة"
    r"|advertisement|advertising|sponsored|publicidad|anuncio|anzeige|werbung|publicité"
    r"|pubblicità|広告|广告|إعلان)\s*[:：]?",
    re.IGNORECASE,
)
"""The label of a share button bar or an ad slot, alone on a line, in some languages."""
_SHARE_WORDS = frozenset({"share", "sharing", "social", "sns", "sharethis", "addthis", "addtoany"})
_MAYBE_SHARE = re.compile(r"shar|soci|sns|addt", re.IGNORECASE)
_WIDGET_CHARS = 200
"""The most text a share widget holds ("Share this story: Facebook, X, WhatsApp, Email…")."""
_POPUP_WORDS = frozenset({"hovercard", "tooltip", "popover", "tippy", "popup"})
"""Class or id words of a card shown on hover (a person's full name and job behind a link),
whose text trafilatura glues into the sentence: "Gov. Kristi NoemKristi Lynn NoemSouth…"."""
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def main_text(root: lxml_html.HtmlElement) -> str:
    """The article's prose, one paragraph a line, without navigation, rails or comments."""
    # trafilatura takes most of a second to import; only pay that when a page is read.
    import trafilatura

    readable = _readable(root)
    captions = {folded(text) for text in _caption_texts(readable)} - {""}
    page = lxml_html.tostring(readable, encoding="unicode")
    # Favouring precision drops boilerplate the default keeps (readers' comments it does not
    # recognise as such, share and paywall boxes, lists of links to other stories) but leaves
    # nothing of some table-layout pages; those are read again with the defaults.
    for precise in (True, False):
        text = trafilatura.extract(
            page,
            output_format="txt",
            favor_precision=precise,
            include_comments=False,
            include_tables=False,
            include_images=False,
            # Its deduplication remembers text across calls in a process-wide cache: the same
            # page would give different text the second time.
            deduplicate=False,
            prune_xpath=_PRUNED,
        )
        if text and text.strip():
            return "\n".join(
                line for line in text.strip().split("\n") if folded(line) not in captions
            )
    return ""


def _caption_texts(page: lxml_html.HtmlElement) -> list[str]:
    """The page's picture captions, which are never the article's prose (trafilatura sometimes
    keeps one as a paragraph, and it became the teaser)."""
    return [element.text_content() for element in page.iter("figcaption")]


def _readable(root: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
    """A copy of the page as trafilatura should read it:
    - with the line breaks of its source text made spaces, as browsers show them (trafilatura
      keeps them, cutting a paragraph into lines), but in preformatted text;
    - without share and follow-us button bars: elements with little text whose class or id says
      share, social or sns (`article-sns`, `social-share`, `shareBar`), whose labels
      ("このニュースをシェア", "Share this story") trafilatura keeps when they are headings;
    - without hover cards and elements the page hides, whose text is not shown in the story."""
    page = copy.deepcopy(root)
    kept = {element for block in page.iter(*_PREFORMATTED) for element in block.iter()}
    widgets = []
    for element in page.iter():
        if element.text and element not in kept:
            element.text = _LINE_BREAK.sub(" ", element.text)
        if element.tail and element.getparent() not in kept:
            element.tail = _LINE_BREAK.sub(" ", element.tail)
        if isinstance(element.tag, str) and _is_share_widget(element):
            widgets.append(element)
    hidden = [
        element
        for element in page.iter()
        if isinstance(element.tag, str)
        and element.tag not in ("html", "body")
        and _is_hidden(element)
    ]
    for element in widgets:
        if len(element.text_content()) <= _WIDGET_CHARS:
            element.drop_tree()
    for element in hidden:
        if element.getparent() is not None:
            element.drop_tree()
    return page


def _is_hidden(element: lxml_html.HtmlElement) -> bool:
    """Whether the reader does not see `element` as part of the page: a hover card, or an
    element hidden by its `hidden` attribute or its style."""
    if element.get("hidden") is not None or _HIDDEN_STYLE.search(element.get("style") or ""):
        return True
    words = name_words(f"{element.get('class') or ''} {element.get('id') or ''}")
    return any(word in _POPUP_WORDS for word in [*words, *map("".join, pairwise(words))])


def _is_share_widget(element: lxml_html.HtmlElement) -> bool:
    names = f"{element.get('class') or ''} {element.get('id') or ''}"
    if not _MAYBE_SHARE.search(names) or element.tag in ("html", "body", "article", "main"):
        return False
    words = set(name_words(names))
    return any(word in _SHARE_WORDS or word.startswith(("share", "social")) for word in words)


def from_prose(text: str, title: str) -> str:
    """Main text from its first line of prose: without the headline trafilatura sometimes keeps
    as its first line, nor a breadcrumb trail or a line of facts above the story ("Home > News >
    Local", "Jane Doe | Palma | 08/01/2014"), nor a call to action ("Please share your photos")."""
    lines = text.split("\n")
    while lines and (
        _is_trail(lines[0])
        or (title and folded(lines[0]) == folded(title))
        or _is_call_to_action(lines[0])
        or _WIDGET_LABEL.fullmatch(lines[0].strip())
    ):
        lines.pop(0)
    return "\n".join(lines).lstrip()


def _is_call_to_action(line: str) -> bool:
    """A short line whose every sentence asks something of the reader: a call to action, maybe
    after a question ("Caught in the storm? Please share your photos at iReport.")."""
    line = line.strip()
    if not line or len(line) > _PROMO_CHARS:
        return False
    sentences = [part for part in _SENTENCE.split(line) if part]
    return any(_CALL_TO_ACTION.match(part) for part in sentences) and all(
        _CALL_TO_ACTION.match(part) or part.endswith(("?", "？")) for part in sentences
    )


def _is_trail(line: str) -> bool:
    parts = _TRAIL_SEPARATOR.split(line.strip())
    return len(parts) >= _TRAIL_PARTS and all(0 < len(part) <= _TRAIL_PART_CHARS for part in parts)


def folded(text: str) -> str:
    """`text` as compared with a headline: case, punctuation and spacing aside."""
    return " ".join(re.sub(r"[^\w\s]", "", text.casefold()).split())
