"""Measure reader confidence on answerable and unanswerable questions, to choose the abstention threshold.

    .venv/bin/python bench/abstention.py [--squad ../shared/bench/squad2-dev-subset.json] [--out docs/abstention-sweep.md]

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
    parser.add_argument("--out", default=str(REPO / "docs/abstention-sweep.md"))
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
    report = sweep(results)
    print(report)
    Path(args.out).write_text(HEADER + report)


HEADER = """# Choosing the abstention threshold

Reproduce: `.venv/bin/python bench/abstention.py` (about a minute and a half on 2 cores).

Every question of the SQuAD 2.0 subset in `../shared/bench/` (87 paragraphs, each one document) is
asked against the whole corpus with the extractive reader and abstention off; then each threshold
is applied to the recorded confidences. *Right*: an answerable question answered with a gold answer
inside the answer and its paragraph cited, or an unanswerable one withheld. *Precision*: the share
of given answers that are right. *Balanced*: the mean of the answerable-right rate and the
unanswerable-withheld rate, so the set's mix does not decide.

"""


def sweep(results: list[tuple[float, bool, bool]]) -> str:
    answerable = sum(a for _, a, _ in results)
    unanswerable = len(results) - answerable
    rows = []
    for threshold in [t / 100 for t in range(0, 101, 5)]:
        answered_right = sum(score >= threshold and correct for score, _, correct in results)
        answered = sum(score >= threshold for score, _, _ in results)
        withheld = sum(score < threshold and not answerable_ for score, answerable_, _ in results)
        rows.append({
            "threshold": threshold,
            "accuracy": (answered_right + withheld) / len(results),
            "balanced": (answered_right / answerable + withheld / unanswerable) / 2,
            "precision": answered_right / answered if answered else 0.0,
            "answered": answered, "answered_right": answered_right, "withheld_unanswerable": withheld,
        })
    lines = [
        "| threshold | accuracy | balanced | precision | answered | answerable right | unanswerable withheld |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *[
            f"| {r['threshold']:.2f} | {r['accuracy']:.3f} | {r['balanced']:.3f} | {r['precision']:.3f} | "
            f"{r['answered']} | {r['answered_right']}/{answerable} | {r['withheld_unanswerable']}/{unanswerable} |"
            for r in rows
        ],
    ]
    # The threshold at which a given answer is most often right; among equals, the one answering more.
    best = max(rows, key=lambda r: (round(r["precision"], 3), -r["threshold"]))
    return "\n".join(lines) + (
        f"\n\n{len(results)} questions, {answerable} answerable. Highest precision of given answers: "
        f"threshold {best['threshold']:.2f} (precision {best['precision']:.3f}, balanced {best['balanced']:.3f}, "
        f"accuracy {best['accuracy']:.3f}).\n"
    )


if __name__ == "__main__":
    main()
