"""The earlier real publishers' feeds (`../shared/data/feeds-earlier/`, see its SOURCES.md)
through the real pipeline.

Other projects saved these feeds as test data; ours were written by us, so these catch what
publishers really do: YouTube's `media:group`, FeedBurner redirects, Jekyll placeholders, JSON
Feeds with RSS dates, podcast keywords, sponsor lines.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from digest.config import Settings
from digest.models import Story
from digest.pipeline import build_issue
from digest.sources import read_source
from digest.teaser import teaser_for
from digest.text import html_to_text
from tests.support.shared_data import shared_data

REALWORLD = shared_data("feeds-earlier")
FEEDS = sorted(path for path in REALWORLD.iterdir() if path.suffix in (".xml", ".json", ".rdf"))
TAG = re.compile(r"<[A-Za-z/!][^>]*>")
GMAIL_CLIP_BYTES = 102 * 1024


def stories(name: str) -> list[Story]:
    return read_source(str(REALWORLD / name), Settings(cache_dir=None))


def test_every_real_feed_is_listed_in_sources() -> None:
    listed = (REALWORLD / "SOURCES.md").read_text(encoding="utf-8")
    assert len(FEEDS) >= 12
    assert [path.name for path in FEEDS if f"`{path.name}`" not in listed] == []


@pytest.mark.parametrize("feed", FEEDS, ids=lambda path: path.name)
def test_real_feed_builds_a_clean_issue(feed: Path, tmp_path: Path) -> None:
    settings = Settings(issues_dir=tmp_path / "issues", fetch_sources_only=True, cache_dir=None)
    gathered = read_source(str(feed), settings)
    with_text = {story.url for story in gathered if html_to_text(story.text)}
    result = build_issue(settings, date=dt.date(2026, 11, 26), sources=[str(feed)])
    issue = json.loads((result.folder / "issue.json").read_text(encoding="utf-8"))
    built = [issue["lead"], *issue["more"]]
    assert built
    for story in built:
        assert story["title"].strip() and not TAG.search(story["title"])
        assert re.match(r"https?://[^/\s]+", story["url"]), story["url"]
        if story["url"] in with_text:
            assert story["teaser"].strip(), story["title"]
        assert not TAG.search(story["teaser"]), story["teaser"]
        for leftover in ("[…]", "[...]", "appeared first on", "Continue reading"):
            assert leftover not in story["teaser"]
        assert "brought to you by" not in story["teaser"]
    html = (result.folder / "email.html").read_bytes()
    assert len(html) < GMAIL_CLIP_BYTES


def test_youtube_video_description_is_the_text_not_a_caption() -> None:
    video = stories("youtube-kotlin.atom.xml")[0]
    assert teaser_for(video, 40).startswith("Kotlin’s string interpolation has been")
    assert video.image is not None
    assert video.image.url == "https://i2.ytimg.com/vi/ULBuIB9lHkc/hqdefault.jpg"
    assert video.image.caption == ""
    assert video.image.alt == video.title


def test_feedburner_links_go_to_the_article_not_the_redirect() -> None:
    items = stories("cnn-world-feedburner.rss.xml")
    assert [story.url for story in items][:1] == [
        "https://www.cnn.com/2020/01/01/australia/australia-fires-explainer-intl-hnk-scli/index.html"
    ]
    assert all("rss.cnn.com/~r/" not in story.url for story in items)
    assert all(story.image and story.image.width == 1100 for story in items)
    assert "feedburner" not in teaser_for(items[1], 60)


def test_placeholder_content_gives_way_to_the_summary() -> None:
    (post,) = stories("jekyll-idea-ricir.atom.xml")
    assert teaser_for(post, 40).startswith("Dopo tanti mesi di pausa")


def test_json_feed_rfc822_dates_are_read() -> None:
    posts = stories("kibty-town.json")
    assert posts[0].published == dt.datetime(2024, 9, 7, tzinfo=dt.UTC)
    assert all(post.published for post in posts)


def test_podcast_keywords_are_no_kicker_and_episode_art_is_the_image() -> None:
    (episode,) = stories("joe-rogan-libsyn.podcast.xml")
    assert episode.kicker == ""
    assert episode.image is not None
    assert episode.image.url.endswith("/JRE1109.jpg")


def test_sponsor_line_does_not_open_the_teaser() -> None:
    issue = stories("distrowatch.rdf")[0]
    teaser = teaser_for(issue, 40)
    assert teaser.startswith("This week in DistroWatch Weekly")
    assert "TUXEDO" not in teaser


def test_untitled_mastodon_post_takes_its_first_sentence_and_first_picture() -> None:
    post = stories("mastodon-art.rss.xml")[0]
    assert post.title == "Oh it's #WebcomicDay again!"
    assert post.image is not None
    assert post.image.caption == "Raiders ride giant lizards across the desert."


def test_tracking_pixels_are_never_the_picture() -> None:
    for story in stories("npr-world.json"):
        assert story.image is not None
        assert "tracking" not in story.image.url


def test_guardian_standfirst_is_the_teaser_and_the_credit_is_kept() -> None:
    speech = stories("guardian-us.rss.xml")[0]
    # A standfirst under twenty words is ended with a full stop and the story goes on after it.
    assert teaser_for(speech, 60) == (
        "The president’s ‘new American moment’ speech stirred Republican applause while Democrats "
        "showed thinly disguised contempt. Donald Trump has promised a “new American moment” in a "
        "State of the Union address that sought harmony but succeeded only in underlining the deep "
        "discord at the heart of the country’s politics."
    )
    assert speech.author == "David Smith in Washington"
    assert speech.image is not None
    assert speech.image.width == 460
    assert speech.image.credit == "Photograph: Networ/Sipa USA/REX/Shutterstock"


def test_wire_datelines_and_bylines_in_portuguese() -> None:
    items = stories("uol-noticias.rss.xml")
    teasers = {story.title[:20]: teaser_for(story, 60) for story in items}
    assert teasers["Dow Jones fecha em b"].startswith("O índice Dow Jones Industrial fechou")
    assert teasers["Rival de Putin é con"].startswith("O líder de oposição russo")
    assert teasers["Assange chegou a ren"].startswith("O fundador do WikiLeaks")
    assert teasers["Relatório do governo"] == ""  # the description is only "Por Matt Spetalnick…"
    assert not any("Leia mais" in teaser or "[?]" in teaser for teaser in teasers.values())
    # "Seg, 24 Set 2018 19:42:40 -0300": Portuguese day and month names
    assert items[0].published == dt.datetime(2018, 9, 24, 22, 42, 40, tzinfo=dt.UTC)
    assert all(story.published for story in items)


def test_picture_enclosure_declared_as_html_is_still_the_picture() -> None:
    assert all(story.image for story in stories("lemonde-une.rss.xml"))


def test_localized_wordpress_footer_and_cut_excerpt() -> None:
    """German Yoast footer ("Der Beitrag … erschien zuerst auf …"), a "[…]" cut inside German
    guillemets, and a date written "4. Mai" that ends no sentence."""
    jujutsu, academia = stories("anime2you-wordpress.rss.xml")
    assert teaser_for(jujutsu, 60).endswith(
        "ihrem Ende nähert. Wir fassen zusammen. Ende innerhalb eines Jahres?"
    )
    assert teaser_for(academia, 60).endswith("zum Abschluss bringen möchte. Wir fassen zusammen.")


def test_magazine_click_here_tail_is_dropped() -> None:
    for story in stories("macworld-idg.rss.xml"):
        assert "click here" not in teaser_for(story, 500)


def test_json_feed_site_icon_and_counting_pixel_are_no_picture() -> None:
    lecker, video = stories("3960-journal.json")
    assert lecker.image is None  # `image` is the site's 192px icon, the HTML has a Matomo pixel
    assert video.image is not None
    assert video.image.url == "https://img.youtube.com/vi/G2dGWH90aew/hqdefault.jpg"
