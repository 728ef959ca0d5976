"""Replicas: `rag serve` processes over one index on a Milvus server, bench/load.py's clients across them.

    .venv/bin/python bench/replicas.py [--replicas 2] [--clients 16] [--questions 640]
                                       [--store milvus://HOST:PORT] [--out docs/replicas.md]

Without --store, starts the server extra's Milvus standalone (2.3.5) on a free local port for the run.
Builds the index of corpus/ there, starts ``--replicas`` `rag serve` processes over it (the same index
folder: its manifest, and on a 2.3 server its keyword index), and asks every question once of the first
alone: those answers are the reference, and every other replica must give the same. Then, with one
replica and with all of them, ``--clients`` clients ask ``--questions`` questions (bench/load.py's
clients: each asks as soon as its last was answered, every answer compared with the reference), each
question going to the next replica in turn.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.load import MemoryWatch, Server, _comparable, _cores, _questions, _run  # noqa: E402


class Spread:
    """Questions to the replicas in turn, as a round-robin load balancer sends them."""

    def __init__(self, servers: list[Server]):
        self.servers = servers
        self._turn = itertools.count()

    def ask(self, question: str) -> dict:
        return self.servers[next(self._turn) % len(self.servers)].ask(question)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--questions", type=int, default=640)
    parser.add_argument("--store", help="a Milvus server URI (default: start the server extra's for the run)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "replicas.md")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="rag-replicas-"))
    milvus = None
    if args.store is None:
        from milvus import default_server as milvus

        milvus.set_base_dir(str(work / "milvus"))
        milvus.listen_port = _free_port()
        milvus.start()
        args.store = f"milvus://127.0.0.1:{milvus.listen_port}"
    try:
        results = _measure(args, work / "index")
    finally:
        if milvus is not None:
            milvus.stop()
    _write(args, results)
    return results


def _measure(args, index_dir: Path) -> dict:
    from rag.config import Config
    from rag.indexing.build import build_index

    build_index(REPO / "corpus", index_dir, Config(vector_store=args.store), progress=False)
    questions = _questions()
    servers = [Server(index_dir, 2, 256) for _ in range(args.replicas)]
    for server in servers:
        server.__enter__()
    try:
        memory = MemoryWatch(servers[0].pid)
        reference, single = {}, []
        for question in questions:
            started = time.perf_counter()
            reference[question] = _comparable(servers[0].ask(question))
            single.append((time.perf_counter() - started) * 1000)
        disagreements = sum(_comparable(server.ask(question)) != reference[question]
                            for server in servers[1:] for question in questions)
        levels = [_run(Spread(servers[:count]), questions, reference, args.clients, args.questions, memory)
                  for count in sorted({1, args.replicas})]
        memory.stop()
    finally:
        for server in servers:
            server.__exit__(None, None, None)
    return {"questions": len(questions), "single_p50_ms": statistics.median(single), "disagreements": disagreements,
            "levels": levels}


def _write(args, results: dict) -> None:
    machine = f"{platform.processor() or platform.machine()}, {_cores()} cores, Python {platform.python_version()}"
    lines = [
        "# Replicas over one index on a Milvus server", "",
        f"`.venv/bin/python bench/replicas.py --replicas {args.replicas} --clients {args.clients} --questions "
        f"{args.questions}` on {machine}, {time.strftime('%Y-%m-%d')}: the index of corpus/ on the server extra's "
        "Milvus 2.3.5 standalone (vectors and chunk store on the server, tantivy keywords in the shared index "
        f"folder), `rag serve` replicas with their defaults, {results['questions']} distinct questions. One client "
        f"asking each question once of the first replica: p50 **{results['single_p50_ms']:.0f} ms** (the "
        f"reference answers); every other replica asked every question: **{results['disagreements']}** answers "
        "differed from the reference.", "",
        "| replicas | clients | questions | throughput (q/s) | p50 ms | p95 ms | p99 ms | wrong | errors |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for count, level in zip(sorted({1, args.replicas}), results["levels"], strict=True):
        lines.append(f"| {count} | {level['clients']} | {level['questions']:,} | {level['throughput_qps']:.1f} | "
                     f"{level['p50_ms']} | {level['p95_ms']} | {level['p99_ms']} | {level['wrong']} | "
                     f"{level['errors']} |")
    problems = [example for level in results["levels"] for example in level["examples"]]
    if problems:
        lines += ["", "First problems seen:", "", *[f"- {problem}" for problem in problems[:10]]]
    args.out.write_text("\n".join(lines) + "\n")
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out}")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    main()
