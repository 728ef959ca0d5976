"""Every date rule: the periods questions name, the dates sentences talk about (resolved against their
article's date), publication and inferred article dates, and how a passage fits a named period."""

from rag.dates.events import EventDate, day_of_iso, event_dates, inferred_date, iso_day, published_date
from rag.dates.fit import Fit, lift, passage_fit, sentence_fit
from rag.dates.periods import CALENDAR_WORDS, Period, as_date, find_period

__all__ = ["CALENDAR_WORDS", "EventDate", "Fit", "Period", "as_date", "day_of_iso", "event_dates", "find_period",
           "inferred_date", "iso_day", "lift", "passage_fit", "published_date", "sentence_fit"]
