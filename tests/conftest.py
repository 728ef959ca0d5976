"""Shared fixtures. Nothing here touches a network: the real embedder is the packaged MiniLM
and the seq2seq model is a tiny T5 built and trained on the spot."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # belt and braces: any accidental hub call fails at once
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # the app test must not report usage anywhere

from rag.config import Config  # noqa: E402
from tests.fakes import HashEmbedder  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"


@pytest.fixture
def corpus_dir(tmp_path) -> Path:
    """A private copy of the real corpus, safe to edit."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


# Every storage backend runs the same behaviour tests (build, load, update, filters, crashes):
# (vector store, keyword store). Milvus Lite runs with Milvus's BM25 in the fast lane (its vector
# code is the same either way) and with tantivy, its default, in the slow lane, to keep `pytest` quick.
BACKENDS = [
    pytest.param(("faiss", None), id="faiss"),
    pytest.param(("faiss-ivf", None), id="faiss-ivf"),
    pytest.param(("milvus-lite", "milvus-bm25"), id="milvus-lite+milvus-bm25"),
    pytest.param(("milvus-lite", None), id="milvus-lite", marks=pytest.mark.slow),
]


def repeats_in_slow_lane(backends: list) -> list:
    """The same backends with Milvus Lite (the slowest to start) and approximate FAISS (whose segments,
    updates and filters are exact FAISS's code) left to the slow lane: for tests whose behaviour other
    tests already check on them in the fast lane, so `pytest` stays quick."""
    return [pytest.param(p.values[0], id=p.id, marks=pytest.mark.slow if p.id != "faiss" else ()) for p in backends]


def backend_config(backend: tuple[str, str | None]) -> Config:
    vector_store, keyword_store = backend
    return Config(embedder="hash-embedder", vector_store=vector_store, keyword_store=keyword_store)


@pytest.fixture(params=BACKENDS)
def fake_config(request) -> Config:
    return backend_config(request.param)


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture(scope="session")
def real_embedder():
    """The default embedder, as a user gets it."""
    from rag.models.embedders import make_embedder

    return make_embedder(Config().embedder)


@pytest.fixture(scope="session")
def real_index_dir(tmp_path_factory, real_embedder) -> Path:
    """The real corpus indexed with the real MiniLM embedder, once per session."""
    from rag.indexing.build import build_index

    index_dir = tmp_path_factory.mktemp("real") / "index"
    build_index(CORPUS, index_dir, Config(), real_embedder, progress=False)
    return index_dir


@pytest.fixture(scope="session")
def real_qa(real_index_dir, real_embedder):
    from rag.pipeline import load

    return load(real_index_dir, Config(reader="extractive"), embedder=real_embedder)


def without_timings(answer: dict) -> dict:
    """An answer's JSON less its timings: what two runs of the same question must agree on."""
    return {key: value for key, value in answer.items() if key != "timings_ms"}
