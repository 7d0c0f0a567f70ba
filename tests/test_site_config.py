"""The site's settings: DIGEST_SITE_URL becomes the default home of the links in mail, and what
the site is told to trust is checked when it is read."""

from __future__ import annotations

import pytest

from digest.config import load_settings
from digest.errors import ConfigError


def test_the_links_in_mail_default_to_the_site() -> None:
    settings = load_settings(site_url="https://news.example.com/")
    assert settings.site_url == "https://news.example.com"
    assert settings.unsubscribe_url == "https://news.example.com/unsubscribe/{token}"
    assert settings.view_online_url == "https://news.example.com/issues/{date}/"


def test_links_set_by_the_operator_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SITE_URL", "https://news.example.com")
    monkeypatch.setenv("DIGEST_UNSUBSCRIBE_URL", "https://other.example/u/{token}")
    settings = load_settings()
    assert settings.unsubscribe_url == "https://other.example/u/{token}"
    assert settings.view_online_url == "https://news.example.com/issues/{date}/"


def test_without_a_site_the_placeholders_stay() -> None:
    settings = load_settings()
    assert settings.unsubscribe_url == "https://example.com/unsubscribe?token={token}"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"site_url": "http://news.example.com"}, "DIGEST_SITE_URL: expected the site's public"),
        ({"site_url": "https://news.example.com/?x=1"}, "DIGEST_SITE_URL"),
        ({"site_url": "ftp://news.example.com"}, "DIGEST_SITE_URL"),
        ({"site_trusted_proxies": "10.0.0.1,proxy.example"}, "DIGEST_SITE_TRUSTED_PROXIES: 'proxy"),
        ({"unsubscribe_url": "http://news.example.com/u/{token}"}, "DIGEST_UNSUBSCRIBE_URL"),
    ],
)
def test_bad_site_settings_are_one_line_each(values: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("?", r"\?")):
        load_settings(**values)


def test_http_is_allowed_on_loopback_to_try_the_site_out() -> None:
    settings = load_settings(site_url="http://127.0.0.1:8030", site_trusted_proxies="none")
    assert settings.unsubscribe_url == "http://127.0.0.1:8030/unsubscribe/{token}"
    assert settings.site_trusted_proxies == []
