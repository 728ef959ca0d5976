"""Crash safety, tested by crashing: every write (a first build, an update, a rebuild, a compaction,
`rag add`, `rag remove`) is run once to list the write steps it passes (rag.faults), then once per
step in a child process that kills itself with SIGKILL at that step. After each kill the index must
load and answer exactly as it did before the write began, or exactly as it does after the whole
write; the next `rag index` must complete and leave nothing of the killed write behind."""

import os
import shutil
import signal
from pathlib import Path

import pytest

from rag import faults
from rag.answers.answerability import LearnedAnswerability
from rag.answers.model import read_models
from rag.config import Config
from rag.errors import IndexNotFoundError
from rag.indexing.build import build_index
from rag.indexing.index import open_index
from rag.indexing.library import add, remove
from rag.pipeline import QA
from rag.readers import make_reader
from rag.retrieval import HybridRetriever
from tests.conftest import CORPUS, without_timings
from tests.fakes import HashEmbedder

pytestmark = pytest.mark.crash

CONFIG = Config(embedder="hash-embedder", reader="extractive")
QUESTIONS = ("How far did the March 2023 missiles fly?", "When did the Zorblat satellite reach orbit?",
             "Who met Noh Kyu-duk?", "What did North Korea launch in 2022?")
ZORBLAT = "date 2024-01-02\nThe Zorblat satellite reached orbit at 7:40 a.m. on Tuesday, its makers said.\n"
CHANGED, REMOVED = "004_56a94f60d051a7dc", "001_1847a96a2c4d2b8a"


def _edit(corpus: Path) -> None:
    (corpus / "zorblat.txt").write_text(ZORBLAT)
    changed = corpus / f"{CHANGED}.txt"
    changed.write_text(changed.read_text() + "\nAn added closing sentence about the Quibbleton launch site.\n")
    (corpus / f"{REMOVED}.txt").unlink()


def _build(root: Path, **options) -> None:
    build_index(root / "corpus", root / "index", CONFIG, HashEmbedder(), progress=False, **options)


# name: (how to make the starting state in a root folder, the write to kill)
WRITES = {
    "first build": (lambda root: None, _build),
    "update": (lambda root: (_build(root), _edit(root / "corpus")), _build),
    "rebuild": (lambda root: (_build(root), _edit(root / "corpus")), lambda root: _build(root, rebuild=True)),
    "compaction": (lambda root: (_build(root), _edit(root / "corpus")), lambda root: _build(root, compact=True)),
    "rag add": (_build, lambda root: add([root.parent / "incoming" / "zorblat.txt"], root / "corpus", root / "index",
                                         CONFIG, HashEmbedder())),
    "rag remove": (_build, lambda root: remove([REMOVED], root / "corpus", root / "index", CONFIG)),
}


def _answers(index_dir: Path) -> list[dict] | None:
    """What a reader of the index sees: every answer whole (None when there is no index yet). The
    hash embedder retrieves; the answer models are the real ones."""
    try:
        index = open_index(index_dir, CONFIG)
    except IndexNotFoundError:
        return None
    models = read_models()
    qa = QA(HybridRetriever(index, HashEmbedder(), CONFIG), make_reader(CONFIG, models), LearnedAnswerability(models),
            HashEmbedder(), CONFIG)
    try:
        return [without_timings(qa.ask(question).to_dict()) for question in QUESTIONS]
    finally:
        qa.index.close()


def _articles(root: Path) -> dict[str, str]:
    """The corpus's article files and their text (what a build indexes; partial copies are not articles)."""
    return {path.name: path.read_text() for path in (root / "corpus").iterdir() if not path.name.startswith(".")}


def _leftovers(root: Path) -> list[str]:
    found = [path for path in root.iterdir() if path.name.startswith(".index") and path.name != ".index.lock"]
    found += [*(root / "index").glob("*.partial"), *(root / "corpus").glob(".*.part")]
    return sorted(str(path.relative_to(root)) for path in found)


def _killed_at(step: int, write, root: Path) -> bool:
    """Run ``write`` in a forked child that SIGKILLs itself at its ``step``-th write step; True if it died there."""
    child = os.fork()
    if child == 0:
        reached = 0

        def die_at_step(name: str) -> None:
            nonlocal reached
            reached += 1
            if reached == step:
                os.kill(os.getpid(), signal.SIGKILL)

        faults.set_hook(die_at_step)
        try:
            write(root)
        finally:
            os._exit(0)
    _, status = os.waitpid(child, 0)
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


@pytest.mark.parametrize("name", list(WRITES))
def test_a_write_killed_at_each_step_leaves_the_old_or_new_index_whole(name, tmp_path, record_property):
    prepare, write = WRITES[name]
    (tmp_path / "incoming").mkdir()
    (tmp_path / "incoming" / "zorblat.txt").write_text(ZORBLAT)
    template, root = tmp_path / "template", tmp_path / "work"
    shutil.copytree(CORPUS, template / "corpus")
    prepare(template)

    def fresh_copy() -> Path:
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(template, root)
        return root

    before = _answers(fresh_copy() / "index")
    steps: list[str] = []
    faults.set_hook(steps.append)
    try:
        write(root)
    finally:
        faults.set_hook(None)
    after, corpus_after = _answers(root / "index"), _articles(root)
    assert len(steps) >= 6 and before != after

    for step, step_name in enumerate(steps, start=1):
        assert _killed_at(step, write, fresh_copy()), f"the write did not reach step {step} ({step_name})"
        seen = _answered(_answers(root / "index"))
        assert seen in (_answered(before), _answered(after)), f"killed at {step_name!r}: neither the old answers nor the new"
        # The next run indexes what the corpus holds: the write's articles if their files landed (then the
        # same answers as the write not killed), the old ones if it died before (an add cut off mid-copy).
        expected = after if _articles(root) == corpus_after else before
        _build(root)
        assert _gist(_answers(root / "index")) == _gist(expected), f"killed at {step_name!r}: the next run differs"
        assert _leftovers(root) == []  # ...and clears what the killed write left
    record_property("kill_points", len(steps))
    print(f"{name}: killed at {len(steps)} write steps, survived every one: {', '.join(steps)}")


def _answered(answers: list[dict] | None) -> list[dict] | None:
    """Everything an answer says (its text, events, citations, abstention), less scores: an update killed
    after tantivy's commit but before the manifest's leaves new documents in tantivy's BM25 statistics
    (hidden from search) until the next write discards them, which can shift keyword scores."""
    drop = ("probability", "score", "passages")
    return None if answers is None else [{k: v for k, v in answer.items() if k not in drop} for answer in answers]


def _gist(answers: list[dict]) -> list[tuple]:
    """The answers and the sentences they cite; scores may differ between an index updated in place
    and one written whole (keyword statistics count what updates hid)."""
    return [(answer["answer"], answer["abstained"], [(c["doc_id"], c["quote"]) for c in answer["citations"]])
            for answer in answers]
