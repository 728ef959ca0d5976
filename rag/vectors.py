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
        self._selectors: dict[tuple, object] = {}  # (since, until) -> its ID selector, until keys change

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
        self._selectors.clear()
        if len(keys):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(keys, dtype=np.int64))

    def remove(self, keys: np.ndarray) -> None:
        import faiss

        self._selectors.clear()
        self.index.remove_ids(faiss.IDSelectorArray(np.asarray(keys, dtype=np.int64)))

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
        return self.index.search(queries, k, params=faiss.SearchParameters(sel=self._selector(where)))

    def _selector(self, where: DateFilter):
        """The ID selector of a date range, built once: over a million chunks, building it from the
        allowed keys costs more than the search it narrows."""
        import faiss

        key = (where.since, where.until)
        if key not in self._selectors:
            if len(self._selectors) >= 16:
                self._selectors.clear()
            self._selectors[key] = faiss.IDSelectorBatch(np.asarray(where.allowed_keys(), dtype=np.int64))
        return self._selectors[key]


class FaissIVFVectorStore(FaissVectorStore):
    """Approximate search: an inverted-file index over k-means lists, trained on the first vectors
    added. It keeps ids itself (a hash-table direct map), so removing and reading back by key work in
    place. Chosen over HNSW as the first approximate backend because it builds ten times faster and
    removes ids without deletion markers (bench/ann.py, docs/storage.md)."""

    name = "faiss-ivf"
    # Lists probed per query: more is slower and closer to exact. Recall must be measured on vectors
    # shaped like real embeddings before this is tuned (docs/storage.md); 32 is FAISS's usual start.
    NPROBE = 32

    def __init__(self, index, dimension: int, nprobe: int = NPROBE):
        super().__init__(index)
        self.dimension = dimension
        self.nprobe = nprobe

    @classmethod
    def create(cls, directory: Path, dimension: int) -> "FaissIVFVectorStore":
        return cls(None, dimension)

    @classmethod
    def open(cls, directory: Path, entry: dict) -> "FaissIVFVectorStore":
        import faiss

        index = faiss.read_index(str(Path(directory) / FAISS_FILE))
        return cls(index, index.d, int(entry.get("nprobe", cls.NPROBE)))

    def save(self, directory: Path) -> dict:
        return {**super().save(directory), "vectors": self.name, "nlist": self.index.nlist, "nprobe": self.nprobe}

    def __len__(self) -> int:
        return 0 if self.index is None else self.index.ntotal

    def add(self, keys: np.ndarray, vectors: np.ndarray, days: np.ndarray | None = None) -> None:
        if self.index is None:
            self.index = _trained_ivf(np.ascontiguousarray(vectors, dtype=np.float32), self.dimension)
        super().add(keys, vectors, days)

    def search(self, queries: np.ndarray, k: int, where: DateFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        parameters = faiss.SearchParametersIVF(sel=None if where is None else self._selector(where), nprobe=self.nprobe)
        return self.index.search(np.ascontiguousarray(queries, dtype=np.float32), min(k, max(len(self), 1)), params=parameters)


def _trained_ivf(vectors: np.ndarray, dimension: int):
    """An IVF index with about 4 sqrt(n) lists (FAISS's rule of thumb), and at least 39 training
    vectors per list (fewer and k-means warns and places lists badly): one list for a tiny archive.
    k-means sees at most 64 vectors per list, a fixed sample: more costs time and changes little."""
    import faiss

    lists = max(1, min(int(4 * np.sqrt(len(vectors))), len(vectors) // 39))
    sample = np.random.default_rng(0).choice(len(vectors), min(len(vectors), 64 * lists), replace=False)
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, lists, faiss.METRIC_INNER_PRODUCT)
    index.set_direct_map_type(faiss.DirectMap.Hashtable)
    index.train(vectors[np.sort(sample)])
    return index


def backends() -> dict:
    from rag.milvus import MilvusVectorStore

    return {store.name: store for store in (FaissVectorStore, FaissIVFVectorStore, MilvusVectorStore)}


LOCAL_STORES = {"faiss": FaissVectorStore, "faiss-ivf": FaissIVFVectorStore}


def check_location(location: str) -> None:
    from rag.milvus import is_milvus

    if location not in LOCAL_STORES and not is_milvus(location):
        raise InvalidInputError(f"unknown vector store {location!r}; use faiss, faiss-ivf (approximate), milvus-lite "
                                "or a Milvus URI such as milvus://localhost:19530")


def create_vector_store(location: str, directory: Path, dimension: int) -> VectorStore:
    """An empty store for a new build in ``directory``: "faiss" (exact), "faiss-ivf" (approximate),
    "milvus-lite" (a Milvus Lite file in the directory) or a Milvus server URI such as milvus://host:19530."""
    check_location(location)
    if location in LOCAL_STORES:
        return LOCAL_STORES[location].create(directory, dimension)
    from rag.milvus import MilvusVectorStore

    return MilvusVectorStore.create(location, directory, dimension)


def location_of(entry: dict) -> str:
    """The --store value that builds the same kind of store as a manifest entry."""
    if entry.get("vectors") == "milvus":
        return entry.get("uri", "milvus-lite")
    return "faiss-ivf" if entry.get("vectors") == FaissIVFVectorStore.name else "faiss"


def open_vector_store(directory: Path, entry: dict) -> VectorStore:
    return backends()[entry["vectors"]].open(directory, entry)
