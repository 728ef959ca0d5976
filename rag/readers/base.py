"""The reader protocol and what every reader shares: passages numbered [1]..[k] for a model,
and citation markers parsed back from what it wrote."""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Protocol

from rag.answers.model import AnswerModels
from rag.answers.ranking import rank
from rag.config import Config
from rag.query import PHRASE, Query
from rag.types import Answer, Candidate, Hit, Sentence, TypedSpan

log = logging.getLogger(__name__)

_MARKER = re.compile(r"\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]")


class Reader(Protocol):
    name: str  # as rag.registry.READERS names it

    @classmethod
    def create(cls, config: Config, models: AnswerModels) -> Reader:
        """The reader the config describes, sharing the learned candidate ranker ``models``; light: any
        model it needs loads on the first question, or at ``warm_up``."""
        ...

    def warm_up(self) -> Reader:
        """Load its model now rather than on the first question (ModelNotAvailableError if it cannot)."""
        ...

    def read(self, query: Query, hits: list[Hit]) -> Answer:
        """An answer citing the sentence it rests on, with its ranked candidates for answerability."""
        ...


def passage_line(number: int, hit: Hit) -> str:
    """A passage as a reader model sees it: ``[n] (title, date) text``."""
    dated = f", {hit.date.isoformat()}" if hit.date else ""
    return f"[{number}] ({hit.title[:80]}{dated}) {hit.chunk.text}"


def parse_markers(text: str, passage_count: int) -> tuple[str, list[int]]:
    """The text without ``[n]`` markers, and the distinct 0-based passage indices they name.

    Markers outside 1..passage_count are dropped with a warning: a model can invent them.
    """
    indices: list[int] = []
    for match in _MARKER.finditer(text):
        for number in (int(part) for part in match.group(1).split(",")):
            if 1 <= number <= passage_count:
                if number - 1 not in indices:
                    indices.append(number - 1)
            else:
                log.warning("dropped citation [%d]: there are only %d passages", number, passage_count)
    cleaned = re.sub(r"\s+([.,;:!?])", r"\1", _MARKER.sub("", text))
    return " ".join(cleaned.split()), indices


def ranked_with(text: str, preferred: list[Hit], hits: list[Hit], query: Query, models: AnswerModels
                ) -> list[Candidate]:
    """The shared ranked candidates, with a model's answer ``text`` first where it is words of a retrieved
    sentence (looked for in ``preferred`` hits first), so that answerability judges every reader alike."""
    grounded = _ground(text, preferred)
    ranked = rank(query, _with_span(hits, *grounded) if grounded else hits, models)
    if grounded:
        sentence, start, end = grounded
        matching = [c for c in ranked if c.sentence.sentence_id == sentence.sentence_id
                    and (c.span_start, c.span_end) == (start, end)]
        ranked = matching[:1] + [c for c in ranked if c not in matching[:1]]
    return ranked


def _ground(text: str, hits: list[Hit]) -> tuple[Sentence, int, int] | None:
    """The first retrieved sentence holding ``text`` (case-insensitively), and where."""
    wanted = text.strip(" .").lower()
    for hit in hits:
        for sentence in hit.sentences:
            position = sentence.text.lower().find(wanted)
            if wanted and position >= 0:
                return sentence, position, position + len(wanted)
    return None


def _with_span(hits: list[Hit], sentence: Sentence, start: int, end: int) -> list[Hit]:
    """The hits with the model's span added to its sentence, so it is ranked like any candidate."""
    span = TypedSpan(start, end, PHRASE, sentence.text[start:end])
    grown = dataclasses.replace(sentence, spans=sentence.spans + (span,))
    return [
        dataclasses.replace(hit, sentences=tuple(grown if s.sentence_id == sentence.sentence_id else s
                                                 for s in hit.sentences))
        for hit in hits
    ]

