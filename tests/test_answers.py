"""Typed candidates, their features, the learned models and every-matching-event answers, on the
real embedder, the real spaCy tagger and the shipped weights."""

import dataclasses
from datetime import date

import numpy as np
import pytest

from rag.answers.answerability import LearnedAnswerability, evidence
from rag.answers.candidates import candidates
from rag.answers.events import compose, matching_events
from rag.answers.features import EVIDENCE, FEATURES
from rag.answers.model import LogisticModel, read_models
from rag.answers.ranking import rank
from rag.calibration import NEAR_MISS, best_threshold, near_misses, squad_article
from rag.dates import Fit
from rag.evaluation.dataset import EvalQuestion
from rag.readers import ExtractiveReader
from rag.types import Answer
from tests.annotated import annotated_hits, embedded_query

KUSONG = ("Both missiles flew east and over land, with the first one flying 420 kilometers and the second one "
          "270 kilometers across the Korean Peninsula, the Joint Chiefs of Staff said.")


@pytest.fixture(scope="module")
def models(real_embedder):
    return read_models()


def test_candidates_are_typed_spans_with_every_feature(real_embedder, models):
    hits = annotated_hits([KUSONG, "Seoul protested on Friday."], real_embedder)
    query = embedded_query("How far did the second missile fly?", real_embedder)
    found = candidates(query, hits, models.span_head)
    assert found and all(len(c.features.row()) == len(FEATURES) for c in found)
    assert {c.kind for c in found} == {"distance"}  # a distance question reads distances only
    for c in found:
        assert c.sentence.text[c.span_start : c.span_end] == c.text  # offsets slice back to the text
    by_text = {c.text: c for c in found}
    assert by_text["270 kilometers"].features.ordinal_fit == 1.0  # "the second one 270"
    assert by_text["270 kilometers"].features.ordinal_conflict == 0.0
    assert "420 kilometers" not in by_text  # "the first one flying 420": another ordinal's span is no answer
    third = {c.text: c for c in candidates(embedded_query("How far did the third missile fly?", real_embedder), hits,
                                           models.span_head)}
    assert third["420 kilometers"].features.ordinal_conflict == 1.0  # kept when no span fits, but marked


def test_the_ranker_picks_the_span_of_the_asked_ordinal(real_embedder, models):
    hits = annotated_hits([KUSONG], real_embedder)
    first = rank(embedded_query("How far did the first missile fly?", real_embedder), hits, models)
    second = rank(embedded_query("How far did the second missile fly?", real_embedder), hits, models)
    assert "420 kilometers" in first[0].text and "270 kilometers" in second[0].text
    assert [c.score for c in second] == sorted((c.score for c in second), reverse=True)


def test_answers_that_repeat_the_question_are_not_candidates(real_embedder, models):
    hits = annotated_hits(["North Korea's state agency KCNA said the test included a tactical-guided missile."],
                          real_embedder)
    found = candidates(embedded_query("Which North Korean agency reported the test?", real_embedder), hits,
                       models.span_head)
    assert "KCNA" in {c.text for c in found} and not {"North Korea", "North Korea's"} & {c.text for c in found}


def test_no_sentences_no_candidates(real_embedder, models):
    assert candidates(embedded_query("Who?", real_embedder), [], models.span_head) == []


def test_logistic_models_round_trip_through_json_and_learn_a_separable_rule():
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(400, 3))
    labels = rows[:, 0] - rows[:, 2] > 0
    model = LogisticModel.fit(("a", "b", "c"), rows, labels)
    assert np.mean((model.probabilities(rows) > 0.5) == labels) > 0.95
    again = LogisticModel.from_dict(model.to_dict())
    assert np.allclose(again.probabilities(rows), model.probabilities(rows), atol=1e-4)
    groups = [(rows[i : i + 10], labels[i : i + 10]) for i in range(0, 400, 10)]
    pairwise = LogisticModel.fit_pairwise(("a", "b", "c"), [g for g in groups if g[1].any() and not g[1].all()])
    assert pairwise.weights[0] > 0 > pairwise.weights[2] and pairwise.bias == 0.0


def test_the_threshold_is_chosen_where_accuracy_is_high_around_it_not_at_a_lone_peak():
    # A: one right answer at 0.6 among nine wrong ones, so any threshold up to 0.6 gains a tenth.
    broad = (np.array([0.6] + [0.9] * 9), np.array([True] + [False] * 9), np.zeros(10, bool))
    # B: a right answer at 0.90 just above an unanswerable question at 0.89: only 0.90 gets both.
    lone = (np.array([0.90, 0.89]), np.array([True, False]), np.array([False, True]))
    assert best_threshold([broad, lone]) <= 0.6
    # Right answers at 0.7..0.9 and unanswerable questions at 0.1..0.3: a threshold between them.
    separable = (np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9]), np.array([False] * 3 + [True] * 3),
                 np.array([True] * 3 + [False] * 3))
    assert 0.3 < best_threshold([separable]) <= 0.7


def test_near_misses_swap_a_name_the_gold_article_states_for_one_it_never_does():
    documents = {"Town_000": "About 8,000 homes in Brennholt lost power in 2024.",
                 "Town_001": "Calder opened a tram line in 2026."}
    asked = [EvalQuestion("a", "How many homes in Brennholt lost power in 2024?", ("8,000",), ("Town_000",), "count"),
             EvalQuestion("b", "What did Calder open in 2026?", ("a tram line",), ("Town_001",), "other"),
             EvalQuestion("c", "What did Calder open?", (), (), "unanswerable")]
    made = {question.id: question for question in near_misses(asked, documents, squad_article)}
    assert set(made) == {"a-near-miss", "b-near-miss"}  # the unanswerable one has nothing to swap from
    # A name for a name, a number for a number, always one the gold article does not state.
    assert made["a-near-miss"].question in {"How many homes in Calder lost power in 2024?",
                                            "How many homes in Brennholt lost power in 2026?"}
    assert made["b-near-miss"].question in {"What did Brennholt open in 2026?", "What did Calder open in 2024?"}
    # Unanswerable now, still pointing at the article it was made from (fit keeps answers cited there).
    assert not made["a-near-miss"].answerable and made["a-near-miss"].doc_ids == ("Town_000",)
    assert made["a-near-miss"].type == NEAR_MISS


def test_the_shipped_weights_match_the_features_this_code_computes(models):
    assert models.ranker.features == FEATURES and models.answerability.features == EVIDENCE
    assert 0.0 < models.threshold < 1.0 and models.trained_on["squad_questions"] > 4000


def test_answerability_prefers_evidence_that_answers_this_question(real_embedder, models):
    hits = annotated_hits(["The missiles flew 450 kilometers at an altitude of 60 kilometers.",
                           "Diplomats met in Hanoi to discuss sanctions."], real_embedder)
    judge = LearnedAnswerability(models)
    reader = ExtractiveReader(models)

    def probability(question):
        query = embedded_query(question, real_embedder)
        return judge.probability(query, dataclasses.replace(reader.read(query, hits), passages=tuple(hits)))

    assert probability("How far did the missiles fly?") > probability("How far did the submarine's torpedo travel?")
    assert judge.probability(embedded_query("Who?", real_embedder), Answer("Who?", "", True)) == 0.0


def test_a_name_the_cited_article_lacks_and_another_article_has_counts_against_the_answer(real_embedder, models):
    """"How many homes in Calder lost power?" of an article on Brennholt, in an archive that knows Calder from
    another article: the question is about another town. A name no passage has may be the article's alias."""
    brennholt, calder = annotated_hits(["About 8,000 homes in Brennholt lost power on Tuesday after a fault.",
                                        "Calder opened a new tram line on Saturday."], real_embedder)
    judge, reader = LearnedAnswerability(models), ExtractiveReader(models)

    def judged(question, hits):
        query = embedded_query(question, real_embedder)
        answer = dataclasses.replace(reader.read(query, hits), passages=tuple(hits))
        assert answer.candidates[0].text == "About 8,000"
        return evidence(query, list(answer.candidates), hits).names_elsewhere, judge.probability(query, answer)

    question = "How many homes in Calder lost power?"
    named_elsewhere, named_nowhere = judged(question, [brennholt, calder]), judged(question, [brennholt])
    assert named_elsewhere[0] == 1.0 and named_nowhere[0] == 0.0
    assert named_elsewhere[1] < min(models.threshold, named_nowhere[1])
    # Another passage of the cited article names Calder: the article knows it, whatever its other passages say.
    same_article = dataclasses.replace(calder, chunk=dataclasses.replace(calder.chunk, doc_id=brennholt.chunk.doc_id))
    assert judged(question, [brennholt, same_article])[0] == 0.0
    # A weekday or month is a date, which the date rules read: it names no other thing.
    assert judged("How many homes in Brennholt lost power on Saturday?", [brennholt, calder])[0] == 0.0


def test_answerability_reads_how_sure_the_span_head_is(real_embedder, models):
    """The head's own score of the best span is evidence: the same answer, read more surely, is likelier right."""
    hits = annotated_hits(["The missiles flew 450 kilometers at an altitude of 60 kilometers."], real_embedder)
    query = embedded_query("How far did the missiles fly?", real_embedder)
    ranked = rank(query, hits, models)
    assert evidence(query, ranked, hits).span_head == ranked[0].features.span_head

    def probability(head_score):
        best = dataclasses.replace(ranked[0], features=dataclasses.replace(ranked[0].features, span_head=head_score))
        return models.answerability.probability(evidence(query, [best, *ranked[1:]], hits).row())

    assert probability(ranked[0].features.span_head + 3) > probability(ranked[0].features.span_head - 3)


def test_a_named_period_is_covered_by_evidence_dated_in_it(real_embedder, models):
    """"The March 2023 missiles" names a period as it names missiles: a sentence from an article of
    March 2023 covers it, one that is only possibly in it covers half."""
    query = embedded_query("How far did the March 2023 missiles fly?", real_embedder)

    def missing(day, fit):
        hits = annotated_hits(["Two missiles traveled more than 200 miles."], real_embedder, [day], fit)
        found = ExtractiveReader(models).read(query, hits).candidates
        assert found[0].text == "more than 200 miles"
        return evidence(query, list(found), hits).missing_question_words

    assert missing(date(2023, 3, 27), Fit.INSIDE) == pytest.approx(1 / 3)  # "fly" alone is missing
    assert missing(None, Fit.POSSIBLE) == pytest.approx(1.5 / 3)


def test_every_matching_event_is_listed_with_its_date_and_marker(real_embedder, models):
    texts = ["North Korea fired two short-range ballistic missiles Tuesday. The missiles flew approximately "
             "385 miles before landing in the sea. These military drills are expected to continue until March 23.",
             "Two short-range ballistic missiles traveled more than 200 miles before landing in the Sea of Japan.",
             "The missiles traveled about 450 kilometers at an altitude of 60 kilometers."]
    hits = annotated_hits(texts, real_embedder, dates=[None, date(2023, 3, 27), date(2021, 3, 25)])
    query = embedded_query("How far did the March 2023 missiles fly?", real_embedder)
    answer = dataclasses.replace(ExtractiveReader(models).read(query, hits), passages=tuple(hits))
    events = matching_events(query, answer, LearnedAnswerability(models), threshold=0.0)
    by_doc = {event.citation.doc_id: event for event in events}
    assert "doc3" not in by_doc  # dated March 2021: outside the period
    assert by_doc["doc2"].period_match is Fit.INSIDE and by_doc["doc2"].date == date(2023, 3, 27)
    if "doc1" in by_doc:  # undated, names March without a year: a possible match, said so
        assert by_doc["doc1"].period_match is Fit.POSSIBLE
    text = compose(events)
    assert ("(2023-03-27) [" in text) if len(events) > 1 else text == events[0].text
