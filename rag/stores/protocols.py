"""What every store does, keyed by the stable integer key of each chunk, never by a position another file
shares: the chunk stores (articles, chunks, sentences and what answering reads of them), the vector
stores (inner-product search over unit vectors), the keyword stores (BM25), and the date filter both
search stores apply inside their searches.

Stores are opened at a generation (the count of commits to the index) and show only what was committed
up to it, less ``hidden`` keys (chunks removed since the last full write). Writes go to the next
generation and show after ``commit``, so an update killed before the manifest names the new generation
leaves every reader's view as it was. Each backend is one file of this package, named in rag.registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.config import Config
from rag.dates import EventDate
from rag.types import Chunk, Document, Sentence


@dataclass(frozen=True)
class DateFilter:
    """Only chunks of articles dated within [since, until], and chunks that talk about a date within it
    (an event date, whatever their article's date); an undated article is otherwise in no range."""

    since: date | None
    until: date | None
    # Read from the chunk store only when asked. Every allowed key, for stores that filter by key...
    allowed_keys: Callable[[], np.ndarray]
    # ... and the keys allowed by their event dates alone, for stores that filter by article date.
    event_keys: Callable[[], np.ndarray] = lambda: np.zeros(0, dtype=np.int64)


def day_number(day: date | None) -> int:
    """A date as yyyymmdd, 0 for none: what stores that filter by date keep beside each vector."""
    return day.year * 10000 + day.month * 100 + day.day if day else 0


class VectorStore(Protocol):
    name: str  # the backend, as the index manifest records it (rag.registry.VECTOR_STORES)
    generation: int
    default_keywords: str  # the keyword store a full write puts beside it unless --keywords names one
    chunk_store: str  # the chunk store a full write puts beside it (rag.registry.CHUNK_STORES)

    @classmethod
    def create(cls, location: str, directory: Path, dimension: int, config: Config) -> VectorStore:
        """An empty store for a full write of the index in ``directory``, as the --store value ``location`` asks."""
        ...

    @classmethod
    def open(cls, directory: Path, entry: dict, generation: int, hidden: np.ndarray) -> VectorStore:
        """The store a manifest's ``backends`` entry (what ``commit`` returned) names, at ``generation``."""
        ...

    @staticmethod
    def location(entry: dict) -> str:
        """The --store value that makes this kind of store again, from a manifest's ``backends`` entry."""
        ...

    def add(self, keys: np.ndarray, vectors: np.ndarray, days: np.ndarray) -> None:
        """Store ``vectors`` under ``keys``, with their articles' dates (``day_number``). An update that only
        removes calls it with no keys (and ``vectors`` of shape (0, 0))."""
        ...

    def remove(self, keys: np.ndarray) -> None: ...

    def search(self, queries: np.ndarray, k: int, where: DateFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, keys), each of shape (len(queries), k); keys are -1 past the last match."""
        ...

    def vectors_of(self, keys: np.ndarray) -> np.ndarray:
        """The stored vectors of ``keys``, in that order (an update reuses them without re-embedding)."""
        ...

    def commit(self, directory: Path) -> dict:
        """Make what was added durable as the next generation; the manifest entry that opens it again.
        What earlier entries name stays as it was."""
        ...

    def discard_after(self, directory: Path, generation: int) -> None:
        """Drop what an update killed before its commit wrote beyond ``generation``."""
        ...

    def close(self) -> None: ...

    def retire(self) -> None:
        """A full write replaced this store: free what does not go away with the old index directory."""
        ...

    def __len__(self) -> int: ...


class KeywordStore(Protocol):
    name: str  # the backend, as the index manifest records it (rag.registry.KEYWORD_STORES)
    generation: int
    hidden: np.ndarray

    @classmethod
    def create(cls, directory: Path, vectors: VectorStore) -> KeywordStore:
        """An empty keyword store for a full write of the index in ``directory``, beside ``vectors``."""
        ...

    @classmethod
    def open(cls, directory: Path, entry: dict, vectors: VectorStore, generation: int,
             hidden: np.ndarray) -> KeywordStore:
        """The store a manifest's ``backends`` entry names, at ``generation``, beside ``vectors``."""
        ...

    def add(self, keys: np.ndarray, texts: list[str], days: np.ndarray) -> None: ...

    def remove(self, keys: np.ndarray) -> None: ...

    def discard_after(self, generation: int) -> None: ...

    def commit(self) -> dict:
        """Make what was added durable as the next generation; the manifest entries that open it again."""
        ...

    def search(self, query: str, k: int, where: DateFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(keys, scores) of the best ``k`` chunks, best first; ``where`` filters inside the search."""
        ...

    def close(self) -> None: ...

    def retire(self) -> None: ...

    def __len__(self) -> int: ...



class ChunkStore(Protocol):
    """Articles, their chunks by key, and their sentences with typed spans, event dates and vectors, as of
    one generation; near-duplicate groups. Rows live at the generation it was opened at, as for the other
    stores; ``hidden_keys`` are the chunks removed since the last full write."""

    name: str  # the backend, as the index manifest records it (rag.registry.CHUNK_STORES)
    generation: int

    @classmethod
    def write(cls, directory: Path, vectors: VectorStore, dimension: int, documents: list[Document],
              keyed_chunks: list[tuple[int, Chunk]], sentences: list[Sentence]) -> dict:
        """A new store for a full write of the index in ``directory``, beside ``vectors``, holding these rows
        as generation 1; the manifest entry that opens it."""
        ...

    @classmethod
    def open(cls, directory: Path, entry: dict, generation: int) -> ChunkStore: ...

    def write_next(self, documents: list[Document], keyed_chunks: list[tuple[int, Chunk]], sentences: list[Sentence],
                   removed_doc_ids: list[str]) -> dict:
        """Write generation + 1 (what an update killed before its commit left discarded first): these rows
        added, the rows of ``removed_doc_ids`` removed; the manifest entry that opens it."""
        ...

    def retire(self) -> None: ...

    def close(self) -> None: ...

    def documents(self) -> list[Document]: ...

    def document(self, doc_id: str) -> Document | None: ...

    def articles(self, doc_ids: set[str]) -> dict[str, tuple[str, date | None, str]]:
        """doc_id -> (title, date, date evidence) of the given articles, without reading their text."""
        ...

    def duplicates(self, doc_ids: set[str] | None = None) -> dict[str, tuple[str, ...]]:
        """doc_id -> its live near-duplicates (rag.ingest.duplicates), for the given articles or every one;
        articles without copies are left out."""
        ...

    def event_dates(self, doc_ids: set[str]) -> dict[str, list[tuple[int, EventDate]]]:
        """doc_id -> (sentence start, event date) of every date the given articles talk about."""
        ...

    def content_hashes(self, doc_ids: list[str] | None = None) -> dict[str, str]: ...

    def catalogue(self, since: date | None = None, until: date | None = None) -> list[tuple]:
        """(doc_id, title, date, date evidence, source, author, chunk count) of the live articles dated
        within [since, until] (every one when neither is given), oldest first and undated last."""
        ...

    def chunk_count(self) -> int: ...

    def sentence_count(self, doc_ids: list[str]) -> int: ...

    def hidden_keys(self) -> np.ndarray: ...

    def chunks(self, keys: list[int] | None = None) -> list[Chunk]: ...

    def keyed_chunks(self, keys: list[int] | None = None) -> list[tuple[int, Chunk]]: ...

    def document_chunks(self, doc_id: str) -> list[tuple[int, Chunk]]: ...

    def keys_dated(self, since: date | None, until: date | None) -> np.ndarray:
        """Keys of the chunks of articles dated within [since, until] (an undated article is in no range)."""
        ...

    def keys_with_events(self, since: date | None, until: date | None) -> np.ndarray:
        """Keys of the chunks holding a sentence that talks about a date within [since, until]."""
        ...

    def max_key(self) -> int:
        """The largest key ever given in this index, removed chunks included: keys are never reused."""
        ...

    def document_sentences(self, doc_id: str) -> list[Sentence]: ...

    def sentences_in(self, chunks: list[Chunk]) -> dict[str, tuple[Sentence, ...]]:
        """chunk_id -> the sentences each chunk overlaps, in order."""
        ...

    def sentence_vectors(self, chunks: list[Chunk]) -> dict[str, np.ndarray]:
        """chunk_id -> the vectors of the sentences each chunk overlaps, one row each (none: no rows);
        the vectors alone, for ranking every candidate chunk, not the few a reader reads."""
        ...
