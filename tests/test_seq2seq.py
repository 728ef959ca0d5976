"""The seq2seq reader end to end on a tiny T5 trained in a session fixture (no hub, no flan-t5)."""

import pytest

from rag.config import Config
from rag.errors import ModelNotAvailableError
from rag.readers import ExtractiveReader, Seq2SeqReader, make_reader
from rag.types import Chunk, Hit

from tests.fakes import HashEmbedder
from tests.tiny_t5 import build_tiny_t5, colour_hits


@pytest.fixture(scope="session")
def tiny_t5(tmp_path_factory):
    return str(build_tiny_t5(tmp_path_factory.mktemp("tiny-t5")))


def test_generates_the_answer_and_parses_its_citation(tiny_t5):
    answer = Seq2SeqReader(tiny_t5).read("What colour is the sky?", colour_hits())
    assert answer.text == "blue" and not answer.abstained and answer.reader == "seq2seq"
    assert [c.doc_id for c in answer.citations] == ["doc1"]
    assert answer.citations[0].quote == "The sky is blue today."
    assert 0.0 < answer.score <= 1.0


def test_cites_the_right_passage_among_several(tiny_t5):
    answer = Seq2SeqReader(tiny_t5).read("What colour is snow?", colour_hits())
    assert answer.text == "white" and [c.doc_id for c in answer.citations] == ["doc3"]


def test_an_answer_without_markers_gets_its_best_supporting_passage(tiny_t5):
    answer = Seq2SeqReader(tiny_t5).read("What colour is grass?", colour_hits())
    assert answer.text == "green"
    assert [c.doc_id for c in answer.citations] == ["doc2"] and answer.citations[0].quote == "Grass is green in spring."


def test_the_model_saying_unanswerable_is_an_abstention(tiny_t5):
    answer = Seq2SeqReader(tiny_t5).read("What colour is the sea?", colour_hits())
    assert answer.abstained and not answer.citations


def test_packing_never_truncates_the_question(tiny_t5):
    reader = Seq2SeqReader(tiny_t5, max_input_tokens=120)
    long_text = "Snow is white in winter. " * 60
    hits = [Hit(chunk=Chunk(f"d{n}#0", f"d{n}", 0, len(long_text), long_text), score=1.0, title="Long") for n in range(5)]
    question = "What colour is the sky?"
    prompt, used = reader.prompt(question, hits)
    tokenizer = __import__("transformers").AutoTokenizer.from_pretrained(tiny_t5)
    assert len(tokenizer(prompt)["input_ids"]) <= 120
    assert prompt.endswith(f"Question: {question}\nAnswer:")
    assert 1 <= len(used) < len(hits) and "[1]" in prompt


def test_auto_uses_a_local_seq2seq_model_and_falls_back_to_extractive(tiny_t5, caplog):
    assert isinstance(make_reader(Config(reader="auto", seq2seq_model=tiny_t5), HashEmbedder()), Seq2SeqReader)
    fallback = make_reader(Config(reader="auto", seq2seq_model="/no/such/model"), HashEmbedder())
    assert isinstance(fallback, ExtractiveReader)
    assert "using the extractive reader" in caplog.text and "--model" in caplog.text


def test_an_unknown_model_path_is_a_clear_error():
    with pytest.raises(ModelNotAvailableError, match="not available offline.*--model DIR"):
        make_reader(Config(reader="seq2seq", seq2seq_model="/no/such/model"), HashEmbedder())
