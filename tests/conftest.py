"""Shared fixtures. Nothing here touches a network: the real embedder is the packaged MiniLM
and the seq2seq model is a tiny T5 built and trained on the spot."""

from __future__ import annotations

import os
import shutil
import socket
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
# A real Milvus server (the server extra's 2.3.5, started by the milvus_server fixture) runs them all
# in the server lane; it has no BM25, so its keywords are tantivy's.
MILVUS_SERVER = "milvus-server"  # stands for the test server's URI, known once the fixture started it
BACKENDS = [
    pytest.param(("faiss", None), id="faiss"),
    pytest.param(("faiss-ivf", None), id="faiss-ivf"),
    pytest.param(("milvus-lite", "milvus-bm25"), id="milvus-lite+milvus-bm25"),
    pytest.param(("milvus-lite", None), id="milvus-lite", marks=pytest.mark.slow),
    pytest.param((MILVUS_SERVER, None), id="milvus-server", marks=pytest.mark.server),
]


def repeats_in_slow_lane(backends: list) -> list:
    """The same backends with Milvus Lite (the slowest to start) and approximate FAISS (whose segments,
    updates and filters are exact FAISS's code) left to the slow lane: for tests whose behaviour other
    tests already check on them in the fast lane, so `pytest` stays quick. The server stays in its lane."""
    def marks(param):
        if param.id == "faiss" or param.marks:
            return param.marks
        return pytest.mark.slow
    return [pytest.param(p.values[0], id=p.id, marks=marks(p)) for p in backends]


def backend_config(backend: tuple[str, str | None], request=None) -> Config:
    """The configuration of a (vector store, keyword store) pair; ``request`` (a fixture's) starts the
    test Milvus server when the pair asks for it."""
    vector_store, keyword_store = backend
    if vector_store == MILVUS_SERVER:
        vector_store = request.getfixturevalue("milvus_server")
    return Config(embedder="hash-embedder", vector_store=vector_store, keyword_store=keyword_store)


@pytest.fixture(params=BACKENDS)
def fake_config(request) -> Config:
    return backend_config(request.param, request)


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory):
    """A real standalone Milvus (with its embedded etcd) on a free port of 127.0.0.1, for the session:
    its URI as --store takes it."""
    milvus = pytest.importorskip("milvus", reason="the server lane needs the server extra: pip install -e '.[server]'")
    server = milvus.default_server
    server.set_base_dir(str(tmp_path_factory.mktemp("milvus-server")))
    server.listen_port = free_port()
    # The package checks that a port is free by binding it without SO_REUSEADDR, which a killed server's
    # closed connections (TIME_WAIT) block for a minute, so a restart would move to another port; Milvus
    # itself listens with SO_REUSEADDR, and the check is made the same way.
    server.config.try_bind_port = _bind_reusing
    server.start()
    try:
        yield f"milvus://127.0.0.1:{server.listen_port}"
    finally:
        server.stop()


def restart_milvus_server() -> None:
    """Start the test server again, on its port and data, after it was killed."""
    from milvus import default_server

    default_server.stop()  # reaps the process and closes its logs
    default_server.start()


def _bind_reusing(port: int) -> socket.socket | None:
    probe = socket.socket()
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind(("127.0.0.1", port))
        probe.listen()
        return probe
    except OSError:
        probe.close()
        return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def built_once(request, build, name: str) -> Path:
    """The tiny model ``build`` trains (seeded, on the spot), kept in pytest's cache and reused while its
    recipe (the module that builds it) and the transformers version stay the same: training it again
    would cost the fast lane half a minute. A build cut off midway is never reused."""
    import hashlib
    import inspect

    import transformers

    recipe = inspect.getsource(inspect.getmodule(build)) + transformers.__version__
    directory = request.config.cache.mkdir(f"{name}-{hashlib.sha256(recipe.encode()).hexdigest()[:16]}")
    complete = directory.with_name(directory.name + ".built")  # beside it: the folder holds the model alone
    if not complete.exists():
        for leftover in directory.iterdir():
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
        build(directory)
        complete.touch()
    return directory


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
