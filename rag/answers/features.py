"""The named features that rank a candidate span (``rag.types.Features``) and judge whether the best one
answers the question (``Evidence``), and how each is computed. Features are general: no question, article or answer is
named anywhere. The learned models (rag.answers.model) keep the names they were fitted on, in this order.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass

from rag.dates import Fit, sentence_fit
from rag.query import (
    CAUSE,
    COUNT,
    DATE,
    DISTANCE,
    DURATION,
    GROUP,
    MONEY,
    NAME,
    NUMBER,
    ORDINAL,
    ORG,
    OTHER,
    PERSON,
    PHRASE,
    PLACE,
    QUOTE,
    TIME,
    Query,
)
from rag.text import WORD, content_words, stem_words
from rag.types import Features, Hit, Sentence, TypedSpan

# Words either side of a span whose question terms count in ``window_terms``.
WINDOW = 6
# How well a span kind answers a question type (1 exact, fractions for near kinds; absent means 0).
TYPE_FIT = {
    PERSON: {PERSON: 1.0, ORG: 0.4, GROUP: 0.3},
    ORG: {ORG: 1.0, PERSON: 0.3, NAME: 0.3, GROUP: 0.3},
    PLACE: {PLACE: 1.0, ORG: 0.3, PHRASE: 0.2},  # "in a storage shed", "the harbour park"
    DATE: {DATE: 1.0, TIME: 0.5, DURATION: 0.2},
    TIME: {TIME: 1.0, DATE: 0.5, DURATION: 0.2},
    DURATION: {DURATION: 1.0, DATE: 0.3, TIME: 0.3, NUMBER: 0.3},
    DISTANCE: {DISTANCE: 1.0, NUMBER: 0.3},
    COUNT: {COUNT: 1.0, NUMBER: 0.6, ORDINAL: 0.5},
    NUMBER: {NUMBER: 1.0, COUNT: 0.8, MONEY: 0.6, DISTANCE: 0.6, DURATION: 0.6},
    MONEY: {MONEY: 1.0, NUMBER: 0.4, COUNT: 0.3},
    CAUSE: {CAUSE: 1.0, PHRASE: 0.3},
    QUOTE: {QUOTE: 1.0},
    NAME: {NAME: 1.0, PERSON: 0.7, ORG: 0.7, PLACE: 0.7, GROUP: 0.5},
}
# A sentence's fit to a named period, as a feature: outside counts against.
PERIOD_FIT = {Fit.INSIDE: 1.0, Fit.POSSIBLE: 0.5, Fit.UNDATED: 0.0, Fit.OUTSIDE: -1.0}
# Span kinds that name something, which the sentence may call by the question's noun.
_NAMES = frozenset({PERSON, ORG, PLACE, GROUP, NAME})
_ORDINAL_WORDS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}


FEATURES = tuple(field.name for field in dataclasses.fields(Features))


@dataclass(frozen=True)
class Evidence:
    """How well the best candidate, with its rivals and passages, answers the question."""

    best_score: float  # the ranker's score of the best candidate
    margin: float  # ... less its runner-up's in the same article
    type_fit: float
    sentence_terms: float
    passage_terms: float
    names: float
    similarity: float
    open_question: float  # the question asks for no particular type
    top_retrieval_score: float  # the best passage's fused retrieval score, before a period's lift
    agreeing_candidates: float  # candidates among the best ten that say the same, up to five, over five
    missing_question_words: float  # share of the question's terms (and named period) the cited sentence and title lack
    # Is the answer about what was asked? A name, number or negation of the question the cited sentence
    # does not share is how a near miss differs ("How many homes in Calder ..." of a sentence on Brennholt).
    missing_names: float  # share of the question's names and numbers absent from the cited sentence and its title
    names_outside_article: float  # share of them absent from every passage read from the cited article as well
    # ... and named by a passage of another article instead: the question is about another place or thing the
    # archive knows (Calder, where the cited article is on Brennholt), not one the article calls otherwise.
    names_elsewhere: float
    asked_noun_near: float  # the noun of "which company", "who is the mayor" beside the answer
    asked_noun_absent: float  # ... nowhere in the sentence or its title
    negation_differs: float  # one of question and sentence says "not", "never", "no", the other does not
    span_head: float  # the span head's own score of the best candidate: how sure a trained reader is of it


    def row(self) -> tuple[float, ...]:
        return tuple(getattr(self, name) for name in EVIDENCE)


EVIDENCE = tuple(field.name for field in dataclasses.fields(Evidence))
# The direction each evidence feature may move the probability, where it is known beforehand: a name of
# the question missing from the cited sentence never makes an answer likelier. Fitting within these signs
# keeps correlated features from cancelling each other out with weights of opposite sign, which fit the
# training articles and fail on others (SQuAD paragraphs often say "they" for a name that news states).
EVIDENCE_SIGNS = {
    "best_score": 1, "margin": 1, "type_fit": 1, "sentence_terms": 1, "passage_terms": 1, "names": 1, "similarity": 1,
    "top_retrieval_score": 1, "agreeing_candidates": 1, "missing_question_words": -1, "missing_names": -1,
    "names_outside_article": -1, "names_elsewhere": -1, "asked_noun_near": 1, "asked_noun_absent": -1,
    "negation_differs": -1, "span_head": 1,
}


@dataclass(frozen=True)
class Read:
    """A retrieved sentence with what scoring needs, computed once per question."""

    sentence: Sentence
    hit: Hit
    rank: int
    words: list[tuple[int, int, str]]  # (start, end, stem) of each word in the sentence
    stems: frozenset[str]
    context: frozenset[str]  # stems of the passage and its title
    similarity: float


def span_features(query: Query, read: Read, span: TypedSpan, spans: list[TypedSpan], order: int,
                  terms: dict[str, float], names: dict[str, float], best_similarity: float) -> Features:
    """Every feature of ``span`` (the ``order``-th fitting span of its sentence) but the span head's.
    ``terms``: the question's stems weighted by rarity; ``names``: those of its names and numbers."""
    span_words = stems_of(span.text)
    period = PERIOD_FIT[period_fit(query, read.hit, read.sentence)[0]] if query.period else 0.0
    return Features(
        similarity=read.similarity,
        similarity_gap=read.similarity - best_similarity,
        sentence_terms=coverage(terms, read.stems),
        passage_terms=coverage(terms, read.context),
        names=coverage(names, read.context) if names else 1.0,
        proximity=_proximity(read, span, terms),
        window_terms=_window_terms(read, span, terms),
        type_fit=_type_fit(query, read, span),
        asked_noun=float(query.asked_noun is not None and _near(read, span, {query.asked_noun}, 3)),
        ordinal_fit=_ordinal_fit(query, read, span, spans),
        ordinal_conflict=_ordinal_conflict(query, read, span),
        period_fit=period,
        retrieval_rank=1.0 / (1 + read.rank),
        repeats_question=len(span_words & set(terms)) / len(span_words) if span_words else 0.0,
        length=min(len(span.text.split()), 12) / 12,
        is_entity=float(span.kind != PHRASE),
        phrase_for_other=float(query.answer_type == OTHER and span.kind == PHRASE),
        first_in_sentence=float(order == 0),
    )


def _type_fit(query: Query, read: Read, span: TypedSpan) -> float:
    """How well the span's kind answers the asked type; a name the sentence calls by the asked noun
    ("the coastal town of Jangyon" for "which town", "Acme, the company") is what was asked for,
    whatever kind the tagger guessed for it."""
    fit = TYPE_FIT.get(query.answer_type, {}).get(span.kind, 0.0)
    if query.asked_noun and span.kind in _NAMES and _named_as(read, span, query.asked_noun):
        return 1.0
    return fit


def _named_as(read: Read, span: TypedSpan, noun: str) -> bool:
    """The noun stands just before the name ("town of X", "mayor X") or just after it ("X, a town")."""
    first, last = _word_range(read, span)
    beside = read.words[max(0, first - 2) : first] + read.words[last + 1 : last + 4]
    return any(stem == noun for _, _, stem in beside)


def period_fit(query: Query, hit: Hit, sentence: Sentence) -> tuple[Fit, str]:
    """How a retrieved sentence fits the question's named period, and the date that decided it."""
    return sentence_fit(query.period, hit.date, sentence.dates, hit.period_match, hit.period_evidence)


def rarity_weighted(weights: dict[str, float], reads: list[Read]) -> dict[str, float]:
    """Weights scaled by rarity among the sentences read: in an archive about missiles, "missile"
    tells little and "altitude" a lot. A term in no sentence is rarest of all."""
    count = len(reads)
    return {
        term: weight * math.log((count + 1) / (sum(term in r.stems for r in reads) + 0.5))
        for term, weight in weights.items()
    }


def coverage(weights: dict[str, float], present: frozenset[str] | set[str]) -> float:
    total = sum(weights.values())
    return sum(w for term, w in weights.items() if term in present) / total if total > 0 else 0.0


@functools.lru_cache(maxsize=256)
def passage_stems(title: str, text: str) -> frozenset[str]:
    """Stems of a passage and its title; cached, since ranking and answerability both read each passage."""
    return frozenset(stem_words(WORD.findall(f"{title} {text}")))


@functools.lru_cache(maxsize=4096)
def stems_of(text: str) -> frozenset[str]:
    """Content-word stems of a span; cached, since filtering and scoring both ask for each span."""
    return frozenset(stem_words(list(content_words(text))))


def _word_range(read: Read, span: TypedSpan) -> tuple[int, int]:
    inside = [i for i, (start, end, _) in enumerate(read.words) if start < span.end and end > span.start]
    return (inside[0], inside[-1]) if inside else (0, 0)


def _proximity(read: Read, span: TypedSpan, terms: dict[str, float]) -> float:
    """Weighted closeness of the question's terms to the span, outside it: 1 beside it, fading with distance."""
    first, last = _word_range(read, span)
    total = sum(terms.values())
    if total <= 0:
        return 0.0
    pull = 0.0
    for index, (_, _, stem) in enumerate(read.words):
        if stem in terms and not first <= index <= last:
            pull = max(pull, terms[stem] / total / (1 + max(first - index, index - last) / 3))
    return pull


def _window_terms(read: Read, span: TypedSpan, terms: dict[str, float]) -> float:
    """Weighted share of the question's terms found within WINDOW words either side of the span."""
    first, last = _word_range(read, span)
    around = read.words[max(0, first - WINDOW) : first] + read.words[last + 1 : last + 1 + WINDOW]
    return coverage(terms, frozenset(stem for _, _, stem in around))


def _near(read: Read, span: TypedSpan, stems: set[str], distance: int) -> bool:
    first, last = _word_range(read, span)
    window = read.words[max(0, first - distance) : last + distance + 1]
    return any(stem in stems for _, _, stem in window)


def _ordinal_conflict(query: Query, read: Read, span: TypedSpan) -> float:
    """For "the second missile": another ordinal word ("the first one flying 420 km") right before the span."""
    if query.ordinal is None:
        return 0.0
    first, _ = _word_range(read, span)
    before = {stem for _, _, stem in read.words[max(0, first - 4) : first]}
    others = {stem for number, word in _ORDINAL_WORDS.items() if number != query.ordinal
              for stem in stem_words([word])}
    return float(bool(before & others))


def _ordinal_fit(query: Query, read: Read, span: TypedSpan, spans: list[TypedSpan]) -> float:
    """For "the second missile": the span right after the word "second", or the second of its kind in the sentence."""
    if query.ordinal is None or span.kind in (PHRASE, ORDINAL):
        return 0.0
    word = _ORDINAL_WORDS.get(query.ordinal)
    first, _ = _word_range(read, span)
    before = {stem for _, _, stem in read.words[max(0, first - 4) : first]}
    if word and stem_words([word])[0] in before:
        return 1.0
    same_kind = [s for s in spans if s.kind == span.kind and not any(
        o is not s and o.kind == s.kind and o.start <= s.start and s.end <= o.end for o in spans)]
    if span not in same_kind:
        return 0.0
    position = same_kind.index(span)
    wanted = len(same_kind) - 1 if query.ordinal == -1 else query.ordinal - 1
    return float(position == wanted)
