"""Answerability: the probability that the best candidate answers *this* question, from evidence
features (rag.answers.features.Evidence: is the asked-for type there, are the question's terms and names
covered, how far ahead of the runner-up it is). A logistic model learned by ``rag calibrate``; the
pipeline withholds answers whose probability is below the configured threshold."""

from __future__ import annotations

from typing import Protocol

from rag.answers.features import Evidence
from rag.answers.model import AnswerModels
from rag.dates import lift
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
    passage_words = set(stem_words(WORD.findall(f"{best.hit.title} {best.hit.chunk.text}")))
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
        names_outside_article=_share_absent(names, passage_words),
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


def _share_absent(wanted: set[str], present: set[str]) -> float:
    return len(wanted - present) / len(wanted) if wanted else 0.0
