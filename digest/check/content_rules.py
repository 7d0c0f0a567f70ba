"""Rules over what the issue says, read from `issue.json` beside the message: what a subscriber
would notice at a glance in stories built unattended from real feeds."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from digest.check.parsed import Email, Finding, Rule, examples, finding, shorten
from digest.sources.items import unshouted
from digest.sources.kickers import looks_like_path_or_identifier
from digest.sources.links import is_private_link
from digest.text import html_to_text

NEAR_END_WORDS = 3
"""A teaser cut with "…" at most this many words before its sentence ends lost too little to cut."""
_SENTENCE_END = re.compile(r"[.!?。！？](?=[\s\"'”’»)\]]|$)")


def rule_cut_teasers(email: Email) -> Iterator[Finding]:
    """A teaser ending in "…" a word or three before its sentence ends ("…the Speaker of the…")
    reads as a mistake: the sentence could have been finished."""
    cut: list[str] = []
    for story in email.issue.stories:
        words = words_left(story.teaser, html_to_text(story.text))
        if words is not None and words <= NEAR_END_WORDS:
            cut.append(f"{story.title} ({words} word{'s' if words != 1 else ''} short)")
    if cut:
        yield finding(
            "teasers",
            "warning",
            f"{len(cut)} teaser(s) cut with … just before the sentence ends: {examples(cut)}",
        )


def words_left(teaser: str, text: str) -> int | None:
    """How many words of its sentence a teaser ending in "…" left out; None when it does not end
    so, or when its words cannot be found in `text`."""
    shown = " ".join(teaser.split())
    if not shown.endswith("…"):
        return None
    kept = shown.removesuffix("…").rstrip()
    tail = " ".join(kept.split()[-6:])
    flat = " ".join(text.split())
    at = flat.find(tail) if tail else -1
    if at < 0:
        return None
    rest = flat[at + len(tail) :]
    end = _SENTENCE_END.search(rest)
    return len((rest[: end.end()] if end else rest).split())


def rule_repeated_pictures(email: Email) -> Iterator[Finding]:
    """The same picture on two stories is a site's logo or a channel's cover, not either story's."""
    stories_by_picture: dict[str, list[str]] = defaultdict(list)
    for story in email.issue.stories:
        if story.image is not None:
            stories_by_picture[story.image.url].append(story.title)
    repeated = [
        f"{shorten(url, 50)} on {len(titles)} stories"
        for url, titles in stories_by_picture.items()
        if len(titles) > 1
    ]
    if repeated:
        yield finding(
            "pictures", "warning", f"{len(repeated)} picture(s) repeated: {examples(repeated)}"
        )


def rule_kickers(email: Email) -> Iterator[Finding]:
    """A kicker is printed in capitals above the headline: a path or a code name there
    ("BUSINESS/INDUSTRIES/PUBLISHING/", "ADWORDS_API") is the CMS showing through."""
    odd = [
        f"{story.kicker} (above {shorten(story.title, 40)!r})"
        for story in email.issue.stories
        if story.kicker and looks_like_path_or_identifier(story.kicker)
    ]
    if odd:
        yield finding(
            "kickers",
            "warning",
            f"{len(odd)} kicker(s) look like a path or an identifier: {examples(odd)}",
        )


def rule_shouted_titles(email: Email) -> Iterator[Finding]:
    """A title in capitals shouts in the subject line and the headline."""
    shouted = [
        story.title
        for story in email.issue.stories
        if unshouted(story.title, story.language or email.issue.language) != story.title
    ]
    if shouted:
        yield finding(
            "titles", "warning", f"{len(shouted)} title(s) in capitals: {examples(shouted)}"
        )


def rule_private_links(email: Email) -> Iterator[Finding]:
    """A link to localhost or a private network opens for nobody who reads the issue, unless it is
    on the site of the story's own source (an intranet feed's readers reach its server)."""
    stories = email.issue.stories
    links = {
        url: story.source
        for story in stories
        for url in (story.url, story.image.url if story.image else "")
        if url
    }
    links |= {
        href: ""
        for link in (email.tree.iter("a") if email.tree is not None else ())
        if (href := link.get("href") or "") and href not in links
    }
    private = [url for url, source in links.items() if is_private_link(url, source)]
    if private:
        yield finding(
            "links",
            "warning",
            f"{len(private)} link(s) to a loopback or private address: {examples(private)}",
        )


CONTENT_RULES: tuple[Rule, ...] = (
    rule_cut_teasers,
    rule_repeated_pictures,
    rule_kickers,
    rule_shouted_titles,
    rule_private_links,
)
