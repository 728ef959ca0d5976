"""Ingest on Ray beside plain `rag index`, same run, same generated archive.

    .venv/bin/python bench/cluster.py [--articles 10000] [--sentences 4] [--out docs/cluster-ingest.md]

Needs the cluster extra (`.venv/bin/pip install -e '.[cluster]'`). Generates news-shaped articles (each a
draw of sentences from the starting corpus, numbers varied, dated), as sixteen JSONL dumps so that reading
spreads over workers too, then builds the whole index three times from scratch, each `rag index` in a
fresh process: plain (this machine, as a user runs it), on a local Ray with 1 worker, and with 2. Every
build writes the default store (FAISS and SQLite in the index folder), so the figures compare the
ingest itself: reading, splitting, embedding and tagging, and for Ray its start, its workers' model
loading and moving results back. Ray's fixed cost is measured apart on a 20-article corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DUMPS = 16


def write_archive(corpus: Path, articles: int, sentences: int, seed: int = 11) -> None:
    from rag.ingest.sentences import sentence_spans

    pool = []
    for article in sorted((REPO / "corpus").glob("*.txt")):
        text = article.read_text()
        pool.extend(text[start:end] for start, end in sentence_spans(text) if len(text[start:end]) > 40)
    rng = random.Random(seed)
    corpus.mkdir(parents=True)
    dumps: list[list[str]] = [[] for _ in range(DUMPS)]
    for number in range(articles):
        drawn = [re.sub(r"\d+", lambda m: str(rng.randrange(2, 900)), s) for s in rng.sample(pool, sentences)]
        day = date(2015, 1, 1) + timedelta(days=rng.randrange(3650))
        record = {"id": f"a{number:06d}", "title": drawn[0][:80], "text": " ".join(drawn), "date": day.isoformat()}
        dumps[number % DUMPS].append(json.dumps(record) + "\n")
    for number, lines in enumerate(dumps):
        (corpus / f"dump-{number:02d}.jsonl").write_text("".join(lines))


def build(corpus: Path, index: Path, workers: int | None) -> dict:
    """One `rag index` from scratch in a fresh process: wall seconds and what it wrote."""
    shutil.rmtree(index, ignore_errors=True)
    command = [str(REPO / ".venv" / "bin" / "rag"), "index", "--corpus", str(corpus), "--index", str(index), "--json",
               "--quiet"]
    if workers is not None:
        command += ["--cluster", "local", "--workers", str(workers)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    manifest = json.loads((index / "manifest.json").read_text())
    disk = sum(path.stat().st_size for path in index.rglob("*") if path.is_file())
    return {"seconds": seconds, "documents": manifest["corpus"]["documents"], "chunks": manifest["chunks"],
            "sentences": manifest["sentences"], "disk_mb": disk / 2**20}


def main(argv: list[str] | None = None) -> list[tuple[str, dict]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--sentences", type=int, default=4, help="sentences per article (default: 4, a news brief)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "cluster-ingest.md")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="rag-cluster-bench-"))
    try:
        write_archive(work / "small", 20, args.sentences)
        write_archive(work / "corpus", args.articles, args.sentences)
        fixed = {"plain": build(work / "small", work / "index", None),
                 "ray": build(work / "small", work / "index", 2)}
        print(f"20 articles: plain {fixed['plain']['seconds']:.1f} s, ray (2 workers) {fixed['ray']['seconds']:.1f} s",
              flush=True)
        rows = []
        for label, workers in (("plain `rag index`", None), ("Ray, 1 worker", 1), ("Ray, 2 workers", 2)):
            result = build(work / "corpus", work / "index", workers)
            rows.append((label, result))
            print(label, result, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _write(args, rows, fixed)
    return rows


def _write(args, rows: list[tuple[str, dict]], fixed: dict) -> None:
    plain = rows[0][1]
    lines = [
        "# Ingest on Ray beside plain `rag index`", "",
        f"`.venv/bin/python bench/cluster.py --articles {args.articles} --sentences {args.sentences}` "
        f"({os.cpu_count()} cores, no GPU; each build from scratch in a fresh process; the default store). "
        f"Measured {date.today().isoformat()}.", "",
        f"{args.articles:,} generated articles of {args.sentences} sentences (drawn from the starting corpus, numbers "
        f"varied, dated) in {DUMPS} JSONL dumps. Each row is a whole `rag index`: read, split, embed (the default "
        "int8 MiniLM), tag (spaCy), write.", "",
        "| build | seconds | articles/s | chunks/s | chunks | sentences | index MB | vs plain |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, result in rows:
        lines.append(f"| {label} | {result['seconds']:.1f} | {result['documents'] / result['seconds']:.1f} | "
                     f"{result['chunks'] / result['seconds']:.1f} | {result['chunks']:,} | {result['sentences']:,} | "
                     f"{result['disk_mb']:.0f} | {plain['seconds'] / result['seconds']:.2f}x |")
    lines += ["", f"Fixed cost, same run, on 20 such articles: plain {fixed['plain']['seconds']:.1f} s, on a local Ray "
              f"with 2 workers {fixed['ray']['seconds']:.1f} s (starting Ray and its workers, each loading the "
              "embedder and spaCy, and stopping them).", ""]
    args.out.write_text("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
