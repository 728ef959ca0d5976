"""Periods that questions name ("in March 2023", "March 24, 2023", "last year"), and the dates given on
the command line (``--since``/``--until``). Relative periods count from ``today``."""

from __future__ import annotations

import calendar
import dataclasses
import re
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta

from rag.dates.events import EventDate
from rag.errors import InvalidInputError

_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
# The words of month and weekday names: parts of dates, which the date rules read, rather than names of things.
CALENDAR_WORDS = frozenset(_MONTHS) | frozenset(day.lower() for day in calendar.day_name)
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?P<year>(?:19|20)\d{2})"
_PATTERNS = (
    ("day", re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+{_YEAR}\b", re.I)),
    ("day", re.compile(rf"\b(?P<day>\d{{1,2}})\s+{_MONTH}\s+{_YEAR}\b", re.I)),
    ("day", re.compile(r"\b(?P<year>(?:19|20)\d{2})-(?P<month>\d{2})-(?P<day>\d{2})\b")),
    ("month", re.compile(rf"\b{_MONTH}\s+(?:of\s+)?{_YEAR}\b", re.I)),
    ("year", re.compile(rf"\b{_YEAR}\b")),
)
_RELATIVE = re.compile(r"\b(?P<which>last|this|past|previous)\s+(?P<unit>year|month)\b", re.I)


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    granularity: str  # "day", "month" or "year"
    phrase: str = ""  # the words of the question that name it

    def contains(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end

    def overlaps(self, event: EventDate) -> bool:
        """Whether a resolved event date falls in this period: wholly, or partly for a date of a week or
        less ("last week" for a day in it). "2022" does not put a sentence in January 2022."""
        if event.first is None or event.first > self.end or event.last < self.start:
            return False
        return (self.start <= event.first and event.last <= self.end) or (event.last - event.first).days < 7

    def may_hold(self, event: EventDate) -> bool:
        """Whether a date whose year is unknown ("March 23") may fall in this period: same month, and same
        day if both name one."""
        if event.first is not None or event.month is None or self.granularity == "year":
            return False
        same_day = self.granularity != "day" or event.day is None or event.day == self.start.day
        return event.month == self.start.month and same_day


def find_period(question: str, today: date | None = None) -> Period | None:
    """The first period the question names, or None."""
    for granularity, pattern in _PATTERNS:
        match = pattern.search(question)
        if match:
            try:
                return dataclasses.replace(_period(granularity, match), phrase=match.group())
            except ValueError:
                continue  # "February 30, 2021"
    relative = _RELATIVE.search(question)
    if relative:
        today = today or date.today()
        unit = relative.group("unit").lower()
        back = 0 if relative.group("which").lower() == "this" else 1
        anchor = today - (relativedelta(years=back) if unit == "year" else relativedelta(months=back))
        if unit == "year":
            period = Period(date(anchor.year, 1, 1), date(anchor.year, 12, 31), "year")
        else:
            period = _month(anchor.year, anchor.month)
        return dataclasses.replace(period, phrase=relative.group())
    return None


def _period(granularity: str, match: re.Match) -> Period:
    year = int(match.group("year"))
    if granularity == "year":
        return Period(date(year, 1, 1), date(year, 12, 31), "year")
    month_text = match.group("month").lower().rstrip(".")
    month = int(month_text) if month_text.isdigit() else _MONTHS[month_text]
    if granularity == "month":
        return _month(year, month)
    day = date(year, month, int(match.group("day")))
    return Period(day, day, "day")


def _month(year: int, month: int) -> Period:
    return Period(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]), "month")


def as_date(value: date | str | None, name: str) -> date | None:
    """A --since/--until value as a date: a date, an ISO string, or None; anything else is an error naming the flag."""
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(f"--{name} {value!r} is not a date; write it as YYYY-MM-DD") from None
