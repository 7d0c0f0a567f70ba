"""The email's fixed wording and its date in the issue's language (`DIGEST_LANGUAGE`).

Wording comes from gettext catalogs in `digest/locale/LANG.po`, read with Babel; dates from CLDR
through Babel. A language without a catalog keeps the English wording (the templates' own
strings), so a newsroom can also translate by copying `templates/` (DIGEST_TEMPLATES_DIR).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import babel
import babel.dates
from babel.messages.pofile import read_po

CATALOGS = Path(__file__).parent / "locale"
FALLBACK_LOCALE = "en"


def _candidates(language: str) -> list[str]:
    """'pt-BR' -> ['pt_BR', 'pt']: the most specific catalog or locale first."""
    parts = language.replace("-", "_").split("_")
    return ["_".join(parts[:n]) for n in range(len(parts), 0, -1)]


@functools.cache
def _messages(language: str) -> Mapping[str, str]:
    for name in _candidates(language):
        path = CATALOGS / f"{name}.po"
        if path.is_file():
            with path.open("rb") as handle:
                catalog = read_po(handle)
            return {
                str(message.id): str(message.string)
                for message in catalog
                if message.id and message.string and not message.fuzzy
            }
    return {}


def catalog_languages() -> list[str]:
    """The languages the email's wording exists in."""
    return sorted([FALLBACK_LOCALE, *(path.stem for path in CATALOGS.glob("*.po"))])


def has_catalog(language: str) -> bool:
    """Whether the wording exists in `language` (English always does)."""
    return _candidates(language)[-1] == "en" or bool(_messages(language))


def translator(language: str) -> Callable[..., str]:
    """`_("By %(author)s", author=...)` for the templates: the translated text, formatted."""
    messages = _messages(language)

    def gettext(message: str, **values: object) -> str:
        text = messages.get(message, message)
        return text % values if values else text

    return gettext


@functools.cache
def _locale(language: str) -> babel.Locale:
    for name in _candidates(language):
        try:
            return babel.Locale.parse(name)
        except (ValueError, babel.UnknownLocaleError):
            continue
    return babel.Locale.parse(FALLBACK_LOCALE)


def long_date(day: dt.date, language: str) -> str:
    """The date as a reader of `language` says it, e.g. 'Thursday, November 26, 2026' or
    'Donnerstag, 26. November 2026'."""
    return babel.dates.format_date(day, format="full", locale=_locale(language))


def issue_language(configured: str | None, story_languages: Iterable[str]) -> str:
    """The issue's language: DIGEST_LANGUAGE when set, else the one most of its stories' sources
    declare (the first story, the lead, breaks a tie), else English."""
    if configured:
        return configured
    declared = Counter(language for language in story_languages if language)
    if not declared:
        return FALLBACK_LOCALE
    primary = Counter()
    for language, count in declared.items():
        primary[_primary(language)] += count
    # Counter.most_common keeps first-seen order among equals: the lead wins a tie.
    chosen = primary.most_common(1)[0][0]
    return next(language for language, _ in declared.most_common() if _primary(language) == chosen)


def other_language(story_language: str, issue_language: str) -> str:
    """`story_language` when it is another language than the issue's (its text then needs its own
    `lang`), "" when it is the same language or unknown; regional variants are the same."""
    if not story_language or _primary(story_language) == _primary(issue_language):
        return ""
    return story_language


def _primary(language: str) -> str:
    return language.replace("_", "-").split("-")[0].lower()
