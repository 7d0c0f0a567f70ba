"""The email's fixed wording and date follow DIGEST_LANGUAGE, in both parts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from babel.messages.pofile import read_po
from lxml import html as lxml_html

from digest.config import Settings
from digest.pipeline import build_issue
from digest.render import default_templates_dir, render_email
from digest.wording import CATALOGS, has_catalog, long_date, translator
from tests.test_render import make_issue

TEMPLATE_MESSAGE = re.compile(r"""\b_\(\s*"([^"]+)"\s*[,)]""")


def template_messages() -> set[str]:
    return {
        message
        for path in default_templates_dir().rglob("*.j2")
        for message in TEMPLATE_MESSAGE.findall(path.read_text(encoding="utf-8"))
    }


def test_templates_use_the_catalog_messages() -> None:
    assert {"More For You", "Read more", "Unsubscribe", "By %(author)s"} <= template_messages()


@pytest.mark.parametrize("catalog", sorted(CATALOGS.glob("*.po")), ids=lambda p: p.stem)
def test_every_catalog_translates_every_template_message(catalog) -> None:
    with catalog.open("rb") as handle:
        messages = {str(m.id): m for m in read_po(handle) if m.id}
    assert template_messages() <= messages.keys()
    for message_id, message in messages.items():
        assert message.string and not message.fuzzy, f"{catalog.name}: {message_id!r}"
        assert re.findall(r"%\(\w+\)s", message.string) == re.findall(r"%\(\w+\)s", message_id)


def test_german_issue_in_both_parts() -> None:
    issue = make_issue(language="de")
    rendered = render_email(issue, Settings())
    doc = lxml_html.document_fromstring(rendered.html)
    body = doc.body.text_content()
    assert doc.xpath("//h2")[0].text_content() == "Mehr für Sie"
    assert "Donnerstag, 26. November 2026" in body
    assert "Von Amira Nolan" in body
    assert "Sie erhalten diese E-Mail, weil Sie The Daily Digest abonniert haben." in body
    assert doc.xpath("//a[normalize-space()='Den ganzen Artikel lesen']")
    assert [a.text_content() for a in doc.xpath("//a[@class='more-link']")] == [
        "Weiterlesen"
    ] * len(issue.more)
    assert doc.xpath("//a[normalize-space()='Abmelden']")
    assert "Unsubscribe" not in body and "More For You" not in body
    text = rendered.text
    assert text.startswith("THE DAILY DIGEST\nDonnerstag, 26. November 2026\n")
    assert "MEHR FÜR SIE" in text and "Weiterlesen: https://" in text
    assert "Abmelden: https://" in text and "Unsubscribe" not in text


def test_region_falls_back_to_its_language_and_unknown_to_english() -> None:
    assert translator("pt-BR")("Read more") == "Leia mais"
    assert has_catalog("de-AT") and has_catalog("en-GB") and not has_catalog("sw")
    assert translator("sw")("By %(author)s", author="A % B") == "By A % B"
    day = dt.date(2026, 11, 26)
    assert long_date(day, "sw") == "Alhamisi, 26 Novemba 2026"  # CLDR knows more than we translate
    assert long_date(day, "en-GB") == "Thursday, 26 November 2026"
    assert long_date(day, "x-klingon") == "Thursday, November 26, 2026"


def test_build_says_when_the_wording_stays_english(caplog: pytest.LogCaptureFixture) -> None:
    build_issue(Settings(language="sw"), date=dt.date(2026, 11, 26))
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("No wording for language 'sw'" in w and "de, en, es" in w for w in warnings)
    caplog.clear()
    build_issue(Settings(language="de-AT"), date=dt.date(2026, 11, 27))
    assert not any("No wording" in r.getMessage() for r in caplog.records)
