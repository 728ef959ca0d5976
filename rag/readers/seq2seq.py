"""A generative reader over any local seq2seq checkpoint (flan-t5 by default).

transformers 5 has no text2text pipeline, so this is AutoTokenizer + AutoModelForSeq2SeqLM +
``generate`` with greedy decoding. Passages are packed into the model's input limit after the
instructions and the question are counted, so the question is never truncated away. What the
model writes is only kept when it is words of a retrieved sentence; it is then ranked and judged
with the same candidates, features and answerability as the extractive reader.
"""

from __future__ import annotations

from rag.answers.citations import cite
from rag.answers.model import AnswerModels
from rag.config import Config
from rag.models.local import find_checkpoint, loaded
from rag.query import Query
from rag.readers.base import parse_markers, passage_line, ranked_with
from rag.types import Answer, Hit

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
        checkpoint = find_checkpoint(config.seq2seq_model, config.models_dir) or config.seq2seq_model
        return cls(checkpoint, models, config.max_input_tokens, config.max_new_tokens)

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
        ranked = ranked_with(text, preferred, hits, query, self.models)
        if not ranked:
            return Answer(question=query.asked, text=text, abstained=True, reader=self.name)
        best = ranked[0]
        return Answer(question=query.asked, text=best.text, abstained=False, citations=(cite(best, query),),
                      reader=self.name, probability=best.score, candidates=tuple(ranked))


def _length(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def _truncate(tokenizer, text: str, tokens: int) -> str:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"][: max(tokens, 0)]
    return tokenizer.decode(ids, skip_special_tokens=True) + "\n"


def _tokenizer(checkpoint: str):
    return loaded("AutoTokenizer", checkpoint, "seq2seq model")


def _model(checkpoint: str):
    return loaded("AutoModelForSeq2SeqLM", checkpoint, "seq2seq model")
