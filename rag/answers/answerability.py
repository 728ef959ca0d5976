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
from rag.text import WORD, stem_words
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
    """The evidence of the best candidate (first of ``ranked``) for the question. A named period is not
    part of it: evidence outside the period never becomes a candidate, and the retrieval score is taken
    before the period's lift, so that rare dated questions in the training data cannot teach a weight
    for it that cancels another."""
    best = ranked[0]
    # The rival is another answer in the same article: another article's answer may be another event.
    runner_up = next((c for c in ranked[1:] if c.text.lower() != best.text.lower()
                      and c.sentence.doc_id == best.sentence.doc_id), None)
    agreeing = sum(c.text.lower() == best.text.lower() for c in ranked[:10])
    sentence_words = set(stem_words(WORD.findall(f"{best.hit.title} {best.sentence.text}")))
    question_words = set(query.term_weights)
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
        missing_question_words=len(question_words - sentence_words) / len(question_words) if question_words else 0.0,
    )
