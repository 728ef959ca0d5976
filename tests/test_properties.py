"""Property-based tests: arbitrary text (any Unicode, control characters, NUL, right-to-left script,
very long lines) through sentence splitting, chunking, date extraction, question parsing, tagging and
rendering. Never a crash; every offset inside the text; every piece of article text escaped."""

from datetime import date
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rag.dates import event_dates, find_period, inferred_date
from rag.ingest.chunking import chunk_document, word_count
from rag.ingest.sentences import BLOCK_CHARS, sentence_spans
from rag.ingest.tagging import tag_sentences
from rag.query import parse_query
from rag.render import answer_markdown, sources_html
from rag.types import Answer, Chunk, Citation, Document, Hit

# Text a newsroom archive can hold, and worse: words and dates mixed with any code point at all.
NEWSY = st.sampled_from(["The", "U.S.", "fired", "missiles", "on", "March", "23,", "2021", "Tuesday", "last", "week",
                         "Jan.", "5", "Mr.", "Kim", "said.", "\u05e9\u05dc\u05d5\u05dd", "\u0645\u0631\u062d\u0628\u0627",
                         "\u202e", "\x00", "\t", "\n", "\r\n", "\u2028", "\ufeff", "!", "?", "...", "\"", "<script>"])
TEXT = st.lists(st.one_of(NEWSY, st.text(max_size=12)), max_size=80).map(" ".join)
PUBLISHED = st.one_of(st.none(), st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(TEXT)
@example("\u266c")  # a lone symbol, which pysbd returns no sentence for
@example("Hi. \u266c Bye.")  # ... nor for what follows it
def test_sentences_are_ordered_trimmed_spans_inside_the_text(text):
    spans = sentence_spans(text)
    for (start, end), following in zip(spans, spans[1:] + [(len(text), len(text))], strict=False):
        assert 0 <= start < end <= following[0] <= len(text)
        assert not text[start].isspace() and not text[end - 1].isspace()
    covered = "".join(text[start:end] for start, end in spans)
    assert sorted("".join(text.split())) == sorted("".join(covered.split()))  # no visible character lost


@FAST
@given(TEXT, st.integers(min_value=4, max_value=60), st.integers(min_value=0, max_value=20))
def test_chunks_are_slices_of_the_text_within_the_token_limit(text, max_tokens, overlap):
    document = Document("doc", text, "title")
    chunks = chunk_document(document, word_count, max_tokens, overlap)
    for chunk in chunks:
        assert 0 <= chunk.start < chunk.end <= len(text) and text[chunk.start:chunk.end] == chunk.text
    assert [chunk.start for chunk in chunks] == sorted(chunk.start for chunk in chunks)
    visible = {position for start, end in sentence_spans(text) for position in range(start, end) if not text[position].isspace()}
    assert visible <= {position for chunk in chunks for position in range(chunk.start, chunk.end)}


@FAST
@given(TEXT, PUBLISHED)
def test_event_dates_are_phrases_of_the_sentence_with_ordered_days(sentence, published):
    for event in event_dates(sentence, published):
        assert event.phrase and event.phrase in sentence
        assert (event.first is None) == (event.last is None)
        if event.first is not None:
            assert event.first <= event.last
        else:
            assert event.month is not None and 1 <= event.month <= 12
    found = inferred_date(sentence)
    assert found is None or isinstance(found[0], date) and found[1].startswith("inferred from")


@FAST
@given(TEXT, st.one_of(st.none(), TEXT), PUBLISHED)
def test_any_question_parses_into_one_query(question, previous, today):
    query = parse_query(question, previous, today)
    assert isinstance(query.text, str) and query.asked == question
    assert all(isinstance(term, str) and weight > 0 for term, weight in query.terms)
    period = find_period(question, today)
    assert period is None or period.start <= period.end and period.phrase in question


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TEXT, min_size=1, max_size=4))
def test_tagging_keeps_every_span_and_sentence_inside_its_text(texts):
    documents = [Document(f"d{number}", text, "t", date(2024, 5, 1)) for number, text in enumerate(texts)]
    tagged = tag_sentences(documents)
    for document in documents:
        for sentence in tagged[document.doc_id]:
            assert document.text[sentence.start:sentence.end] == sentence.text
            for span in sentence.spans:
                assert 0 <= span.start < span.end <= len(sentence.text) and sentence.text[span.start:span.end] == span.text


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)


@FAST
@given(TEXT, TEXT, TEXT, st.integers(min_value=-5, max_value=300), st.integers(min_value=0, max_value=300))
def test_rendering_shows_article_text_as_text(title, passage, quote, start, length):
    chunk = Chunk("doc#0", "doc", 0, len(passage), passage)
    citation = Citation("doc", title, date(2023, 3, 27), "doc#0", start, start + length, quote, also_in=(title[:10],))
    answer = Answer("q?", quote or "x", False, (citation,), (Hit(chunk, 1.0, title),), probability=0.7)
    page = _Tags()
    page.feed(sources_html(answer) + answer_markdown(answer))
    assert page.tags <= {"div", "b", "code", "mark", "p"}  # the page's own markup only: article text stays text


@pytest.mark.slow
def test_a_megabyte_line_splits_in_linear_pieces_with_offsets_inside():
    line = "Officials said the talks went well. " * 30_000  # 1 MB, one paragraph
    spans = sentence_spans(line)
    assert len(spans) == 30_000 and all(line[start:end] == "Officials said the talks went well." for start, end in spans)
    unbroken = "\u05e9" * 1_000_000  # no space and no full stop at all
    spans = sentence_spans(unbroken)
    assert spans[0][0] == 0 and spans[-1][1] == len(unbroken) and max(end - start for start, end in spans) <= BLOCK_CHARS
