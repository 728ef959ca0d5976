"""Approximate FAISS indexes against exact search, to choose one by measurement.

    .venv/bin/python bench/ann.py [N]      # default 100000 chunks

Two synthetic kinds of 384-d unit vectors: "random" (no structure at all: the worst case for any
approximate index) and "clustered" (2,000 centres plus noise as large as the centre, queries near
data points). Reports build time, search time per query (k=10, one query at a time) and recall@10
against exact inner-product search, for IVF (nprobe 16, 64) and HNSW (M=32, efSearch 64, 256).
"""

import sys
import time

import faiss
import numpy as np

DIMENSION, QUERIES, K = 384, 200, 10


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / K for a, b in zip(found, truth)]))


def timed_search(index, queries: np.ndarray) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    found = np.concatenate([index.search(query[None, :], K)[1] for query in queries])
    return (time.perf_counter() - started) / len(queries) * 1000, found


def main(n: int) -> None:
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((2000, DIMENSION))
    sets = {
        "random": (unit(rng.standard_normal((n, DIMENSION))), unit(rng.standard_normal((QUERIES, DIMENSION)))),
        "clustered": (unit(centres[rng.integers(0, 2000, n)] + 0.9 * rng.standard_normal((n, DIMENSION))), None),
    }
    for name, (vectors, queries) in sets.items():
        if queries is None:
            queries = unit(vectors[rng.integers(0, n, QUERIES)] + 0.5 * rng.standard_normal((QUERIES, DIMENSION)))
        exact = faiss.IndexFlatIP(DIMENSION)
        exact.add(vectors)
        exact_ms, truth = timed_search(exact, queries)
        print(f"{name}: exact flat {exact_ms:.2f} ms")
        nlist = 1024 if n <= 200_000 else 4096
        started = time.perf_counter()
        quantizer = faiss.IndexFlatIP(DIMENSION)
        ivf = faiss.IndexIVFFlat(quantizer, DIMENSION, nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.train(vectors[rng.choice(n, min(n, 64 * nlist), replace=False)])
        ivf.add(vectors)
        built = time.perf_counter() - started
        for nprobe in (16, 64):
            ivf.nprobe = nprobe
            ms, found = timed_search(ivf, queries)
            print(f"{name}: IVF{nlist} nprobe {nprobe}: build {built:.1f} s, search {ms:.2f} ms, recall@10 {recall(found, truth):.3f}")
        started = time.perf_counter()
        hnsw = faiss.IndexHNSWFlat(DIMENSION, 32, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 80
        hnsw.add(vectors)
        built = time.perf_counter() - started
        for ef in (64, 256):
            hnsw.hnsw.efSearch = ef
            ms, found = timed_search(hnsw, queries)
            print(f"{name}: HNSW32 efSearch {ef}: build {built:.1f} s, search {ms:.2f} ms, recall@10 {recall(found, truth):.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
