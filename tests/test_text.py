"""HTML to plain text, and the boilerplate that must not reach a teaser."""

from __future__ import annotations

import pytest

from digest.text import (
    article_blocks,
    clean_article_text,
    fold_space,
    html_to_text,
    strip_lead_in,
)
from tests.conftest import FIXTURES

ARTICLE = (FIXTURES / "teaser" / "article.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<p>a</p><p>b</p>", "a b"),
        ("one<br>two<br/>three", "one two three"),
        ("<ul><li>first</li><li>second</li></ul>", "first second"),
        ("<table><tr><td>cell</td><td>next</td></tr></table>", "cell next"),
        ("<h2>Head</h2>body", "Head body"),
        ("<b>Hel</b>lo <i>wor</i>ld", "Hello world"),
        ("Hi&nbsp;there", "Hi there"),
        ("<p>Hi&nbsp;there</p>", "Hi there"),
        ("x&amp;nbsp;y", "x y"),
        ("<p>x&amp;nbsp;y</p>", "x y"),
        ("it&#8217;s &amp;#8217;quoted&amp;#8217;", "it’s ’quoted’"),
        ("AT&T and R&D &amp; more", "AT&T and R&D & more"),
        ("Tom&notes stay", "Tom&notes stay"),
        ("<p>a</p><script>var x = '<p>no</p>';</script><style>p {}</style><p>b</p>", "a b"),
        ("<p>kept</p><!-- a comment --><noscript>no js</noscript>", "kept"),
        ("<html><head><title>Tab</title></head><body><p>Body</p></body></html>", "Body"),
        ("&lt;p&gt;Escaped&lt;/p&gt;&lt;p&gt;markup&lt;/p&gt;", "Escaped markup"),
        ("3 < 5 and 6 > 2", "3 < 5 and 6 > 2"),
        ("  line one\n\n   line two\t\t", "line one line two"),
        ("<p>unclosed <b>bold <i>italic", "unclosed bold italic"),
        ("<html><body><p>a</p></body></html><p>after the end</p>", "a after the end"),
        ("soft\u00adhyphen zero\u200bwidth \ufeffbom", "softhyphen zerowidth bom"),
        ("family 👨\u200d👩\u200d👧 emoji", "family 👨\u200d👩\u200d👧 emoji"),
        ("bell\x07 and null\x00 bytes", "bell and null bytes"),
        ("", ""),
        ("   \n\t ", ""),
        ("<div><p></p></div>", ""),
        ("<!-- only a comment -->", ""),
    ],
)
def test_html_to_text(markup: str, expected: str) -> None:
    assert html_to_text(markup) == expected


def test_markup_escaped_twice_is_markup_not_text() -> None:
    # As a feed's CDATA holds it: `<![CDATA[&amp;lt;p&amp;gt;…]]>`.
    assert html_to_text("Use &amp;lt;b&amp;gt;bold&amp;lt;/b&amp;gt; here.") == "Use bold here."
    assert html_to_text("&amp;amp;lt;p&amp;amp;gt;Three times.") == "Three times."
    assert html_to_text("AT&amp;amp;T &amp;lt; 5") == "AT&T < 5"


def test_deeply_nested_markup_keeps_its_words() -> None:
    markup = "<div>" * 5_000 + "<script>hidden()</script><!-- note -->deep text" + "</div>" * 5_000
    assert html_to_text(markup) == "deep text"
    unclosed = "<p>lead</p>" + "<font><b>" * 3_000 + "word"
    assert html_to_text(unclosed) == "lead word"


def test_an_unclosed_comment_hides_the_rest_as_a_browser_would() -> None:
    assert html_to_text("<p>shown</p><!-- never closed <p>hidden</p>") == "shown"


def test_html_to_text_keeps_navigation_that_clean_article_text_drops() -> None:
    plain = html_to_text(ARTICLE)
    assert plain.startswith("Skip to content Home World Politics Senate passes the water bill")
    assert "window.dataLayer" not in plain and "display: block" not in plain


def test_clean_article_text_of_a_real_looking_page() -> None:
    assert clean_article_text(ARTICLE) == (
        "Senate passes the water bill WASHINGTON (AP) — The U.S. Senate on Tuesday passed a $1.2 "
        "billion bill to repair dams and canals across the West, after Sen. Maria Lopez won over "
        "three Republicans with a last-minute amendment. “It is done.” Lopez said after the 61-38 "
        "vote, which came at 10 p.m. on a cold evening. Water use in the region has risen 3.5 "
        "percent a year since Jan. 2020, according to Dr. Alan Price of the U.S. Geological "
        "Survey. "
        "The bill now goes to the House, where Speaker Tom Ames said it would get a vote “within "
        "weeks.” Gov. Ann Burke of Arizona called it “a lifeline” for farmers. Subscribers to the "
        "regional water utility will see rates rise by about 2 percent, the utility said. Photo "
        "credits for the dam series went to a local school."
    )


@pytest.mark.parametrize(
    "boilerplate",
    [
        "Skip to content",
        "Skip to main content",
        "Advertisement",
        "ADVERTISEMENT",
        "Story continues below advertisement",
        "Advertisement - Scroll to continue",
        "Read more",
        "Read more »",
        "Read more: Drought forces new limits on the river",
        "Continue reading",
        "Continue reading…",
        "Click here to get the app",
        "Sign up for our free Morning Briefing newsletter.",
        "Sign up here for the Daily Climate newsletter",
        "Share this article",
        "Photo: Jane Smith/Getty Images",
        "Photograph: Alamy",
        "PHOTO CREDIT: City of Springfield",
        "Image credit: NASA/JPL",
        "(Photo by Chip Somodevilla/Getty Images)",
        "Photo by Jane Smith via Reuters Connect",
        "EYEPRESS via Reuters Connect",
        "Royal Thai Army/Handout via REUTERS",
        "Sputnik/Grigory Sysoyev/Pool via REUTERS",
        "REUTERS/Ajeng Dinar Ulfiana",
        "REUTERS/Ronen Zvulun",
        "AP Photo/Evan Vucci",
        "Kevin Lamarque/Reuters",
        "Getty Images",
        "Subscribe",
        "Subscribe now for $1 a week",
        "Follow us on Twitter",
        "Listen to this article",
        "Listen to this article · 5 min",
        "5 min read",
        "12-minute read",
        "By Jane Doe",
        "By JANE DOE and JOHN ROE",
        "By Jane Doe, Associated Press",
        "By Jane Doe | Updated 3:45 PM",
        "© 2026 Example News. All rights reserved.",
        "The post Senate passes the bill appeared first on Example News.",
        "Der Beitrag Senat beschließt das Gesetz erschien zuerst auf Beispiel.",
        "Por Matt Spetalnick e Jason Szep",
        "Von Anna Schmidt und Jan Meier",
        "To read this article in full, please click here",
        "Leia mais (09/24/2018 - 19h22)",
        "Image Source: Adobe Stock / Nunez Image/Stocksy.",
        # bylines and date lines above a post
        "by Adobe Communications",
        "by Adobe Communications Team posted on 07-16-2021",
        "posted on 07-19-2021",
        "Posted on July 19, 2021 at 3:05 pm",
        "Published: 19 July 2021",
        "Monday, 19th July 2021",
        "Posted by Jane Doe on July 19, 2021",
        "Veröffentlicht am 19.07.2021 um 14:30",
        "par Jean Dupont",
        # links to the comments
        "Comments",
        "12 Comments",
        "Comments (3)",
        "discuss",
        "[link] [comments]",
        "submitted by /u/Mlakuss",
        "Leave a comment",
        "Kommentare",
        # a photo sharing site's line above the picture
        "kebernet posted a photo:",
        "Ann Smith added a photo to the pool:",
        # pointers to the publisher's site
        "Weitere Informationen und Details zu diesem Einsatz finden Sie auf unserer Website",
        "Weitere Informationen und Details sowie Fotos zu diesem Einsatz finden Sie auf unserer "
        "Website.",
        "More information and photos can be found on our website.",
        "Plus d'informations sur notre site.",
        "Visit our website for more.",
    ],
)
def test_boilerplate_paragraphs_are_dropped(boilerplate: str) -> None:
    markup = f"<p>Real first sentence.</p><p>{boilerplate}</p><p>Real second sentence.</p>"
    assert clean_article_text(markup) == "Real first sentence. Real second sentence."
    lines = f"Real first sentence.\n{boilerplate}\nReal second sentence."
    assert clean_article_text(lines) == "Real first sentence. Real second sentence."


@pytest.mark.parametrize(
    "sentence",
    [
        "Advertisement executives gathered in Cannes on Monday.",
        "The advertisement ran for three weeks.",
        "People should continue reading books, the minister said.",
        "Readers who read more than ten books a year are happier.",
        "Click here, he told voters, was the worst slogan of the campaign.",
        "Subscribers to the water utility will pay more.",
        "Photo credits for the series went to a local school.",
        "Photographs of the dam were released on Monday.",
        "The statement was sent via Reuters.",
        "Officials told Reuters that the talks had stalled.",
        "Getty Images said it would appeal the ruling in London.",
        "By Monday, the talks had collapsed.",
        "By Tuesday the river had risen by two metres.",
        "Follow the money, investigators said.",
        "He said he would share this story with his grandchildren.",
        "The 5 min read limit was dropped by the editors last year.",
        "Di Maio said the coalition would hold.",
        "Por fim, o governo recuou.",
        "Wir wollen weiterlesen, sagte sie.",
        "Comments from readers poured in after the vote.",
        "Discussion went on into the night.",
        "Discussion",  # a paper's section heading, not a link to the comments
        "by the river, the boats waited.",
        "NASA posted a photo of the comet on Monday.",
        "On July 19, 2021, the Senate voted.",
        "Posted on a wall, the notice was torn down.",
        "Visit our website, the mayor said, and you will see why.",
    ],
)
def test_real_sentences_with_boilerplate_words_survive(sentence: str) -> None:
    assert clean_article_text(f"<p>{sentence}</p>") == sentence
    assert clean_article_text(f"Earlier text. {sentence} Later text.") == (
        f"Earlier text. {sentence} Later text."
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Skip to content The story begins here.", "The story begins here."),
        ("First part. Advertisement Second part.", "First part. Second part."),
        ("First part. ADVERTISEMENT “Quoted part.”", "First part. “Quoted part.”"),
        ("Listen to this article The story begins.", "The story begins."),
        ("4 min read The story begins.", "The story begins."),
        ("The story ends. Read more", "The story ends."),
        ("The story ends. Read more »", "The story ends."),
        ("The story ends. Continue reading The headline →", "The story ends."),
        ("The story ends. Continue reading…", "The story ends."),
        ("The story ends. The post Headline appeared first on Blog.", "The story ends."),
        ("A cut excerpt along their [...]", "A cut excerpt along their…"),
        ("A cut excerpt along their […]", "A cut excerpt along their…"),
        ("A cut excerpt along their [&hellip;]", "A cut excerpt along their…"),
        ("A cut excerpt along their [ . . . ]", "A cut excerpt along their…"),
        ("A cut excerpt, [...] Read more", "A cut excerpt…"),
        ("A cut excerpt [&#8230;] Continue reading →", "A cut excerpt…"),
        ("He said “we […] will win” today.", "He said “we […] will win” today."),
        ("Um texto cortado em [?]", "Um texto cortado em…"),
        ("Ein Satz. Der Beitrag Titel erschien zuerst auf Blog.", "Ein Satz."),
        ("Une phrase. L’article Titre est apparu en premier sur Blog.", "Une phrase."),
        ("Una frase. La entrada Título se publicó primero en Blog.", "Una frase."),
        ("Uma frase. Leia mais (09/24/2018 - 19h22)", "Uma frase."),
        ("The end. To read this article in full, please click here", "The end."),
        ("[...]", ""),
    ],
)
def test_boilerplate_inside_running_text(text: str, expected: str) -> None:
    assert clean_article_text(text) == expected


def test_wordpress_feed_item() -> None:
    markup = (
        "<p>The council approved the budget on Monday.</p>"
        '<p>It includes a new library. <a href="https://blog.example.com/x">Continue reading '
        "<span>Council approves budget</span> →</a></p>"
        '<p>The post <a href="https://blog.example.com/x">Council approves budget</a> appeared '
        'first on <a href="https://blog.example.com">Town Blog</a>.</p>'
    )
    assert clean_article_text(markup) == (
        "The council approved the budget on Monday. It includes a new library."
    )


def test_repeated_caption_is_kept_once() -> None:
    caption = "Footage circulated online shows troops training."
    markup = f"<p>{caption}</p><p>{caption}</p><p>The story.</p>"
    assert clean_article_text(markup) == f"{caption} The story."


@pytest.mark.parametrize(
    "picture",
    [
        # WordPress's classic caption box
        '<div class="wp-caption alignleft"><img src="mack.jpg" width="250">'
        '<p class="wp-caption-text">The Mack’s back.</p></div>',
        # a caption span under the picture (Gothamist)
        '<div class="image-right"><img src="max.jpg"><br><i><span class="photo_caption">'
        "This is Max!</span></i></div>",
        '<p><img src="dam.jpg"></p><p class="photo-credit">Jane Smith for Example News</p>',
    ],
)
def test_a_pictures_caption_is_not_the_story(picture: str) -> None:
    markup = f"{picture}<p>It seems like yesterday. The story goes on.</p>"
    assert clean_article_text(markup) == "It seems like yesterday. The story goes on."
    assert html_to_text(markup).endswith("It seems like yesterday. The story goes on.")
    assert html_to_text(markup) != clean_article_text(markup)


def test_a_caption_class_without_a_picture_or_on_long_text_is_kept() -> None:
    markup = '<p class="caption">A paragraph styled as a caption. It has no picture.</p>'
    assert clean_article_text(markup) == "A paragraph styled as a caption. It has no picture."
    long_text = " ".join(["Words of the story."] * 20)
    boxed = f'<div class="has-caption"><img src="a.jpg"><p>{long_text}</p></div>'
    assert clean_article_text(boxed) == long_text


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        (
            "<dl><dt>Time</dt><dd>2018-11-19 21:42:38 UTC</dd><dd>13:42:38 at epicenter</dd>"
            "<dt>Depth</dt><dd>-0.47 km (-0.29 mi)</dd></dl>",
            ["Time: 2018-11-19 21:42:38 UTC; 13:42:38 at epicenter", "Depth: -0.47 km (-0.29 mi)"],
        ),
        ("<dl><dt>Born:</dt><dd>1912</dd></dl>", ["Born: 1912"]),
        ("<dl><dt>Glossary</dt></dl><p>Text.</p>", ["Glossary", "Text."]),
        ("<dl><dd>A lone definition</dd></dl>", ["A lone definition"]),
    ],
)
def test_a_definition_list_keeps_its_labels(markup: str, expected: list[str]) -> None:
    assert article_blocks(markup) == expected
    assert html_to_text(markup) == " ".join(expected)


def test_clean_article_text_of_nothing() -> None:
    assert clean_article_text("") == ""
    assert clean_article_text("<p>Advertisement</p><p>Skip to content</p>") == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("WASHINGTON (AP) — The Senate voted.", "The Senate voted."),
        ("KYIV, Ukraine (AP) — Drones struck.", "Drones struck."),
        ("LONDON, Dec 5 (Reuters) - Shares fell.", "Shares fell."),
        ("NEW YORK — Prices rose.", "Prices rose."),
        ("(Reuters) - Oil slipped.", "Oil slipped."),
        ("MOSCOU, 24 SET (ANSA) - O líder foi condenado.", "O líder foi condenado."),
        ("Quito, 24 Set 2018 (AFP) - O fundador falou.", "O fundador falou."),
        ("Nova York, 24 set (EFE).- O índice caiu.", "O índice caiu."),
        ("BRASÍLIA (Reuters) - O candidato falou.", "O candidato falou."),
        ("Paris, 12 mai 2020 — Le texte.", "Paris, 12 mai 2020 — Le texte."),
        ("Por Matt Spetalnick e Jason Szep | O relatório saiu.", "O relatório saiu."),
        ("By Jane Doe | LONDON — Prices rose.", "Prices rose."),
        ("By Jane Doe — The Senate voted.", "The Senate voted."),
        ("The Senate voted — again.", "The Senate voted — again."),
        ("By Monday, the talks had collapsed.", "By Monday, the talks had collapsed."),
        ("US and EU leaders met.", "US and EU leaders met."),
    ],
)
def test_strip_lead_in(text: str, expected: str) -> None:
    assert strip_lead_in(text) == expected


def test_article_blocks_follow_elements_not_source_lines() -> None:
    markup = "<p>It came at 10 p.m. on a cold\n  evening.</p><ul><li>Slides</li><li>Code</li></ul>"
    assert article_blocks(markup) == ["It came at 10 p.m. on a cold evening.", "Slides", "Code"]
    assert article_blocks("Plain line one\nPlain line two") == ["Plain line one", "Plain line two"]


def test_fold_space() -> None:
    assert fold_space("  a \n\t b\u00a0 c  ") == "a b c"
