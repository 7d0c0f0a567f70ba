"""Advertising carried as feed items is not a story."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.config import Settings
from digest.sources import read_source
from digest.sources.advertising import is_advertising


@pytest.mark.parametrize(
    "title",
    [
        "[Sponsor] Delicious Library",
        "[Sponsored] A better calendar",
        "Sponsored: Try Linode for free",
        "Sponsor — Kolide",
        "Advertisement: Winter sale",
        "Anzeige: Die neue Küche",
        "The best VPN of 2026 (Sponsored)",
        "(Ad) Cloud storage for teams",
        "Paid Post: How banks are changing",
    ],
)
def test_labelled_titles_are_advertising(title: str) -> None:
    assert is_advertising(title)


@pytest.mark.parametrize(
    "title",
    [
        "Speaking of DF Advertising and Sponsorships",
        "Sponsors pull out of the World Cup",
        "Ad blockers are winning",
        "AD 2026: a year in review",
        "Advertisers flee the platform",
        "[Updated] Council votes on the budget",
    ],
)
def test_titles_about_advertising_are_stories(title: str) -> None:
    assert not is_advertising(title)


def test_sponsored_category_or_sponsors_id_is_advertising() -> None:
    assert is_advertising("Meet Acme", ["Tech", "Sponsored Content"])
    assert is_advertising("Delicious Library", [], "tag:df.example,2009:/feeds/sponsors//11.17352")
    assert is_advertising("Acme", [], "https://blog.example.org/sponsored/acme")
    assert not is_advertising("Meet Acme", ["Tech", "Sponsorship news"])
    assert not is_advertising("Acme", [], "tag:df.example,2009:/linked//6.17351")


def test_a_link_blogs_sponsor_item_is_left_out(tmp_path: Path) -> None:
    feed = tmp_path / "links.atom"
    feed.write_text(
        """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Links</title>
<link rel="self" href="https://links.example.org/index.xml"/>
<entry><title>[Sponsor] Delicious Library</title>
<link rel="alternate" href="https://delicious.example.com/"/>
<id>tag:links.example.org,2009:/feeds/sponsors//11.17352</id>
<updated>2009-06-30T13:03:14-04:00</updated>
<content type="html">&lt;p&gt;Scan in all your books.&lt;/p&gt;</content></entry>
<entry><title>Copy and Paste</title>
<link rel="alternate" href="https://links.example.org/2009/06/copy_and_paste"/>
<id>tag:links.example.org,2009://1.17330</id>
<updated>2009-06-30T12:00:00-04:00</updated>
<content type="html">&lt;p&gt;The iPhone finally copies.&lt;/p&gt;</content></entry>
</feed>""",
        encoding="utf-8",
    )
    assert [story.title for story in read_source(str(feed), Settings())] == ["Copy and Paste"]
