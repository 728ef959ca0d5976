"""Recall of approximate search on vectors shaped like real embeddings, to set IVF's nprobe.

    .venv/bin/python bench/recall.py [--size 1000000] [--out docs/recall.md]

Random vectors have no neighbourhoods, so recall measured on them says nothing (docs/storage.md).
Here every archive vector comes from real MiniLM embeddings: each sentence, and each run of two and
three sentences, of the SQuAD paragraphs in ../shared/bench is embedded once; an archive vector is a
random mixture of two or three of these from one paragraph plus a little noise (what the chunks of
many stories on the same subjects look like), and the queries are embeddings of real SQuAD questions,
which are never in the archive. Reports, for rag's IVF store (about 4 sqrt(n) lists), search p50/p95
and recall@10 against exact search for a range of nprobe, beside exact FAISS search in the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.scale import percentiles  # noqa: E402

SQUAD = [REPO.parent / "shared/bench/squad2-train-10-articles.json", REPO.parent / "shared/bench/squad2-dev-subset.json"]
QUERIES, K = 300, 10
NPROBES = (8, 16, 32, 64, 128, 256)


def real_texts() -> tuple[list[list[str]], list[str]]:
    """(sentence runs grouped by paragraph, questions) from the SQuAD files."""
    import pysbd

    splitter = pysbd.Segmenter(language="en", clean=False)
    groups, questions = [], []
    for path in SQUAD:
        for article in json.loads(path.read_text())["data"]:
            for paragraph in article["paragraphs"]:
                sentences = [s.strip() for s in splitter.segment(paragraph["context"]) if s.strip()]
                groups.append([" ".join(sentences[i:i + width]) for width in (1, 2, 3)
                               for i in range(len(sentences) - width + 1)])
                questions.extend(q["question"] for q in paragraph["qas"])
    return groups, questions


def archive(size: int, groups: list[np.ndarray], rng) -> np.ndarray:
    """``size`` unit vectors, each a mixture of two or three embeddings of one paragraph, plus noise."""
    vectors = np.empty((size, groups[0].shape[1]), dtype=np.float32)
    paragraphs = rng.integers(0, len(groups), size)
    for row, paragraph in enumerate(paragraphs):
        members = groups[paragraph]
        picked = members[rng.integers(0, len(members), rng.integers(2, 4))]
        vectors[row] = rng.dirichlet(np.ones(len(picked))) @ picked
    vectors += rng.normal(0, 0.02, vectors.shape).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def main(argv: list[str] | None = None) -> list[tuple]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--out", default=str(REPO / "docs/recall.md"))
    args = parser.parse_args(argv)
    from rag.models.embedders import SentenceTransformerEmbedder
    from rag.stores.faiss import FaissIVFVectorStore, FaissVectorStore

    rng = np.random.default_rng(0)
    groups, questions = real_texts()
    embedder = SentenceTransformerEmbedder()
    started = time.perf_counter()
    flat = [text for group in groups for text in group]
    embedded = embedder.embed(flat)
    print(f"embedded {len(flat)} real texts in {time.perf_counter() - started:.0f} s", flush=True)
    bounds = np.cumsum([0] + [len(group) for group in groups])
    grouped = [embedded[bounds[i]:bounds[i + 1]] for i in range(len(groups)) if bounds[i + 1] > bounds[i]]
    queries = embedder.embed([questions[i] for i in rng.choice(len(questions), QUERIES, replace=False)])
    vectors = archive(args.size, grouped, rng)
    keys = np.arange(args.size, dtype=np.int64)

    exact_store = FaissVectorStore.create(None, vectors.shape[1])
    exact_store.add(keys, vectors)
    exact, times = [], []
    for query in queries:
        started = time.perf_counter()
        exact.append(exact_store.search(query[None, :], K)[1][0])
        times.append(time.perf_counter() - started)
    rows = [("exact (faiss-flat)", "", percentiles(times), 1.0)]
    del exact_store

    started = time.perf_counter()
    store = FaissIVFVectorStore.create(None, vectors.shape[1])
    store.add(keys, vectors)
    build = time.perf_counter() - started
    for nprobe in NPROBES:
        store.nprobe = nprobe
        found, times = [], []
        for query in queries:
            started = time.perf_counter()
            found.append(store.search(query[None, :], K)[1][0])
            times.append(time.perf_counter() - started)
        recall = float(np.mean([len(set(f) & set(e)) / K for f, e in zip(found, exact)]))
        rows.append((f"faiss-ivf, {store.index.nlist} lists", nprobe, percentiles(times), recall))
        print(rows[-1], flush=True)
    table = ["| store | nprobe | search p50 / p95 ms | recall@10 |", "| --- | --- | --- | --- |"]
    table += [f"| {name} | {nprobe} | {p50:.2f} / {p95:.2f} | {recall:.3f} |" for name, nprobe, (p50, p95), recall in rows]
    Path(args.out).write_text(
        "# Recall of approximate search on embedding-shaped vectors\n\n"
        f"Reproduce: `.venv/bin/python bench/recall.py --size {args.size}` (2-core machine; embeds about "
        f"{len(flat):,} real texts first).\n{args.size:,} archive vectors mixed from real MiniLM embeddings of SQuAD sentences "
        f"(see the script's docstring); {QUERIES} real SQuAD questions as queries; k={K}, one query at a time. "
        f"IVF build (training and adding): {build:.0f} s.\n\n" + "\n".join(table) + "\n")
    print("\n".join(table))
    return rows


if __name__ == "__main__":
    main()
