"""Answer latency and memory of `rag ask` on this machine, after models are loaded.

    .venv/bin/python bench/latency.py [--questions bench/sample_questions.txt] [--rounds 3] [--out docs/latency.md]

Builds the index of corpus/ in a temporary directory, loads the models once (timed separately),
then asks every question `--rounds` times. Reports p50, p95 and max per round beside a reference
timed in the same round (the raw embedder encoding the question), and the peak resident memory.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rag.config import Config  # noqa: E402
from rag.evaluation.metrics import percentile  # noqa: E402
from rag.build import build_index  # noqa: E402
from rag.pipeline import load  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", default=str(REPO / "bench/sample_questions.txt"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=str(REPO / "docs/latency.md"))
    args = parser.parse_args()
    questions = [line.strip() for line in Path(args.questions).read_text().splitlines() if line.strip()]

    index_dir = Path(tempfile.mkdtemp(prefix="rag-latency-")) / "index"
    started = time.perf_counter()
    build_index(REPO / "corpus", index_dir, Config(), progress=False)
    built = time.perf_counter()
    qa = load(index_dir, Config(reader="extractive")).load()
    loaded = time.perf_counter()

    lines = [
        f"Machine: {platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores, "
        f"Python {platform.python_version()}. {len(questions)} questions from `{Path(args.questions).name}`, "
        f"extractive reader, top-k {qa.config.top_k}.",
        "",
        f"- index build of corpus/ (model load included): {built - started:.1f} s",
        f"- loading index and models: {loaded - built:.1f} s",
        "",
        "The reference column is the raw embedder encoding the same question once, timed in the same round:",
        "a machine that is busier or slower moves both.",
        "",
        "| round | p50 ms | p95 ms | max ms | mean ms | reference: embed the question, p50 ms |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for round_number in range(1, args.rounds + 1):
        totals, references = [], []
        for question in questions:
            totals.append(qa.ask(question).timings_ms["total"])
            started = time.perf_counter()
            qa.embedder.embed([question])
            references.append((time.perf_counter() - started) * 1000)
        lines.append(
            f"| {round_number} | {percentile(totals, 50):.0f} | {percentile(totals, 95):.0f} | {max(totals):.0f} "
            f"| {statistics.mean(totals):.0f} | {percentile(references, 50):.1f} |"
        )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines += ["", f"Peak resident memory: {peak_mib:.0f} MiB."]
    report = "\n".join(lines) + "\n"
    print(report)
    Path(args.out).write_text("# Latency\n\nReproduce: `.venv/bin/python bench/latency.py`\n\n" + report)


if __name__ == "__main__":
    main()
