"""Metric functions against hand-computed cases, including empty answers and ties."""

import pytest

from rag.evaluation.metrics import (
    best_f1,
    citation_precision,
    contains_answer,
    exact_match,
    normalise,
    percentile,
    precision_recall_f1,
    recall_at_k,
    reciprocal_rank,
    token_f1,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The Sea of Japan.", "sea of japan"),
        ("  Workers’ Party of Korea ", "workers party of korea"),  # typographic apostrophe is punctuation too
        ("An Apple, a Pear", "apple pear"),
        ("", ""),
    ],
)
def test_normalise(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize(
    "answer, accepted, expected",
    [
        ("more than 200 miles", ["200 miles"], True),
        ("More than 200 Miles.", ["200 miles"], True),
        ("2000 miles", ["200 miles"], False),  # whole words only: 200 is not inside 2000
        ("Sino-ri missile base", ["Sino-ri"], True),
        ("anything", [], False),  # nothing accepted: an unanswerable question cannot be "contained"
        ("", ["200 miles"], False),
        ("the", ["the"], False),  # an accepted answer that normalises to nothing matches nothing
    ],
)
def test_contains_answer(answer, accepted, expected):
    assert contains_answer(answer, accepted) is expected


def test_exact_match_takes_the_best_accepted_answer():
    assert exact_match("The East Sea", ["Sea of Japan", "east sea"]) == 1.0
    assert exact_match("East Sea coast", ["East Sea"]) == 0.0
    assert exact_match("", ["x"]) == 0.0


@pytest.mark.parametrize(
    "answer, gold, expected",
    [
        ("more than 200 miles", "200 miles", 2 * (2 / 4) * (2 / 2) / ((2 / 4) + (2 / 2))),  # P=1/2, R=1 -> 2/3
        ("200 miles", "200 miles", 1.0),
        ("420 kilometers", "270 kilometers", 0.5),  # one of two tokens shared both ways
        ("Jangyon", "Kusong", 0.0),
        ("", "", 1.0),  # both empty: agree
        ("", "Kusong", 0.0),
        ("Kusong", "", 0.0),
        ("a the an", "Kusong", 0.0),  # normalises to empty
    ],
)
def test_token_f1(answer, gold, expected):
    assert token_f1(answer, gold) == pytest.approx(expected)


def test_best_f1_ties_and_no_gold():
    assert best_f1("420 kilometers", ["420 km", "kilometers 420"]) == 1.0
    assert best_f1("420 kilometers", ["420 km", "270 km"]) == pytest.approx(0.5)  # tie between the two: 0.5
    assert best_f1("anything", []) == 0.0


def test_retrieval_metrics_count_each_document_once():
    ranked = ["a", "a", "b", "c", "b", "d"]
    assert recall_at_k(ranked, ["b"], 1) == 0.0
    assert recall_at_k(ranked, ["b"], 2) == 1.0  # distinct order is a, b, c, d
    assert recall_at_k(ranked, ["d"], 3) == 0.0 and recall_at_k(ranked, ["d"], 4) == 1.0
    assert reciprocal_rank(ranked, ["c", "d"]) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranked, ["z"]) == 0.0 and reciprocal_rank([], ["a"]) == 0.0


def test_citation_precision():
    assert citation_precision(["a", "a", "b"], ["a"]) == 0.5
    assert citation_precision([], ["a"]) is None


@pytest.mark.parametrize(
    "counts, expected",
    [
        ((3, 1, 2), (0.75, 0.6, 2 * 0.75 * 0.6 / 1.35)),
        ((0, 0, 0), (0.0, 0.0, 0.0)),
        ((0, 5, 0), (0.0, 0.0, 0.0)),
        ((4, 0, 0), (1.0, 1.0, 1.0)),
    ],
)
def test_precision_recall_f1(counts, expected):
    assert precision_recall_f1(*counts) == pytest.approx(expected)


def test_nearest_rank_percentiles():
    values = [30.0, 10.0, 20.0, 40.0]
    assert percentile(values, 50) == 20.0 and percentile(values, 95) == 40.0 and percentile(values, 0) == 10.0
    assert percentile([7.0], 95) == 7.0
