"""BM25 keyword search (bm25s), saved as JSON and .npy files: no pickle."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rag.text import load_bm25s, tokenize



class LexicalIndex:
    def __init__(self, retriever):
        self._retriever = retriever

    @classmethod
    def build(cls, texts: list[str]) -> "LexicalIndex":
        retriever = load_bm25s().BM25()
        retriever.index(tokenize(texts), show_progress=False)
        return cls(retriever)

    @classmethod
    def load(cls, directory: Path) -> "LexicalIndex":
        return cls(load_bm25s().BM25.load(str(directory)))

    def save(self, directory: Path) -> None:
        self._retriever.save(str(directory), show_progress=False)

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores) of the best ``k`` chunks with a positive score, best first.

        ``allowed`` is an optional boolean mask over rows (for date filters).
        """
        vocabulary = self._retriever.vocab_dict
        terms = [term for term in tokenize([query])[0] if term in vocabulary]
        total = int(self._retriever.scores["num_docs"])
        if not terms or total == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = self._retriever.get_scores(terms)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        k = min(k, total)
        rows = np.argpartition(-scores, k - 1)[:k]
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        rows = rows[scores[rows] > 0]
        return rows, scores[rows]
