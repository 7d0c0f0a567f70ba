"""Rules over the message as it is sent: structure, size, accessibility, links, contrast, fonts,
preheader, stories in both parts, unsubscribing, headers, dark mode and spam score."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from digest.check.css import (
    NOT_RENDERED,
    RGB,
    background,
    contrast_ratio,
    foreground,
    is_hidden,
    is_large,
    own_text,
    style_of,
    visible_text_elements,
)
from digest.check.parsed import (
    Email,
    Finding,
    Rule,
    Severity,
    examples,
    finding,
    one_line,
    shorten,
)
from digest.errors import DigestError
from digest.spamscore import spam_score, spamassassin_available

GMAIL_CLIP_BYTES = 102 * 1024
"""Gmail shows "[Message clipped]" and hides the rest (the unsubscribe link too) above this size."""
SIZE_WARNING_BYTES = 90 * 1024
CONTRAST_NORMAL = 4.5
CONTRAST_LARGE = 3.0
"""WCAG 2.x AA: 4.5:1 for body text, 3:1 for large text (24px, or 18.66px bold)."""
SPAM_WARNING = 0.0
SPAM_ERROR = 3.0
GENERIC_FAMILIES = frozenset(
    {
        "serif",
        "sans-serif",
        "monospace",
        "cursive",
        "fantasy",
        "system-ui",
        "ui-serif",
        "ui-sans-serif",
        "ui-monospace",
        "ui-rounded",
        "math",
        "emoji",
        "fangsong",
    }
)
_FONT_FAMILY = re.compile(r"font-family\s*:\s*([^;}]+)", re.IGNORECASE)


def rule_structure(email: Email) -> Iterator[Finding]:
    """Both parts must be there: some clients show only the text; the other rules need the HTML."""
    if not email.html.strip() or email.tree is None:
        yield finding("structure", "error", "the message has no readable text/html part")
    if not email.text.strip():
        yield finding("structure", "error", "the message has no text/plain part")


def rule_size(email: Email) -> Iterator[Finding]:
    size = len(email.html.encode("utf-8"))
    shown = f"the HTML part is {size / 1024:.1f} KB"
    if size > GMAIL_CLIP_BYTES:
        yield finding("size", "error", f"{shown}: Gmail clips messages over 102 KB (footer hidden)")
    elif size >= SIZE_WARNING_BYTES:
        yield finding("size", "warning", f"{shown}: close to Gmail's 102 KB clipping limit")
    else:
        yield finding("size", "info", f"{shown} (Gmail clips at 102 KB)")


def rule_document(email: Email) -> Iterator[Finding]:
    """`lang` lets screen readers pick a voice; the title names the tab; one h1 tops the outline."""
    if email.tree is None:
        return
    if not (email.tree.get("lang") or "").strip():
        yield finding("document", "error", "<html> has no lang attribute")
    title = email.tree.find("head/title")
    if title is None or not one_line(title.text_content()):
        yield finding("document", "error", "no <title> (or an empty one) in <head>")
    headings = [one_line(h.text_content()) for h in email.tree.iter("h1")]
    if len(headings) != 1:
        found = f": {examples(headings)}" if headings else ""
        yield finding(
            "document", "error", f"expected exactly one <h1>, found {len(headings)}{found}"
        )


def rule_images(email: Email) -> Iterator[Finding]:
    """Without alt a blocked image reads as its file name; without a size the layout jumps or breaks
    in Outlook."""
    if email.tree is None:
        return
    no_alt: list[str] = []
    no_size: list[str] = []
    for image in email.tree.iter("img"):
        src = image.get("src") or "(no src)"
        if image.get("alt") is None:
            no_alt.append(src)
        missing = [name for name in ("width", "height") if not (image.get(name) or "").strip()]
        if missing:
            no_size.append(f"{src} ({' and '.join(missing)})")
    if no_alt:
        yield finding("images", "error", f"{len(no_alt)} image(s) without alt: {examples(no_alt)}")
    if no_size:
        yield finding(
            "images",
            "warning",
            f"{len(no_size)} image(s) without width/height: {examples(no_size)}",
        )


def _url_problem(url: str, *, allow_mailto: bool) -> Severity | None:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme == "https" and parts.netloc:
        return None
    if allow_mailto and scheme in ("mailto", "tel"):
        return None
    if scheme == "http" and parts.netloc:
        return "warning"
    return "error"


def rule_urls(email: Email) -> Iterator[Finding]:
    """Relative URLs point nowhere in a mail client; plain http images are blocked or flagged."""
    if email.tree is None:
        return
    found: dict[Severity, list[str]] = {"error": [], "warning": []}
    for link in email.tree.iter("a"):
        href = link.get("href")
        if href is None:
            continue
        severity = _url_problem(href, allow_mailto=True)
        if severity is not None:
            found[severity].append(href)
    for image in email.tree.iter("img"):
        severity = _url_problem(image.get("src") or "", allow_mailto=False)
        if severity is not None:
            found[severity].append(image.get("src") or "(no src)")
    for severity, what in (("error", "not absolute"), ("warning", "plain http, not https")):
        urls = found[severity]
        if urls:
            yield finding(
                "urls", severity, f"{len(urls)} link/image URL(s) {what}: {examples(urls)}"
            )


def _hex(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(round(c) for c in rgb))


def rule_contrast(email: Email) -> Iterator[Finding]:
    """Text against the colour behind it, from the inline styles every client applies (WCAG AA)."""
    if email.tree is None:
        return
    failures: dict[tuple[str, str, float], list[tuple[float, str]]] = {}
    for element, text in visible_text_elements(email.tree):
        behind = background(element)
        ink = foreground(element, behind)
        ratio = contrast_ratio(ink, behind)
        needed = CONTRAST_LARGE if is_large(element) else CONTRAST_NORMAL
        if ratio < needed:
            failures.setdefault((_hex(ink), _hex(behind), needed), []).append((ratio, text))
    for (ink, behind, needed), cases in failures.items():
        ratio = min(r for r, _ in cases)
        yield finding(
            "contrast",
            "error",
            f"{ink} on {behind} is {ratio:.2f}:1 (AA needs {needed:g}:1) in {len(cases)} place(s): "
            f"{examples([text for _, text in cases])}",
        )


def rule_fonts(email: Email) -> Iterator[Finding]:
    """A stack must end in a generic family, or a client lacking the fonts falls back to Times."""
    if email.tree is None:
        return
    stacks: set[str] = set()
    for element in email.tree.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag == "style":
            stacks.update(m.strip() for m in _FONT_FAMILY.findall(element.text or ""))
        elif (family := style_of(element).get("font-family")) is not None:
            stacks.add(family.strip())
        if element.tag == "font" and element.get("face"):
            stacks.add(element.get("face") or "")
    bad = []
    for stack in sorted(stacks):
        cleaned = re.sub(r"!\s*important\s*$", "", stack, flags=re.IGNORECASE)
        last = cleaned.rsplit(",", 1)[-1].strip().strip("\"'").lower()
        if last not in GENERIC_FAMILIES and last not in ("inherit", "initial", "unset"):
            bad.append(stack)
    if bad:
        yield finding(
            "fonts",
            "warning",
            f"{len(bad)} font stack(s) not ending in a generic family: {examples(bad)}",
        )


def rule_preheader(email: Email) -> Iterator[Finding]:
    """The preheader is the inbox's second line. Hiding it with a colour equal to the background
    is a classic spam signal; hide it by zero size instead."""
    preheader = one_line(email.issue.preheader)
    if not preheader:
        yield finding(
            "preheader", "error", "the issue has no preheader (inboxes show the body's first words)"
        )
        return
    if email.tree is None:
        return
    holder = None
    for element in email.tree.iter():
        if (
            isinstance(element.tag, str)
            and element.tag not in NOT_RENDERED
            and preheader in own_text(element)
        ):
            holder = element
            break
    if holder is None:
        yield finding(
            "preheader", "error", f"the preheader {shorten(preheader)!r} is not in the HTML"
        )
        return
    behind = background(holder)
    ratio = contrast_ratio(foreground(holder, behind), behind)
    if not is_hidden(holder) and ratio < 1.5:
        yield finding(
            "preheader",
            "error",
            f"the preheader is hidden by a colour trick ({ratio:.2f}:1 against its background); "
            "hide it with font-size:0, line-height:0 and max-height:0 instead",
        )
    first = next((el for el, _ in visible_text_elements(email.tree, also=holder)), None)
    if first is not None and first is not holder:
        yield finding(
            "preheader",
            "warning",
            f"text {shorten(own_text(first))!r} comes before the preheader; "
            "inboxes show the first text",
        )


def _squash(text: str) -> str:
    return one_line(text).casefold()


def rule_stories(email: Email) -> Iterator[Finding]:
    """Every story's title and link must reach both parts, or text-only readers lose stories."""
    if email.tree is None:
        return
    html_text = _squash(email.tree.text_content())
    hrefs = {(a.get("href") or "").strip() for a in email.tree.iter("a")}
    plain = _squash(email.text)
    plain_raw = email.text
    for part, has_title, has_url in (
        ("HTML", lambda t: t in html_text, lambda u: u in hrefs),
        ("text", lambda t: t in plain, lambda u: u in plain_raw),
    ):
        missing = []
        for story in email.issue.stories:
            title = _squash(story.title)
            url = story.url.strip()
            if not has_title(title):
                missing.append(f"title of {shorten(story.title)!r}")
            elif url and not has_url(url):
                missing.append(f"link of {shorten(story.title)!r}")
        if missing:
            yield finding(
                "stories", "error", f"the {part} part lacks {len(missing)}: {examples(missing)}"
            )


def rule_unsubscribe(email: Email) -> Iterator[Finding]:
    """A visible unsubscribe link in each part: the law (CAN-SPAM, GDPR), and fewer spam reports."""
    if email.tree is None:
        return
    prefix = email.unsubscribe_prefix
    links = [a for a in email.tree.iter("a") if (a.get("href") or "").startswith(prefix)]
    visible = [a for a in links if one_line(a.text_content()) and not is_hidden(a)]
    if not links:
        yield finding("unsubscribe", "error", f"no link to {prefix}… in the HTML part")
    elif not visible:
        yield finding(
            "unsubscribe", "error", "the HTML part's unsubscribe link is hidden or has no text"
        )
    if prefix not in email.text:
        yield finding("unsubscribe", "error", f"no {prefix}… link in the text part")


def rule_headers(email: Email) -> Iterator[Finding]:
    """RFC 8058 one-click unsubscribe needs an https List-Unsubscribe and List-Unsubscribe-Post;
    Gmail and Yahoo require both from bulk senders. List-Id lets readers filter."""
    message = email.message
    for name in ("From", "To", "Subject", "Date", "Message-ID", "List-Id"):
        if not str(message.get(name, "")).strip():
            yield finding("headers", "error", f"no {name} header")
    unsubscribe = str(message.get("List-Unsubscribe", ""))
    uris = re.findall(r"<([^>]*)>", unsubscribe)
    if not uris:
        yield finding("headers", "error", "no List-Unsubscribe header")
    else:
        if not any(uri.lower().startswith("https://") for uri in uris):
            yield finding(
                "headers", "error", "List-Unsubscribe has no https URI (RFC 8058 one-click)"
            )
        if not any(uri.lower().startswith("mailto:") for uri in uris):
            yield finding("headers", "warning", "List-Unsubscribe has no mailto: URI")
    post = " ".join(str(message.get("List-Unsubscribe-Post", "")).split())
    if post != "List-Unsubscribe=One-Click":
        yield finding(
            "headers",
            "error",
            "List-Unsubscribe-Post is not 'List-Unsubscribe=One-Click' (RFC 8058)",
        )


def rule_dark_mode(email: Email) -> Iterator[Finding]:
    """Without these, dark-mode clients invert colours on their own, often badly."""
    if email.tree is None:
        return
    styles = " ".join(style.text or "" for style in email.tree.iter("style"))
    if "prefers-color-scheme" not in styles:
        yield finding("dark-mode", "warning", "no @media (prefers-color-scheme: dark) styles")
    metas = [m for m in email.tree.iter("meta") if (m.get("name") or "").lower() == "color-scheme"]
    if not metas:
        yield finding("dark-mode", "warning", 'no <meta name="color-scheme"> in <head>')


def rule_spam(email: Email) -> Iterator[Finding]:
    """SpamAssassin offline: a positive score is worth a look, above 3 risks the junk folder."""
    if not spamassassin_available():
        yield finding("spam", "info", "spamassassin is not installed; spam score not checked")
        return
    try:
        report = spam_score(email.raw)
    except DigestError as exc:
        yield finding("spam", "warning", str(exc))
        return
    fired = [f"{r.name} {r.points:+g}" for r in report.rules if r.points != 0]
    detail = f" ({', '.join(fired)})" if fired else ""
    severity: Severity = "info"
    if report.score > SPAM_ERROR:
        severity = "error"
    elif report.score > SPAM_WARNING:
        severity = "warning"
    yield finding("spam", severity, f"SpamAssassin score {report.score:g}{detail}")


RULES: tuple[Rule, ...] = (
    rule_structure,
    rule_size,
    rule_document,
    rule_images,
    rule_urls,
    rule_contrast,
    rule_fonts,
    rule_preheader,
    rule_stories,
    rule_unsubscribe,
    rule_headers,
    rule_dark_mode,
)
