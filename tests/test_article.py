"""The article reader on small pages written for each case: which title it picks and what text it
keeps. (Its quality on real pages is measured by `benchmarks/extraction.py`.)"""

from __future__ import annotations

import pytest

from digest.http import Fetched
from digest.sources.article import Article, read_article

STORY = (
    "肉をくわえたイヌが、橋を渡っていました。ふと下を見ると、川の中にも肉をくわえたイヌがいます。"
    "イヌはそれを見て、思いました。あいつの肉の方が、大きそうだ。"
)


def read(page: str, url: str = "https://news.example.org/2024/story") -> Article:
    return read_article(Fetched(content=page.encode(), url=url, content_type="text/html"))


def test_a_story_in_a_layout_table_is_still_read() -> None:
    article = read(
        "<html><head><title>欲張りなイヌ</title></head><body><table><tr><td>"
        f"<font size=3>{STORY}<br>おしまい</font></td></tr></table></body></html>"
    )

    assert article.text.startswith(STORY)


def test_readers_comments_below_the_article_are_not_its_text() -> None:
    paragraphs = "".join(
        f"<p>El fiscal está perfilando con el jefe de la Fiscalía, en Madrid, la estrategia "
        f"jurídica que seguirá tras la imputación número {number} del juez.</p>"
        for number in range(2, 7)
    )
    # As on ultimahora.es: each comment in a box classed "borde_bottom".
    comments = "".join(
        f"<div class='borde_bottom'><div class='sf_comment'><p class='sf_comment_info'>"
        f"<span>Lector{number}</span><br><span class='date'>Hace {number} horas</span></p>"
        "<div class='sf_comment_text'><p>¿Es normal consultar con el fiscal jefe cada caso?</p>"
        "</div></div></div>"
        for number in range(1, 5)
    )
    article = read(
        f"<html><body><div class='noticia'><h1>Titular</h1>{paragraphs}"
        f"<div class='box'>{comments}</div></div></body></html>"
    )

    assert "estrategia jurídica" in article.text
    assert "Hace" not in article.text
    assert "fiscal jefe" not in article.text


def page(head: str, body: str = "") -> str:
    return f"<html><head>{head}</head><body>{body}<p>{STORY}</p></body></html>"


@pytest.mark.parametrize(
    ("head", "body", "url", "title"),
    [
        pytest.param(
            "<title>欲張りなイヌ　＜福娘童話集　きょうのイソップ童話＞</title>",
            "",
            "https://hukumusume.example/douwa/01.htm",
            "欲張りなイヌ",
            id="a Japanese site name in brackets",
        ),
        pytest.param(
            '<script type="application/ld+json">{"@type": "NewsArticle", "headline":'
            ' "米朝首脳直通電話　習氏に挑むトランプ戦術の成否　（写真＝ロイター）　：日本経済新聞"}'
            "</script>",
            "<h1><span>米朝首脳直通電話　習氏に挑むトランプ戦術の成否</span><br>"
            "<span>編集委員　中沢克二</span></h1>",
            "https://www.nikkei.example/article/1/",
            "米朝首脳直通電話 習氏に挑むトランプ戦術の成否",
            id="the h1's first line, without photo credit, site name and byline",
        ),
        pytest.param(
            '<meta property="og:title" content="New court files expose spying -- Sott.net">'
            '<meta property="og:site_name" content="Sott.net">',
            "",
            "https://www.sott.example/article/1",
            "New court files expose spying",
            id="a site name after two hyphens",
        ),
        pytest.param(
            '<meta property="og:title" content="Takeaways from the trial | CNN Politics">'
            '<meta property="og:site_name" content="CNN">',
            "",
            "https://www.cnn.example/2023/11/06/politics/takeaways/index.html",
            "Takeaways from the trial",
            id="a site name followed by a section",
        ),
        pytest.param(
            "<title>ผล DNA ยืนยัน ศพลอยแม่น้ำโขง | ประชาไท Prachatai.com</title>",
            "",
            "https://prachatai.com/journal/2019/01/80642",
            "ผล DNA ยืนยัน ศพลอยแม่น้ำโขง",
            id="a site name that is the host's",
        ),
        pytest.param(
            "<title>After the storm, smooth sailing - CNN.com</title>",
            "<h1>CNN</h1><h1>After the storm, smooth sailing</h1>",
            "https://www.cnn.example/2013/11/27/travel/weather/index.html",
            "After the storm, smooth sailing",
            id="the h1 the title names, not the logo's",
        ),
        pytest.param(
            '<script type="application/ld+json">{"@type": "NewsArticle",'
            ' "headline": "T1 embody Heartsteel\'s song"}</script>',
            "<h1>T1 embody Heartsteel’s song</h1>",
            "https://www.esports.example/t1-worlds/",
            "T1 embody Heartsteel’s song",
            id="the h1's typography",
        ),
        pytest.param(
            '<meta property="og:title" content="Analysis | The nonstop sparring match at court">'
            '<meta property="og:site_name" content="CNN">',
            "<h1>Analysis<br>The nonstop sparring match at court</h1>",
            "https://www.cnn.example/2023/11/06/politics/alito/index.html",
            "Analysis | The nonstop sparring match at court",
            id="never a kicker line of the h1",
        ),
        pytest.param(
            '<meta property="og:title" content="Opinion | Why the old bridge must close now">',
            "<h1>Opinion</h1>",
            "https://www.paper.example/opinion/2024/bridge.html",
            "Opinion | Why the old bridge must close now",
            id="never a section's h1",
        ),
        pytest.param(
            '<meta property="og:title" content="Ukraine : Le Monde selon Kyiv">'
            '<meta property="og:site_name" content="Le Monde">',
            "",
            "https://www.lemonde.example/international/article/1.html",
            "Ukraine : Le Monde selon Kyiv",
            id="a French colon is no separator",
        ),
        pytest.param(
            '<meta property="og:title" content="The year in review - Timeline">'
            '<meta property="og:site_name" content="TIME">',
            "",
            "https://time.com/6330957/year-in-review/",
            "The year in review - Timeline",
            id="a word that starts like the site's name is not it",
        ),
    ],
)
def test_the_headline_is_the_pages_without_site_name(
    head: str, body: str, url: str, title: str
) -> None:
    assert read(page(head, body), url).title == title


PROSE = (
    "Veteran Nollywood actress, Kate Henshaw, who in 2008 won the Africa Movie Academy Award for\n"
    "Best Actress in a Leading Role, has taken to her Instagram page to share some stunning\n"
    "photos of herself."
)


def test_line_breaks_of_the_source_do_not_cut_a_paragraph() -> None:
    second = PROSE.replace("herself", "her handbag")
    article = read(
        f"<html><body><div class='post-body'><div><span>{PROSE}</span></div>"
        f"<div><span>{second}</span></div><pre>rekt: {{\n    list: [\n    ]\n}}</pre></div>"
        "</body></html>"
    )

    paragraphs = [" ".join(PROSE.split()), " ".join(second.split())]
    assert article.text.startswith("\n".join(paragraphs) + "\n")
    assert "rekt: {\n    list: [\n    ]\n}" in article.text


def test_a_box_of_links_to_more_stories_is_not_text() -> None:
    links = "".join(
        f"<li><span>The Struggle {number} to Save Lives </span>"
        f"<a href='/{number}'>Inside the Hospitals {number}</a></li>"
        for number in range(8)
    )
    article = read(
        f"<html><body><article><p>{PROSE}</p><p>{PROSE.replace('herself', 'her bag')}</p>"
        "<div class='inline-article-recirc'><h2>More Must-Reads From TIME</h2>"
        f"<ul>{links}</ul></div></article></body></html>"
    )

    assert article.text.startswith("Veteran Nollywood actress")
    assert "Must-Reads" not in article.text
    assert "Hospitals" not in article.text


def test_a_byline_named_only_by_its_id_is_not_text() -> None:
    article = read(
        "<html><body><article><h1>New Year, new laws</h1><div>By Leigh Ann Caldwell</div>"
        f"<div id='pnlByline'><p>CNN</p></div><p>{PROSE}</p><p>{PROSE}</p></article></body></html>"
    )

    assert article.text.startswith("Veteran Nollywood actress")


def test_a_breadcrumb_trail_facts_and_language_links_above_the_story_are_not_text() -> None:
    article = read(
        "<html><body><table>"
        "<tr><td>福娘童話集 &gt; きょうのイソップ童話 &gt; 欲張りなイヌ</td></tr>"
        "<tr><td>Jane Doe | Palma de Mallorca | 08/01/2014</td></tr>"
        "<tr><td>欲張りなイヌ ひらがな ←→ 日本語・英語 ←→ English</td></tr>"
        f"<tr><td><font size=3>{STORY}<br>Home &gt; News &gt; Local</font></td></tr></table>"
        "</body></html>"
    )

    assert article.text.startswith(STORY)
    assert article.text.endswith("Home > News > Local")


@pytest.mark.parametrize(
    "opening",
    [
        # Calls to action.
        "<p><em>Caught in the storm? Please <a href='/ireport'>share your photos and stories</a>."
        "</em></p>",
        "<p><em>Sign up for our morning newsletter.</em></p>",
        "<p><em>Follow us on Instagram and download our free app!</em></p>",
        "<p><em>Suscríbete a nuestro boletín.</em></p>",
        # Share bars and ad labels; as on afpbb.com: a visually hidden heading over the buttons,
        # in a box classed "sns".
        "<section class='article-sns'><h2 class='hide-text'>Diese Nachricht weitergeben</h2>"
        "<div class='sns'><a href='https://x.example/share'></a></div></section>",
        "<div id='shareBar'><h3>Pass it on</h3><a href='/mail'>Email</a></div>",
        "<h2>このニュースをシェア</h2>",
        "<h2>Share this story:</h2>",
        "<p>Advertisement</p>",
    ],
)
def test_a_call_to_action_share_bar_or_ad_label_does_not_open_the_text(opening: str) -> None:
    article = read(
        f"<html><body><article><h1>Storm</h1>{opening}"
        f"<p>{PROSE}</p><p>{PROSE}</p></article></body></html>"
    )

    assert article.text.startswith("Veteran Nollywood actress")


def test_a_lead_that_only_mentions_subscribers_is_text() -> None:
    lead = "Subscribers were told to sign up again. Download the app, the firm said."
    article = read(
        f"<html><body><article><h1>Apps</h1><p>{lead}</p><p>{PROSE}</p></article></body></html>"
    )

    assert article.text.startswith(lead)


def test_a_long_text_in_a_box_classed_social_is_text() -> None:
    article = read(
        f"<html><body><div class='section-social'><h1>Friends</h1><p>{PROSE}</p><p>{PROSE}</p>"
        "</div></body></html>"
    )

    assert article.text.startswith("Veteran Nollywood actress")


PHOTO = "https://news.example.org/media/2024/harbour-storm.jpg"


def story_with(pictures: str, head: str = "") -> Article:
    return read(
        f"<html><head>{head}</head><body><article><h1>Storm</h1>{pictures}"
        f"<p>{PROSE}</p><p>{PROSE}</p></article></body></html>"
    )


@pytest.mark.parametrize(
    "ad",
    [
        "<a href='https://banners.example.es/www/delivery/ck.php?n=1'><img alt='Publicidad'"
        " src='https://banners.example.es/www/delivery/avw.php?zoneid=15&amp;n=1'></a>",
        "<img alt='Anzeige' src='/media/2024/autohaus.jpg'>",
        "<div class='ad-slot'><img src='/media/2024/autohaus.jpg'></div>",
        "<div id='dfpAdTop'><img src='/media/2024/autohaus.jpg'></div>",
        "<img src='https://cdn.example.org/ads/728x90/autohaus.jpg'>",
        "<img src='https://ad.doubleclick.net/ddm/ad/autohaus.jpg'>",
        "<aside><img src='/media/2024/other-story.jpg'></aside>",
        "<div class='AsidePromo-media'><img src='/media/2024/watch-us-live.jpg'></div>",
    ],
)
def test_an_ad_or_a_sidebar_picture_is_not_the_storys(ad: str) -> None:
    assert story_with(f"{ad}<img src='{PHOTO}' alt='The harbour'>").image.url == PHOTO


@pytest.mark.parametrize(
    "placeholder",
    [
        "<img src='/styleguide/assets/Blank.gif' data-src=''>",
        "<img src='/img/spacer.gif'>",
        "<img src='/img/pixel.gif'>",
        "<img src='/img/1x1.png'>",
        "<img src='/images/iconos/preload.gif' alt='preload'>",
        "<img src='data:image/gif;base64,R0lGODlhAQABAAAAACw='>",
    ],
)
def test_a_placeholder_is_never_the_picture(placeholder: str) -> None:
    assert story_with(placeholder).image is None
    assert story_with(f"{placeholder}<img src='{PHOTO}'>").image.url == PHOTO


@pytest.mark.parametrize(
    "lazy",
    [
        f"<img src='/assets/Blank.gif' data-src='{PHOTO}'>",
        f"<img src='data:image/gif;base64,R0lGODlhAQABAAAAACw=' data-original='{PHOTO}'>",
        f"<img src='/img/grey-placeholder.png' data-srcset='{PHOTO} 800w, /small.jpg 300w'>",
        f"<img src='/img/lazy.gif' srcset='{PHOTO} 1x'>",
    ],
)
def test_a_lazy_loaded_picture_is_read_at_its_real_address(lazy: str) -> None:
    assert story_with(lazy).image.url == PHOTO


def test_a_picture_named_like_a_placeholder_word_is_still_a_picture() -> None:
    phone = "https://news.example.org/media/pixel-8-pro.jpg"

    assert story_with(f"<img src='{phone}'>").image.url == phone


def test_the_metadata_picture_wins_unless_it_is_an_ad_or_a_placeholder() -> None:
    body = "<img src='/media/2024/body.jpg'>"
    og = f"<meta property='og:image' content='{PHOTO}'>"
    blank = "<meta property='og:image' content='https://news.example.org/Blank.gif'>"
    ad = "<meta property='og:image' content='https://ads.example.net/banner.jpg'>"
    twitter = f"<meta name='twitter:image' content='{PHOTO}'>"

    assert story_with(body, og).image.url == PHOTO
    assert story_with(body, blank + twitter).image.url == PHOTO
    assert story_with(body, ad).image.url == "https://news.example.org/media/2024/body.jpg"


def test_a_box_holding_the_headline_is_no_ad_slot_or_sidebar() -> None:
    article = read(
        "<html><body><div class='page'><div class='main-rail article-with-ads'><h1>Storm</h1>"
        f"<img src='{PHOTO}'></div><p>{PROSE}</p><p>{PROSE}</p></div></body></html>"
    )

    assert article.image.url == PHOTO


def test_hover_cards_and_hidden_elements_are_not_glued_into_the_text() -> None:
    card = (
        "<span class='person-hovercard'>Kristi Lynn Noem<span>South Dakota governor</span></span>"
    )
    article = read(
        "<html><body><article><h1>Governors meet</h1>"
        f"<p>On Monday, Gov. <a href='/people/noem'>Kristi Noem{card}</a> met the other "
        "governors of the plains states in Pierre to talk about water rights and the drought "
        "that has emptied the reservoirs along the Missouri this summer.</p>"
        "<p>The meeting ran late<span hidden>Hidden note</span> into the evening, and "
        "<span style='display: none'>Secret</span>no agreement came of it before the "
        "governors flew home on Tuesday morning.</p>"
        f"<p>{PROSE}</p></article></body></html>"
    )

    assert article.text.startswith("On Monday, Gov. Kristi Noem met the other governors")
    assert "Hidden" not in article.text and "Secret" not in article.text
    assert "The meeting ran late into the evening, and no agreement" in article.text


def test_a_picture_caption_kept_as_a_paragraph_is_not_text() -> None:
    caption = "Firefighters on the ridge above Paradise on Thursday."
    article = read(
        "<html><body><article><h1>Fire reaches the ridge</h1>"
        f"<figure><img src='/fire.jpg'><figcaption>{caption}</figcaption></figure>"
        f"<p>{caption}</p><p>{PROSE}</p></article></body></html>"
    )

    assert article.text.startswith("Veteran Nollywood actress")
    assert caption not in article.text
