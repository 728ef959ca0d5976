"""Smoke runs of the benchmarks: the storage benchmark on 10k chunks (exact stores find exactly what
brute force finds), the load benchmark with a few clients, the file-size benchmark on small files,
the peer benchmark's generated archive and its rag runner (the peers themselves need the bench extra),
Ray ingest beside plain `rag index` on a few articles, replicas over the test server with a few clients."""

import importlib.util

import pytest

from tests.conftest import REPO


def _bench(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / f"bench/{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_scale_benchmark_runs_on_10k_chunks(tmp_path):
    rows = _bench("scale").main(["--sizes", "10000", "--out", str(tmp_path / "scale.md")])
    by_store = {name: values for _, name, values in rows}
    assert {"faiss-flat", "faiss-ivf", "milvus-lite", "tantivy keywords", "bm25s keywords (reference)"} <= set(by_store)
    assert 0 < by_store["faiss-ivf"]["recall@10"] <= 1.0
    for exact in ("faiss-flat", "milvus-lite"):
        assert by_store[exact]["recall@10"] == 1.0
        assert by_store[exact]["filtered p50/p95 ms"][0] > 0
    assert by_store["tantivy keywords"]["add article s"] > 0
    assert "| 10,000 | faiss-flat |" in (tmp_path / "scale.md").read_text()
    assert (tmp_path / "scale.png").stat().st_size > 10_000  # the plot beside the table


@pytest.mark.slow
def test_the_load_benchmark_serves_the_page_and_checks_every_answer(tmp_path, real_index_dir):
    results = _bench("load").main(["--clients", "1,3", "--questions-per-level", "12", "--soak", "0",
                                   "--index", str(real_index_dir), "--out", str(tmp_path / "load.md")])
    assert [level["clients"] for level in results["levels"]] == [1, 3]
    assert all(level["wrong"] == 0 and level["errors"] == 0 and level["p50_ms"] > 0 for level in results["levels"])
    assert results["memory"] and "| 3 | 12 |" in (tmp_path / "load.md").read_text()


@pytest.mark.slow
def test_the_file_size_benchmark_reads_dumps_and_long_articles(tmp_path):
    rows = _bench("file_sizes").main(["--dump-mb", "0.2,0.4", "--article-chars", "20000,40000",
                                      "--out", str(tmp_path / "sizes.md")])
    assert len(rows) == 4 and all(row["seconds"] > 0 for row in rows)
    assert "| JSONL dump |" in (tmp_path / "sizes.md").read_text()


def test_the_peer_benchmark_generates_articles_that_hold_the_facts_its_questions_ask(tmp_path):
    from rag.ingest.corpus import read_corpus

    peers = _bench("peers")
    questions = peers.generate_archive(tmp_path / "generated", 60)
    documents = {document.doc_id: document.text for document in read_corpus(tmp_path / "generated")[0]}
    assert len(documents) == 60 and len(questions) == 50
    for question in questions:
        (gold,) = question["doc_ids"]
        thing, rest = question["question"].removeprefix("How many ").split(" were ", 1)
        verb, rest = rest.split(" in ", 1)
        city, source = rest.removesuffix("?").split(", according to ")
        assert all(fact in documents[gold] for fact in (thing, verb, city, source)), (question, documents[gold])


@pytest.mark.slow
def test_the_peer_benchmark_measures_rag_on_a_generated_archive(tmp_path):
    import json

    peers = _bench("peers")
    questions = peers.generate_archive(tmp_path / "generated", 60)
    (tmp_path / "questions.json").write_text(json.dumps(questions))
    arguments = [str(tmp_path / "generated"), str(tmp_path / "store"), str(tmp_path / "questions.json")]
    _, indexed = peers.in_fresh_process(["index", "rag", *arguments])
    assert indexed["chunks"] >= 60 and indexed["chunks_per_s"] > 0 and indexed["raw_encode_chunks_per_s"] > 0
    _, queried = peers.in_fresh_process(["query", "rag", *arguments])
    assert queried["questions"] == 50 and queried["recall_at_5"] >= 0.8 and queried["answer_p50_ms"] > 0


@pytest.mark.slow
@pytest.mark.cluster
def test_the_cluster_benchmark_builds_the_same_index_plainly_and_on_ray(tmp_path):
    pytest.importorskip("ray", reason="the cluster lane needs the cluster extra: pip install -e '.[cluster]'")
    rows = _bench("cluster").main(["--articles", "60", "--out", str(tmp_path / "ingest.md")])
    assert [label for label, _ in rows] == ["plain `rag index`", "Ray, 1 worker", "Ray, 2 workers"]
    plain = rows[0][1]
    assert plain["documents"] == 60 and plain["sentences"] > 3 * 60  # 4 drawn per article; a few split otherwise
    for _, result in rows:
        assert (result["documents"], result["chunks"], result["sentences"]) == \
            (plain["documents"], plain["chunks"], plain["sentences"])
    assert "| Ray, 2 workers |" in (tmp_path / "ingest.md").read_text()


@pytest.mark.slow
@pytest.mark.server
def test_the_replica_benchmark_spreads_clients_over_replicas_and_checks_every_answer(tmp_path, milvus_server):
    results = _bench("replicas").main(["--clients", "2", "--questions", "8", "--store", milvus_server,
                                       "--out", str(tmp_path / "replicas.md")])
    assert results["disagreements"] == 0 and results["questions"] > 0
    assert [level["clients"] for level in results["levels"]] == [2, 2]
    assert all(level["wrong"] == 0 and level["errors"] == 0 and level["questions"] == 8 for level in results["levels"])
    assert "| 2 | 2 | 8 |" in (tmp_path / "replicas.md").read_text()
