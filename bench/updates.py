"""Updating a large index in place, end to end, and opening it cold.

    .venv/bin/python bench/updates.py [--chunks 1000000] [--store faiss] [--out docs/updates.md]

Writes a synthetic index of N chunks (articles of ten chunks of Zipf-like words, random unit vectors,
one stored sentence per article) through rag's own full write, then opens it in a fresh process
(time and resident memory) and, in this process, with the index open and the real embedder and
tagger loaded (as in the chat app or a long-running script), adds one real news article, changes it
and removes it through rag.indexing.update. Each update's time is shown beside the time the embedder and tagger
alone spend on that article, measured in the same run: the rest is what the stores cost.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.scale import disk_mb, keyword_texts, unit  # noqa: E402
from rag.config import Config  # noqa: E402
from rag.indexing.index import open_index  # noqa: E402
from rag.indexing.prepare import prepare  # noqa: E402
from rag.indexing.update import update  # noqa: E402
from rag.indexing.write import _write_atomically  # noqa: E402
from rag.ingest.loaders.articles import read_article  # noqa: E402
from rag.types import Chunk, Document, Sentence  # noqa: E402

DIMENSION, CHUNKS_PER_ARTICLE = 384, 10
ARTICLE = REPO / "corpus" / "004_56a94f60d051a7dc.txt"


class _Named:
    """The manifest records the embedder's name; the synthetic vectors stand in for MiniLM's."""

    name = Config().embedder


def synthetic_archive(chunks: int, rng) -> tuple[list[Document], list[tuple[int, Chunk]], list[Sentence], np.ndarray]:
    texts = keyword_texts(chunks, rng)
    documents, keyed, sentences = [], [], []
    for number in range(chunks // CHUNKS_PER_ARTICLE):
        pieces = texts[number * CHUNKS_PER_ARTICLE:(number + 1) * CHUNKS_PER_ARTICLE]
        text = "\n".join(pieces)
        doc_id = f"synthetic-{number:07d}"
        documents.append(Document(doc_id=doc_id, text=text, title=pieces[0][:40],
                                  date=date(2015 + number % 10, 1 + number % 12, 1 + number % 28), path=f"{doc_id}.txt",
                                  content_hash=hashlib.sha256(text.encode()).hexdigest()))
        start = 0
        for offset, piece in enumerate(pieces):
            keyed.append((number * CHUNKS_PER_ARTICLE + offset,
                          Chunk(f"{doc_id}#{offset}", doc_id, start, start + len(piece), piece)))
            start += len(piece) + 1
        sentences.append(Sentence(sentence_id=f"{doc_id}#s0", doc_id=doc_id, start=0, end=len(pieces[0]),
                                  text=pieces[0], spans=(), vector=unit(rng, 1)[0]))
    return documents, keyed, sentences, unit(rng, len(keyed))


def open_cold(index_dir: Path) -> tuple[float, float]:
    """(seconds, MB of resident memory) to load the index in a fresh process."""
    script = f"""
import json, sys, time
sys.path.insert(0, {str(REPO)!r})
from bench.scale import rss_mb
import faiss, tantivy, numpy
before = rss_mb()
started = time.perf_counter()
from rag.indexing.index import open_index
index = open_index({str(index_dir)!r})
print(json.dumps([time.perf_counter() - started, rss_mb() - before]))
"""
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return tuple(json.loads(output.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=1_000_000)
    parser.add_argument("--store", default="faiss", help="faiss (exact or approximate by size), faiss-flat, faiss-ivf")
    parser.add_argument("--out", default=str(REPO / "docs/updates.md"))
    args = parser.parse_args(argv)
    from rag.models.embedders import make_embedder
    from rag.stores.backends import resolve_location

    config = Config(vector_store=args.store)
    location = resolve_location(args.store, args.chunks, config.exact_search_below)
    results: dict[str, float | str] = {"chunks": args.chunks, "store": location}
    with tempfile.TemporaryDirectory(prefix="rag-updates-") as work:
        index_dir = Path(work) / "index"
        documents, keyed, sentences, vectors = synthetic_archive(args.chunks, np.random.default_rng(0))
        started = time.perf_counter()
        _write_atomically(index_dir, documents, keyed, sentences, dict(zip((key for key, _ in keyed), vectors)),
                          location, None, config, _Named())
        results["full write s"] = time.perf_counter() - started
        del documents, keyed, sentences, vectors
        results["disk MB"] = disk_mb(index_dir)
        results["cold load s"], results["cold load RSS MB"] = open_cold(index_dir)
        print(results, flush=True)

        embedder = make_embedder(config.embedder)
        index = open_index(index_dir, config)
        article = read_article(ARTICLE)
        warm = dataclasses.replace(article, doc_id="warm-up", text=article.text[:200])
        update(index, add=[warm], config=config, embedder=embedder)  # loads the tagger once
        started = time.perf_counter()
        prepare([article], 0, config, embedder, progress=False)
        results["embed and tag the article s"] = time.perf_counter() - started
        started = time.perf_counter()
        update(index, add=[article], config=config, embedder=embedder)
        results["add article s"] = time.perf_counter() - started
        changed = dataclasses.replace(article, text=article.text + "\nA closing sentence.", content_hash="changed")
        started = time.perf_counter()
        update(index, add=[changed], config=config, embedder=embedder)
        results["change article s"] = time.perf_counter() - started
        started = time.perf_counter()
        update(index, remove=[article.doc_id], config=config, embedder=embedder)
        results["remove article s"] = time.perf_counter() - started
        index.close()
        results["cold load after updates s"], results["cold load after updates RSS MB"] = open_cold(index_dir)
    print(json.dumps(results, indent=2))
    lines = [f"| {name} | {value:.3f} |" if isinstance(value, float) else f"| {name} | {value} |"
             for name, value in results.items()]
    Path(args.out).write_text(
        "# Updating a large index in place\n\n"
        f"Reproduce: `.venv/bin/python bench/updates.py --chunks {args.chunks} --store {args.store}` (2-core machine).\n"
        "A synthetic index written by rag's full write; one real article (corpus/004) added, changed and\n"
        "removed through `rag.indexing.update` on the open index, embedder and tagger loaded. 'embed and tag\n"
        "the article' is the models' share of each add, measured in the same run. Cold load is `open_index`\n"
        "in a fresh process (what `rag index` and `rag ask` pay first).\n\n"
        "| measure | value |\n| --- | --- |\n" + "\n".join(lines) + "\n")
    return results


if __name__ == "__main__":
    main()
