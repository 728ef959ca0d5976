"""Ingest on a Ray cluster: a local Ray (the cluster extra) reads, splits, embeds and tags the starting
corpus on two workers and writes into the test Milvus server; the index holds what `rag index` makes
here (chunks, keys, sentences, vectors to float tolerance) and answers the same. Bad addresses are
refused naming the fix, without Ray."""

import shutil

import numpy as np
import pytest

from rag.cli import main
from rag.config import Config
from rag.errors import InvalidInputError, StoreUnavailableError
from rag.indexing.build import build_index
from rag.indexing.cluster import RayCluster
from rag.indexing.index import open_index
from rag.pipeline import load
from tests.conftest import CORPUS, REPO, without_timings

QUESTIONS = [line.strip() for line in (REPO / "bench" / "sample_questions.txt").read_text().splitlines()
             if line.strip()]


def _contents(index_dir):
    index = open_index(index_dir)
    try:
        keyed = index.store.keyed_chunks()
        sentences = [s for d in index.store.documents() for s in index.store.document_sentences(d.doc_id)]
        return keyed, index.vectors.vectors_of(np.array([key for key, _ in keyed])), sentences
    finally:
        index.close()


@pytest.mark.cluster
@pytest.mark.server
def test_a_build_on_a_local_ray_cluster_into_the_server_is_what_rag_index_builds(
        tmp_path, milvus_server, real_index_dir, real_qa, real_embedder):
    pytest.importorskip("ray", reason="the cluster lane needs the cluster extra: pip install -e '.[cluster]'")
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(CORPUS, corpus)
    report = build_index(corpus, index_dir, Config(vector_store=milvus_server), real_embedder, progress=False,
                         cluster="local", workers=2)
    assert report.total_chunks == report.embedded_chunks > 0

    keyed, vectors, sentences = _contents(index_dir)
    here_keyed, here_vectors, here_sentences = _contents(real_index_dir)
    assert keyed == here_keyed and sentences == here_sentences  # text, offsets, keys, typed spans, event dates
    np.testing.assert_allclose(vectors, here_vectors, atol=1e-5)
    np.testing.assert_allclose(np.stack([s.vector for s in sentences]), np.stack([s.vector for s in here_sentences]),
                               atol=1e-5)
    qa = load(index_dir, Config(reader="extractive"), embedder=real_embedder)
    assert QUESTIONS
    for question in QUESTIONS:
        assert without_timings(qa.ask(question).to_dict()) == without_timings(real_qa.ask(question).to_dict())

    # An update prepares just the new article on the cluster, in place.
    (corpus / "zorblat.txt").write_text("Zorblat Industries opened a plant in Tromso on 4 May 2024, its mayor said.")
    report = build_index(corpus, index_dir, Config(vector_store=milvus_server), real_embedder, progress=False,
                         cluster="local", workers=2)
    assert report.in_place and report.added == ("zorblat",) and report.embedded_chunks == 1
    assert any(s.text.startswith("Zorblat Industries") for s in _contents(index_dir)[2])


@pytest.mark.parametrize("address", ["localhost", "ray:/host:10001", "http://host:10001"])
def test_an_unknown_cluster_address_is_refused_naming_both_forms(address):
    with pytest.raises(InvalidInputError, match=r"--cluster local .*--cluster ray://HOST:10001"):
        RayCluster(address)


def test_rag_index_refuses_a_bad_cluster_before_reading_anything(tmp_path, capsys):
    assert main(["index", "--corpus", str(CORPUS), "--index", str(tmp_path / "index"), "--cluster", "local",
                 "--workers", "0"]) != 0
    assert "--workers 0: give at least 1" in capsys.readouterr().err
    assert not (tmp_path / "index").exists()


@pytest.mark.cluster
def test_a_local_ray_whose_start_times_out_is_started_again_and_a_second_failure_is_named(monkeypatch):
    ray = pytest.importorskip("ray", reason="the cluster lane needs the cluster extra: pip install -e '.[cluster]'")
    real_init, starts = ray.init, []

    def init_timing_out_once(*args, **kwargs):
        starts.append(kwargs)
        if len(starts) == 1:
            raise RuntimeError("Timed out waiting for file /tmp/ray/session_x/gcs_server_port_y")
        return real_init(*args, **kwargs)

    monkeypatch.setattr(ray, "init", init_timing_out_once)
    with RayCluster("local", workers=1) as cluster:
        assert ray.is_initialized() and cluster.workers == 1
    assert len(starts) == 2 and not ray.is_initialized()

    def init_timing_out(*args, **kwargs):
        raise RuntimeError("Timed out waiting for file /tmp/ray/session_x/gcs_server_port_y")

    monkeypatch.setattr(ray, "init", init_timing_out)
    with pytest.raises(StoreUnavailableError, match=r"could not start a local Ray, twice .*Timed out.*without --cluster"):
        RayCluster("local", workers=1).__enter__()
    assert not ray.is_initialized()
