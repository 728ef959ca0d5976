"""A generative reader over any local seq2seq checkpoint (flan-t5 by default).

transformers 5 has no text2text pipeline, so this is AutoTokenizer + AutoModelForSeq2SeqLM +
``generate`` with greedy decoding. Passages are packed into the model's input limit after the
instructions and the question are counted, so the question is never truncated away.
"""

from __future__ import annotations

import math
import os
from functools import lru_cache

from rag.embedding import quiet_transformers
from rag.errors import ModelNotAvailableError
from rag.readers.base import best_supported_passage, parse_markers, passage_line, supporting_citation
from rag.types import Answer, Hit

INSTRUCTIONS = (
    "Answer the question using only the numbered news passages. Give a short answer and cite the "
    'passage numbers in brackets, like [1]. If the passages do not answer it, reply "unanswerable".'
)
_UNANSWERABLE = {"unanswerable", "no answer", "unknown", "none", "not stated", "n/a"}


class Seq2SeqReader:
    name = "seq2seq"

    def __init__(self, model: str = "google/flan-t5-base", max_input_tokens: int = 512, max_new_tokens: int = 32):
        self.model_name = model
        self.max_input_tokens = max_input_tokens
        self.max_new_tokens = max_new_tokens

    def load(self) -> "Seq2SeqReader":
        """Load now rather than on the first question; raises ModelNotAvailableError."""
        _tokenizer(self.model_name), _model(self.model_name)
        return self

    def prompt(self, question: str, hits: list[Hit]) -> tuple[str, list[Hit]]:
        """The model input and the passages that fit in it, numbered in the same order."""
        tokenizer = _tokenizer(self.model_name)
        head = f"{INSTRUCTIONS}\n\nPassages:\n"
        tail = f"\n\nQuestion: {question}\nAnswer:"
        budget = self.max_input_tokens - _length(tokenizer, head + tail) - 1  # 1 for the end-of-sequence token
        lines, used = [], []
        for hit in hits:
            line = passage_line(len(used) + 1, hit) + "\n"
            length = _length(tokenizer, line)
            if length > budget:
                line = _truncate(tokenizer, line, budget)
                length = _length(tokenizer, line)
                if length < 16:  # too little left for a useful passage
                    break
            lines.append(line)
            used.append(hit)
            budget -= length
            if budget <= 0:
                break
        return head + "".join(lines).rstrip("\n") + tail, used

    def read(self, question: str, hits: list[Hit]) -> Answer:
        import torch

        tokenizer, model = _tokenizer(self.model_name), _model(self.model_name)
        prompt, used = self.prompt(question, hits)
        inputs = tokenizer(prompt, return_tensors="pt", truncation=True, max_length=self.max_input_tokens)
        with torch.inference_mode():
            output = model.generate(
                **inputs, max_new_tokens=self.max_new_tokens, do_sample=False, num_beams=1,
                output_scores=True, return_dict_in_generate=True,
            )
        generated = tokenizer.decode(output.sequences[0], skip_special_tokens=True).strip()
        text, cited = parse_markers(generated, len(used))
        if not text or text.lower().strip(" .") in _UNANSWERABLE:
            return Answer(question=question, text=text, abstained=True, reader=self.name)
        best = best_supported_passage(text, used)
        if not cited:  # the model cited nothing: attach the passage that best supports the answer
            cited = [] if best is None else [best]
        citations = tuple(supporting_citation(text, used[index]) for index in cited)
        # An answer sharing no word with any passage is not grounded in the archive: zero confidence.
        grounded = best is not None
        return Answer(
            question=question,
            text=text,
            abstained=False,
            citations=citations,
            reader=self.name,
            score=_mean_token_probability(model, output) if grounded else 0.0,
        )


def _length(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def _truncate(tokenizer, text: str, tokens: int) -> str:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"][: max(tokens, 0)]
    return tokenizer.decode(ids, skip_special_tokens=True) + "\n"


def _mean_token_probability(model, output) -> float:
    """exp(mean log-probability) of the generated tokens: the model's own confidence."""
    scores = model.compute_transition_scores(output.sequences, output.scores, normalize_logits=True)[0]
    finite = [float(score) for score in scores if math.isfinite(float(score))]
    return math.exp(sum(finite) / len(finite)) if finite else 0.0


@lru_cache(maxsize=2)
def _tokenizer(name: str):
    from transformers import AutoTokenizer

    return _from_local_files(AutoTokenizer, name)


@lru_cache(maxsize=2)
def _model(name: str):
    from transformers import AutoModelForSeq2SeqLM

    return _from_local_files(AutoModelForSeq2SeqLM, name).eval()


def _from_local_files(auto_class, name: str):
    """``auto_class.from_pretrained`` from a local directory or the local Hugging Face cache, never the network."""
    quiet_transformers()
    try:
        return auto_class.from_pretrained(os.path.expanduser(name), local_files_only=True)
    except Exception as error:  # OSError, ValueError, EnvironmentError from transformers and the hub client
        raise ModelNotAvailableError(
            f"seq2seq model {name!r} is not available offline ({type(error).__name__}); put a checkpoint "
            "(for example flan-t5-base) in a local directory and pass --model DIR, or use --reader extractive"
        ) from None
