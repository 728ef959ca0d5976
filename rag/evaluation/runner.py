"""What `rag eval` does: open question sets, calibrate, evaluate, write the outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rag.config import Config
from rag.evaluation.dataset import EvalQuestion, is_squad, read_questions, read_squad, write_corpus
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


def open_set(path: str | Path, config: Config, workdir: Path, index_dir: Path, corpus_dir: Path,
             progress: bool, split: str = "all") -> QuestionSet:
    """A SQuAD file gets its own temporary index of its paragraphs; a JSON lines set uses the project index."""
    path = Path(path)
    if is_squad(path):
        paragraphs, questions = read_squad(path)
        corpus = write_corpus(paragraphs, workdir / path.stem / "corpus")
        build_index(corpus, workdir / path.stem / "index", config, progress=progress)
        return QuestionSet(path.stem, questions, load(workdir / path.stem / "index", config))
    questions, skipped = read_questions(path)
    questions = [q for q in questions if split == "all" or q.split == split]
    if not exists(index_dir):
        build_index(corpus_dir, index_dir, config, progress=progress)
    return QuestionSet(path.stem, questions, load(index_dir, config), skipped)


def run(paths: list[str], config: Config, out_dir: Path, workdir: Path, index_dir: Path, corpus_dir: Path,
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
