"""What only a real Milvus server shows: the server holds what answering reads (a copy of the index
directory answers as the original, and as FAISS does); what an older server lacks is refused with the
alternative; the server killed (SIGKILL) in the middle of an update loses nothing. The storage behaviour
tests of test_index, test_updates and test_retrieval run on the same server through their milvus-server
backend."""

import json
import re
import shutil

import pytest

from rag.config import Config
from rag.errors import InvalidInputError
from rag.evaluation.dataset import read_questions
from rag.indexing.build import build_index
from rag.indexing.index import open_index
from rag.indexing.manifest import MANIFEST
from rag.pipeline import load
from rag.stores.milvus import MilvusVectorStore
from tests.conftest import CORPUS, REPO, backend_config, restart_milvus_server, without_timings
from tests.fakes import HashEmbedder
from tests.test_updates import _built_then_edited, _state

pytestmark = pytest.mark.server


@pytest.fixture
def server_config(request):
    return backend_config(("milvus-server", None), request)


def _collections(uri: str) -> set[str]:
    from pymilvus import MilvusClient

    return set(MilvusClient(uri.replace("milvus://", "http://")).list_collections())


@pytest.mark.slow
def test_an_index_on_the_server_answers_from_a_copy_of_its_directory_as_faiss_does(
        tmp_path, real_qa, real_embedder, milvus_server):
    index_dir = tmp_path / "index"
    build_index(CORPUS, index_dir, Config(vector_store=milvus_server), real_embedder, progress=False)
    backends = json.loads((index_dir / MANIFEST).read_text())["backends"]
    assert backends["store"] == "milvus"  # articles, chunks, sentences and their tags are on the server
    # 2.3 has no BM25 function: its keyword index stays beside the manifest (on 2.5 it is on the server too)
    assert sorted(path.name for path in index_dir.iterdir()) == ["keywords", MANIFEST]
    elsewhere = tmp_path / "another-machine" / "index"
    shutil.copytree(index_dir, elsewhere)
    server_qa = load(elsewhere, Config(reader="extractive"), embedder=real_embedder)
    questions, _ = read_questions(REPO / "eval" / "questions.jsonl")
    held_out = [question.question for question in questions if question.split == "test"]
    assert len(held_out) > 50
    for question in held_out:
        assert without_timings(server_qa.ask(question).to_dict()) == without_timings(real_qa.ask(question).to_dict())


def test_a_server_without_bm25_builds_with_tantivy_and_refuses_milvus_bm25_naming_the_fix(
        corpus_dir, tmp_path, server_config):
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, server_config, HashEmbedder(), progress=False)
    backends = json.loads((index_dir / MANIFEST).read_text())["backends"]
    assert backends["vectors"] == "milvus" and backends["keywords"] == "tantivy"  # 2.3 has no BM25 function
    before, collections = _state(index_dir, server_config), _collections(server_config.vector_store)

    server = re.escape(server_config.vector_store)  # as --store named it, milvus://
    refusal = rf"server at {server} is version 2\.3.*needs 2\.5 or newer.*--keywords tantivy"
    with pytest.raises(InvalidInputError, match=refusal):
        build_index(corpus_dir, index_dir, server_config.replace(keyword_store="milvus-bm25"), HashEmbedder(),
                    rebuild=True, progress=False)
    assert _state(index_dir, server_config) == before  # the index answers as it did
    assert _collections(server_config.vector_store) == collections  # and the failed build left nothing behind


def test_the_server_killed_mid_update_loses_nothing_and_the_next_update_recovers(
        corpus_dir, tmp_path, server_config, milvus_server, monkeypatch):
    from milvus import default_server

    index_dir = tmp_path / "index"
    before = _built_then_edited(corpus_dir, index_dir, server_config)

    add = MilvusVectorStore.add

    def killed_while_adding(self, keys, vectors, days):
        add(self, keys[:1], vectors[:1], days[:1])  # one row reaches the server...
        default_server.server_proc.kill()  # ...then SIGKILL, as a crash or the OOM killer would
        default_server.server_proc.wait()
        add(self, keys[1:], vectors[1:], days[1:])

    with monkeypatch.context() as patch:
        patch.setattr(MilvusVectorStore, "add", killed_while_adding)
        with pytest.raises(Exception):  # noqa: B017 - whatever the client raises when its server is gone
            build_index(corpus_dir, index_dir, server_config, HashEmbedder(), progress=False)

    restart_milvus_server()
    assert _state(index_dir, server_config) == before  # what was committed, and nothing of the half update

    report = build_index(corpus_dir, index_dir, server_config, HashEmbedder(), progress=False)
    assert report.in_place and report.added
    after = _state(index_dir, server_config)
    assert open_index(index_dir, server_config).generation == before["generation"] + 1
    # What the recovered update shows is what a build that was never interrupted shows.
    whole_dir = tmp_path / "whole"
    build_index(corpus_dir, whole_dir, server_config, HashEmbedder(), progress=False)
    whole = _state(whole_dir, server_config)
    assert after["documents"] == whole["documents"] and after["sizes"] == whole["sizes"]
    assert after["sentences"] == whole["sentences"]
    assert {c.chunk_id: c.text for _, c in after["chunks"]} == {c.chunk_id: c.text for _, c in whole["chunks"]}
