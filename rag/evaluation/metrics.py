"""Answer, retrieval, citation and abstention metrics. Pure functions over strings and id lists.

Answer normalisation follows the SQuAD evaluation script: lower case, punctuation and the
articles a/an/the removed, white space collapsed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rag.text import normalise


def contains_answer(answer: str, accepted: Sequence[str]) -> bool:
    """Whether the normalised answer contains any normalised accepted answer."""
    answer = f" {normalise(answer)} "
    return any(normalise(gold) and f" {normalise(gold)} " in answer for gold in accepted)


# Strict accuracy's limit: an answer longer than this is a pasted sentence, not a short answer.
STRICT_MAX_WORDS = 15


def strictly_right(answer: str, accepted: Sequence[str], cited: Sequence[str], gold: Sequence[str]) -> bool:
    """Contains an accepted answer, is at most STRICT_MAX_WORDS words, and cites a gold document (any
    document when the question names none: a user's own question file may give answers only)."""
    short = len(answer.split()) <= STRICT_MAX_WORDS
    return contains_answer(answer, accepted) and short and cites_gold(cited, gold)


def cites_gold(cited: Sequence[str], gold: Sequence[str]) -> bool:
    """Whether a gold document is cited; with no gold documents named, whether anything is."""
    return bool(set(cited) & set(gold)) if gold else bool(cited)


def exact_match(answer: str, accepted: Sequence[str]) -> float:
    return float(any(normalise(answer) == normalise(gold) for gold in accepted))


def token_f1(answer: str, gold: str) -> float:
    predicted, expected = normalise(answer).split(), normalise(gold).split()
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def best_f1(answer: str, accepted: Sequence[str]) -> float:
    return max((token_f1(answer, gold) for gold in accepted), default=0.0)


def distinct(ids: Sequence[str]) -> list[str]:
    """Ids in first-seen order without repeats: passages of one article count once."""
    return list(dict.fromkeys(ids))


def recall_at_k(ranked: Sequence[str], gold: Sequence[str], k: int) -> float:
    """1.0 when a gold id is among the first k distinct ranked ids."""
    return float(bool(set(distinct(ranked)[:k]) & set(gold)))


def reciprocal_rank(ranked: Sequence[str], gold: Sequence[str]) -> float:
    for rank, doc_id in enumerate(distinct(ranked), start=1):
        if doc_id in gold:
            return 1.0 / rank
    return 0.0


def citation_precision(cited: Sequence[str], gold: Sequence[str]) -> float | None:
    """Share of cited documents that are gold; None when nothing is cited."""
    cited = distinct(cited)
    return sum(doc_id in gold for doc_id in cited) / len(cited) if cited else None


def precision_recall_f1(true_positives: int, false_positives: int, false_negatives: int) -> tuple[float, float, float]:
    precision = true_positives / (true_positives + false_positives) if true_positives + false_positives else 0.0
    recall = true_positives / (true_positives + false_negatives) if true_positives + false_negatives else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence: always one of the values."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100), at least the first value
    return ordered[int(rank) - 1]


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0
