"""The seq2seq reader end to end on a tiny T5 trained in a session fixture (no hub, no flan-t5)."""

import pytest

from rag.answers.model import read_models
from rag.config import Config
from rag.errors import ModelNotAvailableError
from rag.readers import ExtractiveReader, Seq2SeqReader, make_reader
from rag.types import Chunk, Hit
from tests.annotated import embedded_query
from tests.conftest import built_once
from tests.tiny_t5 import build_tiny_t5, colour_hits


@pytest.fixture(scope="session")
def tiny_t5(request):
    return str(built_once(request, build_tiny_t5, "tiny-t5"))


@pytest.fixture(scope="module")
def reader(tiny_t5, real_embedder):
    return Seq2SeqReader(tiny_t5, read_models())


@pytest.fixture(scope="module")
def hits(real_embedder):
    return colour_hits(real_embedder)


def _read(reader, question, hits, embedder):
    return reader.read(embedded_query(question, embedder), hits)


def test_generates_the_answer_and_cites_its_sentence(reader, hits, real_embedder):
    answer = _read(reader, "What colour is the sky?", hits, real_embedder)
    assert answer.text == "blue" and not answer.abstained and answer.reader == "seq2seq"
    assert [c.doc_id for c in answer.citations] == ["doc1"]
    assert answer.citations[0].quote == "The sky is blue today."
    assert answer.candidates[0].text == "blue" and 0.0 < answer.probability <= 1.0  # ranked like any candidate


def test_cites_the_right_passage_among_several(reader, hits, real_embedder):
    answer = _read(reader, "What colour is snow?", hits, real_embedder)
    assert answer.text == "white" and [c.doc_id for c in answer.citations] == ["doc3"]


def test_an_answer_without_markers_is_grounded_in_the_sentence_holding_it(reader, hits, real_embedder):
    answer = _read(reader, "What colour is grass?", hits, real_embedder)
    assert answer.text == "green"
    assert [c.doc_id for c in answer.citations] == ["doc2"] and answer.citations[0].quote == "Grass is green in spring."


def test_a_generated_answer_found_in_no_retrieved_sentence_gives_way_to_the_best_candidate(reader, hits, real_embedder):
    without_snow = hits[:2]  # the model still says "white", which no retrieved sentence holds
    answer = _read(reader, "What colour is snow?", without_snow, real_embedder)
    assert answer.text != "white" and not answer.abstained
    assert answer.text in answer.citations[0].quote and answer.citations[0].doc_id in {"doc1", "doc2"}


def test_the_model_saying_unanswerable_is_an_abstention(reader, hits, real_embedder):
    answer = _read(reader, "What colour is the sea?", hits, real_embedder)
    assert answer.abstained and not answer.citations


def test_packing_never_truncates_the_question(tiny_t5):
    reader = Seq2SeqReader(tiny_t5, max_input_tokens=120)  # prompting needs no answer models
    long_text = "Snow is white in winter. " * 60
    hits = [Hit(chunk=Chunk(f"d{n}#0", f"d{n}", 0, len(long_text), long_text), score=1.0, title="Long") for n in range(5)]
    question = "What colour is the sky?"
    prompt, used = reader.prompt(question, hits)
    tokenizer = __import__("transformers").AutoTokenizer.from_pretrained(tiny_t5)
    assert len(tokenizer(prompt)["input_ids"]) <= 120
    assert prompt.endswith(f"Question: {question}\nAnswer:")
    assert 1 <= len(used) < len(hits) and "[1]" in prompt


def test_auto_uses_a_local_seq2seq_model_and_falls_back_to_extractive(tiny_t5, caplog):
    assert isinstance(make_reader(Config(reader="auto", seq2seq_model=tiny_t5), None), Seq2SeqReader)
    fallback = make_reader(Config(reader="auto", seq2seq_model="/no/such/model"), None)
    assert isinstance(fallback, ExtractiveReader)
    assert "using the extractive reader" in caplog.text and "--model" in caplog.text


def test_an_unknown_model_path_is_a_clear_error():
    with pytest.raises(ModelNotAvailableError, match="not available offline.*--model DIR"):
        make_reader(Config(reader="seq2seq", seq2seq_model="/no/such/model"), None)


def test_a_checkpoint_with_only_pickled_weights_is_refused_and_nothing_is_unpickled(tiny_t5, tmp_path, monkeypatch):
    import shutil

    import torch
    from safetensors.torch import load_file

    def unpickling(*args, **kwargs):
        raise AssertionError("torch.load ran: a checkpoint was unpickled")

    pickled, both = tmp_path / "pickled", tmp_path / "both"
    shutil.copytree(tiny_t5, pickled)
    shutil.copytree(tiny_t5, both)
    weights = next(pickled.glob("*.safetensors"))
    torch.save(load_file(weights), pickled / "pytorch_model.bin")
    torch.save(load_file(weights), both / "pytorch_model.bin")
    weights.unlink()
    monkeypatch.setattr(torch, "load", unpickling)
    with pytest.raises(ModelNotAvailableError, match="only pickled PyTorch weights.*safetensors only"):
        make_reader(Config(reader="seq2seq", seq2seq_model=str(pickled)), None)
    assert isinstance(make_reader(Config(reader="seq2seq", seq2seq_model=str(both)), None), Seq2SeqReader)
