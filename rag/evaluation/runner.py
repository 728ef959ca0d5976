"""What `rag eval` does: open question sets, calibrate, evaluate, write the outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rag.config import Config
from rag.evaluation.dataset import (
    PROJECT_CORPUS,
    PROJECT_INDEX,
    EvalQuestion,
    is_squad,
    question_corpus,
    read_questions,
    read_squad,
    write_corpus,
)
from rag.evaluation.harness import QuestionResult, Summary, ask_all, calibrate, evaluate, sweep
from rag.evaluation.report import write_outputs
from rag.indexing.build import build_index
from rag.indexing.manifest import exists
from rag.pipeline import QA, load
from rag.types import Skipped


@dataclass
class QuestionSet:
    name: str
    questions: list[EvalQuestion]
    qa: QA
    skipped: list[Skipped] = field(default_factory=list)


@dataclass
class Evaluation:
    summaries: dict[str, Summary]
    results: dict[str, list[QuestionResult]]
    calibration: dict | None
    outputs: list[Path]
    skipped: list[Skipped]


def open_set(path: str | Path, config: Config, workdir: Path, index_dir: Path | None, corpus_dir: Path | None,
             progress: bool, split: str = "all") -> QuestionSet:
    """A SQuAD file gets its own temporary index of its paragraphs. A JSON lines set is about
    ``corpus_dir``, or the corpus beside it (rag.evaluation.dataset.question_corpus): the project's is
    read through ``index_dir`` (default index/, built if missing), another through ``index_dir`` when
    given, else a temporary index of it."""
    path = Path(path)
    if is_squad(path):
        paragraphs, questions = read_squad(path)
        corpus = write_corpus(paragraphs, workdir / path.stem / "corpus")
        build_index(corpus, workdir / path.stem / "index", config, progress=progress)
        return QuestionSet(path.stem, questions, load(workdir / path.stem / "index", config))
    questions, skipped = read_questions(path)
    questions = [q for q in questions if split == "all" or q.split == split]
    corpus = question_corpus(path, corpus_dir)
    own_corpus = corpus.resolve() != PROJECT_CORPUS.resolve()
    index_dir = index_dir or (workdir / path.stem / "index" if own_corpus else PROJECT_INDEX)
    if not exists(index_dir):
        build_index(corpus, index_dir, config, progress=progress)
    return QuestionSet(path.stem, questions, load(index_dir, config), skipped)


def run(paths: list[str], config: Config, out_dir: Path, workdir: Path, index_dir: Path | None, corpus_dir: Path | None,

        calibrate_on: str | None = None, progress: bool = True, split: str = "all") -> Evaluation:
    skipped: list[Skipped] = []
    calibration = None
    if calibrate_on:
        unthresholded = config.replace(abstain_threshold=0.0)
        calibration_set = open_set(calibrate_on, unthresholded, workdir, index_dir, corpus_dir, progress)
        skipped += calibration_set.skipped
        results = ask_all(calibration_set.qa, calibration_set.questions, progress)
        calibration = {"set": calibration_set.name, **calibrate(results), "sweep": sweep(results)}
        config = config.replace(abstain_threshold=calibration["threshold"])

    summaries, all_results = {}, {}
    for path in paths:
        question_set = open_set(path, config, workdir, index_dir, corpus_dir, progress, split)
        skipped += question_set.skipped
        report = evaluate(question_set.qa, question_set.questions, progress)
        all_results[question_set.name], summaries[question_set.name] = list(report.results), report.summary

    settings = {
        "reader": config.reader, "model": config.seq2seq_model if config.reader != "extractive" else None,
        "embedder": config.embedder, "top_k": config.top_k, "abstain_threshold": config.abstain_threshold,
        "calibrated_on": calibration["set"] if calibration else None, "split": split,
    }
    outputs = write_outputs(out_dir, summaries, all_results, settings)
    return Evaluation(summaries, all_results, calibration, outputs, skipped)
