"""A trained extractive question-answering reader over any local checkpoint with a span head
(``AutoModelForQuestionAnswering``: deepset/tinyroberta-squad2, deepset/minilm-uncased-squad2,
distilbert-base-cased-distilled-squad...), pulled once with `rag models pull NAME`.

The model reads each retrieved passage with the question and scores every span as the answer, and
the passage's first token as "no answer" (how SQuAD 2.0 models abstain). Its best span over all
passages is the answer unless no-answer scores higher: then it is withheld whatever else is said of
it. An answer it gives is grounded in its retrieved sentence and ranked first among the shared
candidates, so the citation, several-event answers and answerability work as for every reader; its
own probability (best span against no-answer) stays beside it.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from rag.answers.citations import cite
from rag.answers.model import AnswerModels
from rag.config import Config
from rag.errors import ModelNotAvailableError
from rag.models.local import find_checkpoint, loaded
from rag.query import Query
from rag.readers.base import ranked_with
from rag.types import Answer, Hit

# Question and passage tokens read at once; a longer passage is read in overlapping windows.
MAX_TOKENS = 384
STRIDE = 128
# Answers are a few words: longer spans are not considered (the SQuAD reference code's limit).
MAX_ANSWER_TOKENS = 30


class QAReader:
    name = "qa"

    def __init__(self, checkpoint: str, models: AnswerModels | None = None):
        self.checkpoint = checkpoint
        self.models = models

    @classmethod
    def create(cls, config: Config, models: AnswerModels) -> QAReader:
        checkpoint = find_checkpoint(config.qa_model, config.models_dir)
        if checkpoint is None:
            raise ModelNotAvailableError(f"qa model {config.qa_model!r} is not on this machine; download it once "
                                         f"with: rag models pull {config.qa_model}")
        return cls(checkpoint, models)

    def warm_up(self) -> QAReader:
        _tokenizer(self.checkpoint), _model(self.checkpoint)
        return self

    def best_span(self, question: str, hits: list[Hit]) -> tuple[str, int, float, float] | None:
        """(answer text, index of its hit, span score, no-answer score) over the passages, or None."""
        import torch

        if not hits:
            return None
        tokenizer, model = _tokenizer(self.checkpoint), _model(self.checkpoint)
        contexts = [hit.chunk.text for hit in hits]
        inputs = tokenizer([question] * len(contexts), contexts, truncation="only_second", max_length=MAX_TOKENS,
                           stride=STRIDE, return_overflowing_tokens=True, return_offsets_mapping=True,
                           padding=True, return_tensors="pt")
        offsets = inputs.pop("offset_mapping").tolist()
        passage_of = inputs.pop("overflow_to_sample_mapping").tolist()
        in_context = [[sid == 1 for sid in inputs.sequence_ids(row)] for row in range(len(passage_of))]
        # A model without token types (RoBERTa, DistilBERT) refuses them; its forward signature says.
        accepted = inspect.signature(model.forward).parameters
        with torch.inference_mode():
            output = model(**{key: value for key, value in inputs.items() if key in accepted})
        starts, ends = output.start_logits.numpy(), output.end_logits.numpy()
        best, no_answer = None, math.inf
        for row, passage in enumerate(passage_of):
            no_answer = min(no_answer, float(starts[row, 0] + ends[row, 0]))
            found = _best_in_row(starts[row], ends[row], in_context[row])
            if found and (best is None or found[0] > best[0]):
                score, first, last = found
                start, end = offsets[row][first][0], offsets[row][last][1]
                best = (score, contexts[passage][start:end].strip(), passage)
        if best is None:
            return None
        score, text, passage = best
        return text, passage, score, no_answer

    def read(self, query: Query, hits: list[Hit]) -> Answer:
        found = self.best_span(query.text, hits)
        if found is None or not found[0]:
            return Answer(question=query.asked, text="", abstained=True, reader=self.name)
        text, passage, score, no_answer = found
        probability = 1.0 / (1.0 + math.exp(no_answer - score))
        ranked = ranked_with(text, [hits[passage]], hits, query, self.models)
        if score <= no_answer or not ranked:
            return Answer(question=query.asked, text=text, abstained=True, reader=self.name, probability=probability,
                          candidates=tuple(ranked))
        best = ranked[0]
        return Answer(question=query.asked, text=best.text, abstained=False, citations=(cite(best, query),),
                      reader=self.name, probability=probability, candidates=tuple(ranked))


def _best_in_row(starts: np.ndarray, ends: np.ndarray, in_context: list[bool]) -> tuple[float, int, int] | None:
    """The highest start + end score of a span inside the passage, at most MAX_ANSWER_TOKENS long."""
    positions = np.flatnonzero(in_context)
    if not len(positions):
        return None
    start_scores, end_scores = starts[positions], ends[positions]
    # scores[i, j]: span from the i-th to the j-th passage token; only j >= i and short enough count.
    scores = start_scores[:, None] + end_scores[None, :]
    length = positions[None, :] - positions[:, None]
    scores[(length < 0) | (length >= MAX_ANSWER_TOKENS)] = -np.inf
    first, last = np.unravel_index(int(np.argmax(scores)), scores.shape)
    return float(scores[first, last]), int(positions[first]), int(positions[last])


def _tokenizer(checkpoint: str):
    return loaded("AutoTokenizer", checkpoint, "qa model")


def _model(checkpoint: str):
    return loaded("AutoModelForQuestionAnswering", checkpoint, "qa model")
