"""Render stage: Issue -> MJML (Jinja2) -> HTML (mjml-python) -> CSS inlined (premailer), plus text.

The issue is rendered once for every recipient: the unsubscribe link carries TOKEN_PLACEHOLDER,
which the message stage swaps for each subscriber's token.
"""

from __future__ import annotations

import functools
import logging
import re
import textwrap
import traceback
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import jinja2
import markupsafe
import mjml
import premailer
from pydantic import BaseModel, ConfigDict

from digest.config import Settings
from digest.errors import BuildError, ConfigError
from digest.models import TOKEN_PLACEHOLDER, Image, Issue, RenderedEmail, Story
from digest.wording import long_date, other_language, translator

HTML_TEMPLATE = "newsletter.mjml.j2"
TEXT_TEMPLATE = "newsletter.txt.j2"
TEXT_WIDTH = 72
UNKNOWN_SHAPE = 2 / 3
"""Height over width assumed for a picture whose size could not be read."""

_WEB_SCHEMES = ("http", "https")
_CONTROL = re.compile("[\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
# What MJML and lxml cannot hold (control characters, lone surrogates, U+FFFE/U+FFFF); white space
# among the controls (tab, \x1c–\x1f…) is folded to a space instead.
_UNSHOWABLE = re.compile("[\x00-\x08\x0e-\x1b\x7f\ud800-\udfff\ufffe\uffff]")
_BLANK_LINES = re.compile(r"\n{3,}")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_EMPTY_TITLE = re.compile(r"<title>\s*</title>")
# MJML's reset block (`#outlook a`, `table, td`, `img`, `p`) is meant to stay in <head>; inlining
# it would repeat it on every table cell and add about a fifth to the size.
_MJML_RESET_STYLE = re.compile(r'<style type="text/css">(?=\s*#outlook a)')


class Palette(BaseModel):
    """The colours of one colour scheme; the templates take every colour from here, so tests can
    check the contrast of exactly what is sent."""

    model_config = ConfigDict(frozen=True)

    page: str
    card: str
    ink: str
    text: str
    muted: str
    accent: str
    on_accent: str
    rule: str


LIGHT = Palette(
    page="#f3f1ec",
    card="#ffffff",
    ink="#151515",
    text="#2e2e2e",
    muted="#5e5e5e",
    accent="#a8001e",
    on_accent="#ffffff",
    rule="#e4e0d8",
)
DARK = Palette(
    page="#0f0f0f",
    card="#1c1c1c",
    ink="#f2f2f2",
    text="#dedede",
    muted="#a9a9a9",
    accent="#ff8a80",
    on_accent="#ffffff",
    rule="#3a3a3a",
)


class Picture(BaseModel):
    """An image ready for the template: a usable src and an alt text that is never empty."""

    model_config = ConfigDict(frozen=True)

    src: str
    alt: str
    caption: str
    credit: str
    width: int | None
    height: int | None

    def height_at(self, width: int) -> int:
        """Height at `width` px wide, so the box is reserved undistorted. A picture whose size
        could not be read gets the commonest photo shape (3:2): Outlook lays out by the
        attributes, and without a height MJML writes `height="auto"`, which it reads as the
        picture's full height; other clients follow the CSS `height:auto`."""
        if not self.width or not self.height:
            return max(1, round(width * UNKNOWN_SHAPE))
        return max(1, round(self.height * width / self.width))


class StoryView(BaseModel):
    """A story as the templates show it: URLs checked, text split into paragraphs."""

    model_config = ConfigDict(frozen=True)

    title: str
    url: str | None
    teaser: list[str]
    kicker: str
    author: str
    image: Picture | None
    lang: str
    """The story's own language when it is not the issue's ("" otherwise): its `lang` attribute."""


def default_templates_dir() -> Path:
    """Our templates: in the package when installed from a wheel, else the repo's."""
    package_dir = Path(__file__).resolve().parent
    packaged = package_dir / "templates"
    if packaged.is_dir():
        return packaged
    return package_dir.parent / "templates"


def _clean_url(url: str) -> str:
    """Drop control characters (browsers ignore tabs and newlines, so `java\nscript:` would run)
    and what no email can hold, and encode inner spaces, which some clients cut links at."""
    return _CONTROL.sub("", url).strip().replace(" ", "%20")


def web_url(url: str) -> str | None:
    """The URL if absolute http(s); anything else (javascript:, data:, relative) never links."""
    cleaned = _clean_url(url)
    parts = urlsplit(cleaned)
    if parts.scheme.lower() in _WEB_SCHEMES and parts.netloc:
        return cleaned
    return None


def image_src(url: str, asset_base_url: str | None) -> str | None:
    """Where the email loads an image from: absolute URLs as they are; relative ones stay relative
    for the preview beside them or are joined onto `asset_base_url` for sent mail; other schemes
    are dropped."""
    cleaned = _clean_url(url)
    if cleaned.startswith("//"):
        cleaned = "https:" + cleaned
    parts = urlsplit(cleaned)
    if parts.scheme:
        return web_url(cleaned)
    if not parts.path:
        return None
    if asset_base_url is None:
        return cleaned
    return urljoin(asset_base_url.rstrip("/") + "/", cleaned.lstrip("/"))


def _showable(text: str) -> str:
    """Text as the email shows it: one line, without characters no email can hold."""
    return " ".join(_UNSHOWABLE.sub("", text).split())


def _picture(image: Image | None, title: str, asset_base_url: str | None) -> Picture | None:
    if image is None:
        return None
    src = image_src(image.url, asset_base_url)
    if src is None:
        return None
    return Picture(
        src=src,
        alt=_showable(image.alt) or _showable(image.caption) or _showable(title),
        caption=_showable(image.caption),
        credit=_showable(image.credit),
        width=image.width,
        height=image.height,
    )


def _story_view(story: Story, language: str, asset_base_url: str | None) -> StoryView:
    paragraphs = [_showable(p) for p in _PARAGRAPH_BREAK.split(story.teaser)]
    return StoryView(
        lang=other_language(story.language, language),
        title=_showable(story.title),
        url=web_url(story.url),
        teaser=[p for p in paragraphs if p],
        kicker=_showable(story.kicker),
        author=_showable(story.author),
        image=_picture(story.image, story.title, asset_base_url),
    )


def wrap(text: str, width: int = TEXT_WIDTH) -> str:
    """Wrap plain text for the text part; long words (URLs) stay whole rather than break."""
    return textwrap.fill(
        " ".join(text.split()), width=width, break_long_words=False, break_on_hyphens=False
    )


def nobreak(text: str) -> str:
    """Keep a short label's words on one line."""
    return text.replace(" ", "\u00a0")


def _is_text_template(name: str | None) -> bool:
    return bool(name) and str(name).endswith(".txt.j2")


def environment(settings: Settings) -> jinja2.Environment:
    """Jinja2 over the user's templates (if any), falling back to ours; escaping all but text."""
    if settings.templates_dir is not None and not settings.templates_dir.is_dir():
        raise ConfigError(f"DIGEST_TEMPLATES_DIR: {settings.templates_dir} is not a folder")
    return _environment_for(settings.templates_dir, default_templates_dir())


@functools.lru_cache(maxsize=8)
def _environment_for(user_dir: Path | None, our_dir: Path) -> jinja2.Environment:
    """One environment per templates folder, so templates compile once per process; Jinja's
    auto_reload still notices a template changed on disk."""
    loaders: list[jinja2.BaseLoader] = []
    if user_dir is not None:
        loaders.append(jinja2.FileSystemLoader(user_dir))
    loaders.append(jinja2.FileSystemLoader(our_dir))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=lambda name: not _is_text_template(name),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=True,
    )
    env.filters["wrap"] = wrap
    env.filters["nobreak"] = nobreak
    return env


def _shown_path(filename: str | None, fallback: str) -> str:
    if not filename:
        return fallback
    path = Path(filename)
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _template_error(exc: jinja2.TemplateError, name: str) -> BuildError:
    """One line naming the template file and line, whatever kind of Jinja error it was."""
    filename: str | None = None
    line: int | None = None
    if isinstance(exc, jinja2.TemplateSyntaxError):
        filename, line = exc.filename, exc.lineno
    else:
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            if frame.f_code.co_filename.endswith(".j2"):
                filename, line = frame.f_code.co_filename, lineno
    where = _shown_path(filename, name) + (f":{line}" if line else "")
    message = exc.message or type(exc).__name__
    if isinstance(exc, jinja2.TemplateNotFound):
        message = f"template not found: {exc.name}"
    return BuildError(f"{where}: {message.splitlines()[0]}")


def render_template(
    env: jinja2.Environment, name: str, context: dict[str, object]
) -> tuple[str, str]:
    """The rendered text and the file it came from."""
    try:
        template = env.get_template(name)
        return template.render(context), _shown_path(template.filename, name)
    except jinja2.TemplateError as exc:
        raise _template_error(exc, name) from None


def mjml_to_html(source: str, origin: str, title: str = "") -> str:
    """Email HTML from MJML: compiled by mjml-python, then CSS inlined while media queries stay
    in <style>. `origin` names the template in errors; `title` fills a <title> that the template
    left empty (mj-title would also label the body wrapper). Public so benchmarks compile other
    MJML exactly the same way."""
    try:
        html = mjml.mjml2html(source, disable_comments=True, fonts={})
    except ValueError as exc:
        detail = " ".join(str(exc).split()) or "invalid MJML"
        raise BuildError(f"{origin}: MJML error: {detail}") from None
    if title:
        html = _EMPTY_TITLE.sub(lambda _: f"<title>{markupsafe.escape(title)}</title>", html, 1)
    return inline_css(html)


def inline_css(html: str) -> str:
    """Inline the CSS (some clients drop <style>), keeping the media queries that need classes."""
    # premailer keeps a doctype only when it matches lxml's own spelling exactly.
    body = re.sub(r"^\s*<!doctype html>", "<!DOCTYPE html>", html, flags=re.IGNORECASE)
    body = _MJML_RESET_STYLE.sub('<style type="text/css" data-premailer="ignore">', body, count=1)
    inliner = premailer.Premailer(
        body,
        keep_style_tags=True,
        strip_important=False,
        cssutils_logging_level=logging.CRITICAL,
        disable_basic_attributes=["width", "height", "align", "bgcolor", "valign", "background"],
        allow_network=False,
        disable_validation=True,
    )
    try:
        out = inliner.transform(pretty_print=False)
    except Exception as exc:  # premailer raises assorted errors from lxml and cssutils
        raise BuildError(f"CSS inlining failed: {exc}") from None
    if not out.lstrip().lower().startswith("<!doctype html>"):
        out = "<!DOCTYPE html>\n" + out
    return out


def tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip() + "\n"


def template_context(
    issue: Issue, settings: Settings, asset_base_url: str | None = None
) -> dict[str, object]:
    """What both templates see: the issue's stories made safe to show, the footer, the palettes."""
    view_online = settings.view_online_url.format(date=issue.date.isoformat())
    return {
        "issue": issue,
        "newsletter": _showable(issue.newsletter),
        "language": issue.language,
        "subject": _showable(issue.subject),
        "preheader": _showable(issue.preheader),
        "date_text": long_date(issue.date, issue.language),
        "_": translator(issue.language),
        "lead": _story_view(issue.lead, issue.language, asset_base_url),
        "more": [_story_view(story, issue.language, asset_base_url) for story in issue.more],
        "postal_address": _showable(settings.postal_address),
        "unsubscribe_url": settings.unsubscribe_url.format(token=TOKEN_PLACEHOLDER),
        "view_online_url": web_url(view_online) if view_online else None,
        "light": LIGHT,
        "dark": DARK,
    }


def render_email(
    issue: Issue, settings: Settings, *, asset_base_url: str | None = None
) -> RenderedEmail:
    """Both bodies of the issue, once for all recipients (unsubscribe holds TOKEN_PLACEHOLDER)."""
    if asset_base_url is not None and web_url(asset_base_url) is None:
        raise BuildError(f"asset base URL {asset_base_url!r} is not an absolute http(s) URL")
    env = environment(settings)
    context = template_context(issue, settings, asset_base_url)
    source, origin = render_template(env, HTML_TEMPLATE, context)
    html = mjml_to_html(source, origin, title=_showable(issue.subject))
    text, _ = render_template(env, TEXT_TEMPLATE, context)
    return RenderedEmail(html=html, text=tidy_text(text))
