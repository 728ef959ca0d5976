"""Ranking candidates: the learned ranker's score (rag.answers.model), with evidence dated in a named period
before evidence only possibly in it."""

from __future__ import annotations

import dataclasses

import numpy as np

from rag.answers.candidates import candidates
from rag.query import Query
from rag.types import Candidate, Hit

# Evidence inside a named period is preferred over evidence possibly in it when its sentence holds at
# least this share of the question's terms that the best-matching sentence holds.
PERIOD_FIRST_SHARE = 0.5


def rank(query: Query, hits: list[Hit], models) -> list[Candidate]:
    """The candidates scored by ``models.ranker`` (a LogisticModel over FEATURES), best first."""
    found = candidates(query, hits, models.span_head)
    if not found:
        return []
    scores = models.ranker.probabilities(np.array([c.features.row() for c in found]))
    # Under a named period, evidence dated in it comes before evidence only possibly in it, unless its
    # sentence shares far fewer of the question's words (a sentence of the period about something else).
    most_terms = max(c.features.sentence_terms for c in found)
    dated_in = [c.features.period_fit == 1.0 and c.features.sentence_terms >= PERIOD_FIRST_SHARE * most_terms
                for c in found]
    order = sorted(range(len(found)), key=lambda i: (-dated_in[i], -scores[i], found[i].hit_rank, found[i].span_start))
    return [dataclasses.replace(found[i], score=float(scores[i])) for i in order]
