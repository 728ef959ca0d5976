"""How well the span head reads: given the sentence that holds the answer, does its best span match
the gold answer? Measured on the SQuAD 2.0 development subset's answer sentences (none of them
trained on), through the int8 export that answering reads.

    .venv/bin/python bench/span_head.py [--head rag/answers/span_head.safetensors] [--out docs/span_head.md]

Reports span exact match and token F1 (SQuAD's normalisation) of the best span (start not after end,
at most 30 tokens), and the milliseconds per question for reading four sentences with it (the
number answering reads), beside the time to embed the question (a reference measured in the same run).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rag.answers.span_head import SpanHead, head_path  # noqa: E402
from rag.calibration import answer_sentences  # noqa: E402
from rag.config import DEFAULT_WEIGHTS  # noqa: E402
from rag.evaluation.metrics import best_f1, exact_match  # noqa: E402
from rag.models.embedders import make_embedder  # noqa: E402

MAX_ANSWER_TOKENS = 30
SENTENCES_READ = 4  # rag.answers.candidates.SPAN_HEAD_SENTENCES


def best_span(head: SpanHead, question: str, sentence: str) -> tuple[float, str]:
    """The head's best span of ``sentence``, with its score."""
    scores = head.scores(question, [sentence])[0]
    total = scores.start[:, None] + scores.end[None, :]
    upper = np.triu(np.ones_like(total, dtype=bool))
    allowed = np.where(upper & ~np.triu(upper, MAX_ANSWER_TOKENS), total, -np.inf)
    first, last = np.unravel_index(np.argmax(allowed), total.shape)
    span = sentence[scores.offsets[first][0] : scores.offsets[last][1]]
    return float(allowed[first, last]), span


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--head", default=str(head_path(DEFAULT_WEIGHTS)))
    parser.add_argument("--squad", default=str(REPO.parent / "shared" / "bench" / "squad2-dev-subset.json"))
    parser.add_argument("--out", help="also write the figures to this JSON file")
    args = parser.parse_args()

    head = SpanHead.read(args.head)
    examples = answer_sentences(json.loads(Path(args.squad).read_text(encoding="utf-8"))["data"])
    spans = [best_span(head, question, sentence)[1] for question, sentence, _, _ in examples]
    golds = [sentence[start:end] for _, sentence, start, end in examples]
    embedder = make_embedder("all-MiniLM-L6-v2@int8")
    read, embed = [], []
    for number, (question, *_) in enumerate(examples):
        sentences = [examples[(number + k) % len(examples)][1] for k in range(SENTENCES_READ)]
        began = time.perf_counter()
        head.scores(question, sentences)
        read.append(time.perf_counter() - began)
        began = time.perf_counter()
        embedder.embed([question])
        embed.append(time.perf_counter() - began)
    figures = {
        "head": args.head, "answer_sentences": len(examples),
        "span_exact_match": round(float(np.mean([exact_match(s, [g]) for s, g in zip(spans, golds, strict=True)])), 3),
        "span_f1": round(float(np.mean([best_f1(s, [g]) for s, g in zip(spans, golds, strict=True)])), 3),
        f"read_{SENTENCES_READ}_sentences_ms_p50": round(1000 * float(np.median(read)), 1),
        "reference_embed_question_ms_p50": round(1000 * float(np.median(embed)), 1),
    }
    print(json.dumps(figures, indent=2))
    if args.out:
        rows = "\n".join(f"| {name} | {value} |" for name, value in figures.items())
        Path(args.out).write_text(
            "# The span head, read alone\n\nReproduce: `.venv/bin/python bench/span_head.py` (2-core machine). "
            "Its best span inside each SQuAD 2.0 development answer sentence, against the gold answer.\n\n"
            f"| measure | value |\n| --- | --- |\n{rows}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
