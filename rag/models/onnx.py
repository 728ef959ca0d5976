"""The embedding model's encoder on ONNX Runtime, so that neither answering nor embedding needs PyTorch.

Importing PyTorch and sentence-transformers is most of a cold ``rag ask`` (5 of 6.5 s), on a few
short inputs PyTorch spends more time in its own overhead than in arithmetic, and int8 arithmetic
is twice as fast as float32 on long texts. So the model is read through ONNX Runtime:

- **int8** (ONNX Runtime's dynamic quantisation, per output channel) is the default embedder
  (``NAME@int8``, rag.models.embedders) for articles and questions, about twice as fast as PyTorch
  float32 (docs/embedders.md); the span head (rag.answers.span_head) is exported the same way.
- **float32** embeds questions to an index built on PyTorch float32: the same computation (vectors
  agree to 1e-6), so the question meets those chunks in the same space.

The exports are made from the installed model files by set-up (``python -m rag.answers.span_head``) or
else the first time they are needed (which imports PyTorch once, a few seconds), and kept beside the
installed packages, named by model, precision and library versions, so a changed install never reads
a stale file. A model that is not a plain mean-pooled encoder has no export; its callers use PyTorch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import warnings
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.models.local import resolve_model_path

PRECISIONS = ("float32", "int8")
_VERSIONED = ("torch", "transformers", "onnxruntime", "onnx")
# How the int8 export is quantised, part of its name, so that an export made another way is never read.
# Weights in 7 bits (ONNX Runtime's reduce_range): its u8 x s8 kernels on CPUs without VNNI (AVX2
# only) add pairs of products in 16 bits, which 8-bit weights can overflow (2 x 255 x 127), so the
# same export gave other vectors, and other answers, on those CPUs than on VNNI ones
# (docs/embedders.md); with 7-bit weights no pair can (2 x 255 x 64 < 32,768), so the integer
# products are exact on both.
_INT8_QUANTISATION = {"per_channel": True, "reduce_range": True}
_threads: int | None = None  # None: ONNX Runtime's default, a thread per core


def use_threads(threads: int) -> None:
    """Encoders made from now on in this process compute on ``threads`` threads: for a worker process
    given a share of the cores (Ray gives each ingest worker one), where a thread per core in every
    worker would only contend with the others."""
    global _threads
    _threads = threads


class OnnxEncoder:
    """A transformer encoder's token states from an ONNX file, with its model's own tokenizer."""

    def __init__(self, model_file: str | Path, tokenizer_file: str | Path, max_tokens: int = 256):
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # its warnings about unused initialisers are not ours to act on
        # Idle threads that spin waiting for the next input would take the cores a concurrent build needs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if _threads:
            options.intra_op_num_threads = _threads
        self.session = onnxruntime.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self.model_file = Path(model_file)
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.tokenizer_file = str(tokenizer_file)

    @property
    def dimension(self) -> int:
        return int(self.session.get_outputs()[0].shape[-1])

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` without special tokens, whole (not cut at the model's limit): what the chunker counts."""
        return len(self._counter().encode(text, add_special_tokens=False).ids)

    def token_outputs(self, encoded) -> np.ndarray:
        """The model's per-token output (batch, tokens, ...) for tokenizer output: an encoder's token
        states, or a span reader's start and end scores."""
        ids = np.array([item.ids for item in encoded], dtype=np.int64)
        return self.session.run([self.session.get_outputs()[0].name], {
            "input_ids": ids,
            "attention_mask": np.array([item.attention_mask for item in encoded], dtype=np.int64),
            "token_type_ids": np.array([item.type_ids for item in encoded], dtype=np.int64),
        })[0]

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Mean-pooled, unit-length vectors, as sentence-transformers' Pooling and Normalize make them."""
        order = np.argsort([len(text) for text in texts], kind="stable")  # batches of like length pad little
        parts = []
        for start in range(0, len(texts), batch_size):
            encoded = self.tokenizer.encode_batch([texts[row] for row in order[start : start + batch_size]])
            mask = np.array([item.attention_mask for item in encoded], dtype=np.float32)[..., None]
            pooled = (self.token_outputs(encoded) * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1)
            parts.append(pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12))
        vectors = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        vectors[order] = np.concatenate(parts)
        return vectors

    def pair_outputs(self, firsts: list[str], seconds: list[str], max_tokens: int):
        """Per-token outputs of text pairs, each token's character offsets, and which text (0, 1, or -1
        for special tokens) each token came from; the second text is cut to fit ``max_tokens``."""
        encoded = self._pair_tokenizer(max_tokens).encode_batch(list(zip(firsts, seconds, strict=True)))
        sequence = np.array([[-1 if s is None else s for s in item.sequence_ids] for item in encoded])
        return self.token_outputs(encoded), [item.offsets for item in encoded], sequence

    @lru_cache(maxsize=4)  # noqa: B019 (encoders live as long as the process: exported_encoder caches them)
    def _counter(self):
        from tokenizers import Tokenizer

        counter = Tokenizer.from_file(self.tokenizer_file)  # the file may carry padding and truncation settings
        counter.no_padding()
        counter.no_truncation()
        return counter

    @lru_cache(maxsize=4)  # noqa: B019 (as _counter)
    def _pair_tokenizer(self, max_tokens: int):
        """A tokenizer of its own for pairs, so that concurrent callers never see each other's
        truncation settings."""
        return pair_tokenizer(self.tokenizer_file, max_tokens)


def pair_tokenizer(tokenizer_file: str | Path, max_tokens: int):
    """A tokenizer of (question, text) pairs, padded, cut in the second text only: as the span head
    reads pairs, and as its training encodes them."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    tokenizer.enable_truncation(max_length=max_tokens, strategy="only_second")
    return tokenizer


def mean_pooled(model_dir: str | Path) -> bool:
    """Whether a sentence-transformers model is exactly encoder, mean pooling, normalisation: the
    pipeline OnnxEncoder.embed reproduces."""
    model_dir = Path(model_dir)
    try:
        modules = [module["type"].rsplit(".", 1)[-1] for module in json.loads((model_dir / "modules.json").read_text())]
        pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return False
    modes = {key for key, value in pooling.items() if key.startswith("pooling_mode") and value}
    return modules == ["Transformer", "Pooling", "Normalize"] and modes == {"pooling_mode_mean_tokens"} \
        and (model_dir / "tokenizer.json").exists()


def cache_dir() -> Path:
    """Beside the installed packages (a new environment starts clean), or the user's cache when that is read-only."""
    beside = Path(sys.prefix) / "share" / "rag"
    return beside if os.access(sys.prefix, os.W_OK) else Path.home() / ".cache" / "rag"


def export_path(model_dir: str | Path, precision: str) -> Path:
    """Where model ``model_dir``'s encoder export at ``precision`` is kept."""
    return export_file(Path(model_dir).name, str(Path(model_dir).resolve()), precision)


def export_file(stem: str, identity: str, precision: str) -> Path:
    """The file for an export of the model ``identity`` names (its folder, or its weights' digest), at
    ``precision``, made with the installed libraries: a changed model, quantisation or install gets a
    file of its own."""
    from importlib.metadata import PackageNotFoundError, version  # when an export is first looked for, not at import

    versions = []
    for package in _VERSIONED:
        try:
            versions.append(f"{package}={version(package)}")
        except PackageNotFoundError:
            versions.append(f"{package}=none")
    settings = f"{precision}|{sorted(_INT8_QUANTISATION.items())}" if precision == "int8" else precision
    key = hashlib.sha256(f"{identity}|{settings}|{'|'.join(versions)}".encode()).hexdigest()[:16]
    return cache_dir() / f"{stem}-{precision}-{key}.onnx"


def onnx_encoder(name: str, precision: str) -> OnnxEncoder | None:
    """Model ``name``'s ONNX export at ``precision`` (int8 for the default embedder,
    float32 for questions to a float32 index), or None where PyTorch must serve."""
    return exported_encoder(resolve_model_path(name), precision)


@lru_cache(maxsize=4)
def exported_encoder(model_dir: str, precision: str) -> OnnxEncoder | None:
    """The model's encoder at ``precision`` on ONNX Runtime, exported on first use; None when ONNX
    Runtime or onnx is not installed or the model is not a plain mean-pooled encoder (callers use PyTorch)."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return None
    path = export_path(model_dir, precision)
    if not path.exists():
        try:
            import onnx  # noqa: F401  (the exporter's and quantiser's own dependency)
        except ImportError:
            return None
        if not mean_pooled(model_dir):
            return None
        export(path, precision, lambda out: trace(_encoder_module(Path(model_dir)), out, "last_hidden_state"))
    return OnnxEncoder(path, Path(model_dir) / "tokenizer.json", max_tokens=_max_tokens(Path(model_dir)))


def _max_tokens(model_dir: Path) -> int:
    """The input limit sentence-transformers applies to this model."""
    try:
        return int(json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return 512


def prepare(model_dir: str | Path) -> list[Path]:
    """Both exports of a model made now (set-up runs this), so no first question waits for them."""
    if not mean_pooled(model_dir):
        return []
    made = [export_path(model_dir, precision) for precision in PRECISIONS]
    for precision, path in zip(PRECISIONS, made, strict=True):  # nothing to do for one that exists
        export(path, precision, lambda out: trace(_encoder_module(Path(model_dir)), out, "last_hidden_state"))
    return made


def export(path: Path, precision: str, trace_to: Callable[[Path], None]) -> None:
    """Write the ONNX file ``trace_to`` traces (in float32) to ``path``, quantised for int8, under a
    lock and renamed into place whole."""
    from filelock import FileLock

    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        if path.exists():  # another process made it while this one waited
            return
        staging = path.with_name(f".{path.name}.{os.getpid()}")
        try:
            trace_to(staging)
            if precision == "int8":
                from onnxruntime.quantization import QuantType, quantize_dynamic

                quantised = staging.with_suffix(".int8")
                logging.disable(logging.WARNING)  # its advice to pre-process first is for static quantisation
                try:
                    quantize_dynamic(staging, quantised, weight_type=QuantType.QInt8, **_INT8_QUANTISATION)
                finally:
                    logging.disable(logging.NOTSET)
                os.replace(quantised, staging)
            os.replace(staging, path)
        finally:
            for leftover in (staging, staging.with_suffix(".int8")):
                leftover.unlink(missing_ok=True)


def _encoder_module(model_dir: Path):
    """The model's encoder as a module of the three token inputs, returning its token states."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    encoder = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()

    class States(torch.nn.Module):  # keyword arguments, which the tracer cannot pass itself
        def __init__(self):
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state

    return States()


def trace(module, out: Path, output: str) -> None:
    """Trace ``module`` (input_ids, attention_mask, token_type_ids -> one per-token output named
    ``output``) to an ONNX file, batch and length left free."""
    import torch

    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = torch.ones(2, 8, dtype=torch.long)
    with torch.no_grad(), warnings.catch_warnings():  # the tracer's notes on Python control flow it fixed at trace time
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (example, torch.ones_like(example), torch.zeros_like(example)), str(out),
                          dynamo=False, input_names=names, output_names=[output], opset_version=17,
                          dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*names, output]})

