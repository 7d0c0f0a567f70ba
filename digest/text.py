"""Turning source HTML (or text) into clean plain text.

Feeds and pages hand us anything from tidy paragraphs to double-escaped markup with navigation, ads
and photo credits mixed in. `html_to_text` gives the plain words; `clean_article_text` also drops
that boilerplate so a teaser starts with the story, not with "Skip to content".
"""

from __future__ import annotations

import html
import itertools
import re

from lxml import etree
from lxml import html as lxml_html

_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
# Invisible characters that would glue or split words; ZWJ/ZWNJ stay (emoji sequences, Persian).
_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff]")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]{0,2000})?/?>|<!--")
# What a regex can safely drop when the parser cannot help: comments and script-like elements,
# each up to its end or, when never closed, the end of the text.
_HIDDEN = re.compile(
    r"<!--.*?(?:-->|$)|<(script|style|noscript|template)\b.*?(?:</\1\s*>|$)", re.S | re.I
)
# libxml2 ignores whatever follows `</html>`, where browsers still show it.
_DOCUMENT_END = re.compile(r"</(?:body|html)\s*>", re.I)
_ESCAPED_TAG = re.compile(r"&lt;/?[A-Za-z][A-Za-z0-9]*(?:\s|/?&gt;)")

_BLOCK_TAGS = frozenset(
    "address article aside blockquote body br caption dd details dialog div dl dt fieldset "  # noqa: SIM905
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre section "
    "summary table tbody td tfoot th thead tr ul".split()
)
_NEVER_TEXT = ("head", "script", "style", "noscript", "template", "svg", "math", "iframe", "object")
# Page furniture that is never part of an article's prose (captions carry credits, not the story).
_NOT_ARTICLE = ("nav", "aside", "footer", "form", "button", "figcaption", "select", "label")
# A caption outside `<figcaption>`: an element whose class names a caption or credit, of at most
# this many words, holding a picture or within this many levels below a box that holds one.
_CAPTION_CLASS = re.compile(r"caption|credit", re.I)
_CAPTION_WORDS = 60
_CAPTION_LEVELS = 2
_PICTURES = ("img", "picture", "video")


def html_to_text(markup: str) -> str:
    """Plain text of HTML or text: entities decoded, tags dropped, blocks apart, spaces folded."""
    return " ".join(_blocks(markup, article=False))


def clean_article_text(markup: str) -> str:
    """`html_to_text` without boilerplate (navigation, ads, credits, "Read more", bylines).

    A cut-off excerpt ("…their [...]") keeps a single trailing "…", so the teaser can tell that the
    last sentence is unfinished.
    """
    return " ".join(article_blocks(markup))


def article_blocks(markup: str) -> list[str]:
    """The blocks (paragraphs, list items, headings, lines) of `clean_article_text`, in order."""
    kept: list[str] = []
    for block in _blocks(markup, article=True):
        block = _strip_boilerplate_segments(block)
        if block and not _is_boilerplate_block(block) and (not kept or kept[-1] != block):
            kept.append(block)
    return kept


def is_markup(text: str) -> bool:
    """Whether `text` is HTML (also HTML escaped once too often) rather than plain text."""
    return bool(_TAG.search(text) or _ESCAPED_TAG.search(text))


def strip_lead_in(text: str) -> str:
    """`text` without a leading byline ("By Jane Doe | ") and dateline ("WASHINGTON (AP) — ")."""
    return _LEAD_IN.sub("", text, count=1)


def fold_space(text: str) -> str:
    """One space between words, none at the ends."""
    return _SPACE.sub(" ", text).strip()


def _decode_entities(text: str) -> str:
    """Decode entities until none are left, so double-escaped `&amp;nbsp;` ends as a space.

    Only complete entities (with `;`) are touched: "AT&T" or "R&D" stay as written.
    """
    for _ in range(4):
        decoded = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
        if decoded == text:
            break
        text = decoded
    return text


def without_controls(text: str) -> str:
    """`text` without the C0 control characters (tab and line breaks kept) and noncharacters that
    no page means to show and that lxml refuses to store in a tree."""
    return _CONTROL.sub("", text)


def _blocks(markup: str, article: bool) -> list[str]:
    """The text of each block (paragraph, heading, list item, line) with white space folded;
    without page furniture and picture captions when it is an `article`'s."""
    if not markup or not markup.strip():
        return []
    markup = _INVISIBLE.sub("", without_controls(markup))
    if not _TAG.search(markup):
        markup = _unescaped_markup(markup)
    pieces = _html_pieces(markup, article) if _TAG.search(markup) else markup.splitlines()
    return [
        block for block in (_repaired(fold_space(_decode_entities(p))) for p in pieces) if block
    ]


# A full stop, question or exclamation mark glued to the next sentence ("in April.Previously",
# "automated trading.The Financial…"): a word of two letters or more (not part of a dotted name
# such as U.S.Army), the mark, and a word that commonly opens a sentence, so that names in code
# (Game.Player, io.Reader, Mail.Ru) stay as written.
_OPENING_WORDS = (
    "The|A|An|This|That|These|Those|It|Its|He|She|They|We|I|You|His|Her|Their|Our|There|Here"
    "|But|And|So|Yet|However|Previously|Meanwhile|Also|Still|Later|Earlier|Instead|Finally|In|On"
    "|At|For|With|From|As|After|Before|When|While|If|Today|Yesterday|Last|Next|One|Two|Three"
    "|Der|Die|Das|Ein|Eine|Er|Es|Le|Les|Il|Elle|Ils|El|Los|Las|Lo|Gli"
)
_GLUED_STOP = re.compile(
    rf"(?<![\w.@/%&:$#(\[])([^\W\d_]+[a-zß-ÿ][.!?])((?:{_OPENING_WORDS})\b)(?![.\w(])"
)
# An apostrophe a wrong character set turned into "?" ("un?esplosione", "don?t", "l?Italia"): a
# "?" between two letters, in a word that is not part of an address or a query string. Before a
# capital it must follow an elided word (l', d', qu', dell'…), or it may end a question.
_LOST_APOSTROPHE = re.compile(
    r"(?<![\w/=&?.%-])([^\W\d_]+)\?([^\W\d_]+)(?=[\s,;:.!)”’\"]|$)(?![.?]\w)"
)
_ELIDED = re.compile(r"(?i:[cdjlmnst]|\w*qu|\w*ll|un|quest|aujourd)")


def _repaired(text: str) -> str:
    """`text` with a space after a full stop that lost it and apostrophes that became "?"."""
    if "?" in text:
        text = _LOST_APOSTROPHE.sub(_apostrophe, text)
    return _GLUED_STOP.sub(r"\1 \2", text)


def _apostrophe(match: re.Match[str]) -> str:
    before, after = match.group(1), match.group(2)
    if after[0].isupper() and not _ELIDED.fullmatch(before):
        return match.group(0)
    return f"{before}’{after}"


def _unescaped_markup(text: str) -> str:
    """HTML that a feed escaped once or more too often (`&lt;p&gt;`, `&amp;lt;p&amp;gt;`) as
    HTML; any other text as it is."""
    escaped = text
    for _ in range(4):
        if _ESCAPED_TAG.search(escaped):
            return html.unescape(escaped)
        unwrapped = escaped.replace("&amp;", "&")
        if unwrapped == escaped:
            break
        escaped = unwrapped
    return text


def _html_pieces(markup: str, article: bool) -> list[str]:
    """Text split at block boundaries, so "<p>a</p><p>b</p>" never glues into "ab"."""
    parser = lxml_html.HTMLParser(huge_tree=True)
    try:
        root = lxml_html.document_fromstring(_DOCUMENT_END.sub("", markup), parser=parser)
    except (etree.ParserError, ValueError):
        return _strip_tags(markup)
    if any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log):
        # libxml2 drops what is nested deeper than 2,048 levels (unclosed tags pile up).
        return _strip_tags(markup)
    dropped = _NEVER_TEXT + _NOT_ARTICLE if article else _NEVER_TEXT
    etree.strip_elements(
        root, *dropped, etree.Comment, etree.ProcessingInstruction, with_tail=False
    )
    if article:
        _drop_captions(root)
    _label_definitions(root)
    # A line break in the source is a space, as a browser shows it; only elements make blocks.
    parts: list[str] = []
    for event, element in etree.iterwalk(root, events=("start", "end")):
        block = isinstance(element.tag, str) and element.tag.lower() in _BLOCK_TAGS
        if event == "start":
            if block:
                parts.append("\n")
            parts.append(_SPACE.sub(" ", element.text or ""))
        else:
            if block:
                parts.append("\n")
            parts.append(_SPACE.sub(" ", element.tail or ""))
    return "".join(parts).split("\n")


def _drop_captions(root: lxml_html.HtmlElement) -> None:
    """Drop the captions and credits of pictures (WordPress's `wp-caption-text`, a `photo-credit`
    under the picture): the picture's words, not the story's. One is a short element whose class
    says so, holding a picture or next to one."""
    for element in list(root.iter()):
        if not isinstance(element.tag, str) or not _CAPTION_CLASS.search(element.get("class", "")):
            continue
        near = [element, *itertools.islice(element.iterancestors(), _CAPTION_LEVELS)]
        if len(element.text_content().split()) <= _CAPTION_WORDS and any(
            next(box.iter(*_PICTURES), None) is not None for box in near
        ):
            element.drop_tree()


def _label_definitions(root: lxml_html.HtmlElement) -> None:
    """Put each term of a definition list on one line with its definitions ("Time: 21:42 UTC;
    13:42 at epicenter"), so no value is parted from its label."""
    for term in list(root.iter("dt")):
        definitions = []
        following = term.getnext()
        while following is not None and following.tag == "dd":
            definitions.append(following)
            following = following.getnext()
        labelled = term.text_content().rstrip().endswith(":")
        for index, definition in enumerate(definitions):
            _append_text(term, "; " if index else " " if labelled else ": ")
            definition.tag = "span"
            definition.tail = None
            term.append(definition)


def _append_text(element: lxml_html.HtmlElement, text: str) -> None:
    if len(element):
        element[-1].tail = (element[-1].tail or "") + text
    else:
        element.text = (element.text or "") + text


def _strip_tags(markup: str) -> list[str]:
    """Text pieces of markup that lxml cannot parse (or parses only in part)."""
    return _TAG.sub("\n", _HIDDEN.sub("\n", markup)).split("\n")


# --- boilerplate ------------------------------------------------------------------------------

_AGENCY = (
    r"(?:reuters(?:\s+connect)?|getty\s+images|ap|afp|epa|efe|ansa|dpa|bloomberg|shutterstock"
    r"|alamy|pool)"
)
_NAMES = r"[A-ZÀ-Þ][\w.'’\-]*(?:\s+[A-ZÀ-Þ][\w.'’\-]*){0,3}"
# "By", and the same word where newsrooms write in Portuguese/Spanish, French, German, Dutch,
# Italian and Scandinavian languages; names joined by a comma or that language's "and".
_BYLINE = (
    rf"(?:[Bb]y|[Pp]or|[Pp]ar|[Vv]on|[Dd]oor|[Dd]i|[Aa]v|[Aa]f)\s+{_NAMES}"
    rf"(?:\s*(?:,|and|&|e|y|et|und|en|og|och)\s*{_NAMES})*(?:\s*,\s*(?:the\s+)?(?:Associated Press"
    r"|Reuters|AFP|AP|CNN|BBC|Bloomberg|[\w ]{0,30}(?:Writer|Reporter|Correspondent|Editor|Staff"
    r"|Contributor)s?))?"
)
_SEPARATOR = r"[|•·—–-]"
# A date line above a post: "posted on 07-19-2021", "Published: July 19, 2021 at 3:05 pm",
# "Monday, 19th July 2021", "Veröffentlicht am 19.07.2021 um 14:30".
_NUMERIC_DATE = r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}"
_SPELLED_DATE = (
    r"(?:[^\W\d_]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}"
    r"|\d{1,2}(?:st|nd|rd|th)?\.?\s+(?:of\s+)?[^\W\d_]{3,9}\.?,?\s+\d{4})"
)
_CLOCK = r"\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s*[a-z]{2,5})?"
_DATE_LINE = (
    r"(?i:(?:(?:posted|published|updated|last updated|first published|veröffentlicht"
    r"|aktualisiert|publié|mis à jour|publicado|actualizado|pubblicato|aggiornato|gepubliceerd)"
    r"\b\s*(?:on|at|am|le|el|il|op)?|on)?\s*:?\s*(?:[^\W\d_]{3,9},?\s+)?"
    rf"(?:{_NUMERIC_DATE}|{_SPELLED_DATE})(?:\s*(?:at|um|à|a las|alle|om|,|-|–|—)?\s*{_CLOCK})?\.?)"
)
_WIRE = r"(?:AP|Reuters|AFP|CNN|dpa|DPA|Bloomberg|UPI|EFE|ANSA|Lusa|Xinhua|Kyodo|TASS|ANP|APA)"
# A date after the place: "24 SET", "Dec 5", "24 Set 2018".
_DATELINE_DATE = r"(?:\d{1,2}\s+[^\W\d_]{3,10}\.?|[^\W\d_]{3,10}\.?\s+\d{1,2})(?:,?\s+\d{4})?"
# Wire-copy openings: "WASHINGTON (AP) — ", "KYIV, Ukraine (Reuters) - ", "(AP) — ",
# "MOSCOU, 24 SET (ANSA) - ", and, when a wire service is named, a place in mixed case:
# "Quito, 24 Set 2018 (AFP) - ", "Nova York, 24 set (EFE).- ".
_DATELINE = (
    r"(?:[A-ZÀ-Þ][A-ZÀ-Þ'’.\-]+(?:\s+[A-ZÀ-Þ][A-ZÀ-Þ'’.\-]+){0,3}"
    rf"(?:,\s+(?:{_DATELINE_DATE}|[A-ZÀ-Þ][\w.]*(?:\s+[\w.]+){{0,2}}))?\s*(?:\([^()]{{1,30}}\)\.?\s*)?"
    rf"|[A-ZÀ-Þ][\w'’.\-]+(?:\s+[A-ZÀ-Þ][\w'’.\-]+){{0,2}},\s+{_DATELINE_DATE}\s*\({_WIRE}\)\.?\s*"
    rf"|\({_WIRE}\)\s*)[—–-]{{1,2}}"
)
# A source in brackets glued to the story's first word, as copied wire text keeps it: "(CNN)They",
# "Boston (CNN)Guilty", "(The Hollywood Reporter)Stan Freberg".
_GLUED_SOURCE = (
    r"(?:[A-ZÀ-Þ][\w'’.\-]+(?:\s+[A-ZÀ-Þ][\w'’.\-]+){0,2},?\s+)?\([A-ZÀ-Þ][^()]{0,40}\)"
    r"(?=[\"“‘'A-ZÀ-Þ0-9])"
)
_LEAD_IN = re.compile(
    rf"^(?:{_BYLINE}\s*{_SEPARATOR}+\s+)?(?:{_DATELINE}\s+(?=\S)|{_GLUED_SOURCE})?"
)


def _block_rule(pattern: str, max_words: int, flags: int = re.I) -> tuple[re.Pattern[str], int]:
    return re.compile(pattern, flags), max_words


# A block is dropped when it matches one of these in full and is no longer than the word limit, so a
# real paragraph that merely starts with "Subscribe" or mentions Reuters survives.
_BOILERPLATE_BLOCKS: tuple[tuple[re.Pattern[str], int], ...] = (
    _block_rule(r"skip to (?:the )?(?:main )?content\.?", 4),
    _block_rule(
        r"(?:story continues below )?advertisements?(?:\s*[-–—:]\s*\w+(?:\s+\w+){0,3})?\.?", 8
    ),
    _block_rule(
        r"(?:read more|continue reading|keep reading|related)\b(?:\s*[:»→›>…]+.*|\s*\.*)", 25
    ),
    _block_rule(r"click here (?:to|for)\b.*", 25),
    _block_rule(r"sign up\b.*\bnewsletters?\b.*", 25),
    # Newsletter promotions: "Start your day with the Opening Bell powered by …", "Get the
    # best of … delivered to your inbox".
    _block_rule(r"(?:start|begin) your (?:day|morning|week)\b.*", 30),
    _block_rule(r".*\b(?:delivered|sent|straight) (?:right )?to your inbox\b.*", 30),
    _block_rule(r".*\bnewsletters?\b.*\b(?:powered|presented|brought to you) by\b.*", 30),
    # An editor's note is about the story, not the story: "Editor’s Note: This article was…".
    _block_rule(
        r"(?:editor[’']?s[’']? note|ed\. note|note from the editors?|anmerkung der redaktion"
        r"|nota del editor|nota della redazione|note de la rédaction)\b.*",
        120,
    ),
    _block_rule(r"share (?:this|the) (?:article|story|page|post)\b.*", 8),
    _block_rule(
        r"(?:(?:photo|photograph|picture|image|illustration|video|graphic)s?"
        r"(?:\s+(?:credits?|sources?))?|credits?)\s*:.*",
        30,
    ),
    _block_rule(
        r"\(?\s*(?:photo|photograph|picture|image)s?\s+(?:by|courtesy(?: of)?|credit)\b.*", 20
    ),
    _block_rule(rf".*\bvia\s+{_AGENCY}\)?", 12),
    _block_rule(rf"(?=.*/)(?:[^/\s][^/]*/)*{_AGENCY}(?:\s+photo)?(?:/[^/]+)*\.?", 10),
    _block_rule(r"\(?(?:getty images|shutterstock|istock(?:photo)?)\)?\.?", 4),
    _block_rule(r"subscribe\b.*", 15),
    _block_rule(r"(?:©|\(c\)|copyright\b).*|all rights reserved\.?", 15),
    _block_rule(r"follow (?:us|me)\b.*", 15),
    _block_rule(r"listen to (?:this|the) (?:article|story)\b.*", 8),
    _block_rule(r"\d+(?:[-–]\d+)?[\s-]?(?:min(?:ute)?s?|m)\.?\s+read\.?", 4),
    _block_rule(
        rf"(?:(?i:posted|written|published)\s+)?{_BYLINE}"
        rf"(?:\s*{_SEPARATOR}\s*[^.!?]{{0,60}}|\s*,?\s+{_DATE_LINE})?",
        16,
        0,
    ),
    _block_rule(_DATE_LINE, 10),
    # A link to the item's comments, as link aggregators and blogs end (or make up) an item:
    # "Comments", "12 comments", "[link] [comments]", "submitted by /u/name".
    _block_rule(
        r"\[?(?:(?:\d+\s+)?comments?|discuss(?:ion)?|kommentare?|commentaires?|comentarios?"
        r"|commenti|reacties|comentários)(?:\s*\(\d+\))?\]?\.?|\[link\]\s*\[comments\]"
        r"|(?:leave|add|post|write) a comment\.?|no comments(?: yet)?\.?"
        r"|submitted by\s+/?u/[\w-]+(?:\s+to\s+/?r/\w+)?",
        6,
    ),
    # A photo sharing site's line above the picture: "kebernet posted a photo:", "Ann added a
    # photo to the pool:".
    _block_rule(
        r"\S+(?:\s+\S+){0,3}\s+(?:has\s+)?(?:posted|added|uploaded|shared)\s+(?:a|an|\d+|some)"
        r"\s+(?:new\s+)?(?:photo|video|picture|image)s?\b[^.!?]{0,80}:",
        20,
    ),
    # A pointer to the publisher's site: "More information and details on this call-out can be
    # found on our website", "Weitere Informationen … finden Sie auf unserer Website".
    _block_rule(
        r".*\b(?:(?:more|further|additional|full)\s+(?:information|info|details)\b.*\b(?:on|at"
        r"|from)\s+(?:our|the)\s+(?:web\s?site|homepage|web\s?page)"
        r"|(?:weitere|mehr|nähere)\s+(?:informationen|infos|details)\b.*\b(?:auf|unter)\s+"
        r"(?:unserer?|der)\s+(?:website|webseite|homepage|internetseite|seite)"
        r"|plus d['’]\s*(?:informations?|infos|détails)\b.*\bsur (?:notre|le) site"
        r"|más (?:información|info|detalles)\b.*\ben (?:nuestr[ao]|la) (?:web|página|sitio)"
        r"|(?:maggiori|ulteriori) (?:informazioni|dettagli)\b.*\bsul nostro sito"
        r"|meer (?:informatie|info)\b.*\bop onze (?:website|site))\b[^.!?]*[.!]?",
        25,
    ),
    _block_rule(
        r"(?:please\s+)?visit\s+(?:our|the)\s+(?:web\s?site|homepage)"
        r"(?:\s+(?:for|to)\b[^.!?]*)?[.!]?",
        15,
    ),
)


def _is_boilerplate_block(block: str) -> bool:
    words = len(block.split())
    return any(words <= limit and rule.fullmatch(block) for rule, limit in _BOILERPLATE_BLOCKS)


_AFTER_SENTENCE = r"(?:^|(?<=[.!?…\"”’»)\]]))\s*"
_STANDALONE = (
    r"(?i:skip to (?:the )?(?:main )?content|(?:story continues below )?advertisement"
    r"|listen to (?:this|the) (?:article|story)(?:\s*[·•|-]?\s*\d+\s*min(?:utes?)?)?"
    r"|\d+[\s-]?min(?:ute)?s? read|share this (?:article|story))"
)
# Boilerplate glued into running text: at the start, or standing alone between two sentences.
_INLINE_BOILERPLATE = re.compile(
    rf"{_AFTER_SENTENCE}{_STANDALONE}\.?(?=\s+[\"“‘'«(\[A-Z0-9À-Þ]|\s*$)"
)
# WordPress SEO plugins' feed footer, "The post <a>X</a> appeared first on <a>Site</a>.", as
# their translations write it in German, French, Spanish, Italian, Dutch and Portuguese.
_WORDPRESS = re.compile(
    rf"{_AFTER_SENTENCE}(?:The post\s.{{1,300}}?\sappeared first on"
    r"|Der Beitrag\s.{1,300}?\serschien zuerst auf"
    r"|L[’']article\s.{1,300}?\sest apparu en premier sur"
    r"|La entrada\s.{1,300}?\sse publicó primero en"
    r"|L[’']articolo\s.{1,300}?\sproviene da"
    r"|Het bericht\s.{1,300}?\sverscheen eerst op"
    rf"|O post\s.{{1,300}}?\sapareceu primeiro em)\s.{{1,200}}$"
)
# "Read more" and its equivalents in the languages above (with an optional "(date - time)").
_READ_MORE = (
    r"read more|continue reading|keep reading|read on"
    r"|read (?:the )?(?:full|whole|rest of the|complete) (?:story|article|post|report|review)"
    r"|full (?:story|article)"
    r"|(?:to )?read this (?:article|story|post) in full,? (?:please )?click here"
    r"|weiterlesen|mehr lesen|lire la suite|leer más|seguir leyendo|continua a leggere"
    r"|leggi tutto|lees meer|verder lezen|leia mais|continue lendo|ler mais"
)
_READ_MORE_TAIL = re.compile(
    rf"{_AFTER_SENTENCE}(?i:{_READ_MORE})\b(?:\s*\([^()]{{1,40}}\))?"
    r"(?:\s*[.:»→›…>]+|\s+[^.!?]{0,150}?\s*(?:[»→›…>]|\.\.\.))?\s*$"
)
# "[...]", "[…]", and "[?]": a "…" that a wrong character set turned into a question mark.
_CUT_MARKER = re.compile(r"\s*\[\s*(?:\.\s*\.\s*\.|…|\?)\s*\]\s*$")
# A sponsor line opening a block: "The DistroWatch Weekly news feed is brought to you by TUXEDO.",
# "This episode is sponsored by Hover." It names the sponsor, not the story.
_SPONSOR_LEAD = re.compile(
    r"^(?:this|the)\s[^.!?]{0,60}?\b(?:feed|episode|newsletter|podcast|show|issue|edition|video)"
    r"\s+(?:is|are)\s+(?:brought\s+to\s+you|sponsored)\s+by\s[^.!?]{1,80}[.!]\s*",
    re.I,
)


# Marks a blog or magazine puts after its last sentence, or a permalink glyph: "… ★", "… ∎".
_END_MARK = re.compile(r"(?:(?:^|\s+)[★☆✩✪✭✮⁂¶∎■□◆◇◊♦❖])+\s*$")
# A sentence for a podcast host's or ad network's notice ("See omnystudio.com/listener for
# privacy information.", "Learn more about your ad choices. Visit megaphone.fm/adchoices",
# "Hosted on Acast. See acast.com/privacy for more information.").
_HOSTING_NOTICE = re.compile(
    r"(?i:(?:see|visit|go to)\s+\S+\.[a-z]{2,}\S*\s+for\s+(?:privacy|more)\b[^.!?]*"
    r"|learn more about your ad[\s-]?choices|visit\s+\S+/adchoices\S*"
    r"|hosted (?:on|by) (?:acast|simplecast|libsyn|megaphone|omny|anchor|buzzsprout|podbean)\w*"
    r"|privacy (?:&|and) opt-out:?\s+\S+)[.!]?"
)
# A sentence that only points at links: "More here and here.", "You can read the interview
# here.", "(Via here.)"
_LINK_ONLY = re.compile(
    r"(?i:\(?\s*(?:(?:you can |we )?(?:read|see|watch|listen to|listen|find|check out|download|get"
    r"|learn more|more|details|previously|related|via|source|update)\b[^.!?()]{0,80}?\s)?"
    r"here(?:\s*(?:,|and|&)\s*here)*\s*[.!)]*\)?)"
)
_MAYBE_NOTICE = re.compile(r"(?i:here|privacy|choices|hosted)")
_SENTENCE_GAP = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"”’)\]])\s+")


def _strip_boilerplate_segments(block: str) -> str:
    """Remove boilerplate that shares a block with real text; mark a cut excerpt with one "…"."""
    block = fold_space(_INLINE_BOILERPLATE.sub(" ", block))
    block = _SPONSOR_LEAD.sub("", block, count=1)
    for pattern in (_WORDPRESS, _READ_MORE_TAIL, _END_MARK):
        block = pattern.sub("", block).rstrip()
    if _MAYBE_NOTICE.search(block):
        block = _without_notices(block)
    if _CUT_MARKER.search(block):
        block = _CUT_MARKER.sub("", block).rstrip(" ,;:-–—") + "…"
        block = "" if block == "…" else block
    return block


def _without_notices(block: str) -> str:
    """`block` without its sentences that are a hosting notice or only point at links (a link
    sentence needs "here and here" or a verb such as "read" or "see" before its "here")."""
    pieces = _SENTENCE_GAP.split(block)
    kept = [
        piece
        for piece in pieces
        if not _HOSTING_NOTICE.fullmatch(piece) and not _is_link_only(piece)
    ]
    return block if len(kept) == len(pieces) else " ".join(kept)


def _is_link_only(sentence: str) -> bool:
    if not _LINK_ONLY.fullmatch(sentence):
        return False
    lowered = sentence.lower()
    return "here and here" in lowered or "here, here" in lowered or not lowered.startswith("here")
