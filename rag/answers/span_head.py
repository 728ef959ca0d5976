"""A span reader fine-tuned from the embedding model's first layers: it reads a sentence together
with the question and scores each token as the start or the end of the answer.

It is MiniLM's token embeddings and first LAYERS layers (nothing new to download), those layers
fine-tuned with a start/end layer on top by `rag calibrate` on SQuAD answer sentences. Training
changes the layers' matrices only by low-rank adapters (LoRA, through peft), so the file
``span_head.safetensors`` holds those adapters, the layers' biases and the start/end layer, in
float16 (2.7 MB, where the whole layers took 10.7), and names the model it grew from. Answering
reads it through an int8 ONNX export made once, with the adapters merged into the layers, and named
by the file's digest, so answering imports no PyTorch. Its score is one feature of the candidate
ranker, beside the others.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.errors import ModelNotAvailableError
from rag.models.local import quiet_transformers, resolve_model_path
from rag.models.onnx import OnnxEncoder, export, export_file, trace

# A question and one news sentence fit easily; longer sentences are cut (their answers are rarer).
MAX_TOKENS = 160
# Three of MiniLM's six layers read spans nearly as well as all six (span F1 0.54 against 0.65 on
# the SQuAD dev subset's answer sentences) at half the arithmetic, which answering pays per question.
LAYERS = 3
# Each of the layers' matrices changes by a product of two rank-RANK matrices.
RANK = 64
_ADAPTED = ["query", "key", "value", "dense"]  # every matrix of an attention and feed-forward block
_OUTPUT = "span_scores"


def head_path(weights: str | Path) -> Path:
    """The span head lives beside the ranker weights it was fitted with."""
    return Path(weights).with_name("span_head.safetensors")


@dataclass(frozen=True)
class TokenScores:
    """Start and end scores of each token of one sentence, with the tokens' character offsets."""

    offsets: list[tuple[int, int]]
    start: np.ndarray
    end: np.ndarray

    def span_score(self, start_char: int, end_char: int) -> float:
        """The start score of the span's first token plus the end score of its last (the tokens it overlaps)."""
        inside = [i for i, (a, b) in enumerate(self.offsets) if a < end_char and b > start_char]
        if not inside:
            return float(min(self.start.min(), 0.0) + min(self.end.min(), 0.0)) if len(self.offsets) else 0.0
        return float(self.start[inside[0]] + self.end[inside[-1]])


class SpanHead:
    """The fine-tuned reader's int8 ONNX export, with its base model's tokenizer."""

    def __init__(self, encoder: OnnxEncoder):
        self.encoder = encoder

    @classmethod
    def read(cls, path: str | Path) -> SpanHead:
        """The reader saved in ``path``, once per process while the file is unchanged (its export
        made first if missing)."""
        try:
            saved = Path(path).stat()
        except OSError as error:
            raise _unreadable(path, error) from None
        return _read(str(path), saved.st_mtime_ns, saved.st_size)

    def discard_export(self) -> None:
        """Delete this reader's ONNX export: for heads used once (calibration's cross-fitting heads),
        whose 17 MB exports would otherwise pile up beside the installed packages."""
        self.encoder.model_file.unlink(missing_ok=True)
        Path(f"{self.encoder.model_file}.lock").unlink(missing_ok=True)

    def scores(self, question: str, sentences: list[str]) -> list[TokenScores]:
        if not sentences:
            return []
        logits, offsets, sequence = self.encoder.pair_outputs([question] * len(sentences), sentences, MAX_TOKENS)
        found = []
        for row in range(len(sentences)):
            tokens = np.flatnonzero(sequence[row] == 1)
            found.append(TokenScores([tuple(offsets[row][t]) for t in tokens], logits[row, tokens, 0],
                                     logits[row, tokens, 1]))
        return found


@lru_cache(maxsize=4)
def _read(path: str, modified: int, size: int) -> SpanHead:  # noqa: ARG001 (the file's version, a cache key)
    try:
        base, digest = _describe(path)
        model_dir = Path(resolve_model_path(base))
        export_to = export_file("span-head", digest, "int8")
        if not export_to.exists():
            export(export_to, "int8", lambda out: trace(reader_module(model_dir, _load(path)), out, _OUTPUT))
        return SpanHead(OnnxEncoder(export_to, model_dir / "tokenizer.json", MAX_TOKENS))
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        raise _unreadable(path, error) from None


def _unreadable(path, error: Exception) -> ModelNotAvailableError:
    return ModelNotAvailableError(
        f"cannot read span head {path} ({type(error).__name__}: {error}); train it with: rag calibrate")


def _describe(path: str) -> tuple[str, str]:
    """(the model the reader grew from, the file's digest), which name its export."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(path, framework="numpy") as saved:
            metadata = saved.metadata() or {}
    except SafetensorError as error:  # not an OSError or ValueError: a damaged or foreign file
        raise ValueError(str(error)) from None
    if "base" not in metadata or int(metadata.get("layers", -1)) != LAYERS or "rank" not in metadata:
        raise ValueError("not a span reader of this rag's shape")
    return metadata["base"], hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _load(path: str) -> dict:
    from safetensors.torch import load_file

    return {name: value.float() for name, value in load_file(path).items()}


def adapter_config(rank: int = RANK):
    """Which of the reader's weights training changes: low-rank adapters on the layers' matrices,
    the same matrices' biases, and the whole start/end layer."""
    from peft import LoraConfig

    return LoraConfig(r=rank, lora_alpha=rank, target_modules=_ADAPTED, bias="lora_only", modules_to_save=["span"])


def reader_module(model_dir: Path, trained: dict | None = None):
    """The base model's embeddings and first LAYERS layers with a start/end layer on top, as a module
    of the three token inputs returning (batch, tokens, 2) scores; ``trained`` (what training saved)
    is merged into the layers and replaces the start/end layer."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    quiet_transformers()
    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()  # its report of the pooler weights left unread, which are not needed
    try:
        encoder = AutoModel.from_pretrained(str(model_dir), local_files_only=True, add_pooling_layer=False)
    finally:
        transformers_logging.set_verbosity(verbosity)
    encoder.encoder.layer = encoder.encoder.layer[:LAYERS]
    encoder.config.num_hidden_layers = LAYERS

    class Reader(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = encoder
            self.span = torch.nn.Linear(encoder.config.hidden_size, 2)

        def forward(self, input_ids, attention_mask, token_type_ids):
            states = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
            return self.span(states)

    reader = Reader()
    if trained is None:
        return reader
    from peft import get_peft_model, set_peft_model_state_dict

    rank = next((value.shape[0] for name, value in trained.items() if name.endswith("lora_A.weight")), RANK)
    adapted = get_peft_model(reader, adapter_config(rank))
    unexpected = set_peft_model_state_dict(adapted, trained).unexpected_keys
    if unexpected or len(trained) != len(trained_weights(adapted)):
        raise ValueError(f"span reader weights do not fit its model (unexpected {unexpected[:3]})")
    return adapted.merge_and_unload()


def trained_weights(adapted) -> dict:
    """What training changed in ``adapted`` (a reader with adapters), as the file keeps it."""
    from peft import get_peft_model_state_dict

    return get_peft_model_state_dict(adapted)


if __name__ == "__main__":  # python -m rag.answers.span_head: what scripts/install.sh runs after installing
    from rag.config import DEFAULT_WEIGHTS
    from rag.models.onnx import prepare

    for exported in prepare(resolve_model_path("all-MiniLM-L6-v2")):
        print(f"ready: {exported}")
    SpanHead.read(head_path(DEFAULT_WEIGHTS))
    print(f"ready: span head {head_path(DEFAULT_WEIGHTS)}")
