"""SQuAD 2.0 files as a corpus and a question set: one document per paragraph.

doc_id is the article title plus the paragraph number ("Normans_003"); each question keeps its
gold answers (empty for unanswerable ones) and the paragraph it was written on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from rag.errors import CorpusError


@dataclass(frozen=True)
class SquadQuestion:
    id: str
    question: str
    answers: tuple[str, ...]
    doc_id: str


def read_squad(path: str | Path) -> tuple[dict[str, str], list[SquadQuestion]]:
    """(doc_id -> paragraph text, questions) from a SQuAD 2.0 JSON file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    except (OSError, json.JSONDecodeError, KeyError) as error:
        raise CorpusError(f"cannot read SQuAD file {path} ({type(error).__name__}); give a SQuAD 2.0 JSON file") from None
    paragraphs, questions = {}, []
    for article in data:
        title = re.sub(r"\W+", "_", article["title"]).strip("_")
        for number, paragraph in enumerate(article["paragraphs"]):
            doc_id = f"{title}_{number:03d}"
            paragraphs[doc_id] = paragraph["context"]
            for qa in paragraph["qas"]:
                answers = tuple(dict.fromkeys(a["text"] for a in qa.get("answers", [])))
                questions.append(SquadQuestion(qa["id"], qa["question"], () if qa.get("is_impossible") else answers, doc_id))
    return paragraphs, questions


def write_corpus(paragraphs: dict[str, str], corpus_dir: Path) -> Path:
    """Each paragraph as ``doc_id.txt`` in ``corpus_dir``, ready for build_index."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    for doc_id, text in paragraphs.items():
        (corpus_dir / f"{doc_id}.txt").write_text(text + "\n", encoding="utf-8")
    return corpus_dir
