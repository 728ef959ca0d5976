"""Measure the answerability probability on answerable and unanswerable questions calibration never saw.

    .venv/bin/python bench/abstention.py [--squad ../shared/bench/squad2-dev-subset.json] [--out docs/abstention-sweep.md]

Runs every SQuAD 2.0 development question through the real pipeline (MiniLM embedder, extractive
reader) with abstention switched off, then sweeps the threshold: a question counts as right when an
answerable one is answered strictly right (a gold answer inside an answer of at most 15 words, its
paragraph cited), or an unanswerable one is withheld. Writes the sweep as a Markdown table, with
the ROC AUC of the probability for telling right answers from the rest.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rag.config import Config  # noqa: E402
from rag.evaluation.harness import ask_all  # noqa: E402
from rag.evaluation.runner import open_set  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--squad", default=str(REPO.parent / "shared/bench/squad2-dev-subset.json"))
    parser.add_argument("--out", default=str(REPO / "docs/abstention-sweep.md"))
    args = parser.parse_args()

    config = Config(reader="extractive", abstain_threshold=0.0)
    with tempfile.TemporaryDirectory(prefix="rag-abstention-") as workdir:
        squad = open_set(args.squad, config, Path(workdir), Path(workdir), Path(workdir), progress=True)
        results = [
            (result.probability, result.question.answerable, result.question.answerable and result.strictly_correct())
            for result in ask_all(squad.qa, squad.questions)
        ]
    Path(args.out).with_suffix(".json").write_text(json.dumps(results))
    report = sweep(results)
    print(report)
    Path(args.out).write_text(HEADER + report)


HEADER = """# Choosing the abstention threshold

Reproduce: `.venv/bin/python bench/abstention.py` (about a minute and a half on 2 cores).

Every question of the SQuAD 2.0 subset in `../shared/bench/` (87 paragraphs, each one document) is
asked against the whole corpus with the extractive reader and abstention off; then each threshold
is applied to the recorded answerability probabilities. *Right*: an answerable question answered
strictly right (a gold answer inside an answer of at most 15 words, its paragraph cited), or an
unanswerable one withheld. *Precision*: the share
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
    from sklearn.metrics import roc_auc_score

    auc = roc_auc_score([correct for _, _, correct in results], [score for score, _, _ in results])
    return "\n".join(lines) + (
        f"\n\nROC AUC of the probability for a right answer: {auc:.3f}."
        f"\n\n{len(results)} questions, {answerable} answerable. Highest precision of given answers: "
        f"threshold {best['threshold']:.2f} (precision {best['precision']:.3f}, balanced {best['balanced']:.3f}, "
        f"accuracy {best['accuracy']:.3f}).\n"
    )


if __name__ == "__main__":
    main()
