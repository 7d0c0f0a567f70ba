"""Boilerplate that must not reach a teaser: bylines and datelines, navigation, credits, "Read
more", newsletter and site promotions, comment links, podcast hosts' notices."""

from __future__ import annotations

import re

from digest.text.markup import fold_space

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
        r"\[?(?:(?:\d+\s+)?comments?|discuss|kommentare?|commentaires?|comentarios?"
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


def strip_lead_in(text: str) -> str:
    """`text` without a leading byline ("By Jane Doe | ") and dateline ("WASHINGTON (AP) — ")."""
    return _LEAD_IN.sub("", text, count=1)


def is_boilerplate_block(block: str) -> bool:
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


def strip_boilerplate_segments(block: str) -> str:
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
