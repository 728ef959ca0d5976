"""Hybrid retrieval and the pipeline around it, on deterministic fakes (no model needed), and one
property of the closest-sentence ranking on the real corpus and embedder."""

import dataclasses
from datetime import date

import numpy as np
import pytest

from rag.config import Config
from rag.dates import Fit
from rag.errors import InvalidInputError
from rag.evaluation.dataset import read_questions
from rag.indexing.build import build_index
from rag.indexing.index import open_index
from rag.pipeline import ABSTENTION, QA
from rag.query import parse_query
from rag.retrieval import HybridRetriever, _closest_sentence_ranks
from rag.types import Answer, Citation
from tests.conftest import BACKENDS, REPO, backend_config, repeats_in_slow_lane
from tests.fakes import HashEmbedder

ARTICLES = {
    "a_2021": "date 2021-03-25\nThe missiles flew 450 kilometers into the East Sea. Officials confirmed it.",
    "b_2023": "date 2023-03-27\nThe missiles traveled more than 200 miles before landing. Seoul protested.",
    "c_undated": "Diplomats met in Hanoi to discuss sanctions. The talks ended without a deal.",
    "d_2019": "date 2019-05-09\nA satellite launch was announced for the autumn. Engineers prepared the site.",
    # Dated 2022-06-10, a Friday; it talks about Tuesday (2022-06-07) and last year (2021).
    "e_2022": "date 2022-06-10\nThe envoy said the reactor talks collapsed on Tuesday. Last year a summit failed.",
}
CONFIG = Config(embedder="hash-embedder", chunk_tokens=40, chunk_overlap_tokens=0)


# Milvus Lite takes a second to start for each of these tests: on it they run in the slow lane.
@pytest.fixture(params=repeats_in_slow_lane(BACKENDS))
def index(tmp_path, request):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for doc_id, text in ARTICLES.items():
        (corpus / f"{doc_id}.txt").write_text(text)
    stores = backend_config(request.param, request)
    build_index(corpus, tmp_path / "index", CONFIG.replace(vector_store=stores.vector_store, keyword_store=stores.keyword_store), HashEmbedder(), progress=False)
    loaded = open_index(tmp_path / "index", CONFIG)
    yield loaded
    loaded.close()


def _search(index, question, **filters):
    return HybridRetriever(index, HashEmbedder(), CONFIG).search(parse_query(question), top_k=10, **filters)


def test_fused_scores_are_reciprocal_ranks_of_the_three_lists(index):
    for hit in _search(index, "missiles traveled miles"):
        ranks = (hit.dense_rank, hit.lexical_rank, hit.sentence_rank)
        expected = sum(1 / (CONFIG.rrf_k + rank + 1) for rank in ranks if rank is not None)
        assert hit.score == pytest.approx(expected)
    hits = _search(index, "missiles traveled miles")
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].chunk.doc_id == "b_2023" and hits[0].lexical_rank == 0


def test_the_sentence_ranking_orders_chunks_by_their_sentence_closest_to_the_question(index):
    question = "Seoul protested the launch"
    hits = _search(index, question)  # every chunk of the five small articles
    vector = HashEmbedder().embed([question])[0]
    closest = {hit.chunk.chunk_id: max(float(s.vector @ vector) for s in hit.sentences) for hit in hits}
    by_sentence = sorted(hits, key=lambda hit: hit.sentence_rank)
    assert [hit.sentence_rank for hit in by_sentence] == list(range(len(hits)))
    assert [closest[hit.chunk.chunk_id] for hit in by_sentence] == sorted(closest.values(), reverse=True)
    assert by_sentence[0].chunk.doc_id == "b_2023"  # "Seoul protested." is its own sentence there


def test_a_chunks_sentence_vectors_are_the_vectors_of_its_sentences(index):
    store = index.store
    chunks = store.chunks(list(range(store.max_key() + 1)))
    sentences, vectors = store.sentences_in(chunks), store.sentence_vectors(chunks)
    assert set(vectors) == {chunk.chunk_id for chunk in chunks}
    for chunk in chunks:
        assert len(sentences[chunk.chunk_id]) >= 1
        expected = np.array([sentence.vector for sentence in sentences[chunk.chunk_id]])
        np.testing.assert_array_equal(np.sort(vectors[chunk.chunk_id], axis=0), np.sort(expected, axis=0))
    past_the_end = dataclasses.replace(chunks[0], chunk_id="past-the-end", start=10_000, end=10_100)
    assert len(store.sentence_vectors([past_the_end])["past-the-end"]) == 0  # no sentences there: no rows


def test_a_sentence_ranks_chunks_alike_whatever_order_a_store_returns_their_sentences_in(real_qa, real_embedder):
    """Milvus returns a chunk's sentences in its own order, SQLite in article order: the ranking must not
    depend on it (in float32, a sentence's score moved in its last bits with the rows beside it, and
    two overlapping chunks holding one sentence ranked apart on one store and alike on the other)."""
    store = real_qa.index.store
    chunks = store.chunks(list(range(store.max_key() + 1)))
    vectors = store.sentence_vectors(chunks)
    as_stored = {key: vectors[chunk.chunk_id] for key, chunk in enumerate(chunks)}
    reversed_rows = {key: np.ascontiguousarray(rows[::-1]) for key, rows in as_stored.items()}
    questions, _ = read_questions(REPO / "eval" / "questions.jsonl")
    for vector in real_embedder.embed([question.question for question in questions]):
        assert _closest_sentence_ranks(vector, as_stored) == _closest_sentence_ranks(vector, reversed_rows)


class TiesReversed:
    """A keyword store that returns equally scored chunks in the opposite order, as another store might."""

    def __init__(self, keywords):
        self.keywords = keywords

    def search(self, query, k, where=None):
        keys, scores = self.keywords.search(query, k, where)
        order = sorted(range(len(keys)), key=lambda position: (-scores[position], -position))
        return keys[order], scores[order]


def test_equally_scored_chunks_share_a_rank_whatever_order_a_store_returns_them_in(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in {"f": "The envoy praised the treaty.", "g": "The envoy signed the accord.",
                       "h": "The envoy left."}.items():
        (corpus / f"{name}.txt").write_text(text)
    build_index(corpus, tmp_path / "index", CONFIG, HashEmbedder(), progress=False)
    index = open_index(tmp_path / "index", CONFIG)
    _, scores = index.keywords.search("envoy", CONFIG.candidates)
    assert len(set(scores.tolist())) < len(scores)  # f and g: one "envoy" in as many words, equal BM25
    as_stored = [(hit.chunk.chunk_id, hit.score, hit.lexical_rank) for hit in _search(index, "envoy")]
    stored, index.keywords = index.keywords, TiesReversed(index.keywords)
    assert [(hit.chunk.chunk_id, hit.score, hit.lexical_rank) for hit in _search(index, "envoy")] == as_stored
    assert sorted(rank for _, _, rank in as_stored) == [0, 1, 1]
    index.keywords = stored
    index.close()


def test_date_filters_keep_articles_dated_in_range_and_passages_that_talk_about_it(index):
    hits = _search(index, "missiles", since=date(2021, 1, 1), until=date(2021, 12, 31))
    assert {h.chunk.doc_id for h in hits} == {"a_2021", "e_2022"}  # e_2022 talks about last year
    assert {h.chunk.doc_id for h in _search(index, "launch", since=date(2020, 1, 1))} <= {"a_2021", "b_2023", "e_2022"}


def test_a_date_filter_reaches_an_event_date_inside_both_searches(index):
    """The article is dated 2022-06-10; its talks collapsed on Tuesday, 2022-06-07. Each search alone
    finds it inside the filter (one candidate each), by keyword and by vector."""
    tuesday = {"since": date(2022, 6, 7), "until": date(2022, 6, 7)}
    assert [h.chunk.doc_id for h in _search(index, "reactor talks collapsed", **tuesday)] == ["e_2022"]
    narrow = HybridRetriever(index, HashEmbedder(), CONFIG.replace(candidates=1))
    hits = narrow.search(parse_query("reactor talks collapsed"), top_k=2, **tuesday)
    assert [(h.chunk.doc_id, h.dense_rank, h.lexical_rank) for h in hits] == [("e_2022", 0, 0)]
    assert _search(index, "reactor talks collapsed", since=date(2022, 6, 8), until=date(2022, 6, 9)) == []


def test_a_named_day_matches_a_weekday_resolved_against_the_article_date(index):
    hits = _search(index, "Which talks collapsed on June 7, 2022?")
    assert hits[0].chunk.doc_id == "e_2022"
    assert (hits[0].period_match, hits[0].period_evidence) == (Fit.INSIDE, 'event date 2022-06-07 ("Tuesday")')
    assert [event.label() for s in hits[0].sentences for event in s.dates] == ["2022-06-07", "2021-01-01 to 2021-12-31"]


def test_a_date_filter_is_applied_inside_both_searches_not_after_them(index):
    """With room for one candidate per search, the best match overall (the 2019 satellite article)
    would fill it and leave nothing to filter; inside the search, the best allowed chunk comes back."""
    narrow = CONFIG.replace(candidates=1)
    hits = HybridRetriever(index, HashEmbedder(), narrow).search(parse_query("satellite launch site"), top_k=5,
                                                                   since=date(2021, 1, 1))
    assert hits and {h.chunk.doc_id for h in hits} <= {"a_2021", "b_2023", "e_2022"}
    assert all(h.dense_rank == 0 or h.lexical_rank == 0 for h in hits)


def test_a_named_period_lifts_articles_dated_in_it(index):
    plain = _search(index, "How far did the missiles fly?")
    dated = _search(index, "How far did the missiles fly in March 2021?")
    assert dated[0].chunk.doc_id == "a_2021" and dated[0].period_match is Fit.INSIDE
    assert {h.period_match for h in dated} <= set(Fit)
    assert all(h.period_match is None for h in plain)
    matches = {h.chunk.doc_id: h.period_match for h in dated}
    assert matches.get("b_2023") in (None, Fit.OUTSIDE) and matches.get("c_undated") in (None, Fit.UNDATED)


def test_retrieved_passages_carry_their_sentences_with_spans_and_vectors(index):
    for hit in _search(index, "How far did the missiles fly?"):
        assert hit.sentences
        for sentence in hit.sentences:
            assert sentence.doc_id == hit.chunk.doc_id and sentence.start < hit.chunk.end and sentence.end > hit.chunk.start
            assert index.store.document(sentence.doc_id).text[sentence.start : sentence.end] == sentence.text
            assert sentence.vector.shape == (32,)
    distances = [span.text for hit in _search(index, "missiles 450") for s in hit.sentences for span in s.spans
                 if span.kind == "distance"]
    assert "450 kilometers" in distances


class ScriptedReader:
    """Answers every question with the first passage's first word."""

    name = "scripted"

    def read(self, query, hits):
        chunk = hits[0].chunk
        citation = Citation(chunk.doc_id, hits[0].title, hits[0].date, chunk.chunk_id, chunk.start, chunk.end, chunk.text)
        return Answer(query.asked, chunk.text.split()[0], False, (citation,), reader=self.name)


class FixedAnswerability:
    threshold = 0.5

    def __init__(self, probability: float):
        self.fixed = probability

    def probability(self, query, answer):
        return self.fixed


def _qa(index, probability: float) -> QA:
    embedder = HashEmbedder()
    return QA(HybridRetriever(index, embedder, CONFIG), ScriptedReader(), FixedAnswerability(probability), embedder, CONFIG)


@pytest.mark.parametrize("probability, abstained", [(0.9, False), (0.5, False), (0.49, True), (0.0, True)])
def test_answers_below_the_threshold_are_withheld(index, probability, abstained):
    answer = _qa(index, probability).ask("How far did the missiles fly?")
    assert answer.abstained is abstained and answer.passages and answer.probability == probability
    assert (answer.text == ABSTENTION) is abstained and (answer.citations == ()) is abstained
    assert set(answer.timings_ms) == {"parse", "retrieve", "read", "judge", "total"}


def test_a_configured_threshold_overrides_the_learned_one(index):
    qa = _qa(index, 0.3)
    assert qa.ask("How far did the missiles fly?").abstained
    assert not qa.using(abstain_threshold=0.2).ask("How far did the missiles fly?").abstained


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"question": " "}, "empty"),
        ({"question": "x" * 1001}, "1,001 characters"),
        ({"question": "ok?", "since": "yesterday"}, "YYYY-MM-DD"),
        ({"question": "ok?", "since": "2023-01-02", "until": "2023-01-01"}, "swap"),
        ({"question": "ok?", "top_k": 0}, "at least 1"),
    ],
)
def test_ask_validates_its_input(index, kwargs, message):
    qa = _qa(index, 1.0)
    with pytest.raises(InvalidInputError, match=message):
        qa.ask(**kwargs)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"chunk_overlap_tokens": 200}, "overlap 200 must be .* smaller than chunk size 160"),
        ({"top_k": 0}, "top-k 0"),
        ({"reader": "gpt"}, "unknown reader 'gpt'"),
        ({"abstain_threshold": 1.5}, "between 0 and 1"),
        ({"record_fields": (("headline_text", "h"),)}, "unknown record field headline_text; name one of title, text"),
    ],
)
def test_config_is_validated_at_construction(changes, message):
    with pytest.raises(InvalidInputError, match=message):
        Config(**changes)
