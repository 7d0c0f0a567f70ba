import re
from pathlib import Path

import pytest

from digest.config import load_settings
from digest.errors import ConfigError


def test_defaults_need_no_configuration() -> None:
    settings = load_settings()
    assert settings.sources == []
    assert settings.issues_dir == Path("issues")
    assert settings.more_count == 4
    assert settings.lead_teaser_words == 60
    assert settings.item_teaser_words == 35


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("feed.xml", ["feed.xml"]),
        ("a.xml, https://example.com/feed ,", ["a.xml", "https://example.com/feed"]),
        ('["a.xml", "https://example.com/f?x=1,2"]', ["a.xml", "https://example.com/f?x=1,2"]),
    ],
)
def test_sources_as_json_list_or_comma_separated(
    raw: str, expected: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_SOURCES", raw)
    assert load_settings().sources == expected


def test_reads_dotenv_in_the_working_folder(isolated_environment: Path) -> None:
    (isolated_environment / ".env").write_text(
        "DIGEST_FROM=Morning Wire <news@wire.example>\nDIGEST_MORE_COUNT=7\n"
    )
    settings = load_settings()
    assert settings.from_address == "news@wire.example"
    assert settings.from_name == "Morning Wire"
    assert settings.more_count == 7


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DIGEST_MORE_COUNT", "many", "DIGEST_MORE_COUNT: "),
        ("DIGEST_MORE_COUNT", "-1", "DIGEST_MORE_COUNT: "),
        ("DIGEST_TIMEZONE", "Mars/Olympus", "DIGEST_TIMEZONE: expected an IANA time zone"),
        ("DIGEST_FROM", "not an address", "DIGEST_FROM: expected an address"),
        ("DIGEST_UNSUBSCRIBE_URL", "https://x.example/u", "DIGEST_UNSUBSCRIBE_URL: expected"),
        ("DIGEST_VIEW_ONLINE_URL", "https://x.example/", "DIGEST_VIEW_ONLINE_URL: expected"),
        ("DIGEST_SOURCES", '["a.xml"', "DIGEST_SOURCES: not a valid JSON list"),
        ("DIGEST_SUBJECT", "{name}: {headline}", "DIGEST_SUBJECT: expected text"),
    ],
)
def test_wrong_value_is_one_line_naming_the_setting(
    name: str, value: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_env_example_as_dotenv_gives_the_defaults(isolated_environment: Path) -> None:
    """Every setting documented in .env.example, copied as it is, is valid; empty means default."""
    example = Path(__file__).resolve().parent.parent / ".env.example"
    (isolated_environment / ".env").write_text(example.read_text())
    documented = load_settings()
    assert documented.templates_dir is None
    assert documented.sources == []
    assert documented.more_count == 4


def test_every_setting_is_documented_in_env_example() -> None:
    from digest.config import Settings

    example = (Path(__file__).resolve().parent.parent / ".env.example").read_text()
    for name, field in Settings.model_fields.items():
        env_name = "DIGEST_FROM" if name == "mail_from" else f"DIGEST_{name.upper()}"
        assert f"\n{env_name}=" in example or f"\n# {env_name}=" in example, env_name
        assert field is not None


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("DIGEST_VIEW_ONLINE_URL", "https://example.com/{date}/?t={token}", "no other braces"),
        ("DIGEST_VIEW_ONLINE_URL", "https://example.com/{date}/{", "no other braces"),
        ("DIGEST_UNSUBSCRIBE_URL", "https://example.com/u?t={token}&d={date}", "no other braces"),
        ("DIGEST_UNSUBSCRIBE_URL", "https://example.com/u?t={token}{", "no other braces"),
        ("DIGEST_SUBJECT", "{name}: {title} {", "only {name}, {title} and {date}"),
        ("DIGEST_SCHEDULE", "0 6 31 2 *", "never fires"),
        ("DIGEST_SCHEDULE", "0 6 30 feb *", "never fires"),
        ("DIGEST_UNCONFIRMED_DAYS", "2", "an unconfirmed sign-up must outlive its link"),
    ],
)
def test_a_template_or_schedule_that_cannot_work_is_refused_at_load(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, problem: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=rf"^{name}: .*{re.escape(problem)}") as caught:
        load_settings()
    assert "\n" not in str(caught.value)


def test_a_leap_day_schedule_is_accepted() -> None:
    assert load_settings(schedule="0 6 29 feb *").schedule == "0 6 29 feb *"


def test_the_issues_folder_cannot_be_a_file(isolated_environment: Path) -> None:
    (isolated_environment / "issues").write_text("not a folder", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^DIGEST_ISSUES_DIR: expected a folder"):
        load_settings()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("\u00fc@example.com", "Internationalized characters before the @-sign"),
        ("Night Desk <desk\x00@example.com>", "invalid characters before the @-sign: U+0000"),
    ],
)
def test_alert_addresses_are_checked_as_every_recipient_is(value: str, problem: str) -> None:
    """An alert goes through the same SMTP sender: an address it cannot send to fails at load,
    not in the middle of a failed run (smtplib raised UnicodeEncodeError at RCPT)."""
    with pytest.raises(ConfigError, match=rf"^DIGEST_ALERT_TO: .*{re.escape(problem)}"):
        load_settings(alert_to=f"ops@example.com, {value}")
    assert load_settings(alert_to="Night Desk <desk@b\u00fccher.example>").alert_to
