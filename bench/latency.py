"""Answer latency and memory of `rag ask` on this machine: warm (models loaded) and cold (a fresh process).

    .venv/bin/python bench/latency.py [--questions bench/sample_questions.txt] [--rounds 3] [--out docs/latency.md]
    .venv/bin/python bench/latency.py --before REV      # the same measured for commit REV, side by side

Builds the index of corpus/ in a temporary directory, loads the models once (timed separately),
then asks every question `--rounds` times. Reports p50, p95 and max per round beside a reference
timed in the same round (the embedder encoding the question), the p50 of each stage, and the peak
resident memory. Then runs `rag ask` in fresh processes, beside a fresh Python that imports numpy.

Each round runs in a process of its own that loads the models and asks every question once before it
is timed. With ``--before REV`` each round is measured for both commits, alternately, each over the index of
corpus/ it built (the index format may differ between them), and likewise the cold starts, so that the
machine's drift touches both alike.
"""

from __future__ import annotations

import argparse
import json
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

from scripts.older_rag import command, unpack  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", default=str(REPO / "bench/sample_questions.txt"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", metavar="REV", help="also measure commit REV, round by round beside today's")
    parser.add_argument("--out", default=str(REPO / "docs/latency.md"))
    args = parser.parse_args()
    questions = [line.strip() for line in Path(args.questions).read_text().splitlines() if line.strip()]

    work = Path(tempfile.mkdtemp(prefix="rag-latency-"))
    versions = {"today": None}
    if args.before:
        versions = {args.before: unpack(args.before, work / "before"), "today": None}
    # Each commit answers from an index it built itself: the index format may differ between them.
    indexes = {name: work / f"index-{number}" for number, name in enumerate(versions)}
    for name, source in versions.items():
        started = time.perf_counter()
        # In its own process, so that this one holds only what answering loads (no PyTorch), as `rag serve` does.
        code = (f"import sys; from rag.cli import main; sys.exit(main(['index', '--corpus', {str(REPO / 'corpus')!r}, "
                f"'--index', {str(indexes[name])!r}, '--quiet']))")
        subprocess.run(command(source, code), check=True)
        built = time.perf_counter() - started  # today's, which is built last
    warm_runs = {name: None for name in versions}
    for _ in range(args.rounds):
        for name, source in versions.items():  # alternately, so that the machine's drift touches both alike
            warm_runs[name] = _merged(warm_runs[name], _warm_in_child(source, indexes[name], questions))
    cold_runs = {name: [] for name in versions}
    for _ in range(args.rounds + 1):  # the first run of each warms the page cache and is not counted
        for name, source in versions.items():
            cold_runs[name].append(_cold_ask(source, indexes[name], questions[0]))
    floors = [_cold_floor() for _ in range(args.rounds + 1)]
    report = _report(questions, built, warm_runs, cold_runs, floors, args.rounds)
    print(report)
    Path(args.out).write_text("# Latency\n\nReproduce: `.venv/bin/python bench/latency.py"
                              + (f" --before {args.before}" if args.before else "") + "`\n\n" + report)


def _warm_in_child(source: Path | None, index_dir: Path, questions: list[str]) -> dict:
    code = (f"import json, sys; sys.path.append({str(REPO)!r}); from bench.latency import warm; "
            f"print(json.dumps(warm({str(index_dir)!r}, {questions!r})))")
    output = subprocess.run(command(source, code), check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def _merged(runs: dict | None, run: dict) -> dict:
    """A round added to the rounds so far."""
    if runs is None:
        return run
    stages = {stage: runs["stages"][stage] + ms for stage, ms in run["stages"].items()}
    return {**run, "totals": runs["totals"] + run["totals"], "references": runs["references"] + run["references"],
            "stages": stages, "load_s": max(runs["load_s"], run["load_s"]),
            "peak_mib": max(runs["peak_mib"], run["peak_mib"])}


def warm(index_dir: str, questions: list[str], rounds: int = 1) -> dict:
    """Load the models, ask every question once unmeasured (a process's first questions open files and
    warm caches), then ``rounds`` times: per-round totals, the reference (the embedder encoding the
    question once), every stage's timings, the load time and peak memory."""
    from rag.config import Config
    from rag.pipeline import QA, load

    started = time.perf_counter()
    qa = load(index_dir, Config(reader="extractive"))
    qa = qa.warm_up() if hasattr(QA, "warm_up") else qa.load()  # the name before the restructuring
    loaded = time.perf_counter() - started
    for question in questions:
        qa.ask(question)
    totals, references, stages = [], [], {}
    for _ in range(rounds):
        totals.append([]), references.append([])
        for question in questions:
            timings = qa.ask(question).timings_ms
            totals[-1].append(timings["total"])
            for stage, ms in timings.items():
                stages.setdefault(stage, []).append(ms)
            started = time.perf_counter()
            qa.embedder.embed([question])
            references[-1].append((time.perf_counter() - started) * 1000)
    return {"load_s": loaded, "totals": totals, "references": references, "stages": stages,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "top_k": qa.config.top_k}


def _cold_ask(source: Path | None, index_dir: Path, question: str) -> tuple[float, float]:
    """(seconds, peak MiB) of `rag ask` in a fresh process, to the printed answer."""
    code = f"import sys; from rag.cli import main; sys.exit(main(['ask', '--index', {str(index_dir)!r}, {question!r}]))"
    return _timed(command(source, code))


def _cold_floor() -> float:
    return _timed([sys.executable, "-c", "import numpy"])[0]


def _timed(argv: list[str]) -> tuple[float, float]:
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)  # this child's own peak memory, not its siblings'
    assert os.waitstatus_to_exitcode(status) == 0, f"{argv} failed"
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def _report(questions: list[str], built: float, warm_runs: dict, cold_runs: dict, floors: list[float],
            rounds: int) -> str:
    from rag.evaluation.metrics import percentile

    names = list(warm_runs)
    lines = [
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}. {len(questions)} questions from `sample_questions.txt` or as given, "
        f"extractive reader, top-k {warm_runs['today']['top_k']}.", "",
        f"- index build of corpus/ (`rag index`, model load included): {built:.1f} s",
        *[f"- loading index and models ({name}), the slowest of the rounds: {warm_runs[name]['load_s']:.1f} s"
          for name in names], "",
        "The reference column is the embedder encoding the same question once, timed in the same round:",
        "a machine that is busier or slower moves both.", "",
        "| code | round | p50 ms | p95 ms | max ms | mean ms | reference: embed the question, p50 ms |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for number in range(rounds):
        for name in names:
            totals, references = warm_runs[name]["totals"][number], warm_runs[name]["references"][number]
            lines.append(f"| {name} | {number + 1} | {percentile(totals, 50):.0f} | {percentile(totals, 95):.0f} | "
                         f"{max(totals):.0f} | {statistics.mean(totals):.0f} | {percentile(references, 50):.1f} |")
    stages = list(warm_runs["today"]["stages"])
    lines += ["", "Where the time goes, p50 over all rounds (parse includes embedding the question; read is the",
              "reader with its span head):", "", "| code | " + " | ".join(stages) + " |",
              "| --- " * (len(stages) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(f"{percentile(warm_runs[name]['stages'][stage], 50):.1f}" for stage in stages)
              + " |" for name in names]
    lines += ["", "Peak resident memory, warm: " + ", ".join(f"{name} {warm_runs[name]['peak_mib']:.0f} MiB"
                                                              for name in names) + ".", ""]
    for name in names:
        seconds = [run[0] for run in cold_runs[name][1:]]
        lines.append(f"Cold start ({name}): `rag ask` in a fresh process, to the printed answer, p50 of {rounds}: "
                     f"**{statistics.median(seconds):.2f} s**; peak resident memory "
                     f"{max(run[1] for run in cold_runs[name]):.0f} MiB.")
    lines.append(f"Reference: a fresh Python importing numpy, {statistics.median(floors[1:]):.2f} s.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
