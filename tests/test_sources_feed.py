"""RSS and Atom feeds written like real publishers write them."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from digest.config import Settings
from digest.errors import SourceError
from digest.models import Story
from digest.sources import read_source
from digest.text import html_to_text
from tests.support.http_server import LocalServer

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
UTC = dt.UTC


def read(name: str) -> list[Story]:
    return read_source(str(FIXTURES / name), Settings())


def by_title(stories: list[Story]) -> dict[str, Story]:
    return {story.title: story for story in stories}


def test_wordpress_rss_with_content_encoded_figcaption_and_enclosure() -> None:
    stories = read("wordpress.xml")
    assert [story.url for story in stories] == [
        "https://shopper.example.com/2026/11/25/bike-lanes-open/",
        "https://shopper.example.com/2026/11/24/harbour-festival/?utm_source=rss&utm_medium=rss&utm_campaign=harbour-festival",
        "https://shopper.example.com/2026/11/23/council-agenda/",
    ]
    bikes = stories[0]
    assert bikes.title == "It’s time: the city’s new bike lanes open on Main Street"
    assert bikes.author == "Marge Bouvier"
    assert bikes.kicker == "Transport"
    assert bikes.published == dt.datetime(2026, 11, 25, 16, 5, tzinfo=UTC)
    assert "“It’s about time,” said one rider." in html_to_text(bikes.text)  # content:encoded
    assert bikes.source == str(FIXTURES / "wordpress.xml")
    assert bikes.image is not None
    assert bikes.image.url.endswith("/2026/11/bike-lanes-1024x683.jpg")
    # The enclosure is the figure's picture, so the figure's caption and size belong to it.
    # The credit at the end of the figcaption is the credit, not the caption.
    assert bikes.image.caption == "Riders try out the new lane on opening day."
    assert bikes.image.credit == "Photo: Lisa S."
    assert bikes.image.alt == bikes.image.caption
    assert (bikes.image.width, bikes.image.height) == (1024, 683)


def test_wordpress_lazy_image_in_wp_caption_skips_tracking_pixels() -> None:
    harbour = read("wordpress.xml")[1]
    assert harbour.title == "Harbour festival returns – with fireworks"  # &amp;#8211; escaped twice
    assert harbour.kicker == "Events"  # "Uncategorized" is WordPress's placeholder
    assert harbour.image is not None
    assert harbour.image.url == (
        "https://shopper.example.com/wp-content/uploads/2026/11/fireworks.jpg"
    )
    assert harbour.image.alt == "Fireworks over the harbour"
    assert harbour.image.caption == "Fireworks over the harbour in 2022."
    assert harbour.image.credit == "© Springfield Shopper"
    assert (harbour.image.width, harbour.image.height) == (800, 533)


def test_item_without_pictures_has_no_image() -> None:
    council = read("wordpress.xml")[2]
    assert council.image is None
    assert council.kicker == ""


def test_guardian_picks_the_widest_media_content_with_its_credit() -> None:
    glacier, ferry = read("guardian.xml")
    assert glacier.image is not None
    assert "width=460" in glacier.image.url
    assert glacier.image.width == 460
    assert glacier.image.credit == "Photograph: Fabrice Coffrini/AFP/Getty Images"
    assert glacier.image.alt == glacier.title
    assert glacier.author == "Jon Henley in Zurich"
    assert glacier.kicker == "Switzerland"
    assert glacier.published == dt.datetime(2026, 11, 25, 17, 51, 12, tzinfo=UTC)
    # The widest is chosen whatever the order, and the 1280-wide video is not a picture.
    assert ferry.image is not None
    assert ferry.image.url.endswith("width=460&s=9f")
    assert ferry.image.credit == "Photograph: Louisa Gouliamaki/Reuters"
    assert ferry.published == dt.datetime(2026, 11, 25, 15, 2, tzinfo=UTC)  # dc:date only


def test_nyt_media_description_is_the_caption_never_the_text() -> None:
    geneva, election = read("nytimes.xml")
    assert geneva.image is not None
    assert (
        geneva.image.caption == "Delegates arriving at the Palais des Nations in Geneva on Tuesday."
    )
    assert geneva.image.credit == "Nanna Heitmann for The New York Times"
    assert (geneva.image.width, geneva.image.height) == (1800, 1800)
    assert geneva.text.startswith("Delegations met for the first time since June")
    assert geneva.kicker == "International Relations"
    # Here media:description comes before description, which confuses feedparser.
    assert election.text == "Turnout was low, but observers called the vote orderly."
    assert election.image is not None
    assert election.image.url.endswith("24vote-superJumbo.jpg")
    assert election.image.caption == "Voters lining up in the early morning."
    assert election.image.credit == "Ali Rahim for The New York Times"


def test_bbc_thumbnails_and_relative_links_in_a_local_copy_use_the_channel_link() -> None:
    storm, cocoa = read("bbc.xml")
    assert storm.url == (
        "https://www.bbc.co.uk/news/articles/c0storm1bert?at_medium=RSS&at_campaign=rss"
    )
    assert cocoa.url == "https://www.bbc.co.uk/news/business-67123456"
    assert storm.image is not None
    assert storm.image.url.startswith("https://ichef.bbci.co.uk/ace/standard/240/")
    assert (storm.image.width, storm.image.height) == (240, 135)
    assert cocoa.image is not None
    assert cocoa.image.url == "https://www.bbc.co.uk/ace/standard/240/cpsprodpb/3c4d/live/cocoa.jpg"


def test_bbc_relative_links_resolve_against_the_feed_url_when_fetched(
    http_server: LocalServer,
) -> None:
    url = http_server.url("/sources/bbc.xml")
    storm, cocoa = read_source(url, Settings())
    assert storm.url == http_server.url("/news/articles/c0storm1bert?at_medium=RSS&at_campaign=rss")
    assert cocoa.url == http_server.url("/sources/news/business-67123456")
    assert cocoa.image is not None
    assert cocoa.image.url == http_server.url("/ace/standard/240/cpsprodpb/3c4d/live/cocoa.jpg")
    assert storm.source == url


def test_rss_1_0_rdf() -> None:
    comet, bees = read("rss1.rdf")
    assert comet.title == "Comet returns after 71 years"
    assert comet.author == "Dr. A. Stern"
    assert comet.kicker == "Astronomy"
    assert comet.published == dt.datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
    assert comet.image is not None
    assert comet.image.alt == "The comet seen from Chile"
    assert (comet.image.width, comet.image.height) == (640, 400)
    assert bees.published == dt.datetime(2026, 11, 24, tzinfo=UTC)
    assert bees.image is None


def test_rss_0_91_with_doctype_and_no_dates() -> None:
    mill, letters = read("rss091.xml")
    assert mill.url == "http://gazette.example.net/stories/mill.html"
    assert mill.text == "The old mill opens its doors on Saturday."
    assert mill.published is None
    assert letters.title == "Letters to the editor"
    assert letters.text == ""


def test_atom_with_html_title_and_xml_base_relative_links() -> None:
    owls, frost = read("atom.xml")
    assert owls.title == "Owls at dusk & dawn"
    assert owls.url == "https://blog.example.org/journal/2026/11/owls"
    assert owls.published == dt.datetime(2026, 11, 25, 12, 30, tzinfo=UTC)
    assert owls.kicker == "Birds"
    assert "<figure>" in owls.text  # HTML content preferred over the text summary
    assert owls.image is not None
    assert owls.image.url == "https://blog.example.org/journal/media/owl.jpg"
    assert owls.image.caption == "A barn owl on the north fence."
    assert owls.image.alt == "A barn owl on a fence post"
    assert frost.url == "https://blog.example.org/journal/2026/11/frost"
    assert frost.published == dt.datetime(2026, 11, 24, 7, 15, tzinfo=UTC)  # updated only
    assert frost.author == "Ben Meadows"
    assert frost.image is not None
    assert frost.image.url == "https://blog.example.org/journal/2026/11/frost/meadow.jpg"
    assert frost.image.alt == "Frost on the meadow"


def test_atom_without_dates_or_with_unreadable_dates() -> None:
    stories = read("atom-nodates.xml")
    assert [story.title for story in stories] == ["Version 2.0 released", "Version 1.9 released"]
    assert [story.published for story in stories] == [None, None]


@pytest.mark.parametrize(
    ("name", "title", "text"),
    [
        ("latin1.xml", "Cafés et crêpes : la fête d'été revient", "Entrée : 5 £ ou 6 ¤."),
        ("cp1252.xml", "“Curly” quotes – and why they’re €5 well spent…", "‘Single’ and “double”"),
    ],
)
def test_encodings_declared_in_the_xml_prolog(name: str, title: str, text: str) -> None:
    [story] = read(name)
    assert story.title == title
    assert text in story.text


def test_windows_1252_served_with_a_charset_header(http_server: LocalServer) -> None:
    body = (FIXTURES / "cp1252.xml").read_bytes()
    url = http_server.add("/quotes/feed", body, "application/rss+xml; charset=windows-1252")
    [story] = read_source(url, Settings())
    assert story.title == "“Curly” quotes – and why they’re €5 well spent…"
    assert story.published == dt.datetime(2026, 11, 24, 17, 0, tzinfo=UTC)


def test_html_and_script_in_titles_become_plain_text() -> None:
    stories = by_title(read("tricky.xml"))
    assert "Big & bold" in stories
    budget = stories["Budget passes"]
    assert budget.url == "https://tricky.example.com/news/stories/budget"
    assert budget.author == "Edith Tor"
    assert stories["Big & bold"].author == ""  # an e-mail address alone is not a byline


def test_untitled_item_is_titled_from_its_text() -> None:
    titles = [story.title for story in read("tricky.xml")]
    # The first sentence is too long for a headline: cut at its last clause break in 12 words.
    assert "No headline on this one…" in titles


def test_items_without_link_or_content_are_skipped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="digest.sources"):
        stories = by_title(read("tricky.xml"))
    assert "A story with no link at all" not in stories
    assert "Script link" not in stories  # javascript: is not a link a reader may follow
    assert stories["Only a permalink guid"].url == "https://tricky.example.com/news/guid-only"
    assert stories["Only a permalink guid"].published is None
    assert len(stories) == 5  # the empty item is dropped too
    warnings = [record.getMessage() for record in caplog.records]
    assert any("'A story with no link at all': it has no http(s) link" in w for w in warnings)


def test_icons_and_data_uris_are_not_pictures() -> None:
    assert by_title(read("tricky.xml"))["Tiny images only"].image is None


def test_local_feed_images_point_at_files_next_to_it() -> None:
    [story] = read("local-images.xml")
    assert story.image is not None
    assert story.image.url == (FIXTURES / "images" / "harbour.png").resolve().as_uri()


def test_remote_feed_cannot_point_images_at_local_files(http_server: LocalServer) -> None:
    body = b"""<rss version="2.0"><channel><title>x</title><item><title>Sneaky</title>
    <link>https://example.com/a</link>
    <enclosure url="file:///etc/passwd" type="image/png"/></item></channel></rss>"""
    [story] = read_source(http_server.add("/sneaky", body, "application/rss+xml"), Settings())
    assert story.image is None


def test_truncated_xml_keeps_the_items_it_could_read() -> None:
    stories = read("truncated.xml")
    assert stories[0].title == "It’s time: the city’s new bike lanes open on Main Street"


def test_broken_xml_without_items_is_not_a_feed() -> None:
    location = str(FIXTURES / "not-a-feed.xml")
    with pytest.raises(SourceError, match=r"not-a-feed.xml: not a feed: .*not well-formed"):
        read_source(location, Settings())


def test_a_home_page_points_to_its_feed(http_server: LocalServer) -> None:
    """A page with no article on it is read as a page (tests/test_sources_page.py), except a
    home page that announces a feed: the feed is the source to use."""
    url = http_server.url("/sources/page.html")
    with pytest.raises(SourceError) as caught:
        read_source(url, Settings())
    assert str(caught.value) == (
        f"{url}: a home page, not an article; use its feed: https://shopper.example.com/feed/"
    )


def test_valid_feed_with_no_items_is_empty_not_an_error(http_server: LocalServer) -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    assert read_source(http_server.add("/quiet", body, "application/rss+xml"), Settings()) == []


def _rss_item(tmp_path: Path, item: str) -> Story:
    path = tmp_path / "feed.xml"
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        f"<link>https://news.example.com/</link><item><title>Item</title>"
        f"<link>https://news.example.com/a</link>{item}</item></channel></rss>",
        encoding="utf-8",
    )
    [story] = read_source(str(path), Settings())
    return story


@pytest.mark.parametrize(
    ("pub_date", "expected"),
    [
        ("Seg, 24 Set 2018 19:42:40 -0300", dt.datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)),
        ("Di, 05 Mär 2024 10:00:00 +0100", dt.datetime(2024, 3, 5, 9, 0, tzinfo=UTC)),
        ("mer., 7 févr. 2024 08:00:00 +0100", dt.datetime(2024, 2, 7, 7, 0, tzinfo=UTC)),
        ("lun, 12 dic 2022 10:00:00 GMT", dt.datetime(2022, 12, 12, 10, 0, tzinfo=UTC)),
        ("not a date at all", None),
        # Not RFC 822, but unambiguous in English; no zone, so UTC as feedparser does for RSS.
        ("Friday, January 29, 2021 04:42 PM", dt.datetime(2021, 1, 29, 16, 42, tzinfo=UTC)),
        ("January 29, 2021", dt.datetime(2021, 1, 29, tzinfo=UTC)),
        ("01/02/2021 04:42", None),  # day or month first: not guessed
        ("Fri, 31 Dec 9999 23:00:00 -1400", None),  # past year 9999 in UTC
    ],
)
def test_rss_dates_with_day_and_month_in_the_sites_language(
    tmp_path: Path, pub_date: str, expected: dt.datetime | None
) -> None:
    assert _rss_item(tmp_path, f"<pubDate>{pub_date}</pubDate>").published == expected


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("&#55357;&#56832;", "😀"),  # emoji written as a UTF-16 pair of references
        ("&#xD83D;&#xDE00;", "😀"),
        ("&#xD800;", "\ufffd"),
        ("&#x110000;", "\ufffd"),
        ("&#99999999999999999999;", "\ufffd"),
        ("&#8217;", "’"),
    ],
)
def test_character_references_that_name_no_character(
    tmp_path: Path, reference: str, expected: str
) -> None:
    # feedparser's fallback parser raised UnicodeEncodeError, ValueError or OverflowError.
    path = tmp_path / "feed.xml"
    path.write_text(
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>T</title>'
        "<link>https://news.example.com/</link>"
        f"<item><title>Fans {reference} cheer</title><link>https://news.example.com/a</link>"
        f"<description>Boats {reference} returned.</description>"
        '<media:content url="https://img.example.com/a.jpg" medium="image">'
        f"<media:description>Dawn {reference}</media:description></media:content>"
        "</item></channel></rss>",
        encoding="utf-8",
    )
    [story] = read_source(str(path), Settings())
    assert story.title == f"Fans {expected} cheer"
    assert html_to_text(story.text) == f"Boats {expected} returned."
    assert story.image is not None and story.image.caption == f"Dawn {expected}"


def test_an_encoding_name_no_codec_has_is_not_tried(tmp_path: Path) -> None:
    # Bytes neither UTF-8 nor windows-1252 can decode sent feedparser to the declared name,
    # and a NUL in it made Python raise ValueError.
    path = tmp_path / "feed.xml"
    path.write_bytes(
        b'<?xml version="1.0" encoding="UTF\x008"?><rss version="2.0"><channel><title>T</title>'
        b"<link>https://news.example.com/</link><item><title>Caf\xe9 \x81 reopens</title>"
        b"<link>https://news.example.com/a</link></item></channel></rss>"
    )
    [story] = read_source(str(path), Settings())
    assert story.url == "https://news.example.com/a"
    assert story.title.startswith("Caf") and story.title.endswith(" reopens")


def test_media_rss_with_an_undeclared_prefix_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_text(
        '<rss version="2.0"><channel><title>T</title><link>https://news.example.com/</link>'
        "<item><title>A</title><link>https://news.example.com/a</link>"
        '<media:content xmlns:media="http://search.yahoo.com/mrss/" medium="image" '
        'url="https://img.example.com/a.jpg"/></item>'
        "<item><title>B</title><link>https://news.example.com/b</link>"
        '<media:content medium="image" url="https://img.example.com/b.jpg"/></item>'
        "</channel></rss>",
        encoding="utf-8",
    )
    stories = read_source(str(path), Settings())
    assert [story.image.url if story.image else None for story in stories] == [
        "https://img.example.com/a.jpg",
        "https://img.example.com/b.jpg",
    ]


def test_picture_enclosure_with_a_wrong_type_is_the_image(tmp_path: Path) -> None:
    story = _rss_item(
        tmp_path,
        '<enclosure url="https://img.example.com/a.jpg" type="text/html; charset=UTF-8" '
        'length="34251"/>',
    )
    assert story.image is not None
    assert story.image.url == "https://img.example.com/a.jpg"
    podcast = _rss_item(
        tmp_path, '<enclosure url="https://cdn.example.com/show.jpg" type="audio/mpeg"/>'
    )
    assert podcast.image is None


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        # A lazy loader's placeholder in src, the real picture in data-src.
        (
            '<img src="/img/Blank.gif" data-src="https://img.example.com/harbour.jpg">',
            "https://img.example.com/harbour.jpg",
        ),
        # An ad server's banner first, then the story's picture.
        (
            '<img src="https://banners.example.es/www/delivery/avw.php?zoneid=15" alt="Publicidad">'
            '<img src="https://img.example.com/story.jpg">',
            "https://img.example.com/story.jpg",
        ),
        ('<img src="https://img.example.com/spacer.gif">', None),
    ],
)
def test_content_image_is_the_picture_shown_never_a_placeholder_or_an_ad(
    tmp_path: Path, markup: str, expected: str | None
) -> None:
    story = _rss_item(tmp_path, f"<description><![CDATA[<p>Text.</p>{markup}]]></description>")
    assert (story.image.url if story.image else None) == expected
