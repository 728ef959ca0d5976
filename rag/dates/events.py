"""The dates an article's sentences talk about ("on Thursday", "last month", "March 23"), resolved against
the article's date; publication dates as dumps and feeds write them; and a date inferred for an undated
article from the dates its text states.

Phrases are found by the patterns below and resolved by ``dateparser`` against the article's date.
"""

from __future__ import annotations

import calendar
import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, time

from dateutil.relativedelta import relativedelta


@dataclass(frozen=True)
class EventDate:
    """A date a sentence talks about ("on Tuesday", "last month", "March 23"), resolved against its
    article's date: the days it covers, or only a month (and day) when the year is unknown."""

    phrase: str  # the words of the sentence
    first: date | None = None
    last: date | None = None
    month: int | None = None  # for a date whose year is unknown: "March 23, year unknown"
    day: int | None = None

    def stored(self) -> list:
        """As the index stores it: [phrase, first, last, month, day], dates in ISO form."""
        return [self.phrase, iso_day(self.first), iso_day(self.last), self.month, self.day]

    @classmethod
    def from_stored(cls, values: list) -> EventDate:
        phrase, first, last, month, day = values
        return cls(phrase, day_of_iso(first), day_of_iso(last), month, day)

    def label(self) -> str:
        if self.first is None:
            month = calendar.month_name[self.month or 1]
            return f"{month} {self.day}, year unknown" if self.day else f"{month}, year unknown"
        if self.first == self.last:
            return self.first.isoformat()
        return f"{self.first.isoformat()} to {self.last.isoformat()}"


def published_date(value: str) -> date | None:
    """A publication date as dumps and feeds write it ("2023-03-27", "2023-03-27T09:00:00Z",
    "Mon, 27 Mar 2023 09:00:00 GMT", "20230327"), or None when there is none to be read."""
    from dateutil import parser

    if not value or not value.strip():
        return None
    try:
        return parser.parse(value.strip(), fuzzy=False).date()
    except (ValueError, OverflowError):
        return None


# Date phrases in article sentences. Months and weekdays must be capitalised ("may", "a march" are
# not dates); relative words may open a sentence ("Last year, ..."). dateparser resolves each phrase.
_MONTH_NAMES = "|".join(sorted((*calendar.month_name[1:], *calendar.month_abbr[1:], "Sept"), key=len, reverse=True))
_NAMED_MONTH = rf"(?:{_MONTH_NAMES})\b\.?"
_WEEKDAY = "(?:" + "|".join(calendar.day_name) + r")\b"
_A_YEAR = r"(?:19|20)\d{2}\b"
_COUNT = r"(?i:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten)"
_EVENT_PHRASE = re.compile("|".join((
    rf"\b{_NAMED_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+{_A_YEAR}",  # March 23, 2023
    rf"\b\d{{1,2}}\s+{_NAMED_MONTH}\s+{_A_YEAR}",  # 23 March 2023
    r"\b(?:19|20)\d{2}-\d{2}-\d{2}\b",  # 2023-03-23
    rf"\b{_NAMED_MONTH}\s+(?:of\s+)?{_A_YEAR}",  # March 2023
    rf"\b{_NAMED_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?!,?\s*\d)",  # March 23
    r"\b(?i:(?:last|this|next|past|previous|earlier this|later this)\s+(?:week|month|year))\b",
    r"\b(?i:yesterday|today|tomorrow)\b",
    rf"\b{_COUNT}\s+(?i:days?|weeks?|months?|years?)\s+(?i:ago)\b",
    rf"\b(?:(?i:last|next)\s+)?{_WEEKDAY}",  # Tuesday, last Friday
    # in January
    rf"\b(?i:in|since|until|by|early|late|last|this|next)\s+(?:{'|'.join(calendar.month_name[1:])})\b(?!\.?\s*\d)",
    rf"\b{_A_YEAR}",  # 2017
)))
# Words that put a weekday ahead of the article ("is due to dock on Tuesday"), not behind it.
_FUTURE = re.compile(r"\b(?:will|due to|set to|scheduled|expected to|plans? to|is to|are to)\b", re.I)
_SOFTENERS = re.compile(r"^(?:earlier|later)\s+", re.I)  # "earlier this week" is this week
# Two far-apart days to resolve a phrase of an undated article against: a phrase that resolves the
# same against both states its own date; one that keeps its month and day only lacks a year.
_PROBES = (date(2001, 6, 15), date(2011, 6, 15))


def event_dates(sentence: str, published: date | None) -> tuple[EventDate, ...]:
    """The dates a sentence talks about, resolved against its article's date. Without an article date,
    only dates stated in full are resolved; a month or day without a year stays partial ("March 23,
    year unknown") and a weekday or relative phrase cannot be dated."""
    ahead = bool(_FUTURE.search(sentence))
    found = (_resolve(match.group(), published, ahead) for match in _EVENT_PHRASE.finditer(sentence))
    return tuple(event for event in found if event is not None)


def inferred_date(text: str) -> tuple[date, str] | None:
    """A date for an undated article, and its evidence: a full date in its first line (a dateline),
    else the latest full date the text states. The caller must show it as inferred."""
    def full_dates(words: str) -> list[EventDate]:
        return [event for event in event_dates(words, None) if event.first is not None and event.first == event.last]

    dateline = full_dates(text.strip().split("\n", 1)[0][:200])
    if dateline:
        return dateline[0].first, f"inferred from the dateline \"{dateline[0].phrase}\""
    stated = full_dates(text)
    if not stated:
        return None
    latest = max(stated, key=lambda event: event.first)
    return latest.first, f"inferred from the latest date the text states, \"{latest.phrase}\""


# Articles of one day share their phrases ("on Tuesday", "last week"); a small cache keeps memory flat
# over a large dump.
@functools.lru_cache(maxsize=4096)
def _resolve(phrase: str, published: date | None, ahead: bool) -> EventDate | None:
    if phrase.isdigit():  # a year, the commonest date in news, needs no parser
        return EventDate(phrase, date(int(phrase), 1, 1), date(int(phrase), 12, 31))
    if published is not None:
        days = _days_of(phrase, published, ahead)
        return EventDate(phrase, *days) if days else None
    here, there = (_days_of(phrase, probe, ahead) for probe in _PROBES)
    if here is None or there is None:
        return None
    if here == there:
        return EventDate(phrase, *here)
    if re.search(_NAMED_MONTH, phrase) and (here[0].month, here[0].day) == (there[0].month, there[0].day):
        return EventDate(phrase, month=here[0].month, day=here[0].day if here[0] == here[1] else None)
    return None  # relative to a date the article does not give


def _days_of(phrase: str, base: date, ahead: bool) -> tuple[date, date] | None:
    """The first and last day ``phrase`` means, read on ``base``: a weekday is the latest one on or
    before it (the next one when the sentence looks ahead), a month or day without a year the
    nearest one, a week runs Monday to Sunday."""
    words = _SOFTENERS.sub("", phrase)
    weekday = re.search(_WEEKDAY, phrase)
    if weekday and not re.search(r"(?i)\b(?:last|next)\b", phrase) and \
            calendar.day_name[base.weekday()] == weekday.group():
        return base, base  # "on Thursday" in Thursday's paper
    if re.search(_NAMED_MONTH, phrase) and not re.search(r"\d{4}", phrase):
        both = [parsed for parsed in (_parsed(words, base, "past"), _parsed(words, base, "future")) if parsed]
        found = min(both, key=lambda parsed: abs((parsed[0] - base).days), default=None)
    else:
        found = _parsed(words, base, "future" if ahead and weekday else "past")
    if found is None:
        return None
    day, unit = found
    if unit == "week" and not phrase.lower().endswith("ago"):
        monday = day - relativedelta(days=day.weekday())
        return monday, monday + relativedelta(days=6)
    if unit == "month":
        return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])
    if unit == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    return day, day


def _parsed(phrase: str, base: date, prefer: str) -> tuple[date, str] | None:
    from dateparser.date import DateDataParser

    parser = DateDataParser(languages=["en"], settings={
        "RELATIVE_BASE": datetime.combine(base, time()), "PREFER_DATES_FROM": prefer})
    found = parser.get_date_data(phrase)
    return (found.date_obj.date(), found.period) if found.date_obj else None


def iso_day(day: date | None) -> str | None:
    """A day as rag stores and sends it, YYYY-MM-DD; None for none."""
    return day.isoformat() if day else None


def day_of_iso(text: str | None) -> date | None:
    """A stored day back; None (or "", as Milvus keeps a missing one) for none."""
    return date.fromisoformat(text) if text else None
