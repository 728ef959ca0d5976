"""Question sets for evaluation: the project's JSON lines format and SQuAD 2.0 files.

A JSON lines set has one ``{"id", "question", "answers", "doc_ids", "type", "split"}`` object per
line; ``answers: []`` marks a question the corpus does not answer, and ``split`` is "train" for the
questions calibration may learn from ("test", the default, is held out). A SQuAD 2.0 file becomes a corpus
with one document per paragraph (doc_id = article title plus paragraph number) and questions typed
by what they ask for.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from rag.errors import CorpusError
from rag.types import Skipped

UNANSWERABLE = "unanswerable"
# The project's corpus and index, which a question set is about unless it brings a corpus of its own.
PROJECT_CORPUS, PROJECT_INDEX = Path("corpus"), Path("index")


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    answers: tuple[str, ...]
    doc_ids: tuple[str, ...]
    type: str
    # "train" questions may be used by `rag calibrate`; "test" (held out) and unmarked ones never are.
    split: str = "test"

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def is_squad(path: str | Path) -> bool:
    """SQuAD files are one JSON document with a "data" list; question sets are JSON lines."""
    return Path(path).suffix.lower() == ".json"


def read_questions(path: str | Path) -> tuple[list[EvalQuestion], list[Skipped]]:
    """Questions from a JSON lines file; malformed lines are reported and skipped."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise CorpusError(f"cannot read question file {path} ({type(error).__name__}); "
                          "give a UTF-8 JSON lines file") from None
    questions, skipped = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            answers = tuple(str(answer) for answer in record.get("answers", []))
            question = EvalQuestion(
                id=str(record.get("id", f"line{number}")),
                question=str(record["question"]),
                answers=answers,
                doc_ids=tuple(str(doc_id) for doc_id in record.get("doc_ids", [])),
                type=str(record.get("type") or (UNANSWERABLE if not answers else "other")),
                split=str(record.get("split", "test")),
            )
            if not question.question.strip():
                raise ValueError("empty question")
            questions.append(question)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            skipped.append(Skipped(f"{path}:{number}",
                                   'not a {"question", "answers", "doc_ids"} object; fix or delete the line'))
    if not questions:
        raise CorpusError(f"no questions in {path}; each line needs a JSON object with a \"question\"")
    return questions, skipped


def question_corpus(path: str | Path, corpus_dir: str | Path | None = None) -> Path:
    """The corpus a question set is about: ``corpus_dir`` when given, else the ``corpus/`` folder beside
    the question file when there is one (eval/news/news-questions.jsonl is about eval/news/corpus), else the
    project's corpus."""
    beside = Path(path).parent / "corpus"
    return Path(corpus_dir) if corpus_dir else beside if beside.is_dir() else PROJECT_CORPUS


def read_squad(
path: str | Path) -> tuple[dict[str, str], list[EvalQuestion]]:
    """(doc_id -> paragraph text, questions) from a SQuAD 2.0 JSON file."""
    from rag.query import answer_type as question_type

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise CorpusError(f"cannot read SQuAD file {path} ({type(error).__name__}); "
                          "give a SQuAD 2.0 JSON file") from None
    paragraphs, questions = {}, []
    for article in data:
        title = re.sub(r"\W+", "_", article["title"]).strip("_")
        for number, paragraph in enumerate(article["paragraphs"]):
            doc_id = f"{title}_{number:03d}"
            paragraphs[doc_id] = paragraph["context"]
            for qa in paragraph["qas"]:
                answerable = not qa.get("is_impossible")
                answers = tuple(dict.fromkeys(a["text"] for a in qa.get("answers", []))) if answerable else ()
                questions.append(EvalQuestion(
                    id=qa["id"], question=qa["question"], answers=answers,
                    doc_ids=(doc_id,) if answerable else (),
                    type=question_type(qa["question"]) if answerable else UNANSWERABLE,
                ))
    return paragraphs, questions


def write_corpus(paragraphs: dict[str, str], corpus_dir: Path) -> Path:
    """Each paragraph as ``doc_id.txt`` in ``corpus_dir``, ready for build_index."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    for doc_id, text in paragraphs.items():
        (corpus_dir / f"{doc_id}.txt").write_text(text + "\n", encoding="utf-8")
    return corpus_dir
