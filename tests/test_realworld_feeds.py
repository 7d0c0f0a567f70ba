"""41 real publishers' feeds (`../shared/data/feeds/`, see SOURCES.md) through the real pipeline.

For each, the lead a subscriber should get, written by reading the feed: its newest item's title
and link (the article, not a tracking redirect), its picture (or none: no icon, avatar, ad, emoji
or podcast cover) and the first words its teaser should start with ("" where the item has no
words of its own to tell). Teasers change as the teaser engine improves, so only their opening is
pinned.
Every built issue must also pass `digest check`'s content warnings.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from digest.check import check_issue
from digest.config import Settings
from digest.pipeline import build_issue
from digest.sources.pictures import is_file_name
from tests.support.shared_data import shared_data

FEEDS = shared_data("feeds")
TAG = re.compile(r"<[A-Za-z/!][^>]*>")
CONTENT_RULES = ("teasers", "pictures", "kickers", "titles", "links")


@dataclass(frozen=True)
class Lead:
    title: str
    url: str
    picture: str | None
    teaser: str
    language: str = "en"


LEADS: dict[str, Lead] = {
    "adobe-blog.atom.xml": Lead(
        "Adobe, Sky and Kick it Out #Takeastand with the launch of The Edit",
        "https://blog.adobe.com/en/publish/2021/07/19/adobe-sky-kick-it-out-take-stand-launch-edit.html",
        # Its pictures are relative to the article page ("./media_….jpeg"), not to the feed.
        None,
        "Living in a digital-first world",  # not "by Adobe Communications posted on 07-19-2021"
    ),
    "ak-moblog-blogger.rss.xml": Lead(
        "Teh Saxxi",
        "http://aksmoblog.blogspot.com/2006/12/teh-saxxi.html",
        "http://photos1.blogger.com/x/blogger/80/3710/300/994246/image-upload-15-727297.jpg",
        "",  # a photo post: no words
    ),
    "avi-bryant-href-considered-harmful.rdf": Lead(
        "Chrome, V8 and Strongtalk",
        "http://www.avibryant.com/2008/09/chrome-v8-and-s.html",
        "http://www.avibryant.com/files/picture_19.png",
        "There's lots to like about Google's new web browser, Chrome, which was released today.",
        "en-US",
    ),
    "aws-blog.atom.xml": Lead(
        "AWS Job: Architect & Designer Position in Turkey",
        "http://aws.typepad.com/aws/2009/01/aws-job-architect-designer-position-in-turkey.html",
        None,
        "Late last year an entrepreneur from Turkey visited me at Amazon HQ in Seattle.",
        "en-US",
    ),
    "bbc-urdu.rss.xml": Lead(
        "امریکہ کے ساتھ خفیہ معلومات کا تبادلہ اور فوجی تعاون معطل کر دیا: وزیر دفاع",
        "http://www.bbc.com/urdu/pakistan-42645212",
        "http://c.files.bbci.co.uk/13C09/production/_99550908_3f6467e7-5086-43e5-9c31-918be66a17ad.jpg",
        "پاکستان کے وزیر دفاع خرم دستگیر نے کہا ہے کہ",
        "ur",
    ),
    "blizzard-starcraft2.atom.xml": Lead(
        "StarCraft II 4.7.1 Patch Notes",
        "http://us.battle.net/en/blog/22771167",  # written "http://us.battle.net///en/…"
        None,  # its three pictures open the next post too: the series' icons, not this story's
        "Today marks the beginning of Season 4 of 2018,",
        "en-US",
    ),
    "brokelyn.rss.xml": Lead(
        "Friday, sing back the Mack",
        "http://www.brokelyn.com/friday-sing-along-to-the-macks-return/",
        "http://www.brokelyn.com/wp-content/uploads/2010/07/MarkMorrisoncrop-250x182.jpg",
        "It seems like yesterday that the ’80s",  # not the picture's caption "The Mack's back."
    ),
    "citydog-by.rss.xml": Lead(
        "Группа «Серебряная свадьба» ушла в бессрочный отпуск",
        "http://citydog.by/post/zaden-serebrianaya-svadba-v-otpuske/",
        "http://stat.citydog.by/content/_posts/273X223/58887a3725b4c.png",
        "«Не хотим поднимать эту тему».",
        "ru",  # told from its words
    ),
    "cre-podcast.rss.xml": Lead(
        "CRE207 Planetarien",
        "http://cre.fm/cre207-planetarien",  # feedburner:origLink, not feedproxy's redirect
        "http://meta.metaebene.me/media/cre/cre207-planetarien.jpg",  # the episode's own
        "Digitale Planetarien lassen den Zauber der Wissenschaft neu entstehen",
        "de-DE",
    ),
    "daring-fireball.atom.xml": Lead(
        "This is a test & it's data",  # as NewsBlur's copy has it
        "http://hsivonen.iki.fi/xhtml2-html5-q-and-a/",
        None,
        "Like Simon Willison, I very much enjoy Sivonen’s distinction",
    ),
    "dustri-artificial-truth.atom.xml": Lead(
        "Using vale with vim",
        "https://dustri.org/b/using-vale-with-vim.html",
        None,
        "LWN recently published an excellent (subscriber only) article on vale,",
    ),
    "flickr-kebernet.rss.xml": Lead(
        "Lights in the Rain",
        "http://www.flickr.com/photos/kebernet/96349506/",
        "http://static.flickr.com/22/96349506_6f022998be_o.jpg",
        "",  # a photo with no words but Flickr's "kebernet posted a photo:"
    ),
    "gawker.rss.xml": Lead(
        "iPhone to Revolutionize How Municipal Bureaucrats Ignore Residents [Utopia]",
        "http://gawker.com/5308831/iphone-to-revolutionize-how-municipal-bureaucrats-ignore-residents",
        "http://gawker.com/assets/images/gawker/2009/07/iphone_3g_angry-thumb-350x618-1.jpg",
        "In San Francisco, citizens complain to the city over Twitter.",
    ),
    "github-miniflux-commits.atom.xml": Lead(
        "Parse podcast categories",
        "https://github.com/miniflux/v2/commit/6d97f8b4582414b6ce69467656824690057d4793",
        None,  # only the committer's 30 px avatar
        "",  # the commit message is its title and nothing more
        "en-US",
    ),
    "google-alerts-slack.atom.xml": Lead(
        "Report offers Prediction of Automotive Slack Market by Top key players like Haldex, "
        "Meritor, Bendix ...",
        "https://www.aglobalmarketresearch.com/report-offers-prediction-of-automotive-slack-market-"
        "by-top-key-players-like-haldex-meritor-bendix-mei-wabco-accuride-stemco-tbk-febi-aydinsan/",
        None,
        "Automotive Slack Market reports provides a comprehensive overview",
    ),
    "gothamist.rss.xml": Lead(
        "Public Advocate Hopefuls Debate Each Other, Defend The Job",
        # pheedo:origLink, not the click.phdo redirect
        "http://gothamist.com/2009/08/29/public_advocate_hopefuls_debate_eac.php",
        "http://gothamist.com/attachments/jen/2009_08_pubadv.jpg",
        "Last night, the Democratic candidates for NYC Public Advocates squared off",
    ),
    "hacker-news.rss.xml": Lead(
        "Show HN: MetricFlow – open-source metric framework",
        "https://github.com/transform-data/metricflow",
        None,
        "",  # the description is only a "Comments" link (enrichment reads the article instead)
    ),
    "huffpost-canada.rss.xml": Lead(
        "Winnipeg High School Orders Custom Hijabs For Muslim Athletes",
        "http://www.huffingtonpost.ca/2017/10/17/winnipeg-high-school-orders-custom-hijabs-for-"
        "muslim-athletes_a_23246627/",
        "http://o.aolcdn.com/hss/storage/midas/b1726dd5e5cde1fb967d92d963537957/205775479/"
        "Untitled+design+%2857%29.png",
        "Winnipeg high school student Nusaybah Mohamed's basketball uniform",
    ),
    "ibash-org-ru.rss.xml": Lead(
        "Цитата #17703",
        "http://ibash.org.ru/quote.php?id=17703",
        None,
        "xxx: есть у кого жаба программер",
        "ru",
    ),
    "inessential.json": Lead(
        "James Dempsey and the Breakpoints Benefit App Camp for Girls",
        "http://inessential.com/2017/06/02/james_dempsey_and_the_breakpoints_benefi",
        None,
        "On Wednesday night I know where I’ll be",
        "en-US",
    ),
    "jsonfeed-org.json": Lead(
        "Announcing JSON Feed",
        "https://jsonfeed.org/2017/05/17/announcing_json_feed",
        None,
        "We — Manton Reece and Brent Simmons — have noticed that JSON",
    ),
    "kcrw-left-right-center.rss.xml": Lead(
        "China's Big Visit; Big Changes at the White House; Golly Gee, Gas Prices!",
        "http://www.kcrw.com/cgi-bin/db/kcrw.pl?show_code=lr&air_date=04/21/06&tmplt_type=Show",
        None,
        "",  # an empty description, subtitle and summary
        "en-US",
    ),
    "le-cercle-psy.rss.xml": Lead(
        "Perturbateurs endocriniens : quels effets sur le cerveau ?",
        "https://le-cercle-psy.scienceshumaines.com/perturbateurs-endocriniens-quels-effets-sur-"
        "le-cerveau_sh_39995",
        None,
        "Si leur impact semble discret au premier abord,",
        "fr",  # it declares no language: told from its words
    ),
    "luke-dorny.json": Lead(
        "New Font",
        "https://lukedorny.com/updates/new-font",
        "https://lukedorny.com/media/pages/updates/new-font/4d77b179bd-1736211467/"
        "asketch1-500x-crop.jpg",
        "Okay. Today we start a new typeface design and create a font.",
        "en-US",
    ),
    "mother-jones.rss.xml": Lead(
        "HSR Opponents Working Hard to Turn Me Into a Supporter",
        "http://motherjones.com/kevin-drum/2012/03/hsr-opponents-working-hard-turn-me-supporter",
        "http://www.motherjones.com/files/images/Blog_HSR_California.jpg",
        "Regular readers know that I'm not a fan of the proposed LA-San Francisco",
    ),
    "nytimes-homepage.rss.xml": Lead(
        "Jared Kushner, a Trump In-Law and Adviser, Chases a Chinese Deal",
        "http://www.nytimes.com/2017/01/07/us/politics/jared-kushner-trump-business.html"
        "?partner=rss&emc=rss",
        "https://static01.nyt.com/images/2017/01/06/us/08KUSHNER1/08KUSHNER1-moth.jpg",
        "As Donald J. Trump’s son-in-law prepares for a White House role,",
        "en-US",
    ),
    "orf-at.rdf": Lead(
        "US-Band New Edition mit Stern auf „Walk of Fame“ geehrt",
        "http://orf.at/stories/2376368/",
        None,
        "",  # title and link only
        "de",
    ),
    "retriever-intranet30.rss.xml": Lead(
        "SVART MÅNAD - DÖDSOLYCKA i Vetlanda",
        "https://www.retriever-info.com/go/?a=30338&d=00201120180819281555686&p=200108&s=2011"
        "&sa=2016177&u=http%3A%2F%2Fwww.hoglandsnytt.se%2Fsvart-manad-dodsolycka-i-vetlanda%2F"
        "&x=33d88e677ce6481d9882de22c76e4234",
        None,
        "Under juli 2018 omkom 39 personer och 1 521 skadades i vägtrafiken.",
        "sv",  # told from its words
    ),
    "rsr-la-capsule.rss.xml": Lead(
        "La Wii",
        # Every episode links to the show's page; its own address is its audio.
        "http://podcast.rsr.ch/media/capsule/20061211-la-wii.mp3",
        None,  # the show's logo only
        "Invité : Laurent Dormond.",
        "fr-CH",
    ),
    "sam-ruby-intertwingly.atom.xml": Lead(
        "Plex",
        "http://intertwingly.net/blog/2013/01/30/Plex",  # written "/blog/2013/01/30/Plex"
        None,
        "Scott Hanselman: Plex is the media center software ecosystem",
    ),
    "slashdot.rdf": Lead(
        "The Prisoner To Be Remade On U.K. TV",
        "http://slashdot.org/article.pl?sid=05/11/19/2014233&from=rss",
        None,  # FeedBurner's ad images only
        'An anonymous reader writes "Various UK news sites are reporting',
        "en-US",
    ),
    "stadtfeuerwehr-weiz.rss.xml": Lead(
        "[19.08.2018 - 07:08 Uhr] Brandmeldeanlagenalarm",
        "http://www.stadtfeuerwehr-weiz.at/einsaetze/einsatz-detail/5220/",
        None,
        # its labelled lines, not the site's footer "Weitere Informationen … auf unserer Website"
        "Einsatzort: Weiz, Elingasse (Fa. Andritz Hydro Werk Nord). Alarmierung: Sammelruf.",
        "de-DE",
    ),
    "techcrunch.rss.xml": Lead(
        "Angie’s List Sets Price Range IPO At $11 To $13 Per Share; Valued At Over $600M",
        "http://techcrunch.com/2011/11/02/angies-list-prices-ipo-at-11-to-13-per-share-valued-"
        "at-over-600m/",
        "http://tctechcrunch2011.files.wordpress.com/2011/11/angies-list.jpeg?w=150",
        "Angie’s List, which offers consumers a way to review and rate doctors,",
    ),
    "the-torontonian.rss.xml": Lead(
        "Moonwalk Away : Ear Candy",
        "http://thetorontonian.ca/2014/04/02/moonwalk-away-ear-candy/",
        None,  # its only media:content is the author's Gravatar
        "When I came back from South Africa four years ago",
    ),
    "thoughtbot-giant-robots.atom.xml": Lead(
        '"Tell, Don\'t Ask" in Elixir: A Story of Pattern-Matching',
        "https://robots.thoughtbot.com/tell-don-t-ask-in-elixir",
        None,
        "“Tell, Don’t Ask” is a well-covered topic within object-oriented programming",
    ),
    "trotter-cashion.atom.xml": Lead(
        "Data Urls and document.domain",
        "http://trottercashion.com/2008/12/13/data-urls-and-document-domain",
        None,
        "Well this is a bummer.",
        "en-US",
    ),
    "usgs-earthquakes.atom.xml": Lead(
        "M 2.1 - 27km SE of Campo, CA",
        "https://earthquake.usgs.gov/earthquakes/eventpage/ci38138255",
        None,
        "Time: 2018-11-19 21:42:38 UTC; 2018-11-19 13:42:38 -08:00 at epicenter. "
        "Location: 32.413°N 116.292°W. Depth: -0.47 km (-0.29 mi).",
    ),
    "welcome-to-night-vale.rss.xml": Lead(
        "Patreon Preview: Behind the Scenes (September 2023)",
        "https://play.prx.org/listen?ge=prx_126_e3dafc45-a202-42d0-a55b-216e733a2d7a"
        "&uf=https%3A%2F%2Ffeeds.feedburner.com%2Fwelcometonightvalepodcast",
        None,  # its itunes:image is a copy of the show's cover
        "An excerpt from our most recent patreon Behind the Scenes episode",
    ),
    "wigan-warriors.atom.xml": Lead(
        "Warriors link with Ireland RL",
        "https://wiganwarriors.com/blog/2022/01/14/warriors-link-with-ireland-rl/",
        "https://wiganwarriors.com/blog/wp-content/uploads/2022/01/Image-4.jpeg",  # not an emoji
        "Wigan Warriors have linked with Rugby League Ireland",
        "en-GB",
    ),
    "wiley-journal-of-vegetation-science.rdf": Lead(
        "How traits determine species responses to environmental gradients",
        "http://onlinelibrary.wiley.com/resolve/doi?DOI=10.1111%2Fjvs.12117",
        "http://onlinelibrary.wiley.com/store/10.1111/jvs.12117/asset/image_n/"
        "jvs12117-toc-0001.gif?v=1&s=6887c3c5640708e868fb9edfe61851f8f880955f",
        "The role traits play in species distributions is central",
    ),
    "yahoo-music-top-songs.rss.xml": Lead(
        "#1: You're Beautiful - James Blunt",
        "http://music.yahoo.com/ymu-21642319-1-1",  # out of the pa.yahoo.com/*http://… chain
        None,  # 80 px album art only
        "",  # song and artist repeat the title; the rest is "(C) 2005 Atlantic Records."
    ),
}


def test_every_feed_is_listed_with_its_expected_lead() -> None:
    names = sorted(
        path.name for path in FEEDS.iterdir() if path.name != "SOURCES.md" and path.is_file()
    )
    names = [name for name in names if not name.startswith(".")]
    assert len(names) == 41
    assert sorted(LEADS) == names
    listed = (FEEDS / "SOURCES.md").read_text(encoding="utf-8")
    assert [name for name in names if f"| {name} |" not in listed] == []


@pytest.mark.parametrize("name", sorted(LEADS))
def test_real_feed_builds_the_lead_a_reader_expects(name: str, tmp_path: Path) -> None:
    settings = Settings(issues_dir=tmp_path / "issues", fetch_sources_only=True, cache_dir=None)
    result = build_issue(settings, date=dt.date(2026, 11, 26), sources=[str(FEEDS / name)])
    issue = json.loads((result.folder / "issue.json").read_text(encoding="utf-8"))
    expected = LEADS[name]
    lead = issue["lead"]
    assert lead["title"] == expected.title
    assert lead["url"] == expected.url
    assert (lead["image"] or {}).get("url") == expected.picture
    if expected.teaser:
        assert lead["teaser"].startswith(expected.teaser), lead["teaser"]
    else:
        assert lead["teaser"] == ""
    assert issue["language"] == expected.language
    for story in [lead, *issue["more"]]:
        assert story["title"].strip() and not TAG.search(story["title"]), story["title"]
        assert not TAG.search(story["teaser"]), story["teaser"]
        image = story["image"]
        if image:
            assert image["alt"].strip()
            if image["alt"] != story["title"]:  # a photo titled "img_0080.jpg" by its author
                assert not is_file_name(image["alt"]), image["alt"]
    warnings = [
        finding.line
        for finding in check_issue(settings, dt.date(2026, 11, 26), spam=False)
        if finding.rule in CONTENT_RULES
    ]
    assert warnings == []
