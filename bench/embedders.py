"""The embedder backends side by side: PyTorch float32 against ONNX Runtime int8, same model.

    .venv/bin/python bench/embedders.py [--out docs/embedders.md]

On the same texts (the corpus's chunks and sentences, and the SQuAD subset's paragraphs) reports
each backend's throughput in texts/s over 3 rounds (the median), the latency of embedding one
question (p50 over the sample questions), and how closely the int8 vectors follow the float32 ones
(cosine between the two vectors of each text).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from rag.chunking import chunk_document  # noqa: E402
from rag.corpus import load_corpus  # noqa: E402
from rag.embedding import ONNX_INT8, make_embedder  # noqa: E402
from rag.sentences import sentence_spans  # noqa: E402

ROUNDS = 3


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--squad", default=str(REPO.parent / "shared/bench/squad2-dev-subset.json"))
    parser.add_argument("--out", default=str(REPO / "docs/embedders.md"))
    args = parser.parse_args(argv)
    texts = _texts(Path(args.squad))
    questions = [line.strip() for line in (REPO / "bench/sample_questions.txt").read_text().splitlines() if line.strip()]
    results, vectors = {}, {}
    for name in ("all-MiniLM-L6-v2", ONNX_INT8):
        embedder = make_embedder(name)
        embedder.embed(["warm-up"])
        seconds = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            vectors[name] = embedder.embed(texts)
            seconds.append(time.perf_counter() - started)
        one = []
        for question in questions * 3:
            started = time.perf_counter()
            embedder.embed([question])
            one.append((time.perf_counter() - started) * 1000)
        results[name] = {"texts_per_s": len(texts) / statistics.median(seconds),
                         "query_p50_ms": statistics.median(one)}
        print(name, json.dumps(results[name]), flush=True)
    cosine = np.sum(vectors["all-MiniLM-L6-v2"] * vectors[ONNX_INT8], axis=1)
    summary = {"texts": len(texts), "backends": results,
               "cosine": {"min": float(cosine.min()), "mean": float(cosine.mean())}}
    _write(summary, Path(args.out), " ".join(["bench/embedders.py", *(argv if argv is not None else sys.argv[1:])]))
    return summary


def _texts(squad: Path) -> list[str]:
    documents, _ = load_corpus(REPO / "corpus")
    embedder = make_embedder()
    texts = [chunk.text for document in documents for chunk in chunk_document(document, embedder.count_tokens, 200, 30)]
    texts += [document.text[start:end] for document in documents for start, end in sentence_spans(document.text)]
    data = json.loads(squad.read_text())
    texts += [paragraph["context"] for article in data["data"] for paragraph in article["paragraphs"]]
    return texts


def _write(summary: dict, out: Path, command: str) -> None:
    torch, onnx = summary["backends"]["all-MiniLM-L6-v2"], summary["backends"][ONNX_INT8]
    lines = [
        "# Embedder backends: PyTorch float32 and ONNX Runtime int8",
        "",
        f"Measured with `.venv/bin/python {command}` on {platform.machine()} ({_cores()} cores), Python "
        f"{platform.python_version()}: {summary['texts']:,} texts (the corpus's chunks and sentences, the SQuAD "
        f"subset's paragraphs), median of {ROUNDS} rounds; one question embedded alone, p50 over 60.",
        "",
        "| backend | texts/s | ratio to PyTorch | one question p50 ms |",
        "|---|---:|---:|---:|",
    ]
    for name, row in (("all-MiniLM-L6-v2 (PyTorch float32, default)", torch), (f"{ONNX_INT8} (ONNX Runtime)", onnx)):
        lines.append(f"| {name} | {row['texts_per_s']:.1f} | {row['texts_per_s'] / torch['texts_per_s']:.2f}x | "
                     f"{row['query_p50_ms']:.1f} |")
    lines += ["", f"Cosine between the two backends' vectors of each text: mean {summary['cosine']['mean']:.4f}, "
                  f"lowest {summary['cosine']['min']:.4f}."]
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    main()
