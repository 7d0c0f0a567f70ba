"""Render stage: the HTML and text bodies built from Issue models, checked with lxml."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from lxml import html as lxml_html

from digest.check import GMAIL_CLIP_BYTES
from digest.config import Settings
from digest.errors import BuildError, ConfigError
from digest.models import TOKEN_PLACEHOLDER, Image, Issue, RenderedEmail, Story
from digest.render import (
    DARK,
    LIGHT,
    TEXT_WIDTH,
    Palette,
    default_templates_dir,
    image_src,
    render_email,
    web_url,
)
from tests.support.contrast import contrast

HOSTILE_TITLE = "<script>alert(1)</script> & <b>x</b>"


def story(n: int, *, with_image: bool = True, **fields: object) -> Story:
    values: dict[str, object] = {
        "title": f"Story number {n} about the harbour & the town",
        "url": f"https://news.example.org/2026/11/26/story-{n}?ref=digest&n={n}",
        "teaser": (
            f"Teaser {n}: councils along the coast have brought forward repairs after two "
            "autumn surges breached defences built in the 1950s, and residents worry."
        ),
        "kicker": f"Section {n}",
    }
    if with_image:
        values["image"] = Image(
            url=f"https://img.example.org/{n}.jpg",
            alt=f"Photo for story {n}",
            caption=f"Caption {n}",
            credit=f"Photo: Agency {n}",
            width=1200,
            height=800,
        )
    values.update(fields)
    return Story.model_validate(values)


def make_issue(more: int | list[Story] = 4, **fields: object) -> Issue:
    """A lead and `more` items (or that many, every third without an image, as feeds often give)."""
    if isinstance(more, int):
        more = [story(n, with_image=n % 3 != 0) for n in range(1, more + 1)]
    values: dict[str, object] = {
        "date": dt.date(2026, 11, 26),
        "newsletter": "The Daily Digest",
        "subject": "Sea walls, ferries & more",
        "preheader": "Why coastal councils are rewriting their flood plans.",
        "lead": story(0, author="Amira Nolan"),
        "more": more,
    }
    values.update(fields)
    return Issue.model_validate(values)


def parse(rendered: RenderedEmail) -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(rendered.html)


def texts(doc: lxml_html.HtmlElement, xpath: str) -> list[str]:
    return [" ".join(el.text_content().split()) for el in doc.xpath(xpath)]


@pytest.fixture
def settings() -> Settings:
    return Settings()


def test_every_story_title_link_teaser_and_image_is_in_the_html(settings: Settings) -> None:
    issue = make_issue()
    doc = parse(render_email(issue, settings))
    hrefs = doc.xpath("//a/@href")
    body_text = " ".join(doc.body.text_content().split())
    for item in issue.stories:
        assert item.title in body_text
        assert item.teaser in body_text
        assert item.kicker in body_text
        assert item.url in hrefs
        if item.image:
            assert doc.xpath("//img[@alt=$alt]", alt=item.image.alt)
    assert texts(doc, "//h1") == [issue.lead.title]
    assert texts(doc, "//h2") == ["More For You"]
    assert texts(doc, "//h3") == [item.title for item in issue.more]
    assert "By Amira Nolan" in body_text
    assert "Thursday, November 26, 2026" in body_text


def test_lead_has_button_caption_and_credit(settings: Settings) -> None:
    issue = make_issue()
    doc = parse(render_email(issue, settings))
    assert doc.xpath(
        "//a[@href=$url and normalize-space()='Read the full story']", url=issue.lead.url
    )
    assert not doc.xpath("//a[@target]"), "clients ignore or override target; it only costs support"
    assert texts(doc, "//*[@class='credit']") == ["Photo: Agency 0"]
    assert "Caption 0" in texts(doc, "//*[@class='caption']")[0]
    read_more = doc.xpath("//a[@class='more-link']")
    assert [a.get("href") for a in read_more] == [s.url for s in issue.more]
    # The teaser paragraph it ends gives the link its purpose, without aria-label (which Outlook
    # and Yahoo drop).
    for link, story in zip(read_more, issue.more, strict=True):
        assert link.getparent().get("class") == "item-teaser"
        paragraph = link.getparent().text_content()
        assert paragraph.endswith(" Read\u00a0more"), "a no-break space keeps the words together"
        assert paragraph.removesuffix(" Read\u00a0more") in story.teaser
    assert not doc.xpath("//*[@aria-label]")


def test_document_has_doctype_lang_title_and_color_scheme(settings: Settings) -> None:
    rendered = render_email(make_issue(language="de"), settings)
    assert rendered.html.lower().startswith("<!doctype html>")
    doc = parse(rendered)
    assert doc.get("lang") == "de"
    assert doc.findtext(".//title") == "Sea walls, ferries & more"
    for name in ("color-scheme", "supported-color-schemes"):
        assert doc.xpath("//meta[@name=$n]/@content", n=name) == ["light dark"]


def test_media_queries_stay_in_style_while_the_rest_is_inlined(settings: Settings) -> None:
    doc = parse(render_email(make_issue(), settings))
    css = "\n".join(style.text or "" for style in doc.xpath("//style"))
    assert "@media only screen and (max-width: 479px)" in css
    assert "@media (prefers-color-scheme: dark)" in css
    h1_style = doc.xpath("//h1/@style")[0]
    assert "font-family" in h1_style and "Georgia" in h1_style and "serif" in h1_style
    assert LIGHT.ink in h1_style
    assert LIGHT.text in doc.xpath("//p[@class='teaser']/@style")[0]
    assert "sans-serif" in doc.xpath("//p[@class='teaser']/parent::div/@style")[0]
    assert doc.xpath("//table[@role='presentation']")
    assert not doc.xpath("//table[not(@role='presentation')]")


def test_preheader_is_hidden_without_a_colour_trick(settings: Settings) -> None:
    issue = make_issue()
    doc = parse(render_email(issue, settings))
    preheader = doc.xpath("//div[@class='preheader']")[0]
    assert preheader.text_content().startswith(issue.preheader)
    style = preheader.get("style").replace(" ", "")
    for rule in ("font-size:0", "line-height:0", "max-height:0", "mso-hide:all"):
        assert rule in style
    for unsupported in ("display:none", "overflow"):  # ignored by some Gmail/Outlook/Yahoo
        assert unsupported not in style
    assert "color" not in style
    assert "\u034f\u200c\u00a0" in preheader.text_content()
    first_text = doc.body.xpath(".//text()[normalize-space()]")[0]
    assert first_text.getparent() is preheader


def test_sizes_stay_far_under_gmail_clipping(settings: Settings) -> None:
    small = len(render_email(make_issue(4), settings).html.encode())
    large = len(render_email(make_issue(10), settings).html.encode())
    assert small < 40 * 1024, f"1+4 issue is {small / 1024:.1f} KB"
    assert large < GMAIL_CLIP_BYTES, f"1+10 issue is {large / 1024:.1f} KB"


def test_source_html_is_escaped_never_markup(settings: Settings) -> None:
    teaser = '<img src=x onerror="alert(1)"> 5 < 6 & "quotes" aren\'t tags'
    alt = '"><script>alert(2)</script>'
    hostile = story(
        1,
        title=HOSTILE_TITLE,
        teaser=teaser,
        kicker="<i>",
        image=Image(url="https://i.example/a.jpg?a=1&b=<2>", alt=alt, credit="<u>AP</u>"),
    )
    issue = make_issue(subject=HOSTILE_TITLE, more=[hostile], lead=hostile)
    rendered = render_email(issue, settings)
    doc = parse(rendered)
    assert not doc.xpath("//script | //b | //i | //u | //*[@onerror]")
    assert texts(doc, "//h1") == [HOSTILE_TITLE]
    assert texts(doc, "//h3") == [HOSTILE_TITLE]
    assert doc.findtext(".//title") == HOSTILE_TITLE
    assert texts(doc, "//p[@class='teaser']") == [teaser]
    assert doc.xpath("//img/@alt") == [alt, alt]
    assert texts(doc, "//*[@class='credit']") == ["<u>AP</u>"]
    assert HOSTILE_TITLE in rendered.text and teaser in rendered.text
    assert "&amp;" not in rendered.text and "&lt;" not in rendered.text


def test_characters_no_email_can_hold_are_left_out(settings: Settings) -> None:
    # An editor's issue.json or curated teaser can hold them ("\e" in YAML, "\u001b" in JSON);
    # MJML refused the whole issue.
    odd = story(
        1,
        title="Harbour\x1b reopens\x00",
        teaser="Boats\x07 returned\ufffe.\x1c Crowds cheered\ud800.",
        kicker="Local\x08",
        url="https://news.example.org/harbour\ud800",
        image=Image(url="https://img.example.org/1.jpg", alt="Boats\x10", caption="Dawn\x0f"),
    )
    issue = make_issue(subject="Sea\x1b walls", more=[odd], lead=odd, newsletter="Daily\x01")
    rendered = render_email(issue, settings)
    doc = parse(rendered)
    assert texts(doc, "//h1") == ["Harbour reopens"]
    assert texts(doc, "//p[@class='teaser']") == ["Boats returned. Crowds cheered."]
    assert doc.xpath("//img/@alt") == ["Boats", "Boats"]
    assert doc.findtext(".//title") == "Sea walls"
    assert "https://news.example.org/harbour" in doc.xpath("//a/@href")
    assert "Harbour reopens" in rendered.text and "DAILY" in rendered.text


def test_unsafe_urls_never_become_links_or_images(settings: Settings) -> None:
    lead = story(
        0,
        url="javascript:alert(document.cookie)",
        image=Image(url="data:image/svg+xml;base64,PHN2Zz4=", alt="x"),
    )
    item = story(1, url=" JaVaScRiPt:alert(1)", image=Image(url="vbscript:msgbox", alt="y"))
    doc = parse(render_email(make_issue(lead=lead, more=[item]), settings))
    hrefs = doc.xpath("//@href")
    assert hrefs and all(h.startswith(("https://", "http://")) for h in hrefs)
    assert not doc.xpath("//img")
    assert texts(doc, "//h1") == [lead.title]
    assert texts(doc, "//h3") == [item.title]
    assert not doc.xpath("//a[@class='more-link' or normalize-space()='Read the full story']")


def test_url_helpers() -> None:
    assert web_url("https://a.example/x?y=1") == "https://a.example/x?y=1"
    assert web_url("java\nscript:alert(1)") is None
    assert web_url(" \thttps://a.example/a b\n") == "https://a.example/a%20b"
    assert web_url("/relative/path") is None
    assert web_url("mailto:a@example.com") is None
    assert image_src("//cdn.example/a.jpg", None) == "https://cdn.example/a.jpg"
    assert image_src("images/a.jpg", "https://cdn.example/issues/1/") == (
        "https://cdn.example/issues/1/images/a.jpg"
    )
    assert image_src("", None) is None


def test_unsubscribe_placeholder_and_view_online_in_both_parts(settings: Settings) -> None:
    rendered = render_email(make_issue(), settings)
    unsubscribe = settings.unsubscribe_url.format(token=TOKEN_PLACEHOLDER)
    view_online = "https://example.com/issues/2026-11-26/"
    doc = parse(rendered)
    assert doc.xpath("//a[normalize-space()='Unsubscribe']/@href") == [unsubscribe]
    assert doc.xpath("//a[normalize-space()='View in browser']/@href") == [view_online]
    assert TOKEN_PLACEHOLDER in rendered.html
    assert f"Unsubscribe: {unsubscribe}" in rendered.text
    assert f"View in browser: {view_online}" in rendered.text
    footer = " ".join(doc.body.text_content().split())
    assert "You are receiving this because you subscribed to The Daily Digest." in footer
    assert settings.postal_address in footer and settings.postal_address in rendered.text


def test_empty_view_online_url_omits_the_link() -> None:
    rendered = render_email(make_issue(), Settings(view_online_url=""))
    assert "View in browser" not in rendered.html
    assert "View in browser" not in rendered.text


def test_relative_image_stays_relative_or_joins_the_asset_base(settings: Settings) -> None:
    lead = story(0, image=Image(url="images/lead.jpg", alt="Lead", width=1200, height=675))
    issue = make_issue(lead=lead)
    preview = parse(render_email(issue, settings))
    sent = parse(render_email(issue, settings, asset_base_url="https://cdn.example.org/2026-11-26"))
    assert preview.xpath("//img[@alt='Lead']/@src") == ["images/lead.jpg"]
    assert sent.xpath("//img[@alt='Lead']/@src") == [
        "https://cdn.example.org/2026-11-26/images/lead.jpg"
    ]
    with pytest.raises(BuildError, match="asset base URL"):
        render_email(issue, settings, asset_base_url="file:///tmp/x")


def test_images_get_alt_and_undistorted_dimensions(settings: Settings) -> None:
    lead = story(
        0, image=Image(url="https://i.example/l.jpg", alt="", caption="", width=1200, height=675)
    )
    captioned = story(1, image=Image(url="https://i.example/1.jpg", caption="Only a caption"))
    sized = story(2, image=Image(url="https://i.example/2.jpg", alt="Sized", width=600, height=400))
    doc = parse(render_email(make_issue(lead=lead, more=[captioned, sized]), settings))
    images = doc.xpath("//img")
    assert [img.get("alt") for img in images] == [lead.title, "Only a caption", "Sized"]
    assert [(img.get("width"), img.get("height")) for img in images] == [
        ("600", "338"),
        ("168", "112"),  # size unknown: 3:2, so Outlook does not stretch it to its full height
        ("168", "112"),
    ]
    for img in images:
        assert "height:auto" in img.get("style").replace(" ", "")


def test_text_part_carries_the_same_stories_wrapped(settings: Settings) -> None:
    long_url = "https://news.example.org/" + "very-long-path-segment-" * 5
    lead = story(0, teaser=f"{'Words to wrap around the column. ' * 8}See {long_url} now.")
    issue = make_issue(lead=lead)
    text = render_email(issue, settings).text
    assert text.startswith("THE DAILY DIGEST\nThursday, November 26, 2026\n")
    assert "MORE FOR YOU" in text
    flat = " ".join(text.split())
    for item in issue.stories:
        assert item.title in flat
        assert " ".join(item.teaser.split()) in flat
        assert item.url in text.split()
    assert long_url in text.split()
    for line in text.splitlines():
        assert len(line) <= TEXT_WIDTH or "://" in line, line
    assert "\n\n\n" not in text


def test_templates_dir_overrides_one_template_and_falls_back_for_the_rest(tmp_path: Path) -> None:
    user = tmp_path / "my-templates"
    user.mkdir()
    (user / "newsletter.txt.j2").write_text("Custom text for {{ newsletter }}: {{ lead.title }}\n")
    shutil.copytree(default_templates_dir() / "partials", user / "partials")
    blocks = user / "partials" / "blocks.mjml.j2"
    blocks.write_text(
        blocks.read_text().replace(
            '<a href="{{ story.url }}"', '<a data-custom="1" href="{{ story.url }}"'
        )
    )
    issue = make_issue()
    rendered = render_email(issue, Settings(templates_dir=user))
    assert rendered.text == f"Custom text for The Daily Digest: {issue.lead.title}\n"
    doc = parse(rendered)
    assert texts(doc, "//h1") == [issue.lead.title]
    assert doc.xpath("//h1/a/@data-custom") == ["1"]


def test_missing_templates_dir_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="DIGEST_TEMPLATES_DIR"):
        render_email(make_issue(), Settings(templates_dir=tmp_path / "nowhere"))


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        ("<mjml>\n<mj-body>\n{% if %}\n</mj-body>\n</mjml>\n", 3, "Expected an expression"),
        ("<mjml>\n<mj-body>\n\n\n{{ no_such_value }}\n</mj-body>\n</mjml>\n", 5, "no_such_value"),
        ('{% include "partials/missing.mjml.j2" %}\n', 1, "missing.mjml.j2"),
    ],
)
def test_template_errors_name_the_file_and_line(
    tmp_path: Path, source: str, line: int, message: str
) -> None:
    (tmp_path / "newsletter.mjml.j2").write_text(source)
    with pytest.raises(BuildError, match=rf"newsletter\.mjml\.j2:{line}: .*{re.escape(message)}"):
        render_email(make_issue(), Settings(templates_dir=tmp_path))


def test_invalid_mjml_is_a_build_error_naming_the_template(tmp_path: Path) -> None:
    (tmp_path / "newsletter.mjml.j2").write_text("<mjml><mj-body><mj-section>")
    with pytest.raises(BuildError, match=r"newsletter\.mjml\.j2: MJML error: "):
        render_email(make_issue(), Settings(templates_dir=tmp_path))


def test_default_templates_dir_holds_both_templates() -> None:
    folder = default_templates_dir()
    assert (folder / "newsletter.mjml.j2").is_file()
    assert (folder / "newsletter.txt.j2").is_file()


def test_contrast_formula_matches_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast("rgb(119, 119, 119)", "rgba(255, 255, 255, 1)") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("palette", [LIGHT, DARK], ids=["light", "dark"])
def test_palette_passes_wcag_aa_for_text_and_links(palette: Palette) -> None:
    pairs = {
        "headline on card": (palette.ink, palette.card),
        "body text on card": (palette.text, palette.card),
        "caption, byline and date on card": (palette.muted, palette.card),
        "kicker and links on card": (palette.accent, palette.card),
        "footer text and links on page": (palette.muted, palette.page),
        "button label on button": (palette.on_accent, LIGHT.accent),
    }
    for what, (fg, bg) in pairs.items():
        assert contrast(fg, bg) >= 4.5, f"{what}: {fg} on {bg} is {contrast(fg, bg):.2f}:1"


def test_the_checked_palettes_are_the_colours_sent(settings: Settings) -> None:
    html = render_email(make_issue(), settings).html.lower()
    dark_css = html[html.index("prefers-color-scheme: dark") :]
    for colour in LIGHT.model_dump().values():
        assert colour in html, colour
    for name, colour in DARK.model_dump().items():
        if name != "on_accent":
            assert colour in dark_css, name
