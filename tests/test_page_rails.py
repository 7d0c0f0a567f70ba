"""Page sources as real news pages misled them (found by building issues from saved CNN, Time,
Wired and cleveland.com pages), each reduced to the few elements that mattered, served by a
live server on 127.0.0.1."""

from __future__ import annotations

import pytest

from digest.config import Settings
from digest.errors import SourceError
from digest.models import Story
from digest.sources import read_source
from tests.support.http_server import LocalServer

BODY = "<p>" + "The council met on Tuesday and voted on the harbour plan. " * 8 + "</p>"


def page(rail: str, *, head: str = "", body: str = BODY) -> bytes:
    """A news article (headline, byline, prose) followed by `rail`."""
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>Harbour plan passes | The Tribune</title>
<meta property="og:type" content="article">{head}</head>
<body><header><nav><a href="/politics">Politics</a> <a href="/news/">News</a></nav></header>
<main><article><h1>Harbour plan passes</h1>{body}</article>
{rail}</main></body></html>""".encode()


def read(server: LocalServer, html: bytes, path: str = "/2026/11/harbour-plan") -> list[Story]:
    return read_source(server.add(path, html, "text/html"), Settings())


def rail(server: LocalServer, html: bytes) -> list[tuple[str, str]]:
    return [(story.title, story.text) for story in read(server, html)[1:]]


def test_a_card_whose_classes_all_say_summary_keeps_its_title_out_of_the_excerpt(
    http_server: LocalServer,
) -> None:
    """Wired's cards: the whole card, its link and its title are `summary-item…`, the title sits
    inside the link, and the real excerpt is the `…__dek`; the `--no-rubric` box is no kicker."""
    card = """<div class="summary-item">
      <div class="summary-item__content summary-item__content--no-rubric">
      <a class="summary-item__hed-link" href="/story/{slug}/#intcid=recirc">
        <div class="summary-item__hed">{title}</div></a>
      <div class="summary-item__dek">{dek}</div>
      <div class="summary-item__byline">Lila Hassan</div></div></div>"""
    cards = "".join(
        card.format(slug=slug, title=title, dek=dek)
        for slug, title, dek in [
            ("gaza-power", "Gaza loses power again", "Fuel ran out at the last plant on Monday."),
            ("x-rumours", "Old videos flood X", "Researchers have never seen fakes at this rate."),
        ]
    )
    html = page(f'<div><header class="section-title">More from WIRED</header>{cards}</div>')

    stories = read(http_server, html)[1:]

    assert [(story.title, story.text) for story in stories] == [
        ("Gaza loses power again", "Fuel ran out at the last plant on Monday."),
        ("Old videos flood X", "Researchers have never seen fakes at this rate."),
    ]
    assert [story.kicker for story in stories] == ["", ""]
    assert stories[0].url == http_server.url("/story/gaza-power/")


def test_an_empty_related_box_does_not_borrow_the_next_sections_links(
    http_server: LocalServer,
) -> None:
    """cleveland.com fills "Related Stories" by script; the saved page has only the heading, and
    the sidebar after it is another section with its own <h1>."""
    sidebar = """<aside><section><h1>Food &amp; Dining Sections</h1>
      <div><a href="/dining/2014/04/top-100-restaurants.html">2014 Cleveland A-List Dining Guide</a>
      <p>Take our annual tour of 100 of the best restaurants.</p></div>
      <div><a href="/entertainment/2014/11/happy-hour-guide.html">Northeast Ohio's happy hours</a>
      </div>
    </section></aside>"""
    html = page(f'<div class="related"><h2>Related Stories</h2></div>{sidebar}')

    assert rail(http_server, html) == []


def test_the_sites_navigation_and_footer_are_never_related_stories(
    http_server: LocalServer,
) -> None:
    """CNN's "Related" heading titles a popup filled by script; what follows it on the saved
    page is the footer's site map."""
    footer = """<footer><nav><ul>
      <li><a href="/specials/politics/joe-biden-news">The Biden Presidency</a></li>
      <li><a href="/interactive/life-but-better/">Life, But Better</a></li>
      <li><a href="/travel/food-and-drink">Food and Drink</a></li></ul></nav></footer>"""
    html = page(f'<div class="popup"><div class="popup__header">Related</div></div>{footer}')

    assert rail(http_server, html) == []


def test_a_links_own_text_inside_a_line_is_not_the_whole_title(http_server: LocalServer) -> None:
    """Time's "More Must-Reads From TIME": each item a line with only part of it linked."""
    items = [
        ("The Struggle to Save Lives ", "/6331271/gaza-hospitals/", "Inside Gaza’s Hospitals", ""),
        ("", "/6329188/zelensky-interview/", "Volodymyr Zelensky’s Struggle ", "to Keep Going"),
        ("Is ", "/6329920/snooze-button/", "Using the Snooze Button ", "Bad for You?"),
    ]
    lines = "".join(
        f"<li><span>{before}</span><a href='{path}?utm_source=roundup&amp;id=7'>{linked}</a>"
        f"<span>{after}</span></li>"
        for before, path, linked, after in items
    )
    html = page(f"<div><h2>More Must-Reads From TIME</h2><ul>{lines}</ul></div>")

    stories = read(http_server, html)[1:]

    assert [(story.title, story.text) for story in stories] == [
        ("The Struggle to Save Lives Inside Gaza’s Hospitals", ""),
        ("Volodymyr Zelensky’s Struggle to Keep Going", ""),
        ("Is Using the Snooze Button Bad for You?", ""),
    ]
    assert stories[0].url == http_server.url("/6331271/gaza-hospitals/?id=7")


def test_section_pages_in_a_rail_are_not_stories(http_server: LocalServer) -> None:
    links = "".join(
        f'<li><a href="{path}">{title}</a></li>'
        for path, title in [
            ("/dining", "Food and Dining Sections"),
            ("/drinks/beer/", "Beer reviews, news and events"),
            ("/dining/index.html", "Latest restaurant reviews and news"),
            ("/2014/12/chia-seeds.html", "Chia seeds are the new kale"),
            ("/view/AEN20190820002300325", "North Korea slams the joint drill"),
            ("/harbour-dredging-starts-monday", "Harbour dredging starts on Monday"),
        ]
    )
    html = page(f"<section><h2>Read more</h2><ul>{links}</ul></section>")

    assert [title for title, _ in rail(http_server, html)] == [
        "Chia seeds are the new kale",
        "North Korea slams the joint drill",
        "Harbour dredging starts on Monday",
    ]


@pytest.mark.parametrize(
    ("html", "path", "problem"),
    [
        pytest.param(
            b"""<!doctype html><html><head><title>WIRED - The Latest in Technology</title>
            <meta property="og:type" content="website">
            <link rel="canonical" href="https://www.wired.com/"></head><body>
            <p>Tech companies are famous for coddling their workers. But after mass layoffs
            the industry's culture has shifted, and engineers say getting hired can take months
            of unpaid take-home tests, interviews and waiting for a call back.</p>
            <p>Entertainment startup Quibi has already won over industry A-listers with its
            vision for short-form mobile streaming. Will it catch on with viewers?</p>
            </body></html>""",
            "/wired_main_site.html",
            "a home page, not an article; give an article's address or a feed",
            id="home-page-by-its-canonical-address",
        ),
        pytest.param(
            b"<!doctype html><html><head><title>Log in</title></head>"
            b"<body><form><input name=user></form></body></html>",
            "/login.html",
            "no article on the page (no main text or description)",
            id="no-article",
        ),
        pytest.param(
            b"""<html><script>window.location.replace("https://news.test/a")</script>
            <noscript><META http-equiv="refresh" content="0;URL='/2026/11/harbour-plan'">
            </noscript></html>""",
            "/url",
            "a page that only redirects to {base}/2026/11/harbour-plan (meta refresh); "
            "use that address",
            id="meta-refresh",
        ),
    ],
)
def test_a_page_that_is_not_an_article_is_one_clear_error(
    http_server: LocalServer, html: bytes, path: str, problem: str
) -> None:
    url = http_server.add(path, html, "text/html")
    with pytest.raises(SourceError) as caught:
        read_source(url, Settings())
    assert str(caught.value) == f"{url}: {problem.format(base=http_server.base)}"


def test_an_article_page_that_reloads_itself_is_still_an_article(
    http_server: LocalServer,
) -> None:
    """AP's front pages refresh every ten minutes: no redirect, no error."""
    html = page("", head='<meta http-equiv="refresh" content="600">')
    assert read(http_server, html)[0].title == "Harbour plan passes"


def test_a_rail_on_the_site_the_canonical_address_names_is_read(
    http_server: LocalServer,
) -> None:
    """A page read from another host than its own (a mirror, edition.cnn.com for www.cnn.com)
    links its rail to the site its canonical address names."""
    links = "".join(
        f'<li><a href="https://{host}/2026/11/{slug}">{title}</a></li>'
        for host, slug, title in [
            ("www.tribune.test", "harbour-plan", "Harbour plan passes"),  # the page itself
            ("www.tribune.test", "dredging-starts", "Harbour dredging starts on Monday"),
            ("edition.tribune.test", "ferry-fares", "Ferry fares rise in the new year"),
            ("www.elsewhere.test", "advert", "Ten tricks doctors hate"),
        ]
    )
    canonical = '<link rel="canonical" href="https://www.tribune.test/2026/11/harbour-plan">'
    html = page(f"<section><h2>Related</h2><ul>{links}</ul></section>", head=canonical)

    assert [title for title, _ in rail(http_server, html)] == [
        "Harbour dredging starts on Monday",
        "Ferry fares rise in the new year",
    ]
