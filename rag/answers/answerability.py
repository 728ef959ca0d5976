"""Answerability: the probability that the best candidate answers *this* question, from evidence
features (rag.answers.features.Evidence: is the asked-for type there, are the question's terms and names
covered, how far ahead of the runner-up it is). A logistic model learned by ``rag calibrate``; the
pipeline withholds answers whose probability is below the configured threshold."""

from __future__ import annotations

import functools
from typing import Protocol

from rag.answers.features import Evidence, passage_stems
from rag.answers.model import AnswerModels
from rag.dates import CALENDAR_WORDS, lift
from rag.query import OTHER, Query
from rag.text import WORD, negated, stem_words
from rag.types import Answer, Candidate, Hit


class Answerability(Protocol):
    threshold: float  # answers judged less likely than this to be right are withheld

    def probability(self, query: Query, answer: Answer) -> float:
        """P(the answer is right) in 0..1."""
        ...


class LearnedAnswerability:
    def __init__(self, models: AnswerModels):
        self.model = models.answerability
        self.threshold = models.threshold

    def probability(self, query: Query, answer: Answer) -> float:
        if answer.abstained or not answer.candidates:
            return 0.0
        return self.model.probability(evidence(query, list(answer.candidates), list(answer.passages)).row())


def evidence(query: Query, ranked: list[Candidate], hits: list[Hit]) -> Evidence:
    """The evidence of the best candidate (first of ``ranked``) for the question. A named period has no
    feature of its own: evidence outside the period never becomes a candidate, and the retrieval score is
    taken before the period's lift, so that rare dated questions in the training data cannot teach a
    weight for it that cancels another; it counts as one of the things the question names."""
    best = ranked[0]
    # The rival is another answer in the same article: another article's answer may be another event.
    runner_up = next((c for c in ranked[1:] if c.text.lower() != best.text.lower()
                      and c.sentence.doc_id == best.sentence.doc_id), None)
    agreeing = sum(c.text.lower() == best.text.lower() for c in ranked[:10])
    sentence_words = set(stem_words(WORD.findall(f"{best.hit.title} {best.sentence.text}")))
    question_words = set(query.term_weights)
    names = set(query.names)
    # What the cited article says, as far as it was read: every passage retrieved from it, with its title.
    article, elsewhere = _words_read([best.hit, *hits], best.sentence.doc_id)
    return Evidence(
        best_score=best.score,
        margin=best.score - (runner_up.score if runner_up else 0.0),
        type_fit=best.features.type_fit,
        sentence_terms=best.features.sentence_terms,
        passage_terms=best.features.passage_terms,
        names=best.features.names,
        similarity=best.features.similarity,
        open_question=float(query.answer_type == OTHER),
        top_retrieval_score=hits[0].score / lift(hits[0].period_match) if hits else 0.0,
        agreeing_candidates=min(agreeing, 5) / 5,
        missing_question_words=_question_left_out(query, question_words, sentence_words, best),
        missing_names=_share_absent(names, sentence_words),
        names_outside_article=_share_absent(names, article),
        names_elsewhere=_share_elsewhere(names, article, elsewhere),
        asked_noun_near=best.features.asked_noun,
        asked_noun_absent=float(query.asked_noun is not None and query.asked_noun not in sentence_words),
        negation_differs=float(negated(query.text) != negated(best.sentence.text)),
        span_head=best.features.span_head,
    )


def _question_left_out(query: Query, question_words: set[str], sentence_words: set[str], best: Candidate) -> float:
    """The share of what the question names that the cited sentence leaves out. A named period is one
    of those things ("the March 2023 missiles"): its words are not terms, and evidence dated in it
    covers it (possibly in it: half)."""
    if query.period is not None:
        missing = len(question_words - sentence_words) + 1 - max(best.features.period_fit, 0.0)
        return missing / (len(question_words) + 1)
    return _share_absent(question_words, sentence_words)


def _words_read(hits: list[Hit], doc_id: str) -> tuple[set[str], set[str]]:
    """The stems of the passages read from article ``doc_id`` and their title, and of those read from others."""
    article: set[str] = set()
    elsewhere: set[str] = set()
    for hit in hits:
        (article if hit.chunk.doc_id == doc_id else elsewhere).update(passage_stems(hit.title, hit.chunk.text))
    return article, elsewhere


def _share_elsewhere(names: set[str], article: set[str], elsewhere: set[str]) -> float:
    """The share of the question's names that the cited article's passages lack and another article's
    have. A name counts as in the article when a word of it begins with the name or the name with the
    word ("Korean", "Korea"). Month and weekday names are left out: an article dates an event in many
    ways ("on Saturday", "March 4", "last week"), and the date rules read them."""
    def in_article(name: str) -> bool:
        return name in article or len(name) >= 4 and any(
            len(word) >= 4 and (word.startswith(name) or name.startswith(word)) for word in article)
    names = names - _calendar_stems()
    return sum(name in elsewhere and not in_article(name) for name in names) / len(names) if names else 0.0


@functools.cache
def _calendar_stems() -> frozenset[str]:
    return frozenset(stem_words(sorted(CALENDAR_WORDS)))


def _share_absent(wanted: set[str], present: set[str]) -> float:
    return len(wanted - present) / len(wanted) if wanted else 0.0
