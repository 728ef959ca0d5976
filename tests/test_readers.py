"""Reader plumbing: citation markers, span finding and question typing, over tables of cases."""

import logging

import pytest

from rag.readers.base import best_supported_passage, cite_sentence, parse_markers, supporting_citation
from rag.readers.spans import (
    DISTANCE, NAME, NUMBER, ORG, OTHER, PERSON, PLACE, QUOTE, TIME, entities, find_spans, question_type,
)
from rag.types import Chunk, Hit


@pytest.mark.parametrize(
    "text, count, expected_text, expected_indices",
    [
        ("more than 200 miles [1]", 3, "more than 200 miles", [0]),
        ("450 km [2][3]", 3, "450 km", [1, 2]),
        ("450 km [2, 3].", 3, "450 km.", [1, 2]),
        ("Jangyon [ 1 ]", 1, "Jangyon", [0]),
        ("a grave provocation [1] [1]", 2, "a grave provocation", [0]),
        ("an invented [7] citation", 3, "an invented citation", []),
        ("[0] nothing", 3, "nothing", []),
        ("no markers at all", 3, "no markers at all", []),
        ("", 3, "", []),
    ],
)
def test_parse_markers(text, count, expected_text, expected_indices):
    assert parse_markers(text, count) == (expected_text, expected_indices)


def test_out_of_range_markers_are_dropped_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        parse_markers("answer [9]", 2)
    assert "only 2 passages" in caplog.text


def _hit(text: str, doc_id: str = "d", start: int = 100) -> Hit:
    return Hit(chunk=Chunk(f"{doc_id}#0", doc_id, start, start + len(text), text), score=1.0, title="T")


def test_citations_carry_article_offsets_of_the_supporting_sentence():
    hit = _hit("The launch was at dawn. The missiles flew 450 kilometers. Seoul protested.")
    citation = supporting_citation("450 kilometers", hit)
    assert citation.quote == "The missiles flew 450 kilometers."
    assert citation.start == 100 + hit.chunk.text.index("The missiles") and citation.end - citation.start == len(citation.quote)
    assert cite_sentence(hit, 0, 4).quote == "The "
    assert best_supported_passage("450 kilometers", [_hit("Nothing here."), hit]) == 1
    assert best_supported_passage("Pluto", [hit]) is None


@pytest.mark.parametrize(
    "question, kind",
    [
        ("How far did the missiles fly?", DISTANCE),
        ("At what altitude did they fly?", DISTANCE),
        ("How many missiles were fired?", NUMBER),
        ("When did the drills end?", TIME),
        ("What time were they launched?", TIME),
        ("Between what times were they launched?", TIME),
        ("Who is the spokesman?", PERSON),
        ("Which official spoke to ABC News?", PERSON),
        ("Where did the missiles land?", PLACE),
        ("From which town were they launched?", PLACE),
        ("Which news agency reported it?", ORG),
        ("What did Seoul call the launch?", QUOTE),
        ("How did the command describe its commitment?", QUOTE),
        ("What is the name of the carrier?", NAME),
        ("Why did the talks stall?", OTHER),
    ],
)
def test_question_types(question, kind):
    assert question_type(question) == kind


@pytest.mark.parametrize(
    "sentence, kind, expected",
    [
        ("The missiles flew approximately 385 miles across North Korea.", DISTANCE, ["approximately 385 miles"]),
        ("They flew 420 kilometers and 270 kilometers.", DISTANCE, ["420 kilometers", "270 kilometers"]),
        ("It hosts about 28,000 U.S. troops.", NUMBER, ["about 28,000"]),
        ("More than 70 missiles were fired in 2022 at 8 a.m.", NUMBER, ["More than 70"]),
        ("The first test was on Jan. 5 at 4:29 p.m. on Monday.", TIME, ["Jan. 5", "4:29 p.m.", "Monday"]),
        ("Trump met Kim in 2018.", TIME, ["in 2018"]),
        ('Seoul called the action "a grave provocation" today.', QUOTE, ["a grave provocation"]),
        ("Japanese Prime Minister Fumio Kishida said so.", PERSON, ["Fumio Kishida"]),
        ("Kim met U.S. President Donald Trump.", PERSON, ["Donald Trump"]),
        ("Edward made Robert of Jumièges archbishop.", PERSON, ["Robert of Jumièges"]),
        ("The launches took place near Hamhung.", PLACE, ["Hamhung"]),
        ("They launched from the coastal town of Jangyon.", PLACE, ["Jangyon"]),
        ("Officials in Seoul and Washington agreed.", PLACE, ["Seoul", "Washington"]),
        ("It landed in the East Sea, said South Korea's Yonhap News Agency.", ORG, ["South Korea's Yonhap News Agency"]),
        ("The Korea Institute for Defense Analyses said.", ORG, ["Korea Institute for Defense Analyses"]),
        ("The state-run KCNA agency said.", ORG, ["KCNA"]),
        ("South Korean officials said nothing.", PERSON, []),
        ("NORTH KOREA TEST FIRES TWO CRUISE MISSILES FROM A SUBMARINE", ORG, []),
    ],
)
def test_spans(sentence, kind, expected):
    assert [sentence[span.start : span.end] for span in find_spans(sentence, kind)] == expected


def test_entities_never_overlap_and_stay_in_bounds():
    sentence = "U.S. Special Representative for the DPRK Sung Kim met Noh Kyu-duk in Seoul on Thursday."
    spans = entities(sentence)
    assert spans and all(0 <= s.start < s.end <= len(sentence) for s in spans)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:]))
