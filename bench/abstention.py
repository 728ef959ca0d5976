"""Measure reader confidence on answerable and unanswerable questions, to choose the abstention threshold.

    .venv/bin/python bench/abstention.py [--squad ../shared/bench/squad2-dev-subset.json] [--out docs/abstention.md]

Runs every SQuAD 2.0 question through the real pipeline (MiniLM embedder, extractive reader) with
abstention switched off, then sweeps the threshold: a question counts as right when an answerable
one is answered with a gold answer inside the answer and its paragraph cited, or an unanswerable
one is withheld. Writes the sweep as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import re
import string
import sys
import tempfile
from pathlib import Path

from tqdm import tqdm

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rag.config import Config  # noqa: E402
from rag.index import build_index  # noqa: E402
from rag.pipeline import QA  # noqa: E402
from rag.squad import read_squad, write_corpus  # noqa: E402


def normalise(text: str) -> str:
    text = "".join(c for c in text.lower() if c not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--squad", default=str(REPO.parent / "shared/bench/squad2-dev-subset.json"))
    parser.add_argument("--out", default=str(REPO / "docs/abstention.md"))
    args = parser.parse_args()

    paragraphs, questions = read_squad(args.squad)
    workdir = Path(tempfile.mkdtemp(prefix="rag-squad-"))
    config = Config(reader="extractive", abstain_threshold=0.0)
    build_index(write_corpus(paragraphs, workdir / "corpus"), workdir / "index", config, progress=True)
    qa = QA(workdir / "index", workdir / "corpus", config)

    results = []  # (score, answerable, correct-if-answered)
    for question in tqdm(questions, desc="Questions", unit="q"):
        answer = qa.ask(question.question)
        cited = {citation.doc_id for citation in answer.citations}
        correct = bool(question.answers) and question.doc_id in cited and any(
            normalise(gold) in normalise(answer.text) for gold in question.answers
        )
        results.append((answer.score, bool(question.answers), correct))

    Path(args.out).with_suffix(".json").write_text(json.dumps(results))
    rows = []
    for threshold in [t / 100 for t in range(0, 101, 5)]:
        right = sum((score >= threshold and correct) or (score < threshold and not answerable)
                    for score, answerable, correct in results)
        withheld_unanswerable = sum(score < threshold and not answerable for score, answerable, _ in results)
        withheld_answerable = sum(score < threshold and answerable for score, answerable, _ in results)
        rows.append((threshold, right / len(results), withheld_unanswerable, withheld_answerable))
    answerable = sum(a for _, a, _ in results)
    lines = [
        "| threshold | accuracy | unanswerable withheld | answerable withheld |",
        "| --- | --- | --- | --- |",
        *[f"| {t:.2f} | {acc:.3f} | {u}/{len(results) - answerable} | {a}/{answerable} |" for t, acc, u, a in rows],
    ]
    best = max(rows, key=lambda row: row[1])
    report = "\n".join(lines) + (
        f"\n\n{len(results)} questions ({answerable} answerable); answerable answered right with no threshold: "
        f"{sum(c for _, _, c in results)}. Best threshold: {best[0]:.2f} (accuracy {best[1]:.3f}).\n"
    )
    print(report)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(report)


if __name__ == "__main__":
    main()
