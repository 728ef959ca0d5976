"""BM25 keyword search (bm25s) keyed by chunk keys, saved as JSON and .npy files: no pickle."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rag.text import load_bm25s, tokenize

KEYS = "keys.npy"  # the chunk key of each document bm25s numbers by position


class LexicalIndex:
    name = "bm25s"

    def __init__(self, retriever, keys: np.ndarray):
        self._retriever = retriever
        self.keys = np.asarray(keys, dtype=np.int64)

    @classmethod
    def build(cls, keys: np.ndarray, texts: list[str]) -> "LexicalIndex":
        retriever = load_bm25s().BM25()
        retriever.index(tokenize(texts), show_progress=False)
        return cls(retriever, keys)

    @classmethod
    def load(cls, directory: Path) -> "LexicalIndex":
        return cls(load_bm25s().BM25.load(str(directory)), np.load(Path(directory) / KEYS))

    def save(self, directory: Path) -> None:
        self._retriever.save(str(directory), show_progress=False)
        np.save(Path(directory) / KEYS, self.keys)

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(keys, scores) of the best ``k`` chunks with a positive score, best first.
        ``allowed``: only these keys may be returned (a date filter)."""
        vocabulary = self._retriever.vocab_dict
        terms = [term for term in tokenize([query])[0] if term in vocabulary]
        total = int(self._retriever.scores["num_docs"])
        if not terms or total == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = self._retriever.get_scores(terms)
        if allowed is not None:
            scores = np.where(np.isin(self.keys, allowed), scores, 0.0)
        k = min(k, total)
        positions = np.argpartition(-scores, k - 1)[:k]
        positions = positions[np.argsort(-scores[positions], kind="stable")]
        positions = positions[scores[positions] > 0]
        return self.keys[positions], scores[positions]
