"""Evaluation output: a Markdown report, a JSON file and PNG charts in one directory."""

from __future__ import annotations

import json
from pathlib import Path

from rag.evaluation.harness import QuestionResult, Summary


def write_outputs(out_dir: Path, summaries: dict[str, Summary], results: dict[str, list[QuestionResult]],
                  settings: dict) -> list[Path]:
    """report.md, results.json and two charts per question set; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    payload = {
        "settings": settings,
        "sets": {
            name: {"summary": summary.to_dict(), "questions": [_record(r) for r in results[name]]}
            for name, summary in summaries.items()
        },
    }
    (out_dir / "results.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written.append(out_dir / "results.json")
    for name, summary in summaries.items():
        written += _charts(out_dir, name, summary, results[name])
    (out_dir / "report.md").write_text(markdown(summaries, settings), encoding="utf-8")
    written.append(out_dir / "report.md")
    return written


def markdown(summaries: dict[str, Summary], settings: dict) -> str:
    lines = ["# Evaluation report", "", "Settings: " + ", ".join(f"{k} `{v}`" for k, v in settings.items()), ""]
    for name, s in summaries.items():
        r, c, a, t = s.retrieval, s.citations, s.abstention, s.latency_ms
        lines += [
            f"## {name}", "",
            f"{s.questions} questions ({s.answerable} answerable, {s.unanswerable} unanswerable).", "",
            *([f"{s.without_gold_articles} answerable questions name no gold article: for them any citation "
               "counts, and retrieval and citation precision leave them out.", ""] if s.without_gold_articles else []),
            "| metric | value |", "| --- | --- |",
            f"| strict accuracy (contains gold, at most 15 words, cites a gold article) | {s.strict_accuracy:.3f} |",
            f"| answer accuracy (contains gold) | {s.accuracy:.3f} |",
            f"| accuracy with a gold document cited | {s.accuracy_with_citation:.3f} |",
            f"| accuracy on answerable questions | {s.answerable_accuracy:.3f} |",
            f"| exact match / token F1 | {s.exact_match:.3f} / {s.f1:.3f} |",
            f"| retrieval recall@1 / @3 / @5 | {r['recall@1']:.3f} / {r['recall@3']:.3f} / {r['recall@5']:.3f} |",
            f"| retrieval MRR | {r['mrr']:.3f} |",
            f"| citation precision / recall | {c['precision']:.3f} / {c['recall']:.3f} |",
            f"| abstention precision / recall / F1 | {a['precision']:.3f} / {a['recall']:.3f} / {a['f1']:.3f} |",
            f"| answerable questions wrongly withheld | {a['wrongly_withheld']:.3f} |",
            f"| latency p50 / p95 / max (ms) | {t['p50']:.0f} / {t['p95']:.0f} / {t['max']:.0f} |",
            "", "| kind (the question's type) | questions | strict accuracy | accuracy |", "| --- | --- | --- | --- |",
            *[f"| {kind} | {g['questions']} | {g['strict_accuracy']:.3f} | {g['accuracy']:.3f} |"
              for kind, g in s.by_type.items()],
            "", f"![accuracy by type]({_slug(name)}-accuracy-by-type.png) ![latency]({_slug(name)}-latency.png)", "",
            "Worst failures (most confident first):", "",
            "| question | expected | got | cited | confidence |", "| --- | --- | --- | --- | --- |",
            *[
                f"| {_cell(f['question'])} | {_cell(' / '.join(f['expected']))} | {_cell(f['got'])} | "
                f"{', '.join(f['cited']) or '-'} | {f['probability']:.2f} |"
                for f in s.worst_failures
            ],
            "",
        ]
    return "\n".join(lines)


def _charts(out_dir: Path, name: str, summary: Summary, results: list[QuestionResult]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt

    kinds = list(summary.by_type)
    figure, axes = plt.subplots(figsize=(7, 3.5))
    axes.bar(kinds, [summary.by_type[k]["strict_accuracy"] for k in kinds], color="#3b6ea5")
    axes.set_ylim(0, 1)
    axes.set_ylabel("strict accuracy")
    axes.set_title(f"{name}: accuracy by question type")
    axes.tick_params(axis="x", rotation=30)
    figure.tight_layout()
    by_type = out_dir / f"{_slug(name)}-accuracy-by-type.png"
    figure.savefig(by_type, dpi=100)
    plt.close(figure)

    figure, axes = plt.subplots(figsize=(7, 3.5))
    axes.hist([r.latency_ms for r in results], bins=30, color="#a5673b")
    axes.set_xlabel("ms per question (after models are loaded)")
    axes.set_ylabel("questions")
    axes.set_title(f"{name}: latency")
    figure.tight_layout()
    latency = out_dir / f"{_slug(name)}-latency.png"
    figure.savefig(latency, dpi=100)
    plt.close(figure)
    return [by_type, latency]


def _record(result: QuestionResult) -> dict:
    return {
        "id": result.question.id, "question": result.question.question, "type": result.question.type,
        "expected": list(result.question.answers), "gold_doc_ids": list(result.question.doc_ids),
        "answer": result.answer, "abstained": result.abstained, "probability": round(result.probability, 4),
        "correct": result.correct(), "cited_doc_ids": list(result.cited_doc_ids),
        "retrieved_doc_ids": list(dict.fromkeys(result.retrieved_doc_ids)), "latency_ms": round(result.latency_ms, 1),
    }


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:140]
