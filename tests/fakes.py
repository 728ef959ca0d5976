"""Deterministic stand-ins for tests where a real model is not the point."""

from __future__ import annotations

import hashlib

import numpy as np


class HashEmbedder:
    """Unit vectors seeded by SHA-256 of each word, summed: same text, same vector; shared words, closer vectors."""

    name = "hash-embedder"

    def __init__(self, dimension: int = 32):
        self.dimension = dimension
        self.calls: list[list[str]] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
                vectors[row] += np.random.default_rng(seed).standard_normal(self.dimension).astype(np.float32)
            norm = np.linalg.norm(vectors[row])
            vectors[row] = vectors[row] / norm if norm else vectors[row]
        return vectors

    @property
    def embedded_texts(self) -> list[str]:
        return [text for call in self.calls for text in call]
