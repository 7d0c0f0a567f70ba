"""`digest check`: each rule against an email that breaks it, the clean email, a rendered issue."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from digest.check import (
    Finding,
    check_email,
    check_issue,
    contrast_ratio,
    declarations,
    has_errors,
    parse_color,
    parse_email,
    send_gate,
)
from digest.config import Settings
from digest.errors import BuildError
from digest.message import compose
from digest.models import PREVIEW_RECIPIENT, Issue, RenderedEmail
from digest.pipeline import rerender
from digest.spamscore import spamassassin_available
from digest.store import issue_dir, write_issue
from tests.conftest import FIXTURES

HERE = FIXTURES / "check"
GOOD_HTML = (HERE / "good.html").read_text(encoding="utf-8")
GOOD_TEXT = (HERE / "good.txt").read_text(encoding="utf-8")


def the_issue(**changes: object) -> Issue:
    issue = Issue.model_validate_json((HERE / "issue.json").read_text(encoding="utf-8"))
    return issue.model_copy(update=changes)


def message(issue: Issue, html: str, text: str) -> bytes:
    """The message as `digest send` builds it, through the real message stage."""
    rendered = RenderedEmail(html=html, text=text)
    return compose(issue, rendered, Settings()).personalise(PREVIEW_RECIPIENT)


def run(
    html: str = GOOD_HTML,
    text: str = GOOD_TEXT,
    issue: Issue | None = None,
    raw: bytes | None = None,
) -> list[Finding]:
    issue = issue or the_issue()
    raw = raw if raw is not None else message(issue, html, text)
    return check_email(parse_email(issue, raw, Settings()), spam=False)


def broken(find: str, replace: str, source: str = GOOD_HTML) -> str:
    assert find in source, find
    return source.replace(find, replace)


def of(findings: list[Finding], rule: str, severity: str = "error") -> list[Finding]:
    return [f for f in findings if f.rule == rule and f.severity == severity]


def without_header(raw: bytes, name: str, replacement: str | None = None) -> bytes:
    parsed = message_from_bytes(raw, policy=policy.SMTP)
    del parsed[name]
    if replacement is not None:
        parsed[name] = replacement
    return parsed.as_bytes()


def test_the_good_email_has_no_errors_or_warnings() -> None:
    findings = run()
    assert [f for f in findings if f.severity != "info"] == []
    assert not has_errors(findings)


def test_a_rendered_issue_passes(tmp_path: Path) -> None:
    settings = Settings(issues_dir=tmp_path / "issues")
    source = FIXTURES / "render" / "issue.json"
    issue = Issue.model_validate_json(source.read_text(encoding="utf-8"))
    write_issue(settings, issue, {}, {p.name: p for p in (FIXTURES / "render/images").iterdir()})
    rerender(settings, issue.date)
    findings = check_issue(settings, issue.date, spam=spamassassin_available())
    assert not has_errors(findings), [f.line for f in findings]
    assert [f.line for f in findings if f.severity == "warning"] == []
    assert {f.rule for f in findings} == {"size", "spam"}


def test_size_warns_near_and_errs_over_gmail_clipping() -> None:
    filler = "<!-- " + "x" * 1000 + " -->\n"
    near = run(html=broken("</body>", filler * 92 + "</body>"))
    assert of(near, "size", "warning") and not of(near, "size")
    over = run(html=broken("</body>", filler * 105 + "</body>"))
    assert "Gmail clips" in of(over, "size")[0].message


@pytest.mark.parametrize(
    ("find", "replace", "expected"),
    [
        ('<html lang="en">', "<html>", "no lang"),
        ("<title>Sea walls, ferries &amp; grain</title>", "", "no <title>"),
        ("<title>Sea walls, ferries &amp; grain</title>", "<title> </title>", "no <title>"),
        ("<h2 style", "<h1 style", "found 2"),
        ("<h1 style", "<h2 style", "found 0"),
    ],
)
def test_document_needs_lang_title_and_one_h1(find: str, replace: str, expected: str) -> None:
    errors = of(run(html=broken(find, replace)), "document")
    assert len(errors) == 1 and expected in errors[0].message


def test_images_need_alt_and_size() -> None:
    no_alt = run(html=broken(' alt="The harbour wall at dusk"', ""))
    assert "sea-wall.jpg" in of(no_alt, "images")[0].message
    no_height = run(html=broken(' height="338"', ""))
    assert not of(no_height, "images")
    assert "(height)" in of(no_height, "images", "warning")[0].message
    decorative = run(html=broken('alt="The harbour wall at dusk"', 'alt=""'))
    assert not of(decorative, "images") and not of(decorative, "images", "warning")


def test_links_and_images_must_be_absolute_https() -> None:
    relative = run(html=broken("https://news.example.org/img/sea-wall.jpg", "images/sea-wall.jpg"))
    assert "images/sea-wall.jpg" in of(relative, "urls")[0].message
    plain_http = run(
        html=broken('href="https://example.com/issues/', 'href="http://example.com/issues/')
    )
    assert not of(plain_http, "urls")
    assert "http://example.com/issues/" in of(plain_http, "urls", "warning")[0].message
    script = run(html=broken("<p>Councils", '<p><a href="javascript:alert(1)">x</a> Councils'))
    assert "javascript:" in of(script, "urls")[0].message
    mailto = run(
        html=broken("<p>Councils", '<p><a href="mailto:ed@example.com">Write</a> Councils')
    )
    assert not of(mailto, "urls")


def test_contrast_fails_pale_text_on_white() -> None:
    findings = run(html=broken('<p style="color:#5e5e5e;">', '<p style="color:#aaaaaa;">'))
    error = of(findings, "contrast")[0]
    assert "#aaaaaa on #ffffff" in error.message and "The Check Weekly" in error.message


def test_contrast_follows_backgrounds_named_colours_and_large_text() -> None:
    dark_cell = run(
        html=broken('bgcolor="#ffffff"', 'bgcolor="#333333"').replace(
            'style="background-color:#ffffff;"', ""
        )
    )
    assert any("#2e2e2e on #333333" in f.message for f in of(dark_cell, "contrast"))
    named = run(
        html=broken('<p style="color:#5e5e5e;">', '<p style="color: lightgray !important;">')
    )
    assert "#d3d3d3 on #ffffff" in of(named, "contrast")[0].message
    # #949494 on white is 3.03:1: enough for 30px headings, not for 16px body text.
    large = run(
        html=broken('<h1 style="color:#151515;', '<h1 style="color:#949494;').replace(
            '<a href="https://news.example.org/sea-walls" style="color:#151515;">',
            '<a href="https://news.example.org/sea-walls">',
        )
    )
    assert not of(large, "contrast")
    small = run(html=broken("<p>Councils", '<p style="color:#949494;">Councils'))
    assert "AA needs 4.5:1" in of(small, "contrast")[0].message
    see_through = run(html=broken("<p>Councils", '<p style="color:rgba(0,0,0,0.2);">Councils'))
    assert of(see_through, "contrast")


def test_hidden_text_is_not_judged_for_contrast() -> None:
    hidden = broken("<p>Councils", '<p style="display:none;color:#fefefe;">Councils')
    assert not of(run(html=hidden), "contrast")


def test_font_stacks_must_end_in_a_generic_family() -> None:
    findings = run(html=broken("Georgia, 'Times New Roman', serif", "Georgia, 'Times New Roman'"))
    assert "Times New Roman" in of(findings, "fonts", "warning")[0].message
    in_style = run(html=broken("Helvetica, Arial, sans-serif;", "Helvetica, Arial;"))
    assert "Helvetica, Arial" in of(in_style, "fonts", "warning")[0].message


def test_preheader_must_exist() -> None:
    findings = run(issue=the_issue(preheader=" "))
    assert "no preheader" in of(findings, "preheader")[0].message
    missing = run(html=broken("Why coastal councils are rewriting their flood plans.", "Hello"))
    assert "not in the HTML" in of(missing, "preheader")[0].message


def test_preheader_hidden_by_a_colour_trick_is_an_error() -> None:
    trick = broken(
        'style="display:none;max-height:0;overflow:hidden;"', 'style="color:#f3f1ec;font-size:1px;"'
    )
    assert "colour trick" in of(run(html=trick), "preheader")[0].message


def test_preheader_should_come_first() -> None:
    late = broken('<div class="preheader"', '<p>Top banner</p><div class="preheader"')
    findings = run(html=late)
    assert "Top banner" in of(findings, "preheader", "warning")[0].message


def test_every_story_must_be_in_both_parts() -> None:
    text = broken("The ferry that still runs on a 1962\ntimetable", "A ferry", GOOD_TEXT)
    assert "ferry" in of(run(text=text), "stories")[0].message
    no_link = broken("Read more: https://news.example.org/grain", "", GOOD_TEXT)
    assert "link of 'Why grain" in of(run(text=no_link), "stories")[0].message
    html = broken("Why grain prices fell", "Grain")
    assert "the HTML part lacks 1" in of(run(html=html), "stories")[0].message


def test_unsubscribe_link_must_be_visible_in_both_parts() -> None:
    url = "https://example.com/unsubscribe?token=DIGESTUNSUBSCRIBETOKEN"
    link = f'<a href="{url}" style="color:#5e5e5e;">'
    hidden = run(html=broken(link, link.replace('style="', 'style="display:none;')))
    assert "hidden" in of(hidden, "unsubscribe")[0].message
    gone = broken(link + "Unsubscribe</a>", "")
    text = broken("Unsubscribe:", "Unsubscribe: DIGESTUNSUBSCRIBETOKEN", GOOD_TEXT).replace(
        "https://example.com/unsubscribe?token=", ""
    )
    messages = [f.message for f in of(run(html=gone, text=text), "unsubscribe")]
    assert len(messages) == 2 and "HTML part" in messages[0] and "text part" in messages[1]


def test_rfc_8058_headers_and_list_id() -> None:
    raw = message(the_issue(), GOOD_HTML, GOOD_TEXT)
    no_post = run(raw=without_header(raw, "List-Unsubscribe-Post"))
    assert "RFC 8058" in of(no_post, "headers")[0].message
    no_list_id = run(raw=without_header(raw, "List-Id"))
    assert of(no_list_id, "headers")[0].message == "no List-Id header"
    mailto_only = run(raw=without_header(raw, "List-Unsubscribe", "<mailto:u@example.com>"))
    assert "no https URI" in of(mailto_only, "headers")[0].message
    no_unsubscribe = run(raw=without_header(raw, "List-Unsubscribe"))
    assert of(no_unsubscribe, "headers")[0].message == "no List-Unsubscribe header"


def test_dark_mode_styles_are_expected() -> None:
    html = broken("prefers-color-scheme", "min-width: 1px").replace(
        '<meta name="color-scheme" content="light dark">', ""
    )
    assert len(of(run(html=html), "dark-mode", "warning")) == 2


def test_a_message_without_an_html_part() -> None:
    raw = message(the_issue(), GOOD_HTML, GOOD_TEXT)
    parsed = message_from_bytes(raw, policy=policy.SMTP)
    text_only = parsed.get_body(("plain",))
    assert text_only is not None
    findings = run(raw=text_only.as_bytes())
    assert "no readable text/html part" in of(findings, "structure")[0].message


@pytest.mark.skipif(not spamassassin_available(), reason="spamassassin is not installed")
def test_spam_score_is_reported_with_the_rules_that_fired() -> None:
    pitch = (
        '<p style="color:#ff0000;font-size:40px;">GUARANTEED!!! 100% FREE!!! ACT NOW!!! '
        "Earn extra cash, lose weight fast, cheap viagra, no credit check, "
        "risk free, urgent response needed, limited time only!!!</p><p>Councils"
    )
    spammy_issue = the_issue(subject="FREE MONEY!!! ACT NOW!!! 100% GUARANTEED!!!")
    raw = message(spammy_issue, broken("<p>Councils", pitch), GOOD_TEXT + pitch)
    spam = [f for f in check_email(parse_email(spammy_issue, raw, Settings())) if f.rule == "spam"]
    assert spam[0].severity in ("warning", "error")
    assert "SpamAssassin score" in spam[0].message and "(" in spam[0].message


def test_colour_and_style_parsing() -> None:
    assert parse_color("#FFF") == ((255, 255, 255), 1.0)
    assert parse_color("rgb(10, 20, 30)") == ((10, 20, 30), 1.0)
    assert parse_color("rgba(0 0 0 / 50%)") == ((0, 0, 0), 0.5)
    assert parse_color("Navy") == ((0, 0, 128), 1.0)
    assert parse_color("var(--ink)") is None
    assert round(contrast_ratio((0, 0, 0), (255, 255, 255)), 1) == 21.0
    style = "background:url('a;b.png') #fff; color : RED !important"
    assert declarations(style) == {"background": "url('a;b.png') #fff", "color": "RED"}


def test_check_issue_needs_the_rendered_message(tmp_path: Path) -> None:
    settings = Settings(issues_dir=tmp_path / "issues")
    issue = the_issue()
    write_issue(settings, issue, {}, {})
    with pytest.raises(BuildError, match=r"email\.eml: missing; run `digest preview`"):
        check_issue(settings, dt.date(2026, 11, 26))
    eml = message(issue, GOOD_HTML, GOOD_TEXT)
    write_issue(settings, issue, {"email.eml": eml}, {})
    assert not has_errors(check_issue(settings, spam=False))
    assert (issue_dir(settings, issue.date) / "email.eml").read_bytes() == eml


def test_the_command_prints_one_line_per_finding_and_fails_on_errors(
    isolated_environment: Path,
) -> None:
    settings = Settings()
    issue = the_issue()
    bad = broken('<html lang="en">', "<html>")
    write_issue(settings, issue, {"email.eml": message(issue, bad, GOOD_TEXT)}, {})
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    command = [sys.executable, "-m", "digest", "check", "--no-spam", "--date", "2026-11-26"]
    failed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert failed.returncode == 1, failed.stderr
    assert "error   document: <html> has no lang attribute" in failed.stdout.splitlines()
    assert "1 error(s), 0 warning(s)" in failed.stderr
    write_issue(settings, issue, {"email.eml": message(issue, GOOD_HTML, GOOD_TEXT)}, {})
    passed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_the_send_gate_refuses_errors_unless_forced() -> None:
    issue = the_issue(preheader="")
    raw = message(issue, GOOD_HTML, GOOD_TEXT)
    with pytest.raises(BuildError, match=r"fails `digest check` with 1 error\(s\): preheader: "):
        send_gate(Settings(), issue, raw, force=False)
    forced = send_gate(Settings(), issue, raw, force=True)
    assert has_errors(forced)
    assert not has_errors(
        send_gate(Settings(), the_issue(), message(the_issue(), GOOD_HTML, GOOD_TEXT), force=False)
    )
