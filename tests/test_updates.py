"""Updates in place: they cost what changed, show only once committed, survive being killed at any
step, and compact back into a whole index. Every test runs on every vector store backend."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rag.errors import InvalidInputError
from rag.indexing.build import build_index
from rag.indexing.index import open_index
from rag.indexing.manifest import MANIFEST
from rag.indexing.update import update, update_index
from rag.ingest.loaders.articles import read_article
from rag.stores.faiss import FaissVectorStore
from rag.stores.milvus import MilvusKeywordIndex, MilvusVectorStore
from rag.stores.milvus_chunks import MilvusChunkStore
from rag.stores.sqlite import SqliteChunkStore
from rag.stores.tantivy import TantivyKeywordIndex
from tests.conftest import BACKENDS, backend_config, repeats_in_slow_lane
from tests.fakes import HashEmbedder

NEW_ARTICLE = "date 2024-01-02 A brand new article: the Zorblat satellite reached orbit at 7:40 a.m. on Tuesday.\n"
ADDED, CHANGED, REMOVED = "005_new", "004_56a94f60d051a7dc", "001_1847a96a2c4d2b8a"


# Milvus Lite runs the first test here in the fast lane and the rest in the slow lane.
@pytest.fixture(params=repeats_in_slow_lane(BACKENDS))
def fake_config(request):
    return backend_config(request.param, request)


def _edit(corpus_dir: Path) -> None:
    (corpus_dir / f"{ADDED}.txt").write_text(NEW_ARTICLE)
    changed = corpus_dir / f"{CHANGED}.txt"
    changed.write_text(changed.read_text() + "\nAn added closing sentence about the Quibbleton launch site.")
    (corpus_dir / f"{REMOVED}.txt").unlink()


def _built_then_edited(corpus_dir: Path, index_dir: Path, config) -> dict:
    """Build the index, then edit the corpus (one article added, one changed, one removed): what a
    reader saw before the update that follows."""
    build_index(corpus_dir, index_dir, config, HashEmbedder(), progress=False)
    before = _state(index_dir, config)
    _edit(corpus_dir)
    return before


def _state(index_dir: Path, config) -> dict:
    """Everything a reader sees: live articles, chunks and sentences, and what each search returns."""
    index = open_index(index_dir, config)
    try:
        keyed = index.store.keyed_chunks()
        queries = HashEmbedder().embed([chunk.text for _, chunk in keyed[:: max(1, len(keyed) // 12)]])
        dense = index.vectors.search(queries, 5)[1].tolist()
        words = ["missile", "satellite Zorblat", "Quibbleton launch", "Pyongyang", "Kim Jong Un"]
        return {
            "generation": index.generation,
            "documents": {d.doc_id: d.content_hash for d in index.store.documents()},
            "chunks": keyed,
            "sentences": sum(len(index.store.document_sentences(d)) for d in index.store.content_hashes()),
            "sizes": (len(index.vectors), len(index.keywords), index.manifest.chunks),
            "dense": dense,
            "keywords": {word: index.keywords.search(word, 10)[0].tolist() for word in words},
        }
    finally:
        index.close()


@pytest.mark.parametrize("fake_config", BACKENDS, indirect=True)
def test_an_update_in_place_shows_what_a_full_write_shows(corpus_dir, tmp_path, fake_config):
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, fake_config, HashEmbedder(), progress=False)
    _edit(corpus_dir)
    report = build_index(corpus_dir, index_dir, fake_config, HashEmbedder(), progress=False)
    assert report.in_place and report.added == (ADDED,) and report.changed == (CHANGED,) and report.removed == (REMOVED,)
    updated = _state(index_dir, fake_config)
    assert updated["generation"] == 2 and REMOVED not in updated["documents"]
    assert updated["sizes"] == (len(updated["chunks"]),) * 3
    hidden = {key for key in open_index(index_dir, fake_config).store.hidden_keys()}
    assert hidden and not hidden & {key for keys in updated["dense"] for key in keys}
    assert not hidden & {key for keys in updated["keywords"].values() for key in keys}
    new_keys = {key for key, chunk in updated["chunks"] if chunk.doc_id == ADDED}
    assert set(updated["keywords"]["satellite Zorblat"]) == new_keys

    compacted = build_index(corpus_dir, index_dir, fake_config, HashEmbedder(), compact=True, progress=False)
    assert not compacted.in_place and compacted.embedded_chunks == 0
    whole = _state(index_dir, fake_config)
    assert len(open_index(index_dir, fake_config).store.hidden_keys()) == 0
    # The same chunks under the same keys, and the same dense results; keyword scores differ only in
    # the statistics of removed chunks, which an update keeps until compaction.
    for part in ("documents", "chunks", "sentences", "sizes", "dense"):
        assert updated[part] == whole[part], part
    assert updated["keywords"]["satellite Zorblat"] == whole["keywords"]["satellite Zorblat"]
    assert not list(index_dir.glob("vectors-*.faiss"))  # segments merged into the main file


def test_updates_compact_by_themselves_once_they_pile_up(corpus_dir, tmp_path, fake_config):
    config = fake_config.replace(compact_after_updates=1)
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, config, HashEmbedder(), progress=False)
    (corpus_dir / f"{ADDED}.txt").write_text(NEW_ARTICLE)
    assert build_index(corpus_dir, index_dir, config, HashEmbedder(), progress=False).in_place
    (corpus_dir / f"{REMOVED}.txt").unlink()
    report = build_index(corpus_dir, index_dir, config, HashEmbedder(), progress=False)
    assert not report.in_place and open_index(index_dir, config).generation == 1


def test_update_index_adds_and_removes_articles_without_a_corpus_folder(corpus_dir, tmp_path, fake_config):
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, fake_config, HashEmbedder(), progress=False)
    article = tmp_path / f"{ADDED}.txt"
    article.write_text(NEW_ARTICLE)
    report = update_index(index_dir, add=[read_article(article)], remove=[REMOVED], config=fake_config,
                          embedder=HashEmbedder())
    index = open_index(index_dir, fake_config)
    assert report.added == (ADDED,) and report.removed == (REMOVED,) and report.in_place
    assert report.embedded_chunks >= 1 and report.total_chunks == len(index) == index.store.chunk_count()
    assert ADDED in index.store.content_hashes() and REMOVED not in index.store.content_hashes()
    assert index.manifest.documents == 5
    with pytest.raises(InvalidInputError, match="not in index.*no_such_article"):
        update_index(index_dir, remove=["no_such_article"], config=fake_config, embedder=HashEmbedder())


def test_vectors_of_another_embedder_never_enter_an_index(corpus_dir, tmp_path, fake_config):
    """The manifest names the index's vectors by the config's embedder; a build or an update handed
    another embedder, or an open index updated under another config, stops before embedding."""
    index_dir = tmp_path / "index"
    with pytest.raises(InvalidInputError, match="'hash-embedder' is not the one the index is for.*all-MiniLM"):
        build_index(corpus_dir, index_dir, fake_config.replace(embedder="all-MiniLM-L6-v2@int8"), HashEmbedder(),
                    progress=False)
    assert not index_dir.exists()
    build_index(corpus_dir, index_dir, fake_config, HashEmbedder(), progress=False)
    before = (index_dir / MANIFEST).read_text()
    article = tmp_path / f"{ADDED}.txt"
    article.write_text(NEW_ARTICLE)
    other = HashEmbedder()
    other.name = "another-embedder"
    index = open_index(index_dir, fake_config)
    try:
        with pytest.raises(InvalidInputError, match="'another-embedder' is not the one the index is for"):
            update(index, add=[read_article(article)], config=fake_config, embedder=other)
        with pytest.raises(InvalidInputError, match="built with embedder 'hash-embedder'.*all-MiniLM"):
            update(index, add=[read_article(article)], config=fake_config.replace(embedder="all-MiniLM-L6-v2@int8"))
    finally:
        index.close()
    assert (index_dir / MANIFEST).read_text() == before


class Killed(BaseException):
    """Stands for the process dying: nothing after it runs."""


def _dies_after(method):
    def wrapper(*args, **kwargs):
        method(*args, **kwargs)
        raise Killed
    return wrapper


STEPS = {
    "store": [(SqliteChunkStore, "write_next"), (MilvusChunkStore, "write_next")],
    "vectors": [(FaissVectorStore, "commit"), (MilvusVectorStore, "commit")],  # the IVF store commits through FAISS's
    "keywords": [(TantivyKeywordIndex, "commit"), (MilvusKeywordIndex, "commit")],
}


@pytest.mark.parametrize("step", [*STEPS, "manifest"])
def test_an_update_killed_after_any_step_changes_nothing_and_the_next_update_recovers(
        corpus_dir, tmp_path, fake_config, step, monkeypatch):
    index_dir = tmp_path / "index"
    before = _built_then_edited(corpus_dir, index_dir, fake_config)
    with monkeypatch.context() as patch:
        if step == "manifest":
            import rag.files

            def half_written(path, write):
                write(str(path) + ".partial")  # the temporary file is written, the rename never happens
                raise Killed
            patch.setattr(rag.files, "write_durably", half_written)
        else:
            for owner, name in STEPS[step]:
                patch.setattr(owner, name, _dies_after(getattr(owner, name)))
        with contextlib.suppress(Killed):
            build_index(corpus_dir, index_dir, fake_config, HashEmbedder(), progress=False)
    assert _state(index_dir, fake_config) == before

    report = build_index(corpus_dir, index_dir, fake_config, HashEmbedder(), progress=False)
    assert report.in_place and report.added == (ADDED,)
    after = _state(index_dir, fake_config)
    assert after["generation"] == 2 and after["sizes"] == (len(after["chunks"]),) * 3
    assert set(after["documents"]) == set(before["documents"]) - {REMOVED} | {ADDED}


_UPDATE_SCRIPT = """
import sys, time
from rag.indexing.build import build_index
from rag.config import Config
from tests.fakes import HashEmbedder
print("ready", flush=True)
config = Config(embedder="hash-embedder", vector_store=sys.argv[3], keyword_store=sys.argv[4] if sys.argv[4] else None)
build_index(sys.argv[1], sys.argv[2], config, HashEmbedder(), rebuild=sys.argv[5] == "rebuild", progress=False)
print("done", flush=True)
"""


@pytest.mark.crash
def test_a_write_killed_at_random_moments_always_leaves_a_loadable_index(corpus_dir, tmp_path, fake_config):
    """SIGKILL an update (and every other time a full rebuild) at spread-out moments: every time, the
    index loads whole, at the old or the new generation, and the next update finishes the job."""
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, fake_config, HashEmbedder(), progress=False)
    generation = _state(index_dir, fake_config)["generation"]
    repo = Path(__file__).resolve().parent.parent
    environment = {**os.environ, "PYTHONPATH": str(repo)}
    for attempt, delay in enumerate(np.linspace(0.0, 4.0, 8)):
        (corpus_dir / f"{ADDED}.txt").write_text(NEW_ARTICLE + f"Revision {attempt}.\n")
        process = subprocess.Popen([sys.executable, "-c", _UPDATE_SCRIPT, str(corpus_dir), str(index_dir),
                                    fake_config.vector_store, fake_config.keyword_store or "",
                                    "rebuild" if attempt % 2 else "update"], stdout=subprocess.PIPE, env=environment, cwd=repo)
        assert process.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        state = _state(index_dir, fake_config)
        assert state["sizes"] == (len(state["chunks"]),) * 3
        assert state["generation"] in (generation, generation + 1, 1)  # the old state, or the new one whole (1: rebuilt)
        generation = state["generation"]
    report = build_index(corpus_dir, index_dir, fake_config, HashEmbedder(), progress=False)
    final = _state(index_dir, fake_config)
    assert final["sizes"] == (len(final["chunks"]),) * 3 and ADDED in final["documents"]
    assert json.loads((index_dir / MANIFEST).read_text())["generation"] == final["generation"]
    assert report.total_chunks == len(final["chunks"])
    assert not list(tmp_path.glob(".index.building-*")) and not (tmp_path / ".index.old").exists()  # no debris


def test_an_open_index_updated_in_place_answers_from_the_new_generation(corpus_dir, tmp_path, fake_config):
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, fake_config, HashEmbedder(), progress=False)
    index = open_index(index_dir, fake_config)
    article = tmp_path / f"{ADDED}.txt"
    article.write_text(NEW_ARTICLE)
    update(index, add=[read_article(article)], remove=[REMOVED], config=fake_config, embedder=HashEmbedder())
    assert index.generation == 2 and ADDED in index.store.content_hashes() and REMOVED not in index.store.content_hashes()
    found = index.keywords.search("Zorblat satellite", 5)[0]
    assert len(found) and {chunk.doc_id for chunk in index.store.chunks(found.tolist())} == {ADDED}
    assert index.store.chunk_count() == len(index.vectors) == len(index.keywords) == index.manifest.chunks
    index.close()
    assert _state(index_dir, fake_config)["generation"] == 2


def test_the_corpus_fingerprint_after_updates_is_that_of_a_full_write(corpus_dir, tmp_path, fake_config):
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, fake_config, HashEmbedder(), progress=False)
    _edit(corpus_dir)
    build_index(corpus_dir, index_dir, fake_config, HashEmbedder(), progress=False)
    updated = json.loads((index_dir / MANIFEST).read_text())["corpus"]
    build_index(corpus_dir, index_dir, fake_config, HashEmbedder(), compact=True, progress=False)
    assert json.loads((index_dir / MANIFEST).read_text())["corpus"] == updated
