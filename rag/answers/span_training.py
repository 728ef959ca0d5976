"""Fine-tuning the span head (rag.answers.span_head) on answer sentences: what `rag calibrate` runs.

The base model's first layers, through low-rank adapters and their biases, and a start/end layer
learn where each answer starts and ends in its sentence read with the question; the token
embeddings and the layers' own matrices stay as they are, and the reader saves only what changed.
AdamW with a short warm-up and a linear decay, as BERT-style readers are fine-tuned.
"""

from __future__ import annotations

import random
from pathlib import Path

from rag.answers.span_head import LAYERS, MAX_TOKENS, RANK, SpanHead, adapter_config, reader_module, trained_weights
from rag.models.local import resolve_model_path
from rag.models.onnx import pair_tokenizer

BATCH = 16
EPOCHS = 3
# Adapters start from zero and want a larger step than whole layers: trained on five SQuAD training
# articles and read on the other five, 1e-3 found 0.42 of the answers (exact) where 2e-4, 5e-4 and
# 2e-3 found 0.34, 0.41 and 0.40, and the whole layers at 1e-4 0.39 (bench/span_learning_rate.py).
LEARNING_RATE = 1e-3
WARM_UP = 0.1  # share of the steps over which the learning rate rises to its peak


def train_head(base: str, examples: list[tuple[str, str, int, int]], out: Path, epochs: int = EPOCHS,
               seed: int = 0, progress: bool = True, rank: int = RANK,
               learning_rate: float = LEARNING_RATE) -> SpanHead:
    """Fine-tune a reader from model ``base`` on (question, sentence, answer start, answer end)
    examples, offsets in the sentence; save it to ``out`` and return it read as answering reads it."""
    import torch
    from peft import get_peft_model
    from safetensors.torch import save_file
    from tqdm import tqdm

    base = base.split("@")[0]
    model_dir = Path(resolve_model_path(base))
    torch.manual_seed(seed)
    batches = _batches(model_dir, examples)
    reader = get_peft_model(reader_module(model_dir), adapter_config(rank))
    trainable = [parameter for parameter in reader.parameters() if parameter.requires_grad]
    optimiser = torch.optim.AdamW(trainable, lr=learning_rate, weight_decay=1e-2)
    steps = epochs * len(batches)
    warm_up = max(1, int(WARM_UP * steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min((step + 1) / warm_up, max(0.0, (steps - step) / max(1, steps - warm_up))))
    order = random.Random(seed)
    reader.train()
    with tqdm(total=steps, desc="Training the span head", unit="batch", disable=not progress) as bar:
        for _ in range(epochs):
            order.shuffle(batches)
            for inputs, mask, target in batches:
                logits = reader(**inputs).masked_fill(~mask[..., None], -1e4)
                loss = torch.nn.functional.cross_entropy(logits[..., 0], target[:, 0]) + \
                    torch.nn.functional.cross_entropy(logits[..., 1], target[:, 1])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                schedule.step()
                bar.update()
    changed = {name: value.detach().half().contiguous() for name, value in trained_weights(reader).items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(changed, str(out), metadata={"base": base, "layers": str(LAYERS), "rank": str(rank)})
    return SpanHead.read(out)


def _batches(model_dir: Path, examples: list[tuple[str, str, int, int]]):
    """Batches of (model inputs, which tokens are the sentence's, target start and end token), of
    examples whose answer survives the cut to MAX_TOKENS; neighbours in length, so little is padding."""
    import torch

    tokenizer = pair_tokenizer(model_dir / "tokenizer.json", MAX_TOKENS)
    examples = sorted(examples, key=lambda example: len(example[0]) + len(example[1]))
    batches = []
    for first in range(0, len(examples), BATCH):
        batch = examples[first : first + BATCH]
        encoded = tokenizer.encode_batch([(question, sentence) for question, sentence, *_ in batch])
        targets = [_target_tokens(item.offsets, item.sequence_ids, start, end)
                   for item, (*_, start, end) in zip(encoded, batch, strict=True)]
        keep = [row for row, target in enumerate(targets) if target is not None]
        if not keep:
            continue
        inputs = {name: torch.tensor([getattr(encoded[row], field) for row in keep])
                  for name, field in (("input_ids", "ids"), ("attention_mask", "attention_mask"),
                                      ("token_type_ids", "type_ids"))}
        mask = torch.tensor([[s == 1 for s in encoded[row].sequence_ids] for row in keep])
        batches.append((inputs, mask, torch.tensor([targets[row] for row in keep])))
    return batches


def _target_tokens(offsets, sequence_ids, start: int, end: int) -> tuple[int, int] | None:
    tokens = [t for t, s in enumerate(sequence_ids) if s == 1 and offsets[t][0] < end and offsets[t][1] > start]
    return (tokens[0], tokens[-1]) if tokens else None

