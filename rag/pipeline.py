"""The question-answering pipeline: validate, retrieve, read, abstain when the evidence is weak."""

from __future__ import annotations

import dataclasses
import time
from datetime import date
from pathlib import Path

from rag.config import Config, from_env
from rag.embedding import Embedder, SentenceTransformerEmbedder
from rag.errors import InvalidInputError
from rag.index import MANIFEST, Index, build_index, load_index
from rag.readers import Reader, make_reader
from rag.retrieval import HybridRetriever
from rag.types import Answer

ABSTENTION = "The archive does not say: no article in the corpus answers this question."


class QA:
    """Answers questions over one index. Construction is cheap; the index and models load on first use."""

    def __init__(self, index_dir: str | Path = "index", corpus_dir: str | Path = "corpus", config: Config | None = None,
                 embedder: Embedder | None = None, reader: Reader | None = None):
        self.index_dir = Path(index_dir)
        self.corpus_dir = Path(corpus_dir)
        self.config = config or from_env()
        self.embedder = embedder or SentenceTransformerEmbedder(self.config.embedder)
        self._reader = reader
        self._index: Index | None = None
        self._retriever: HybridRetriever | None = None
        self._loaded = False

    @property
    def index(self) -> Index:
        if self._index is None:
            if not (self.index_dir / MANIFEST).exists():
                build_index(self.corpus_dir, self.index_dir, self.config, self.embedder)
            self._index = load_index(self.index_dir, self.config)
            self._retriever = HybridRetriever(self._index, self.embedder, self.config)
        return self._index

    def using(self, **changes) -> "QA":
        """A QA over the same loaded index and embedder with other answering settings (reader, model)."""
        other = QA(self.index_dir, self.corpus_dir, self.config.replace(**changes), embedder=self.embedder)
        other._index, other._retriever = self.index, self._retriever
        return other

    def load(self) -> "QA":
        """Load (or build) the index and the models now instead of on the first question."""
        if not self._loaded:
            _ = (self.index, self.reader)  # the properties load on access
            self.embedder.embed(["warm-up"])  # so that answer timings measure answering, not model loading
            self._loaded = True
        return self

    @property
    def reader(self) -> Reader:
        if self._reader is None:
            self._reader = make_reader(self.config, self.embedder)
        return self._reader

    def ask(self, question: str, top_k: int | None = None, since: date | str | None = None,
            until: date | str | None = None) -> Answer:
        started = time.perf_counter()
        question = self._validate(question)
        since, until = _as_date(since, "since"), _as_date(until, "until")
        if since and until and since > until:
            raise InvalidInputError(f"--since {since} is after --until {until}; swap them")
        top_k = self.config.top_k if top_k is None else top_k
        if top_k < 1:
            raise InvalidInputError(f"top-k {top_k} must be at least 1")
        self.load()
        ready = time.perf_counter()
        hits = self._retriever.search(question, top_k, since, until)
        retrieved = time.perf_counter()
        answer = self.reader.read(question, hits)
        read = time.perf_counter()

        if answer.abstained or answer.score < self.config.abstain_threshold or not answer.citations:
            answer = dataclasses.replace(answer, text=ABSTENTION, abstained=True, citations=())
        return dataclasses.replace(
            answer,
            passages=tuple(hits),
            timings_ms={
                "load": (ready - started) * 1000,
                "retrieve": (retrieved - ready) * 1000,
                "read": (read - retrieved) * 1000,
                "total": (read - ready) * 1000,
            },
        )

    def _validate(self, question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise InvalidInputError("the question is empty; ask something, e.g. rag ask \"How far did the missiles fly?\"")
        question = " ".join(question.split())
        if len(question) > self.config.max_question_chars:
            raise InvalidInputError(
                f"the question is {len(question):,} characters long; the limit is {self.config.max_question_chars:,}. "
                "Ask a shorter question"
            )
        return question


def load(index_dir: str | Path = "index", corpus_dir: str | Path = "corpus", config: Config | None = None) -> QA:
    """A QA over ``index_dir``; the first ``ask`` builds the index from ``corpus_dir`` if there is none."""
    return QA(index_dir, corpus_dir, config)


def _as_date(value: date | str | None, name: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(f"--{name} {value!r} is not a date; write it as YYYY-MM-DD") from None
