"""Sentence boundaries with character offsets, shared by the chunker, the readers and titles.

pysbd is rule-based (no model download) and copes with news abbreviations such as "U.S." and
"Jan. 5" that a naive split on full stops breaks.
"""

from __future__ import annotations

import re
from functools import lru_cache

_LINE_BREAKS = re.compile(r"\n\s*")


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in ``text``, whitespace trimmed, in order.

    Line breaks always end a sentence: news text puts headlines and paragraphs on their own lines.
    """
    spans = []
    position = 0
    for paragraph in _LINE_BREAKS.split(text):
        offset = text.index(paragraph, position) if paragraph else position
        position = offset + len(paragraph)
        if not paragraph.strip():
            continue
        search_from = 0
        for piece in _segmenter().segment(paragraph):
            local = paragraph.index(piece.sent, search_from)
            search_from = local + len(piece.sent)
            start, end = _trim(text, offset + local, offset + search_from)
            if start < end:
                spans.append((start, end))
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
