"""The reader protocol and what every reader shares: passages numbered [1]..[k] for a model,
and citation markers parsed back from what it wrote."""

from __future__ import annotations

import logging
import re
from typing import Protocol

from rag.answers.model import AnswerModels
from rag.config import Config
from rag.query import Query
from rag.types import Answer, Hit

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
