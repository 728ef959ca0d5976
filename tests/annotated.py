"""Hits as the retriever hands them to readers: each chunk with its sentences, their typed spans
(spaCy, as at index time) and their vectors, from short texts written in a test."""

from __future__ import annotations

import dataclasses
from datetime import date

from rag.ingest.tagging import tag_sentences
from rag.query import Query, parse_query
from rag.types import Chunk, Document, Hit


def annotated_hits(texts: list[str], embedder, dates: list[date | None] | None = None,
                   period_match: str | None = None) -> list[Hit]:
    documents = [Document(f"doc{n}", text, f"Article {n}", (dates or [None] * len(texts))[n - 1])
                 for n, text in enumerate(texts, 1)]
    tagged = tag_sentences(documents)
    hits = []
    for document in documents:
        sentences = tagged[document.doc_id]
        vectors = embedder.embed([s.text for s in sentences])
        sentences = tuple(dataclasses.replace(s, vector=v) for s, v in zip(sentences, vectors, strict=True))
        chunk = Chunk(f"{document.doc_id}#0", document.doc_id, 0, len(document.text), document.text)
        # Scores as reciprocal rank fusion gives them when both rankings agree.
        hits.append(Hit(chunk=chunk, score=2 / (60 + len(hits) + 1), title=document.title, date=document.date,
                        period_match=period_match, sentences=sentences))
    return hits


def embedded_query(question: str, embedder, previous: str | None = None) -> Query:
    query = parse_query(question, previous)
    return dataclasses.replace(query, vector=embedder.embed([query.text])[0])
