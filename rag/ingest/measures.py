"""Amounts with their unit, found in a sentence's text: distances ("about 12 kilometres"), durations,
kept whole when they come in parts ("2 hours, 21 minutes and 5 seconds", "two and a half years"), and
sums of money ("450,000 euros", "$3.2 million"). spaCy's small English pipeline tags these unevenly (a
duration as a date, a sum in euros as a bare number, a time in two pieces), so they are read here as
patterns of words and numbers; nothing is keyed to a topic.
"""

from __future__ import annotations

import re

_NUMBER_WORDS = ("a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                 "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
                 "a hundred|hundreds of|several|a few|a couple of|dozens of|a dozen")
_DIGITS = r"\d[\d,]*(?:\.\d+)?"
_NUMBER = rf"(?:{_DIGITS}|(?:{_NUMBER_WORDS})(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?)"
_SCALE = r"(?:\s+(?:thousand|million|billion|trillion|bn|m)\b)?"
_HEDGE = (r"(?:(?:about|around|roughly|approximately|nearly|almost|some|just|over|under|up to|at least|at most|"
          r"more than|less than|fewer than|close to|just over|just under)\s+)?")

_TIME_UNIT = r"(?:seconds?|minutes?|hours?|days?|weeks?|fortnights?|months?|years?|decades?|centuries|century)"
_TIME_PART = rf"{_NUMBER}(?:\s+and\s+a\s+half)?\s+{_TIME_UNIT}\b|(?:a|an)\s+{_TIME_UNIT}\s+and\s+a\s+half\b"
# One part, or several joined by commas and "and": "18 hours, 42 minutes and 9 seconds".
DURATION = re.compile(rf"\b{_HEDGE}(?:{_TIME_PART})(?:(?:\s*,\s*(?:and\s+)?|\s+and\s+)(?:{_TIME_PART}))*", re.I)

_DISTANCE_UNIT = (r"(?:kilomet(?:er|re)s?|km|miles?|met(?:er|re)s?|feet|foot|ft|nautical miles|yards?|"
                  r"centimet(?:er|re)s?|cm)")

DISTANCE = re.compile(rf"\b{_HEDGE}{_NUMBER}(?:\s*(?:-|to)\s*{_NUMBER})?\s*-?\s*{_DISTANCE_UNIT}\b", re.I)
# Said of a measure, not a count: a quantity with this unit is a distance.
DISTANCE_UNIT = re.compile(rf"\b{_DISTANCE_UNIT}\b", re.I)

_CURRENCY = (r"(?:euros?|dollars?|pounds?(?: sterling)?|yen|yuan|francs?|kronor|kroner|krona|rupees?|roubles?|"
             r"rubles?|won|pesos?|reais|rand|dinars?|shekels?|lira)")
MONEY = re.compile(rf"(?:\b{_HEDGE}{_NUMBER}{_SCALE}\s+(?:(?:US|Canadian|Australian|Hong Kong)\s+)?{_CURRENCY}\b"
                   rf"|{_HEDGE}(?:US|C|A)?[$€£¥]\s?{_DIGITS}{_SCALE})", re.I)


def durations(text: str) -> list[tuple[int, int]]:
    return [match.span() for match in DURATION.finditer(text)]


def distances(text: str) -> list[tuple[int, int]]:
    return [match.span() for match in DISTANCE.finditer(text)]


def sums_of_money(text: str) -> list[tuple[int, int]]:
    return [match.span() for match in MONEY.finditer(text)]


def is_duration(text: str) -> bool:
    """Whether a phrase is a length of time and nothing else ("six weeks", not "six weeks ago")."""
    return DURATION.fullmatch(text.strip()) is not None
