"""The issue speaks its sources' language when DIGEST_LANGUAGE is not set, and a story in another
language carries its own `lang`; titles written in capitals are not shouted."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import lxml.html
import pytest

from digest.config import Settings
from digest.pipeline import build_issue
from digest.sources import read_source
from digest.sources.items import language_tag, unshouted
from digest.sources.language import detected_language
from digest.wording import issue_language, other_language
from tests.support.shared_data import shared_data

DAY = dt.date(2026, 11, 26)


def build(tmp_path: Path, *sources: Path, **settings: object) -> tuple[dict, lxml.html.HtmlElement]:
    config = Settings(
        issues_dir=tmp_path / "issues",
        fetch_sources_only=True,
        cache_dir=None,
        **settings,
    )
    result = build_issue(config, date=DAY, sources=[str(source) for source in sources])
    issue = json.loads((result.folder / "issue.json").read_text(encoding="utf-8"))
    html = lxml.html.fromstring((result.folder / "email.html").read_bytes())
    return issue, html


@pytest.mark.parametrize(
    ("folder", "name", "language", "date", "more_for_you"),
    [
        ("feeds-earlier", "jekyll-idea-ricir.atom.xml", "it", "giovedì 26 novembre 2026", None),
        ("feeds", "orf-at.rdf", "de", "Donnerstag, 26. November 2026", "Mehr für Sie"),
        ("feeds", "stadtfeuerwehr-weiz.rss.xml", "de-DE", "Donnerstag, 26. November 2026", None),
        ("feeds", "ibash-org-ru.rss.xml", "ru", "четверг, 26 ноября 2026\u202fг.", "Ещё для вас"),
        ("feeds", "rsr-la-capsule.rss.xml", "fr-CH", "jeudi, 26 novembre 2026", None),
        ("feeds", "bbc-urdu.rss.xml", "ur", "جمعرات، 26 نومبر، 2026", "More For You"),
        # Declaring no language, told from their words:
        ("feeds", "le-cercle-psy.rss.xml", "fr", "jeudi 26 novembre 2026", "À lire aussi"),
        ("feeds-earlier", "lanacion-arc.rss.xml", "es", "jueves, 26 de noviembre de 2026", None),
        ("feeds-earlier", "suspilne-ukrnet.rss.xml", "uk", "четвер, 26 листопада 2026", None),
    ],
)
def test_the_issue_speaks_the_language_its_feed_declares(
    folder: str,
    name: str,
    language: str,
    date: str,
    more_for_you: str | None,
    tmp_path: Path,
) -> None:
    issue, html = build(tmp_path, shared_data(folder, name))
    assert issue["language"] == language
    assert html.get("lang") == language
    assert date in html.text_content()
    if more_for_you:
        assert more_for_you in html.text_content()  # Urdu has no catalog: English words
    marked = {element.get("lang") for element in html.xpath("//body//*[@lang]")}
    assert marked <= {language}  # every story is in the issue's language


def test_digest_language_wins_and_other_languages_are_marked(tmp_path: Path) -> None:
    issue, html = build(tmp_path, shared_data("feeds", "orf-at.rdf"), language="en", more_count=50)
    assert issue["language"] == "en"
    assert html.get("lang") == "en"
    assert "Thursday, November 26, 2026" in html.text_content()
    german = {story["title"] for story in [issue["lead"], *issue["more"]]}
    headline = html.xpath("//h1")[0]
    assert headline.get("lang") == "de" and headline.text_content() in german
    titles = html.xpath("//h3[@class='item-title']")
    assert titles and all(title.get("lang") == "de" for title in titles)
    read_more = html.xpath("//a[@class='more-link']")
    assert read_more and all(link.get("lang") == "en" for link in read_more)


def test_sources_in_two_languages_make_an_issue_in_the_commoner(tmp_path: Path) -> None:
    german = tmp_path / "de.xml"
    german.write_text(
        """<rss version="2.0"><channel><title>Nachrichten</title><link>https://de.example.org/</link>
<language>de-AT</language>
<item><title>Neue Brücke eröffnet</title><link>https://de.example.org/bruecke</link>
<pubDate>Wed, 25 Nov 2026 09:00:00 GMT</pubDate>
<description>Die Brücke ist offen.</description></item>
<item><title>Stadtrat tagt</title><link>https://de.example.org/stadtrat</link>
<pubDate>Wed, 25 Nov 2026 08:00:00 GMT</pubDate>
<description>Der Rat tagt heute.</description></item>
</channel></rss>""",
        encoding="utf-8",
    )
    english = tmp_path / "en.xml"
    english.write_text(
        """<rss version="2.0"><channel><title>News</title><link>https://en.example.org/</link>
<language>en-gb</language>
<item><title>Harbour reopens</title><link>https://en.example.org/harbour</link>
<pubDate>Wed, 25 Nov 2026 10:00:00 GMT</pubDate><description>Boats are back.</description></item>
</channel></rss>""",
        encoding="utf-8",
    )
    issue, html = build(tmp_path, english, german)
    assert issue["language"] == "de-AT"
    assert issue["lead"]["title"] == "Harbour reopens"
    assert html.get("lang") == "de-AT"
    assert html.xpath("//h1")[0].get("lang") == "en-GB"
    assert [title.get("lang") for title in html.xpath("//h3")] == [None, None]
    assert "Mehr für Sie" in html.text_content()


def test_issue_language_rules() -> None:
    assert issue_language("pt-BR", ["de", "de"]) == "pt-BR"
    assert issue_language(None, []) == "en"
    assert issue_language(None, ["", ""]) == "en"
    assert issue_language(None, ["fr", "de", "de-AT"]) == "de"
    assert issue_language(None, ["fr", "de"]) == "fr"  # a tie: the lead's
    assert other_language("en-US", "en-GB") == ""
    assert other_language("de", "en") == "de"
    assert other_language("", "en") == ""


@pytest.mark.parametrize(
    ("declared", "tag"),
    [
        ("en-us", "en-US"),
        ("EN", "en"),
        ("pt_BR", "pt-BR"),
        ("zh-hant-tw", "zh-Hant-TW"),
        (" de ", "de"),
        ("", ""),
        ("english", ""),
        ("en US", ""),
        (None, ""),
    ],
)
def test_declared_languages_are_tidied(declared: str | None, tag: str) -> None:
    assert language_tag(declared) == tag


@pytest.mark.parametrize(
    ("title", "language", "shown"),
    [
        ("THE CREATIVE FORAGER", "en", "The Creative Forager"),
        ("DON'T LOOK BACK IN ANGER", "", "Don't Look Back in Anger"),
        ("COVID-19 CASES RISE IN THE NORTH", "en-GB", "COVID-19 Cases Rise in the North"),
        ("DIE NEUE KÜCHE VON HEUTE", "de", "Die Neue Küche Von Heute"),
        ("«ЗИМА БЛИЗКО» — НОВЫЙ СЕЗОН", "ru", "«Зима Близко» — Новый Сезон"),
        ("NASA TV", "en", "NASA TV"),
        ("SVART MÅNAD - DÖDSOLYCKA i Vetlanda", "sv", "SVART MÅNAD - DÖDSOLYCKA i Vetlanda"),
        ("Apple unveils the M5", "en", "Apple unveils the M5"),
    ],
)
def test_titles_in_capitals_are_not_shouted(title: str, language: str, shown: str) -> None:
    assert unshouted(title, language) == shown


def test_a_feed_title_in_capitals_reaches_the_subject_calmly(tmp_path: Path) -> None:
    feed = tmp_path / "forager.xml"
    feed.write_text(
        """<rss version="2.0"><channel><title>Forager</title><link>https://f.example.org/</link>
<item><title>THE CREATIVE FORAGER</title><link>https://f.example.org/1</link>
<description>Wild garlic is back.</description></item></channel></rss>""",
        encoding="utf-8",
    )
    [story] = read_source(str(feed), Settings())
    assert story.title == "The Creative Forager"
    issue, _ = build(tmp_path, feed)
    assert issue["subject"] == "The Daily Digest: The Creative Forager"


def test_too_few_words_tell_no_language() -> None:
    assert detected_language(["Boats are back."]) == ""
    french = "Si leur impact semble discret au premier abord, nombre d'études montrent que " * 4
    assert detected_language([french]) == "fr"
