"""Hybrid retrieval: dense (FAISS) and BM25 rankings merged by reciprocal rank fusion.

Date-aware twice over: ``since``/``until`` filter on article dates, and a period named in the
question ("in March 2023") lifts passages dated in it or mentioning it and lowers passages
dated outside it. An undated article that names the asked month without a year ("until
March 23") is a possible match and is lifted a little; other undated articles are left as they
are by a named period, and left out by an explicit date filter, since nothing says they fall in it.

Each hit carries the sentences its chunk overlaps (with typed spans and vectors, stored at index
time), so readers never re-split or re-embed text at question time.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from rag.config import Config
from rag.embedding import Embedder
from rag.index import Index
from rag.query import Query
from rag.types import Hit

# How much a named period moves a passage. Strong enough that "the March 2023 missiles" prefers
# the March 2023 article over a similar one from 2021, weak enough not to bury a far better match.
# An undated article that names the month without a year ("until March 23") may be in the period.
PERIOD_FACTORS = {"inside": 1.5, "possible": 1.2, "outside": 0.5}


class HybridRetriever:
    def __init__(self, index: Index, embedder: Embedder, config: Config):
        self.index = index
        self.embedder = embedder
        self.config = config
        self._row_dates = [index.documents[doc_id].date for doc_id in index.row_doc_ids]

    def search(self, query: Query, top_k: int | None = None, since: date | None = None,
               until: date | None = None) -> list[Hit]:
        """The best ``top_k`` passages, each with its sentences (spans and vectors) for the readers."""
        top_k = self.config.top_k if top_k is None else top_k
        allowed = self._date_mask(since, until)
        depth = self.config.candidates if allowed is None else len(self.index)
        vector = query.vector if query.vector is not None else self.embedder.embed([query.text])[0]
        dense_rows = self._dense(vector, depth, allowed)
        lexical_rows, _ = self.index.lexical.search(query.text, self.config.candidates, allowed)

        fused: dict[int, float] = {}
        for ranking in (dense_rows, list(lexical_rows)):
            for rank, row in enumerate(ranking[: self.config.candidates]):
                fused[int(row)] = fused.get(int(row), 0.0) + 1.0 / (self.config.rrf_k + rank + 1)

        rows = list(fused)
        chunks = dict(zip(rows, self.index.store.chunks(rows)))
        in_period = {row: self._period_fit(query, row, chunks[row]) for row in rows}
        scores = {row: fused[row] * PERIOD_FACTORS.get(in_period[row], 1.0) for row in rows}
        best = sorted(rows, key=lambda row: -scores[row])[:top_k]
        sentences = self.index.store.sentences_in([chunks[row] for row in best])

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
                sentences=sentences[chunks[row].chunk_id],
            )
            for row in best
        ]

    def _dense(self, vector: np.ndarray, depth: int, allowed: np.ndarray | None) -> list[int]:
        _, rows = self.index.vectors.search(vector[None, :], depth)
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

    def _period_fit(self, query: Query, row: int, chunk) -> str | None:
        """A dated article fits by its date or by naming the period in the passage; an undated one
        is a possible match when anything in it names the asked month ("until March 23")."""
        if query.period is None:
            return None
        day = self._row_dates[row]
        return query.period.fit(day, chunk.text if day else self.index.documents[chunk.doc_id].text)
