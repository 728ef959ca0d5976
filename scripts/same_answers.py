"""Does today's code build the same indexes and give the same answers as another commit's?

    .venv/bin/python scripts/same_answers.py --before 413fbd2

Two corpora: corpus/ (asked eval/questions.jsonl) and the SQuAD 2.0 dev subset's paragraphs (asked its
questions). Each commit builds its own index of each; the two builds must hold the same documents,
chunks, keys, sentences (typed spans, event dates, vectors) and chunk vectors. Then both commits answer
every question from the same indexes, and what ``rag ask --json`` prints must be the same, timings
aside: answer, withheld or not, probability, every matching event, every citation with its offsets, the
passages read with their scores. The two answer from one index because the keyword index is not the
same file twice: tantivy's writer spreads chunks over its threads, so BM25 ties come back in an order that
varies from build to build (with either commit's code), and with them a passage now and then.

The commit compared with is unpacked into a temporary folder and run by this same interpreter and
environment (scripts/older_rag.py), so the two differ in rag's code alone. Exit code 1 when anything differs.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from older_rag import unpack, use

ROOT = Path(__file__).resolve().parent.parent
SQUAD = ROOT.parent / "shared" / "bench" / "squad2-dev-subset.json"
IGNORED = ("timings_ms", "score")  # timings vary run to run; "score" was a second name for "probability"
TABLES = {  # what a build stores, in a stable order (the chunk store's rows, generations aside)
    "documents": "doc_id, title, date, source, url, path, content_hash, text, date_evidence, author, signature",
    "chunks": 'chunk_key, chunk_id, doc_id, start, "end", text',
    "sentences": 'sentence_id, doc_id, start, "end", text, spans, dates, vector',
    "event_dates": "doc_id, position, first, last",
    "bands": "doc_id, band",
}


def build(work: Path, squad: Path) -> None:
    """Both indexes, built by the rag that ``import rag`` finds."""
    import rag
    from rag.evaluation.dataset import read_squad, write_corpus

    config = rag.Config(reader="extractive")
    rag.build_index(ROOT / "corpus", work / "eval-index", config, progress=False)
    corpus = work.parent / "squad-corpus"  # one for both commits' builds: the documents keep their paths
    if not corpus.exists():
        write_corpus(read_squad(squad)[0], corpus)
    rag.build_index(corpus, work / "squad-index", config, progress=False)


def ask(indexes: Path, squad: Path, out: Path) -> None:
    """Every answer of both question sets from the indexes in ``indexes``, by the rag ``import rag`` finds."""
    import rag
    from rag.evaluation.dataset import read_squad

    config = rag.Config(reader="extractive")
    eval_questions = [json.loads(line)["question"] for line in (ROOT / "eval/questions.jsonl").read_text().splitlines()
                      if line.strip()]
    squad_questions = [question.question for question in read_squad(squad)[1]]
    answers = {"eval/questions.jsonl": _asked(rag.load(indexes / "eval-index", config), eval_questions),
               squad.name: _asked(rag.load(indexes / "squad-index", config), squad_questions)}
    out.write_text(json.dumps(answers, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _asked(qa, questions: list[str]) -> list[dict]:
    return [{key: value for key, value in qa.ask(question).to_dict().items() if key not in IGNORED}
            for question in questions]


def stored(index: Path) -> dict:
    """What a build stored: the chunk store's rows and the FAISS vectors by chunk key."""
    import faiss

    database = sqlite3.connect(index / "chunks.sqlite")
    rows = {table: database.execute(f"SELECT {columns} FROM {table} ORDER BY {columns}").fetchall()
            for table, columns in TABLES.items()}
    vectors = faiss.read_index(str(index / "vectors.faiss"))
    keys = faiss.vector_to_array(vectors.id_map)
    matrix = vectors.index.reconstruct_n(0, vectors.ntotal)
    rows["vectors"] = sorted(zip(keys.tolist(), (row.tobytes() for row in matrix), strict=True))
    return rows


def compare(before: str, squad: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="same-answers-") as work:
        work = Path(work)
        old_code = unpack(before, work / "code")
        runs = {"before": old_code, "after": None}
        for name, source in runs.items():
            _child(source, "--build", work / name, squad)
        differing = 0
        for corpus in ("eval-index", "squad-index"):
            old, new = stored(work / "before" / corpus), stored(work / "after" / corpus)
            changed = [part for part in old if old[part] != new[part]]
            differing += len(changed)
            print(f"{corpus}: {sum(map(len, old.values())):,} stored rows, "
                  + (f"differ in {', '.join(changed)}" if changed else "the same"))
        for name, source in runs.items():
            _child(source, "--ask", work / "after", squad, work / f"{name}.json")
        old = json.loads((work / "before.json").read_text(encoding="utf-8"))
        new = json.loads((work / "after.json").read_text(encoding="utf-8"))
    for name in old:
        changed = [(a, b) for a, b in zip(old[name], new[name], strict=True) if a != b]
        differing += len(changed)
        print(f"{name}: {len(old[name])} questions, {len(changed)} answers differ")
        for a, b in changed[:5]:
            fields = ", ".join(key for key in a if a[key] != b.get(key))
            print(f"  {a['question']!r} ({fields} differ)\n    before: {a['answer']!r}, probability {a['probability']}"
                  f"\n    after:  {b['answer']!r}, probability {b['probability']}")
    return 1 if differing else 0


def _child(source: Path | None, mode: str, directory: Path, squad: Path, out: Path | None = None) -> None:
    command = [sys.executable, __file__, mode, str(directory), "--squad", str(squad)]
    command += ["--out", str(out)] if out else []
    subprocess.run([*command, *(["--source", str(source)] if source else [])], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", help="the commit to compare with")
    parser.add_argument("--squad", type=Path, default=SQUAD, help=f"SQuAD 2.0 file (default: {SQUAD})")
    # The child processes': build the indexes into DIR, or answer from those in DIR into --out.
    parser.add_argument("--build", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--ask", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)  # the unpacked rag of the commit compared with
    args = parser.parse_args()
    if args.source:
        use(args.source)
    if args.build:
        build(args.build, args.squad)
        return 0
    if args.ask:
        ask(args.ask, args.squad, args.out)
        return 0
    if not args.before:
        parser.error("give --before REV")
    return compare(args.before, args.squad)


if __name__ == "__main__":
    sys.exit(main())
