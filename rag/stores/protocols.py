"""What every store does, keyed by the stable integer key of each chunk, never by a position another file
shares: the vector stores (inner-product search over unit vectors), the keyword stores (BM25), and the
date filter both apply inside their searches.

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

