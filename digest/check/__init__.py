"""`digest check`: the quality gate over a built issue, run on the message exactly as it is sent.

Each rule is a small function over the parsed message (HTML tree, text part, headers) returning
findings; an error stops `digest send` unless forced. Rules look at the sent message, not the
preview file, because the preview references images relatively and carries no headers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from digest.check.content_rules import CONTENT_RULES
from digest.check.css import contrast_ratio, declarations, parse_color
from digest.check.message_rules import GMAIL_CLIP_BYTES, RULES, rule_spam
from digest.check.parsed import EXAMPLES, Email, Finding, Rule, parse_email
from digest.config import Settings
from digest.errors import BuildError
from digest.models import Issue
from digest.store import issue_dir, load_issue

__all__ = [
    "GMAIL_CLIP_BYTES",
    "Email",
    "Finding",
    "Rule",
    "check_email",
    "check_issue",
    "contrast_ratio",
    "declarations",
    "has_errors",
    "parse_color",
    "parse_email",
    "send_gate",
]


def check_email(email: Email, *, spam: bool = True) -> list[Finding]:
    """Every rule's findings, errors first; `spam=False` skips SpamAssassin (a second or two)."""
    rules = (*RULES, *CONTENT_RULES, rule_spam) if spam else (*RULES, *CONTENT_RULES)
    findings = [finding for rule in rules for finding in rule(email)]
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda f: order[f.severity])


def check_issue(
    settings: Settings,
    date: dt.date | None = None,
    *,
    message: bytes | None = None,
    spam: bool = True,
) -> list[Finding]:
    """Check the built issue of `date` (newest when None): its `email.eml`, or `message` when the
    caller (`digest send`) has the exact bytes it is about to send."""
    issue = load_issue(settings, date)
    if message is None:
        path = issue_dir(settings, issue.date) / "email.eml"
        try:
            message = path.read_bytes()
        except FileNotFoundError:
            raise BuildError(f"{path}: missing; run `digest preview` to render the issue") from None
    return check_email(parse_email(issue, message, settings), spam=spam)


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(finding.severity == "error" for finding in findings)


def send_gate(settings: Settings, issue: Issue, message: bytes, *, force: bool) -> list[Finding]:
    """What `digest send` runs first: the check of the message it is about to send. Errors stop
    the send (BuildError naming them) unless `force`; the findings are returned for printing."""
    findings = check_email(parse_email(issue, message, settings), spam=True)
    errors = [f for f in findings if f.severity == "error"]
    if errors and not force:
        listed = "; ".join(f"{f.rule}: {f.message}" for f in errors[:EXAMPLES])
        more = f" (and {len(errors) - EXAMPLES} more)" if len(errors) > EXAMPLES else ""
        raise BuildError(
            f"issue {issue.date.isoformat()} fails `digest check` with {len(errors)} error(s): "
            f"{listed}{more}; fix them or send with --force"
        )
    return findings
