from datetime import date

import pytest

from rag.errors import CorpusError
from rag.ingest.corpus import read_corpus
from rag.ingest.loaders.articles import read_article

SEEDS = {
    "000_8214d5b1d865915a", "001_1847a96a2c4d2b8a", "002_94b3c17b0885c028",
    "003_d7b843a5570d7940", "004_56a94f60d051a7dc",
}


def test_real_corpus_loads_every_seed_with_marker_dates(corpus_dir):
    documents, skipped = read_corpus(corpus_dir)
    by_id = {d.doc_id: d for d in documents}
    assert set(by_id) == SEEDS and skipped == []
    # marker alone on its line (002) and marker followed by text on the same line (003)
    assert by_id["002_94b3c17b0885c028"].date == date(2021, 3, 25)
    assert by_id["003_d7b843a5570d7940"].date == date(2023, 3, 27)
    assert by_id["003_d7b843a5570d7940"].text.startswith("North Korea continued to upstage")
    assert "date 2023" not in by_id["003_d7b843a5570d7940"].text
    assert by_id["000_8214d5b1d865915a"].date is None


def test_title_is_the_first_sentence_even_with_abbreviations(corpus_dir):
    documents, _ = read_corpus(corpus_dir)
    title = {d.doc_id: d.title for d in documents}["001_1847a96a2c4d2b8a"]
    assert title.startswith("As the U.S. and the world focused") and title.endswith("on Tuesday.")


def test_headline_markdown_heading_and_html(tmp_path):
    (tmp_path / "a.txt").write_text("Missiles fly again\nNorth Korea fired two missiles. More later.")
    (tmp_path / "b.md").write_text("# Talks stall\n\nNegotiators left Hanoi.")
    (tmp_path / "c.html").write_text(
        "<html><head><title>T</title><meta property='article:published_time' content='2019-05-09T10:00'>"
        "<script>alert(1)</script></head><body><h1>Kusong launch</h1><p>Two missiles flew.</p></body></html>"
    )
    documents = {d.doc_id: d for d in read_corpus(tmp_path)[0]}
    assert documents["a"].title == "Missiles fly again"
    assert documents["b"].title == "Talks stall"
    assert documents["c"].title == "Kusong launch"
    assert documents["c"].date == date(2019, 5, 9)
    assert "alert" not in documents["c"].text and "Two missiles flew." in documents["c"].text


def test_metadata_jsonl_overrides_title_and_date(corpus_dir):
    (corpus_dir / "metadata.jsonl").write_text(
        '{"doc_id": "000_8214d5b1d865915a", "title": "Missiles off the east coast", "date": "2023-03-14", '
        '"source": "Fox News", "url": "https://example.org/a"}\nnot json\n'
    )
    documents, skipped = read_corpus(corpus_dir)
    document = {d.doc_id: d for d in documents}["000_8214d5b1d865915a"]
    assert (document.title, document.date, document.source) == ("Missiles off the east coast", date(2023, 3, 14), "Fox News")
    assert len(skipped) == 1 and "metadata.jsonl:2" in skipped[0].path


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("empty.txt", b"   \n\n", "empty"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
        ("latin1.txt", "Caf\xe9 news".encode("latin-1"), "not UTF-8"),
    ],
)
def test_bad_files_are_reported_and_skipped(corpus_dir, name, content, reason):
    (corpus_dir / name).write_bytes(content)
    documents, skipped = read_corpus(corpus_dir)
    assert len(documents) == 5
    assert len(skipped) == 1 and skipped[0].path.endswith(name) and reason in skipped[0].reason


def test_empty_or_missing_corpus_is_an_error_with_the_fix(tmp_path):
    with pytest.raises(CorpusError, match="no articles to index"):
        read_corpus(tmp_path)
    with pytest.raises(CorpusError, match="does not exist"):
        read_corpus(tmp_path / "nope")


def test_content_hash_changes_with_content(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("One sentence.")
    first = read_article(path).content_hash
    path.write_text("Another sentence.")
    assert read_article(path).content_hash != first
