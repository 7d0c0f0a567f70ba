"""Email-client support of our rendered email versus MJML's own newsletter template.

Runs doiuse-email (caniemail.com data) over the sample issue rendered by digest and over
mjmlio/email-templates' `newsletter.mjml` compiled the same way (mjml-python + premailer), then
prints, for Gmail, Outlook, Apple Mail and Yahoo, how many distinct features each uses that some
version of that client does not support. Target: ours uses no more than the reference.

    .venv/bin/python benchmarks/email_support.py

Needs node and npm; doiuse-email is installed into benchmarks/.work/ (git-ignored) on first run.
The reference template is third-party (MIT) and is not committed: put it at
benchmarks/reference/newsletter.mjml or benchmarks/.work/reference/newsletter.mjml
(download it from REFERENCE_URL below).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digest.config import Settings  # noqa: E402
from digest.models import Issue  # noqa: E402
from digest.render import mjml_to_html, render_email  # noqa: E402

WORK = ROOT / "benchmarks" / ".work"
NODE_DIR = WORK / "doiuse-email"
DOIUSE_PACKAGE = "doiuse-email@0.4.1"
SAMPLE_ISSUE = ROOT / "tests" / "fixtures" / "render" / "issue.json"
ASSET_BASE_URL = "https://cdn.example.com/issues/2026-11-26/"
REFERENCE_URL = (
    "https://raw.githubusercontent.com/mjmlio/email-templates/"
    "108504fd936731192c7c48696bad55da6cf5fe94/templates/newsletter.mjml"
)
REFERENCE_PLACES = [
    ROOT / "benchmarks" / "reference" / "newsletter.mjml",
    WORK / "reference" / "newsletter.mjml",
]
FAMILIES = {"gmail": "Gmail", "outlook": "Outlook", "apple-mail": "Apple Mail", "yahoo": "Yahoo"}
ERROR = re.compile(r"^`(?P<feature>[^`]+)` is not supported by `(?P<client>[^`]+)`")
CHECK_SCRIPT = """\
import { doIUseEmail } from 'doiuse-email';
import { readFileSync } from 'node:fs';
const clients = JSON.parse(process.argv[2]);
const report = {};
for (const file of process.argv.slice(3)) {
  report[file] = doIUseEmail(readFileSync(file, 'utf8'), { emailClients: clients });
}
process.stdout.write(JSON.stringify(report));
"""


def ensure_doiuse() -> Path:
    """Install doiuse-email into the work folder once; returns the checker script."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        sys.exit("node and npm are needed (apt-get install nodejs npm)")
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    if not (NODE_DIR / "node_modules" / "doiuse-email").is_dir():
        subprocess.run(
            [
                "npm",
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(NODE_DIR),
                DOIUSE_PACKAGE,
            ],
            check=True,
        )
    script = NODE_DIR / "check.mjs"
    script.write_text(CHECK_SCRIPT)
    return script


def reference_source() -> str:
    for place in REFERENCE_PLACES:
        if place.is_file():
            return place.read_text(encoding="utf-8")
    wanted = " or ".join(str(p.relative_to(ROOT)) for p in REFERENCE_PLACES)
    sys.exit(f"reference template missing: save {REFERENCE_URL} as {wanted}")


def our_html() -> str:
    issue = Issue.model_validate_json(SAMPLE_ISSUE.read_text(encoding="utf-8"))
    return render_email(issue, Settings(templates_dir=None), asset_base_url=ASSET_BASE_URL).html


def unsupported_by_family(errors: list[str]) -> dict[str, set[str]]:
    """Distinct unsupported features per client family (a feature counts once per family)."""
    found: dict[str, set[str]] = defaultdict(set)
    for line in errors:
        match = ERROR.match(line)
        if match:
            family = match["client"].split(".")[0]
            found[family].add(match["feature"])
    return found


def main() -> int:
    script = ensure_doiuse()
    pages = {
        "ours": our_html(),
        "reference": mjml_to_html(reference_source(), "reference newsletter.mjml"),
    }
    files = {}
    for name, html in pages.items():
        files[name] = WORK / f"email-support-{name}.html"
        files[name].write_text(html, encoding="utf-8")
    clients = [f"{family}.*" for family in FAMILIES]
    run = subprocess.run(
        ["node", str(script), json.dumps(clients), *(str(f) for f in files.values())],
        cwd=NODE_DIR,
        check=True,
        capture_output=True,
        text=True,
    )
    report = json.loads(run.stdout)
    found = {
        name: unsupported_by_family(report[str(f)].get("errors", [])) for name, f in files.items()
    }

    for name, html in pages.items():
        print(f"{name:<10} {len(html.encode()) / 1024:6.1f} KB of HTML")
    print(f"\n{'client':<12}{'ours':>6}{'reference':>11}")
    worse = []
    for family, label in FAMILIES.items():
        ours, ref = found["ours"][family], found["reference"][family]
        print(f"{label:<12}{len(ours):>6}{len(ref):>11}")
        if len(ours) > len(ref):
            worse.append(label)
    for family, label in FAMILIES.items():
        extra = sorted(found["ours"][family] - found["reference"][family])
        if extra:
            print(f"  only ours, {label}: {', '.join(extra)}")
    print(
        "\ntarget met: ours uses no more unsupported features than the reference"
        if not worse
        else f"\ntarget missed for: {', '.join(worse)}"
    )
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())
