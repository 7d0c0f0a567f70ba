"""When a feed item was published, from the dates feeds really write: RFC 822 and ISO 8601
(feedparser's), month and weekday names in other languages, and dates spelled out in words.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import time
from typing import Any

from digest.sources.items import aware

# Month names (and their usual abbreviations) as Portuguese, Spanish, French, German, Italian
# and Dutch sites write them in RSS dates, by their English RFC 822 abbreviation.
LOCAL_MONTHS = {
    **dict.fromkeys(("jan", "janv", "ene", "gen", "jän", "jänner"), "Jan"),
    **dict.fromkeys(("fev", "févr", "fevr", "feb"), "Feb"),
    **dict.fromkeys(("mar", "mars", "mär", "märz", "mrz", "mrt"), "Mar"),
    **dict.fromkeys(("abr", "avr", "apr"), "Apr"),
    **dict.fromkeys(("mai", "may", "mag", "mei"), "May"),
    **dict.fromkeys(("jun", "juin", "giu"), "Jun"),
    **dict.fromkeys(("jul", "juil", "lug"), "Jul"),
    **dict.fromkeys(("ago", "août", "aout", "aug"), "Aug"),
    **dict.fromkeys(("set", "sep", "sept"), "Sep"),
    **dict.fromkeys(("out", "oct", "okt", "ott"), "Oct"),
    **dict.fromkeys(("nov",), "Nov"),
    **dict.fromkeys(("dez", "dic", "déc", "dec"), "Dec"),
}

_WEEKDAY = re.compile(r"^[^\W\d_]{2,12}\.?,\s*")

_WORD = re.compile(r"[^\W\d_]{3,9}\.?")

# "24 Set 2018 19:42:40 -0300" once the weekday is gone: day, month, year, time, optional zone.
_RFC822_SHAPE = re.compile(
    r"\d{1,2}\s+[^\W\d_]{3,9}\.?\s+\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s+\S+)?$"
)

SPELLED_OUT_LAYOUTS = (
    "%B %d, %Y %I:%M %p",
    "%B %d, %Y %I:%M:%S %p",
    "%B %d, %Y %H:%M",
    "%B %d, %Y %H:%M:%S",
    "%b %d, %Y %I:%M %p",
    "%d %B %Y %H:%M",
    "%B %d, %Y",
)


def published(entry: Any) -> dt.datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # dict.get: feedparser's own lookup maps a missing key to another, with a warning.
        moment: time.struct_time | None = dict.get(entry, key)
        if moment:
            try:
                return dt.datetime(*moment[:6], tzinfo=dt.UTC)
            except (TypeError, ValueError):
                continue
    for key in ("published", "updated", "created"):
        value = dict.get(entry, key)
        moment = _localized_rfc822(value) or _spelled_out(value)
        if moment:
            return moment
    return None


def _spelled_out(value: object) -> dt.datetime | None:
    """A date some CMSs write in words rather than RFC 822 ("Friday, January 29, 2021 04:42 PM"),
    read only in these unambiguous English layouts; taken as UTC when it names no zone."""
    if not isinstance(value, str):
        return None
    text = " ".join(_WEEKDAY.sub("", value.strip(), count=1).split())
    for layout in SPELLED_OUT_LAYOUTS:
        try:
            return aware(dt.datetime.strptime(text, layout)).astimezone(dt.UTC)
        except ValueError:
            continue
    return None


def _localized_rfc822(value: object) -> dt.datetime | None:
    """An RFC 822 date whose CMS wrote the day and month in the site's language, which
    feedparser cannot read: "Seg, 24 Set 2018 19:42:40 -0300", "Di, 05 Mär 2024 …"."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = _WEEKDAY.sub("", value.strip(), count=1)
    if not _RFC822_SHAPE.match(text):
        return None
    text = _WORD.sub(lambda word: _month(word.group(0)), text)
    try:
        return aware(email.utils.parsedate_to_datetime(text)).astimezone(dt.UTC)
    except (TypeError, ValueError, IndexError, OverflowError):  # 31 Dez 9999 23:00 -1400
        return None


def _month(word: str) -> str:
    key = word.casefold().rstrip(".")
    for size in (len(key), 4, 3):
        if key[:size] in LOCAL_MONTHS:
            return LOCAL_MONTHS[key[:size]]
    return word
