"""The evaluation harness end to end on a tiny set, and the accuracy floor on the real eval set."""

import json
import re

import pytest

from rag import cli
from rag.config import Config
from rag.evaluation.dataset import EvalQuestion, read_questions, read_squad
from rag.evaluation.harness import QuestionResult, calibrate, evaluate, summarise
from rag.pipeline import load
from tests.conftest import CORPUS, REPO

# Set from measurement (docs/evaluation.md): the extractive reader scores 0.562 on the held-out split of
# eval/questions.jsonl and 0.712 on that of eval/news/news-questions.jsonl. Each floor sits three questions
# below, so a regression fails CI while a calibration's run-to-run noise (a question or two) does not.
ACCURACY_FLOOR = 0.53
NEWS_ACCURACY_FLOOR = 0.66


def _result(answers, answer, abstained=False, probability=0.9, cited=(), retrieved=(), gold=("d1",), kind="place"):
    question = EvalQuestion("q", "?", tuple(answers), tuple(gold) if answers else (), kind)
    return QuestionResult(question, answer, abstained, probability, tuple(cited), tuple(retrieved), 10.0)


def test_summary_on_hand_computed_results():
    results = [
        _result(["Busan"], "Busan", cited=["d1"], retrieved=["d1", "d2"]),  # right, cited, rank 1
        _result(["Kusong"], "Jangyon", probability=0.7, cited=["d2"], retrieved=["d2", "d1"]),  # wrong, rank 2
        _result(["Hamhung"], "", abstained=True, probability=0.95, retrieved=["d3"]),  # wrongly withheld, not retrieved
        _result([], "", abstained=True, kind="unanswerable"),  # rightly withheld
        _result([], "Seoul", probability=0.6, cited=["d9"], kind="unanswerable"),  # should have withheld
    ]
    s = summarise(results)
    assert (s.questions, s.answerable, s.unanswerable) == (5, 3, 2)
    assert s.accuracy == pytest.approx(2 / 5) and s.answerable_accuracy == pytest.approx(1 / 3)
    assert s.retrieval["recall@1"] == pytest.approx(1 / 3) and s.retrieval["recall@3"] == pytest.approx(2 / 3)
    assert s.retrieval["mrr"] == pytest.approx((1 + 1 / 2 + 0) / 3)
    assert s.citations["precision"] == pytest.approx(1 / 2)  # two answered answerable: one cites gold
    assert s.citations["recall"] == pytest.approx(1 / 3)
    abstention = s.abstention  # withheld: one unanswerable (TP), one answerable (FP); one unanswerable missed (FN)
    assert (abstention["precision"], abstention["recall"]) == pytest.approx((0.5, 0.5))
    assert abstention["wrongly_withheld"] == pytest.approx(1 / 3)
    assert s.by_type == {"place": {"questions": 3, "accuracy": pytest.approx(1 / 3), "strict_accuracy": pytest.approx(1 / 3)},
                            "unanswerable": {"questions": 2, "accuracy": 0.5, "strict_accuracy": 0.5}}
    assert s.strict_accuracy == pytest.approx(2 / 5)
    # wrong answers given come first, most confident first; withheld ones mislead nobody and come last
    assert [f["got"] for f in s.worst_failures] == ["Jangyon", "Seoul", "(withheld)"]
    # a threshold applied afterwards: 0.8 withholds "Jangyon" (0.7) and "Seoul" (0.6) -> 3 of 5 right
    assert summarise(results, threshold=0.8).accuracy == pytest.approx(3 / 5)
    best = calibrate(results)
    # 3/5 from any threshold above Seoul's 0.6 up to Busan's 0.9; the lowest step of the sweep wins the tie
    assert best["accuracy"] == pytest.approx(3 / 5) and best["threshold"] == pytest.approx(0.65)


def test_strict_accuracy_wants_a_short_answer_citing_a_gold_article():
    sentence = "The aircraft carrier USS Nimitz and its strike group are due to dock in the port of Busan on Tuesday."
    results = [
        _result(["Busan"], "Busan", cited=["d1"]),  # right
        _result(["Busan"], sentence, cited=["d1"]),  # contains the answer, but a pasted sentence (19 words)
        _result(["Busan"], "Busan", cited=["d2"]),  # right words, wrong article cited
    ]
    assert [r.strictly_correct() for r in results] == [True, False, False]
    assert [r.correct() for r in results] == [True, True, True]
    assert summarise(results).strict_accuracy == pytest.approx(1 / 3)


def test_question_files_report_bad_lines(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "Where?", "answers": ["Busan"], "doc_ids": ["d"]}\nnot json\n{"answers": []}\n\n'
                    '{"question": "Who?", "answers": []}\n')
    questions, skipped = read_questions(path)
    assert [q.question for q in questions] == ["Where?", "Who?"] and questions[1].type == "unanswerable"
    assert {q.split for q in questions} == {"test"}  # unmarked questions are held out from calibration
    assert [s.path.rsplit(":", 1)[1] for s in skipped] == ["2", "3"]


def test_the_eval_set_is_well_formed():
    questions, skipped = read_questions(REPO / "eval/questions.jsonl")
    assert skipped == [] and len(questions) >= 60 and len({q.id for q in questions}) == len(questions)
    corpus_ids = {path.stem for path in CORPUS.glob("*.txt")}
    assert {d for q in questions for d in q.doc_ids} == corpus_ids  # every article is covered
    assert sum(not q.answerable for q in questions) >= 12
    splits = {q.split for q in questions}
    held_out = [q for q in questions if q.split == "test"]
    assert splits == {"train", "test"} and len(held_out) >= len(questions) / 2 and any(not q.answerable for q in held_out)
    assert {"distance", "number", "time", "person", "place", "organisation", "quote", "temporal", "multiple"} <= {
        q.type for q in questions}
    for question in filter(lambda q: q.answerable, questions):  # an accepted answer is really in a gold article
        texts = " ".join((CORPUS / f"{d}.txt").read_text() for d in question.doc_ids).replace("’", "'")
        assert any(a.replace("’", "'") in texts for a in question.answers), question.id


NEWS = REPO / "eval/news/news-questions.jsonl"
NEWS_KINDS = {"duration", "role", "cause", "money", "quantity", "relative", "date", "place", "organisation", "which",
              "multipart"}


def test_the_news_question_set_is_well_formed_and_follows_its_split_rule():
    """At least 80 questions over at least 20 articles of every corpus format, each tagged with its kind,
    15 or more unanswerable; the split was fixed before any tuning: questions about an even-numbered
    article (and even-numbered unanswerable ones) are held out."""
    from rag.ingest.corpus import read_corpus

    questions, skipped = read_questions(NEWS)
    documents = {d.doc_id: d for d in read_corpus(NEWS.parent / "corpus")[0]}
    assert skipped == [] and len(questions) >= 80 and len({q.id for q in questions}) == len(questions)
    assert len(documents) >= 20 and {d.path.split(":")[0].rsplit(".", 1)[1] for d in documents.values()} == {
        "txt", "jsonl", "rss", "html"}
    assert {q.type for q in questions if q.answerable} == NEWS_KINDS
    assert sum(not q.answerable for q in questions) >= 15
    for question in questions:
        number = int(re.search(r"n(\d\d)", question.doc_ids[0]).group(1)) if question.answerable else int(
            question.id[-2:])
        assert question.split == ("test" if number % 2 == 0 else "train"), question.id
        for doc_id in question.doc_ids:  # an accepted answer is really in its gold article
            assert any(answer in documents[doc_id].text for answer in question.answers), question.id
    for question in filter(lambda q: not q.answerable, questions):  # a near miss: its words are the corpus's
        words = set(re.findall(r"[A-Z][a-z]+", question.question[1:]))
        assert words and all(any(w in d.text or w in d.title for d in documents.values()) for w in words), question.id


def test_without_gold_articles_any_citation_counts_and_the_report_says_so(tmp_path):
    from rag.evaluation.report import markdown

    results = [_result(["Busan"], "Busan", cited=["d7"], gold=()), _result(["Busan"], "Busan", cited=(), gold=()),
               _result(["Busan"], "Busan", cited=["d2"])]
    assert [r.strictly_correct() for r in results] == [True, False, False]
    summary = summarise(results)
    assert summary.without_gold_articles == 2 and summary.strict_accuracy == pytest.approx(1 / 3)
    assert summary.citations["precision"] == 0.0  # only the question naming a gold article is judged
    assert "2 answerable questions name no gold article: for them any citation counts" in markdown(
        {"mine": summary}, {})


def test_a_question_set_is_about_the_corpus_beside_it(tmp_path):
    from rag.evaluation.dataset import PROJECT_CORPUS, question_corpus

    assert question_corpus(NEWS) == NEWS.parent / "corpus"
    assert question_corpus(REPO / "eval/questions.jsonl") == PROJECT_CORPUS
    assert question_corpus(NEWS, tmp_path) == tmp_path  # --corpus wins


SQUAD = REPO.parent / "shared/bench/squad2-dev-subset.json"


@pytest.mark.skipif(not SQUAD.exists(), reason="the SQuAD subset lives in ../shared/bench, beside the repo (as in CI)")
def test_squad_files_become_paragraph_documents():
    paragraphs, questions = read_squad(SQUAD)
    assert len(paragraphs) == 87 and len(questions) == 626
    assert sum(not q.answerable for q in questions) == 333
    assert all(q.doc_ids[0] in paragraphs for q in questions if q.answerable)
    assert next(iter(paragraphs)) == "Normans_000"


def test_harness_end_to_end_on_a_tiny_set(real_index_dir, real_embedder):
    qa = load(real_index_dir, Config(reader="extractive"), embedder=real_embedder)
    questions = [
        EvalQuestion("a", "Where is the Nimitz due to dock?", ("Busan",), ("003_d7b843a5570d7940",), "place"),
        EvalQuestion("b", "Who is the defense minister of Japan?", (), (), "unanswerable"),
    ]
    report = evaluate(qa, questions, progress=False)
    results, summary = report.results, report.summary
    assert summary.accuracy == 1.0 and summary.retrieval["recall@5"] == 1.0
    assert summary.citations["precision"] == 1.0 and summary.abstention["f1"] == 1.0
    assert results[0].latency_ms > 0 and summary.latency_ms["max"] >= summary.latency_ms["p50"]


def test_rag_eval_writes_report_json_and_charts_and_enforces_the_floor(tmp_path, real_index_dir, monkeypatch, capsys):
    monkeypatch.setenv("RAG_READER", "extractive")
    questions = tmp_path / "tiny.jsonl"
    questions.write_text(
        json.dumps({"id": "a", "question": "Where is the Nimitz due to dock?", "answers": ["Busan"],
                    "doc_ids": ["003_d7b843a5570d7940"], "type": "place"}) + "\n"
        + json.dumps({"id": "b", "question": "Who is the defense minister of Japan?", "answers": ["Kishida"],
                      "doc_ids": ["000_8214d5b1d865915a"], "type": "person"}) + "\n"
    )
    argv = ["eval", str(questions), "--index", str(real_index_dir), "--out", str(tmp_path / "out"), "--quiet"]
    assert cli.main(argv + ["--min-accuracy", "0.5"]) == 0
    assert cli.main(argv + ["--min-accuracy", "0.9"]) == 1
    assert "below --min-accuracy 0.9" in capsys.readouterr().err
    names = {path.name for path in (tmp_path / "out").iterdir()}
    assert {"report.md", "results.json", "tiny-accuracy-by-type.png", "tiny-latency.png"} <= names
    assert (tmp_path / "out" / "tiny-latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads((tmp_path / "out" / "results.json").read_text())["sets"]["tiny"]
    assert saved["summary"]["accuracy"] == 0.5 and [q["correct"] for q in saved["questions"]] == [True, False]
    assert "## tiny" in (tmp_path / "out" / "report.md").read_text()


def test_rag_eval_of_a_users_own_file_and_corpus(tmp_path, monkeypatch, capsys):
    """A question file with only questions and answers, a corpus folder beside it: rag eval indexes that
    corpus for the run and counts any citation, saying so."""
    monkeypatch.setenv("RAG_READER", "extractive")
    (tmp_path / "corpus").mkdir()
    article = "003_d7b843a5570d7940.txt"
    (tmp_path / "corpus" / article).write_text((CORPUS / article).read_text())
    (tmp_path / "mine.jsonl").write_text(json.dumps({"question": "Where is the Nimitz due to dock?",
                                                     "answers": ["Busan"]}) + "\n")
    assert cli.main(["eval", str(tmp_path / "mine.jsonl"), "--out", str(tmp_path / "out"), "--quiet", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)["sets"]["mine"]
    assert summary["strict_accuracy"] == 1.0 and summary["without_gold_articles"] == 1
    assert not (tmp_path / "index").exists() and not (REPO / "index" / "mine").exists()


def test_accuracy_floor_on_the_held_out_eval_split(
real_index_dir, real_embedder):
    """The quality gate: the default offline reader must not fall below the measured floor, on
    questions calibration never saw."""
    questions = [q for q in read_questions(REPO / "eval/questions.jsonl")[0] if q.split == "test"]
    qa = load(real_index_dir, Config(reader="extractive"), embedder=real_embedder)
    accuracy = evaluate(qa, questions, progress=False).summary.strict_accuracy
    assert accuracy >= ACCURACY_FLOOR, f"strict accuracy {accuracy:.3f} fell below the floor {ACCURACY_FLOOR}"


@pytest.mark.slow
def test_accuracy_floor_on_the_held_out_news_split(tmp_path, real_embedder):
    """The everyday news kinds (durations, causes, money, roles...) on the held-out news articles."""
    from rag.evaluation.dataset import question_corpus
    from rag.indexing.build import build_index

    questions = [q for q in read_questions(NEWS)[0] if q.split == "test"]
    config = Config(reader="extractive")
    build_index(question_corpus(NEWS), tmp_path / "index", config, real_embedder, progress=False)
    accuracy = evaluate(load(tmp_path / "index", config, embedder=real_embedder), questions,
                        progress=False).summary.strict_accuracy
    assert accuracy >= NEWS_ACCURACY_FLOOR, f"strict accuracy {accuracy:.3f} fell below the floor {NEWS_ACCURACY_FLOOR}"
