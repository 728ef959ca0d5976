"""Runs question sets through the QA pipeline and turns the answers into metrics.

Each question goes through ``QA.ask`` exactly as ``rag ask`` would. A result keeps the reader's
confidence, so a different abstention threshold can be applied afterwards (calibration) without
asking again, provided the run itself withheld nothing (threshold 0).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass

from rag.evaluation import metrics
from rag.evaluation.dataset import EvalQuestion
from rag.pipeline import QA

WORST_FAILURES = 10


@dataclass(frozen=True)
class QuestionResult:
    question: EvalQuestion
    answer: str
    abstained: bool
    probability: float  # that the answer is right, as the QA judged it
    cited_doc_ids: tuple[str, ...]
    retrieved_doc_ids: tuple[str, ...]  # passage documents in rank order, repeats included
    latency_ms: float

    def withheld(self, threshold: float | None = None) -> bool:
        return self.abstained or (threshold is not None and self.probability < threshold)

    def correct(self, threshold: float | None = None) -> bool:
        """Unanswerable: withheld. Answerable: answered, and the answer contains an accepted answer."""
        if not self.question.answerable:
            return self.withheld(threshold)
        return not self.withheld(threshold) and metrics.contains_answer(self.answer, self.question.answers)

    def correct_and_cited(self, threshold: float | None = None) -> bool:
        """As ``correct``, and for answerable questions a gold document is cited too."""
        cited = not self.question.answerable or metrics.cites_gold(self.cited_doc_ids, self.question.doc_ids)
        return self.correct(threshold) and cited

    def strictly_correct(self, threshold: float | None = None) -> bool:
        """As ``correct_and_cited``, and a short answer (metrics.strictly_right)."""
        if not self.question.answerable:
            return self.withheld(threshold)
        return not self.withheld(threshold) and metrics.strictly_right(
            self.answer, self.question.answers, self.cited_doc_ids, self.question.doc_ids)


@dataclass(frozen=True)
class Summary:
    """Every metric of a run (``to_dict`` is what `rag eval --json` prints for a question set)."""

    questions: int
    answerable: int
    unanswerable: int
    strict_accuracy: float  # contains a gold answer, at most 15 words, cites a gold article
    # Answerable questions that name no gold article: any citation counts for them, and they are left
    # out of the retrieval and citation-precision figures.
    without_gold_articles: int
    accuracy: float  # contains a gold answer (unanswerable: withheld)
    accuracy_with_citation: float
    answerable_accuracy: float
    exact_match: float
    f1: float
    retrieval: dict[str, float]  # recall@1, @3, @5 and MRR of the gold articles
    citations: dict[str, float]  # precision and recall of the cited articles
    abstention: dict[str, float]  # precision, recall and F1 of withholding, and the share wrongly withheld
    latency_ms: dict[str, float]  # p50, p95, max
    by_type: dict[str, dict]  # per question type: questions, accuracy, strict accuracy
    worst_failures: list[dict]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class EvalReport:
    """A question set asked through a QA: each question's result and the metrics over them."""

    results: tuple[QuestionResult, ...]
    summary: Summary


def evaluate(qa: QA, questions: list[EvalQuestion], progress: bool = True) -> EvalReport:
    """Ask every question as `rag ask` would and measure the answers."""
    results = tuple(ask_all(qa, questions, progress))
    return EvalReport(results, summarise(list(results)))


def ask_all(qa: QA, questions: list[EvalQuestion], progress: bool = True) -> list[QuestionResult]:
    from tqdm import tqdm

    qa.warm_up()
    results = []
    for question in tqdm(questions, desc="Evaluating", unit="question", disable=not progress):
        answer = qa.ask(question.question)
        results.append(QuestionResult(
            question=question,
            answer="" if answer.abstained else answer.text,
            abstained=answer.abstained,
            probability=answer.probability,
            cited_doc_ids=tuple(citation.doc_id for citation in answer.citations),
            retrieved_doc_ids=tuple(hit.chunk.doc_id for hit in answer.passages),
            latency_ms=answer.timings_ms["total"],
        ))
    return results


def summarise(results: list[QuestionResult], threshold: float | None = None) -> Summary:
    """Every metric of the report. ``threshold`` re-applies abstention."""
    answerable = [r for r in results if r.question.answerable]
    unanswerable = [r for r in results if not r.question.answerable]
    answered = [r for r in answerable if not r.withheld(threshold)]
    with_gold = [r for r in answerable if r.question.doc_ids]
    withheld_unanswerable = sum(r.withheld(threshold) for r in unanswerable)
    withheld_answerable = sum(r.withheld(threshold) for r in answerable)
    precision, recall, f1 = metrics.precision_recall_f1(
        withheld_unanswerable, withheld_answerable, len(unanswerable) - withheld_unanswerable
    )
    cited = [p for r in answered if r.question.doc_ids
             and (p := metrics.citation_precision(r.cited_doc_ids, r.question.doc_ids)) is not None]
    latencies = [r.latency_ms for r in results]
    return Summary(
        questions=len(results),
        answerable=len(answerable),
        unanswerable=len(unanswerable),
        strict_accuracy=metrics.mean([r.strictly_correct(threshold) for r in results]),
        without_gold_articles=len(answerable) - len(with_gold),
        accuracy=metrics.mean([r.correct(threshold) for r in results]),
        accuracy_with_citation=metrics.mean([r.correct_and_cited(threshold) for r in results]),
        answerable_accuracy=metrics.mean([r.correct(threshold) for r in answerable]),
        exact_match=metrics.mean([_exact_match(r, threshold) for r in results]),
        f1=metrics.mean([_f1(r, threshold) for r in results]),
        retrieval={
            **{f"recall@{k}": metrics.mean([metrics.recall_at_k(r.retrieved_doc_ids, r.question.doc_ids, k)
                                            for r in with_gold]) for k in (1, 3, 5)},
            "mrr": metrics.mean([metrics.reciprocal_rank(r.retrieved_doc_ids, r.question.doc_ids) for r in with_gold]),
        },
        citations={
            "precision": metrics.mean(cited),
            "recall": metrics.mean([metrics.cites_gold(r.cited_doc_ids, r.question.doc_ids)
                                    and not r.withheld(threshold) for r in answerable]),
        },
        abstention={
            "precision": precision, "recall": recall, "f1": f1,
            "wrongly_withheld": withheld_answerable / len(answerable) if answerable else 0.0,
        },
        latency_ms={
            "p50": metrics.percentile(latencies, 50), "p95": metrics.percentile(latencies, 95), "max": max(latencies),
        } if latencies else {},
        by_type=_by_type(results, threshold),
        worst_failures=_worst_failures(results, threshold),
    )


def sweep(results: list[QuestionResult], steps: int = 20) -> list[dict]:
    """Accuracy at each threshold 0, 1/steps, ..., 1 (results must come from a run with threshold 0)."""
    return [
        {"threshold": t, "accuracy": metrics.mean([r.correct(t) for r in results]),
         "strict_accuracy": metrics.mean([r.strictly_correct(t) for r in results]),
         "answered": sum(not r.withheld(t) for r in results)}
        for t in (step / steps for step in range(steps + 1))
    ]


def calibrate(results: list[QuestionResult]) -> dict:
    """The sweep row with the highest accuracy; among equals, the lowest threshold (answers most)."""
    return max(sweep(results), key=lambda row: (round(row["accuracy"], 6), -row["threshold"]))


def _exact_match(result: QuestionResult, threshold: float | None) -> float:
    if not result.question.answerable:
        return float(result.withheld(threshold))
    return 0.0 if result.withheld(threshold) else metrics.exact_match(result.answer, result.question.answers)


def _f1(result: QuestionResult, threshold: float | None) -> float:
    if not result.question.answerable:
        return float(result.withheld(threshold))
    return 0.0 if result.withheld(threshold) else metrics.best_f1(result.answer, result.question.answers)


def _by_type(results: list[QuestionResult], threshold: float | None) -> dict[str, dict]:
    groups: dict[str, list[QuestionResult]] = defaultdict(list)
    for result in results:
        groups[result.question.type].append(result)
    return {
        kind: {"questions": len(group), "accuracy": metrics.mean([r.correct(threshold) for r in group]),
               "strict_accuracy": metrics.mean([r.strictly_correct(threshold) for r in group])}
        for kind, group in sorted(groups.items())
    }


def _worst_failures(results: list[QuestionResult], threshold: float | None) -> list[dict]:
    """Wrong answers given, the most confident first (a confident mistake misleads a reader most),
    then answerable questions wrongly withheld."""
    wrong = sorted((r for r in results if not r.correct(threshold)),
                   key=lambda r: (r.withheld(threshold), -r.probability))
    return [
        {
            "id": r.question.id, "question": r.question.question,
            "expected": list(r.question.answers) or ["(withhold)"],
            "got": "(withheld)" if r.withheld(threshold) else r.answer,
            "cited": list(metrics.distinct(r.cited_doc_ids)), "probability": round(r.probability, 3),
        }
        for r in wrong[:WORST_FAILURES]
    ]
