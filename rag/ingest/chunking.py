"""Sentence-aware chunking with overlap, within the embedder's token limit.

Chunks are runs of whole sentences; the last sentences of one chunk (up to ``overlap_tokens``)
open the next. A sentence longer than a chunk is cut at word boundaries. Every chunk keeps its
character offsets, so ``document.text[chunk.start:chunk.end] == chunk.text``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rag.ingest.sentences import sentence_spans
from rag.types import Chunk, Document

TokenCounter = Callable[[str], int]
_WORD = re.compile(r"\S+")


def word_count(text: str) -> int:
    """A tokenizer-free stand-in for tests: roughly 1.3 word pieces per English word."""
    return int(len(text.split()) * 1.3) + 1


def chunk_document(
    document: Document, count_tokens: TokenCounter, max_tokens: int, overlap_tokens: int,
    sentences: list[tuple[int, int]] | None = None,
) -> list[Chunk]:
    """``sentences``: the document's sentence spans when the caller has them (the build splits each
    article once, for tagging and chunking: splitting costs near a tenth of a build); else split here."""
    pieces = [
        piece
        for sentence in (sentence_spans(document.text) if sentences is None else sentences)
        for piece in _fit(document.text, sentence, count_tokens, max_tokens)
    ]
    groups: list[list[tuple[int, int, int]]] = []
    current: list[tuple[int, int, int]] = []
    for piece in pieces:
        if current and _tokens(current) + piece[2] > max_tokens:
            groups.append(current)
            current = _tail(current, overlap_tokens, room=max_tokens - piece[2])
        current.append(piece)
    if current:
        groups.append(current)
    return [
        Chunk(
            chunk_id=f"{document.doc_id}#{number}",
            doc_id=document.doc_id,
            start=group[0][0],
            end=group[-1][1],
            text=document.text[group[0][0] : group[-1][1]],
        )
        for number, group in enumerate(groups)
    ]


def _tokens(pieces: list[tuple[int, int, int]]) -> int:
    return sum(tokens for _, _, tokens in pieces)


def _tail(pieces: list[tuple[int, int, int]], overlap_tokens: int, room: int) -> list[tuple[int, int, int]]:
    """The trailing pieces that fit in the overlap budget and leave room for the next piece."""
    tail: list[tuple[int, int, int]] = []
    for piece in reversed(pieces):
        if _tokens(tail) + piece[2] > min(overlap_tokens, room):
            break
        tail.insert(0, piece)
    return tail


def _fit(text: str, span: tuple[int, int], count_tokens: TokenCounter, max_tokens: int) -> list[tuple[int, int, int]]:
    """(start, end, tokens) of the sentence span itself, or of word-boundary windows of it when it is
    longer than a chunk."""
    start, end = span
    if (tokens := count_tokens(text[start:end])) <= max_tokens:
        return [(start, end, tokens)]
    windows, window_start, window_end = [], None, None
    for word in _WORD.finditer(text, start, end):
        if window_start is not None and count_tokens(text[window_start : word.end()]) > max_tokens:
            windows.append((window_start, window_end))
            window_start = None
        if window_start is None:
            window_start = word.start()
        window_end = word.end()
    windows.append((window_start, window_end))
    return [(a, b, count_tokens(text[a:b])) for a, b in windows]
