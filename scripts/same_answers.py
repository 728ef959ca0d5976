"""Are the answers the same as at another commit? Every answer and citation, question by question.

    .venv/bin/python scripts/same_answers.py --before 413fbd2          # compare with that commit
    .venv/bin/python scripts/same_answers.py --dump answers.json       # only write today's answers

For each question of eval/questions.jsonl (over an index of corpus/) and of the SQuAD 2.0 dev subset (over an
index of its paragraphs) it keeps what ``rag ask --json`` prints, timings aside: the answer, whether it was
withheld, its probability, every matching event, every citation with its offsets, and the passages read. The
commit compared with is unpacked into a temporary folder and run by this same interpreter and environment, so
the two runs differ in rag's code alone. Only the public API of both (``rag.build_index``, ``rag.load``,
``Answer.to_dict``) is used. Exit code 1 when any answer differs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from older_rag import unpack, use

ROOT = Path(__file__).resolve().parent.parent
SQUAD = ROOT.parent / "shared" / "bench" / "squad2-dev-subset.json"
IGNORED = ("timings_ms", "score")  # timings vary run to run; "score" was a second name for "probability"


def dump(out: Path, source: Path | None, squad: Path) -> None:
    """Write every answer of both question sets, asked with the rag found in ``source`` (else the installed one)."""
    if source is not None:
        use(source)
    import rag
    from rag.evaluation.dataset import read_squad, write_corpus

    assert source is None or Path(rag.__file__).is_relative_to(source), rag.__file__
    config = rag.Config(reader="extractive")
    answers = {}
    with tempfile.TemporaryDirectory(prefix="same-answers-") as work:
        work = Path(work)
        questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "questions.jsonl").read_text().splitlines()
                     if line.strip()]
        rag.build_index(ROOT / "corpus", work / "index", config, progress=False)
        answers["eval/questions.jsonl"] = _asked(rag.load(work / "index", config), questions)
        paragraphs, squad_questions = read_squad(squad)
        write_corpus(paragraphs, work / "squad-corpus")
        rag.build_index(work / "squad-corpus", work / "squad-index", config, progress=False)
        answers[squad.name] = _asked(rag.load(work / "squad-index", config), [q.question for q in squad_questions])
    out.write_text(json.dumps(answers, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _asked(qa, questions: list[str]) -> list[dict]:
    found = []
    for question in questions:
        answer = qa.ask(question).to_dict()
        found.append({key: value for key, value in answer.items() if key not in IGNORED})
    return found


def compare(before: str, squad: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="same-answers-") as work:
        work = Path(work)
        for name, source in (("before", unpack(before, work / "before")), ("after", None)):
            command = [sys.executable, __file__, "--dump", str(work / f"{name}.json"), "--squad", str(squad)]
            subprocess.run([*command, *(["--source", str(source)] if source else [])], check=True)
        old = json.loads((work / "before.json").read_text(encoding="utf-8"))
        new = json.loads((work / "after.json").read_text(encoding="utf-8"))
    differing = 0
    for name in old:
        changed = [(a, b) for a, b in zip(old[name], new[name]) if a != b]
        differing += len(changed) + abs(len(old[name]) - len(new[name]))
        print(f"{name}: {len(old[name])} questions, {len(changed)} answers differ")
        for a, b in changed[:5]:
            print(f"  {a['question']!r}\n    before: {a['answer']!r} {a['citations'][:1]}\n    after:  {b['answer']!r} {b['citations'][:1]}")
    return 1 if differing else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", help="the commit to compare with")
    parser.add_argument("--dump", type=Path, help="only write today's answers to this JSON file")
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)  # the unpacked rag of the commit compared with
    parser.add_argument("--squad", type=Path, default=SQUAD, help=f"SQuAD 2.0 file (default: {SQUAD})")
    args = parser.parse_args()
    if args.dump:
        dump(args.dump, args.source, args.squad)
        return 0
    if not args.before:
        parser.error("give --before REV or --dump FILE")
    return compare(args.before, args.squad)


if __name__ == "__main__":
    sys.exit(main())
