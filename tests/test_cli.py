"""The CLI over the real index: output shapes, batch mode, and one-line errors for bad input."""

import io
import json
import shutil
import subprocess
import sys

import pytest

from rag import cli


@pytest.fixture
def run(capsys):
    def invoke(*argv, stdin: str | None = None):
        if stdin is not None:
            sys.stdin = io.StringIO(stdin)
        try:
            code = cli.main(list(argv))
        finally:
            sys.stdin = sys.__stdin__
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


@pytest.fixture(autouse=True)
def extractive(monkeypatch):
    monkeypatch.setenv("RAG_READER", "extractive")


def test_ask_json_has_the_documented_fields(run, real_index_dir):
    code, out, _ = run("ask", "Where is the Nimitz due to dock?", "--index", str(real_index_dir), "--json")
    answer = json.loads(out)
    assert code == 0
    assert {"question", "answer", "abstained", "citations", "passages", "reader", "timings_ms"} <= set(answer)
    assert answer["answer"] == "Busan" and answer["reader"] == "extractive"
    assert set(answer["citations"][0]) == {"doc_id", "title", "date", "chunk_id", "start", "end", "quote", "date_evidence", "also_in",
                                          "matched_date"}
    assert answer["citations"][0]["date"] == "2023-03-27"


def test_ask_prints_the_answer_and_its_sources(run, real_index_dir):
    code, out, _ = run("ask", "What did Seoul call the launch?", "--index", str(real_index_dir))
    assert code == 0 and out.splitlines()[0] == "a grave provocation"
    assert "[1]" in out and "000_8214d5b1d865915a" in out and "undated" in out


def test_stdin_batch_answers_each_line_and_reports_bad_ones(run, real_index_dir):
    lines = "Where is the Nimitz due to dock?\n\n" + "x" * 5000 + "\nWhat did Seoul call the launch?\n"
    code, out, err = run("ask", "-", "--index", str(real_index_dir), "--json", stdin=lines)
    records = [json.loads(line) for line in out.splitlines()]
    assert [r.get("answer") for r in records] == ["Busan", None, "a grave provocation"]
    assert "characters long" in records[1]["error"] and code == 1 and "rag: error:" in err


@pytest.mark.parametrize(
    "question, message",
    [("", "the question is empty"), ("   \t ", "the question is empty"), ("why" + "y" * 99_997, "100,000 characters long")],
)
def test_bad_questions_get_a_one_line_error(run, real_index_dir, question, message):
    code, out, err = run("ask", question, "--index", str(real_index_dir))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and message in err


def test_the_abstention_threshold_is_a_flag(run, real_index_dir):
    question = ("ask", "Where is the Nimitz due to dock?", "--index", str(real_index_dir), "--json")
    assert json.loads(run(*question, "--abstain-threshold", "0.99")[1])["abstained"] is True
    assert json.loads(run(*question, "--abstain-threshold", "0")[1])["answer"] == "Busan"
    assert "between 0 and 1" in run(*question, "--abstain-threshold", "2")[2]


def test_bad_dates_and_reversed_ranges(run, real_index_dir):
    assert "YYYY-MM-DD" in run("ask", "q?", "--index", str(real_index_dir), "--since", "March")[2]
    assert "swap them" in run("ask", "q?", "--index", str(real_index_dir), "--since", "2023-01-01", "--until", "2022-01-01")[2]


def test_missing_index_directory(run, tmp_path):
    code, _, err = run("ask", "Where?", "--index", str(tmp_path / "nowhere"))
    assert code == 1 and "no index in" in err and "rag index" in err and not (tmp_path / "nowhere").exists()


def test_empty_corpus_directory_creates_nothing(run, tmp_path):
    (tmp_path / "empty").mkdir()
    code, _, err = run("index", "--corpus", str(tmp_path / "empty"), "--index", str(tmp_path / "index"))
    assert code == 1 and "no articles to index" in err and not (tmp_path / "index").exists()


def test_corrupted_index_file_is_reported_and_left_alone(run, real_index_dir, tmp_path):
    broken = tmp_path / "index"
    shutil.copytree(real_index_dir, broken)
    (broken / "vectors.faiss").write_bytes(b"\x00" * 64)
    before = sorted((p.name, p.read_bytes()) for p in broken.rglob("*") if p.is_file())
    code, _, err = run("ask", "Where?", "--index", str(broken))
    assert code == 1 and "damaged" in err and "--rebuild" in err and err.count("\n") == 1
    assert sorted((p.name, p.read_bytes()) for p in broken.rglob("*") if p.is_file()) == before


def test_unknown_model_path(run, real_index_dir):
    code, _, err = run("ask", "Where?", "--index", str(real_index_dir), "--model", "/no/such/model")
    assert code == 1 and "not available offline" in err and err.count("\n") == 1


def test_index_reports_skipped_files_and_an_update(run, corpus_dir, tmp_path):
    (corpus_dir / "broken.txt").write_bytes(b"\xff\xfe\x00binary")
    code, out, err = run("index", "--corpus", str(corpus_dir), "--index", str(tmp_path / "index"), "--quiet")
    assert code == 0 and out == "" and "skipped" in err and "broken.txt" in err  # --quiet: warnings only
    code, out, _ = run("index", "--corpus", str(corpus_dir), "--index", str(tmp_path / "index"), "--quiet", "--json")
    assert code == 0 and json.loads(out)["embedded_chunks"] == 0 and json.loads(out)["in_place"] is True
    code, out, _ = run("index", "--corpus", str(corpus_dir), "--index", str(tmp_path / "index"), "--compact")
    assert code == 0 and "wrote the whole index" in out and "embedded 0 of" in out
    code, out, _ = run("index", "--corpus", str(corpus_dir), "--index", str(tmp_path / "index"), "--rebuild")
    assert code == 0 and "rebuilt 5 articles" in out and "added" not in out
    code, _, err = run("index", "--corpus", str(corpus_dir), "--index", str(tmp_path / "index"), "--quiet",
                       "--keywords", "milvus-bm25")
    assert code == 1 and "milvus-bm25" in err and "--store milvus-lite" in err


def test_help_is_instant_because_heavy_libraries_load_lazily():
    probe = "import sys, rag, rag.cli; rag.cli.build_parser(); print(sorted({'torch', 'faiss', 'transformers', 'sentence_transformers'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip() == "[]"


def test_add_list_and_remove_articles_from_the_command_line(run, corpus_dir, tmp_path):
    index = str(tmp_path / "index")
    story = tmp_path / "story.txt"
    story.write_text("date 2024-05-27\nNorth Korea said its Malligyong-1 satellite rocket exploded in flight.\n")
    code, out, _ = run("add", str(story), "--corpus", str(corpus_dir), "--index", index, "--quiet")
    assert code == 0 and out == ""
    code, out, _ = run("list", "--index", index, "--since", "2024-01-01", "--json")
    assert code == 0 and [item["doc_id"] for item in json.loads(out)] == ["story"]
    code, out, _ = run("list", "--index", index)
    assert code == 0 and "6 article(s)" in out and "undated" in out
    code, out, err = run("remove", "story", "--corpus", str(corpus_dir), "--index", index)
    assert code == 0 and "Removed 1 article(s): story" in out
    code, _, err = run("remove", "story", "--corpus", str(corpus_dir), "--index", index)
    assert code == 1 and "not in index" in err
    code, _, err = run("list", "--index", index, "--since", "last spring")
    assert code == 1 and "YYYY-MM-DD" in err


def test_field_overrides_parse_as_pairs_and_a_malformed_one_is_refused(capsys):
    args = cli.build_parser().parse_args(["index", "--field", "text=story_body", "--field", "Date = pub_ts"])
    assert args.fields == [("text", "story_body"), ("date", "pub_ts")]
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["add", "x.jsonl", "--field", "text"])
    assert "is not FIELD=COLUMN" in capsys.readouterr().err


def test_a_question_that_is_not_utf8_gets_a_clear_error_not_a_traceback(run, real_index_dir, monkeypatch):
    # A shell passes such bytes in an argument as lone surrogates (Python's surrogateescape).
    code, _, err = run("ask", "How far \udcff did they fly?", "--index", str(real_index_dir))
    assert code == 1 and "not UTF-8 text (a stray byte at character 9)" in err
    # On stdin, the bad line is reported and the batch goes on.
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(
        b"How far did the \xff\xfe missiles fly?\nWhere is the Nimitz due to dock?\n"), encoding="utf-8"))
    code, out, err = run("ask", "-", "--index", str(real_index_dir), "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert "not UTF-8 text" in lines[0]["error"] and lines[1]["answer"] == "Busan"
    assert code == 1 and "Traceback" not in err
