"""Trained readers for those who have them: `rag models pull` from a fake hub on 127.0.0.1 (resuming a
cut-off file, refusing one whose checksum differs), `rag models list`, and the qa reader over a tiny
extractive model trained on the spot. Nothing here reaches the network."""

import json
import logging

import pytest

from rag import cli
from rag.answers.model import read_models
from rag.config import Config
from rag.errors import ModelDownloadError
from rag.models.hub import RECORD, pull, pulled_models
from rag.readers import QAReader, make_reader, with_model
from tests.annotated import embedded_query
from tests.conftest import built_once
from tests.tiny_qa import FakeHub, build_tiny_qa
from tests.tiny_t5 import colour_hits

NAME = "tiny-owner/tiny-qa"


@pytest.fixture(scope="module")
def tiny_qa(request):
    return built_once(request, build_tiny_qa, "tiny-qa")


def test_the_qa_reader_answers_with_the_models_span_and_cites_its_sentence(tiny_qa, real_embedder):
    reader = QAReader(str(tiny_qa), read_models()).warm_up()
    hits = colour_hits(real_embedder)
    answer = reader.read(embedded_query("What colour is the sky?", real_embedder), hits)
    assert not answer.abstained and answer.text == "blue" and answer.reader == "qa"
    assert answer.citations[0].doc_id == "doc1" and answer.citations[0].quote == "The sky is blue today."
    assert 0.5 < answer.probability <= 1.0 and answer.candidates[0].text == "blue"
    # No passage answers it: the model's no-answer score wins and the answer is withheld.
    withheld = reader.read(embedded_query("What colour is the sea?", real_embedder), hits)
    assert withheld.abstained and withheld.probability < 0.5 and not withheld.citations


def test_rag_models_pull_fetches_checks_and_records_each_file(tiny_qa, tmp_path, monkeypatch, capsys):
    with FakeHub({NAME: tiny_qa}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        assert cli.main(["models", "pull", NAME, "--models-dir", str(tmp_path), "--quiet"]) == 0
    printed = capsys.readouterr().out
    folder = tmp_path / "tiny-owner--tiny-qa"
    assert "model.safetensors" in printed and "sha256" in printed and "--reader qa" in printed
    record = json.loads((folder / RECORD).read_text())
    assert record["kind"] == "qa" and {f["path"] for f in record["files"]} >= {"config.json", "model.safetensors",
                                                                                "tokenizer.json"}
    for file in record["files"]:
        assert (folder / file["path"]).read_bytes() == (tiny_qa / file["path"]).read_bytes()
        assert file["size"] == (tiny_qa / file["path"]).stat().st_size
    assert cli.main(["models", "list", "--models-dir", str(tmp_path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(m["name"], m["kind"]) for m in listed] == [(NAME, "qa")]


def test_auto_uses_a_pulled_qa_model_and_says_so(tiny_qa, tmp_path, caplog, real_embedder):
    with FakeHub({NAME: tiny_qa}) as hub:
        pull(NAME, tmp_path, hub.endpoint, progress=False)
    config = Config(reader="auto", qa_model=NAME, models_dir=str(tmp_path))
    with caplog.at_level(logging.WARNING, logger="rag"):
        reader = make_reader(config, read_models())
    assert isinstance(reader, QAReader) and "using the qa reader" in caplog.text
    # --model alone chooses the reader its checkpoint serves
    assert with_model(Config(models_dir=str(tmp_path)), None, NAME).reader == "qa"
    absent = make_reader(Config(reader="auto", qa_model="nobody/nothing", seq2seq_model="/no/such", models_dir=str(
        tmp_path)), read_models())
    assert absent.name == "extractive"


def test_a_cut_off_download_resumes_where_it_stopped(tiny_qa, tmp_path):
    weights = (tiny_qa / "model.safetensors").stat().st_size
    with FakeHub({NAME: tiny_qa}) as hub:
        hub.cut["model.safetensors"] = weights // 3
        with pytest.raises(ModelDownloadError, match="run the same rag models pull again to resume"):
            pull(NAME, tmp_path, hub.endpoint, progress=False)
        partial = tmp_path / "tiny-owner--tiny-qa" / "model.safetensors.part"
        assert partial.stat().st_size == weights // 3 and pulled_models(tmp_path) == []
        hub.requests.clear()
        model = pull(NAME, tmp_path, hub.endpoint, progress=False)
    ranges = [header for path, header in hub.requests if path.endswith("model.safetensors")]
    assert ranges == [f"bytes={weights // 3}-"]  # only the rest was fetched
    assert not [path for path, _ in hub.requests if path.endswith("/config.json")]  # kept files are not fetched again
    assert (model.folder / "model.safetensors").read_bytes() == (tiny_qa / "model.safetensors").read_bytes()
    assert not partial.exists()


def test_a_file_whose_checksum_differs_is_refused_and_discarded(tiny_qa, tmp_path):
    with FakeHub({NAME: tiny_qa}) as hub:
        hub.tampered = {"config.json"}  # a small file, checked by its git blob hash
        with pytest.raises(ModelDownloadError, match="config.json: checksum differs"):
            pull(NAME, tmp_path, hub.endpoint, progress=False)
        hub.tampered = {"model.safetensors"}  # a large one, by its sha256
        with pytest.raises(ModelDownloadError, match="model.safetensors: checksum differs"):
            pull(NAME, tmp_path, hub.endpoint, progress=False)

    folder = tmp_path / "tiny-owner--tiny-qa"
    assert not (folder / "model.safetensors").exists() and not list(folder.glob("*.part"))
    assert pulled_models(tmp_path) == []


def test_pull_names_the_problem_for_a_bad_name_or_an_unreachable_hub(tmp_path, capsys, monkeypatch):
    with pytest.raises(ModelDownloadError, match="not a hub model name"):
        pull("../etc", tmp_path)
    with FakeHub({}) as hub:
        with pytest.raises(ModelDownloadError, match="answered 404 for nobody/nothing; check the name"):
            pull("nobody/nothing", tmp_path, hub.endpoint)
        endpoint = hub.endpoint
    monkeypatch.setenv("HF_ENDPOINT", endpoint)  # the fake hub has stopped: nothing listens there now
    assert cli.main(["models", "pull", "some/model", "--models-dir", str(tmp_path)]) == 1
    assert "cannot reach the hub at http://127.0.0.1" in capsys.readouterr().err
