"""The rendered email in headless Chromium: phone, email-pane and desktop widths, light and dark."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from digest.config import Settings
from digest.models import Issue
from digest.render import render_email
from tests.conftest import FIXTURES
from tests.support.contrast import relative_luminance

if TYPE_CHECKING:
    from playwright.sync_api import Page


SAMPLE = FIXTURES / "render"
WIDTHS = [375, 600, 900]
SCHEMES = ["light", "dark"]
OpenPage = Callable[..., AbstractContextManager["Page"]]


@pytest.fixture(scope="module")
def email_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample issue rendered as a preview: email.html beside the images it links relatively."""
    folder = tmp_path_factory.mktemp("issue")
    issue = Issue.model_validate_json((SAMPLE / "issue.json").read_text())
    rendered = render_email(issue, Settings())
    shutil.copytree(SAMPLE / "images", folder / "images")
    page = folder / "email.html"
    page.write_text(rendered.html, encoding="utf-8")
    return page


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
def test_layout_fits_and_reads_in_both_schemes(
    open_page: OpenPage, email_file: Path, width: int, scheme: str
) -> None:
    blocked: list[str] = []
    with open_page(width=width, color_scheme=scheme, blocked=blocked) as page:
        page.goto(email_file.as_uri())
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        headline = page.locator("h1")
        assert headline.count() == 1 and headline.is_visible()
        box = headline.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
        assert not page.locator(".preheader").is_visible()
        broken = page.evaluate(
            "[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
        )
        assert broken == []
        assert blocked == [], "the email tried to load something from the network"

        def colour(selector: str, prop: str) -> float:
            value = page.eval_on_selector(
                selector, f"el => getComputedStyle(el).getPropertyValue('{prop}')"
            )
            return relative_luminance(value)

        card = ".dm-card > table"
        if scheme == "dark":
            assert colour("body", "background-color") < 0.05
            assert colour(card, "background-color") < 0.05
            for text in ("h1", ".teaser", ".item-teaser", ".footer-text"):
                assert colour(text, "color") > 0.35, text
        else:
            assert colour("body", "background-color") > 0.8
            assert colour(card, "background-color") > 0.9
            for text in ("h1", ".teaser", ".item-teaser", ".footer-text"):
                assert colour(text, "color") < 0.15, text


@pytest.mark.parametrize(("width", "stacked"), [(375, True), (600, False)])
def test_thumbnails_sit_beside_the_text_on_desktop_and_above_it_on_phones(
    open_page: OpenPage, email_file: Path, width: int, stacked: bool
) -> None:
    with open_page(width=width) as page:
        page.goto(email_file.as_uri())
        thumb = page.locator("img.thumb").first.bounding_box()
        title = page.locator("h3").first.bounding_box()
        assert thumb is not None and title is not None
        if stacked:
            assert thumb["y"] + thumb["height"] <= title["y"]
            assert thumb["width"] > width * 0.8
        else:
            assert thumb["x"] + thumb["width"] <= title["x"]
            assert thumb["width"] == 168


def test_unbreakable_words_do_not_widen_a_phone_screen(open_page: OpenPage, tmp_path: Path) -> None:
    """Feeds send 60-letter compounds and bare URLs as titles; they must wrap, not scroll."""
    sample = Issue.model_validate_json((SAMPLE / "issue.json").read_text())
    word = "Donaudampfschifffahrtsgesellschaftskapitänswitwenrentenversicherung"
    bare_url = "https://news.example.org/" + "a-very-long-slug-" * 8
    lead = sample.lead.model_copy(update={"title": word, "teaser": f"{word} {bare_url}"})
    more = [item.model_copy(update={"title": bare_url, "kicker": word}) for item in sample.more]
    issue = sample.model_copy(update={"lead": lead, "more": more, "newsletter": word})
    page_file = tmp_path / "email.html"
    page_file.write_text(render_email(issue, Settings()).html, encoding="utf-8")
    with open_page(width=375) as page:
        page.goto(page_file.as_uri())
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
