"""Answer quality against the targets: strict accuracy, SQuAD EM/F1, abstention and latency on data
calibration never saw (the eval set's held-out split, and the SQuAD 2.0 development subset asked
open-corpus).

    .venv/bin/python bench/answers.py [--out docs/answer-quality.md]

Builds the indexes in a temporary directory, runs both sets through the same pipeline as
`rag ask` (extractive reader, default threshold), and writes a table with each target beside it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rag.config import Config  # noqa: E402
from rag.evaluation.runner import run  # noqa: E402

SQUAD = REPO.parent / "shared/bench/squad2-dev-subset.json"
# (metric label, how to read it from a summary, target on the eval set, target on SQuAD)
TARGETS = (
    ("strict accuracy", lambda s: s["strict_accuracy"], 0.75, 0.60),
    ("SQuAD F1", lambda s: s["f1"], None, 0.55),
    ("exact match", lambda s: s["exact_match"], None, None),
    ("abstention F1", lambda s: s["abstention"]["f1"], 0.60, 0.60),
    ("abstention precision", lambda s: s["abstention"]["precision"], None, None),
    ("abstention recall", lambda s: s["abstention"]["recall"], None, None),
    ("accuracy (contains gold)", lambda s: s["accuracy"], None, None),
    ("retrieval recall@5", lambda s: s["retrieval"]["recall@5"], None, None),
    ("latency p50 ms", lambda s: s["latency_ms"]["p50"], 60, 60),
    ("latency p95 ms", lambda s: s["latency_ms"]["p95"], 120, 120),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(REPO / "docs/answer-quality.md"))
    args = parser.parse_args()
    config = Config(reader="extractive")
    with tempfile.TemporaryDirectory(prefix="rag-answers-") as workdir:
        work = Path(workdir)
        held_out = run([str(REPO / "eval/questions.jsonl")], config, work / "eval-out", work, work / "index",
                       REPO / "corpus", progress=False, split="test").summaries["questions"].to_dict()
        squad = run([str(SQUAD)], config, work / "squad-out", work, work / "index", REPO / "corpus",
                    progress=False).summaries[SQUAD.stem].to_dict()
    lines = [
        "| metric | eval set, held-out split | target | SQuAD 2.0 dev subset, open corpus | target |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, read, eval_target, squad_target in TARGETS:
        lines.append(f"| {label} | {_cell(read(held_out))} | {_target(read(held_out), eval_target, label)} | "
                     f"{_cell(read(squad))} | {_target(read(squad), squad_target, label)} |")
    lines += ["", f"{held_out['questions']} held-out questions ({held_out['unanswerable']} unanswerable); "
              f"{squad['questions']} SQuAD questions ({squad['unanswerable']} unanswerable)."]
    report = "\n".join(lines) + "\n"
    print(report)
    Path(args.out).write_text("# Answer quality against the targets\n\nReproduce: `.venv/bin/python bench/answers.py` "
                              "(about three minutes on 2 cores).\n\n" + report)


def _cell(value: float) -> str:
    return f"{value:.0f}" if value > 1 else f"{value:.3f}"


def _target(value: float, target: float | None, label: str) -> str:
    if target is None:
        return "-"
    met = value <= target if "latency" in label else value >= target
    return f"{'<=' if 'latency' in label else '>='} {target} ({'met' if met else 'not met'})"


if __name__ == "__main__":
    main()
