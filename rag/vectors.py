"""Vector stores: inner-product search over unit vectors (cosine similarity), keyed by the stable
integer key of each chunk, never by a position another file shares.

One protocol, one FAISS backend. A flat index is exact and fast enough for archives of a few
hundred thousand chunks on a laptop; an approximate or a distributed backend is one more class here.
A filter (the keys a date range allows) is applied inside the search, not by scanning and masking.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np


class VectorStore(Protocol):
    name: str  # the backend, as the index manifest records it

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None: ...

    def remove(self, keys: np.ndarray) -> None: ...

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, keys), each of shape (len(queries), k); keys are -1 past the last match.
        ``allowed``: only these keys may be returned."""
        ...

    def vectors_of(self, keys: np.ndarray) -> np.ndarray:
        """The stored vectors of ``keys``, in that order (an update reuses them without re-embedding)."""
        ...

    def __len__(self) -> int: ...


class FaissVectorStore:
    """Exact search: a flat inner-product index behind an id map from chunk keys."""

    name = "faiss-flat"

    def __init__(self, index):
        self.index = index

    @classmethod
    def empty(cls, dimension: int) -> "FaissVectorStore":
        import faiss

        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)))

    @classmethod
    def from_vectors(cls, keys: np.ndarray, vectors: np.ndarray) -> "FaissVectorStore":
        store = cls.empty(vectors.shape[1])
        store.add(keys, vectors)
        return store

    @classmethod
    def load(cls, path: Path) -> "FaissVectorStore":
        import faiss

        return cls(faiss.read_index(str(path)))

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(path))

    def __len__(self) -> int:
        return self.index.ntotal

    @property
    def dimension(self) -> int:
        return self.index.d

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        if len(keys):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(keys, dtype=np.int64))

    def remove(self, keys: np.ndarray) -> None:
        import faiss

        self.index.remove_ids(faiss.IDSelectorBatch(np.asarray(keys, dtype=np.int64)))

    def vectors_of(self, keys: np.ndarray) -> np.ndarray:
        if not len(keys):
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self.index.reconstruct(int(key)) for key in keys])

    def keys(self) -> np.ndarray:
        import faiss

        return faiss.vector_to_array(self.index.id_map)

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        queries = np.ascontiguousarray(queries, dtype=np.float32)
        k = min(k, max(len(self), 1))
        if allowed is None:
            return self.index.search(queries, k)
        selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
        return self.index.search(queries, k, params=faiss.SearchParameters(sel=selector))
