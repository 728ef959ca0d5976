"""Typed spans at index time for the everyday kinds of news answers: durations (kept whole when they come
in parts), sums of money with their currency, counted amounts with their noun, and causes after their
marker; with spaCy's real parse of sentences written here (none is from the eval sets)."""

import pytest

from rag.ingest.measures import is_duration
from rag.ingest.tagging import tagger, typed_spans


def _spans(text: str) -> set[tuple[str, str]]:
    return {(span.text, span.kind) for span in typed_spans(tagger()(text), text) if span.kind != "phrase"}


@pytest.mark.parametrize("sentence, expected", [
    ("The crossing to the island took 2 hours, 14 minutes and 3 seconds on Monday.",
     ("2 hours, 14 minutes and 3 seconds", "duration")),
    ("Talks lasted three weeks before the deal.", ("three weeks", "duration")),
    ("The dig ran for two and a half years.", ("two and a half years", "duration")),
    ("The museum will cost 720,000 kronor to repaint.", ("720,000 kronor", "money")),
    ("The club paid $4.5 million for the striker.", ("$4.5 million", "money")),
    ("The storm felled about 3,400 trees across the county.", ("about 3,400 trees", "count")),
    ("The pool was closed because of a chlorine leak in the pump room.", ("a chlorine leak in the pump room", "cause")),
    ("The match was called off after heavy fog rolled in from the sea.", ("heavy fog rolled in from the sea", "cause")),
    ("Officials said the blackout was caused by a squirrel in a transformer.", ("a squirrel", "cause")),
    ("The ferry stopped due to ice on the harbour.", ("ice on the harbour", "cause")),
])
def test_everyday_answers_are_typed_spans(sentence, expected):
    assert expected in _spans(sentence)


def test_a_value_is_kept_whole_with_its_unit():
    spans = _spans("The winner finished in 3 hours, 2 minutes and 9 seconds and took home 12,000 euros.")
    assert ("3 hours", "duration") not in spans and ("12,000", "count") not in spans
    assert {("3 hours, 2 minutes and 9 seconds", "duration"), ("12,000 euros", "money")} <= spans


@pytest.mark.parametrize("text, duration", [
    ("six weeks", True), ("about 40 minutes", True), ("an hour and a half", True), ("1998", False),
    ("six weeks ago", False), ("Tuesday", False), ("next year", False),
])
def test_a_duration_is_a_length_of_time_and_nothing_else(text, duration):
    assert is_duration(text) is duration
