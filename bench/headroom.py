"""Headroom: how far strict accuracy can rise by better abstention alone, and how far by better
ranking, on data calibration never saw (the held-out splits of the eval set and of the news question
set; the SQuAD 2.0 development subset asked open-corpus). Says which stage limits answer quality.

    .venv/bin/python bench/headroom.py [--out docs/headroom.md]

For every question, the shipped models rank the candidates of the retrieved passages and judge the
best one, as `rag ask` does (before several matching events are composed). Reported per set:
- candidate recall: an answerable question has some right candidate (in a gold article, contains a
  gold answer, at most 15 words) among those ranked;
- best candidate right: share of answerable questions whose best-ranked candidate is right;
- ranker ceiling: strict accuracy if abstention were perfect (withhold exactly when the best candidate
  is wrong or the question unanswerable), given the ranker's choice;
- answerability AUC: how well the probability separates a right best candidate from the rest;
- strict accuracy at the shipped threshold, and at the threshold best for this very set (an oracle:
  no threshold learned elsewhere can beat it);
- strict accuracy with answerability fitted on this very set, five-fold (each fifth judged by the
  evidence model and threshold fitted on the other four): how far the evidence features can go on
  these questions however they are weighted.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rag.answers.answerability import evidence  # noqa: E402
from rag.answers.features import EVIDENCE, EVIDENCE_SIGNS  # noqa: E402
from rag.answers.model import LogisticModel, read_models  # noqa: E402
from rag.answers.ranking import rank  # noqa: E402
from rag.calibration import best_threshold  # noqa: E402
from rag.config import Config  # noqa: E402
from rag.evaluation.metrics import strictly_right  # noqa: E402
from rag.evaluation.runner import open_set  # noqa: E402
from rag.query import parse_query  # noqa: E402

SQUAD = REPO.parent / "shared/bench/squad2-dev-subset.json"
FOLDS = 5


def judge(question_set, models) -> dict:
    qa = question_set.qa
    probability, right, unanswerable, recalled, rows = [], [], [], [], []
    for question in question_set.questions:
        query = parse_query(question.question)
        query = dataclasses.replace(query, vector=qa.embedder.embed([query.text])[0])
        hits = qa.retriever.search(query, qa.config.top_k)
        ranked = rank(query, hits, models)
        fits = [question.answerable and strictly_right(c.text, question.answers, [c.sentence.doc_id], question.doc_ids)
                for c in ranked]
        rows.append(evidence(query, ranked, hits).row() if ranked else None)
        probability.append(models.answerability.probability(rows[-1]) if ranked else 0.0)
        right.append(bool(fits) and fits[0])
        unanswerable.append(not question.answerable)
        if question.answerable:
            recalled.append(any(fits))
    p, right, none = np.array(probability), np.array(right), np.array(unanswerable)
    positives, negatives = p[right], p[~right]
    ties = np.mean(positives[:, None] == negatives[None, :])
    auc = float(np.mean(positives[:, None] > negatives[None, :]) + 0.5 * ties)
    strict_at = {round(t, 2): float(np.mean(np.where(p >= t, right, none))) for t in np.arange(0.0, 1.0, 0.01)}
    oracle = max(strict_at, key=strict_at.get)
    return {
        "questions": len(p), "candidate recall": float(np.mean(recalled)),
        "best candidate right": float(np.mean(right[~none])),
        "ranker ceiling": float(np.mean(right | none)), "answerability AUC": auc,
        "strict at shipped threshold": strict_at[round(models.threshold, 2)],
        "strict at the oracle threshold": strict_at[oracle], "oracle threshold": oracle,
        "strict, answerability fitted on this set (5-fold)": _fitted_here(rows, right, none),
    }


def _fitted_here(rows: list, right: np.ndarray, none: np.ndarray) -> float:
    """Strict accuracy when each fifth of the questions is judged by an evidence model and threshold fitted
    on the other four fifths (the threshold by `rag calibrate`'s rule); a question without candidates is
    always withheld."""
    read = np.array([row is not None for row in rows])
    features = np.array([row if row is not None else (0.0,) * len(EVIDENCE) for row in rows])
    fold = np.arange(len(rows)) % FOLDS
    strict = none.copy()
    for held in range(FOLDS):
        train, test = read & (fold != held), read & (fold == held)
        model = LogisticModel.fit(EVIDENCE, features[train], right[train], signs=EVIDENCE_SIGNS)
        threshold = best_threshold([(model.probabilities(features[train]), right[train], none[train])])
        strict[test] = np.where(model.probabilities(features[test]) >= threshold, right[test], none[test])
    return float(np.mean(strict))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(REPO / "docs/headroom.md"))
    args = parser.parse_args()
    config = Config(reader="extractive")
    models = read_models(config.answer_weights)
    with tempfile.TemporaryDirectory(prefix="rag-headroom-") as workdir:
        work = Path(workdir)
        sets = {
            "eval set, held-out split": open_set(REPO / "eval/questions.jsonl", config, work, work / "eval-index",
                                                 REPO / "corpus", progress=False, split="test"),
            # Its corpus is the one beside it (eval/news/corpus), indexed in ``work``.
            "news set, held-out split": open_set(REPO / "eval/news/news-questions.jsonl", config, work, None, None,
                                                 progress=False, split="test"),
            "SQuAD 2.0 dev subset, open corpus": open_set(SQUAD, config, work, None, None, progress=False),
        }
        measured = {name: judge(question_set, models) for name, question_set in sets.items()}
    lines = ["| measure | " + " | ".join(measured) + " |", "|" + " --- |" * (len(measured) + 1)]
    for row in next(iter(measured.values())):
        lines.append(f"| {row} | " + " | ".join(_cell(figures[row]) for figures in measured.values()) + " |")
    report = "\n".join(lines) + "\n"
    print(report)
    Path(args.out).write_text(
        "# Headroom: which stage limits answer quality\n\nReproduce: `.venv/bin/python bench/headroom.py` "
        f"(about a minute on 2 cores). Shipped weights: threshold {models.threshold}.\n\n" + report)


def _cell(value) -> str:
    return str(value) if isinstance(value, int) else f"{value:.3f}"


if __name__ == "__main__":
    main()
