"""`digest check`: the quality gate over a built issue, run on the message exactly as it is sent.

Each rule is a small function over the parsed message (HTML tree, text part, headers) returning
findings; an error stops `digest send` unless forced. Rules look at the sent message, not the
preview file, because the preview references images relatively and carries no headers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Literal
from urllib.parse import urlsplit

import lxml.html
from cssutils.css.colors import COLORS
from lxml.etree import ParserError, _Element
from pydantic import BaseModel, ConfigDict

from digest.config import Settings
from digest.errors import BuildError, DigestError
from digest.models import Issue
from digest.spamscore import spam_score, spamassassin_available
from digest.store import issue_dir, load_issue

Severity = Literal["error", "warning", "info"]

GMAIL_CLIP_BYTES = 102 * 1024
"""Gmail shows "[Message clipped]" and hides the rest (the unsubscribe link too) above this size."""
SIZE_WARNING_BYTES = 90 * 1024
CONTRAST_NORMAL = 4.5
CONTRAST_LARGE = 3.0
"""WCAG 2.x AA: 4.5:1 for body text, 3:1 for large text (24px, or 18.66px bold)."""
SPAM_WARNING = 0.0
SPAM_ERROR = 3.0
EXAMPLES = 3
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
_NOT_RENDERED = frozenset(
    {"head", "title", "style", "script", "noscript", "template", "meta", "link"}
)
_INVISIBLE = re.compile(r"[\s\u00a0\u034f\u200b-\u200f\u2060\ufeff]+")
_HEX = re.compile(r"#([0-9a-f]{3,8})")
_FUNC = re.compile(r"rgba?\(([^)]*)\)")
_FONT_FAMILY = re.compile(r"font-family\s*:\s*([^;}]+)", re.IGNORECASE)
_SIZE = re.compile(r"^([\d.]+)(px|pt)$")

RGB = tuple[float, float, float]


class Finding(BaseModel):
    """One thing `digest check` noticed; printed as one line."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str
    severity: Severity
    message: str

    @property
    def line(self) -> str:
        return f"{self.severity:<7} {self.rule}: {self.message}"


@dataclass(frozen=True)
class Email:
    """A message taken apart once for every rule."""

    issue: Issue
    raw: bytes
    message: EmailMessage
    html: str
    text: str
    tree: _Element | None
    unsubscribe_prefix: str
    """DIGEST_UNSUBSCRIBE_URL up to {token}: what every unsubscribe link starts with."""


Rule = Callable[[Email], Iterable[Finding]]


def _part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body((subtype,))
    if body is None or not isinstance(body, EmailMessage):
        return ""
    content = body.get_content()
    return content if isinstance(content, str) else ""


def parse_email(issue: Issue, raw: bytes, settings: Settings) -> Email:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)  # policy.default makes EmailMessage
    html = _part(message, "html")
    try:
        tree = lxml.html.document_fromstring(html) if html.strip() else None
    except ParserError:
        tree = None
    return Email(
        issue=issue,
        raw=raw,
        message=message,
        html=html,
        text=_part(message, "plain"),
        tree=tree,
        unsubscribe_prefix=settings.unsubscribe_url.split("{token}")[0],
    )


def _finding(rule: str, severity: Severity, message: str) -> Finding:
    return Finding(rule=rule, severity=severity, message=message)


def _examples(items: list[str]) -> str:
    shown = ", ".join(repr(_shorten(item)) for item in items[:EXAMPLES])
    more = f" and {len(items) - EXAMPLES} more" if len(items) > EXAMPLES else ""
    return shown + more


def _shorten(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _one_line(text: str) -> str:
    return " ".join(_INVISIBLE.sub(" ", text).split())


# --- CSS helpers ---------------------------------------------------------------------------


def declarations(style: str) -> dict[str, str]:
    """An inline style attribute as property → value (lower-cased names, `!important` dropped)."""
    result: dict[str, str] = {}
    depth, quote, start, parts = 0, "", 0, []
    for index, char in enumerate(style):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == ";" and depth == 0:
            parts.append(style[start:index])
            start = index + 1
    parts.append(style[start:])
    for part in parts:
        name, colon, value = part.partition(":")
        if colon:
            cleaned = re.sub(r"!\s*important\s*$", "", value.strip(), flags=re.IGNORECASE).strip()
            result[name.strip().lower()] = cleaned
    return result


def _style(element: _Element) -> dict[str, str]:
    return declarations(element.get("style") or "")


def parse_color(value: str) -> tuple[RGB, float] | None:
    """A CSS colour as (r, g, b) in 0–255 and its alpha; None for what is not a plain colour."""
    value = value.strip().lower()
    if match := _HEX.fullmatch(value):
        digits = match.group(1)
        if len(digits) in (3, 4):
            digits = "".join(c * 2 for c in digits)
        if len(digits) not in (6, 8):
            return None
        alpha = int(digits[6:8], 16) / 255 if len(digits) == 8 else 1.0
        return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)), alpha
    if match := _FUNC.fullmatch(value):
        numbers = [n for n in re.split(r"[\s,/]+", match.group(1).strip()) if n]
        if len(numbers) not in (3, 4):
            return None
        try:
            channels = [float(n[:-1]) * 2.55 if n.endswith("%") else float(n) for n in numbers[:3]]
            alpha = numbers[3] if len(numbers) == 4 else "1"
            opacity = float(alpha[:-1]) / 100 if alpha.endswith("%") else float(alpha)
        except ValueError:
            return None
        r, g, b = (min(255.0, max(0.0, c)) for c in channels)
        return (r, g, b), min(1.0, max(0.0, opacity))
    if value in COLORS:
        r, g, b, alpha = COLORS[value]
        return (float(r), float(g), float(b)), float(alpha)
    return None


def _background_of(element: _Element) -> tuple[RGB, float] | None:
    style = _style(element)
    if "background-color" in style:
        color = parse_color(style["background-color"])
        if color is not None:
            return color
    if "background" in style:
        for token in re.findall(r"rgba?\([^)]*\)|#[0-9a-fA-F]+|[a-zA-Z]+", style["background"]):
            color = parse_color(token)
            if color is not None:
                return color
    bgcolor = element.get("bgcolor")
    return parse_color(bgcolor) if bgcolor else None


def _blend(top: RGB, alpha: float, bottom: RGB) -> RGB:
    r1, g1, b1 = top
    r2, g2, b2 = bottom
    return (
        r1 * alpha + r2 * (1 - alpha),
        g1 * alpha + g2 * (1 - alpha),
        b1 * alpha + b2 * (1 - alpha),
    )


def background(element: _Element) -> RGB:
    """The colour behind `element`: the nearest opaque background with see-through ones blended
    over it, white when nothing paints one."""
    layers: list[tuple[RGB, float]] = []
    node: _Element | None = element
    while node is not None:
        color = _background_of(node)
        if color is not None and color[1] > 0:
            layers.append(color)
            if color[1] >= 1:
                break
        node = node.getparent()
    result: RGB = (255.0, 255.0, 255.0)
    for rgb, alpha in reversed(layers):
        result = _blend(rgb, alpha, result)
    return result


def foreground(element: _Element, behind: RGB) -> RGB:
    """The text colour of `element` (inherited; black when unset), blended over `behind`."""
    node: _Element | None = element
    while node is not None:
        color = parse_color(_style(node).get("color", "")) if "color" in _style(node) else None
        if color is None and isinstance(node.tag, str) and node.tag == "font" and node.get("color"):
            color = parse_color(node.get("color") or "")
        if color is not None:
            rgb, alpha = color
            return _blend(rgb, alpha, behind)
        node = node.getparent()
    return (0.0, 0.0, 0.0)


def luminance(rgb: RGB) -> float:
    """WCAG relative luminance."""

    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(first: RGB, second: RGB) -> float:
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _inherited(element: _Element, name: str) -> str | None:
    node: _Element | None = element
    while node is not None:
        value = _style(node).get(name)
        if value:
            return value.lower()
        node = node.getparent()
    return None


def _is_large(element: _Element) -> bool:
    size_text = _inherited(element, "font-size") or ""
    match = _SIZE.match(size_text)
    size = float(match.group(1)) * (4 / 3 if match.group(2) == "pt" else 1) if match else 16.0
    weight = _inherited(element, "font-weight") or ""
    bold = weight in ("bold", "bolder") or (weight.isdigit() and int(weight) >= 700)
    if not weight:
        bold = any(
            isinstance(node.tag, str) and node.tag in ("b", "strong", "h1", "h2", "h3", "h4", "th")
            for node in (element, *element.iterancestors())
        )
    return size >= 24 or (bold and size >= 18.66)


def _hides(element: _Element) -> bool:
    """Hidden whatever the descendants say: they cannot undo these."""
    style = _style(element)
    if style.get("display", "").lower() == "none" or element.get("hidden") is not None:
        return True
    if style.get("opacity", "").strip() in ("0", "0.0", "0%"):
        return True
    return style.get("max-height", "").strip() in ("0", "0px") and "hidden" in style.get(
        "overflow", ""
    )


def is_hidden(element: _Element) -> bool:
    """Hidden by the element or an ancestor: display:none, zero opacity or height, or an inherited
    visibility:hidden or font-size:0 that nothing nearer resets (MJML sets font-size:0 on column
    wrappers and resets it inside)."""
    if any(_hides(node) for node in (element, *element.iterancestors())):
        return True
    if (_inherited(element, "visibility") or "") == "hidden":
        return True
    return (_inherited(element, "font-size") or "").strip() in ("0", "0px", "0pt", "0em")


def _own_text(element: _Element) -> str:
    pieces = [element.text or ""]
    pieces.extend(child.tail or "" for child in element)
    return _one_line(" ".join(pieces))


def visible_text_elements(
    tree: _Element, also: _Element | None = None
) -> Iterator[tuple[_Element, str]]:
    """Elements holding text a reader sees, with that text, in reading order (plus `also`,
    e.g. the hidden preheader, where it stands)."""
    body = tree.find("body")
    if body is None:
        return
    for element in body.iter():
        if not isinstance(element.tag, str) or element.tag in _NOT_RENDERED:
            continue
        text = _own_text(element)
        if element is also or (text and not is_hidden(element)):
            yield element, text


# --- Rules ---------------------------------------------------------------------------------


def rule_structure(email: Email) -> Iterator[Finding]:
    """Both parts must be there: some clients show only the text; the other rules need the HTML."""
    if not email.html.strip() or email.tree is None:
        yield _finding("structure", "error", "the message has no readable text/html part")
    if not email.text.strip():
        yield _finding("structure", "error", "the message has no text/plain part")


def rule_size(email: Email) -> Iterator[Finding]:
    size = len(email.html.encode("utf-8"))
    shown = f"the HTML part is {size / 1024:.1f} KB"
    if size > GMAIL_CLIP_BYTES:
        yield _finding(
            "size", "error", f"{shown}: Gmail clips messages over 102 KB (footer hidden)"
        )
    elif size >= SIZE_WARNING_BYTES:
        yield _finding("size", "warning", f"{shown}: close to Gmail's 102 KB clipping limit")
    else:
        yield _finding("size", "info", f"{shown} (Gmail clips at 102 KB)")


def rule_document(email: Email) -> Iterator[Finding]:
    """`lang` lets screen readers pick a voice; the title names the tab; one h1 tops the outline."""
    if email.tree is None:
        return
    if not (email.tree.get("lang") or "").strip():
        yield _finding("document", "error", "<html> has no lang attribute")
    title = email.tree.find("head/title")
    if title is None or not _one_line(title.text_content()):
        yield _finding("document", "error", "no <title> (or an empty one) in <head>")
    headings = [_one_line(h.text_content()) for h in email.tree.iter("h1")]
    if len(headings) != 1:
        found = f": {_examples(headings)}" if headings else ""
        yield _finding(
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
        yield _finding(
            "images", "error", f"{len(no_alt)} image(s) without alt: {_examples(no_alt)}"
        )
    if no_size:
        yield _finding(
            "images",
            "warning",
            f"{len(no_size)} image(s) without width/height: {_examples(no_size)}",
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
            yield _finding(
                "urls", severity, f"{len(urls)} link/image URL(s) {what}: {_examples(urls)}"
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
        needed = CONTRAST_LARGE if _is_large(element) else CONTRAST_NORMAL
        if ratio < needed:
            failures.setdefault((_hex(ink), _hex(behind), needed), []).append((ratio, text))
    for (ink, behind, needed), cases in failures.items():
        ratio = min(r for r, _ in cases)
        yield _finding(
            "contrast",
            "error",
            f"{ink} on {behind} is {ratio:.2f}:1 (AA needs {needed:g}:1) in {len(cases)} place(s): "
            f"{_examples([text for _, text in cases])}",
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
        elif (family := _style(element).get("font-family")) is not None:
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
        yield _finding(
            "fonts",
            "warning",
            f"{len(bad)} font stack(s) not ending in a generic family: {_examples(bad)}",
        )


def rule_preheader(email: Email) -> Iterator[Finding]:
    """The preheader is the inbox's second line. Hiding it with a colour equal to the background
    is a classic spam signal; hide it by zero size instead."""
    preheader = _one_line(email.issue.preheader)
    if not preheader:
        yield _finding(
            "preheader", "error", "the issue has no preheader (inboxes show the body's first words)"
        )
        return
    if email.tree is None:
        return
    holder = None
    for element in email.tree.iter():
        if (
            isinstance(element.tag, str)
            and element.tag not in _NOT_RENDERED
            and preheader in _own_text(element)
        ):
            holder = element
            break
    if holder is None:
        yield _finding(
            "preheader", "error", f"the preheader {_shorten(preheader)!r} is not in the HTML"
        )
        return
    behind = background(holder)
    ratio = contrast_ratio(foreground(holder, behind), behind)
    if not is_hidden(holder) and ratio < 1.5:
        yield _finding(
            "preheader",
            "error",
            f"the preheader is hidden by a colour trick ({ratio:.2f}:1 against its background); "
            "hide it with font-size:0, line-height:0 and max-height:0 instead",
        )
    first = next((el for el, _ in visible_text_elements(email.tree, also=holder)), None)
    if first is not None and first is not holder:
        yield _finding(
            "preheader",
            "warning",
            f"text {_shorten(_own_text(first))!r} comes before the preheader; "
            "inboxes show the first text",
        )


def _squash(text: str) -> str:
    return _one_line(text).casefold()


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
                missing.append(f"title of {_shorten(story.title)!r}")
            elif url and not has_url(url):
                missing.append(f"link of {_shorten(story.title)!r}")
        if missing:
            yield _finding(
                "stories", "error", f"the {part} part lacks {len(missing)}: {_examples(missing)}"
            )


def rule_unsubscribe(email: Email) -> Iterator[Finding]:
    """A visible unsubscribe link in each part: the law (CAN-SPAM, GDPR), and fewer spam reports."""
    if email.tree is None:
        return
    prefix = email.unsubscribe_prefix
    links = [a for a in email.tree.iter("a") if (a.get("href") or "").startswith(prefix)]
    visible = [a for a in links if _one_line(a.text_content()) and not is_hidden(a)]
    if not links:
        yield _finding("unsubscribe", "error", f"no link to {prefix}… in the HTML part")
    elif not visible:
        yield _finding(
            "unsubscribe", "error", "the HTML part's unsubscribe link is hidden or has no text"
        )
    if prefix not in email.text:
        yield _finding("unsubscribe", "error", f"no {prefix}… link in the text part")


def rule_headers(email: Email) -> Iterator[Finding]:
    """RFC 8058 one-click unsubscribe needs an https List-Unsubscribe and List-Unsubscribe-Post;
    Gmail and Yahoo require both from bulk senders. List-Id lets readers filter."""
    message = email.message
    for name in ("From", "To", "Subject", "Date", "Message-ID", "List-Id"):
        if not str(message.get(name, "")).strip():
            yield _finding("headers", "error", f"no {name} header")
    unsubscribe = str(message.get("List-Unsubscribe", ""))
    uris = re.findall(r"<([^>]*)>", unsubscribe)
    if not uris:
        yield _finding("headers", "error", "no List-Unsubscribe header")
    else:
        if not any(uri.lower().startswith("https://") for uri in uris):
            yield _finding(
                "headers", "error", "List-Unsubscribe has no https URI (RFC 8058 one-click)"
            )
        if not any(uri.lower().startswith("mailto:") for uri in uris):
            yield _finding("headers", "warning", "List-Unsubscribe has no mailto: URI")
    post = " ".join(str(message.get("List-Unsubscribe-Post", "")).split())
    if post != "List-Unsubscribe=One-Click":
        yield _finding(
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
        yield _finding("dark-mode", "warning", "no @media (prefers-color-scheme: dark) styles")
    metas = [m for m in email.tree.iter("meta") if (m.get("name") or "").lower() == "color-scheme"]
    if not metas:
        yield _finding("dark-mode", "warning", 'no <meta name="color-scheme"> in <head>')


def rule_spam(email: Email) -> Iterator[Finding]:
    """SpamAssassin offline: a positive score is worth a look, above 3 risks the junk folder."""
    if not spamassassin_available():
        yield _finding("spam", "info", "spamassassin is not installed; spam score not checked")
        return
    try:
        report = spam_score(email.raw)
    except DigestError as exc:
        yield _finding("spam", "warning", str(exc))
        return
    fired = [f"{r.name} {r.points:+g}" for r in report.rules if r.points != 0]
    detail = f" ({', '.join(fired)})" if fired else ""
    severity: Severity = "info"
    if report.score > SPAM_ERROR:
        severity = "error"
    elif report.score > SPAM_WARNING:
        severity = "warning"
    yield _finding("spam", severity, f"SpamAssassin score {report.score:g}{detail}")


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


def check_email(email: Email, *, spam: bool = True) -> list[Finding]:
    """Every rule's findings, errors first; `spam=False` skips SpamAssassin (a second or two)."""
    rules = (*RULES, rule_spam) if spam else RULES
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
