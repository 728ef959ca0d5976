"""Candidate answers: the typed spans of the retrieved sentences most likely to hold the answer, each with
its named features (rag.answers.features) and the span head's reading; the ranker (rag.answers.ranking)
orders them."""

from __future__ import annotations

import dataclasses

import numpy as np

from rag.answers.features import (
    TYPE_FIT,
    Features,
    Read,
    coverage,
    passage_stems,
    rarity_weighted,
    span_features,
    stems_of,
)
from rag.query import DATE, TIME, Query
from rag.text import WORD, stem_words
from rag.types import Candidate, Hit, Sentence, TypedSpan

# Sentences read per question: the best by meaning and words. Enough for the answer to be among
# them on both eval sets, few enough to keep a question fast.
SENTENCES_READ = 12
# Of those, the span head reads the best few with the question: one encoder pass per sentence is
# most of a question's time on a CPU (about 5 ms each for MiniLM on 2 cores).
SPAN_HEAD_SENTENCES = 4


def candidates(query: Query, hits: list[Hit], span_head) -> list[Candidate]:
    """Every candidate span of the sentences most likely to hold the answer, with features, unscored.
    ``span_head`` (rag.answers.span_head.SpanHead) reads each of those sentences with the question."""
    reads = _reads(query, hits)
    if not reads:
        return []
    terms = rarity_weighted(query.term_weights, reads)
    names = {term: terms[term] for term in query.names if term in terms}
    best_similarity = max(read.similarity for read in reads)
    prelim = sorted(reads, key=lambda r: -(r.similarity + coverage(terms, r.stems)))[:SENTENCES_READ]
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
                features=span_features(query, read, span, spans, order, terms, names, best_similarity),
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
    return [dataclasses.replace(c, features=_with_head(c.features, s, floor, best))
            for c, s in zip(found, head_scores, strict=True)]


def _with_head(features: Features, score: float | None, floor: float, best: float) -> Features:
    read = floor if score is None else score
    return dataclasses.replace(features, span_head=read, span_head_gap=read - best,
                               span_head_read=float(score is not None))


def _reads(query: Query, hits: list[Hit]) -> list[Read]:
    seen, reads = set(), []
    for rank, hit in enumerate(hits):
        fresh = [s for s in hit.sentences if s.sentence_id not in seen]
        seen.update(s.sentence_id for s in fresh)
        if not fresh:
            continue
        context = passage_stems(hit.title, hit.chunk.text)
        similarities = np.stack([s.vector for s in fresh]) @ query.vector
        for sentence, similarity in zip(fresh, similarities, strict=True):
            matches = list(WORD.finditer(sentence.text))
            stems = stem_words([m.group() for m in matches])
            words = [(m.start(), m.end(), stem) for m, stem in zip(matches, stems, strict=True)]
            reads.append(Read(sentence, hit, rank, words, frozenset(w[2] for w in words), context, float(similarity)))
    return reads


def _answer_spans(query: Query, sentence: Sentence) -> list[TypedSpan]:
    """Spans that could answer: of a fitting kind (any kind for an open question), not the question said back."""
    fits = TYPE_FIT.get(query.answer_type)
    spans = [span for span in sentence.spans if fits is None or span.kind in fits]
    asked = set(query.term_weights) | set(stem_words(list(query.words)))
    said = _period_said_back(query, sentence)
    return [span for span in spans if (words := stems_of(span.text)) and not all(_asked(word, asked) for word in words)
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


def _without_other_ordinals(found: list[Candidate], head_scores: list) -> tuple[list[Candidate], list]:
    """For "the second missile", when some span fits the ordinal, spans marked by another ordinal
    ("the first one flying 420 km") are no answer at all: an enumeration is not a matter of degree.
    (Few training questions hold an enumeration, so a learned weight alone would barely notice.)"""
    if not any(c.features.ordinal_fit == 1.0 for c in found):
        return found, head_scores
    kept = [(c, s) for c, s in zip(found, head_scores, strict=True) if c.features.ordinal_conflict == 0.0]
    return [c for c, _ in kept], [s for _, s in kept]


def _within_the_period(query: Query, found: list[Candidate], head_scores: list) -> tuple[list[Candidate], list]:
    """For "the missiles fired in 2024": only evidence dated in the period, naming it, or possibly in it
    (undated, naming the month) can answer; an article of 2021, or one that says nothing of its
    date, cannot. With no such evidence nothing is left, and the answer is withheld."""
    if query.period is None:
        return found, head_scores
    kept = [(c, s) for c, s in zip(found, head_scores, strict=True) if c.features.period_fit > 0]
    return [c for c, _ in kept], [s for _, s in kept]
