"""Answerability: the probability that the best candidate answers *this* question, from evidence
features (is the asked-for type there, are the question's terms and names covered, how far ahead
of the runner-up it is). A logistic model learned by ``rag calibrate``; the pipeline withholds
answers whose probability is below the configured threshold."""

from __future__ import annotations

from typing import Protocol

from rag.answers.candidates import FEATURES
from rag.answers.model import AnswerModels
from rag.query import OTHER, Query
from rag.retrieval import PERIOD_FACTORS
from rag.text import WORD, stem_words
from rag.types import Answer, Candidate, Hit

ANSWERABILITY_FEATURES = (
    "best_score", "margin", "type_fit", "sentence_terms", "passage_terms", "names", "similarity",
    "open_question", "top_retrieval_score", "agreeing_candidates", "missing_question_words",
)
# A named period is not a feature here: evidence outside it never becomes a candidate, and the
# retrieval score is taken before the period's lift, so that rare dated questions in the training
# data cannot teach a weight for it that cancels another.
_COLUMN = {name: index for index, name in enumerate(FEATURES)}


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
        return self.model.probability(evidence_features(query, list(answer.candidates), list(answer.passages)))


def evidence_features(query: Query, ranked: list[Candidate], hits: list[Hit]) -> tuple[float, ...]:
    """Features of the best candidate (first of ``ranked``) as evidence for the question."""
    best = ranked[0]
    # The rival is another answer in the same article: another article's answer may be another event.
    runner_up = next((c for c in ranked[1:] if c.text.lower() != best.text.lower()
                      and c.sentence.doc_id == best.sentence.doc_id), None)
    agreeing = sum(c.text.lower() == best.text.lower() for c in ranked[:10])
    sentence_words = set(stem_words(WORD.findall(f"{best.hit.title} {best.sentence.text}")))
    question_words = set(query.term_weights)
    values = {
        "best_score": best.score,
        "margin": best.score - (runner_up.score if runner_up else 0.0),
        "type_fit": best.features[_COLUMN["type_fit"]],
        "sentence_terms": best.features[_COLUMN["sentence_terms"]],
        "passage_terms": best.features[_COLUMN["passage_terms"]],
        "names": best.features[_COLUMN["names"]],
        "similarity": best.features[_COLUMN["similarity"]],
        "open_question": float(query.answer_type == OTHER),
        "top_retrieval_score": hits[0].score / PERIOD_FACTORS.get(hits[0].period_match, 1.0) if hits else 0.0,
        "agreeing_candidates": min(agreeing, 5) / 5,
        "missing_question_words": len(question_words - sentence_words) / len(question_words) if question_words else 0.0,
    }
    return tuple(values[name] for name in ANSWERABILITY_FEATURES)
