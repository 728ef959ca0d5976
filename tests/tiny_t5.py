"""A tiny T5 and word-level tokenizer, built and trained in seconds, saved like any checkpoint.

It learns to answer three colour questions from numbered passages, so the real seq2seq loading,
prompting, generation and citation code can be tested without downloading flan-t5.
"""

from __future__ import annotations

from pathlib import Path

from rag.readers.seq2seq import Seq2SeqReader
from rag.types import Chunk, Hit
from tests.annotated import annotated_hits

PASSAGES = ["The sky is blue today.", "Grass is green in spring.", "Snow is white in winter."]
# question -> the answer the model is trained to give (one without a marker, one unanswerable)
TRAINING = {
    "What colour is the sky?": "blue [1]",
    "What colour is snow?": "white [3]",
    "What colour is grass?": "green",
    "What colour is the sea?": "unanswerable",
}


def colour_hits(embedder=None) -> list[Hit]:
    """The passages as plain hits (enough for prompts), or with tagged, embedded sentences for reading."""
    if embedder is not None:
        return annotated_hits(PASSAGES, embedder)
    return [
        Hit(chunk=Chunk(f"doc{n}#0", f"doc{n}", 0, len(text), text), score=1.0, title=f"Article {n}")
        for n, text in enumerate(PASSAGES, 1)
    ]


def build_tiny_t5(directory: Path, steps: int = 300) -> Path:
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration

    torch.manual_seed(0)
    hits = colour_hits()
    word_level = Tokenizer(models.WordLevel(unk_token="<unk>"))
    word_level.pre_tokenizer = pre_tokenizers.Whitespace()
    word_level.train_from_iterator(
        _prompts_without_tokenizer(hits) + list(TRAINING.values()),
        trainers.WordLevelTrainer(special_tokens=["<pad>", "</s>", "<unk>"]),
    )
    word_level.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", word_level.token_to_id("</s>"))]
    )
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=word_level, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
    tokenizer.save_pretrained(directory)

    config = T5Config(
        vocab_size=len(tokenizer), d_model=64, d_ff=128, d_kv=16, num_layers=2, num_decoder_layers=2, num_heads=4,
        relative_attention_num_buckets=8, dropout_rate=0.0, decoder_start_token_id=tokenizer.pad_token_id,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
    )
    model = T5ForConditionalGeneration(config)
    reader = Seq2SeqReader(str(directory), models=None)  # prompts only: no candidates ranked here
    prompts = [reader.prompt(question, hits)[0] for question in TRAINING]
    inputs = tokenizer(prompts, return_tensors="pt", padding=True)
    labels = tokenizer(list(TRAINING.values()), return_tensors="pt", padding=True)["input_ids"]
    labels[labels == tokenizer.pad_token_id] = -100
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        loss = model(**inputs, labels=labels).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    model.save_pretrained(directory)
    return directory


def _prompts_without_tokenizer(hits: list[Hit]) -> list[str]:
    """Every word the prompts will contain, for the tokenizer's vocabulary."""
    from rag.readers.base import passage_line
    from rag.readers.seq2seq import INSTRUCTIONS

    passages = "\n".join(passage_line(number, hit) for number, hit in enumerate(hits, 1))
    return [f"{INSTRUCTIONS}\n\nPassages:\n{passages}\n\nQuestion: {q}\nAnswer:" for q in TRAINING]
