"""Broken files and input, tried on purpose: every part of an index damaged in turn, article files in
odd encodings or with odd names, files that vanish or turn unreadable mid-build. Each gets a clear
error or a reported skip, never a traceback, and nothing is overwritten."""

import json
import shutil
from pathlib import Path

import pytest

from rag import cli
from rag.config import Config
from rag.errors import CorpusError
from rag.indexing.build import build_index
from rag.indexing.manifest import FORMAT_VERSION
from rag.ingest.corpus import read_corpus
from rag.ingest.filing import add_article
from tests.conftest import without_timings
from tests.fakes import HashEmbedder

FLAGSHIP = "How far did the March 2023 missiles fly?"


def _damaged(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "missing":
        path.unlink()
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    else:  # garbage of the same size
        path.write_bytes(bytes((byte * 131 + 17) % 256 for byte in range(len(data) or 64)))


def _files(index_dir: Path) -> list[str]:
    # tantivy's lock files are empty markers it recreates: nothing to damage
    return sorted(str(p.relative_to(index_dir)) for p in index_dir.rglob("*") if p.is_file() and not p.name.endswith(".lock"))


def _snapshot(index_dir: Path) -> dict:
    return {str(p.relative_to(index_dir)): p.read_bytes() for p in index_dir.rglob("*") if p.is_file()}


@pytest.mark.slow  # one copy of the real index per damage: 50 cases
def test_every_index_part_damaged_in_turn_gets_one_clear_error_and_is_left_alone(real_index_dir, tmp_path, capsys,
                                                                                 monkeypatch):
    monkeypatch.setenv("RAG_READER", "extractive")
    cases = [(name, how) for name in _files(real_index_dir) for how in ("missing", "truncated", "garbage")]
    cases.append(("manifest.json", "wrong format version"))
    assert cli.main(["ask", FLAGSHIP, "--json", "--index", str(real_index_dir)]) == 0
    intact = without_timings(json.loads(capsys.readouterr().out))
    failures, harmless = [], []
    for name, how in cases:
        broken = tmp_path / "index"
        shutil.rmtree(broken, ignore_errors=True)
        shutil.copytree(real_index_dir, broken)
        if how == "wrong format version":
            manifest = broken / name
            current = manifest.read_text()
            older = current.replace(f'"format_version": {FORMAT_VERSION}', '"format_version": 4')
            assert older != current
            manifest.write_text(older)
        else:
            _damaged(broken / name, how)
        before = _snapshot(broken)
        try:
            code = cli.main(["ask", FLAGSHIP, "--json", "--index", str(broken)])
        except Exception as error:  # a traceback is a failure, reported with the rest
            code = f"{type(error).__name__}: {error}"
        out, err = capsys.readouterr()
        if code == 0 and without_timings(json.loads(out)) == intact:
            harmless.append(f"{name} {how}")  # damage that changes nothing a reader sees (tantivy rebuilds it)
        elif not (code == 1 and err.count("\n") == 1 and "rag index --rebuild" in err and err.startswith("rag: error:")):
            failures.append(f"{name} {how}: exit {code}, stderr {err.strip()[-300:]!r}")
        elif _snapshot(broken) != before:
            failures.append(f"{name} {how}: files changed")
    assert not failures, "\n".join(failures)
    assert len(harmless) <= 3, harmless
    print(f"{len(cases)} damaged indexes: {len(cases) - len(harmless)} refused with one line naming rag index --rebuild, "
          f"{len(harmless)} answered exactly as the intact index ({', '.join(harmless)})")



def test_a_damaged_index_is_not_built_over_until_asked_to_rebuild(corpus_dir, tmp_path, capsys):
    index_dir = tmp_path / "index"
    config = Config(embedder="hash-embedder")
    build_index(corpus_dir, index_dir, config, HashEmbedder(), progress=False)
    (index_dir / "chunks.sqlite").write_bytes(b"not a database" * 100)
    before = _snapshot(index_dir)
    with pytest.raises(Exception, match="rag index --rebuild"):
        build_index(corpus_dir, index_dir, config, HashEmbedder(), progress=False)
    assert _snapshot(index_dir) == before
    report = build_index(corpus_dir, index_dir, config, HashEmbedder(), rebuild=True, progress=False)
    assert len(report.rebuilt) == 5


@pytest.mark.parametrize("name, content, found", [
    ("utf16.txt", "\ufeffNorth Korea fired two missiles on Tuesday.\n".encode("utf-16"), "North Korea fired two missiles"),
    ("utf8bom.txt", "\ufeffSeoul said the talks would resume.\n".encode("utf-8"), "Seoul said the talks"),
    ("nul.txt", b"Officials met.\x00\x00 The port reopened.\n", None),
    ("crlf.md", b"# Port strike\r\n\r\nDockers walked out on Monday.\r\n", "Dockers walked out"),
    ("rtl.txt", "\u05d4\u05de\u05e9\u05dc\u05d7\u05ea \u05d4\u05d2\u05d9\u05e2\u05d4. Officials confirmed it.\n".encode(), "Officials confirmed"),
])
def test_odd_encodings_are_read_or_skipped_with_a_reason(corpus_dir, name, content, found):
    (corpus_dir / name).write_bytes(content)
    documents, skipped = read_corpus(corpus_dir)
    by_id = {document.doc_id: document for document in documents}
    if found is None:
        assert Path(name).stem not in by_id and [s.path.endswith(name) for s in skipped] == [True]
    else:
        assert found in by_id[Path(name).stem].text and "\ufeff" not in by_id[Path(name).stem].text and not skipped


@pytest.mark.parametrize("name", ["../escape.txt", "-rf.txt", "two\nlines.txt", "..", ".hidden.txt", "a/../../b.txt",
                                  "con\x00.txt", "--help.md"])
def test_added_file_names_cannot_leave_the_corpus_or_look_like_options(tmp_path, name):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    source = tmp_path / "incoming.txt"
    source.write_text("date 2024-02-01\nA port strike ended on Thursday.\n")
    try:
        saved = add_article(corpus, source, filename=name)
    except CorpusError as error:
        assert name.split("/")[-1] in str(error) or "can be added" in str(error)
        return
    assert saved.parent == corpus.resolve() and not saved.name.startswith(("-", ".")) and "\n" not in saved.name
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(["incoming.txt", saved.name])


def test_a_file_deleted_or_unreadable_mid_build_is_reported_and_the_rest_indexed(corpus_dir, monkeypatch):
    """The corpus changes under a running build: one article vanishes after it was listed, another
    cannot be opened (simulated: the tests may run as root, whom file modes do not stop). Both are
    reported with the reason; the other articles are indexed."""
    import rag.ingest.corpus

    listed = rag.ingest.corpus.corpus_files
    files = listed(corpus_dir)
    vanishing, unreadable = files[0], files[1]

    def listing_then_deleting(directory):
        found = listed(directory)
        vanishing.unlink()
        return found

    reading = Path.read_bytes

    def refusing(path):
        if path.name == unreadable.name:
            raise PermissionError(13, "Permission denied", str(path))
        return reading(path)

    monkeypatch.setattr(rag.ingest.corpus, "corpus_files", listing_then_deleting)
    monkeypatch.setattr(Path, "read_bytes", refusing)
    documents, skipped = read_corpus(corpus_dir)
    reasons = {Path(s.path).name: s.reason for s in skipped}
    assert len(documents) == 3 and set(reasons) == {vanishing.name, unreadable.name}
    assert "No such file" in reasons[vanishing.name] and "Permission denied" in reasons[unreadable.name]
    assert all("check that it exists and is readable" in reason for reason in reasons.values())


@pytest.mark.parametrize("question", ["\x00\x00", "\u202eylf selissim eht did raf woH", "?" * 3000, "--help",
                                      "' OR 1=1 --", "<script>alert(1)</script>", "\U0001F680 " * 50])
def test_questions_that_are_odd_but_text_are_answered_or_refused_in_one_line(real_index_dir, capsys, monkeypatch, question):
    monkeypatch.setenv("RAG_READER", "extractive")
    code = cli.main(["ask", "--json", "--index", str(real_index_dir), "--", question])
    out, err = capsys.readouterr()
    assert (code == 0 and isinstance(json.loads(out), dict)) or (code == 1 and err.count("\n") == 1 and err.startswith("rag: error:"))


def test_a_50_mb_article_file_is_skipped_before_it_is_read_with_how_to_split_it(corpus_dir):
    huge = corpus_dir / "huge.txt"
    with open(huge, "wb") as out:
        out.truncate(50_000_000)  # sparse: 50 MB of NUL without writing them
    documents, skipped = read_corpus(corpus_dir)
    assert len(documents) == 5 and [Path(s.path).name for s in skipped] == ["huge.txt"]
    assert "50,000,000 bytes, over the 20,000,000-byte limit" in skipped[0].reason and "JSONL or CSV dump" in skipped[0].reason
