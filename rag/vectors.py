"""Vector stores: inner-product search over unit vectors (cosine similarity), keyed by the stable
integer key of each chunk, never by a position another file shares.

One protocol and two backends: FAISS in the index directory (exact, flat), and Milvus
(rag.milvus), embedded through Milvus Lite or on a server. A date filter is applied inside the
search (FAISS: an ID selector over the allowed keys; Milvus: a filter expression on its own date
field), never by scanning everything and masking afterwards. A new backend is one more class
registered in BACKENDS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from rag.errors import InvalidInputError

FAISS_FILE = "vectors.faiss"


@dataclass(frozen=True)
class DateFilter:
    """Only chunks of articles dated within [since, until]; an undated article is in no range."""

    since: date | None
    until: date | None
    # The allowed chunk keys, for stores that filter by key; read from the chunk store only when asked.
    allowed_keys: Callable[[], np.ndarray]


def day_number(day: date | None) -> int:
    """A date as yyyymmdd, 0 for none: what stores that filter by date keep beside each vector."""
    return day.year * 10000 + day.month * 100 + day.day if day else 0


class VectorStore(Protocol):
    name: str  # the backend, as the index manifest records it

    def add(self, keys: np.ndarray, vectors: np.ndarray, days: np.ndarray) -> None:
        """Store ``vectors`` under ``keys``, with their articles' dates (``day_number``)."""
        ...

    def remove(self, keys: np.ndarray) -> None: ...

    def search(self, queries: np.ndarray, k: int, where: DateFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, keys), each of shape (len(queries), k); keys are -1 past the last match."""
        ...

    def vectors_of(self, keys: np.ndarray) -> np.ndarray:
        """The stored vectors of ``keys``, in that order (an update reuses them without re-embedding)."""
        ...

    def save(self, directory: Path) -> dict:
        """Make what was added durable; the manifest entry that opens it again."""
        ...

    def close(self) -> None: ...

    def retire(self) -> None:
        """A newer build replaced this one: free what does not go away with the old index directory."""
        ...

    def __len__(self) -> int: ...


class FaissVectorStore:
    """Exact search: a flat inner-product index behind an id map from chunk keys, in one file."""

    name = "faiss-flat"

    def __init__(self, index):
        self.index = index

    @classmethod
    def create(cls, directory: Path, dimension: int) -> "FaissVectorStore":
        import faiss

        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)))

    @classmethod
    def open(cls, directory: Path, entry: dict) -> "FaissVectorStore":
        import faiss

        return cls(faiss.read_index(str(Path(directory) / FAISS_FILE)))

    def save(self, directory: Path) -> dict:
        import faiss

        faiss.write_index(self.index, str(Path(directory) / FAISS_FILE))
        return {"vectors": self.name}

    def close(self) -> None:
        pass

    def retire(self) -> None:
        pass  # the file goes with the old directory

    def __len__(self) -> int:
        return self.index.ntotal

    def add(self, keys: np.ndarray, vectors: np.ndarray, days: np.ndarray | None = None) -> None:
        if len(keys):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(keys, dtype=np.int64))

    def remove(self, keys: np.ndarray) -> None:
        import faiss

        self.index.remove_ids(faiss.IDSelectorBatch(np.asarray(keys, dtype=np.int64)))

    def vectors_of(self, keys: np.ndarray) -> np.ndarray:
        if not len(keys):
            return np.zeros((0, self.index.d), dtype=np.float32)
        return np.stack([self.index.reconstruct(int(key)) for key in keys])

    def keys(self) -> np.ndarray:
        import faiss

        return faiss.vector_to_array(self.index.id_map)

    def search(self, queries: np.ndarray, k: int, where: DateFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        queries = np.ascontiguousarray(queries, dtype=np.float32)
        k = min(k, max(len(self), 1))
        if where is None:
            return self.index.search(queries, k)
        selector = faiss.IDSelectorBatch(np.asarray(where.allowed_keys(), dtype=np.int64))
        return self.index.search(queries, k, params=faiss.SearchParameters(sel=selector))


def backends() -> dict:
    from rag.milvus import MilvusVectorStore

    return {FaissVectorStore.name: FaissVectorStore, MilvusVectorStore.name: MilvusVectorStore}


def check_location(location: str) -> None:
    if location != "faiss" and location != "milvus-lite" and not location.startswith(("milvus://", "http://", "https://")):
        raise InvalidInputError(f"unknown vector store {location!r}; use faiss, milvus-lite or a Milvus URI such as "
                                "milvus://localhost:19530")


def create_vector_store(location: str, directory: Path, dimension: int) -> VectorStore:
    """An empty store for a new build in ``directory``: "faiss", "milvus-lite" (a Milvus Lite file
    in the directory) or a Milvus server URI such as milvus://host:19530."""
    check_location(location)
    if location == "faiss":
        return FaissVectorStore.create(directory, dimension)
    from rag.milvus import MilvusVectorStore

    return MilvusVectorStore.create(location, directory, dimension)


def location_of(entry: dict) -> str:
    """The --store value that builds the same kind of store as a manifest entry."""
    if entry.get("vectors") == "milvus":
        return entry.get("uri", "milvus-lite")
    return "faiss"


def open_vector_store(directory: Path, entry: dict) -> VectorStore:
    return backends()[entry["vectors"]].open(directory, entry)
