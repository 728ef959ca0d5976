"""Storage at archive scale: vector and keyword stores on synthetic archives of N chunks.

    .venv/bin/python bench/scale.py [--sizes 10000,100000] [--milvus-up-to 100000] [--out docs/scale.md]

Vectors are random unit vectors (384-d, as MiniLM's); keyword texts are drawn from a Zipf-like
vocabulary. Per backend and size: build (add everything and commit), disk, cold open, resident memory
the opened store adds, dense search p50/p95 for k=10 with and without a date filter (a tenth of the
archive allowed), recall@10 against exact search, the time to add or remove one article (10 chunks)
and commit it as an update, and search p50 once the update left hidden keys behind. References
measured in the same run: numpy's brute-force matrix product for vectors, bm25s (which tantivy
replaced) for keywords. Whole-index updates (SQLite, embedding included) are in bench/updates.py.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rag.config import Config  # noqa: E402
from rag.stores.backends import create_vector_store, open_vector_store  # noqa: E402
from rag.stores.protocols import DateFilter  # noqa: E402
from rag.stores.tantivy import TantivyKeywordIndex  # noqa: E402
from rag.text import bm25s_library, tokenize  # noqa: E402

DIMENSION, QUERIES, K, ARTICLE = 384, 200, 10, 10
DAYS = np.array([20200101 + (i % 10) * 10000 for i in range(10)])  # ten years; a filter allows one


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def disk_mb(directory: Path) -> float:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file()) / 2**20


def open_in_fresh_process(directory: Path, entry: dict) -> tuple[float, float]:
    """(seconds to open the store and answer one search, MB of resident memory that adds), measured
    in a new process: in this one, freed memory is reused and the figure would mean nothing."""
    script = f"""
import json, sys, time
import numpy as np
sys.path.insert(0, {str(REPO)!r})
from bench.scale import rss_mb
from rag.stores.backends import open_vector_store
import faiss, pymilvus
before = rss_mb()
started = time.perf_counter()
store = open_vector_store({str(directory)!r}, {entry!r}, 1, np.zeros(0, dtype=np.int64))
store.search(np.ones((1, {DIMENSION}), dtype=np.float32), 10)
print(json.dumps([time.perf_counter() - started, rss_mb() - before]))
"""
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return tuple(json.loads(output.strip().splitlines()[-1]))


def percentiles(times: list[float]) -> tuple[float, float]:
    return float(np.percentile(times, 50) * 1000), float(np.percentile(times, 95) * 1000)


def unit(rng, n: int) -> np.ndarray:
    vectors = rng.standard_normal((n, DIMENSION)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def measure_vectors(location: str, vectors: np.ndarray, days: np.ndarray, queries: np.ndarray, exact: np.ndarray,
                    work: Path) -> dict:
    keys = np.arange(len(vectors), dtype=np.int64)
    directory = work / location.replace("/", "_")
    directory.mkdir()
    started = time.perf_counter()
    store = create_vector_store(location, directory, DIMENSION, Config())
    store.add(keys, vectors, days)
    entry = store.commit(directory)
    store.close()
    build = time.perf_counter() - started
    cold, memory = open_in_fresh_process(directory, entry)
    store = open_vector_store(directory, entry, 1, np.zeros(0, dtype=np.int64))
    plain, filtered, found = [], [], []
    allowed_day = int(DAYS[3])
    where = DateFilter(date(2023, 1, 1), date(2023, 12, 31), lambda: keys[days == allowed_day])
    for query in queries:
        started = time.perf_counter()
        found.append(store.search(query[None, :], K)[1][0])
        plain.append(time.perf_counter() - started)
        started = time.perf_counter()
        store.search(query[None, :], K, where)
        filtered.append(time.perf_counter() - started)
    recall = float(np.mean([len(set(f) & set(e)) / K for f, e in zip(found, exact)]))
    article = np.arange(len(vectors), len(vectors) + ARTICLE, dtype=np.int64)
    started = time.perf_counter()
    store.add(article, unit(np.random.default_rng(1), ARTICLE), np.full(ARTICLE, allowed_day))
    store.commit(directory)
    add = time.perf_counter() - started
    started = time.perf_counter()
    store.remove(article)
    store.commit(directory)
    remove = time.perf_counter() - started
    store.remove(keys[:ARTICLE])  # and an article of the full write: hidden keys in the main index too
    store.commit(directory)
    after = []
    for query in queries:
        started = time.perf_counter()
        store.search(query[None, :], K)
        after.append(time.perf_counter() - started)
    store.close()
    return {"build s": build, "disk MB": disk_mb(directory), "cold open s": cold, "RSS MB": memory,
            "search p50/p95 ms": percentiles(plain), "filtered p50/p95 ms": percentiles(filtered),
            "recall@10": recall, "add article s": add, "remove article s": remove,
            "after updates p50/p95 ms": percentiles(after)}


def keyword_texts(n: int, rng) -> list[str]:
    vocabulary = [f"w{i}" for i in range(20000)]
    weights = 1.0 / np.arange(1, len(vocabulary) + 1)
    words = rng.choice(len(vocabulary), size=(n, 60), p=weights / weights.sum())
    return [" ".join(vocabulary[w] for w in row) for row in words]


def keyword_queries(texts: list[str], rng) -> list[str]:
    return [" ".join(texts[row].split()[:3]) for row in rng.choice(len(texts), size=QUERIES)]


def measure_keywords(texts: list[str], days: np.ndarray, work: Path, rng) -> dict:
    keys = np.arange(len(texts), dtype=np.int64)
    started = time.perf_counter()
    index = TantivyKeywordIndex.create(work, None)
    index.add(keys, texts, days)
    index.commit()
    build = time.perf_counter() - started
    index.close()
    started = time.perf_counter()
    index = TantivyKeywordIndex.open(work, {}, None, 1, np.zeros(0, dtype=np.int64))
    cold = time.perf_counter() - started
    allowed_day = int(DAYS[3])
    where = DateFilter(date(2023, 1, 1), date(2023, 12, 31), lambda: keys[days == allowed_day])
    plain, filtered = [], []
    for query in keyword_queries(texts, rng):
        started = time.perf_counter()
        index.search(query, 30)
        plain.append(time.perf_counter() - started)
        started = time.perf_counter()
        index.search(query, 30, where)
        filtered.append(time.perf_counter() - started)
    article = np.arange(len(texts), len(texts) + ARTICLE, dtype=np.int64)
    started = time.perf_counter()
    index.add(article, texts[:ARTICLE], np.full(ARTICLE, allowed_day))
    index.commit()
    add = time.perf_counter() - started
    started = time.perf_counter()
    index.remove(article)
    index.commit()
    remove = time.perf_counter() - started
    return {"build s": build, "disk MB": disk_mb(work / "keywords"), "cold open s": cold,
            "search p50/p95 ms": percentiles(plain), "filtered p50/p95 ms": percentiles(filtered),
            "add article s": add, "remove article s": remove}


def measure_bm25s(texts: list[str], days: np.ndarray, rng) -> dict:
    """The keyword engine tantivy replaced, as it was used: one index, a date filter as a mask."""
    bm25s = bm25s_library()
    started = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(tokenize(texts), show_progress=False)
    build = time.perf_counter() - started
    allowed = days == int(DAYS[3])
    plain, filtered = [], []
    for query in keyword_queries(texts, rng):
        terms = [t for t in tokenize([query])[0] if t in retriever.vocab_dict]
        started = time.perf_counter()
        scores = retriever.get_scores(terms)
        np.argpartition(-scores, 30)[:30]
        plain.append(time.perf_counter() - started)
        started = time.perf_counter()
        scores = np.where(allowed, retriever.get_scores(terms), 0.0)
        np.argpartition(-scores, 30)[:30]
        filtered.append(time.perf_counter() - started)
    return {"build s": build, "search p50/p95 ms": percentiles(plain), "filtered p50/p95 ms": percentiles(filtered)}


def cell(value) -> str:
    if isinstance(value, tuple):
        return " / ".join(f"{v:.2f}" for v in value)
    return f"{value:.3f}" if value < 10 else f"{value:.0f}"


def main(argv: list[str] | None = None) -> list[tuple]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--milvus-up-to", type=int, default=100000, help="skip Milvus Lite above this many chunks")
    parser.add_argument("--out", default=str(REPO / "docs/scale.md"))
    args = parser.parse_args(argv)
    rows = []
    for n in (int(size) for size in args.sizes.split(",")):
        rng = np.random.default_rng(0)
        vectors, queries = unit(rng, n), unit(rng, QUERIES)
        days = DAYS[rng.integers(0, len(DAYS), n)]
        started = time.perf_counter()
        exact = [np.argsort(-(vectors @ q))[:K] for q in queries]
        reference_ms = (time.perf_counter() - started) / QUERIES * 1000
        with tempfile.TemporaryDirectory(prefix="rag-scale-") as workdir:
            work = Path(workdir)
            rows.append((n, "numpy brute force (reference)", {"search p50/p95 ms": (reference_ms, reference_ms)}))
            for location in ("faiss-flat", "faiss-ivf", "milvus-lite"):
                if location == "milvus-lite" and n > args.milvus_up_to:
                    continue
                rows.append((n, location, measure_vectors(location, vectors, days, queries, exact, work)))
                print(n, location, rows[-1][2], flush=True)
            texts = keyword_texts(n, rng)
            rows.append((n, "tantivy keywords", measure_keywords(texts, days, work, rng)))
            print(n, "tantivy", rows[-1][2], flush=True)
            rows.append((n, "bm25s keywords (reference)", measure_bm25s(texts, days, rng)))
            print(n, "bm25s", rows[-1][2], flush=True)
            shutil.rmtree(work, ignore_errors=True)
    columns = ["build s", "disk MB", "cold open s", "RSS MB", "search p50/p95 ms", "filtered p50/p95 ms", "recall@10",
               "add article s", "remove article s", "after updates p50/p95 ms"]
    lines = ["| chunks | store | " + " | ".join(columns) + " |", "|" + " --- |" * (len(columns) + 2)]
    for n, name, values in rows:
        lines.append(f"| {n:,} | {name} | " + " | ".join(cell(values[c]) if c in values else "" for c in columns) + " |")
    table = "\n".join(lines) + "\n"
    print(table)
    plot = Path(args.out).with_suffix(".png")
    _plot(rows, plot)
    Path(args.out).write_text(
        "# Storage at scale\n\nReproduce: `.venv/bin/python bench/scale.py --sizes " + args.sizes + "` (2-core machine).\n"
        "Synthetic archives (random unit vectors; Zipf-like keyword texts). 'add/remove article' is one\n"
        "10-chunk article added to or removed from the store and committed as an update (FAISS writes a\n"
        "segment file; removed keys are hidden). 'after updates' is search once an article of the full\n"
        "write is hidden too. Filtered searches allow a tenth of the archive (one year of ten), measured\n"
        "after the first query of that range (stores cache its selector). Keyword search is k=30, as rag asks.\n\n"
        + table + f"\n![search p50 against archive size]({plot.name})\n")
    return rows


def _plot(rows: list[tuple], path: Path) -> None:
    """Dense search p50 (and keyword search p50) against archive size, one line per store, log-log."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for name in dict.fromkeys(name for _, name, _ in rows):
        points = [(n, values["search p50/p95 ms"][0]) for n, store, values in rows if store == name]
        axes.plot(*zip(*points), marker="o", label=name)
    axes.set(xscale="log", yscale="log", xlabel="chunks", ylabel="search p50 (ms, k=10)",
             title="Search time against archive size (2-core CPU)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


if __name__ == "__main__":
    main()
