"""Hybrid retrieval: three rankings of the chunks that dense or BM25 (tantivy or Milvus) search
found, merged by reciprocal rank fusion: by the chunk's vector, by its keywords, and by its sentence
closest to the question (sentence vectors are stored at index time). A chunk's vector blends two to
five sentences, so a chunk with one sentence that answers the question and others about something else
can rank low by its vector; its closest sentence lifts it back.

Date-aware twice over: ``since``/``until`` keep passages whose article is dated in the range or
that talk about a date in it (an event date, rag.dates), and a period named in the question
("in March 2023") lifts passages whose events or article fall in it and lowers those dated outside
it. An undated article that names the asked month without a year ("until March 23") is a possible
match and is lifted a little; other undated articles are left as they are by a named period, and
left out by an explicit date filter, since nothing says they fall in it.

Near-duplicate articles (rag.ingest.duplicates) fill one place: the best-ranked copy speaks for its story
and names the others as "also in".

Each hit carries the sentences its chunk overlaps (with typed spans and vectors, stored at index
time), so readers never re-split or re-embed text at question time.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from rag.config import Config
from rag.dates import EventDate, Fit, lift, passage_fit
from rag.indexing.index import Index
from rag.models.embedders import Embedder
from rag.query import Query
from rag.stores.protocols import DateFilter
from rag.types import Chunk, Hit


class HybridRetriever:
    def __init__(self, index: Index, embedder: Embedder, config: Config):
        self.index = index
        self.embedder = embedder
        self.config = config

    def search(self, query: Query, top_k: int | None = None, since: date | None = None,
               until: date | None = None) -> list[Hit]:
        """The best ``top_k`` passages, each with its sentences (spans and vectors) for the readers."""
        store = self.index.store
        top_k = self.config.top_k if top_k is None else top_k
        # A date filter is applied inside both searches, each in its own way.
        where = None if since is None and until is None else DateFilter(
            since, until, lambda: np.union1d(store.keys_dated(since, until), store.keys_with_events(since, until)),
            lambda: store.keys_with_events(since, until))
        vector = query.vector if query.vector is not None else self.embedder.embed([query.text])[0]
        dense_scores, dense_keys = self.index.vectors.search(vector[None, :], self.config.candidates, where)
        dense_rank = _shared_ranks(dense_keys[0], dense_scores[0])
        lexical_rank = _shared_ranks(*self.index.keywords.search(query.text, self.config.candidates, where))

        keys = list(dict.fromkeys([*dense_rank, *lexical_rank]))
        chunks = dict(zip(keys, store.chunks(keys), strict=True))
        sentence_vectors = store.sentence_vectors(list(chunks.values()))
        sentence_rank = _closest_sentence_ranks(vector, {key: sentence_vectors[chunks[key].chunk_id] for key in keys})
        fused: dict[int, float] = {}
        for ranks in (dense_rank, lexical_rank, sentence_rank):
            for key, rank in ranks.items():
                fused[key] = fused.get(key, 0.0) + 1.0 / (self.config.rrf_k + rank + 1)

        articles = store.articles({chunk.doc_id for chunk in chunks.values()})
        events = store.event_dates(set(articles)) if query.period else {}
        fits = {key: self._period_fit(query, chunks[key], articles[chunks[key].doc_id][1], events) for key in keys}
        scores = {key: fused[key] * lift(fits[key][0]) for key in keys}
        copies = store.duplicates(set(articles))
        # Keys follow corpus order, so equal scores rank alike on every store.
        best = _one_per_story(sorted(keys, key=lambda key: (-scores[key], key)), chunks, copies, top_k)
        sentences = store.sentences_in([chunks[key] for key in best])
        return [
            Hit(
                chunk=chunks[key],
                score=scores[key],
                title=articles[chunks[key].doc_id][0],
                date=articles[chunks[key].doc_id][1],
                dense_rank=dense_rank.get(key),
                lexical_rank=lexical_rank.get(key),
                sentence_rank=sentence_rank.get(key),
                period_match=fits[key][0],
                period_evidence=fits[key][1],
                date_evidence=articles[chunks[key].doc_id][2],
                also_in=copies.get(chunks[key].doc_id, ()),
                sentences=sentences[chunks[key].chunk_id],
            )
            for key in best
        ]

    @staticmethod
    def _period_fit(query: Query, chunk: Chunk, day: date | None, events: dict[str, list[tuple[int, EventDate]]]
                    ) -> tuple[Fit | None, str]:
        """By the dates the passage talks about, else its article's date; an undated article is a
        possible match when any of its partial dates names the asked month ("until March 23")."""
        if query.period is None:
            return None, ""
        article = events.get(chunk.doc_id, [])
        own = tuple(event for position, event in article if chunk.start <= position < chunk.end)
        return passage_fit(query.period, day, own, tuple(event for _, event in article))


def _closest_sentence_ranks(vector: np.ndarray, sentence_vectors: dict[int, np.ndarray]) -> dict[int, int]:
    """Each chunk's rank by its sentence closest to the question vector, best 0; a chunk with no
    sentences is left out of this ranking."""
    # One sentence in two overlapping chunks must score alike in both, on every store: in float32 the
    # product's last bits depend on the rows beside it (the same sentence scored 0.6390545 and 0.6390544),
    # so it is taken in float64, where each term is exact and the sums differ in the 15th digit, and
    # rounded to the 6th.
    question = vector.astype(np.float64)
    closest = {key: round(float(np.max(vectors.astype(np.float64) @ question)), 6)
               for key, vectors in sentence_vectors.items() if len(vectors)}
    ordered = sorted(closest, key=lambda key: (-closest[key], key))
    return _shared_ranks(np.array(ordered, dtype=np.int64), np.array([closest[key] for key in ordered]))


def _shared_ranks(keys: np.ndarray, scores: np.ndarray) -> dict[int, int]:
    """Each found key's rank, best 0, with equal scores sharing the better rank: stores break ties in
    their own order (tantivy by segment, which its writer threads fill as they go), and fusion must not
    depend on it."""
    ranks: dict[int, int] = {}
    for position, (key, score) in enumerate(zip(keys, scores, strict=True)):
        if key < 0:
            break
        ranks[int(key)] = ranks[int(keys[position - 1])] if position and score == scores[position - 1] else position
    return ranks


def _one_per_story(ranked: list[int], chunks: dict[int, Chunk], copies: dict[str, tuple[str, ...]],
                   top_k: int) -> list[int]:
    """The best ``top_k`` keys, leaving out chunks of an article whose near-duplicate already has a
    better-ranked chunk: a syndicated story fills one place, and its copies are named as "also in"."""
    speaker: dict[str, str] = {}  # doc_id -> the copy of its story that speaks for it
    best = []
    for key in ranked:
        doc_id = chunks[key].doc_id
        if speaker.setdefault(doc_id, doc_id) != doc_id:
            continue
        for copy in copies.get(doc_id, ()):
            speaker.setdefault(copy, doc_id)
        best.append(key)
        if len(best) == top_k:
            break
    return best
