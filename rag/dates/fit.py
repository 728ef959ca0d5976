"""How a passage or a sentence fits the period a question names: one ``Fit``, decided here and read by
retrieval (which lifts or lowers the passage), the answer features, the matching events and answerability."""

from __future__ import annotations

from datetime import date
from enum import Enum

from rag.dates.events import EventDate
from rag.dates.periods import Period


class Fit(Enum):
    INSIDE = "inside"  # an event date it states falls in the period, or its article is dated in it
    POSSIBLE = "possible"  # undated, but its article names the period's month or day without a year ("until March 23")
    UNDATED = "undated"  # undated, and nothing in it says when
    OUTSIDE = "outside"  # dated outside the period

    @property
    def lift(self) -> float:
        """How much the fit moves a passage's retrieval score. Strong enough that "the March 2023 missiles"
        prefers the March 2023 article over a similar one from 2021, weak enough not to bury a far better
        match; an undated article that names the month without a year may be in the period."""
        return _LIFTS[self]


_LIFTS = {Fit.INSIDE: 1.5, Fit.POSSIBLE: 1.2, Fit.UNDATED: 1.0, Fit.OUTSIDE: 0.5}


def lift(fit: Fit | None) -> float:
    """The retrieval lift of a passage's fit; 1 when the question names no period."""
    return 1.0 if fit is None else fit.lift


def passage_fit(period: Period, day: date | None, dates: tuple[EventDate, ...] = (),
                article_dates: tuple[EventDate, ...] = ()) -> tuple[Fit, str]:
    """How a passage fits, and the date that decided it: inside when an event date it states falls in
    the period or its article is dated in it; possible when undated but its article names the period's
    month or day without a year. ``dates``: the passage's event dates; ``article_dates``: every event
    date of its article; ``day``: the article's date."""
    for event in dates:
        if period.overlaps(event):
            return Fit.INSIDE, f"event date {event.label()} (\"{event.phrase}\")"
    if period.contains(day):
        return Fit.INSIDE, f"article date {day.isoformat()}"
    if day is None:
        for event in (*dates, *article_dates):
            if period.may_hold(event):
                return Fit.POSSIBLE, f"\"{event.phrase}\", {event.label()}"
        return Fit.UNDATED, ""
    return Fit.OUTSIDE, ""


def sentence_fit(period: Period, day: date | None, dates: tuple[EventDate, ...], passage: Fit | None,
                 passage_evidence: str) -> tuple[Fit, str]:
    """A sentence's fit and the date that decided it: by its own event dates or its article's date
    ``day`` first; a sentence dated outside the period is outside; one that names no date fits as its
    passage does (``passage``: another sentence of it, or a partial date elsewhere in an undated article)."""
    own = passage_fit(period, day, dates)
    if own[0] in (Fit.INSIDE, Fit.POSSIBLE):
        return own
    if any(event.first is not None for event in dates):
        return Fit.OUTSIDE, ""  # it says when it happened, and that is not in the period
    return (passage, passage_evidence) if passage is not None else own
