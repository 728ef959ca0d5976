"""Vector stores: exact inner-product search over unit vectors (cosine similarity).

One protocol, one FAISS backend. A flat index is exact and fast enough for archives of a
few hundred thousand chunks on a laptop; an approximate backend would be one more class here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np


class VectorStore(Protocol):
    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows), each of shape (len(queries), k); rows are -1 past the last vector."""
        ...


class FaissVectorStore:
    def __init__(self, index):
        self.index = index

    @classmethod
    def from_vectors(cls, vectors: np.ndarray) -> "FaissVectorStore":
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors)
        return cls(index)

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

    def vectors(self) -> np.ndarray:
        """Every stored vector in row order, so an update can reuse them without re-embedding."""
        return self.index.reconstruct_n(0, self.index.ntotal)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        return self.index.search(queries, min(k, max(len(self), 1)))
