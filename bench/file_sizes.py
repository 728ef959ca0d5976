"""Ingestion time against file size: reading stays linear, up to 50 MB a file.

    .venv/bin/python bench/file_sizes.py [--out docs/file-sizes.md]

Two shapes of big file, each at doubling sizes:
- a JSONL dump of 2 KB articles from 6 to 50 MB, read by `read_corpus` (parse, fields, dates inferred);
  reference in the same run: `json.loads` of the same lines, the least any reader must do;
- one article of 250,000 to 2,000,000 characters (the per-article limit) in a single paragraph,
  split into sentences and chunks (the steps that were quadratic: pysbd on a long paragraph).
Linear means the seconds per MB stay flat as the size doubles. Embedding is left out: it is linear
by construction and measured in docs/ingest.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rag.ingest.chunking import chunk_document, word_count  # noqa: E402
from rag.ingest.corpus import read_corpus  # noqa: E402
from rag.types import Document  # noqa: E402

SENTENCE = "Officials in the port city said on Tuesday that talks with the dockers' union would resume next week. "


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dump-mb", default="6.25,12.5,25,50")
    parser.add_argument("--article-chars", default="250000,500000,1000000,2000000")
    parser.add_argument("--out", default=str(REPO / "docs/file-sizes.md"))
    args = parser.parse_args(argv)
    rows = [_dump(float(mb)) for mb in args.dump_mb.split(",")]
    rows += [_article(int(chars)) for chars in args.article_chars.split(",")]
    _write(rows, Path(args.out), " ".join(["bench/file_sizes.py", *(argv if argv is not None else sys.argv[1:])]))
    return rows


def _dump(megabytes: float) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="rag-sizes-"))
    path = folder / "dump.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        number = 0
        while out.tell() < megabytes * 1_000_000:
            text = f"Story {number}. " + SENTENCE * 20
            out.write(json.dumps({"id": str(number), "title": f"Port talks, day {number}", "date": "2024-03-05",
                                  "text": text}) + "\n")
            number += 1
    size = path.stat().st_size / 1e6
    started = time.perf_counter()
    documents, skipped = read_corpus(folder)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    with open(path, encoding="utf-8") as lines:
        parsed = sum(1 for line in lines if json.loads(line))
    reference = time.perf_counter() - started
    assert len(documents) == parsed and not skipped
    path.unlink()
    print(f"dump {size:.1f} MB: {seconds:.2f} s ({len(documents):,} articles)", flush=True)
    return {"shape": "JSONL dump", "size": f"{size:.1f} MB", "mb": size, "seconds": seconds,
            "reference": reference, "items": f"{len(documents):,} articles"}


def _article(chars: int) -> dict:
    text = (SENTENCE * (chars // len(SENTENCE) + 1))[:chars]
    started = time.perf_counter()
    chunks = chunk_document(Document("long", text, "Long"), word_count, 200, 30)
    seconds = time.perf_counter() - started
    print(f"article {chars:,} chars: {seconds:.2f} s ({len(chunks):,} chunks)", flush=True)
    return {"shape": "one article, one paragraph", "size": f"{chars:,} chars", "mb": chars / 1e6, "seconds": seconds,
            "reference": None, "items": f"{len(chunks):,} chunks"}


def _write(rows: list[dict], out: Path, command: str) -> None:
    lines = [
        "# Ingestion time against file size",
        "",
        f"Measured with `.venv/bin/python {command}` on {platform.machine()}, Python {platform.python_version()}. "
        "Linear means seconds per MB stay flat as the size doubles. Reference (dumps): `json.loads` of the same "
        "lines in the same run.",
        "",
        "| file | size | seconds | s per MB | reference s | what came out |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        reference = f"{row['reference']:.2f}" if row["reference"] is not None else "-"
        lines.append(f"| {row['shape']} | {row['size']} | {row['seconds']:.2f} | {row['seconds'] / row['mb']:.2f} | "
                     f"{reference} | {row['items']} |")
    lines += ["", "Past the limits a file is skipped with the reason before it is read: 20 MB for a text, Markdown or "
                  "HTML file, 100 MB for a feed, 2,000,000 characters for one article (rag.ingest.loaders, rag.ingest.corpus)."]
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
