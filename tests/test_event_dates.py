"""Event dates end to end, on the real embedder and tagger: articles whose sentences say "on Tuesday",
"last week", "April 14" are found and cited by the dates they talk about, not only their own."""

import pytest

from rag.config import Config
from rag.indexing.build import build_index
from rag.indexing.library import list_articles
from rag.pipeline import load
from tests.conftest import REPO

# A ferry story dated Friday 2024-04-12, a follow-up of 2024-05-20 recalling April 14, an undated notice.
DATED = REPO / "tests" / "fixtures" / "dates"


@pytest.fixture(scope="module")
def ferry_qa(tmp_path_factory, real_embedder):
    index_dir = tmp_path_factory.mktemp("dates") / "index"
    build_index(DATED, index_dir, Config(), real_embedder, progress=False)
    return load(index_dir, Config(reader="extractive"), embedder=real_embedder)


WEEKDAY_QUESTION = "Which company announced a new route to Jeju Island on April 9, 2024?"


def test_a_weekday_is_answered_and_cited_by_the_date_it_resolves_to(ferry_qa):
    answer = ferry_qa.ask(WEEKDAY_QUESTION)
    assert not answer.abstained
    assert answer.citations[0].doc_id == "ferry"
    assert answer.citations[0].matched_date == 'event date 2024-04-09 ("Tuesday")'


@pytest.mark.xfail(strict=True, reason=(
    "known miss: answers the port (Mokpo, span head score 7.1) over the company, whose candidate "
    "\"the Seaworld Shipping\" the head scores 1.6: the ranker reads only the score of a candidate's own bounds"))
def test_a_weekday_question_about_a_company_is_answered_with_the_company(ferry_qa):
    assert "Seaworld Shipping" in ferry_qa.ask(WEEKDAY_QUESTION).text


def test_a_date_filter_reaches_events_whatever_their_article_date(ferry_qa):
    """Neither article is dated in mid-April: the follow-up (May 20) recalls April 14, and the
    first story (April 12) says the first sailing is on Sunday, April 14."""
    answer = ferry_qa.ask("How many passengers were on the first sailing?", since="2024-04-13", until="2024-04-15")
    assert {hit.chunk.doc_id for hit in answer.passages} == {"ferry_followup", "ferry"}
    assert "612" in answer.text


def test_an_undated_article_keeps_its_partial_dates_as_possible_matches(ferry_qa):
    listed = {listing.doc_id: listing for listing in list_articles(ferry_qa.index.directory)}
    assert listed["undated_notice"].date is None and listed["ferry"].date_evidence == ""
    answer = ferry_qa.ask("By what date would the breakwater repairs finish in April 2024?")
    assert "April 30" in answer.text and answer.citations[0].doc_id == "undated_notice"
    assert answer.citations[0].matched_date == '"April 30", April 30, year unknown'
