"""The reader protocol and the citation plumbing every reader shares.

Passages are numbered [1]..[k] in retrieval order. A citation is the sentence an answer rests on,
located by character offsets in its article.
"""

from __future__ import annotations

import logging
import re
from typing import Protocol

from rag.sentences import sentence_spans
from rag.types import Answer, Citation, Hit

log = logging.getLogger(__name__)

_MARKER = re.compile(r"\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]")
_WORD = re.compile(r"\w+")
# Words that shape a question but say nothing about its subject.
QUESTION_WORDS = frozenset(
    "how what which who whom whose when where why did does do is are was were has have had far many much long "
    "can could would will".split()
)
_STOP = frozenset(
    "a an the of in on at to for from by with and or is are was were be been did do does what which who whom whose "
    "when where why how that this these those it its as about into than after before".split()
)


class Reader(Protocol):
    name: str

    def read(self, question: str, hits: list[Hit]) -> Answer:
        """An answer with citations, and a confidence in ``score`` (0 to 1) for abstention."""
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


def content_words(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.lower()) if word not in _STOP}


def cite_sentence(hit: Hit, start: int, end: int) -> Citation:
    """A citation for ``hit.chunk.text[start:end]``, with offsets into the whole article."""
    chunk = hit.chunk
    return Citation(
        doc_id=chunk.doc_id,
        title=hit.title,
        date=hit.date,
        chunk_id=chunk.chunk_id,
        start=chunk.start + start,
        end=chunk.start + end,
        quote=chunk.text[start:end],
    )


def supporting_citation(answer: str, hit: Hit) -> Citation:
    """The sentence of ``hit`` that shares most words with ``answer`` (the first on a tie)."""
    wanted = content_words(answer)
    spans = sentence_spans(hit.chunk.text) or [(0, len(hit.chunk.text))]
    start, end = max(spans, key=lambda span: len(wanted & content_words(hit.chunk.text[span[0] : span[1]])))
    return cite_sentence(hit, start, end)


def best_supported_passage(answer: str, hits: list[Hit]) -> int | None:
    """Index of the passage sharing most words with ``answer``; None when none shares any."""
    wanted = content_words(answer)
    overlaps = [len(wanted & content_words(hit.chunk.text)) for hit in hits]
    if not overlaps or max(overlaps) == 0:
        return None
    return overlaps.index(max(overlaps))
