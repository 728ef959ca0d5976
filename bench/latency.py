"""Answer latency and memory of `rag ask` on this machine: warm (models loaded) and cold (a fresh process).

    .venv/bin/python bench/latency.py [--questions bench/sample_questions.txt] [--rounds 3] [--out docs/latency.md]

Builds the index of corpus/ in a temporary directory, loads the models once (timed separately),
then asks every question `--rounds` times. Reports p50, p95 and max per round beside a reference
timed in the same round (the embedder encoding the question), the p50 of each stage, and the peak
resident memory. Then runs `rag ask` in fresh processes, beside a fresh Python that imports numpy.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rag.config import Config  # noqa: E402
from rag.evaluation.metrics import percentile  # noqa: E402
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
    # In its own process, so that this one holds only what answering loads (no PyTorch), as `rag serve` does.
    subprocess.run([str(Path(sys.executable).with_name("rag")), "index", "--corpus", str(REPO / "corpus"),
                    "--index", str(index_dir), "--quiet"], check=True)
    built = time.perf_counter()
    qa = load(index_dir, Config(reader="extractive")).warm_up()
    loaded = time.perf_counter()

    lines = [
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}. {len(questions)} questions from `{Path(args.questions).name}`, "
        f"extractive reader, top-k {qa.config.top_k}.",
        "",
        f"- index build of corpus/ (`rag index`, model load included): {built - started:.1f} s",
        f"- loading index and models: {loaded - built:.1f} s",
        "",
        "The reference column is the embedder encoding the same question once, timed in the same round:",
        "a machine that is busier or slower moves both.",
        "",
        "| round | p50 ms | p95 ms | max ms | mean ms | reference: embed the question, p50 ms |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    stages: dict[str, list[float]] = {}
    for round_number in range(1, args.rounds + 1):
        totals, references = [], []
        for question in questions:
            timings = qa.ask(question).timings_ms
            totals.append(timings["total"])
            for stage, ms in timings.items():
                stages.setdefault(stage, []).append(ms)
            started = time.perf_counter()
            qa.embedder.embed([question])
            references.append((time.perf_counter() - started) * 1000)
        lines.append(
            f"| {round_number} | {percentile(totals, 50):.0f} | {percentile(totals, 95):.0f} | {max(totals):.0f} "
            f"| {statistics.mean(totals):.0f} | {percentile(references, 50):.1f} |"
        )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines += ["", "Where the time goes, p50 over all rounds (parse includes embedding the question; read is the",
              "reader with its span head):", "", "| " + " | ".join(stages) + " |", "| --- " * len(stages) + "|",
              "| " + " | ".join(f"{percentile(ms, 50):.1f}" for ms in stages.values()) + " |",
              "", f"Peak resident memory: {peak_mib:.0f} MiB.", ""]
    lines += cold_start(index_dir, questions[0], args.rounds)
    report = "\n".join(lines) + "\n"
    print(report)
    Path(args.out).write_text("# Latency\n\nReproduce: `.venv/bin/python bench/latency.py`\n\n" + report)


def cold_start(index_dir: Path, question: str, rounds: int) -> list[str]:
    """`rag ask` in a fresh process each time, to the printed answer, beside a fresh Python importing numpy."""
    rag = [str(Path(sys.executable).with_name("rag")), "ask", "--index", str(index_dir), question]
    floor = [sys.executable, "-c", "import numpy"]
    asks, floors, peaks = [], [], []
    for _ in range(rounds + 1):  # the first run warms the page cache and is not counted
        for command, times in ((rag, asks), (floor, floors)):
            started = time.perf_counter()
            child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _, status, usage = os.wait4(child.pid, 0)  # this child's own peak memory, not its siblings'
            times.append(time.perf_counter() - started)
            if command is rag:
                assert os.waitstatus_to_exitcode(status) == 0, "rag ask failed"
                peaks.append(usage.ru_maxrss / 1024)
    peak_mib = max(peaks)
    return [f"Cold start: `rag ask` in a fresh process, to the printed answer, p50 of {rounds}: "
            f"**{statistics.median(asks[1:]):.2f} s** (reference, a fresh Python importing numpy: "
            f"{statistics.median(floors[1:]):.2f} s); peak resident memory of that process {peak_mib:.0f} MiB."]


if __name__ == "__main__":
    main()
