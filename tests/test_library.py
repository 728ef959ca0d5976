"""Corpus management (rag.indexing.library): the code behind `rag add`, `rag remove`, `rag list`, the Python
API and the chat page's library panel."""

from datetime import date

import pytest

from rag.config import Config
from rag.errors import CorpusError
from rag.indexing.library import add, list_articles, remove
from tests.fakes import HashEmbedder

CONFIG = Config(embedder="hash-embedder")
STORY = "date 2024-05-27\nNorth Korea said its Malligyong-1 satellite rocket exploded in flight.\n"


def test_add_copies_files_and_folders_indexes_just_them_and_reports_bad_files(corpus_dir, tmp_path):
    from rag.indexing.build import build_index

    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, CONFIG, HashEmbedder(), progress=False)
    incoming = tmp_path / "incoming"
    (incoming / "nested").mkdir(parents=True)
    (incoming / "sat launch.txt").write_text(STORY)
    (incoming / "nested" / "talks.md").write_text("# Talks\n\ndate 2024-06-01\nDiplomats met in Geneva.\n")
    (incoming / "nested" / "photo.txt").write_bytes(b"\x89PNG\x00")
    embedder = HashEmbedder()
    report = add([incoming, tmp_path / "missing.txt"], corpus_dir, index_dir, CONFIG, embedder)
    assert set(report.added) == {"talks", "sat_launch"}
    assert {skipped.path.rsplit("/", 1)[-1] for skipped in report.skipped} == {"photo.txt", "missing.txt"}
    assert (corpus_dir / "sat_launch.txt").read_text() == STORY
    # only the new articles were embedded: the five already indexed were not read again
    new_text = STORY + (incoming / "nested" / "talks.md").read_text()
    assert embedder.embedded_texts and all(text in new_text for text in embedder.embedded_texts)
    listed = {listing.doc_id: listing for listing in list_articles(index_dir, config=CONFIG)}
    assert len(listed) == 7 and listed["sat_launch"].date == date(2024, 5, 27) and listed["sat_launch"].chunks == 1
    assert report.total_chunks == sum(listing.chunks for listing in listed.values())


def test_list_filters_by_date_and_puts_undated_articles_last(corpus_dir, tmp_path):
    from rag.indexing.build import build_index

    build_index(corpus_dir, tmp_path / "index", CONFIG, HashEmbedder(), progress=False)
    everything = list_articles(tmp_path / "index", config=CONFIG)
    assert [listing.date for listing in everything][:2] == [date(2021, 3, 25), date(2023, 3, 27)]
    assert all(listing.date is None for listing in everything[2:])
    assert [listing.doc_id for listing in list_articles(tmp_path / "index", since="2023-01-01", config=CONFIG)] == \
        ["003_d7b843a5570d7940"]
    assert everything[0].to_dict()["date"] == "2021-03-25"


def test_remove_deletes_from_corpus_and_index_and_refuses_unknown_ids(corpus_dir, tmp_path):
    from rag.indexing.build import build_index

    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, CONFIG, HashEmbedder(), progress=False)
    with pytest.raises(CorpusError, match="not in index.*nope"):
        remove(["004_56a94f60d051a7dc", "nope"], corpus_dir, index_dir, CONFIG)
    assert (corpus_dir / "004_56a94f60d051a7dc.txt").exists()  # an unknown id removes nothing
    report = remove(["004_56a94f60d051a7dc"], corpus_dir, index_dir, CONFIG)
    assert not (corpus_dir / "004_56a94f60d051a7dc.txt").exists()
    assert "004_56a94f60d051a7dc" not in {listing.doc_id for listing in list_articles(index_dir, config=CONFIG)}
    assert report.total_chunks == sum(listing.chunks for listing in list_articles(index_dir, config=CONFIG))


def test_adding_to_a_folder_without_an_index_builds_one(tmp_path):
    article = tmp_path / "story.txt"
    article.write_text(STORY)
    report = add([article], tmp_path / "corpus", tmp_path / "index", CONFIG, HashEmbedder())
    assert report.added == ("story",) and [listing.doc_id for listing in list_articles(tmp_path / "index", config=CONFIG)] == ["story"]


def test_adding_a_dump_indexes_its_good_records_and_reports_the_bad_ones(tmp_path):
    from pathlib import Path

    dump = Path(__file__).parent / "fixtures" / "formats" / "dump.jsonl"
    report = add([dump], tmp_path / "corpus", tmp_path / "index", CONFIG, HashEmbedder())
    assert set(report.added) == {"dump-a1", "dump-a2"}
    assert sorted(skipped.reason.split(":")[0] for skipped in report.skipped) == ["line 3", "record 4"]
    assert (tmp_path / "corpus" / "dump.jsonl").read_bytes() == dump.read_bytes()  # copied whole, as it is


def test_removing_a_dump_record_keeps_it_out_when_the_corpus_is_read_again(tmp_path):
    from pathlib import Path

    from rag.indexing.build import build_index
    from rag.ingest.corpus import REMOVED_FILE

    dump = Path(__file__).parent / "fixtures" / "formats" / "dump.jsonl"
    add([dump], tmp_path / "corpus", tmp_path / "index", CONFIG, HashEmbedder())
    remove(["dump-a1"], tmp_path / "corpus", tmp_path / "index", CONFIG)
    assert (tmp_path / "corpus" / "dump.jsonl").exists()  # the dump stays; the record is listed as removed
    assert (tmp_path / "corpus" / REMOVED_FILE).read_text() == "dump-a1\n"
    report = build_index(tmp_path / "corpus", tmp_path / "index", CONFIG, HashEmbedder(), progress=False)
    assert report.added == () and report.removed == ()
    assert [listing.doc_id for listing in list_articles(tmp_path / "index", config=CONFIG)] == ["dump-a2"]


def test_an_undated_article_is_listed_with_an_inferred_date_and_its_evidence(tmp_path, capsys, monkeypatch):
    from rag import cli

    monkeypatch.setenv("RAG_EMBEDDER", "hash-embedder")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "wire.txt").write_text("SEOUL, March 5, 2023 (Wire) - North Korea fired a missile.\nIt flew 300 km.\n")
    (corpus / "plain.txt").write_text("Talks resumed on Tuesday in Geneva.\n")
    from rag.indexing.build import build_index

    build_index(corpus, tmp_path / "index", CONFIG, HashEmbedder(), progress=False)
    listed = {listing.doc_id: listing for listing in list_articles(tmp_path / "index", config=CONFIG)}
    assert listed["wire"].date == date(2023, 3, 5)
    assert listed["wire"].date_evidence == 'inferred from the dateline "March 5, 2023"'
    assert listed["plain"].date is None and listed["plain"].date_evidence == ""
    assert cli.main(["list", "--index", str(tmp_path / "index")]) == 0
    out = capsys.readouterr().out
    assert "2023-03-05~" in out and "inferred from the article's text" in out


def test_removing_a_pdf_article_deletes_its_file(tmp_path):
    """A PDF is one article a file, named by the file, like a text file (not a record of a dump)."""
    from pathlib import Path

    pdf = Path(__file__).parent / "fixtures" / "formats" / "report.pdf"
    add([pdf], tmp_path / "corpus", tmp_path / "index", CONFIG, HashEmbedder())
    report = remove(["report"], tmp_path / "corpus", tmp_path / "index", CONFIG)
    assert report.removed == ("report",) and not (tmp_path / "corpus" / "report.pdf").exists()
    assert list_articles(tmp_path / "index", config=CONFIG) == []
