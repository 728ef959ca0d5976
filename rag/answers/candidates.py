"""Candidate answers: the typed spans of the retrieved sentences, each described by features that
say how well it fits the question. A learned model (rag.answers.model) turns features into a score.

Features are general (no question, article or answer is named anywhere): meaning of the sentence,
the question's terms around the span, the answer type and unit, an ordinal, a named period, rank.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from rag.query import (
    COUNT, DATE, DISTANCE, GROUP, MONEY, NAME, NUMBER, ORDINAL, ORG, OTHER, PERSON, PHRASE, PLACE, QUOTE, TIME, Query,
)
from rag.text import WORD, content_words, stem_words
from rag.types import Candidate, Hit, Sentence

FEATURES = (
    "similarity", "similarity_gap", "sentence_terms", "passage_terms", "names", "proximity", "window_terms",
    "type_fit", "asked_noun", "ordinal_fit", "ordinal_conflict", "period_fit", "retrieval_rank", "repeats_question",
    "length", "is_entity", "phrase_for_other", "first_in_sentence", "span_head", "span_head_gap", "span_head_read",
)
# Words either side of a span whose question terms count in "window_terms".
WINDOW = 6
# How well a span kind answers a question type (1 exact, fractions for near kinds; absent means 0).
TYPE_FIT = {
    PERSON: {PERSON: 1.0, ORG: 0.4, GROUP: 0.3},
    ORG: {ORG: 1.0, PERSON: 0.3, NAME: 0.3, GROUP: 0.3},
    PLACE: {PLACE: 1.0, ORG: 0.3},
    DATE: {DATE: 1.0, TIME: 0.5},
    TIME: {TIME: 1.0, DATE: 0.5},
    DISTANCE: {DISTANCE: 1.0, NUMBER: 0.3},
    COUNT: {COUNT: 1.0, NUMBER: 0.6, ORDINAL: 0.5},
    NUMBER: {NUMBER: 1.0, COUNT: 0.8, MONEY: 0.6, DISTANCE: 0.6},
    MONEY: {MONEY: 1.0, NUMBER: 0.4},
    QUOTE: {QUOTE: 1.0},
    NAME: {NAME: 1.0, PERSON: 0.7, ORG: 0.7, PLACE: 0.7, GROUP: 0.5},
}
PERIOD_FIT = {"inside": 1.0, "possible": 0.5, "undated": 0.0, "outside": -1.0}
# Evidence inside a named period is preferred over evidence possibly in it when its sentence holds at
# least this share of the question's terms that the best-matching sentence holds.
PERIOD_FIRST_SHARE = 0.5
# Sentences read per question: the best by meaning and words. Enough for the answer to be among
# them on both eval sets, few enough to keep a question fast.
SENTENCES_READ = 12
# Of those, the span head reads the best few with the question: one encoder pass per sentence is
# most of a question's time on a CPU (about 5 ms each for MiniLM on 2 cores).
SPAN_HEAD_SENTENCES = 4
_ORDINAL_WORDS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}


@dataclasses.dataclass(frozen=True)
class _Read:
    """A sentence with what scoring needs, computed once per question."""

    sentence: Sentence
    hit: Hit
    rank: int
    words: list[tuple[int, int, str]]  # (start, end, stem) of each word in the sentence
    stems: frozenset[str]
    context: frozenset[str]  # stems of the passage and its title
    similarity: float


def candidates(query: Query, hits: list[Hit], span_head) -> list[Candidate]:
    """Every candidate span of the sentences most likely to hold the answer, with features, unscored.
    ``span_head`` (rag.answers.span_head.SpanHead) reads each of those sentences with the question."""
    reads = _reads(query, hits)
    if not reads:
        return []
    terms = _with_rarity(query.term_weights, reads)
    names = {term: terms[term] for term in query.names if term in terms}
    best_similarity = max(read.similarity for read in reads)
    prelim = sorted(reads, key=lambda r: -(r.similarity + _coverage(terms, r.stems)))[:SENTENCES_READ]
    spans_of = {read.sentence.sentence_id: _answer_spans(query, read.sentence) for read in prelim}
    prelim = [read for read in prelim if spans_of[read.sentence.sentence_id]]
    token_scores = span_head.scores(query.text, [read.sentence.text for read in prelim[:SPAN_HEAD_SENTENCES]])
    found, head_scores = [], []
    for position, read in enumerate(prelim):
        spans = spans_of[read.sentence.sentence_id]
        for order, span in enumerate(spans):
            found.append(Candidate(
                text=span.text, kind=span.kind, sentence=read.sentence, hit=read.hit, hit_rank=read.rank,
                span_start=span.start, span_end=span.end,
                features=_features(query, read, span, spans, order, terms, names, best_similarity),
            ))
            read_by_head = position < len(token_scores)
            head_scores.append(token_scores[position].span_score(span.start, span.end) if read_by_head else None)
    found, head_scores = _without_other_ordinals(found, head_scores)
    found, head_scores = _within_the_period(query, found, head_scores)
    if not found:
        return []
    # A sentence the head did not read counts as its least likely reading, and says so.
    floor = min((score for score in head_scores if score is not None), default=0.0)
    best = max((score for score in head_scores if score is not None), default=0.0)
    return [
        dataclasses.replace(c, features=c.features + (floor if s is None else s, (floor if s is None else s) - best,
                                                      float(s is not None)))
        for c, s in zip(found, head_scores)
    ]


def _reads(query: Query, hits: list[Hit]) -> list[_Read]:
    seen, reads = set(), []
    for rank, hit in enumerate(hits):
        fresh = [s for s in hit.sentences if s.sentence_id not in seen]
        seen.update(s.sentence_id for s in fresh)
        if not fresh:
            continue
        context = frozenset(stem_words(WORD.findall(f"{hit.title} {hit.chunk.text}")))
        similarities = np.stack([s.vector for s in fresh]) @ query.vector
        for sentence, similarity in zip(fresh, similarities):
            matches = list(WORD.finditer(sentence.text))
            words = [(m.start(), m.end(), stem) for m, stem in zip(matches, stem_words([m.group() for m in matches]))]
            reads.append(_Read(sentence, hit, rank, words, frozenset(w[2] for w in words), context, float(similarity)))
    return reads


def _answer_spans(query: Query, sentence: Sentence):
    """Spans that could answer: of a fitting kind (any kind for an open question), not the question said back."""
    fits = TYPE_FIT.get(query.answer_type)
    spans = [span for span in sentence.spans if fits is None or span.kind in fits]
    asked = set(query.term_weights) | set(stem_words(list(query.words)))
    said = _period_said_back(query, sentence)
    return [span for span in spans if (words := _stems_of(span.text)) and not all(_asked(word, asked) for word in words)
            and not any(span.text in phrase or (span.kind in (DATE, TIME) and phrase in span.text) for phrase in said)]


def _period_said_back(query: Query, sentence: Sentence) -> list[str]:
    """The sentence's date phrases that only restate the question's period: "On Friday" for a question
    about March 24, 2023, or about what happened in March 2023 (a when-question may still want "Friday")."""
    period = query.period
    if period is None or (query.answer_type in (DATE, TIME) and period.granularity != "day"):
        return []
    return [event.phrase for event in sentence.dates if period.overlaps(event)]


def _asked(stem: str, asked: set[str]) -> bool:
    """Whether a word is the question's own, counting "Korea" as said by "Korean"."""
    return stem in asked or (len(stem) >= 4 and any(word.startswith(stem) for word in asked))


@functools.lru_cache(maxsize=4096)
def _stems_of(text: str) -> frozenset[str]:
    """Content-word stems of a span; cached, since filtering and scoring both ask for each span."""
    return frozenset(stem_words(list(content_words(text))))


def _features(query: Query, read: _Read, span, spans, order: int, terms: dict[str, float],
              names: dict[str, float], best_similarity: float) -> tuple[float, ...]:
    fits = TYPE_FIT.get(query.answer_type, {})
    span_words = _stems_of(span.text)
    period = PERIOD_FIT.get(period_match(query, read.hit, read.sentence), 0.0) if query.period else 0.0
    values = {
        "similarity": read.similarity,
        "similarity_gap": read.similarity - best_similarity,
        "sentence_terms": _coverage(terms, read.stems),
        "passage_terms": _coverage(terms, read.context),
        "names": _coverage(names, read.context) if names else 1.0,
        "proximity": _proximity(read, span, terms),
        "window_terms": _window_terms(read, span, terms),
        "type_fit": fits.get(span.kind, 0.0),
        "asked_noun": float(query.asked_noun is not None and _near(read, span, {query.asked_noun}, 3)),
        "ordinal_fit": _ordinal_fit(query, read, span, spans),
        "ordinal_conflict": _ordinal_conflict(query, read, span),
        "period_fit": period,
        "retrieval_rank": 1.0 / (1 + read.rank),
        "repeats_question": len(span_words & set(terms)) / len(span_words) if span_words else 0.0,
        "length": min(len(span.text.split()), 12) / 12,
        "is_entity": float(span.kind != PHRASE),
        "phrase_for_other": float(query.answer_type == OTHER and span.kind == PHRASE),
        "first_in_sentence": float(order == 0),
    }
    return tuple(values[name] for name in FEATURES[:-3])  # the span head's three come after


def _without_other_ordinals(found: list[Candidate], head_scores: list) -> tuple[list[Candidate], list]:
    """For "the second missile", when some span fits the ordinal, spans marked by another ordinal
    ("the first one flying 420 km") are no answer at all: an enumeration is not a matter of degree.
    (Few training questions hold an enumeration, so a learned weight alone would barely notice.)"""
    fit, conflict = FEATURES.index("ordinal_fit"), FEATURES.index("ordinal_conflict")
    if not any(c.features[fit] == 1.0 for c in found):
        return found, head_scores
    kept = [(c, s) for c, s in zip(found, head_scores) if c.features[conflict] == 0.0]
    return [c for c, _ in kept], [s for _, s in kept]


def _within_the_period(query: Query, found: list[Candidate], head_scores: list) -> tuple[list[Candidate], list]:
    """For "the missiles fired in 2024": only evidence dated in the period, naming it, or possibly in it
    (undated, naming the month) can answer; an article of 2021, or one that says nothing of its
    date, cannot. With no such evidence nothing is left, and the answer is withheld."""
    if query.period is None:
        return found, head_scores
    period = FEATURES.index("period_fit")
    kept = [(c, s) for c, s in zip(found, head_scores) if c.features[period] > 0]
    return [c for c, _ in kept], [s for _, s in kept]


def period_match(query: Query, hit: Hit, sentence: Sentence) -> str:
    """The sentence's own fit to the named period when its dates put it in or possibly in it, else its passage's."""
    return sentence_fit(query, hit, sentence)[0]


def sentence_fit(query: Query, hit: Hit, sentence: Sentence) -> tuple[str, str]:
    """(fit, the date that decided it): by the sentence's own event dates or its article's date first;
    a sentence dated outside the period is outside; one that names no date fits as its passage does
    (another sentence of it, or a partial date elsewhere in an undated article)."""
    own = query.period.fit(hit.date, sentence.dates)
    if own[0] in ("inside", "possible"):
        return own
    if any(event.first is not None for event in sentence.dates):
        return "outside", ""  # it says when it happened, and that is not in the period
    return (hit.period_match, hit.period_evidence) if hit.period_match else own


def _with_rarity(weights: dict[str, float], reads: list[_Read]) -> dict[str, float]:
    """Weights scaled by rarity among the sentences read: in an archive about missiles, "missile"
    tells little and "altitude" a lot. A term in no sentence is rarest of all."""
    count = len(reads)
    return {
        term: weight * math.log((count + 1) / (sum(term in r.stems for r in reads) + 0.5))
        for term, weight in weights.items()
    }


def _coverage(weights: dict[str, float], present: frozenset[str] | set[str]) -> float:
    total = sum(weights.values())
    return sum(w for term, w in weights.items() if term in present) / total if total > 0 else 0.0


def _word_range(read: _Read, span) -> tuple[int, int]:
    inside = [i for i, (start, end, _) in enumerate(read.words) if start < span.end and end > span.start]
    return (inside[0], inside[-1]) if inside else (0, 0)


def _proximity(read: _Read, span, terms: dict[str, float]) -> float:
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


def _window_terms(read: _Read, span, terms: dict[str, float]) -> float:
    """Weighted share of the question's terms found within WINDOW words either side of the span."""
    first, last = _word_range(read, span)
    around = read.words[max(0, first - WINDOW) : first] + read.words[last + 1 : last + 1 + WINDOW]
    return _coverage(terms, frozenset(stem for _, _, stem in around))


def _near(read: _Read, span, stems: set[str], distance: int) -> bool:
    first, last = _word_range(read, span)
    window = read.words[max(0, first - distance) : last + distance + 1]
    return any(stem in stems for _, _, stem in window)


def _ordinal_conflict(query: Query, read: _Read, span) -> float:
    """For "the second missile": another ordinal word ("the first one flying 420 km") right before the span."""
    if query.ordinal is None:
        return 0.0
    first, _ = _word_range(read, span)
    before = {stem for _, _, stem in read.words[max(0, first - 4) : first]}
    others = {stem for number, word in _ORDINAL_WORDS.items() if number != query.ordinal
              for stem in stem_words([word])}
    return float(bool(before & others))


def _ordinal_fit(query: Query, read: _Read, span, spans) -> float:
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


def rank(query: Query, hits: list[Hit], models) -> list[Candidate]:
    """The candidates scored by ``models.ranker`` (a LogisticModel over FEATURES), best first."""
    found = candidates(query, hits, models.span_head)
    if not found:
        return []
    scores = models.ranker.probabilities(np.array([c.features for c in found]))
    # Under a named period, evidence dated in it comes before evidence only possibly in it, unless its
    # sentence shares far fewer of the question's words (a sentence of the period about something else).
    period, terms = FEATURES.index("period_fit"), FEATURES.index("sentence_terms")
    most_terms = max(c.features[terms] for c in found)
    order = sorted(range(len(found)), key=lambda i: (
        -bool(found[i].features[period] == 1.0 and found[i].features[terms] >= PERIOD_FIRST_SHARE * most_terms),
        -scores[i], found[i].hit_rank, found[i].span_start))
    return [dataclasses.replace(found[i], score=float(scores[i])) for i in order]
