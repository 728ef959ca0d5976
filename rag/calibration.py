"""Fitting the candidate ranker and the answerability model (`rag calibrate`).

Training data: SQuAD 2.0 training articles (their answer spans say which candidate is right),
asked open-corpus against an index of all their paragraphs, and asked again with the gold
paragraph taken away, which gives evidence that does not answer; plus the training split of a
project question set. Nothing measured later (the SQuAD development subset, the held-out split)
is read here.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from rag.answers.answerability import evidence
from rag.answers.candidates import candidates
from rag.answers.features import EVIDENCE, EVIDENCE_SIGNS, FEATURES
from rag.answers.model import AnswerModels, LogisticModel
from rag.answers.span_head import head_path
from rag.answers.span_training import train_head
from rag.config import Config
from rag.evaluation.dataset import EvalQuestion, question_corpus, read_questions, read_squad, write_corpus
from rag.evaluation.metrics import best_f1, strictly_right
from rag.indexing.build import build_index
from rag.indexing.index import open_index
from rag.ingest.sentences import sentence_spans
from rag.models.embedders import make_embedder
from rag.query import is_name, is_number, parse_query
from rag.retrieval import HybridRetriever
from rag.text import QUESTION_WORDS, WORD
from rag.types import Candidate

# The SQuAD articles are asked in this many parts, each by a span head trained on the others; five
# parts, whose heads are closer to the shipped one, scored no better and took twice as long.
FOLDS = 2
# A candidate counts as the answer when its words overlap a gold answer this much (token F1).
POSITIVE_F1 = 0.5
# The news questions of the eval set's training split are few beside SQuAD's thousands; together
# they weigh this share of the answerability fit, so that news evidence is not drowned out.
NEWS_SHARE = 0.5
# best_threshold judges a threshold by the accuracy of those this close to it.
SMOOTHING = 0.05
# The kind of the unanswerable questions made by swapping a name (near_misses).
NEAR_MISS = "near miss"
# Where a word of rag.text.WORD starts and ends: no word character, apostrophe or hyphen beside it.
_WORD_START, _WORD_END = r"(?<![\w'’-])", r"(?![\w'’-])"


@dataclass(frozen=True)
class Example:
    """One question asked once: its candidates and whether each is right."""

    question: EvalQuestion
    found: list[Candidate]
    labels: list[bool]
    hits: list
    source: str  # "squad" or "news"


def collect(questions: list[EvalQuestion], retriever, embedder, span_head, top_k: int, withhold_gold: bool,
            source: str, progress: bool = True) -> list[Example]:
    """Ask every question (``withhold_gold``: without its gold articles) and label the candidates."""
    from tqdm import tqdm

    vectors = embedder.embed([question.question for question in questions])
    examples = []
    asked = list(zip(questions, vectors, strict=True))
    for question, vector in tqdm(asked, desc="Asking", unit="question", disable=not progress):
        query = dataclasses.replace(parse_query(question.question), vector=vector)
        hits = retriever.search(query, top_k + (len(question.doc_ids) if withhold_gold else 0))
        if withhold_gold:
            hits = [hit for hit in hits if hit.chunk.doc_id not in question.doc_ids][:top_k]
        found = candidates(query, hits, span_head)
        labels = [_right(candidate, question) for candidate in found]
        examples.append(Example(question, found, labels, hits, source))
    return examples


def _right(candidate: Candidate, question: EvalQuestion) -> bool:
    return (question.answerable and candidate.sentence.doc_id in question.doc_ids
            and best_f1(candidate.text, question.answers) >= POSITIVE_F1)


def fit(examples: list[Example], span_head, trained_on: dict) -> AnswerModels:
    """The ranker from every candidate of questions that have a right one; then answerability from
    the ranked best candidate of every example (right, and cited in a gold article, or not)."""
    groups = [(np.array([c.features.row() for c in e.found]), np.array(e.labels)) for e in examples
              if any(e.labels) and not all(e.labels)]
    ranker = LogisticModel.fit_pairwise(FEATURES, groups)

    rows, answerable, unanswerable, sources, made = [], [], [], [], []
    for example in examples:
        if not example.found:
            continue
        scores = ranker.probabilities(np.array([c.features.row() for c in example.found]))
        order = np.argsort(-scores, kind="stable")
        ranked = [dataclasses.replace(example.found[i], score=float(scores[i])) for i in order]
        if example.question.type == NEAR_MISS and ranked[0].sentence.doc_id not in example.question.doc_ids:
            continue  # cited elsewhere, where the swapped-in name may well be answered: not known to be wrong
        query = parse_query(example.question.question)
        rows.append(evidence(query, ranked, example.hits).row())
        best = ranked[0]
        answerable.append(example.question.answerable and strictly_right(
            best.text, example.question.answers, [best.sentence.doc_id], example.question.doc_ids))
        gold_present = any(hit.chunk.doc_id in example.question.doc_ids for hit in example.hits)
        unanswerable.append(not (example.question.answerable and gold_present))
        sources.append(example.source)
        made.append(example.question.type == NEAR_MISS)
    news, made = np.array(sources) == "news", np.array(made)
    weights = np.ones(len(rows))
    if news.any() and (~news).any():
        weights[news] = NEWS_SHARE / (1 - NEWS_SHARE) * (~news).sum() / news.sum()
    judge = LogisticModel.fit(EVIDENCE, np.array(rows), np.array(answerable), weights, signs=EVIDENCE_SIGNS)
    probabilities = judge.probabilities(np.array(rows))
    # The threshold is chosen on questions as they were asked: the made near misses teach answerability
    # what a swapped name looks like, but their number is ours to choose and would move the threshold.
    domains = [mask for mask in (news & ~made, ~news & ~made) if mask.any()]
    right, none = np.array(answerable), np.array(unanswerable)
    threshold = best_threshold([(probabilities[m], right[m], none[m]) for m in domains])
    summary = {
        **trained_on,
        "fitted": date.today().isoformat(),
        "ranker_questions": len(groups), "ranker_candidates": int(sum(len(rows) for rows, _ in groups)),
        "answerability_rows": len(rows), "answerability_positives": int(sum(answerable)),
    }
    return AnswerModels(ranker, judge, span_head, threshold, summary)


def best_threshold(domains: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> float:
    """The threshold with the highest strict accuracy, averaged over the domains (news, SQuAD) so
    that neither's mix of answerable questions decides alone: an answer given counts when right,
    one withheld counts when the evidence held none. Each threshold is judged by the accuracy around
    it (within SMOOTHING): the news questions are about a hundred, so a peak one or two of them make
    by crossing at one point is noise, and the next span head's threshold would land elsewhere."""
    step = 0.01
    thresholds = np.round(np.arange(0.05, 0.96, step), 2)
    scores = np.array([np.mean([np.mean(np.where(p >= t, right, none)) for p, right, none in domains])
                       for t in thresholds])
    width = round(SMOOTHING / step)
    smoothed = [scores[max(0, i - width):i + width + 1].mean() for i in range(len(thresholds))]
    return float(thresholds[int(np.argmax(smoothed))])


def near_misses(questions: list[EvalQuestion], documents: dict[str, str],
                article: Callable[[EvalQuestion], str] = lambda question: "", seed: int = 0) -> list[EvalQuestion]:
    """Unanswerable questions made from answerable ones, as many of SQuAD 2.0's were written: one name or
    number of the question that its gold document states is swapped for one that another question about
    the same ``article`` asks and this document never states ("How many homes in Calder lost power?" of
    an article on Brennholt). The gold document no longer answers it. The question made keeps its doc
    ids, so that fit can tell an answer cited there (wrong) from one cited elsewhere (not known)."""
    rng = random.Random(seed)
    names_by_article: dict[str, set[str]] = {}
    for question in questions:
        names_by_article.setdefault(article(question), set()).update(_names(question.question))
    made = []
    for question in questions:
        if not question.answerable:
            continue
        gold = " ".join(documents.get(doc_id, "") for doc_id in question.doc_ids).lower()
        stated = [name for name in _names(question.question) if _states(gold, name)]
        if not stated:
            continue
        name = rng.choice(stated)
        others = sorted(other for other in names_by_article[article(question)]
                        if is_number(other) == is_number(name) and not _states(gold, other))
        if others:
            whole_word = _WORD_START + re.escape(name) + _WORD_END
            swapped = re.sub(whole_word, rng.choice(others), question.question, count=1)
            made.append(dataclasses.replace(question, id=f"{question.id}-near-miss", question=swapped, answers=(),
                                            type=NEAR_MISS))
    return made


def squad_article(question: EvalQuestion) -> str:
    """The SQuAD article a question is about: its paragraph's doc id without the number (``Title_007``)."""
    return question.doc_ids[0].rsplit("_", 1)[0] if question.doc_ids else ""


def _names(question: str) -> list[str]:
    """The question's names and numbers, a run of capitalised words as one ("South Hamgyong Province")."""
    runs: list[list[re.Match]] = []
    for position, match in enumerate(WORD.finditer(question)):
        word = match.group()
        if word.lower() in QUESTION_WORDS or not is_name(position, word):
            continue
        previous = runs[-1][-1] if runs else None
        if (previous and not question[previous.end():match.start()].strip()
                and is_number(previous.group()) == is_number(word)):
            runs[-1].append(match)
        else:
            runs.append([match])
    return [question[run[0].start():run[-1].end()] for run in runs]


def _states(text: str, word: str) -> bool:
    """Whether ``text`` (lower-cased) has ``word`` at the start of one of its words ("Korea" in "Korean")."""
    return re.search(_WORD_START + re.escape(word.lower()), text) is not None


def answers_in_sentences(articles: list[dict]):
    """(question, paragraph, its sentences' spans, the answer's sentence, answer start, answer end) for
    each answerable question of SQuAD ``articles`` whose first answer lies inside one sentence;
    offsets in the paragraph."""
    for article in articles:
        for paragraph in article["paragraphs"]:
            context, spans = paragraph["context"], sentence_spans(paragraph["context"])
            for qa in paragraph["qas"]:
                if qa.get("is_impossible") or not qa.get("answers"):
                    continue
                start = qa["answers"][0]["answer_start"]
                end = start + len(qa["answers"][0]["text"])
                own = next((i for i, (a, b) in enumerate(spans) if a <= start and end <= b), None)
                if own is not None:
                    yield qa["question"], context, spans, own, start, end


def answer_sentences(articles: list[dict]) -> list[tuple[str, str, int, int]]:
    """(question, sentence, answer start, answer end) for each answer of SQuAD ``articles`` that
    lies inside one sentence, offsets in the sentence."""
    return [(question, context[spans[own][0]:spans[own][1]], start - spans[own][0], end - spans[own][0])
            for question, context, spans, own, start, end in answers_in_sentences(articles)]


def train(squad_path: Path, eval_sets: list[Path], workdir: Path, config: Config, out: Path,
          corpus_dir: Path | None = None, progress: bool = True) -> AnswerModels:
    """Train the span head on the SQuAD answer sentences (saved beside ``out``); index the SQuAD
    training paragraphs, ask their questions open and with the gold withheld, add the training
    split of each of ``eval_sets`` over its corpus (``corpus_dir``, or the one beside it), and fit the
    ranker and answerability models.

    The span head remembers the questions it was trained on: read by it, their right spans score
    far higher than any new question's would, and a ranker and answerability fitted on those
    scores trust it too much. So each of FOLDS parts of the SQuAD articles is asked with a head
    trained on the rest (cross-fitting: each such head learns from most of the articles, so it reads
    nearly as well as the head trained on all of them, which the models ship with and which asks
    only the news questions it never saw)."""
    embedder = make_embedder(config.embedder)
    articles = json.loads(Path(squad_path).read_text(encoding="utf-8"))["data"]
    fold_of = {qa["id"]: number % FOLDS for number, article in enumerate(articles)
               for paragraph in article["paragraphs"] for qa in paragraph["qas"]}
    fold_heads = [train_head(config.embedder, answer_sentences(
        [article for number, article in enumerate(articles) if number % FOLDS != fold]),
        workdir / f"span-head-{fold}.safetensors", progress=progress) for fold in range(FOLDS)]
    span_head = train_head(config.embedder, answer_sentences(articles), head_path(out), progress=progress)
    paragraphs, squad_questions = read_squad(squad_path)
    corpus = write_corpus(paragraphs, workdir / "squad-corpus")
    build_index(corpus, workdir / "squad-index", config, embedder, progress=progress)
    retriever = HybridRetriever(open_index(workdir / "squad-index", config), embedder, config)
    examples = []
    for fold, fold_head in enumerate(fold_heads):
        asked = [q for q in squad_questions if fold_of[q.id] == fold]
        examples += collect(asked, retriever, embedder, fold_head, config.top_k, False, "squad", progress)
        # Every other answerable question is asked again without its paragraph: evidence that does
        # not answer, about as often as real unanswerable questions come (a third of the askings).
        answerable = [q for q in asked if q.answerable]
        examples += collect(answerable[::2], retriever, embedder, fold_head, config.top_k, True, "squad", progress)
        # The other half is asked with a name swapped: the gold paragraph is there, the thing asked about is not.
        swapped = near_misses(answerable[1::2], paragraphs, squad_article)
        examples += collect(swapped, retriever, embedder, fold_head, config.top_k, False, "squad", progress)
        fold_head.discard_export()
    trained_on = {"squad": squad_path.name, "squad_questions": len(squad_questions)}

    for number, eval_set in enumerate(eval_sets):
        own = [q for q in read_questions(eval_set)[0] if q.split == "train"]
        index_dir = workdir / f"own-index-{number}"
        corpus = question_corpus(eval_set, corpus_dir)
        build_index(corpus, index_dir, config, embedder, progress=progress)
        own_index = open_index(index_dir, config)
        own_retriever = HybridRetriever(own_index, embedder, config)
        examples += collect(own, own_retriever, embedder, span_head, config.top_k, False, "news", progress)
        documents = {doc.doc_id: f"{doc.title}\n{doc.text}" for doc in own_index.store.documents()}
        swapped = near_misses(own, documents)
        examples += collect(swapped, own_retriever, embedder, span_head, config.top_k, False, "news", progress)
        trained_on.setdefault("eval_train_questions", {})[str(eval_set)] = len(own)
    return fit(examples, span_head, trained_on)
