"""A 10k-chunk smoke run of the storage benchmark: it runs end to end on every backend, exact
stores find exactly what brute force finds, and it writes its table."""

import importlib.util

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_the_scale_benchmark_runs_on_10k_chunks(tmp_path):
    spec = importlib.util.spec_from_file_location("scale", REPO / "bench/scale.py")
    scale = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scale)
    rows = scale.main(["--sizes", "10000", "--out", str(tmp_path / "scale.md")])
    by_store = {name: values for _, name, values in rows}
    assert {"faiss-flat", "faiss-ivf", "milvus-lite", "tantivy keywords", "bm25s keywords (reference)"} <= set(by_store)
    assert 0 < by_store["faiss-ivf"]["recall@10"] <= 1.0
    for exact in ("faiss-flat", "milvus-lite"):
        assert by_store[exact]["recall@10"] == 1.0
        assert by_store[exact]["filtered p50/p95 ms"][0] > 0
    assert by_store["tantivy keywords"]["add article s"] > 0
    assert "| 10,000 | faiss-flat |" in (tmp_path / "scale.md").read_text()
    assert (tmp_path / "scale.png").stat().st_size > 10_000  # the plot beside the table
