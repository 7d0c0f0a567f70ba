"""Which picture a feed item gets: the story's own, never a share button, an ad, an icon, the
channel's cover or a file name for alt text."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.config import Settings
from digest.models import Story
from digest.sources import read_source
from digest.sources.pictures import is_file_name, is_icon, is_share_button, split_credit


def feed(tmp_path: Path, items: str, channel: str = "") -> list[Story]:
    path = tmp_path / "feed.xml"
    path.write_text(
        f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Pictures</title><link>https://pics.example.org/</link>{channel}
{items}</channel></rss>""",
        encoding="utf-8",
    )
    return read_source(str(path), Settings())


def item(n: int, body: str = "", extra: str = "") -> str:
    return (
        f"<item><title>Story {n}</title><link>https://pics.example.org/{n}</link>{extra}"
        f"<description><![CDATA[{body}<p>The story itself.</p>]]></description></item>"
    )


def test_a_share_button_from_an_ad_network_is_never_the_picture(tmp_path: Path) -> None:
    button = (
        '<a href="https://ads.example.net/share?u=1"><img alt="Add to Facebook" width="600"'
        ' src="https://cdn.sharing.example.net/fb.gif"></a>'
    )
    photo = '<img src="https://pics.example.org/harbour.jpg" alt="Trawlers at anchor">'
    with_photo, button_only = feed(tmp_path, item(1, button + photo) + item(2, button))
    assert with_photo.image is not None
    assert with_photo.image.url == "https://pics.example.org/harbour.jpg"
    assert button_only.image is None


def test_a_podcast_channel_cover_is_not_each_episodes_picture(tmp_path: Path) -> None:
    channel = '<itunes:image href="https://cdn.example.org/show/cover-art-2023.jpg"/>'
    episodes = feed(
        tmp_path,
        item(1, extra='<itunes:image href="https://cdn.example.org/ep1/cover_art_2023.jpg"/>')
        + item(2, extra='<itunes:image href="https://cdn.example.org/show/cover-art-2023.jpg"/>')
        + item(3, extra='<itunes:image href="https://cdn.example.org/ep3/episode-3.jpg"/>'),
        channel,
    )
    assert [story.image.url if story.image else None for story in episodes] == [
        None,
        None,
        "https://cdn.example.org/ep3/episode-3.jpg",
    ]


def test_pictures_in_elements_no_standard_has(tmp_path: Path) -> None:
    stories = feed(
        tmp_path,
        item(
            1,
            extra="<thumbnail>https://pics.example.org/1-small.jpg</thumbnail>"
            "<bigimage>https://pics.example.org/1-big.jpg</bigimage>",
        )
        + item(2, extra="<image>https://pics.example.org/2.jpg</image>")
        + item(3, extra="<image><url>https://pics.example.org/3.jpg</url></image>")
        + item(4, extra='<thumbnail url="https://pics.example.org/4.jpg"/>'),
    )
    assert [story.image.url if story.image else None for story in stories] == [
        "https://pics.example.org/1-big.jpg",
        "https://pics.example.org/2.jpg",
        "https://pics.example.org/3.jpg",
        "https://pics.example.org/4.jpg",
    ]


def test_a_screenshot_wins_over_the_app_icon_before_it(tmp_path: Path) -> None:
    body = (
        '<img src="https://apps.example.org/fieldnotes-app-icon.png" width="512" height="512">'
        '<img src="https://apps.example.org/logo.svg">'
        '<img src="https://apps.example.org/square.png" width="64" height="64">'
        '<img src="https://apps.example.org/screens/inbox.png" width="1170" height="2532">'
    )
    [story] = feed(tmp_path, item(1, body))
    assert story.image is not None
    assert story.image.url == "https://apps.example.org/screens/inbox.png"


@pytest.mark.parametrize(
    "name",
    [
        "DSC_4550",
        "WeekInReview_thumb_thumb[2]",
        "IMG_0642",
        "2009_08_pubadv.jpg",
        "20140328-131858.jpg",
        "angies-list",
        "screen_500 (1)",
        "wedding presents-1",
        "P1010044",
    ],
)
def test_file_and_camera_names_are_no_alt_text(name: str, tmp_path: Path) -> None:
    [story] = feed(tmp_path, item(1, f'<img src="https://pics.example.org/x.jpg" alt="{name}">'))
    assert story.image is not None
    assert story.image.alt == "Story 1"
    assert is_file_name(name)


@pytest.mark.parametrize(
    "text",
    ["Trawlers at anchor", "Rowayton sign", "Apollo 11", "Boeing 737-800", "The Mack's back."],
)
def test_words_are_alt_text(text: str) -> None:
    assert not is_file_name(text)


def test_a_figcaption_credit_is_split_from_the_caption(tmp_path: Path) -> None:
    body = (
        '<figure><img src="https://pics.example.org/land.jpg">'
        "<figcaption>On an Abandoned Land © stadtacker</figcaption></figure>"
    )
    [story] = feed(tmp_path, item(1, body))
    assert story.image is not None
    assert (story.image.caption, story.image.credit) == ("On an Abandoned Land", "© stadtacker")
    assert story.image.alt == "On an Abandoned Land"


@pytest.mark.parametrize(
    ("caption", "parts"),
    [
        ("Photo by Steve Govoni", ("", "Photo by Steve Govoni")),
        (
            "Trawlers at anchor. (Photo: Jane Doe/Wire)",
            ("Trawlers at anchor.", "Photo: Jane Doe/Wire"),
        ),
        ("Die Brücke bei Nacht. Foto: dpa", ("Die Brücke bei Nacht.", "Foto: dpa")),
        ("Copyright law changes", ("Copyright law changes", "")),
        ("A photo of the harbour", ("A photo of the harbour", "")),
    ],
)
def test_credits_in_captions(caption: str, parts: tuple[str, str]) -> None:
    assert split_credit(caption) == parts


def test_share_buttons_and_icons_by_name() -> None:
    assert is_share_button("https://x.example/img/share-facebook.png")
    assert is_share_button("https://x.example/a.gif", "Share on Twitter")
    assert not is_share_button("https://x.example/harbour.jpg", "Fishermen share a meal")
    assert is_icon("https://x.example/simpledb_logo.png")
    assert is_icon("https://x.example/a.png", 80, 80)
    assert not is_icon("https://x.example/a.png", 80, 600)


def test_feed_proxy_ads_and_avatars_are_no_pictures(tmp_path: Path) -> None:
    body = (
        '<img src="http://rss.pics.example.org/Pics/pics?g=1961"/>'
        '<img src="http://2.gravatar.com/avatar/24e7eca6?s=96">'
        '<img src="https://s.w.org/images/core/emoji/13.1.0/72x72/1f3c9.png">'
        '<img src="https://pics.example.org/match.jpg">'
    )
    proxied = (
        "<link>http://rss.pics.example.org/Pics/pics?m=1961</link>"
        "<feedburner:origLink xmlns:feedburner='http://rssnamespace.org/feedburner/ext/1.0'>"
        "https://pics.example.org/1</feedburner:origLink>"
    )
    [story] = feed(
        tmp_path,
        f"<item><title>Match</title>{proxied}<description><![CDATA[{body}]]></description></item>",
    )
    assert story.url == "https://pics.example.org/1"
    assert story.image is not None
    assert story.image.url == "https://pics.example.org/match.jpg"
