"""Choosing a store: from a --store or --keywords value, or the entry an index's manifest keeps, to the
class rag.registry names for it; an empty store for a full write, or a committed one opened again."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rag.config import Config, check_vector_store
from rag.errors import IndexMismatchError
from rag.registry import AUTOMATIC_VECTOR_STORE, CHUNK_STORES, KEYWORD_STORES, VECTOR_STORES, Part, chosen, named, names
from rag.stores.protocols import ChunkStore, KeywordStore, VectorStore


def resolve_location(location: str, chunks: int, exact_below: int) -> str:
    """The store a full write of ``chunks`` chunks makes: "faiss" is exact below ``exact_below``, approximate above."""
    if location == AUTOMATIC_VECTOR_STORE:
        return "faiss-flat" if chunks < exact_below else "faiss-ivf"
    return location


def create_vector_store(location: str, directory: Path, dimension: int, config: Config) -> VectorStore:
    """An empty store for a full write in ``directory``: "faiss-flat" (exact), "faiss-ivf" (approximate),
    "milvus-lite" (a Milvus Lite file in the directory) or a Milvus server URI such as milvus://host:19530."""
    check_vector_store(location)
    if location == AUTOMATIC_VECTOR_STORE:
        raise ValueError('"faiss" picks exact or approximate by size: pass it through resolve_location first')
    return chosen(VECTOR_STORES, location).implementation().create(location, directory, dimension, config)


def create_keyword_store(directory: Path, vectors: VectorStore, kind: str | None) -> KeywordStore:
    """An empty keyword store for a full write of the index in ``directory``: ``kind`` as --keywords names
    it, or None for the one that suits ``vectors`` (Milvus's own BM25 on a Milvus server, tantivy otherwise)."""
    return chosen(KEYWORD_STORES, kind or vectors.default_keywords).implementation().create(directory, vectors)


def chunk_store_beside(vectors: VectorStore) -> type[ChunkStore]:
    """The chunk store a full write puts beside ``vectors``: on the same server, or in the index directory."""
    return named(CHUNK_STORES, vectors.chunk_store).implementation()


def open_chunk_store(directory: Path, entry: dict, generation: int) -> ChunkStore:
    """The chunk store a manifest's ``backends`` entry names, at ``generation``."""
    return _part(CHUNK_STORES, entry, "store", directory).implementation().open(directory, entry, generation)


def open_vector_store(directory: Path, entry: dict, generation: int, hidden: np.ndarray) -> VectorStore:
    """The vector store a manifest's ``backends`` entry names, at ``generation``, less ``hidden`` keys."""
    return _part(VECTOR_STORES, entry, "vectors", directory).implementation().open(directory, entry, generation, hidden)


def open_stores(directory: Path, entry: dict, generation: int, hidden: np.ndarray) -> tuple[VectorStore, KeywordStore]:
    """The vector and keyword stores a manifest's ``backends`` entry names, at ``generation``, less ``hidden`` keys."""
    vectors = open_vector_store(directory, entry, generation, hidden)
    try:
        keywords = _part(KEYWORD_STORES, entry, "keywords", directory).implementation()
        return vectors, keywords.open(directory, entry, vectors, generation, hidden)
    except BaseException:
        vectors.close()
        raise


def location_of(entry: dict) -> str:
    """The --store value that builds the same kind of store as a manifest's ``backends`` entry."""
    part = named(VECTOR_STORES, entry.get("vectors"))
    return part.implementation().location(entry) if part else AUTOMATIC_VECTOR_STORE


def check_backends(entry: dict, directory: Path) -> None:
    """IndexMismatchError unless this rag can read the stores a manifest's ``backends`` entry names."""
    for kind, parts in (("store", CHUNK_STORES), ("vectors", VECTOR_STORES), ("keywords", KEYWORD_STORES)):
        _part(parts, entry, kind, directory)


def _part(parts: tuple[Part, ...], entry: dict, kind: str, directory: Path) -> Part:
    part = named(parts, entry.get(kind))
    if part is None:
        raise IndexMismatchError(
            f"index {directory} was built with {kind} backend {entry.get(kind)!r}, which this rag cannot read "
            f"(it reads {', '.join(names(parts))}); rebuild it with: rag index --rebuild --index {directory}")
    return part
