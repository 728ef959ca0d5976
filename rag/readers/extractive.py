"""The offline default reader: the best typed candidate span of the retrieved sentences.

Candidates (people, dates, distances, noun phrases... tagged at index time) are ranked by a
logistic model over general features (rag.answers.candidates); the best span is the answer and
its sentence the citation. No generation, so the answer is always words of the archive.
"""

from __future__ import annotations

from rag.answers.citations import cite
from rag.answers.model import AnswerModels
from rag.answers.ranking import rank
from rag.config import Config
from rag.query import QUOTE, Query
from rag.types import Answer, Hit


class ExtractiveReader:
    name = "extractive"

    def __init__(self, models: AnswerModels):
        self.models = models

    @classmethod
    def create(cls, config: Config, models: AnswerModels) -> ExtractiveReader:
        return cls(models)

    def warm_up(self) -> ExtractiveReader:
        return self  # the span head reads the embedder's encoder, which the pipeline warms

    def read(self, query: Query, hits: list[Hit]) -> Answer:
        ranked = rank(query, hits, self.models)
        if not ranked:
            return Answer(question=query.asked, text="", abstained=True, reader=self.name)
        best = ranked[0]
        return Answer(
            question=query.asked,
            text=best.text.strip(" ,.") if best.kind == QUOTE else best.text,
            abstained=False,
            citations=(cite(best, query),),
            reader=self.name,
            probability=best.score,
            candidates=tuple(ranked),
        )
