"""A light span head over the frozen MiniLM encoder: reads a sentence together with the question
and scores each token as the start or the end of the answer.

The encoder is the embedder already loaded for retrieval (nothing new to download); only the
head is learned: two small layers over each token's state and its product with the question's
mean state, about 100k weights in a safetensors file. `rag calibrate` trains it on SQuAD answer
spans. Its score is one feature of the candidate ranker, beside the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.errors import ModelNotAvailableError



def head_path(weights: str | Path) -> Path:
    """The span head lives beside the ranker weights it was fitted with."""
    return Path(weights).with_name("span_head.safetensors")

# A question and one news sentence fit easily; longer sentences are cut (their answers are rarer).
MAX_TOKENS = 160
HIDDEN = 128


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
    def __init__(self, embedder_name: str, head):
        self.embedder_name = embedder_name
        self.head = head

    @classmethod
    def load(cls, embedder_name: str, path: str | Path) -> "SpanHead":
        return _load(embedder_name, str(path))

    def encode(self, questions: list[str], sentences: list[str]):
        """(token states, question mean, offsets, sentence-token masks) of question-sentence pairs, from the frozen encoder."""
        import torch

        from rag.embedding import load_model

        model = load_model(self.embedder_name)
        inputs = model.tokenizer(questions, sentences, truncation="only_second", max_length=MAX_TOKENS, padding=True,
                                 return_offsets_mapping=True, return_tensors="pt")
        offsets = inputs.pop("offset_mapping")
        sequence = torch.tensor([[s if s is not None else -1 for s in inputs.sequence_ids(i)]
                                 for i in range(len(sentences))])
        with torch.inference_mode():
            states = model[0].auto_model(**inputs).last_hidden_state
        question_mask = (sequence == 0).unsqueeze(-1).float()
        question_mean = (states * question_mask).sum(1) / question_mask.sum(1).clamp(min=1)
        return states, question_mean, offsets, sequence == 1

    def scores(self, question: str, sentences: list[str]) -> list[TokenScores]:
        import torch

        if not sentences:
            return []
        states, question_mean, offsets, in_sentence = self.encode([question] * len(sentences), sentences)
        with torch.inference_mode():
            logits = self.head(states, question_mean).numpy()
        found = []
        for row in range(len(sentences)):
            tokens = in_sentence[row].nonzero().flatten().tolist()
            found.append(TokenScores([tuple(offsets[row, t].tolist()) for t in tokens],
                                     logits[row, tokens, 0], logits[row, tokens, 1]))
        return found


@lru_cache(maxsize=2)
def _load(embedder_name: str, path: str) -> SpanHead:
    from safetensors.torch import load_file

    from rag.embedding import load_model

    try:
        weights = load_file(path)
    except (OSError, ValueError) as error:
        raise ModelNotAvailableError(f"cannot read span head {path} ({type(error).__name__}); train it with: rag calibrate") from None
    head = _head_module(load_model(embedder_name).get_embedding_dimension())
    head.load_state_dict(weights)
    return SpanHead(embedder_name, head.eval())


def train_head(embedder_name: str, examples: list[tuple[str, str, int, int]], out: Path, epochs: int = 6,
               seed: int = 0, progress: bool = True) -> SpanHead:
    """Fit the head on (question, sentence, answer start, answer end) examples, offsets in the sentence."""
    import torch
    from safetensors.torch import save_file
    from tqdm import tqdm

    from rag.embedding import load_model

    torch.manual_seed(seed)
    dimension = load_model(embedder_name).get_embedding_dimension()
    head = _head_module(dimension)
    reader = SpanHead(embedder_name, head)
    batches = []
    for first in tqdm(range(0, len(examples), 32), desc="Encoding answer sentences", unit="batch", disable=not progress):
        batch = examples[first : first + 32]
        states, question_mean, offsets, in_sentence = reader.encode([b[0] for b in batch], [b[1] for b in batch])
        targets = [_target_tokens(offsets[row], in_sentence[row], start, end) for row, (*_, start, end) in enumerate(batch)]
        keep = [row for row, target in enumerate(targets) if target is not None]
        if keep:
            batches.append((states[keep].clone(), question_mean[keep].clone(), in_sentence[keep].clone(),
                            torch.tensor([targets[row] for row in keep])))
    optimiser = torch.optim.AdamW(head.parameters(), lr=2e-3, weight_decay=1e-2)
    for _ in range(epochs):
        for states, question_mean, mask, target in batches:
            logits = head(states, question_mean).masked_fill(~mask[..., None], -1e4)
            loss = torch.nn.functional.cross_entropy(logits[..., 0], target[:, 0]) + \
                torch.nn.functional.cross_entropy(logits[..., 1], target[:, 1])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    save_file({name: value.contiguous() for name, value in head.state_dict().items()}, str(out))
    _load.cache_clear()
    return SpanHead(embedder_name, head.eval())


def _target_tokens(offsets, in_sentence, start: int, end: int) -> tuple[int, int] | None:
    tokens = [t for t in in_sentence.nonzero().flatten().tolist()
              if offsets[t][0] < end and offsets[t][1] > start]
    return (tokens[0], tokens[-1]) if tokens else None
