"""Every swappable part by name: article formats, vector and keyword stores, readers. A new one is one new
file (a class that meets its protocol) and one line here.

The lines are data, naming where each class lives, so that a setting can be checked (rag.config) and a
file's format known without importing any backend; a class is imported when it is first used.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Part:
    name: str  # as settings, the CLI and an index's manifest name it
    where: str  # "module:Class"
    # What chooses it, where that is not its name: a loader's file suffixes, the --store values of a vector
    # store (one ending in "://" takes any address after it, as in milvus://host:19530).
    spellings: tuple[str, ...] = ()

    def implementation(self) -> type:
        module, _, name = self.where.partition(":")
        return getattr(importlib.import_module(module), name)

    def chosen_by(self, value: str) -> bool:
        if not self.spellings:
            return value == self.name
        return any(value == spelling or (spelling.endswith("://") and value.startswith(spelling))
                   for spelling in self.spellings)


# Article formats (rag.ingest.loaders.base.Loader); a file's suffix chooses its loader.
LOADERS = (
    Part("text", "rag.ingest.loaders.text:TextLoader", (".txt", ".md")),
    Part("html", "rag.ingest.loaders.html:HtmlLoader", (".html", ".htm")),
    Part("jsonl", "rag.ingest.loaders.jsonl:JsonlLoader", (".jsonl", ".ndjson")),
    Part("csv", "rag.ingest.loaders.csv:CsvLoader", (".csv",)),
    Part("feed", "rag.ingest.loaders.feeds:FeedLoader", (".rss", ".atom", ".xml")),
    Part("pdf", "rag.ingest.loaders.pdf:PdfLoader", (".pdf",)),
)
# Where chunk text, sentences and articles live (rag.stores.protocols.ChunkStore); the vector store picks:
# in its collections on a Milvus server, in SQLite in the index directory otherwise.
CHUNK_STORES = (
    Part("sqlite", "rag.stores.sqlite:SqliteChunkStore"),
    Part("milvus", "rag.stores.milvus_chunks:MilvusChunkStore"),
)
# Where chunk vectors live (rag.stores.protocols.VectorStore).
VECTOR_STORES = (
    Part("faiss-flat", "rag.stores.faiss:FaissVectorStore", ("faiss-flat",)),
    Part("faiss-ivf", "rag.stores.faiss:FaissIVFVectorStore", ("faiss-ivf",)),
    Part("milvus", "rag.stores.milvus:MilvusVectorStore", ("milvus-lite", "milvus://", "http://", "https://")),
)
# "faiss": exact or approximate FAISS by the size of the archive (rag.stores.backends.resolve_location).
AUTOMATIC_VECTOR_STORE = "faiss"
# Where BM25 keywords live (rag.stores.protocols.KeywordStore).
KEYWORD_STORES = (
    Part("tantivy", "rag.stores.tantivy:TantivyKeywordIndex"),
    Part("milvus-bm25", "rag.stores.milvus:MilvusKeywordIndex"),
)
# Readers (rag.readers.base.Reader); "auto" picks seq2seq when its model is on disk, else extractive.
READERS = (
    Part("extractive", "rag.readers.extractive:ExtractiveReader"),
    Part("seq2seq", "rag.readers.seq2seq:Seq2SeqReader"),
    Part("qa", "rag.readers.qa:QAReader"),
)

AUTO_READER = "auto"

SUFFIXES = tuple(suffix for part in LOADERS for suffix in part.spellings)


def chosen(parts: tuple[Part, ...], value: str) -> Part | None:
    """The part a setting's ``value`` chooses (a name, a suffix, a --store value), if any."""
    return next((part for part in parts if part.chosen_by(value)), None)


def named(parts: tuple[Part, ...], name: str) -> Part | None:
    """The part of that name (as an index's manifest records it), if any."""
    return next((part for part in parts if part.name == name), None)


def names(parts: tuple[Part, ...]) -> tuple[str, ...]:
    return tuple(part.name for part in parts)
