"""The chat page under load: concurrent clients against its API, answers checked, memory watched.

    .venv/bin/python bench/load.py [--clients 1,16,64] [--questions-per-level 640] [--soak 10000]
                                   [--concurrency 2] [--queue-size 256] [--out docs/load.md]

Builds the index of corpus/ in a temporary folder, serves it with `rag serve` exactly as a newsroom
would (same defaults), and asks every question once with one client: those answers are the
reference. Then, for each client count, that many clients ask questions from the set (each
question many times) as fast as they get answers, over plain HTTP (Gradio's /gradio_api/call/ask,
the endpoint `gradio_client` uses). Every answer is compared with the single-user answer
(everything but the timings); a timeout, an HTTP error or Gradio error event counts as an error.
Reports throughput, p50/p95/p99 latency as a client sees it, errors, wrong answers, and the
server's resident memory (VmRSS from /proc) sampled every half second. The soak asks ``--soak``
questions with 16 clients and reports memory after warm-up (its first fifth) and at the end.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rag.evaluation.metrics import percentile  # noqa: E402

TIMEOUT = 120.0  # seconds a client waits for one answer before counting an error


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", default="1,16,64", help="client counts, comma-separated (default: 1,16,64)")
    parser.add_argument("--questions-per-level", type=int, default=640, help="questions asked at each client count")
    parser.add_argument("--soak", type=int, default=10_000, help="questions in the soak run (0: none)")
    parser.add_argument("--soak-clients", type=int, default=16)
    parser.add_argument("--concurrency", type=int, default=2, help="rag serve --concurrency (default: its default, 2)")
    parser.add_argument("--queue-size", type=int, default=256, help="rag serve --queue-size (default: its default, 256)")
    parser.add_argument("--index", help="serve this index (default: build one of corpus/ in a temporary folder)")
    parser.add_argument("--out", default=str(REPO / "docs/load.md"))
    args = parser.parse_args(argv)
    questions = _questions()
    index_dir = Path(args.index) if args.index else _build_index()

    with Server(index_dir, args.concurrency, args.queue_size) as server:
        memory = MemoryWatch(server.pid)
        reference, single = {}, []
        for question in questions:  # one client, every question once: the reference answers
            started = time.perf_counter()
            reference[question] = _comparable(server.ask(question))
            single.append((time.perf_counter() - started) * 1000)
        levels = [_run(server, questions, reference, clients, args.questions_per_level, memory)
                  for clients in map(int, args.clients.split(","))]
        soak = _soak(server, questions, reference, args.soak_clients, args.soak, memory) if args.soak else None
        memory.stop()
    results = {"machine": f"{platform.processor() or platform.machine()}, {_cores()} cores, Python {platform.python_version()}",
               "server": {"concurrency": args.concurrency, "queue_size": args.queue_size},
               "questions": len(questions), "single_user_p50_ms": statistics.median(single), "levels": levels,
               "soak": soak, "memory": memory.samples}
    _write(results, Path(args.out), " ".join(["bench/load.py", *(argv if argv is not None else sys.argv[1:])]))
    return results


class Server:
    """`rag serve` on a free local port, in its own process."""

    def __init__(self, index_dir: Path, concurrency: int, queue_size: int):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.command = [sys.executable, "-m", "rag.cli", "serve", "--index", str(index_dir), "--corpus", str(REPO / "corpus"),
                        "--port", str(self.port), "--concurrency", str(concurrency), "--queue-size", str(queue_size)]
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(self.command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.pid = self.process.pid
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"rag serve exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                urllib.request.urlopen(self.url, timeout=2).read()
                return self
            except OSError:
                time.sleep(0.5)
        raise SystemExit("rag serve did not start within 300 s")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)

    def ask(self, question: str) -> dict:
        """One question through the API, as a client: post it, then read the event stream to its end."""
        body = json.dumps({"data": [question, 5, "", "", "auto", ""]}).encode()
        request = urllib.request.Request(f"{self.url}/gradio_api/call/ask", body, {"Content-Type": "application/json"})
        event_id = json.loads(urllib.request.urlopen(request, timeout=TIMEOUT).read())["event_id"]
        with urllib.request.urlopen(f"{self.url}/gradio_api/call/ask/{event_id}", timeout=TIMEOUT) as stream:
            event = None
            for line in stream:
                line = line.decode().strip()
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    if event == "error":
                        raise RuntimeError(f"the server answered with an error: {line[5:].strip()[:200]}")
                    return json.loads(line[5:])[0]
        raise RuntimeError("the event stream ended without an answer")


class MemoryWatch:
    """The server's resident memory every half second, with the questions answered so far."""

    def __init__(self, pid: int):
        self.pid, self.answered, self.samples = pid, 0, []
        self._stop = threading.Event()
        self._started = time.monotonic()
        threading.Thread(target=self._watch, daemon=True).start()

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            self.samples.append((round(time.monotonic() - self._started, 1), self.answered, round(self.rss_mb(), 1)))

    def stop(self) -> None:
        self._stop.set()


def _run(server: Server, questions: list[str], reference: dict, clients: int, total: int, memory: MemoryWatch) -> dict:
    """``clients`` threads asking ``total`` questions between them, each as soon as its last was answered."""
    queue = itertools.islice(itertools.cycle(questions), total)
    taking = threading.Lock()
    latencies, wrong, errors, examples = [], 0, 0, []
    rss_before = memory.rss_mb()

    def client() -> None:
        nonlocal wrong, errors
        while True:
            with taking:
                question = next(queue, None)
            if question is None:
                return
            started = time.perf_counter()
            try:
                answer = _comparable(server.ask(question))
            except Exception as error:  # every failure a client can see counts
                with taking:
                    errors += 1
                    examples.append(f"{question}: {type(error).__name__}: {error}"[:300])
                continue
            with taking:
                latencies.append((time.perf_counter() - started) * 1000)
                memory.answered += 1
                if answer != reference[question]:
                    wrong += 1
                    examples.append(f"{question}: answered {answer.get('answer')!r}, alone {reference[question].get('answer')!r}")

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    result = {"clients": clients, "questions": total, "seconds": round(wall, 1),
              "throughput_qps": round(len(latencies) / wall, 2),
              "p50_ms": round(percentile(latencies, 50)), "p95_ms": round(percentile(latencies, 95)),
              "p99_ms": round(percentile(latencies, 99)), "wrong": wrong, "errors": errors,
              "rss_mb_before": round(rss_before), "rss_mb_after": round(memory.rss_mb()), "examples": examples[:5]}
    print(json.dumps({key: value for key, value in result.items() if key != "examples"}), flush=True)
    return result


def _soak(server: Server, questions: list[str], reference: dict, clients: int, total: int, memory: MemoryWatch) -> dict:
    """The run, with memory once the first fifth of it is answered (caches and Gradio's bounded
    session store filled: docs/load.png shows the curve) against memory at the end and at its peak."""
    start = memory.answered
    warm_up = total // 5
    run = _run(server, questions, reference, clients, total, memory)
    after = [rss for _, answered, rss in memory.samples if answered >= start + warm_up]
    warm = after[0] if after else run["rss_mb_before"]
    return {**run, "rss_mb_after_warm_up": round(warm), "rss_mb_peak_after_warm_up": round(max(after, default=warm)),
            "warm_up_questions": warm_up, "growth_after_warm_up_pct": round(100 * (run["rss_mb_after"] - warm) / warm, 1)}


def _comparable(answer: dict) -> dict:
    return {key: value for key, value in answer.items() if key != "timings_ms"}


def _questions() -> list[str]:
    lines = (REPO / "bench/sample_questions.txt").read_text().splitlines()
    asked = [json.loads(line)["question"] for line in (REPO / "eval/questions.jsonl").read_text().splitlines() if line.strip()]
    return list(dict.fromkeys([line.strip() for line in lines if line.strip()] + asked))


def _build_index() -> Path:
    from rag.config import Config
    from rag.indexing.build import build_index

    index_dir = Path(tempfile.mkdtemp(prefix="rag-load-")) / "index"
    build_index(REPO / "corpus", index_dir, Config(), progress=False)
    return index_dir


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


def _write(results: dict, out: Path, command: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    server = results["server"]
    lines = [
        "# The chat page under load",
        "",
        f"Measured with `.venv/bin/python {command}` on {results['machine']}: `rag serve` with "
        f"`--concurrency {server['concurrency']} --queue-size {server['queue_size']}` (its defaults), over the index of "
        f"corpus/, {results['questions']} distinct questions asked round-robin. Latency is what a client sees "
        "(HTTP post, queue, answer, event stream). Reference in the same run: one client asking each question "
        f"once, p50 **{results['single_user_p50_ms']:.0f} ms**. A wrong answer is any answer that differs from "
        "that single-user answer in anything but its timings.",
        "",
        "| clients | questions | throughput (q/s) | p50 ms | p95 ms | p99 ms | wrong | errors | server RSS before → after (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for level in results["levels"] + ([results["soak"]] if results["soak"] else []):
        lines.append(f"| {level['clients']} | {level['questions']:,} | {level['throughput_qps']:.1f} | {level['p50_ms']} | "
                     f"{level['p95_ms']} | {level['p99_ms']} | {level['wrong']} | {level['errors']} | "
                     f"{level['rss_mb_before']} → {level['rss_mb_after']} |")
    if results["soak"]:
        soak = results["soak"]
        lines += ["", f"Soak (last row): {soak['questions']:,} questions from {soak['clients']} clients; server memory "
                      f"{soak['rss_mb_after_warm_up']} MB after the first {soak['warm_up_questions']:,} (warm-up), "
                      f"{soak['rss_mb_after']} MB at the end (**{soak['growth_after_warm_up_pct']:+.1f}%**), "
                      f"{soak['rss_mb_peak_after_warm_up']} MB at most in between. Memory over time: `load.json` "
                      "(seconds, questions answered, RSS MB), plotted in `load.png`."]
        _plot(results["memory"], out.with_suffix(".png"))
    problems = [example for level in results["levels"] + ([results["soak"]] if results["soak"] else [])
                for example in level["examples"]]
    if problems:
        lines += ["", "First problems seen:", "", *[f"- {problem}" for problem in problems[:10]]]
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


def _plot(samples: list, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 3.2))
    axis.plot([answered for _, answered, _ in samples], [rss for _, _, rss in samples])
    axis.set_xlabel("questions answered")
    axis.set_ylabel("server RSS (MB)")
    axis.set_ylim(bottom=0)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


if __name__ == "__main__":
    main()
