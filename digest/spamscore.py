"""SpamAssassin's offline opinion of a message, when `spamassassin` is installed."""

from __future__ import annotations

import re
import shutil
import subprocess

from pydantic import BaseModel, ConfigDict

from digest.errors import DigestError

_STATUS = re.compile(r"^X-Spam-Status: \w+, score=(-?\d+(?:\.\d+)?)", re.MULTILINE)
_RULE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s+(.*)$", re.MULTILINE)


class SpamRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    points: float
    description: str


class SpamReport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    score: float
    rules: list[SpamRule]


def spamassassin_available() -> bool:
    return shutil.which("spamassassin") is not None


def spam_score(message: bytes, timeout: float = 120) -> SpamReport:
    """Score `message` with local rules only (`-L`: no network tests), in test mode (`-t`)."""
    try:
        run = subprocess.run(
            ["spamassassin", "-L", "-t"],
            input=message,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise DigestError(
            "spamassassin is not installed (Debian: apt-get install spamassassin)"
        ) from None
    except subprocess.TimeoutExpired:
        raise DigestError(f"spamassassin did not answer within {timeout:.0f} s") from None
    output = run.stdout.decode("utf-8", "replace")
    status = _STATUS.search(output)
    if status is None:
        reason = run.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no report"]
        raise DigestError(f"spamassassin gave no score: {reason[0]}")
    report = output[output.find("Content analysis details:") :]
    rules = [
        SpamRule(name=name, points=float(points), description=description.strip())
        for points, name, description in _RULE.findall(report)
    ]
    return SpamReport(score=float(status.group(1)), rules=rules)
