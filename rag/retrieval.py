"""Hybrid retrieval: dense (FAISS) and BM25 rankings merged by reciprocal rank fusion.

Date-aware twice over: ``since``/``until`` filter on article dates, and a period named in the
question ("in March 2023") lifts passages dated in it or mentioning it and lowers passages
dated outside it. Undated articles are neither lifted nor lowered by a named period, and are
left out by an explicit date filter, since nothing says they fall inside it.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from rag.config import Config
from rag.embedding import Embedder
from rag.index import Index
from rag.temporal import Period, find_period
from rag.types import Hit

# How much a named period moves a passage. Strong enough that "the March 2023 missiles" prefers
# the March 2023 article over a similar one from 2021, weak enough not to bury a far better match.
IN_PERIOD_BOOST = 1.5
OUT_OF_PERIOD_PENALTY = 0.5


class HybridRetriever:
    def __init__(self, index: Index, embedder: Embedder, config: Config):
        self.index = index
        self.embedder = embedder
        self.config = config
        self._row_dates = [index.documents[doc_id].date for doc_id in index.row_doc_ids]

    def search(
        self,
        question: str,
        top_k: int | None = None,
        since: date | None = None,
        until: date | None = None,
        today: date | None = None,
    ) -> list[Hit]:
        top_k = self.config.top_k if top_k is None else top_k
        allowed = self._date_mask(since, until)
        depth = self.config.candidates if allowed is None else len(self.index)
        dense_rows = self._dense(question, depth, allowed)
        lexical_rows, _ = self.index.lexical.search(question, self.config.candidates, allowed)

        fused: dict[int, float] = {}
        for ranking in (dense_rows, list(lexical_rows)):
            for rank, row in enumerate(ranking[: self.config.candidates]):
                fused[int(row)] = fused.get(int(row), 0.0) + 1.0 / (self.config.rrf_k + rank + 1)

        period = find_period(question, today)
        rows = list(fused)
        chunks = dict(zip(rows, self.index.store.chunks(rows)))
        in_period = {row: self._in_period(period, row, chunks[row].text) for row in rows}
        scores = {row: fused[row] * _period_factor(in_period[row]) for row in rows}
        best = sorted(rows, key=lambda row: -scores[row])[:top_k]

        dense_rank = {int(row): rank for rank, row in enumerate(dense_rows)}
        lexical_rank = {int(row): rank for rank, row in enumerate(lexical_rows)}
        return [
            Hit(
                chunk=chunks[row],
                score=scores[row],
                title=self.index.documents[chunks[row].doc_id].title,
                date=self._row_dates[row],
                dense_rank=dense_rank.get(row),
                lexical_rank=lexical_rank.get(row),
                period_match=in_period[row],
            )
            for row in best
        ]

    def _dense(self, question: str, depth: int, allowed: np.ndarray | None) -> list[int]:
        _, rows = self.index.vectors.search(self.embedder.embed([question]), depth)
        return [int(row) for row in rows[0] if row >= 0 and (allowed is None or allowed[row])]

    def _date_mask(self, since: date | None, until: date | None) -> np.ndarray | None:
        if since is None and until is None:
            return None
        return np.array(
            [
                day is not None and (since is None or day >= since) and (until is None or day <= until)
                for day in self._row_dates
            ],
            dtype=bool,
        )

    def _in_period(self, period: Period | None, row: int, text: str) -> str | None:
        if period is None:
            return None
        if period.mentioned_in(text) or period.contains(self._row_dates[row]):
            return "inside"
        return "undated" if self._row_dates[row] is None else "outside"


def _period_factor(period_match: str | None) -> float:
    return {"inside": IN_PERIOD_BOOST, "outside": OUT_OF_PERIOD_PENALTY}.get(period_match, 1.0)
