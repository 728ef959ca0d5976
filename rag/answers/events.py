"""Every matching event: a question about a period or a class of events ("the March 2023
missiles") may be answered differently by several articles, and the reader must see each one.

The best candidate of each further article joins the answer when it fits as well as the first (the
asked type, the question's names, most of its terms) and, under a named period, is dated in it or
possibly in it (the period is then the test); for a class of events without a period its own
evidence must be judged answerable.
"""

from __future__ import annotations

from rag.answers.answerability import Answerability
from rag.answers.citations import cite
from rag.answers.features import period_fit
from rag.dates import Fit
from rag.query import Query
from rag.text import normalise
from rag.types import Answer, Candidate, ShortAnswer

MAX_EVENTS = 4
# A further article's best candidate must score at least this share of the best one's.
EVENT_SCORE_RATIO = 0.5
# ... and its sentence must hold at least this share of the question's terms that the best one holds.
SAME_TERMS_RATIO = 0.7


def short_answer(query: Query, candidate: Candidate, text: str | None = None) -> ShortAnswer:
    period = period_fit(query, candidate.hit, candidate.sentence)[0] if query.period else None
    return ShortAnswer(text or candidate.text, cite(candidate, query), candidate.hit.date, period)


def matching_events(query: Query, answer: Answer, answerability: Answerability, threshold: float) -> list[ShortAnswer]:
    """The answer's own event first, then one per further article that also answers the question;
    none for a reader that ranked no candidates."""
    ranked = list(answer.candidates)
    if not ranked:
        return []
    first = short_answer(query, ranked[0], answer.text)
    if not query.plural:
        return [first]
    events, seen_texts = [first], {normalise(answer.text)}
    seen_docs = {ranked[0].sentence.doc_id, *ranked[0].hit.also_in}
    for candidate in ranked[1:]:
        doc_id = candidate.sentence.doc_id
        if doc_id in seen_docs or len(events) >= MAX_EVENTS:
            continue
        seen_docs.update((doc_id, *candidate.hit.also_in))  # one candidate speaks for an article and its copies
        event = short_answer(query, candidate)
        if (candidate.score < EVENT_SCORE_RATIO * ranked[0].score or event.period_match in (Fit.OUTSIDE, Fit.UNDATED)
                or normalise(candidate.text) in seen_texts or not _as_specific(candidate, ranked[0])):
            continue
        if query.period is None:  # a class of events: the further article must also be judged answerable
            own = tuple(c for c in ranked if c.sentence.doc_id == doc_id)
            judged = Answer(query.asked, candidate.text, False, passages=answer.passages, candidates=own)
            if answerability.probability(query, judged) < threshold:
                continue
        events.append(event)
        seen_texts.add(normalise(candidate.text))
    return events


def _as_specific(candidate: Candidate, best: Candidate) -> bool:
    """A further event must fit as the first does: the kind asked for, every name of the question in
    its passage, and most of the question's terms in its sentence."""
    mine, first = candidate.features, best.features
    return (mine.type_fit >= first.type_fit and mine.names >= 1.0
            and mine.sentence_terms >= SAME_TERMS_RATIO * first.sentence_terms)


def compose(events: list[ShortAnswer]) -> str:
    """One event: its text. Several: each with its date and citation marker,
    "about 385 miles (undated, possibly in the period) [1]; more than 200 miles (2023-03-27) [2]"."""
    if len(events) == 1:
        return events[0].text
    parts = []
    for number, event in enumerate(events, 1):
        when = event.date.isoformat() if event.date else (
            "undated, possibly in the period" if event.period_match == Fit.POSSIBLE else "undated")
        parts.append(f"{event.text} ({when}) [{number}]")
    return "; ".join(parts)
