"""The question-answering pipeline, in explicit stages: parse the question once, retrieve passages,
read a short answer from them, judge whether the evidence answers the question, gather every
matching event. Each stage sits behind a small protocol, so any one can be swapped.

Asking never builds an index: ``load`` opens an existing one or says how to build it.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import date
from pathlib import Path
from typing import Protocol

from rag.answers.answerability import Answerability, LearnedAnswerability
from rag.answers.events import compose, matching_events
from rag.answers.model import read_models
from rag.config import Config
from rag.dates import as_date
from rag.errors import InvalidInputError
from rag.indexing.index import open_index
from rag.models.embedders import Embedder, make_embedder
from rag.query import Query, parse_query
from rag.readers import Reader, make_reader
from rag.retrieval import HybridRetriever
from rag.types import Answer, Hit

ABSTENTION = "The archive does not say: no article in the corpus answers this question."


class Retriever(Protocol):
    def search(self, query: Query, top_k: int | None = None, since: date | None = None,
               until: date | None = None) -> list[Hit]:
        ...


class QA:
    """Answers questions with a retriever, a reader and an answerability judge."""

    def __init__(self, retriever: Retriever, reader: Reader, answerability: Answerability, embedder: Embedder,
                 config: Config | None = None):
        self.retriever = retriever
        self.reader = reader
        self.answerability = answerability
        self.embedder = embedder
        self.config = config or Config()

    @property
    def index(self):
        return self.retriever.index

    def using(self, **changes) -> QA:
        """The same index and embedder with other answering settings (reader, model, threshold)."""
        config = self.config.replace(**changes)
        same_reader = (config.reader, config.seq2seq_model, config.qa_model) == (
            self.config.reader, self.config.seq2seq_model, self.config.qa_model)

        reader = self.reader
        if not same_reader:
            reader = make_reader(config, read_models(config.answer_weights))
        return QA(self.retriever, reader, self.answerability, self.embedder, config)

    def warm_up(self) -> QA:
        """Load the embedder now, so that answer timings measure answering, not model loading."""
        self.embedder.embed(["warm-up"])
        return self

    def ask(self, question: str, top_k: int | None = None, since: date | str | None = None,
            until: date | str | None = None, previous: str | None = None) -> Answer:
        """Answer ``question``; ``previous`` (the last question in a chat) resolves a follow-up."""
        started = time.perf_counter()
        question = self._validate(question)
        since, until = as_date(since, "since"), as_date(until, "until")
        if since and until and since > until:
            raise InvalidInputError(f"--since {since} is after --until {until}; swap them")
        top_k = self.config.top_k if top_k is None else top_k
        if top_k < 1:
            raise InvalidInputError(f"top-k {top_k} must be at least 1")
        query = parse_query(question, previous)
        query = dataclasses.replace(query, vector=self.embedder.embed([query.text])[0])
        parsed = time.perf_counter()
        hits = self.retriever.search(query, top_k, since, until)
        retrieved = time.perf_counter()
        answer = dataclasses.replace(self.reader.read(query, hits), passages=tuple(hits))
        read = time.perf_counter()
        probability = self.answerability.probability(query, answer)
        threshold = self.config.abstain_threshold
        threshold = self.answerability.threshold if threshold is None else threshold
        if answer.abstained or probability < threshold or not answer.citations:
            answer = dataclasses.replace(answer, text=ABSTENTION, abstained=True, citations=())
        elif len(events := matching_events(query, answer, self.answerability, threshold)) > 1:
            answer = dataclasses.replace(answer, text=compose(events), citations=tuple(e.citation for e in events),
                                         answers=tuple(events))
        judged = time.perf_counter()
        return dataclasses.replace(
            answer,
            probability=probability,
            resolved_question=query.text,
            timings_ms={
                "parse": (parsed - started) * 1000,
                "retrieve": (retrieved - parsed) * 1000,
                "read": (read - retrieved) * 1000,
                "judge": (judged - read) * 1000,
                "total": (judged - started) * 1000,
            },
        )

    def _validate(self, question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise InvalidInputError("the question is empty; ask something, "
                                    'e.g. rag ask "How far did the missiles fly?"')
        question = " ".join(question.split())
        try:
            question.encode("utf-8")
        except UnicodeEncodeError as error:  # bytes that were not UTF-8, carried in as lone surrogates
            raise InvalidInputError(f"the question is not UTF-8 text (a stray byte at character {error.start + 1}); "
                                    "retype it, or save the file of questions as UTF-8") from None
        if len(question) > self.config.max_question_chars:
            raise InvalidInputError(
                f"the question is {len(question):,} characters long; the limit is {self.config.max_question_chars:,}. "
                "Ask a shorter question"
            )
        return question


def load(index_dir: str | Path = "index", config: Config | None = None, embedder: Embedder | None = None,
         reader: Reader | None = None) -> QA:
    """A QA over the existing index in ``index_dir`` (IndexNotFoundError if there is none)."""
    config = config or Config()
    embedder = embedder or make_embedder(config.embedder)
    index = open_index(index_dir, config)
    models = read_models(config.answer_weights)
    return QA(HybridRetriever(index, embedder, config), reader or make_reader(config, models),
              LearnedAnswerability(models), embedder, config)
