"""Which learning rate the span head trains at, decided on the SQuAD training articles only: heads
trained on the first five articles read the answer sentences of the other five.

    .venv/bin/python bench/span_learning_rate.py [--rates 2e-4,5e-4,1e-3,2e-3] [--out docs/span_learning_rate.md]

For each rate: exact match of the best span inside the answer's own sentence, and, reading that
sentence beside three other sentences of its paragraph (as answering reads four), how often the
answer's sentence holds the best span and how often that span is exactly right. About 3 minutes
per rate on 2 cores (training 2.7 to 2.9 of them).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.span_head import best_span  # noqa: E402
from rag.answers.span_training import train_head  # noqa: E402
from rag.calibration import answer_sentences, answers_in_sentences  # noqa: E402
from rag.evaluation.metrics import exact_match  # noqa: E402

QUESTIONS = 600
BESIDE = 3  # other sentences read with the answer's


def read_beside(articles: list[dict], seed: int = 0) -> list[tuple[str, list[str], str]]:
    """(question, [its answer's sentence, then up to BESIDE others of the paragraph], answer), a
    fixed sample of QUESTIONS."""
    found = []
    for question, context, spans, own, start, end in answers_in_sentences(articles):
        others = [i for i in range(len(spans)) if i != own][:BESIDE]
        found.append((question, [context[a:b] for a, b in (spans[i] for i in [own, *others])], context[start:end]))
    random.Random(seed).shuffle(found)
    return found[:QUESTIONS]


def measure(rate: float, train: list, held_out: list, workdir: Path) -> dict:
    began = time.perf_counter()
    head = train_head("all-MiniLM-L6-v2", train, workdir / f"head-{rate}.safetensors", progress=False,
                      learning_rate=rate)
    took = time.perf_counter() - began
    own_right = first = right = 0
    for question, sentences, answer in held_out:
        read = [best_span(head, question, sentence) for sentence in sentences]
        best = int(np.argmax([score for score, _ in read]))
        own_right += exact_match(read[0][1], [answer])
        first += best == 0
        right += exact_match(read[best][1], [answer])
    head.discard_export()
    n = len(held_out)
    return {"learning_rate": rate, "train_seconds": round(took), "exact_in_own_sentence": round(own_right / n, 3),
            "own_sentence_first": round(first / n, 3), "exact_among_four": round(right / n, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="2e-4,5e-4,1e-3,2e-3")
    parser.add_argument("--squad", default=str(REPO.parent / "shared" / "bench" / "squad2-train-10-articles.json"))
    parser.add_argument("--workdir", default="/tmp", help="where the heads are written while measured")
    parser.add_argument("--out", help="also write the figures to this Markdown file")
    args = parser.parse_args()

    articles = json.loads(Path(args.squad).read_text(encoding="utf-8"))["data"]
    train, held_out = answer_sentences(articles[:5]), read_beside(articles[5:])
    rows = []
    for rate in (float(rate) for rate in args.rates.split(",")):
        rows.append(measure(rate, train, held_out, Path(args.workdir)))
        print(json.dumps(rows[-1]), flush=True)
    if args.out:
        table = "\n".join(f"| {' | '.join(str(value) for value in row.values())} |" for row in rows)
        Path(args.out).write_text(
            "# The span head's learning rate, on training data\n\nReproduce: `.venv/bin/python "
            "bench/span_learning_rate.py` (2-core machine). Heads trained on the first five SQuAD 2.0 "
            f"training articles ({len(train)} answer sentences) read {len(held_out)} questions of the other five.\n\n"
            f"| {' | '.join(rows[0])} |\n|{' --- |' * len(rows[0])}\n{table}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
