"""`digest check` warnings about what the issue says: teasers cut just before their sentence ends,
a picture on several stories, kickers that are paths or identifiers, titles in capitals, links to
private addresses. Each renders a real issue and checks the message as it would be sent."""

from __future__ import annotations

from digest.check import Finding, check_email, parse_email
from digest.check.content_rules import words_left
from digest.config import Settings
from digest.message import compose
from digest.models import PREVIEW_RECIPIENT, Image, Issue
from digest.render import render_email
from tests.conftest import FIXTURES

SENTENCE = (
    "The bill passed the lower house on Thursday after a long debate led by the Speaker of the "
    "House. Senators vote next week."
)


def the_issue() -> Issue:
    return Issue.model_validate_json((FIXTURES / "check" / "issue.json").read_text("utf-8"))


def check(issue: Issue) -> list[Finding]:
    settings = Settings()
    raw = compose(issue, render_email(issue, settings), settings).personalise(PREVIEW_RECIPIENT)
    return [
        finding
        for finding in check_email(parse_email(issue, raw, settings), spam=False)
        if finding.severity == "warning"
    ]


def rules(findings: list[Finding]) -> list[str]:
    return sorted(finding.rule for finding in findings)


def test_a_good_issue_has_none_of_these_warnings() -> None:
    assert rules(check(the_issue())) == []


def test_teaser_cut_words_before_its_sentence_ends() -> None:
    issue = the_issue()
    cut = issue.lead.model_copy(
        update={
            "text": f"<p>{SENTENCE}</p>",
            "teaser": "The bill passed the lower house on Thursday after a long debate led by "
            "the Speaker of the…",
        }
    )
    findings = check(issue.model_copy(update={"lead": cut}))
    assert rules(findings) == ["teasers"]
    assert "(1 word short)" in findings[0].message
    assert words_left("The bill passed the lower house on Thursday after a long…", SENTENCE) == 8
    assert words_left("The bill passed the lower house.", SENTENCE) is None


def test_a_picture_on_two_stories() -> None:
    issue = the_issue()
    logo = Image(url="https://news.example.org/logo-wide.jpg", alt="", width=600, height=300)
    lead = issue.lead.model_copy(update={"image": logo})
    more = [issue.more[0].model_copy(update={"image": logo}), *issue.more[1:]]
    findings = check(issue.model_copy(update={"lead": lead, "more": more}))
    assert rules(findings) == ["pictures"]
    assert "on 2 stories" in findings[0].message


def test_kickers_that_are_paths_or_identifiers() -> None:
    issue = the_issue()
    lead = issue.lead.model_copy(update={"kicker": "Business/Industries/Publishing/"})
    more = [issue.more[0].model_copy(update={"kicker": "adwords_api"}), *issue.more[1:]]
    findings = check(issue.model_copy(update={"lead": lead, "more": more}))
    assert rules(findings) == ["kickers"]
    assert "2 kicker(s)" in findings[0].message


def test_a_title_in_capitals() -> None:
    issue = the_issue()
    more = [issue.more[0].model_copy(update={"title": "THE CREATIVE FORAGER"}), *issue.more[1:]]
    findings = check(issue.model_copy(update={"more": more}))
    assert rules(findings) == ["titles"]
    assert "THE CREATIVE FORAGER" in findings[0].message


def test_links_to_loopback_or_private_addresses() -> None:
    issue = the_issue()
    lead = issue.lead.model_copy(update={"url": "https://localhost:8000"})
    more = [issue.more[0].model_copy(update={"url": "https://10.0.0.7/story"}), *issue.more[1:]]
    findings = check(issue.model_copy(update={"lead": lead, "more": more}))
    assert rules(findings) == ["links"]
    assert "2 link(s)" in findings[0].message


def test_links_on_an_intranet_source_s_own_site_are_no_warning() -> None:
    """Built from an intranet feed, a story on that feed's own server is what its readers open."""
    issue = the_issue()
    source = "http://intranet.localhost/feed.xml"
    lead = issue.lead.model_copy(
        update={"url": "https://intranet.localhost:443/story", "source": source}
    )
    more = [
        issue.more[0].model_copy(update={"url": "https://intranet.localhost/other"}),
        *issue.more[1:],
    ]
    findings = check(issue.model_copy(update={"lead": lead, "more": more}))
    assert rules(findings) == ["links"]
    assert "1 link(s)" in findings[0].message
    assert "https://intranet.localhost/other" in findings[0].message
