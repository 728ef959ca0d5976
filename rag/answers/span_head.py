"""A light span head over the frozen MiniLM encoder: reads a sentence together with the question
and scores each token as the start or the end of the answer.

The encoder is the embedding model's (nothing new to download), read through its int8 ONNX export
(rag.models.onnx), so answering imports no PyTorch; only the head is learned: two small layers over
each token's state and its product with the question's mean state, about 100k weights in a
safetensors file. `rag calibrate` trains it on SQuAD answer
spans. Its score is one feature of the candidate ranker, beside the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.errors import ModelNotAvailableError
from rag.models.local import sentence_transformer
from rag.models.onnx import onnx_encoder

# A question and one news sentence fit easily; longer sentences are cut (their answers are rarer).
MAX_TOKENS = 160
HIDDEN = 128


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
        """Best start score among the span's first tokens plus best end score among its last ones."""
        inside = [i for i, (a, b) in enumerate(self.offsets) if a < end_char and b > start_char]
        if not inside:
            return float(min(self.start.min(), 0.0) + min(self.end.min(), 0.0)) if len(self.offsets) else 0.0
        return float(self.start[inside[0]] + self.end[inside[-1]])


def _head_module(dimension: int):
    import torch

    class Head(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = torch.nn.Linear(2 * dimension, HIDDEN)
            self.out = torch.nn.Linear(HIDDEN, 2)

        def forward(self, states, question_mean):
            features = torch.cat([states, states * question_mean[:, None, :]], dim=-1)
            return self.out(torch.nn.functional.gelu(self.hidden(features)))

    return Head()


class SpanHead:
    """The head's weights (as numpy arrays) over model ``embedder_name``'s encoder."""

    def __init__(self, embedder_name: str, weights: dict[str, np.ndarray]):
        self.embedder_name = embedder_name
        self.weights = weights

    @classmethod
    def read(cls, embedder_name: str, path: str | Path) -> SpanHead:
        """The head saved in ``path``, once per process."""
        return _read(embedder_name, str(path))

    def scores(self, question: str, sentences: list[str]) -> list[TokenScores]:
        if not sentences:
            return []
        states, offsets, sequence = pair_states(self.embedder_name, [question] * len(sentences), sentences)
        logits = self._logits(states, question_means(states, sequence))
        found = []
        for row in range(len(sentences)):
            tokens = np.flatnonzero(sequence[row] == 1)
            found.append(TokenScores([tuple(offsets[row][t]) for t in tokens], logits[row, tokens, 0],
                                     logits[row, tokens, 1]))
        return found

    def _logits(self, states: np.ndarray, question_mean: np.ndarray) -> np.ndarray:
        """The Head module's forward pass in numpy, so answering needs no PyTorch. GELU in its tanh
        form (numpy has no erf): within 1e-3 of the exact one the head was trained with, logits within 0.02.

        [s, s * q] @ W is s @ (W_s + q * W_q): one product with a matrix per pair, half the arithmetic.
        It runs on one BLAS thread: OpenBLAS's idle workers spin for a while after a parallel product,
        and took the cores from the encoder of the next question (the sample questions' p50 38 -> 28 ms,
        docs/latency.md)."""
        w = self.weights
        dimension = states.shape[-1]
        hidden_weight = w["hidden.weight"].T  # (2 * dimension, HIDDEN)
        per_pair = hidden_weight[:dimension] + question_mean[:, :, None] * hidden_weight[dimension:]
        with _thread_pools().limit(limits=1, user_api="blas"):
            hidden = states @ per_pair + w["hidden.bias"]
            hidden = 0.5 * hidden * (1 + np.tanh(0.7978845608 * (hidden + 0.044715 * hidden ** 3)))
            return hidden @ w["out.weight"].T + w["out.bias"]


@lru_cache(maxsize=1)
def _thread_pools():
    """The process's thread pools, looked up once (a lookup reads every loaded library, near a millisecond)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def pair_states(embedder_name: str, questions: list[str], sentences: list[str]):
    """(token states, each token's character offsets, which text each token is from: 0 question,
    1 sentence, -1 special) of question-sentence pairs, from the frozen encoder: its int8 ONNX export
    when there is one (about twice as fast, docs/embedders.md), PyTorch float32 otherwise. Training
    reads the same states the answering does."""
    encoder = onnx_encoder(embedder_name, "int8")
    if encoder is not None:
        return encoder.pair_states(questions, sentences, MAX_TOKENS)
    import torch

    model = sentence_transformer(embedder_name)
    inputs = model.tokenizer(questions, sentences, truncation="only_second", max_length=MAX_TOKENS, padding=True,
                             return_offsets_mapping=True, return_tensors="pt")
    offsets = inputs.pop("offset_mapping").tolist()
    sequence = np.array([[-1 if s is None else s for s in inputs.sequence_ids(i)] for i in range(len(sentences))])
    with torch.inference_mode():
        states = model[0].auto_model(**inputs).last_hidden_state.numpy()
    return states, offsets, sequence


def question_means(states: np.ndarray, sequence: np.ndarray) -> np.ndarray:
    """Each pair's mean state over its question's tokens."""
    mask = (sequence == 0)[..., None].astype(states.dtype)
    return (states * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1)


@lru_cache(maxsize=2)
def _read(embedder_name: str, path: str) -> SpanHead:
    from safetensors.numpy import load_file

    try:
        weights = load_file(path)
    except (OSError, ValueError) as error:
        raise ModelNotAvailableError(
            f"cannot read span head {path} ({type(error).__name__}); train it with: rag calibrate") from None
    return SpanHead(embedder_name, weights)


def train_head(embedder_name: str, examples: list[tuple[str, str, int, int]], out: Path, epochs: int = 6,
               seed: int = 0, progress: bool = True) -> SpanHead:
    """Fit the head on (question, sentence, answer start, answer end) examples, offsets in the sentence."""
    import torch
    from safetensors.torch import save_file
    from tqdm import tqdm

    torch.manual_seed(seed)
    batches = []
    starts = range(0, len(examples), 32)
    for first in tqdm(starts, desc="Encoding answer sentences", unit="batch", disable=not progress):
        batch = examples[first : first + 32]
        states, offsets, sequence = pair_states(embedder_name, [b[0] for b in batch], [b[1] for b in batch])
        targets = [_target_tokens(offsets[row], sequence[row], start, end)
                   for row, (*_, start, end) in enumerate(batch)]
        keep = [row for row, target in enumerate(targets) if target is not None]
        if keep:
            batches.append((torch.from_numpy(states[keep]), torch.from_numpy(question_means(states, sequence)[keep]),
                            torch.from_numpy(sequence[keep] == 1), torch.tensor([targets[row] for row in keep])))
    head = _head_module(batches[0][0].shape[-1])
    optimiser = torch.optim.AdamW(head.parameters(), lr=2e-3, weight_decay=1e-2)
    for _ in range(epochs):
        for states, question_mean, mask, target in batches:
            logits = head(states, question_mean).masked_fill(~mask[..., None], -1e4)
            loss = torch.nn.functional.cross_entropy(logits[..., 0], target[:, 0]) + \
                torch.nn.functional.cross_entropy(logits[..., 1], target[:, 1])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    weights = {name: value.detach().contiguous() for name, value in head.state_dict().items()}
    save_file(weights, str(out))
    _read.cache_clear()
    return SpanHead(embedder_name, {name: value.numpy() for name, value in weights.items()})


def _target_tokens(offsets, sequence, start: int, end: int) -> tuple[int, int] | None:
    tokens = [t for t in np.flatnonzero(sequence == 1) if offsets[t][0] < end and offsets[t][1] > start]
    return (tokens[0], tokens[-1]) if tokens else None
