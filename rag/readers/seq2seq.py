"""A generative reader over any local seq2seq checkpoint (flan-t5 by default).

transformers 5 has no text2text pipeline, so this is AutoTokenizer + AutoModelForSeq2SeqLM +
``generate`` with greedy decoding. Passages are packed into the model's input limit after the
instructions and the question are counted, so the question is never truncated away. What the
model writes is only kept when it is words of a retrieved sentence; it is then ranked and judged
with the same candidates, features and answerability as the extractive reader.
"""

from __future__ import annotations

import dataclasses
import os
from functools import lru_cache
from pathlib import Path

from rag.answers.citations import cite
from rag.answers.model import AnswerModels
from rag.answers.ranking import rank
from rag.config import Config
from rag.errors import ModelNotAvailableError
from rag.models.local import quiet_transformers
from rag.query import PHRASE, Query
from rag.readers.base import parse_markers, passage_line
from rag.types import Answer, Hit, Sentence, TypedSpan

INSTRUCTIONS = (
    "Answer the question using only the numbered news passages. Give a short answer and cite the "
    'passage numbers in brackets, like [1]. If the passages do not answer it, reply "unanswerable".'
)
_UNANSWERABLE = {"unanswerable", "no answer", "unknown", "none", "not stated", "n/a"}


class Seq2SeqReader:
    name = "seq2seq"

    def __init__(self, model: str = "google/flan-t5-base", models: AnswerModels | None = None,
                 max_input_tokens: int = 512, max_new_tokens: int = 32):
        self.models = models  # the shared candidate ranker: needed to read, not to build prompts
        self.model_name = model
        self.max_input_tokens = max_input_tokens
        self.max_new_tokens = max_new_tokens

    @classmethod
    def create(cls, config: Config, models: AnswerModels) -> Seq2SeqReader:
        return cls(config.seq2seq_model, models, config.max_input_tokens, config.max_new_tokens)

    def warm_up(self) -> Seq2SeqReader:
        """Load the model now rather than on the first question; raises ModelNotAvailableError."""
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

    def read(self, query: Query, hits: list[Hit]) -> Answer:
        """Generate, then keep the generated answer only where it is a span of a retrieved sentence;
        otherwise the best ranked candidate stands. Either way the shared candidates come along, so
        answerability judges both readers alike."""
        import torch

        tokenizer, model = _tokenizer(self.model_name), _model(self.model_name)
        prompt, used = self.prompt(query.text, hits)
        inputs = tokenizer(prompt, return_tensors="pt", truncation=True, max_length=self.max_input_tokens)
        with torch.inference_mode():
            output = model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False, num_beams=1)
        generated = tokenizer.decode(output[0], skip_special_tokens=True).strip()
        text, cited = parse_markers(generated, len(used))
        if not text or text.lower().strip(" .") in _UNANSWERABLE:
            return Answer(question=query.asked, text=text, abstained=True, reader=self.name)
        preferred = [used[index] for index in cited] + [hit for hit in hits if hit not in [used[i] for i in cited]]
        grounded = _ground(text, preferred)
        ranked = rank(query, _with_span(hits, *grounded) if grounded else hits, self.models)
        if grounded:
            sentence, start, end = grounded
            matching = [c for c in ranked if c.sentence.sentence_id == sentence.sentence_id
                        and (c.span_start, c.span_end) == (start, end)]
            ranked = matching[:1] + [c for c in ranked if c not in matching[:1]]
        if not ranked:
            return Answer(question=query.asked, text=text, abstained=True, reader=self.name)
        best = ranked[0]
        return Answer(question=query.asked, text=best.text, abstained=False, citations=(cite(best, query),),
                      reader=self.name, probability=best.score, candidates=tuple(ranked))


def _ground(text: str, hits: list[Hit]) -> tuple[Sentence, int, int] | None:
    """The first retrieved sentence holding ``text`` (case-insensitively), and where."""
    wanted = text.strip(" .").lower()
    for hit in hits:
        for sentence in hit.sentences:
            position = sentence.text.lower().find(wanted)
            if wanted and position >= 0:
                return sentence, position, position + len(wanted)
    return None


def _with_span(hits: list[Hit], sentence: Sentence, start: int, end: int) -> list[Hit]:
    """The hits with the generated span added to its sentence, so it is ranked like any candidate."""
    span = TypedSpan(start, end, PHRASE, sentence.text[start:end])
    grown = dataclasses.replace(sentence, spans=sentence.spans + (span,))
    return [
        dataclasses.replace(hit, sentences=tuple(grown if s.sentence_id == sentence.sentence_id else s
                                                 for s in hit.sentences))
        for hit in hits
    ]


def _length(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def _truncate(tokenizer, text: str, tokens: int) -> str:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"][: max(tokens, 0)]
    return tokenizer.decode(ids, skip_special_tokens=True) + "\n"


def on_disk(name: str) -> bool:
    """Whether model ``name`` is a local directory or in the local Hugging Face cache: a look at files
    that spares importing transformers and PyTorch (seconds) when it is in neither."""
    if Path(os.path.expanduser(name)).is_dir():
        return True
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(name, "config.json"), str)
    except ValueError:  # not a valid repository name either
        return False


@lru_cache(maxsize=2)
def _tokenizer(name: str):
    from transformers import AutoTokenizer

    return _from_local_files(AutoTokenizer, name)


@lru_cache(maxsize=2)
def _model(name: str):
    from transformers import AutoModelForSeq2SeqLM

    directory = Path(os.path.expanduser(name))
    if directory.is_dir() and not list(directory.glob("*.safetensors")) and list(directory.glob("*.bin")):
        raise ModelNotAvailableError(
            f"seq2seq model {name!r} has only pickled PyTorch weights (.bin), which can run code when loaded; rag "
            "loads safetensors only. Convert it once where you trust it: "
            "model.save_pretrained(DIR, safe_serialization=True)")
    # Weights from safetensors only: unpickling an untrusted checkpoint's .bin runs whatever it holds.
    return _from_local_files(AutoModelForSeq2SeqLM, name, use_safetensors=True).eval()


def _from_local_files(auto_class, name: str, **options):
    """``auto_class.from_pretrained`` from a local directory or the local Hugging Face cache, never the network."""
    quiet_transformers()
    try:
        return auto_class.from_pretrained(os.path.expanduser(name), local_files_only=True, **options)
    except Exception as error:  # OSError, ValueError, EnvironmentError from transformers and the hub client
        raise ModelNotAvailableError(
            f"seq2seq model {name!r} is not available offline ({type(error).__name__}); put a checkpoint "
            "(for example flan-t5-base) in a local directory and pass --model DIR, or use --reader extractive"
        ) from None
