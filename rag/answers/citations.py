"""A candidate's sentence as a citation: located exactly in its article, with its date and, under a named
period, the date that put it there."""

from __future__ import annotations

from rag.answers.features import period_fit
from rag.query import Query
from rag.types import Candidate, Citation


def cite(candidate: Candidate, query: Query | None = None) -> Citation:
    sentence, hit = candidate.sentence, candidate.hit
    matched = period_fit(query, hit, sentence)[1] if query is not None and query.period else ""
    return Citation(doc_id=sentence.doc_id, title=hit.title, date=hit.date, chunk_id=hit.chunk.chunk_id,
                    start=sentence.start, end=sentence.end, quote=sentence.text, date_evidence=hit.date_evidence,
                    matched_date=matched, also_in=hit.also_in)
