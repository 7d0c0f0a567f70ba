"""The site's pages and its emails speak every language the issue does: each message they use
is translated in every catalog, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from digest.audience.mail import confirmation, render_notice
from digest.config import load_settings
from digest.wording import CATALOGS

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    *sorted((ROOT / "digest" / "site").rglob("*.py")),
    *sorted((ROOT / "digest" / "site" / "templates").glob("*.html")),
    ROOT / "digest" / "audience" / "mail.py",
]
CALL = re.compile(r"""\b(?:_|gettext)\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)""")


def site_messages() -> set[str]:
    found = set()
    for path in SOURCES:
        for call in CALL.finditer(path.read_text(encoding="utf-8")):
            found.add("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', call.group(1))))
    return found


def test_the_site_uses_messages() -> None:
    assert {"Check your mailbox", "Yes, subscribe me", "Subscribe again"} <= site_messages()


@pytest.mark.parametrize("catalog", sorted(CATALOGS.glob("*.po")), ids=lambda p: p.stem)
def test_every_catalog_translates_every_site_message(catalog: Path) -> None:
    with catalog.open("rb") as handle:
        messages = {str(m.id): m for m in read_po(handle) if m.id}
    missing = site_messages() - messages.keys()
    assert not missing, f"{catalog.name}: {sorted(missing)}"
    for message_id in site_messages():
        message = messages[message_id]
        assert message.string and not message.fuzzy
        assert re.findall(r"%\(\w+\)s", message.string) == re.findall(r"%\(\w+\)s", message_id)


def test_a_german_confirmation_email() -> None:
    settings = load_settings(newsletter_name="Der Hafenbote", language="de")
    notice = confirmation(settings, "de", "ada@example.com", "https://news.example/confirm/x")
    html, text = render_notice(settings, notice)
    assert notice.subject == "Bestätigen Sie Ihr Abonnement von Der Hafenbote"
    assert 'lang="de"' in html and "Ja, anmelden" in html and "Der Link gilt 48 Stunden." in text
    assert "https://news.example/confirm/x" in html and "https://news.example/confirm/x" in text
