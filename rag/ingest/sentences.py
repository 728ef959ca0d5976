"""Sentence boundaries with character offsets, shared by the chunker, the readers and titles.

pysbd is rule-based (no model download) and copes with news abbreviations such as "U.S." and
"Jan. 5" that a naive split on full stops breaks. Its time grows with the square of a paragraph's
length (a 1 MB paragraph takes eight minutes), so a long paragraph is first cut into blocks of
about ``BLOCK_CHARS`` at a likely sentence end, and each block is segmented on its own.
"""

from __future__ import annotations

import re
from functools import lru_cache

_LINE_BREAKS = re.compile(r"\n\s*")
BLOCK_CHARS = 5_000
_LIKELY_END = re.compile(r"[.!?][\"'”’)]*\s+")
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)  # offsets found here: its char_span mode is slower still


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in ``text``, whitespace trimmed, in order.

    Line breaks always end a sentence: news text puts headlines and paragraphs on their own lines.
    """
    spans = []
    position = 0
    for paragraph in _LINE_BREAKS.split(text):
        offset = text.index(paragraph, position) if paragraph else position
        position = offset + len(paragraph)
        for block_start, block_end in _blocks(paragraph):
            block = paragraph[block_start:block_end]
            if not block.strip():
                continue
            # Each sentence runs from where the last one ended, so that what pysbd leaves out ("Hi. ♬ Bye."
            # comes back as "Hi. " alone) stays in a sentence; a piece it changed takes the rest of the block.
            done = 0
            for piece in [*_segmenter().segment(block), None]:
                found = -1 if piece is None else block.find(piece, done)
                end = len(block) if found < 0 else found + len(piece)
                start, stop = _trim(text, offset + block_start + done, offset + block_start + end)
                if start < stop:
                    spans.append((start, stop))
                done = end
    return spans


def _blocks(paragraph: str) -> list[tuple[int, int]]:
    """(start, end) of pieces of at most about BLOCK_CHARS, each cut after a likely sentence end, else
    at a space, else anywhere (a run of characters with no space at all)."""
    blocks, start = [], 0
    while len(paragraph) - start > BLOCK_CHARS:
        window = paragraph[start : start + BLOCK_CHARS]
        cuts = [match.end() for match in _LIKELY_END.finditer(window)] or [m.end() for m in _SPACE.finditer(window)]
        cut = start + (cuts[-1] if cuts and cuts[-1] > BLOCK_CHARS // 2 else BLOCK_CHARS)
        blocks.append((start, cut))
        start = cut
    blocks.append((start, len(paragraph)))
    return blocks


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
